/*
 * compare.h - compare two evaluation runs of one repository (SPEC §9,
 * issue 6 `attn experiment compare`).
 *
 * Owns: reading two committed run directories (manifest.json, per_pr.jsonl,
 * the per-PR routes/<router> entries, eval/pack.h), deciding whether they are comparable, and
 * building the comparison document; writing compare.json / compare.md.
 * Speed (compare_scan.c): per_pr.jsonl rows and the routes' top-1 scores are
 * skimmed into flat arrays (jansson only for text the skimmer does not
 * know, so values and errors stay jansson's), a packed run's routes are read
 * in one scan of its documented pack file, and a slice's three metrics share
 * one pass of bootstrap draws: two 10,000-PR runs compare in about a tenth
 * of the time of a jansson tree of everything, with the same bytes out.
 * On two threads (compare.c): the two runs load at once, then the top-1
 * scans and the slices' bootstraps go to whichever thread is free; tasks
 * write disjoint memory and the document is built in one order afterwards.
 * Must never: modify a run directory, read the wall clock, or compare runs
 * whose cohort, cutoffs or primary truth policy differ without being told to
 * (force), because their deltas would mix PR sets or labels.
 *
 * ---- Compatibility --------------------------------------------------------
 * Runs A and B are comparable when manifest.cohort.hash, the hash of the
 * canonical JSON of manifest.cohort.pr_cutoffs and manifest.truth.primary
 * are equal. Otherwise attn_compare_runs fails with ATTN_ECONFLICT and one
 * line naming every difference, unless force: then the document records the
 * differences under "warnings" and "compatible": false.
 *
 * ---- Per-PR values ----------------------------------------------------------
 * Over the common PRs (in A's per_pr.jsonl order), for a router r of a run:
 * rank = routers[r].rank[primary] (null or missing -> 0), rr = 1/rank,
 * hit@1 = rank == 1, hit@k = 1 <= rank <= k, empty = no candidate. Slices:
 * all; observed (primary truth status "observed" in both runs);
 * router_nonempty (both routers returned a candidate); both. Deltas are
 * B - A with attn_bootstrap_paired_diff, seed and resamples from A's
 * manifest.bootstrap (resamples 0 or absent -> 1000).
 *
 * ---- Pairs ------------------------------------------------------------------
 * Every router present in both runs is paired with itself (A's manifest
 * order), then every explicit pair "A_ROUTER:B_ROUTER" in the order given.
 * When the runs share no router and no pair is given, every A router is
 * paired with every B router.
 *
 * ---- Flips --------------------------------------------------------------------
 * Per pair, at hit@1 and hit@k: hit_to_miss (A hit, B missed) and
 * miss_to_hit, in common-PR order, the first max_flips of each with the PR
 * number, cutoff, truth targets, ranks and the top candidates (target,
 * score, evidence) of both routes; "total" counts all of them.
 *
 * ---- Histograms -----------------------------------------------------------------
 * Per router name and run: the top-1 score of each common PR's route file,
 * in `bins` equal bins over [0, max], max being the largest top-1 score of
 * that router in either run (so A and B share edges); scores below 0 fall in
 * the first bin, the max in the last; PRs with no candidate count as
 * "empty", PRs without a route file as "missing".
 */
#ifndef ATTN_EXP_COMPARE_H
#define ATTN_EXP_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/buf.h"
#include "util/error.h"

#define ATTN_COMPARE_VERSION "attn.compare.v1"
#define ATTN_COMPARE_MAX_PAIRS 64

typedef struct {
    char a_router[128], b_router[128];
} attn_compare_pair;

typedef struct {
    attn_compare_pair pairs[ATTN_COMPARE_MAX_PAIRS]; /* explicit --pair entries */
    size_t n_pairs;
    int force;
    int k;              /* hit@k of the flips and deltas (default 5) */
    int max_flips;      /* kept per direction (default 50) */
    int bins;           /* histogram bins (default 10) */
    int top_candidates; /* candidates shown per route in a flip (default 3) */
} attn_compare_opts;

void attn_compare_opts_init(attn_compare_opts *o);

/* Parse "A_ROUTER:B_ROUTER" into o->pairs (copied). */
int attn_compare_add_pair(attn_compare_opts *o, const char *text, attn_error *err);

/* Compare the run directories dir_a and dir_b (their run ids are the
 * manifests' run_id). *out is the document described above (new
 * reference). ATTN_ECONFLICT: incompatible without force; ATTN_EINVAL: a
 * pair names a router a run does not have; ATTN_ENOTFOUND: a run directory
 * or its manifest/per_pr.jsonl is missing. */
int attn_compare_runs(const char *dir_a, const char *dir_b, const attn_compare_opts *o,
                      json_t **out, attn_error *err);

/* compare.md for a person (appends to out). */
void attn_compare_markdown(const json_t *cmp, attn_buf *out);

/* Write out_dir/compare.json (pretty canonical) and out_dir/compare.md,
 * each atomically; out_dir is created. */
int attn_compare_write(const char *out_dir, const json_t *cmp, attn_error *err);

/* The PR numbers and the ranks of router under primary (0 = no match) of
 * the rows of RUN_DIR/per_pr.jsonl, in file order, read the way
 * attn_compare_runs reads them (the compare page's per-PR delta table).
 * *nums and *ranks are malloc'd (the caller frees them). */
int attn_compare_pr_ranks(const char *run_dir, const char *router, const char *primary,
                          int64_t **nums, int **ranks, size_t *n, attn_error *err);

/* What attn_compare_pr_ranks gives for the first pair's routers under A's
 * primary policy, run A in [0] and B in [1] (ok = 0 when there is no pair
 * or a read failed). */
typedef struct {
    int64_t *num[2];
    int *rank[2];
    size_t n[2];
    int ok;
} attn_compare_ranks;

/* attn_compare_runs, and *ranks from the rows it read anyway (a second
 * read of two 10,000-line per_pr.jsonl files cost the compare page a
 * fifth of its time). ranks may be NULL; free with attn_compare_ranks_free. */
int attn_compare_runs_ranks(const char *dir_a, const char *dir_b, const attn_compare_opts *o,
                            json_t **out, attn_compare_ranks *ranks, attn_error *err);
void attn_compare_ranks_free(attn_compare_ranks *r);

#endif
