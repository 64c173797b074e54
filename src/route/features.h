/*
 * features.h - the (PR, candidate) features of the `learned` router, strictly
 * as of the cutoff (route/features.c).
 *
 * Owns: the candidate pool of a learned ranking and the feature list below,
 * which is versioned (ATTN_FEAT_VERSION): a model records the version and
 * names it was trained with, and the router refuses a model whose list
 * differs. Must never: read the store or the activity index past q->as_of
 * (every window ends at the cutoff; the only store read is the immutable
 * pull_requests.user_id), or depend on anything but the query, the context
 * and the fixed component configs (so the features are a pure function of
 * the history up to the cutoff; test_leakage checks it on a cut store).
 *
 * Candidates: the users (never teams) the component routers popularity,
 * path_similarity, stewards, codeowners, mentions and review_requests
 * (default configs, availability and load off) return for the PR, each asked
 * for max_candidates; ordered by their best reciprocal rank over the
 * components, then login, and cut at max_candidates. The author and bots
 * never appear (the components drop them).
 *
 * How (features.c; the values are the same as when each component was
 * routed through attn_router_route and its result JSON read back, which
 * test_route_learned checks on a synthetic history): codeowners, mentions
 * and review_requests run their own scoring into a result that is never
 * turned into JSON, path_similarity only its scoring (no evidence,
 * attn_path_similarity_scores), and router.c's rules (author and bots out,
 * scores > 0, 12-digit rounding, order, top_k) are applied to them
 * directly; popularity and stewards, whose default scoring is a few sums per
 * user, are scored here term for term. Per PR, one backward scan of the
 * activity entries (with each entry's PR author, day, hour and weekday
 * computed once) fills every count-based feature of every candidate, and
 * the PR's files and areas are collected once for all candidates.
 *
 * Features (version "learned-features.v2"; "window" = [as_of - W, as_of],
 * reviews = submitted reviews; "facts" = reviews, diff comments and PR
 * comments; hl = decay half-life):
 *   0  pop_hl7            decayed reviews, hl 7 d, 365 d window
 *   1  pop_hl30           same, hl 30 d
 *   2  pop_hl180          same, hl 180 d
 *   3  reviews_7d         reviews in the 7 d window
 *   4  reviews_30d        reviews in the 30 d window
 *   5  reviews_180d       reviews in the 180 d window
 *   6  days_since_review  days since the last review at or before as_of
 *                         (365 when none in the 365 d window)
 *   7  days_since_active  days since the last fact of any kind (3650 if none)
 *   8  author_affinity    decayed facts on PRs by this PR's author, hl 180 d,
 *                         730 d window
 *   9  author_last_reviewer 1 when the candidate gave the latest review (365 d
 *                         window) on a PR by this PR's author, else 0
 *  10  author_review_share the candidate's share of the reviews on the
 *                         author's PRs in the 365 d window (0 when none)
 *  11  path_sim_score     path_similarity's score (0 when not listed)
 *  12  path_sim_rr        1 / rank in path_similarity (0 when not listed)
 *  13  stewards_score     stewards' score
 *  14  stewards_rr        1 / rank in stewards
 *  15  file_activity      decayed facts on the PR's files, hl 180 d, 730 d
 *  16  area_activity      decayed facts in the PR's areas, hl 180 d, 730 d
 *  17  codeowners_rr      1 / rank in codeowners
 *  18  mentioned          1 when the mentions router lists the candidate
 *  19  requested          1 when the review_requests router lists them
 *  20  open_requests      review requests open on the candidate at as_of
 *  21  hour_fit           share of the candidate's facts in the 365 d window
 *                         whose UTC hour is within 2 h of as_of's hour
 *  22  weekday_fit        share of those facts on as_of's UTC weekday
 *  23  pop_rr             1 / rank in popularity
 *  24  review_share_30d   the candidate's share of all reviews in the 30 d window
 *  25  reviews_since_last reviews by anyone after the candidate's last review
 *                         (365 d window; every review in it when they have none)
 * Added in v2 (review rotation and the author's standing):
 *  26  author_prs_365d    PRs by this PR's author created in (as_of - 365 d,
 *                         as_of], this PR included (pull_requests.created_at
 *                         and user_id never change)
 *  27  reviewers_30d      distinct users with a review in the 30 d window (the
 *                         size of the rotation; the same for every candidate)
 *  28  active_days_30d    distinct UTC days with a fact of the candidate in
 *                         the 30 d window
 */
#ifndef ATTN_ROUTE_FEATURES_H
#define ATTN_ROUTE_FEATURES_H

#include <stddef.h>
#include <jansson.h>
#include "route/router.h"
#include "util/error.h"

#define ATTN_FEAT_VERSION "learned-features.v2"
#define ATTN_FEAT_N 29

/* The feature names, in column order. */
const char *attn_feat_name(size_t i);
/* The feature list as a JSON array of names (new reference; NULL when out of memory). */
json_t *attn_feat_names_json(void);

/* One PR's candidates and their features (row-major, n * ATTN_FEAT_N). */
typedef struct {
    size_t n;
    char **login;
    float *x;
} attn_feat_set;

typedef struct attn_features attn_features;

/* max_candidates >= 1. The component routers are created over ctx. */
int attn_features_new(const attn_route_ctx *ctx, int max_candidates, attn_features **out,
                      attn_error *err);
void attn_features_free(attn_features *f);

/* The pool size f was made with. */
int attn_features_max_candidates(const attn_features *f);

/* Feature sets computed before they are routed, for the learned router to
 * take instead of computing them again (an evaluation computes the first
 * PRs' while XGBoost trains: eval/learn.h). In (as_of, pr_number) order, as
 * an evaluation routes its PRs; a set matches a query by PR, cutoff and pool
 * size. Read-only once filled, so any number of threads may look up. */
typedef struct {
    int64_t pr_number, as_of;
    attn_feat_set fs;
} attn_feat_pre;
struct attn_feat_ahead {
    attn_feat_pre *e;
    size_t n, cap;
    int max_cands;
};
const attn_feat_set *attn_feat_ahead_find(const attn_feat_ahead *a, int64_t pr_number,
                                          int64_t as_of, int max_cands);
void attn_feat_ahead_free(attn_feat_ahead *a);

/* Compute the candidates and features of q (out is filled; free it with
 * attn_feat_set_free, also after an error). */
int attn_features_compute(attn_features *f, const attn_route_ctx *ctx, const attn_route_query *q,
                          attn_feat_set *out, attn_error *err);
void attn_feat_set_free(attn_feat_set *s);

/* v rounded to 6 significant digits: exactly strtod(printf("%.6g", v)), but
 * mostly without printf (0 for 0 and non-finite values). */
double attn_feat_round6(double v);

/* {"version", "names": [...], "candidates": [{"login", "x": [...]}]} with
 * values rounded to 6 significant digits (new reference; NULL when out of memory). */
json_t *attn_feat_set_json(const attn_feat_set *s);
/* The same table as the per-PR entry eval writes: the canonical text of
 * attn_feat_set_json(s) with "candidate_gen_version" and, when model is not
 * NULL, "model" added, appended to out without building the tree (profile:
 * the tree, its text and its freeing were a tenth of an 8-router eval).
 * Logins must be UTF-8, as the candidates' are. */
int attn_feat_set_canonical(const attn_feat_set *s, const char *model, attn_buf *out,
                            attn_error *err);

#endif
