/*
 * metrics.h - routing metrics (SPEC §8): per-PR agreement between a router's
 * ranked candidates and the truth targets, aggregates per slice, bootstrap
 * intervals, and queue metrics by bucket.
 *
 * Owns: arithmetic only. Pure functions: no store, no wall clock, no global
 * state; every loop runs in input order and every random draw comes from
 * util/prng.h with the caller's seed, so equal inputs give equal bytes.
 *
 * ---- Per PR -------------------------------------------------------------------
 * A candidate matches a truth target when both have the same type and their
 * names are equal ignoring ASCII case (reference §15.13 compared
 * case-sensitively). A team candidate also matches a user target when the
 * optional team_match hook says the user stands for that team (e.g. from a
 * roster); without a hook it never does. A user candidate never matches a team
 * target.
 *   rank      1-based position of the first candidate matching any target, in
 *             the order given (ties were broken by the router); 0 = no match.
 *   rr        1/rank, or 0.
 *   hit@k     1 when 0 < rank <= k, else 0.
 *   recall@k  matched distinct targets among the top k / distinct targets
 *             (targets are distinct by type and case-folded name); 0 when
 *             the truth has no target.
 *   empty     the router returned no candidate.
 * A PR with no truth target scores 0 everywhere; slices decide whether it
 * counts (see below).
 *
 * ---- Slices --------------------------------------------------------------------
 *   all                          every PR
 *   observed                     truth status observed
 *   router_nonempty              the router returned at least one candidate
 *   observed_and_router_nonempty both
 * Per slice: n, coverage (mean of "non-empty"), mrr, hit@k and recall@k means
 * (NAN, written null, when n = 0). The mean is the sum in input order / n.
 *
 * ---- Bootstrap (percentile intervals, 95%) --------------------------------------
 * For values x[0..n-1], R resamples and a seed: seed one attn_prng with
 * attn_prng_seed(seed); for r = 0..R-1: draw n indices j = attn_prng_below(n)
 * in order and take mean_r = (x[j_1] + ... + x[j_n]) / n (summed in draw
 * order); sort the R means ascending; then
 *   lo = sorted[floor(R / 40)],  hi = sorted[R - 1 - floor(R / 40)]
 * (for R = 1000: the 26th smallest and the 26th largest, so 25 resample
 * means lie strictly outside on each side). n = 0: mean, lo, hi are NAN and
 * no number is drawn. R must be >= 1. Defaults: R = 1000, seed = 42.
 * Every metric of a slice uses the same seed, so the k-th resample draws the
 * same PRs for every metric. The paired interval for routers A and B over the
 * same PRs bootstraps d[i] = b[i] - a[i] the same way (resampling PRs, not
 * routers), so its mean is mean(b) - mean(a) up to rounding.
 *
 * ---- Queue --------------------------------------------------------------------
 * Per bucket (lowercased; NULL or "" is "unknown"), for time to first response
 * and time to first review (seconds; ATTN_NULL_I64 = none observed, left out
 * of the statistics but counted in the bucket's n): n, mean, median, p90.
 * Quantiles interpolate linearly between closest ranks (Hyndman-Fan type 7,
 * numpy's default): h = (m - 1) p over the m sorted values, q = x[floor h] +
 * (h - floor h)(x[floor h + 1] - x[floor h]).
 */
#ifndef ATTN_EVAL_METRICS_H
#define ATTN_EVAL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

#define ATTN_METRICS_MAX_KS 16

typedef struct {
    const char *type;           /* "user" | "team" */
    const char *name;
} attn_target;

/* Does team `team` stand for user `user`? 1 yes, 0 no. */
typedef int (*attn_team_match_fn)(void *ctx, const char *team, const char *user);

typedef struct {
    int ks[ATTN_METRICS_MAX_KS];  /* ascending, distinct, >= 1 */
    size_t n_ks;
    attn_team_match_fn team_match; /* NULL: teams never match users */
    void *team_match_ctx;
} attn_metrics_options;

/* ks = 1, 3, 5, 10; no team expansion. */
void attn_metrics_options_init(attn_metrics_options *o);
/* ks from "1,3,5" (positive, distinct, at most 16; sorted ascending). */
int attn_metrics_parse_ks(const char *text, attn_metrics_options *o, attn_error *err);

/* The match rule above (1 or 0). */
int attn_target_match(const attn_metrics_options *o, const attn_target *cand,
                      const attn_target *truth);

typedef struct {
    int rank;
    double rr;
    int empty;
    size_t n_targets;           /* distinct truth targets */
    double hit[ATTN_METRICS_MAX_KS];     /* per o->ks[i] */
    double recall[ATTN_METRICS_MAX_KS];
} attn_pr_metrics;

/* ATTN_EINVAL when a target lacks a name or its type is not user/team. */
int attn_metrics_pr(const attn_metrics_options *o, const attn_target *cands, size_t n_cands,
                    const attn_target *truth, size_t n_truth, attn_pr_metrics *out,
                    attn_error *err);
/* {"rank": n|null, "rr", "empty_candidates", "n_targets", "hit_at_<k>", "recall_at_<k>"}. */
json_t *attn_metrics_pr_json(const attn_metrics_options *o, const attn_pr_metrics *m);

/* Targets of a JSON array of {type, name} (truth targets) or of router
 * candidates {target: {type, name}, ...}. *out is malloc'd (free it); the
 * strings are borrowed from arr. */
int attn_targets_from_json(const json_t *arr, attn_target **out, size_t *n, attn_error *err);

/* ---- bootstrap ----------------------------------------------------------------- */

typedef struct {
    int resamples;
    uint64_t seed;
    int threads;     /* attn_metrics_slices_*: threads to spread the summing
                        over (the intervals do not depend on it) */
    size_t draw_bytes;   /* attn_metrics_slices_*: memory for one chunk of
                            the draws shared by the slices of one size (two
                            are kept: one summed, one drawn); 0 = 2 MiB (the
                            intervals do not depend on it either) */
} attn_bootstrap_options;

void attn_bootstrap_options_init(attn_bootstrap_options *b);   /* 1000, 42, 1 thread */

typedef struct {
    size_t n;
    double mean, lo, hi;        /* NAN when undefined */
} attn_interval;

int attn_bootstrap_mean(const double *x, size_t n, const attn_bootstrap_options *b,
                        attn_interval *out, attn_error *err);
/* Interval of mean(b[i] - a[i]). */
int attn_bootstrap_paired_diff(const double *a, const double *b, size_t n,
                               const attn_bootstrap_options *opt, attn_interval *out,
                               attn_error *err);

/* ---- slices ---------------------------------------------------------------------- */

typedef enum {
    ATTN_SLICE_ALL = 0,
    ATTN_SLICE_OBSERVED,
    ATTN_SLICE_ROUTER_NONEMPTY,
    ATTN_SLICE_OBSERVED_AND_ROUTER_NONEMPTY,
    ATTN_SLICE_N
} attn_slice;

const char *attn_slice_name(attn_slice s);

typedef struct {
    size_t n;
    attn_interval coverage, mrr;
    attn_interval hit[ATTN_METRICS_MAX_KS], recall[ATTN_METRICS_MAX_KS];
} attn_slice_summary;

/* rows[i] and observed[i] (truth status observed) for each PR. boot NULL:
 * means only (lo, hi NAN). */
int attn_metrics_slices(const attn_metrics_options *o, const attn_pr_metrics *rows,
                        const int *observed, size_t n, const attn_bootstrap_options *boot,
                        attn_slice_summary out[ATTN_SLICE_N], attn_error *err);
/* The same for nr routers over the same PRs (rows[r][i]; out[r]): each
 * result is bit-identical to its own attn_metrics_slices call (same seed, so
 * the same draws), but the slices whose PRs do not depend on the router
 * ("all", "observed") draw once for all routers. */
int attn_metrics_slices_many(const attn_metrics_options *o, const attn_pr_metrics *const *rows,
                             size_t nr, const int *observed, size_t n,
                             const attn_bootstrap_options *boot,
                             attn_slice_summary (*out)[ATTN_SLICE_N], attn_error *err);
/* One set of rows over the same n PRs, for instance one truth policy's. */
typedef struct {
    const attn_pr_metrics *const *rows;          /* rows[r][i], r < nr */
    const int *observed;                         /* observed[i] */
    attn_slice_summary (*out)[ATTN_SLICE_N];     /* out[r] */
} attn_metrics_set;

/* attn_metrics_slices_many for several sets at once, each result again
 * bit-identical to its own attn_metrics_slices call: every slice of the same
 * size, in any set, shares one pass of draws. */
int attn_metrics_slices_sets(const attn_metrics_options *o, const attn_metrics_set *sets,
                             size_t n_sets, size_t nr, size_t n,
                             const attn_bootstrap_options *boot, attn_error *err);
/* {"all": {"n", "coverage", "mrr", "hit_at_<k>", "recall_at_<k>",
 *          "ci95": {metric: [lo, hi] | null}  (only when with_ci)}, ...}. */
json_t *attn_metrics_slices_json(const attn_metrics_options *o,
                                 const attn_slice_summary s[ATTN_SLICE_N], int with_ci);

/* Two routers over the same PRs: per slice ("router_nonempty" = both
 * non-empty), per metric {"a", "b", "diff": b - a, "ci95": [lo, hi] | null}
 * with the paired bootstrap, plus "n". */
int attn_metrics_compare(const attn_metrics_options *o, const attn_pr_metrics *a,
                         const attn_pr_metrics *b, const int *observed, size_t n,
                         const attn_bootstrap_options *boot, json_t **out, attn_error *err);

/* ---- queue ------------------------------------------------------------------------ */

typedef struct {
    const char *bucket;         /* the router's risk; NULL = "unknown" */
    int64_t ttfr_seconds;       /* time to first response; ATTN_NULL_I64 = none */
    int64_t ttf_review_seconds; /* time to first review; ATTN_NULL_I64 = none */
} attn_queue_row;

/* The type-7 quantile of sorted[0..n-1] (n >= 1), p in [0, 1]. */
double attn_quantile(const double *sorted, size_t n, double p);

/* {bucket: {"n", "time_to_first_response": {"n", "mean", "median", "p90"},
 *           "time_to_first_review": {...}}}, buckets as keys (null stats when
 * a bucket has no observed time). */
int attn_metrics_queue(const attn_queue_row *rows, size_t n, json_t **out, attn_error *err);

#endif
