/*
 * cohort.h - a hashed list of PRs with their cutoffs (SPEC §9).
 *
 * File format (canonical JSON, sorted keys):
 *   {"kind": "cohort", "version": "attn.cohort.v1", "repo": "owner/name",
 *    "cutoff_policy": "created_at",
 *    "filters": {"from": T, "end_at": T, "limit": N | null, "seed": S | null},
 *    "prs": [{"number": N, "cutoff": T}, ...]   (by number),
 *    "hash": SHA-256 hex of the canonical JSON of everything but "hash"}
 *
 * Selection: the PRs created in [from, end_at) in (created_at, number)
 * order. With a limit smaller than that pool: with a seed, the pool's
 * indexes are shuffled with attn_prng_shuffle (util/prng.h, seeded with
 * attn_prng_seed(seed)) and the first `limit` kept; without one, the first
 * `limit` are kept. PRs the cutoff policy gives no cutoff (still drafts under
 * ready_for_review) are left out before sampling. Cutoffs are resolved once,
 * here, and locked: runs over a cohort never recompute them.
 */
#ifndef ATTN_EXP_COHORT_H
#define ATTN_EXP_COHORT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "store/store.h"
#include "util/error.h"

typedef struct attn_cohort attn_cohort;

typedef struct {
    int64_t from, end_at;
    long limit;            /* 0: no limit */
    int has_seed;
    uint64_t seed;
    const char *cutoff_policy;   /* NULL: created_at */
} attn_cohort_filters;

/* Build the cohort JSON (with its hash). ATTN_EINVAL when nothing is selected. */
int attn_cohort_create(attn_store *s, const char *repo, const attn_cohort_filters *f,
                       json_t **out, attn_error *err);

/* Check kind, version, shape and hash; repo (may be NULL) must match.
 * what names the file in messages. */
int attn_cohort_from_json(const json_t *v, const char *what, const char *repo, attn_cohort **out,
                          attn_error *err);
int attn_cohort_load(const char *path, const char *repo, attn_cohort **out, attn_error *err);
void attn_cohort_free(attn_cohort *c);

size_t attn_cohort_size(const attn_cohort *c);
void attn_cohort_pr(const attn_cohort *c, size_t i, int64_t *number, int64_t *cutoff);
const char *attn_cohort_hash(const attn_cohort *c);
const char *attn_cohort_cutoff_policy(const attn_cohort *c);
const char *attn_cohort_repo(const attn_cohort *c);
const json_t *attn_cohort_json(const attn_cohort *c);

#endif
