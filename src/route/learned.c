/*
 * learned.c - the `learned` router: a learning-to-rank model (XGBoost,
 * route/learned_model.h) over the (PR, candidate) features of
 * route/features.h, trained only on PRs before the cutoff (`attn model
 * train`, or `attn eval run`, which trains on the PRs before its cohort).
 *
 * Owns: picking the model for a cutoff, scoring and explaining. Must never:
 * see anything the features may not (they are computed at q->as_of), or use
 * a model whose hash or feature list does not match (learned_model.c checks).
 *
 * Config (all keys, with defaults):
 *   model           null  path of a model file (relative paths are read
 *                         under the repository's data directory); used for
 *                         every cutoff
 *   models          []    walk-forward schedule: [{"from": ISO time or null,
 *                         "path": file, "hash": its hash or null}], ascending
 *                         "from"; a PR uses the last entry with from <= its
 *                         cutoff (none: the fallback). A "hash" given must
 *                         match the file. Not together with "model"
 *   max_candidates  30    >= 1, <= 200: the candidate pool (features.h)
 *   explain_top     3     0..ATTN_FEAT_N: contributions listed per candidate
 *   confidence.high 0.3, confidence.medium 0.1: margins (top1 - top2) / top1
 *   train           {objective "rank:pairwise" | "rank:ndcg", rounds 100, eta 0.1,
 *                   max_depth 2, min_child_weight 10, seed 0, min_examples 300}:
 *                   the XGBoost parameters when an evaluation trains the model
 *                   (eval/learn.h), and the fewest examples a walk-forward block
 *                   is trained on (fewer: the block keeps the previous model or
 *                   the fallback; on clippy 2019 models from under 300 PRs
 *                   ranked worse than popularity); not read for scoring
 * Without a model the router ranks by the pop_hl30 feature (a popularity
 * baseline) and says so in a note.
 *
 * Result: score = logistic(model margin), so scores are in (0, 1) and the
 * order is the model's. Evidence {kind:"learned", data:{model: first 12 hex
 * of the model hash, contributions: [{feature, value, contribution}] (the
 * explain_top largest |pred_contribs|, ties by feature order)}}. Notes:
 * "model=<hash>" (or "model=none") and "features=<version>". The per-PR
 * feature table goes to "_artifacts" as "features/learned", or already as
 * text to "_artifact_text" in an evaluation (eval writes it as its own entry,
 * pack.h). risk: "medium" with candidates, "high" without.
 */
#include "route/features.h"
#include "route/learned_model.h"
#include "route/router.h"
#include "route/shortlist.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULT_CONFIG[] =
    "{\"model\": null, \"models\": [], \"max_candidates\": 30, \"explain_top\": 3,"
    " \"train\": {\"objective\": \"rank:pairwise\", \"rounds\": 100, \"eta\": 0.1,"
    " \"max_depth\": 2, \"min_child_weight\": 10, \"seed\": 0,"
    " \"min_examples\": 300},"
    " \"confidence\": {\"high\": 0.3, \"medium\": 0.1}}";

#define MAX_CANDS_LIMIT 200
#define FALLBACK_FEATURE 1 /* pop_hl30 */

typedef struct {
    int64_t from;            /* INT64_MIN: always */
    attn_lmodel *m;
} lr_model;

typedef struct {
    attn_features *feat;
    lr_model *models;
    size_t n_models;
    int explain_top;
    double conf_high, conf_medium;
    attn_shortlist_rules rules;   /* router.c's common rules, for explain_set */
    attn_buf text;                /* the feature table's text (ctx->artifact_text) */
} lr_state;

static void lr_free(void *state)
{
    lr_state *st = state;
    if (!st)
        return;
    attn_features_free(st->feat);
    for (size_t i = 0; i < st->n_models; i++)
        attn_lmodel_free(st->models[i].m);
    free(st->models);
    attn_buf_free(&st->text);
    free(st);
}

static int load_one(const attn_route_ctx *ctx, const char *path, const char *want_hash,
                    attn_lmodel **out, attn_error *err)
{
    char full[4096];
    int rc;
    if (path[0] != '/' && ctx->repo_dir)
        snprintf(full, sizeof(full), "%s/%s", ctx->repo_dir, path);
    else
        snprintf(full, sizeof(full), "%s", path);
    if ((rc = attn_lmodel_load(full, out, err)))
        return rc;
    if (want_hash && strcmp(want_hash, attn_lmodel_hash(*out))) {
        rc = attn_error_set(err, ATTN_EINVAL, "learned: model %s has hash %.12s, not %.12s",
                            full, attn_lmodel_hash(*out), want_hash);
        attn_lmodel_free(*out);
        *out = NULL;
        return rc;
    }
    return 0;
}

static int load_models(lr_state *st, const json_t *config, const attn_route_ctx *ctx,
                       attn_error *err)
{
    const json_t *model = json_object_get(config, "model");
    const json_t *models = json_object_get(config, "models"), *e;
    size_t i, n = json_array_size(models);
    if (!json_is_null(model) && !json_is_string(model))
        return attn_error_set(err, ATTN_EINVAL, "learned: 'model' must be a path or null");
    if (json_is_string(model) && n)
        return attn_error_set(err, ATTN_EINVAL, "learned: give 'model' or 'models', not both");
    if (json_is_string(model))
        n = 1;
    if (!n)
        return 0;
    st->models = attn_xcalloc(n, sizeof(*st->models));
    if (json_is_string(model)) {
        st->models[0].from = INT64_MIN;
        st->n_models = 1;
        return load_one(ctx, json_string_value(model), NULL, &st->models[0].m, err);
    }
    json_array_foreach(models, i, e) {
        const char *path = attn_json_str(e, "path"), *from = attn_json_str(e, "from");
        const json_t *h = json_object_get(e, "hash");
        int64_t t = INT64_MIN;
        int rc;
        if (!json_is_object(e) || !path || (h && !json_is_null(h) && !json_is_string(h)))
            return attn_error_set(err, ATTN_EINVAL,
                                  "learned: models[%zu] must be {\"from\", \"path\", \"hash\"}", i);
        if (from && (rc = attn_time_parse(from, &t, err)))
            return attn_error_wrap(err, "learned: models[%zu].from", i), rc;
        if (i && t < st->models[i - 1].from)
            return attn_error_set(err, ATTN_EINVAL, "learned: models must be in ascending 'from'");
        st->models[i].from = t;
        st->n_models = i + 1;
        if ((rc = load_one(ctx, path, json_is_string(h) ? json_string_value(h) : NULL,
                           &st->models[i].m, err)))
            return rc;
    }
    return 0;
}

static int lr_init(const json_t *config, const attn_route_ctx *ctx, void **state, attn_error *err)
{
    lr_state *st = attn_xcalloc(1, sizeof(*st));
    const json_t *mc = json_object_get(config, "max_candidates");
    const json_t *et = json_object_get(config, "explain_top");
    const json_t *conf = json_object_get(config, "confidence");
    int rc;
    if (!json_is_integer(mc) || json_integer_value(mc) < 1 ||
        json_integer_value(mc) > MAX_CANDS_LIMIT) {
        rc = attn_error_set(err, ATTN_EINVAL, "learned: max_candidates must be a whole number "
                                              "from 1 to %d", MAX_CANDS_LIMIT);
        goto fail;
    }
    if (!json_is_integer(et) || json_integer_value(et) < 0 ||
        json_integer_value(et) > ATTN_FEAT_N) {
        rc = attn_error_set(err, ATTN_EINVAL, "learned: explain_top must be a whole number from 0 "
                                              "to %d", ATTN_FEAT_N);
        goto fail;
    }
    st->explain_top = (int)json_integer_value(et);
    attn_shortlist_rules_read(config, &st->rules);
    st->conf_high = json_number_value(json_object_get(conf, "high"));
    st->conf_medium = json_number_value(json_object_get(conf, "medium"));
    if (!(st->conf_medium >= 0 && st->conf_medium <= st->conf_high && st->conf_high <= 1)) {
        rc = attn_error_set(err, ATTN_EINVAL,
                            "learned: need 0 <= confidence.medium <= confidence.high <= 1");
        goto fail;
    }
    if ((rc = attn_features_new(ctx, (int)json_integer_value(mc), &st->feat, err)) ||
        (rc = load_models(st, config, ctx, err)))
        goto fail;
    *state = st;
    return 0;
fail:
    lr_free(st);
    return rc;
}

static attn_lmodel *model_for(const lr_state *st, int64_t as_of)
{
    attn_lmodel *m = NULL;
    for (size_t i = 0; i < st->n_models && st->models[i].from <= as_of; i++)
        m = st->models[i].m;
    return m;
}

/* Built with the plain constructors: json_pack's format parsing was a
 * visible share of a route, and this runs for every candidate. model is
 * the route's shared "model" value (one reference taken here). */
static json_t *explain(const lr_state *st, json_t *model, const float *x, const float *c)
{
    json_t *list = json_array(), *o = json_object();
    int used[ATTN_FEAT_N] = {0};
    for (int k = 0; list && k < st->explain_top; k++) {
        json_t *e = json_object();
        int best = -1;
        for (int j = 0; j < ATTN_FEAT_N; j++)
            if (!used[j] && (best < 0 || fabsf(c[j]) > fabsf(c[best])))
                best = j;
        if (best < 0 || c[best] == 0) {
            json_decref(e);
            break;
        }
        used[best] = 1;
        if (!e || json_object_set_new(e, "feature", json_string(attn_feat_name((size_t)best))) ||
            json_object_set_new(e, "value", json_real(attn_feat_round6(x[best]))) ||
            json_object_set_new(e, "contribution", json_real(attn_feat_round6(c[best]))) ||
            json_array_append_new(list, e)) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!o || !list || json_object_set(o, "model", model) ||
        json_object_set_new(o, "contributions", list)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A candidate's final score and index, for explain_set's order. */
typedef struct {
    double p;
    size_t i;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->p != y->p)
        return x->p > y->p ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

typedef struct {
    const attn_shortlist_rules *rules;
    const attn_route_ctx *ctx;
    const attn_route_query *q;
    const ranked *r;
    char *const *login;
} cut_arg;

static double cut_score(const void *arg, size_t k) { return ((const cut_arg *)arg)->r[k].p; }

static int cut_safe(const void *arg, size_t k)
{
    const cut_arg *x = arg;
    return attn_shortlist_safe_target(x->rules, x->ctx->activity, x->q, "user",
                                      x->login[x->r[k].i]);
}

/* want[i] = 1 for the candidates that can reach router.c's top_k (shortlist.h's
 * rule): the others' evidence would be dropped unread, and explaining all of
 * the pool was a large share of a route. p[i] are the final scores. */
static void explain_set(const lr_state *st, const attn_route_ctx *ctx, const attn_route_query *q,
                        const attn_feat_set *fs, const double *p, unsigned char *want)
{
    ranked *r = attn_xmalloc(attn_st_mult(fs->n, sizeof(*r)));
    cut_arg x = {&st->rules, ctx, q, r, fs->login};
    size_t keep;
    for (size_t i = 0; i < fs->n; i++) {
        r[i].p = p[i];
        r[i].i = i;
        want[i] = 0;
    }
    qsort(r, fs->n, sizeof(*r), ranked_cmp);
    keep = attn_shortlist_cut_by(q, fs->n, cut_score, cut_safe, &x);
    for (size_t k = 0; k < keep; k++)
        want[r[k].i] = 1;
    free(r);
}

static int lr_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                    attn_route_result *res, attn_error *err)
{
    lr_state *st = state;
    attn_feat_set fs;
    const attn_feat_set *ahead =
        attn_feat_ahead_find(ctx->feat_ahead, q->pr_number, q->as_of,
                             attn_features_max_candidates(st->feat));
    attn_lmodel *m = model_for(st, q->as_of);
    double *score = NULL;         /* model margins, then the final scores */
    float *contrib = NULL;
    unsigned char *want = NULL;
    json_t *art, *model = NULL;
    int rc;

    if (ahead) {
        fs = *ahead;   /* computed ahead (features.h): borrowed, not freed */
    } else if ((rc = attn_features_compute(st->feat, ctx, q, &fs, err))) {
        goto out;
    }
    if (m && fs.n) {
        score = attn_xmalloc(attn_st_mult(fs.n, sizeof(*score)));
        contrib = attn_xmalloc(attn_st_mult(attn_st_mult(fs.n, ATTN_FEAT_N + 1), sizeof(*contrib)));
        if ((rc = attn_lmodel_predict(m, fs.x, fs.n, score, contrib, err)))
            goto out;
        model = attn_xcheck(json_stringn(attn_lmodel_hash(m), 12));
        for (size_t i = 0; i < fs.n; i++)
            score[i] = 1.0 / (1.0 + exp(-score[i]));
        want = attn_xmalloc(fs.n);
        explain_set(st, ctx, q, &fs, score, want);
    }
    for (size_t i = 0; i < fs.n; i++) {
        attn_cand *c = attn_result_cand(res, "user", fs.login[i]);
        const float *x = fs.x + i * ATTN_FEAT_N;
        if (!c)
            continue;
        if (m) {
            attn_cand_set_score(c, score[i]);
            if (st->explain_top && want[i])
                attn_cand_evidence(c, "learned",
                                   explain(st, model, x, contrib + i * (ATTN_FEAT_N + 1)));
        } else {
            attn_cand_set_score(c, x[FALLBACK_FEATURE]);
        }
    }
    if (m)
        attn_result_note(res, "model=%s", attn_lmodel_hash(m));
    else
        attn_result_note(res, "model=none: no model for this cutoff; ranked by %s (train one "
                              "with `attn model train`)",
                         attn_feat_name(FALLBACK_FEATURE));
    attn_result_note(res, "features=%s", ATTN_FEAT_VERSION);
    attn_result_set_risk(res, fs.n ? "medium" : "high");
    attn_result_confidence_margins(res, st->conf_high, st->conf_medium);
    if (ctx->artifact_text) {
        /* an evaluation writes the table as text: no tree of a thousand reals */
        attn_buf_clear(&st->text);
        if (attn_feat_set_canonical(&fs, m ? attn_lmodel_hash(m) : NULL, &st->text, err))
            rc = attn_error_set(err, ATTN_EINVAL,
                                "learned: a feature of PR #%lld is not a finite number",
                                (long long)q->pr_number);
        else
            attn_result_artifact_text(res, "features/learned", st->text.ptr, st->text.len);
        goto out;
    }
    art = attn_feat_set_json(&fs);
    if (art && m)
        json_object_set_new(art, "model", json_string(attn_lmodel_hash(m)));
    /* json_real() refuses only a value that is not finite. */
    if (art)
        attn_result_artifact(res, "features/learned", art);
    else
        rc = attn_error_set(err, ATTN_EINVAL, "learned: a feature of PR #%lld is not a finite number",
                            (long long)q->pr_number);
out:
    json_decref(model);
    if (!ahead)
        attn_feat_set_free(&fs);
    free(score);
    free(contrib);
    free(want);
    return rc;
}

const attn_router_def attn_router_learned = {
    "learned",
    "learned.v1",
    "learning-to-rank (XGBoost) over features as of the cutoff; trained on earlier PRs",
    DEFAULT_CONFIG,
    lr_init,
    lr_route,
    lr_free,
};
