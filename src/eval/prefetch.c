/*
 * prefetch.c - the eval loop's prefetch driver (prefetch.h). A router with
 * slow remote work (llm_rerank) is told about each PR a fixed number of PRs
 * before it is routed, one PR at a time as the loop advances, so its
 * requests form a continuous queue: its client keeps all its slots busy
 * instead of draining a window and waiting for the next. Routing itself
 * stays in PR order on the loop's thread, so --max-cost-usd stops at the
 * same PR and the output is the same as without prefetching.
 */
#include "eval/prefetch.h"

#include "history/asof.h"

/* How many PRs ahead of the one being routed are offered: enough for 16
 * rounds of 8 requests (a slow answer or a Retry-After wait does not starve
 * the client), and the bound on the base results and requests held. */
#define PREFETCH_AHEAD 128

/* Offer PR k to the active routers; snapshots are read here, as eval_do_pr
 * frees its own. */
static int offer(run *R, size_t k, attn_error *err)
{
    const pr_row *row = &R->rows[k];
    json_t *snap = NULL;
    attn_route_query q;
    int rc;
    if ((rc = attn_asof_reader_pr_snapshot(R->ctx->reader, R->ctx->repo_id, row->number,
                                           row->cutoff, &snap, err)))
        return rc;
    q = (attn_route_query){row->number, row->cutoff, R->top_k, snap};
    for (size_t r = 0; r < R->nr && !rc; r++)
        if (attn_router_prefetch_active(R->routers[r]))
            rc = attn_router_prefetch(R->routers[r], R->ctx, &q, 1, err);
    json_decref(snap);
    return rc;
}

int eval_prefetch(run *R, size_t i, size_t *offered, attn_error *err)
{
    size_t end = R->n - i < PREFETCH_AHEAD ? R->n : i + PREFETCH_AHEAD;
    int any = 0, rc = 0;
    if (*offered >= end)
        return 0;
    for (size_t r = 0; r < R->nr; r++)
        any |= attn_router_prefetch_active(R->routers[r]);
    if (!any) {
        *offered = R->n;
        return 0;
    }
    for (size_t k = *offered > i ? *offered : i; k < end && !rc; k++)
        rc = offer(R, k, err);
    *offered = end;
    return rc;
}
