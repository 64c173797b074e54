/*
 * client.c - the GitHub REST API client (SPEC §4) on one keep-alive libcurl
 * easy handle.
 *
 * Owns: the request headers GitHub expects, gzip, timeouts, reading the
 * rate-limit headers, and the decision after every answer: done, wait and
 * retry (primary limit, secondary limit), back off and retry (5xx, transport
 * errors, short reads), or fail once with a one-line message. The original
 * tool ignored the rate-limit headers and retried every 403 and 404 until it
 * died (reference §15 item 21); here every wait is read from the server, and
 * a request that cannot succeed is never repeated.
 *
 * Must never: put the token in a message, a log or a request to another
 * origin; sleep longer than max_wait_s in one go; retry without a bound.
 *
 * A client is one connection and is not thread-safe: with --concurrency N,
 * give each worker its own client (clients share nothing).
 *
 * curl_global_init is not thread-safe on every libcurl build, so it runs
 * exactly once per process, from attn_gh_client_new, under a pthread_once.
 * curl_global_cleanup is deliberately never called: the process exit frees
 * it, and calling it while another client lives would break that client.
 */
#include "github/client.h"
#include "util/alloc.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "util/prng.h"
#include "util/time.h"

#ifndef ATTN_VERSION
#define ATTN_VERSION "0.1.0"
#endif

/* Bounds on waits within one attn_gh_get, so a misbehaving server cannot keep us forever. */
#define MAX_SECONDARY_WAITS 5
#define MAX_PRIMARY_WAITS 3
#define MAX_BACKOFF_S 60.0

struct attn_gh_client {
    attn_gh_options o;       /* string members point at the copies below */
    char *api_url, *token, *user_agent;
    char host[256];          /* authority of api_url, for messages */
    size_t origin_len;       /* length of "scheme://authority" in api_url */
    CURL *h;
    attn_prng prng;
    attn_gh_stats stats;
    int64_t rate_remaining, rate_reset;   /* last seen, -1 unknown */
    char errbuf[CURL_ERROR_SIZE];
};

/* State the curl callbacks fill for one transfer. */
typedef struct {
    attn_gh_response *resp;
    attn_buf link;           /* Link headers, joined with ", " */
    int64_t retry_after;     /* -1 when absent */
} transfer;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void attn_gh_options_init(attn_gh_options *o)
{
    memset(o, 0, sizeof(*o));
    o->api_url = "https://api.github.com";
    o->user_agent = "attn/" ATTN_VERSION;
    o->timeout_s = 60;
    o->deadline_s = 300;
    o->connect_timeout_s = 10;
    o->max_retries = 5;
    o->rate_reserve = 50;
    o->max_wait_s = 3600;
    o->backoff_base_s = 1.0;
    o->secondary_base_s = 60.0;
    o->jitter_seed = 0x6174746eULL;   /* "attn"; any fixed value keeps runs repeatable */
}

void attn_gh_response_free(attn_gh_response *r)
{
    if (!r)
        return;
    attn_buf_free(&r->body);
    memset(r, 0, sizeof(*r));
}

const attn_gh_stats *attn_gh_client_stats(const attn_gh_client *c)
{
    return &c->stats;
}

/* ---- clock, sleep, messages -------------------------------------------------------------- */

static int64_t now_s(attn_gh_client *c)
{
    return c->o.now ? c->o.now(c->o.hook_ctx) : (int64_t)time(NULL);
}

static void real_sleep(double s)
{
    struct timespec ts, rem;
    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
        ts = rem;
}

static void do_sleep(attn_gh_client *c, double s)
{
    if (c->o.sleep)
        c->o.sleep(c->o.hook_ctx, s);
    else
        real_sleep(s);
}

/*
 * Wait s seconds, drawing a one-line countdown on stderr when progress is on.
 * The countdown sleeps in 1 s steps so the line stays live; without progress
 * it is one sleep, so tests see exactly the wait that was decided.
 */
static void wait_for(attn_gh_client *c, double s, const char *why, int64_t left)
{
    if (s <= 0)
        return;
    c->stats.waited_s += s;
    if (c->o.verbose)
        fprintf(stderr, "%sattn: wait %.1f s for %s\n", c->o.progress ? "\r\033[K" : "", s, why);
    if (!c->o.progress) {
        do_sleep(c, s);
        return;
    }
    for (double rest = s; rest > 0;) {
        double step = rest < 1.0 ? rest : 1.0;
        if (left >= 0)
            fprintf(stderr, "\rwaiting %.0f s for %s (%lld left)\xe2\x80\xa6   ", ceil(rest), why,
                    (long long)left);
        else
            fprintf(stderr, "\rwaiting %.0f s for %s\xe2\x80\xa6   ", ceil(rest), why);
        fflush(stderr);
        do_sleep(c, step);
        rest -= step;
    }
    fprintf(stderr, "\r%72s\r", "");
    fflush(stderr);
}

/* Replace every occurrence of the token in the message: a last line of defence
 * in case a server or libcurl ever echoes it. */
static void redact(const attn_gh_client *c, attn_error *err)
{
    size_t tl;
    char *p;
    if (!err || !c->token || !*c->token)
        return;
    tl = strlen(c->token);
    while ((p = strstr(err->msg, c->token)) != NULL) {
        static const char mask[] = "[redacted]";
        size_t rest = strlen(p + tl);
        if (tl >= sizeof(mask) - 1) {
            memcpy(p, mask, sizeof(mask) - 1);
            memmove(p + sizeof(mask) - 1, p + tl, rest + 1);
        } else {
            memset(p, '*', tl);
        }
    }
}

/* GitHub's "message" from an error body, on one line and bounded; "" if none. */
static void github_message(const attn_buf *body, char *out, size_t cap)
{
    json_t *j;
    const char *m;
    out[0] = '\0';
    if (!body->ptr || body->len == 0)
        return;
    j = json_loadb(body->ptr, body->len, 0, NULL);
    if (!j)
        return;
    m = json_is_object(j) ? json_string_value(json_object_get(j, "message")) : NULL;
    if (m) {
        size_t i;
        snprintf(out, cap, "%s", m);
        for (i = 0; out[i]; i++)
            if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
                out[i] = ' ';
    }
    json_decref(j);
}

/* ---- curl callbacks ------------------------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    transfer *t = ud;
    size_t len = size * n;
    attn_buf_put(&t->resp->body, data, len);
    return len;
}

static int64_t parse_i64(const char *v, size_t len)
{
    char tmp[32];
    char *end;
    long long x;
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    errno = 0;
    x = strtoll(tmp, &end, 10);
    if (errno || end == tmp || *end || x < 0)
        return -1;
    return (int64_t)x;
}

static void copy_field(char *dst, size_t cap, const char *v, size_t len)
{
    /* An over-long ETag would not match anyway; dropping it only costs a 200. */
    if (len >= cap) {
        dst[0] = '\0';
        return;
    }
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    transfer *t = ud;
    attn_gh_response *r = t->resp;
    size_t len = size * n, nl;
    const char *colon, *v, *e;

    /* A status line starts a new response (after a redirect or a 100 Continue):
     * only the headers of the final one count. */
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        r->etag[0] = r->last_modified[0] = r->next_url[0] = r->last_url[0] = '\0';
        r->rate_resource[0] = '\0';
        r->rate_limit = r->rate_remaining = r->rate_reset = -1;
        t->retry_after = -1;
        attn_buf_clear(&t->link);
        return len;
    }
    colon = memchr(line, ':', len);
    if (!colon)
        return len;
    nl = (size_t)(colon - line);
    v = colon + 1;
    e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(line, name, nl) == 0)
    if (IS("etag"))
        copy_field(r->etag, sizeof(r->etag), v, (size_t)(e - v));
    else if (IS("last-modified"))
        copy_field(r->last_modified, sizeof(r->last_modified), v, (size_t)(e - v));
    else if (IS("x-ratelimit-limit"))
        r->rate_limit = parse_i64(v, (size_t)(e - v));
    else if (IS("x-ratelimit-remaining"))
        r->rate_remaining = parse_i64(v, (size_t)(e - v));
    else if (IS("x-ratelimit-resource"))
        copy_field(r->rate_resource, sizeof(r->rate_resource), v, (size_t)(e - v));
    else if (IS("x-ratelimit-reset"))
        r->rate_reset = parse_i64(v, (size_t)(e - v));
    else if (IS("retry-after"))
        t->retry_after = parse_i64(v, (size_t)(e - v));   /* HTTP-date form: treated as absent */
    else if (IS("link")) {
        if (t->link.len)
            attn_buf_puts(&t->link, ", ");
        attn_buf_put(&t->link, v, (size_t)(e - v));
    }
#undef IS
    return len;
}

/* ---- client ---------------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? attn_xstrdup(s) : NULL;
}

int attn_gh_client_new(const attn_gh_options *opts, attn_gh_client **out, attn_error *err)
{
    attn_gh_options defaults;
    attn_gh_client *c;
    const char *auth, *slash;
    size_t alen;

    *out = NULL;
    if (!opts) {
        attn_gh_options_init(&defaults);
        opts = &defaults;
    }
    if (!opts->api_url || (strncmp(opts->api_url, "https://", 8) != 0 &&
                           strncmp(opts->api_url, "http://", 7) != 0))
        return attn_error_set(err, ATTN_EINVAL,
                              "API URL '%s' is not http(s)://...; pass e.g. https://api.github.com",
                              opts->api_url ? opts->api_url : "(null)");
    {
        /* Credentials in the URL would be echoed by every error message:
         * refuse them without repeating the URL (issue 18 D10). */
        const char *a = strstr(opts->api_url, "://") + 3;
        size_t alen0 = strcspn(a, "/?#");
        if (memchr(a, '@', alen0))
            return attn_error_set(err, ATTN_EINVAL,
                                  "the API URL carries credentials (user:token@host); remove "
                                  "them and pass the token in GITHUB_TOKEN or --token-env");
    }
    if (opts->token)
        for (const unsigned char *p = (const unsigned char *)opts->token; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                /* CR/LF would inject request headers */
                return attn_error_set(err, ATTN_EINVAL,
                                      "the token holds a control character (CR, LF, ...); "
                                      "export it without one");
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return attn_error_set(err, ATTN_EIO, "libcurl failed to initialise: %s",
                              curl_easy_strerror(curl_init_rc));
    c = attn_xcalloc(1, sizeof(*c));
    c->o = *opts;
    c->api_url = attn_xstrdup(opts->api_url);
    c->token = opts->token && *opts->token ? attn_xstrdup(opts->token) : NULL;
    c->user_agent = dup_or_null(opts->user_agent ? opts->user_agent : "attn/" ATTN_VERSION);
    /* No trailing slash, so joining "/repos/..." never yields "//". */
    for (size_t n = strlen(c->api_url); n > 0 && c->api_url[n - 1] == '/'; n--)
        c->api_url[n - 1] = '\0';
    c->o.api_url = c->api_url;
    c->o.token = c->token;
    c->o.user_agent = c->user_agent;
    auth = strstr(c->api_url, "://") + 3;
    slash = strchr(auth, '/');
    alen = slash ? (size_t)(slash - auth) : strlen(auth);
    snprintf(c->host, sizeof(c->host), "%.*s", (int)alen, auth);
    c->origin_len = (size_t)(auth - c->api_url) + alen;
    if (c->o.max_retries < 0)
        c->o.max_retries = 0;
    if (c->o.timeout_s <= 0)
        c->o.timeout_s = 60;
    if (c->o.deadline_s <= 0)
        c->o.deadline_s = 300;
    if (c->o.connect_timeout_s <= 0)
        c->o.connect_timeout_s = 10;
    attn_prng_seed(&c->prng, c->o.jitter_seed);
    c->stats.rate_remaining = -1;
    c->rate_remaining = c->rate_reset = -1;

    c->h = curl_easy_init();
    if (!c->h) {
        attn_gh_client_free(c);
        return attn_error_set(err, ATTN_EIO, "libcurl could not create a handle");
    }
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);   /* timeouts without SIGALRM: thread-safe */
    curl_easy_setopt(c->h, CURLOPT_ACCEPT_ENCODING, "");   /* every encoding curl can decode */
    curl_easy_setopt(c->h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, c->o.timeout_s);
    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT, c->o.connect_timeout_s);
    curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* GitHub answers 301/307 for renamed repositories. libcurl drops a custom
     * Authorization header when a redirect changes host, so following is safe. */
    curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c->h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
    *out = c;
    return 0;
}

void attn_gh_client_free(attn_gh_client *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    if (c->token) {
        /* volatile so the compiler keeps the wipe of a buffer about to be freed */
        volatile char *p = c->token;
        while (*p)
            *p++ = '\0';
        free(c->token);
    }
    free(c->api_url);
    free(c->user_agent);
    free(c);
}

/* Is url on the api_url origin (same scheme://host:port)? Only then may it carry the token. */
static int same_origin(const attn_gh_client *c, const char *url)
{
    char b = url[c->origin_len];
    return strncasecmp(url, c->api_url, c->origin_len) == 0 &&
           (b == '\0' || b == '/' || b == '?' || b == '#');
}

static struct curl_slist *build_headers(const attn_gh_client *c, const char *url,
                                        const char *etag, const char *last_modified)
{
    struct curl_slist *l = NULL, *n;
    attn_buf b = ATTN_BUF_INIT;
    int ok = 1;

#define ADD(s)                                   \
    do {                                         \
        if (ok && (n = curl_slist_append(l, s))) \
            l = n;                               \
        else                                     \
            ok = 0;                              \
    } while (0)
    ADD("Accept: application/vnd.github+json");
    ADD("X-GitHub-Api-Version: 2022-11-28");
    if (c->token && same_origin(c, url)) {
        ok = ok && attn_buf_printf(&b, "Authorization: Bearer %s", c->token) == 0;
        ADD(b.ptr);
    }
    if (etag && *etag) {
        attn_buf_clear(&b);
        ok = ok && attn_buf_printf(&b, "If-None-Match: %s", etag) == 0;
        ADD(b.ptr);
    } else if (last_modified && *last_modified) {
        /* RFC 7232: with If-None-Match present a server ignores If-Modified-Since. */
        attn_buf_clear(&b);
        ok = ok && attn_buf_printf(&b, "If-Modified-Since: %s", last_modified) == 0;
        ADD(b.ptr);
    }
#undef ADD
    if (b.ptr) {
        memset(b.ptr, 0, b.cap);   /* it may have held the token */
        attn_buf_free(&b);
    }
    if (!ok) {
        curl_slist_free_all(l);
        return NULL;
    }
    return l;
}

/* Transport failures worth another try: the network or the server hiccuped. */
static int transient_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:   /* a gzip stream cut short */
        return 1;
    default:
        return 0;
    }
}

/* Exponential back-off with "equal jitter": half fixed, half drawn, capped. */
static double backoff_delay(attn_gh_client *c, double base, int attempt)
{
    double d = base * pow(2.0, attempt);
    if (d > MAX_BACKOFF_S)
        d = MAX_BACKOFF_S;
    return d / 2 + attn_prng_double(&c->prng) * d / 2;
}

static int fail_wait_too_long(attn_gh_client *c, int64_t until, attn_error *err)
{
    char when[ATTN_TIME_BUFSZ];
    attn_time_format(until, when);
    return attn_error_set(err, ATTN_EHTTP,
                          "%s: GitHub rate limit exhausted until %s (longer than --max-wait %lld s); "
                          "rerun later to resume (nothing is lost)",
                          c->host, when, (long long)c->o.max_wait_s);
}

/* Wait for the primary window to reset (+1 s of slack for clock skew). */
static int wait_primary(attn_gh_client *c, int64_t reset, int64_t left, attn_error *err)
{
    int64_t wait = reset + 1 - now_s(c);
    if (wait <= 0)
        return 0;
    if (wait > c->o.max_wait_s)
        return fail_wait_too_long(c, reset, err);
    c->stats.primary_waits++;
    wait_for(c, (double)wait, "the GitHub rate limit to reset", left);
    return 0;
}

static void note_rate(attn_gh_client *c, const attn_gh_response *r)
{
    /* GitHub keeps separate budgets per resource (core, search, graphql, ...);
     * only the core budget governs the REST requests ingestion makes, so a
     * nearly spent search budget must not hold them back. */
    if (r->rate_resource[0] && strcasecmp(r->rate_resource, "core"))
        return;
    if (r->rate_remaining >= 0) {
        c->rate_remaining = r->rate_remaining;
        c->stats.rate_remaining = r->rate_remaining;
        c->rate_reset = r->rate_reset;
    }
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, nl) == 0)
            return 1;
    return 0;
}

static int final_error(attn_gh_client *c, const char *url, attn_gh_response *r, attn_error *err)
{
    char msg[300];
    long st = r->status;
    github_message(&r->body, msg, sizeof(msg));
    if (st == 401) {
        if (c->token)
            return attn_error_set(err, ATTN_EINVAL,
                                  "GITHUB_TOKEN was rejected by %s (401 %s); set a valid token",
                                  c->host, *msg ? msg : "Bad credentials");
        return attn_error_set(err, ATTN_EINVAL,
                              "%s requires authentication (401 %s); set GITHUB_TOKEN", c->host,
                              *msg ? msg : "Unauthorized");
    }
    if (st == 404 || st == 410)
        return attn_error_set(err, ATTN_ENOTFOUND, "GET %s: %ld %s", url, st,
                              *msg ? msg : (st == 404 ? "Not Found" : "Gone"));
    if (st == 422)
        return attn_error_set(err, ATTN_EINVAL, "GET %s: 422 %s", url,
                              *msg ? msg : "Unprocessable Entity");
    if (st == 403 || st == 429)
        return attn_error_set(err, ATTN_EHTTP,
                              "GET %s: %ld %s; check the token's permissions or rerun later", url,
                              st, *msg ? msg : "Forbidden");
    return attn_error_set(err, ATTN_EHTTP, "GET %s: HTTP %ld%s%s", url, st, *msg ? " " : "", msg);
}

/* What a helper of get_loop returns to send the request again. */
#define RETRY 1

/* The retries one GET has used, per reason. */
typedef struct {
    int transient, secondary, secondary_backoffs, primary;
    double unanswered;   /* seconds spent on failed attempts and their back-offs */
} tries;

/* Below the reserve: wait for the reset now rather than spend the last requests. */
static int keep_reserve(attn_gh_client *c, attn_error *err)
{
    if (c->rate_remaining >= 0 && c->rate_remaining < c->o.rate_reserve && c->rate_reset > 0) {
        int rc = wait_primary(c, c->rate_reset, c->rate_remaining, err);
        if (rc)
            return rc;
        c->rate_remaining = -1;   /* unknown until the next answer */
    }
    return 0;
}

/* Send the request once; *cc and *took say how the transfer went, resp and
 * t hold the answer (the Link header's next and last URLs in resp). */
static int send_once(attn_gh_client *c, const char *url, const char *etag,
                     const char *last_modified, double left, int attempt, attn_gh_response *resp,
                     transfer *t, CURLcode *cc, double *took, attn_error *err)
{
    struct curl_slist *hdrs = attn_xcheck(build_headers(c, url, etag, last_modified));
    long connects = 0;

    attn_buf_clear(&resp->body);
    resp->status = 0;
    resp->etag[0] = resp->last_modified[0] = resp->next_url[0] = resp->last_url[0] = '\0';
    resp->rate_resource[0] = '\0';
    resp->rate_limit = resp->rate_remaining = resp->rate_reset = -1;
    c->errbuf[0] = '\0';
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    /* the last attempt gets only what is left of the deadline */
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT,
                     (long)(left < (double)c->o.timeout_s ? (left < 1 ? 1 : left)
                                                           : (double)c->o.timeout_s));
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c->h, CURLOPT_HEADERDATA, t);
    *cc = curl_easy_perform(c->h);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    c->stats.requests++;
    if (attempt > 0)
        c->stats.retries++;
    if (curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        c->stats.connects += connects;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(c->h, CURLINFO_TOTAL_TIME, took);

    if (*cc == CURLE_OK && t->link.len) {
        int a = attn_gh_link_find(t->link.ptr, "next", resp->next_url, sizeof(resp->next_url));
        int b = attn_gh_link_find(t->link.ptr, "last", resp->last_url, sizeof(resp->last_url));
        if (a < 0 || b < 0) {
            attn_buf_free(&t->link);
            return attn_error_set(err, ATTN_EHTTP, "GET %s: a Link URL is longer than %zu bytes",
                                  url, sizeof(resp->next_url) - 1);
        }
    }
    attn_buf_free(&t->link);
    return 0;
}

/* No answer: RETRY after a back-off while the failure is transient and the
 * deadline allows, else the error. */
static int on_no_answer(attn_gh_client *c, const char *url, CURLcode cc, double took, int attempt,
                        tries *n, attn_gh_response *resp, attn_error *err)
{
    const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
    /* A short read or reset leaves a partial body: never hand it out. */
    attn_buf_clear(&resp->body);
    n->unanswered += took;
    if (transient_curl(cc) && n->transient < c->o.max_retries) {
        double d = backoff_delay(c, c->o.backoff_base_s, n->transient);
        if (n->unanswered + d >= (double)c->o.deadline_s)
            return attn_error_set(err, ATTN_EHTTP,
                                  "GET %s: no answer within %ld s (%d attempt%s, last: %s); "
                                  "check the server and --api-url, then rerun (the run "
                                  "resumes at its checkpoint)",
                                  url, c->o.deadline_s, attempt + 1, attempt ? "s" : "", why);
        if (c->o.progress || c->o.verbose)
            fprintf(stderr, "%sattn: %s did not answer (%s); retry %d of %d in %.0f s\n",
                    c->o.progress ? "\r\033[K" : "", c->host, why, n->transient + 1,
                    c->o.max_retries, ceil(d));
        wait_for(c, d, "a retry", -1);
        n->unanswered += d;
        n->transient++;
        return RETRY;
    }
    if (c->o.verbose)
        fprintf(stderr, "attn: GET %s -> %s\n", url, why);
    return attn_error_set(err, ATTN_EHTTP, "GET %s failed after %d attempt%s: %s", url,
                          attempt + 1, attempt ? "s" : "", why);
}

/* 403 or 429: RETRY after the wait GitHub asks for, else the error. */
static int on_rate_limited(attn_gh_client *c, const char *url, const transfer *t, tries *n,
                           attn_gh_response *resp, attn_error *err)
{
    char msg[300];
    int rc;
    github_message(&resp->body, msg, sizeof(msg));
    /* GitHub's documented order: Retry-After first, then Remaining 0 means
     * wait for the reset, then a message-only secondary limit backs off. */
    if (t->retry_after >= 0 && n->secondary + n->primary < MAX_SECONDARY_WAITS) {
        if (t->retry_after > c->o.max_wait_s)
            return fail_wait_too_long(c, now_s(c) + t->retry_after, err);
        if (resp->rate_remaining == 0) {
            c->stats.primary_waits++;
            n->primary++;
        } else {
            c->stats.secondary_waits++;
            n->secondary++;
        }
        wait_for(c, (double)t->retry_after, resp->rate_remaining == 0
                                                ? "the GitHub rate limit to reset"
                                                : "a GitHub secondary rate limit",
                 resp->rate_remaining == 0 ? 0 : -1);
        c->rate_remaining = -1;
        return RETRY;
    }
    if (resp->rate_remaining == 0 && n->primary < MAX_PRIMARY_WAITS) {
        int64_t reset = resp->rate_reset > 0 ? resp->rate_reset
                                             : now_s(c) + (int64_t)c->o.secondary_base_s;
        int64_t before = now_s(c);
        if ((rc = wait_primary(c, reset, 0, err)))
            return rc;
        if (reset + 1 - before <= 0) {   /* reset already passed: clock skew, pause briefly */
            c->stats.primary_waits++;
            wait_for(c, 1.0, "the GitHub rate limit to reset", 0);
        }
        c->rate_remaining = -1;
        n->primary++;
        return RETRY;
    }
    if ((contains_ci(msg, "secondary rate limit") || contains_ci(msg, "abuse detection") ||
         contains_ci(msg, "rate limit exceeded")) &&
        n->secondary < MAX_SECONDARY_WAITS) {
        double d = c->o.secondary_base_s * pow(2.0, n->secondary_backoffs);
        if (d > (double)c->o.max_wait_s)
            return fail_wait_too_long(c, now_s(c) + (int64_t)ceil(d), err);
        c->stats.secondary_waits++;
        wait_for(c, d, "a GitHub secondary rate limit", -1);
        n->secondary++;
        n->secondary_backoffs++;
        return RETRY;
    }
    if (n->secondary >= MAX_SECONDARY_WAITS || n->primary >= MAX_PRIMARY_WAITS)
        return attn_error_set(err, ATTN_EHTTP,
                              "GET %s: still rate limited after %d waits (%s); rerun later "
                              "to resume (nothing is lost)",
                              url, n->secondary + n->primary, *msg ? msg : "403");
    return final_error(c, url, resp, err);
}

/* Any other failing status: RETRY a 5xx after a back-off while the deadline
 * allows, else the error. */
static int on_error_status(attn_gh_client *c, const char *url, double took, int attempt,
                           tries *n, attn_gh_response *resp, attn_error *err)
{
    if (resp->status >= 500 && resp->status <= 599 && n->transient < c->o.max_retries) {
        double d = backoff_delay(c, c->o.backoff_base_s, n->transient);
        n->unanswered += took + d;
        if (n->unanswered < (double)c->o.deadline_s) {
            wait_for(c, d, "a retry", -1);
            n->transient++;
            return RETRY;
        }
    }
    if (resp->status >= 500)
        return attn_error_set(err, ATTN_EHTTP,
                              "GET %s: HTTP %ld after %d attempts; GitHub is failing, rerun "
                              "later",
                              url, resp->status, attempt + 1);
    return final_error(c, url, resp, err);
}

/*
 * One GET with every retry it deserves. Each pass of the loop sends one
 * request; the counters bound each reason for coming back separately, so a
 * secondary limit does not use up the 5xx retries or the other way round.
 */
static int get_loop(attn_gh_client *c, const char *url, const char *etag,
                    const char *last_modified, attn_gh_response *resp, attn_error *err)
{
    tries n = {0, 0, 0, 0, 0};
    int rc;

    for (int attempt = 0;; attempt++) {
        double took = 0, left = (double)c->o.deadline_s - n.unanswered;
        transfer t = {resp, ATTN_BUF_INIT, -1};
        CURLcode cc = CURLE_OK;

        if ((rc = keep_reserve(c, err)) ||
            (rc = send_once(c, url, etag, last_modified, left, attempt, resp, &t, &cc, &took,
                            err)))
            return rc;
        if (cc != CURLE_OK) {
            rc = on_no_answer(c, url, cc, took, attempt, &n, resp, err);
        } else {
            note_rate(c, resp);
            if (c->o.verbose) /* the path only: never the host's credentials or the token */
                fprintf(stderr, "%sattn: GET %s -> %ld (rate limit remaining %lld)\n",
                        c->o.progress ? "\r\033[K" : "",
                        strncmp(url, c->o.api_url, strlen(c->o.api_url))
                            ? url
                            : url + strlen(c->o.api_url),
                        resp->status, (long long)resp->rate_remaining);
            if ((resp->status >= 200 && resp->status < 300) || resp->status == 304) {
                if (resp->status == 304) {
                    c->stats.not_modified++;
                    attn_buf_clear(&resp->body);
                }
                return 0;
            }
            if (resp->status == 403 || resp->status == 429)
                rc = on_rate_limited(c, url, &t, &n, resp, err);
            else
                rc = on_error_status(c, url, took, attempt, &n, resp, err);
        }
        if (rc != RETRY)
            return rc;
    }
}

int attn_gh_get(attn_gh_client *c, const char *url, const char *etag, const char *last_modified,
                attn_gh_response *resp, attn_error *err)
{
    attn_buf full = ATTN_BUF_INIT;
    int rc;

    if (!url || !*url)
        return attn_error_set(err, ATTN_EINVAL, "GitHub request with an empty URL");
    if (url[0] == '/') {
        attn_buf_printf(&full, "%s%s", c->api_url, url);
        url = full.ptr;
    } else if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        return attn_error_set(err, ATTN_EINVAL,
                              "GitHub URL '%s' is neither absolute nor a path starting with '/'",
                              url);
    }
    rc = get_loop(c, url, etag, last_modified, resp, err);
    if (rc)
        redact(c, err);
    attn_buf_free(&full);
    return rc;
}

/* One rule for every command that fetches (ingest, pin): client.h. */
int attn_gh_error_stops_run(const attn_gh_response *r, attn_error *err)
{
    /* By status, or by the client's own 401 wording (never by "401" anywhere:
     * URLs and shas in messages can contain it). */
    if (r->status == 401 || strstr(err->msg, "was rejected by") ||
        strstr(err->msg, "requires authentication (401")) {
        if (!strstr(err->msg, "401"))
            attn_error_wrap(err, "HTTP 401");
        err->code = ATTN_EHTTP;
        return 1;
    }
    if (contains_ci(err->msg, "rate limit") || contains_ci(err->msg, "max-wait") ||
        contains_ci(err->msg, "max_wait"))
        return 1;
    if (err->code == ATTN_EIO || err->code == ATTN_EDB)
        return 1;
    return 0;
}
