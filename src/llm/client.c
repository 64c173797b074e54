/*
 * client.c - the chat-completions batch client (client.h): one curl multi
 * handle per batch, a waiting list ordered by "not before" times for
 * retries. Owns the retry rules; must never block on one request while
 * others are ready to run.
 */
#include "llm/client.h"

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

int attn_llm_call_batch(const attn_llm_client_opts *o, attn_llm_call *calls, size_t n,
                        attn_error *err)
{
    CURLM *m;
    xfer *xs;
    struct curl_slist *hdrs = NULL;
    char url[2048], auth[1100];
    size_t done = 0, running = 0;
    int rc = 0;
    if (!n)
        return 0;
    pthread_once(&once, init_once);
    snprintf(url, sizeof(url), "%s/chat/completions", o->base_url);
    if (!(m = curl_multi_init()) || !(xs = calloc(n, sizeof(*xs)))) {
        if (m)
            curl_multi_cleanup(m);
        return attn_error_set(err, ATTN_ENOMEM, "cannot set up the LLM client (out of memory)");
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (o->api_key && *o->api_key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->api_key);
        hdrs = curl_slist_append(hdrs, auth);
    }
    for (size_t i = 0; i < n; i++) {
        xs[i].call = &calls[i];
        calls[i].attempts = 0;
        calls[i].status = 0;
        calls[i].error[0] = '\0';
    }
    while (done < n && !rc) {
        int64_t t = now_ms(), next = INT64_MAX;
        CURLMsg *msg;
        int still, left;
        long wait;
        for (size_t i = 0; i < n && running < (size_t)(o->concurrency > 0 ? o->concurrency : 1); i++)
            if (xs[i].state == WAITING && xs[i].not_before <= t) {
                if (start(m, o, hdrs, url, &xs[i])) {
                    rc = attn_error_set(err, ATTN_EIO, "cannot start an LLM request (curl)");
                    break;
                }
                running++;
            }
        curl_multi_perform(m, &still);
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE) {
                xfer *x;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
                finished(o, x, msg->data.result);
                curl_multi_remove_handle(m, x->h);
                curl_easy_cleanup(x->h);
                x->h = NULL;
                running--;
                if (x->state == DONE)
                    done++;
            }
        for (size_t i = 0; i < n; i++)
            if (xs[i].state == WAITING && xs[i].not_before < next)
                next = xs[i].not_before;
        t = now_ms();
        wait = next == INT64_MAX ? 1000 : next <= t ? 0 : (long)(next - t);
        if (done < n && (running || wait > 0))
            curl_multi_poll(m, NULL, 0, (int)(wait < 1000 ? wait : 1000), NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (xs[i].h) {
            curl_multi_remove_handle(m, xs[i].h);
            curl_easy_cleanup(xs[i].h);
        }
        attn_buf_free(&xs[i].body);
    }
    free(xs);
    curl_slist_free_all(hdrs);
    curl_multi_cleanup(m);
    return rc;
}
