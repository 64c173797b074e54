/*
 * learn.c - build training rows for the `learned` router from the PRs before
 * a point in time and train the model (learn.h). Owns the training-window
 * rule. Must never: hand a PR whose truth window is still open at `until` to
 * the trainer, or compute a feature at any instant but the PR's own cutoff.
 */
#include "eval/learn.h"
#include "eval/run.h"
#include "route/features.h"
#include "util/json.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void attn_learn_opts_init(attn_learn_opts *o)
{
    memset(o, 0, sizeof(*o));
    attn_lmodel_params_init(&o->params);
    o->max_candidates = 30;
}

typedef struct {
    float *x, *y;
    unsigned *group;
    size_t rows, cap_rows, groups, cap_groups, positives;
} rows_buf;

static int rows_add(rows_buf *b, const attn_feat_set *fs, const json_t *targets, size_t *pos)
{
    *pos = 0;
    if (b->rows + fs->n > b->cap_rows) {
        size_t nc = b->cap_rows ? b->cap_rows * 2 : 1024;
        float *nx, *ny;
        while (nc < b->rows + fs->n)
            nc *= 2;
        if (!(nx = realloc(b->x, nc * ATTN_FEAT_N * sizeof(*nx))))
            return ATTN_ENOMEM;
        b->x = nx;
        if (!(ny = realloc(b->y, nc * sizeof(*ny))))
            return ATTN_ENOMEM;
        b->y = ny;
        b->cap_rows = nc;
    }
    if (b->groups == b->cap_groups) {
        size_t nc = b->cap_groups ? b->cap_groups * 2 : 256;
        unsigned *ng = realloc(b->group, nc * sizeof(*ng));
        if (!ng)
            return ATTN_ENOMEM;
        b->group = ng;
        b->cap_groups = nc;
    }
    for (size_t i = 0; i < fs->n; i++) {
        const json_t *t;
        size_t k;
        float label = 0;
        json_array_foreach(targets, k, t) {
            const char *type = attn_json_str(t, "type"), *name = attn_json_str(t, "name");
            if (type && name && !strcmp(type, "user") && !strcasecmp(name, fs->login[i]))
                label = 1;
        }
        memcpy(b->x + (b->rows + i) * ATTN_FEAT_N, fs->x + i * ATTN_FEAT_N,
               ATTN_FEAT_N * sizeof(float));
        b->y[b->rows + i] = label;
        *pos += label > 0;
    }
    return 0;
}

typedef struct {
    size_t in_window, no_cutoff, not_observed, window_open, no_target, examples;
} learn_counts;

/* Label, features and rows of one PR; *used says whether it became an example. */
static int one_pr(const attn_route_ctx *ctx, attn_truth_ctx *truth, attn_cutoff_resolver *res,
                  attn_features *feat, const attn_learn_opts *o, int64_t number, rows_buf *b,
                  learn_counts *cnt, attn_error *err)
{
    int64_t cut, wend;
    json_t *t = NULL, *snap = NULL;
    attn_feat_set fs = {0};
    size_t pos = 0;
    int rc = attn_cutoff_resolver_get(res, number, o->cutoff, &cut, err);
    if (rc == ATTN_CUTOFF_NONE || (!rc && cut >= o->until)) {
        cnt->no_cutoff++;
        return 0;
    }
    if (rc || (rc = attn_truth_eval(truth, number, cut, o->truth, &t, err)))
        return rc;
    if (strcmp(attn_json_str(t, "status"), ATTN_TRUTH_OBSERVED)) {
        cnt->not_observed++;
        goto out;
    }
    if ((rc = attn_json_time(t, "window_end", &wend, err)))
        goto out;
    if (wend > o->until) {
        cnt->window_open++;
        goto out;
    }
    if ((rc = attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, number, cut, &snap, err)))
        goto out;
    {
        attn_route_query q = {number, cut, o->max_candidates, snap};
        if ((rc = attn_features_compute(feat, ctx, &q, &fs, err)))
            goto out;
    }
    if (!fs.n) {
        cnt->no_target++;
        goto out;
    }
    if (rows_add(b, &fs, json_object_get(t, "targets"), &pos)) {
        rc = attn_error_set(err, ATTN_ENOMEM, "out of memory collecting training rows");
        goto out;
    }
    if (!pos) {
        cnt->no_target++;
        goto out;
    }
    b->group[b->groups++] = (unsigned)fs.n;
    b->rows += fs.n;
    b->positives += pos;
    cnt->examples++;
out:
    attn_feat_set_free(&fs);
    if (ctx->memo)
        attn_route_memo_clear(ctx->memo);
    json_decref(snap);
    json_decref(t);
    return rc;
}

static json_t *training_json(const attn_route_ctx *ctx, const attn_learn_opts *o,
                             const learn_counts *c, const rows_buf *b)
{
    char t0[32], t1[32];
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                     "s:i, s:s}",
                     "repo", ctx->repo, "from", attn_time_format(o->from, t0), "until",
                     attn_time_format(o->until, t1), "truth_policy", "spec", o->truth->spec,
                     "hash", o->truth->hash, "cutoff_policy", o->cutoff->id, "prs_in_window",
                     (json_int_t)c->in_window, "excluded_no_cutoff", (json_int_t)c->no_cutoff,
                     "excluded_not_observed", (json_int_t)c->not_observed,
                     "excluded_window_open", (json_int_t)c->window_open, "no_target_in_pool",
                     (json_int_t)c->no_target, "examples", (json_int_t)c->examples, "rows",
                     (json_int_t)b->rows, "positives", (json_int_t)b->positives,
                     "max_candidates", o->max_candidates, "rule",
                     "created in [from, until), observed, truth window_end <= until");
}

int attn_learn_train(const attn_route_ctx *ctx, attn_truth_ctx *truth, const attn_learn_opts *o,
                     json_t **file, attn_error *err)
{
    attn_eval_pr *prs = NULL;
    attn_cutoff_resolver *res = NULL;
    attn_features *feat = NULL;
    rows_buf b = {0};
    learn_counts cnt = {0};
    size_t n = 0;
    json_t *training = NULL;
    int rc;

    *file = NULL;
    if (o->until <= o->from)
        return attn_error_set(err, ATTN_EINVAL, "the training window is empty (from >= until)");
    if ((rc = attn_eval_prs_in_window(ctx->store, ctx->repo_id, o->from, o->until, &prs, &n, err)) ||
        (rc = attn_cutoff_resolver_open(ctx->store, ctx->repo_id, &res, err)) ||
        (rc = attn_features_new(ctx, o->max_candidates, &feat, err)))
        goto out;
    cnt.in_window = n;
    for (size_t i = 0; i < n; i++) {
        if ((rc = one_pr(ctx, truth, res, feat, o, prs[i].number, &b, &cnt, err))) {
            attn_error_wrap(err, "training on #%lld", (long long)prs[i].number);
            goto out;
        }
        if (o->progress && (i + 1) % 500 == 0)
            fprintf(stderr, "model train: %zu/%zu PRs, %zu examples\n", i + 1, n, cnt.examples);
    }
    if (!(training = training_json(ctx, o, &cnt, &b))) {
        rc = attn_error_set(err, ATTN_ENOMEM, "out of memory");
        goto out;
    }
    if (!cnt.examples) {
        rc = attn_error_set(err, ATTN_EINVAL,
                            "no training example among %zu PRs created in the window (%zu "
                            "without a cutoff before until, %zu not observed, %zu with the truth "
                            "window still open at until, %zu with no reviewer in the pool); "
                            "widen the window",
                            n, cnt.no_cutoff, cnt.not_observed, cnt.window_open, cnt.no_target);
        goto out;
    }
    {
        attn_lmodel_data d = {b.x, b.y, b.group, b.rows, b.groups};
        rc = attn_lmodel_train(&d, &o->params, training, file, err);
    }
out:
    json_decref(training);
    attn_features_free(feat);
    attn_cutoff_resolver_free(res);
    free(prs);
    free(b.x);
    free(b.y);
    free(b.group);
    return rc;
}
