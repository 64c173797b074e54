/*
 * prefetch.h - the eval loop's prefetch driver (router.h: prefetch hooks).
 * Nothing outside src/eval/run.c includes this.
 */
#ifndef ATTN_EVAL_PREFETCH_H
#define ATTN_EVAL_PREFETCH_H

#include "eval/run_internal.h"

/* Before PR i is routed (i in order, from 0): offer every PR in
 * [i, i + look-ahead) not offered yet to the routers whose prefetch is
 * active. *offered (0 at the start) is how far the PRs were offered. */
int eval_prefetch(run *R, size_t i, size_t *offered, attn_error *err);

#endif
