/*
 * examples_index.h - the examples index of a repository's evaluation runs
 * (issue 6 `attn experiment index-all`).
 *
 * DATA/github/<o>/<r>/examples_index.sqlite, rebuilt from scratch over every
 * run directory under eval/ (names starting with '.' or '_' are skipped: the
 * temporary trees of rundir.h and _compare/; so are directories without
 * manifest.json or per_pr.jsonl, e.g. build-artifacts runs), in byte order of
 * run id:
 *
 *   runs(run_id PRIMARY KEY, inputs_hash, cohort_hash, pr_cutoffs_hash,
 *        n (PRs), routers (comma-separated, manifest order), primary_policy,
 *        cutoff_policy, top_k, horizon (epoch s), extra (manifest.extra as
 *        canonical JSON or NULL))
 *   examples(run_id, pr_number, cutoff (epoch s), router, rank (NULL = no
 *        match), hit1, rr, truth_status (primary policy), top1 (first
 *        candidate or NULL)), PRIMARY KEY (run_id, pr_number, router)
 *
 * One examples row per run x PR x router of the run's manifest. Indexes:
 * examples(pr_number, router), examples(router, run_id), runs(cohort_hash).
 *
 * Must never: leave a half-built index in place. It is written to a
 * temporary file next to the target and renamed over it; readers see the old
 * index or the new one. No wall-clock value is stored.
 */
#ifndef ATTN_EXP_EXAMPLES_INDEX_H
#define ATTN_EXP_EXAMPLES_INDEX_H

#include <stddef.h>
#include "util/error.h"

typedef struct {
    char path[4200];    /* the index written */
    size_t runs, examples, skipped;
} attn_examples_index_stats;

/* repo_dir = DATA/github/<o>/<r>. A missing eval/ gives an empty index. */
int attn_examples_index_build(const char *repo_dir, attn_examples_index_stats *st,
                              attn_error *err);

#endif
