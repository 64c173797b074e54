/*
 * horizon.h - the one staleness rule shared by `eval run` and `doctor`.
 *
 * The store horizon is the latest event time stored for the repository. A
 * cutoff after it is stale: the truth window that follows it cannot have
 * been observed. eval refuses stale cutoffs (unless --allow-stale) and doctor
 * reports them with this same rule, so "ready" means "eval will not refuse".
 */
#ifndef ATTN_EVAL_HORIZON_H
#define ATTN_EVAL_HORIZON_H

#include <stdint.h>
#include "store/store.h"
#include "util/error.h"

/* The horizon into *out (ATTN_NULL_I64 when the repository has no events).
 * A database error is ATTN_EDB, never a horizon: a broken store must not
 * read as a stale one. */
int attn_eval_horizon(attn_store *s, int64_t repo_id, int64_t *out, attn_error *err);

/* 1 when cutoff is after horizon (or there is no horizon), else 0. */
int attn_eval_cutoff_stale(int64_t horizon, int64_t cutoff);

#endif
