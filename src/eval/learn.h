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

#endif
