/*
 * client.h - an OpenAI-compatible /v1/chat/completions client on libcurl
 * multi: a batch of requests runs with at most `concurrency` in flight.
 *
 * Retry rules (per request, up to max_retries retries after the first try):
 *   429            wait Retry-After seconds (capped at retry_after_cap_ms;
 *                  without the header, the backoff below), then retry
 *   5xx            exponential backoff: retry_base_ms * 2^(retry-1), capped at 30 s
 *   timeout, connection failure: the same backoff
 *   other status   no retry (the answer is final: 200 is the only success)
 * latency_ms is the wall time from the first try to the final answer.
 * Calls start in the order they were given (submitted), retries first once
 * their wait is over, so the earliest calls finish first.
 *
 * Must never: retry a 4xx other than 429, sleep while other requests could
 * run, or talk to anything but base_url.
 */
#ifndef ATTN_LLM_CLIENT_H
#define ATTN_LLM_CLIENT_H

#include <stddef.h>
#include "util/buf.h"
#include "util/error.h"

typedef struct {
    const char *base_url;      /* ".../v1"; POST base_url + "/chat/completions" */
    const char *api_key;       /* NULL or "": no Authorization header */
    long timeout_ms;           /* per try (default 30000) */
    int max_retries;           /* default 3 */
    long retry_base_ms;        /* default 500 */
    long retry_after_cap_ms;   /* default 60000 */
    int concurrency;           /* default 8 */
} attn_llm_client_opts;

void attn_llm_client_opts_init(attn_llm_client_opts *o);

typedef struct {
    const char *body;          /* request JSON text (borrowed) */
    long status;               /* final HTTP status; 0 when no answer */
    attn_buf response;         /* final answer body (caller frees) */
    long latency_ms;
    int attempts;
    char error[256];           /* "" when status is 200 */
    int done;                  /* 1 once the outcome above is final */
} attn_llm_call;

/* Run the calls; each call's outcome is in the call. Fails only when curl
 * cannot be set up. */
int attn_llm_call_batch(const attn_llm_client_opts *o, attn_llm_call *calls, size_t n,
                        attn_error *err);

/*
 * The same client as a background thread fed one call at a time: calls are
 * started as they are submitted, and `concurrency` stay in flight as long as
 * enough are queued (a batch's stragglers never hold the next batch back).
 * A submitted call belongs to the client until attn_llm_async_wait returned
 * for it or the client was stopped; its body must live that long too.
 */
typedef struct attn_llm_async attn_llm_async;

/* Start the thread (ATTN_EIO when curl or the thread cannot start). */
int attn_llm_async_start(const attn_llm_client_opts *o, attn_llm_async **out, attn_error *err);
void attn_llm_async_submit(attn_llm_async *a, attn_llm_call *call);
/* Block until the call's outcome is final. */
void attn_llm_async_wait(attn_llm_async *a, attn_llm_call *call);
/* Abandon the calls still running or queued (their outcome: status 0,
 * "cancelled"), join the thread, free the client; NULL is a no-op. */
void attn_llm_async_stop(attn_llm_async *a);

#endif
