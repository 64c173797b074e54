/*
 * client.h - the GitHub REST API client (SPEC §4), on libcurl.
 *
 * Owns HTTP: one keep-alive curl handle, the headers GitHub expects
 * (Accept: application/vnd.github+json, X-GitHub-Api-Version, User-Agent,
 * Authorization: Bearer <token>), gzip, timeouts, Link pagination, the
 * primary rate limit (wait below a reserve with a visible countdown, or stop
 * if the wait exceeds max_wait), secondary limits (Retry-After, else
 * exponential back-off from 60 s), bounded retries with jitter for 5xx and
 * transport errors, no retry on 404/410/422, and conditional requests
 * (If-None-Match / If-Modified-Since; a 304 costs no rate limit).
 *
 * Must never: log or store the token; parse JSON of a resource (callers do);
 * retry a request that cannot succeed.
 */
#ifndef ATTN_GITHUB_CLIENT_H
#define ATTN_GITHUB_CLIENT_H

#include <stdint.h>
#include "util/buf.h"
#include "util/error.h"

typedef struct attn_gh_client attn_gh_client;

typedef struct {
    const char *api_url;        /* default https://api.github.com (no trailing slash) */
    const char *token;          /* may be NULL (unauthenticated); never logged */
    const char *user_agent;     /* default "attn/<version>" */
    long timeout_s;             /* whole-request timeout, default 60 */
    long deadline_s;            /* longest one GET may go unanswered across its retries
                                 * (transport errors and 5xx; rate-limit waits are
                                 * max_wait_s's), default 300 */
    long connect_timeout_s;     /* default 10 */
    int max_retries;            /* 5xx/transport retries, default 5 */
    int64_t rate_reserve;       /* wait for reset when remaining < reserve, default 50 */
    int64_t max_wait_s;         /* longest rate-limit wait before giving up, default 3600 */
    double backoff_base_s;      /* first 5xx back-off, default 1.0; tests set it small */
    double secondary_base_s;    /* secondary-limit back-off without Retry-After, default 60 */
    uint64_t jitter_seed;       /* PRNG seed for jitter (deterministic tests) */
    int progress;               /* 1: draw a progress/countdown line on stderr */
    int verbose;                /* 1: log every request (method, path, status, rate left) and wait */
    /* Clock and sleep hooks for tests (NULL = real ones). */
    int64_t (*now)(void *ctx);
    void (*sleep)(void *ctx, double seconds);
    void *hook_ctx;
} attn_gh_options;

void attn_gh_options_init(attn_gh_options *o);

typedef struct {
    long status;                /* 200, 304, 404, ... */
    attn_buf body;              /* response body (decoded from gzip) */
    char etag[256];             /* ETag header ("" if none) */
    char last_modified[64];     /* Last-Modified header ("" if none) */
    char next_url[2048];        /* Link rel="next" ("" if last page) */
    char last_url[2048];        /* Link rel="last" ("" if none) */
    int64_t rate_limit, rate_remaining, rate_reset;   /* -1 when absent */
    char rate_resource[32];     /* X-RateLimit-Resource ("core", "search", ...; "" if none) */
} attn_gh_response;

void attn_gh_response_free(attn_gh_response *r);

typedef struct {
    int64_t requests;           /* HTTP requests sent (including retries) */
    int64_t not_modified;       /* 304 answers */
    int64_t retries, secondary_waits, primary_waits;
    double waited_s;            /* total time spent waiting on limits/back-off */
    /* retries counts every re-sent request, whatever the cause (5xx, transport,
     * secondary or primary limit); the *_waits count the limit waits. */
    int64_t rate_remaining;     /* last seen, -1 unknown */
    int64_t connects;           /* new connections opened (keep-alive keeps this low) */
} attn_gh_stats;

int attn_gh_client_new(const attn_gh_options *opts, attn_gh_client **out, attn_error *err);
void attn_gh_client_free(attn_gh_client *c);
const attn_gh_stats *attn_gh_client_stats(const attn_gh_client *c);

/*
 * GET url (absolute, or a path like "/repos/o/r/pulls?state=all" joined to
 * api_url). etag / last_modified (may be NULL or "") make the request
 * conditional. On return 0, resp->status is 200..299 or 304; any other final
 * status is an error whose code is ATTN_ENOTFOUND for 404/410, ATTN_EINVAL for
 * 422 and 401 (bad credentials: "GITHUB_TOKEN was rejected ..."), ATTN_EHTTP
 * otherwise, with a one-line message naming the URL (never the token).
 *
 * resp must be zeroed (attn_gh_response r = {0};) before its first use; it may
 * be passed again to later calls (its body buffer is reused). Call
 * attn_gh_response_free when done, also after an error: on an HTTP error
 * resp->status and resp->body hold the final answer (GitHub's error JSON).
 * The token is sent only to URLs on the api_url origin.
 */
int attn_gh_get(attn_gh_client *c, const char *url, const char *etag, const char *last_modified,
                attn_gh_response *resp, attn_error *err);

/* After attn_gh_get failed with err (resp as it left it): 1 when every later
 * request would fail too, so a run must stop at its checkpoint instead of
 * recording a gap: bad credentials (err->code becomes ATTN_EHTTP), a
 * rate-limit wait beyond --max-wait, a transport failure, or the store or
 * memory gone; 0 for a failure of this one request. */
int attn_gh_error_stops_run(const attn_gh_response *resp, attn_error *err);

/* Parse an RFC 5988 Link header value for rel (e.g. "next") into out. Returns 1 if found,
 * 0 if not (out = ""), -1 if found but longer than cap (out = "", never a truncated URL). */
int attn_gh_link_find(const char *link_header, const char *rel, char *out, size_t cap);

#endif
