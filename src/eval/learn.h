/*
 * learn.h - training the `learned` router's model on the past only
 * (eval/learn.c): the one place that joins features (route/features.h) with
 * truth labels (eval/truth.h).
 *
 * The training-window rule: a PR is a training example when it was created
 * in [from, until), its cutoff (under the cutoff policy) is before until, its
 * truth under the policy is "observed", and the truth window ended at or
 * before until (window_end <= until). A PR whose label could still change
 * after until is left out, so nothing after until reaches the model; its
 * features are computed at its own cutoff (< until). Examples whose
 * candidates contain none of the truth targets carry no ranking signal and
 * are counted but not used.
 */
#ifndef ATTN_EVAL_LEARN_H
#define ATTN_EVAL_LEARN_H

#include <stdint.h>
#include <jansson.h>
#include "eval/cutoff.h"
#include "eval/truth.h"
#include "eval/run.h"
#include "route/features.h"
#include "route/learned_model.h"
#include "route/router.h"
#include "util/error.h"

typedef struct {
    int64_t from, until;            /* PRs created in [from, until) */
    const attn_truth_policy *truth; /* the label */
    const attn_cutoff_policy *cutoff;
    attn_lmodel_params params;
    int max_candidates;             /* the candidate pool (default 30) */
    int progress;                   /* a line on stderr per 500 PRs */
    /* Called with 1 just before XGBoost trains (on the calling thread
     * alone, using no store connection) and with 0 once it is done, so the
     * caller can put its other cores to work meanwhile; NULL: not called. */
    void (*training)(void *ud, int on);
    void *training_ud;
    struct attn_learn_ahead *ahead;  /* NULL, or attn_learn_wf's */
} attn_learn_opts;

void attn_learn_opts_init(attn_learn_opts *o);

/* Train on ctx's repository. *file is the model file object (learned_model.h)
 * whose "training" records: repo, from, until, truth_policy (spec and hash),
 * cutoff_policy, and the counts prs_in_window, excluded_no_cutoff,
 * excluded_not_observed, excluded_window_open (truth window ends after until),
 * no_target_in_pool, examples, rows, positives. ATTN_EINVAL when no example
 * is left (the message says how many PRs each rule left out). */
int attn_learn_train(const attn_route_ctx *ctx, attn_truth_ctx *truth, const attn_learn_opts *o,
                     json_t **file, attn_error *err);

/* Features and labels of PRs kept across several trainings (walk-forward
 * blocks): a PR's example does not depend on the block, only whether the
 * training-window rule admits it. */
typedef struct attn_learn_cache attn_learn_cache;
int attn_learn_cache_new(const attn_route_ctx *ctx, int max_candidates, attn_learn_cache **out,
                         attn_error *err);
void attn_learn_cache_free(attn_learn_cache *c);
/* More threads for computing examples: each helper is a routing context and
 * a truth context of its own on the same store and history (a worker's; the
 * caller keeps them open until the cache is freed). Examples do not depend
 * on the thread that computed them, so neither does the model. */
typedef struct {
    const attn_route_ctx *ctx;
    attn_truth_ctx *truth;
} attn_learn_helper;
int attn_learn_cache_helpers(attn_learn_cache *c, const attn_learn_helper *h, size_t n,
                             attn_error *err);
/* attn_learn_train with a cache (o->max_candidates must be the cache's). */
int attn_learn_train_cached(const attn_route_ctx *ctx, attn_truth_ctx *truth,
                            attn_learn_cache *c, const attn_learn_opts *o, json_t **file,
                            attn_error *err);

/*
 * Walk-forward training for an evaluation: blocks start at first, then every
 * retrain_days (0: one block) while the start is <= last; each block's model
 * is trained on the PRs created in [start - train_days, start) under the
 * training-window rule (until = start), written to
 * <repo_dir>/models/learned-<hash16>.json, and serves the cutoffs from its
 * start. A block with no example is skipped (recorded), the previous model
 * serving on. *config is base_config with "models" set (the learned
 * router's schedule, hashes included, so the config hash names the models);
 * *record is {router, train_days, retrain_days, policy, blocks: [{from, path,
 * hash, training, importance} | {from, trained_from, skipped}]}.
 */
typedef struct {
    int64_t first, last;
    int train_days, retrain_days;
    const attn_truth_policy *truth;
    const attn_cutoff_policy *cutoff;
    int progress;
    int min_examples;   /* set from base_config's train.min_examples */
    const attn_learn_helper *helpers;   /* attn_learn_cache_helpers; may be NULL */
    size_t n_helpers;
    void (*training)(void *ud, int on);  /* as attn_learn_opts' */
    void *training_ud;
    /* NULL, or the PRs the evaluation will route (sorted by cutoff, then
     * number): while XGBoost trains, the first helper computes the learned
     * router's features of as many as it can, from the first, into out
     * (route/features.h), which the caller frees. */
    struct attn_learn_ahead {
        const attn_eval_pr *prs;
        size_t n;
        attn_feat_ahead out;
    } *ahead;
} attn_learn_wf;
/* The "train" object of a learned config into XGBoost params (NULL: defaults). */
int attn_learn_params_from_json(const json_t *t, attn_lmodel_params *p, attn_error *err);
int attn_learn_walk_forward(const attn_route_ctx *ctx, attn_truth_ctx *truth,
                            const attn_learn_wf *w, const json_t *base_config, json_t **config,
                            json_t **record, attn_error *err);
/* A note naming the top features by total-gain share averaged over the
 * record's models (NULL when none was trained). */
json_t *attn_learn_importance_note(const json_t *record, int top);

#endif
