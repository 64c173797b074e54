/*
 * client.c - the chat-completions client (client.h): an engine of one curl
 * multi handle and a list of unfinished calls in submission order, each with
 * a "not before" time for its retry. The batch call drives the engine on the
 * caller's thread; the async client drives it on its own thread and takes
 * new calls between rounds. Owns the retry rules; must never block on one
 * request while others are ready to run.
 */
#include "llm/client.h"
#include "util/alloc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void attn_llm_client_opts_init(attn_llm_client_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_ms = 30000;
    o->max_retries = 3;
    o->retry_base_ms = 500;
    o->retry_after_cap_ms = 60000;
    o->concurrency = 8;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum { WAITING, RUNNING, DONE };

typedef struct {
    attn_llm_call *call;
    CURL *h;
    int state;
    int64_t not_before, started;
    long retry_after_ms;        /* -1 when absent */
    attn_buf body;
} xfer;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    xfer *x = ud;
    return attn_buf_put(&x->body, p, sz * nm) < 0 ? 0 : sz * nm;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    xfer *x = ud;
    size_t n = sz * nm;
    if (n > 12 && !strncasecmp(p, "retry-after:", 12)) {
        char tmp[64];
        size_t l = n - 12 < sizeof(tmp) - 1 ? n - 12 : sizeof(tmp) - 1;
        char *end;
        long v;
        memcpy(tmp, p + 12, l);
        tmp[l] = '\0';
        v = strtol(tmp, &end, 10);
        if (end != tmp && v >= 0)
            x->retry_after_ms = v * 1000;
    }
    return n;
}

static int start(CURLM *m, const attn_llm_client_opts *o, struct curl_slist *hdrs, const char *url,
                 xfer *x)
{
    attn_buf_clear(&x->body);
    x->retry_after_ms = -1;
    if (!(x->h = curl_easy_init()))
        return -1;
    curl_easy_setopt(x->h, CURLOPT_URL, url);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->call->body);
    curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms < 10000 ? o->timeout_ms : 10000);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->h, CURLOPT_USERAGENT, "attn-llm");
    if (curl_multi_add_handle(m, x->h) != CURLM_OK) {
        curl_easy_cleanup(x->h);
        x->h = NULL;
        return -1;
    }
    x->state = RUNNING;
    if (!x->call->attempts)
        x->started = now_ms();
    x->call->attempts++;
    return 0;
}

static long backoff(const attn_llm_client_opts *o, int retry)
{
    long d = o->retry_base_ms;
    for (int i = 1; i < retry && d < 30000; i++)
        d *= 2;
    return d < 30000 ? d : 30000;
}

/* A try ended: finish the call or schedule its retry. */
static void finished(const attn_llm_client_opts *o, xfer *x, CURLcode cc)
{
    attn_llm_call *c = x->call;
    long status = 0, wait = -1;
    int64_t t = now_ms();
    if (cc == CURLE_OK)
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    c->status = status;
    c->latency_ms = (long)(t - x->started);
    if (cc == CURLE_OK && status == 200) {
        c->error[0] = '\0';
    } else if (cc != CURLE_OK) {
        snprintf(c->error, sizeof(c->error), "%s", curl_easy_strerror(cc));
        wait = backoff(o, c->attempts);
    } else if (status == 429) {
        snprintf(c->error, sizeof(c->error), "HTTP 429 (rate limited)");
        wait = x->retry_after_ms >= 0 ? x->retry_after_ms : backoff(o, c->attempts);
        if (wait > o->retry_after_cap_ms)
            wait = o->retry_after_cap_ms;
    } else if (status >= 500) {
        snprintf(c->error, sizeof(c->error), "HTTP %ld", status);
        wait = backoff(o, c->attempts);
    } else {
        snprintf(c->error, sizeof(c->error), "HTTP %ld (not retried)", status);
    }
    attn_buf_clear(&c->response);
    attn_buf_put(&c->response, x->body.ptr ? x->body.ptr : "", x->body.len);
    if (wait >= 0 && c->attempts <= o->max_retries) {
        x->state = WAITING;
        x->not_before = t + wait;
    } else {
        if (wait >= 0) {
            char e[sizeof(c->error)];
            memcpy(e, c->error, sizeof(e));
            snprintf(c->error, sizeof(c->error), "%.200s after %d tries", e, c->attempts);
        }
        x->state = DONE;
    }
}

/* ---- the engine ------------------------------------------------------------------ */

typedef struct {
    attn_llm_client_opts o;
    CURLM *m;
    struct curl_slist *hdrs;
    char url[2048], auth[1100];
    xfer **xs;                 /* unfinished calls, in submission order */
    size_t nx, capx, running;
} engine;

static int engine_open(engine *e, const attn_llm_client_opts *o, attn_error *err)
{
    memset(e, 0, sizeof(*e));
    pthread_once(&once, init_once);
    e->o = *o;
    snprintf(e->url, sizeof(e->url), "%s/chat/completions", o->base_url);
    if (!(e->m = curl_multi_init()))
        return attn_error_set(err, ATTN_EIO, "cannot set up the LLM client (curl)");
    e->hdrs = curl_slist_append(e->hdrs, "Content-Type: application/json");
    e->hdrs = curl_slist_append(e->hdrs, "Expect:");
    if (o->api_key && *o->api_key) {
        snprintf(e->auth, sizeof(e->auth), "Authorization: Bearer %s", o->api_key);
        e->hdrs = curl_slist_append(e->hdrs, e->auth);
    }
    return 0;
}

static void engine_add(engine *e, attn_llm_call *c)
{
    xfer *x = attn_xcalloc(1, sizeof(*x));
    x->call = c;
    c->attempts = 0;
    c->status = 0;
    c->error[0] = '\0';
    c->done = 0;
    ATTN_ALLOC_GROW(e->xs, e->nx + 1, e->capx);
    e->xs[e->nx++] = x;
}

static void xfer_free(engine *e, xfer *x)
{
    if (x->h) {
        curl_multi_remove_handle(e->m, x->h);
        curl_easy_cleanup(x->h);
    }
    attn_buf_free(&x->body);
    free(x);
}

/* Give up on every unfinished call (cancel_msg as its error) and free all. */
static void engine_close(engine *e, const char *cancel_msg, void (*on_done)(void *, attn_llm_call *),
                         void *ud)
{
    for (size_t i = 0; i < e->nx; i++) {
        attn_llm_call *c = e->xs[i]->call;
        xfer_free(e, e->xs[i]);
        c->status = 0;
        snprintf(c->error, sizeof(c->error), "%s", cancel_msg);
        if (on_done)
            on_done(ud, c);
    }
    free(e->xs);
    curl_slist_free_all(e->hdrs);
    if (e->m)
        curl_multi_cleanup(e->m);
    memset(e, 0, sizeof(*e));
}

/* One round: start the calls that may start (in order, up to the
 * concurrency), let curl work, hand finished calls to on_done, then wait for
 * network activity or the next retry time, at most cap_ms. A call curl
 * cannot even start is finished with that error (it is not the network's
 * fault, so it is not retried). With nothing left, it waits only when
 * idle_wait (the async client, woken by a submission). */
static void engine_step(engine *e, long cap_ms, int idle_wait,
                        void (*on_done)(void *, attn_llm_call *), void *ud)
{
    size_t limit = (size_t)(e->o.concurrency > 0 ? e->o.concurrency : 1), k = 0;
    int64_t t = now_ms(), next = INT64_MAX;
    CURLMsg *msg;
    int still, left;
    long wait;
    for (size_t i = 0; i < e->nx && e->running < limit; i++) {
        xfer *x = e->xs[i];
        if (x->state != WAITING || x->not_before > t)
            continue;
        if (start(e->m, &e->o, e->hdrs, e->url, x)) {
            snprintf(x->call->error, sizeof(x->call->error), "cannot start an LLM request (curl)");
            x->state = DONE;
            continue;
        }
        e->running++;
    }
    curl_multi_perform(e->m, &still);
    while ((msg = curl_multi_info_read(e->m, &left)))
        if (msg->msg == CURLMSG_DONE) {
            xfer *x;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            finished(&e->o, x, msg->data.result);
            curl_multi_remove_handle(e->m, x->h);
            curl_easy_cleanup(x->h);
            x->h = NULL;
            e->running--;
        }
    /* Finished calls leave the list (order kept); the rest set the wait. */
    for (size_t i = 0; i < e->nx; i++) {
        xfer *x = e->xs[i];
        if (x->state == DONE) {
            attn_llm_call *c = x->call;
            xfer_free(e, x);
            on_done(ud, c);
            continue;
        }
        if (x->state == WAITING && x->not_before < next)
            next = x->not_before;
        e->xs[k++] = x;
    }
    e->nx = k;
    if (!e->nx && !idle_wait)
        return;
    t = now_ms();
    if (next <= t) {
        if (e->running < limit)
            return;          /* a retry may start now */
        wait = cap_ms;       /* it waits for a free slot: for network activity */
    } else {
        wait = next - t > cap_ms ? cap_ms : (long)(next - t);
    }
    curl_multi_poll(e->m, NULL, 0, (int)wait, NULL);
}

/* ---- the batch ---------------------------------------------------------------------- */

static void batch_done(void *ud, attn_llm_call *c)
{
    (void)ud;
    c->done = 1;
}

int attn_llm_call_batch(const attn_llm_client_opts *o, attn_llm_call *calls, size_t n,
                        attn_error *err)
{
    engine e;
    int rc;
    if (!n)
        return 0;
    if ((rc = engine_open(&e, o, err)))
        return rc;
    for (size_t i = 0; i < n; i++)
        engine_add(&e, &calls[i]);
    while (e.nx)
        engine_step(&e, 1000, 0, batch_done, NULL);
    engine_close(&e, "", NULL, NULL);
    return 0;
}

/* ---- the async client ----------------------------------------------------------- */

struct attn_llm_async {
    engine e;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    attn_llm_call **inbox;     /* submitted, not yet in the engine */
    size_t nin, capin;
    int stop;
};

static void async_done(void *ud, attn_llm_call *c)
{
    attn_llm_async *a = ud;
    pthread_mutex_lock(&a->mu);
    c->done = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

static void *async_main(void *p)
{
    attn_llm_async *a = p;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        if (a->stop) {
            pthread_mutex_unlock(&a->mu);
            break;
        }
        for (size_t i = 0; i < a->nin; i++)
            engine_add(&a->e, a->inbox[i]);
        a->nin = 0;
        pthread_mutex_unlock(&a->mu);
        /* curl_multi_wakeup (submit, stop) ends the wait early. */
        engine_step(&a->e, 1000, 1, async_done, a);
    }
    return NULL;
}

int attn_llm_async_start(const attn_llm_client_opts *o, attn_llm_async **out, attn_error *err)
{
    attn_llm_async *a = attn_xcalloc(1, sizeof(*a));
    int rc;
    *out = NULL;
    if ((rc = engine_open(&a->e, o, err))) {
        engine_close(&a->e, "", NULL, NULL);
        free(a);
        return rc;
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(&a->th, NULL, async_main, a)) {
        engine_close(&a->e, "", NULL, NULL);
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return attn_error_set(err, ATTN_EIO, "cannot start the LLM client thread");
    }
    *out = a;
    return 0;
}

void attn_llm_async_submit(attn_llm_async *a, attn_llm_call *call)
{
    pthread_mutex_lock(&a->mu);
    call->done = 0;
    ATTN_ALLOC_GROW(a->inbox, a->nin + 1, a->capin);
    a->inbox[a->nin++] = call;
    pthread_mutex_unlock(&a->mu);
    curl_multi_wakeup(a->e.m);
}

void attn_llm_async_wait(attn_llm_async *a, attn_llm_call *call)
{
    pthread_mutex_lock(&a->mu);
    while (!call->done)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
}

void attn_llm_async_stop(attn_llm_async *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_mutex_unlock(&a->mu);
    curl_multi_wakeup(a->e.m);
    pthread_join(a->th, NULL);
    for (size_t i = 0; i < a->nin; i++) {
        a->inbox[i]->status = 0;
        snprintf(a->inbox[i]->error, sizeof(a->inbox[i]->error), "cancelled");
        a->inbox[i]->done = 1;
    }
    engine_close(&a->e, "cancelled", batch_done, NULL);
    free(a->inbox);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
