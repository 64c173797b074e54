/*
 * result_internal.h - what router.c needs from candidates.c: creating a
 * result and turning it into the final JSON after the common rules
 * (candidates.h) are applied. Not for routers.
 */
#ifndef ATTN_ROUTE_RESULT_INTERNAL_H
#define ATTN_ROUTE_RESULT_INTERNAL_H

#include "route/router.h"

attn_route_result *attn_result_new(void);
void attn_result_free(attn_route_result *res);

/* Settings of the common rules, read from the merged config. */
typedef struct {
    double inactive_days;     /* 0: availability off */
    double inactive_factor;
    long max_open_requests;   /* 0: load-aware ordering off */
} attn_result_rules;

/* Apply rules 1-6 of candidates.h and build the result object. Only what
 * the object lists is left in order in res: free it after. */
json_t *attn_result_finish(attn_route_result *res, const attn_route_ctx *ctx,
                           const attn_route_query *q, const attn_result_rules *rules);

#endif
