/*
 * learned_model.c - XGBoost glue for the `learned` router: train, save, load,
 * predict (learned_model.h). Owns every call into libxgboost. Must never:
 * use more than one XGBoost thread or an unseeded parameter (the model file
 * must be byte-identical on rerun), or accept a file whose hash or feature
 * list does not match.
 */
#include "route/learned_model.h"
#include "route/features.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

/* One regression tree of the model, evaluated here: XGBoost's own predict
 * costs a matrix and a thread pool per call, about 1 ms per PR. */
typedef struct {
    int n;
    int *left, *right, *feat;
    unsigned char *dleft;
    float *cond;             /* split value; the leaf value at leaves */
    double *mean;            /* node mean value (approximate contributions) */
} lm_tree;

struct attn_lmodel {
    BoosterHandle b;
    json_t *file;
    char hash[65];
    lm_tree *trees;
    size_t n_trees;
    double base_score;
};

void attn_lmodel_params_init(attn_lmodel_params *p)
{
    p->objective = "rank:pairwise";
    p->rounds = 100;
    p->eta = 0.1;
    p->max_depth = 2;
    p->min_child_weight = 10;
    p->seed = 0;
}

static int xgb_fail(attn_error *err, const char *what)
{
    return attn_error_set(err, ATTN_EIO, "xgboost: %s: %s", what, XGBGetLastError());
}

static void quiet(void)
{
    /* XGBoost warns on stderr by default; attn's messages go through err. */
    XGBSetGlobalConfig("{\"verbosity\": 0}");
}

static int set_params(BoosterHandle b, const attn_lmodel_params *p, attn_error *err)
{
    char v[64][2][48];
    size_t n = 0;
#define SETP(k, fmt, val)                                                                          \
    do {                                                                                           \
        snprintf(v[n][0], sizeof(v[n][0]), "%s", k);                                               \
        snprintf(v[n][1], sizeof(v[n][1]), fmt, val);                                              \
        n++;                                                                                       \
    } while (0)
    SETP("objective", "%s", p->objective);
    SETP("eta", "%.17g", p->eta);
    SETP("max_depth", "%d", p->max_depth);
    SETP("min_child_weight", "%.17g", p->min_child_weight);
    SETP("seed", "%llu", (unsigned long long)p->seed);
    SETP("nthread", "%d", 1);
    SETP("tree_method", "%s", "hist");
    SETP("eval_metric", "%s", "ndcg@5");
#undef SETP
    for (size_t i = 0; i < n; i++)
        if (XGBoosterSetParam(b, v[i][0], v[i][1]))
            return xgb_fail(err, v[i][0]);
    return 0;
}

static json_t *params_json(const attn_lmodel_params *p)
{
    return attn_xcheck(json_pack("{s:s, s:i, s:f, s:i, s:f, s:I, s:i, s:s}", "objective",
                                 p->objective, "rounds", p->rounds, "eta", p->eta, "max_depth",
                                 p->max_depth, "min_child_weight", p->min_child_weight, "seed",
                                 (json_int_t)p->seed, "nthread", 1, "tree_method", "hist"));
}

/* Total gain per feature, as shares of the sum (6 significant digits). */
static json_t *importance(BoosterHandle b, attn_error *err)
{
    bst_ulong nf = 0, dim = 0;
    const char **names = NULL;
    const bst_ulong *shape = NULL;
    const float *scores = NULL;
    json_t *o = attn_xcheck(json_object());
    double sum = 0;
    char cfg[2048];
    attn_buf nb = ATTN_BUF_INIT;
    for (size_t i = 0; i < ATTN_FEAT_N; i++)
        attn_buf_printf(&nb, "%s\"%s\"", i ? ", " : "", attn_feat_name(i));
    snprintf(cfg, sizeof(cfg), "{\"importance_type\": \"total_gain\", \"feature_names\": [%s]}",
             attn_buf_cstr(&nb));
    attn_buf_free(&nb);
    if (XGBoosterFeatureScore(b, cfg, &nf, &names, &dim, &shape, &scores)) {
        json_decref(o);
        xgb_fail(err, "feature importance");
        return NULL;
    }
    for (bst_ulong i = 0; i < nf; i++)
        sum += scores[i];
    for (bst_ulong i = 0; i < nf && sum > 0; i++) {
        char t[32];
        snprintf(t, sizeof(t), "%.6g", scores[i] / sum);
        double v = strtod(t, NULL);
        if (isfinite(v))   /* json_real() refuses the rest: left out, as it always was */
            attn_xcheck_rc(json_object_set_new(o, names[i], attn_xcheck(json_real(v))));
    }
    return o;
}

static int finish_file(json_t *file, attn_error *err)
{
    char hex[65];
    int rc = attn_json_hash(file, hex, err);
    if (rc)
        return rc;
    attn_xcheck_rc(json_object_set_new(file, "hash", json_string(hex)));
    return 0;
}

int attn_lmodel_train(const attn_lmodel_data *d, const attn_lmodel_params *p,
                      const json_t *training, json_t **file, attn_error *err)
{
    DMatrixHandle dm = NULL;
    BoosterHandle b = NULL;
    bst_ulong len = 0;
    const char *raw = NULL;
    size_t pos = 0;
    json_t *imp = NULL, *f = NULL;
    int rc = 0;

    *file = NULL;
    quiet();
    for (size_t i = 0; i < d->n_rows; i++)
        pos += d->y[i] > 0;
    if (!d->n_rows || !d->n_groups || !pos)
        return attn_error_set(err, ATTN_EINVAL,
                              "no training rows with a reviewer among the candidates (%zu rows); "
                              "widen the training window",
                              d->n_rows);
    if (XGDMatrixCreateFromMat_omp(d->x, d->n_rows, ATTN_FEAT_N, NAN, &dm, 1) ||
        XGDMatrixSetFloatInfo(dm, "label", d->y, d->n_rows) ||
        XGDMatrixSetUIntInfo(dm, "group", d->group, d->n_groups)) {
        rc = xgb_fail(err, "building the training matrix");
        goto out;
    }
    if (XGBoosterCreate(&dm, 1, &b)) {
        rc = xgb_fail(err, "creating the booster");
        goto out;
    }
    if ((rc = set_params(b, p, err)))
        goto out;
    for (int it = 0; it < p->rounds; it++)
        if (XGBoosterUpdateOneIter(b, it, dm)) {
            rc = xgb_fail(err, "training");
            goto out;
        }
    if (XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &raw)) {
        rc = xgb_fail(err, "saving the model");
        goto out;
    }
    if (!(imp = importance(b, err))) {
        rc = err->code;
        goto out;
    }
    /* XGBoost writes its model as JSON text (ASCII) */
    f = attn_xcheck(json_pack("{s:s, s:{s:s, s:o}, s:o, s:O, s:o, s:s%}", "format", ATTN_LMODEL_FORMAT,
                  "features", "version", ATTN_FEAT_VERSION, "names", attn_feat_names_json(),
                  "params", params_json(p), "training", training, "importance", imp, "xgboost",
                  raw, (size_t)len));
    imp = NULL;
    if ((rc = finish_file(f, err)))
        goto out;
    *file = f;
    f = NULL;
out:
    json_decref(imp);
    json_decref(f);
    if (b)
        XGBoosterFree(b);
    if (dm)
        XGDMatrixFree(dm);
    return rc;
}

int attn_lmodel_write(const char *path, const json_t *file, attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    int rc = attn_json_canonical(file, &b, err);
    attn_buf_put(&b, "\n", 1);
    if (!rc)
        rc = attn_fs_write_atomic(path, b.ptr, b.len, err);
    attn_buf_free(&b);
    return rc;
}

static void trees_free(attn_lmodel *m)
{
    for (size_t i = 0; i < m->n_trees; i++) {
        lm_tree *t = &m->trees[i];
        free(t->left);
        free(t->right);
        free(t->feat);
        free(t->dleft);
        free(t->cond);
        free(t->mean);
    }
    free(m->trees);
}

/* Node mean values as XGBoost computes them for approximate contributions:
 * a leaf's value, else the hessian-weighted mean of the children. */
static double fill_mean(lm_tree *t, const json_t *hess, int nid, int depth)
{
    double l, r, hl, hr, h;
    if (t->left[nid] < 0 || depth > 64)
        return t->mean[nid] = t->cond[nid];
    l = fill_mean(t, hess, t->left[nid], depth + 1);
    r = fill_mean(t, hess, t->right[nid], depth + 1);
    hl = json_number_value(json_array_get(hess, (size_t)t->left[nid]));
    hr = json_number_value(json_array_get(hess, (size_t)t->right[nid]));
    h = json_number_value(json_array_get(hess, (size_t)nid));
    return t->mean[nid] = h > 0 ? (l * hl + r * hr) / h : 0;
}

static int parse_tree(const json_t *jt, lm_tree *t)
{
    const json_t *L = json_object_get(jt, "left_children"), *R = json_object_get(jt, "right_children");
    const json_t *F = json_object_get(jt, "split_indices"), *C = json_object_get(jt, "split_conditions");
    const json_t *DL = json_object_get(jt, "default_left"), *H = json_object_get(jt, "sum_hessian");
    size_t n = json_array_size(L);
    if (!n || json_array_size(R) != n || json_array_size(F) != n || json_array_size(C) != n ||
        json_array_size(DL) != n || json_array_size(H) != n || n > 1u << 20)
        return -1;
    t->n = (int)n;
    t->left = attn_xmalloc(n * sizeof(int));
    t->right = attn_xmalloc(n * sizeof(int));
    t->feat = attn_xmalloc(n * sizeof(int));
    t->dleft = attn_xmalloc(n);
    t->cond = attn_xmalloc(n * sizeof(float));
    t->mean = attn_xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        t->left[i] = (int)json_integer_value(json_array_get(L, i));
        t->right[i] = (int)json_integer_value(json_array_get(R, i));
        t->feat[i] = (int)json_integer_value(json_array_get(F, i));
        t->dleft[i] = (unsigned char)json_integer_value(json_array_get(DL, i));
        t->cond[i] = (float)json_number_value(json_array_get(C, i));
        if (t->left[i] >= (int)n || t->right[i] >= (int)n ||
            (t->left[i] >= 0 && (t->right[i] < 0 || t->feat[i] < 0 || t->feat[i] >= ATTN_FEAT_N)))
            return -1;
    }
    fill_mean(t, H, 0, 0);
    return 0;
}

static int parse_trees(attn_lmodel *m, const char *raw, const char *label, attn_error *err)
{
    json_error_t je;
    json_t *x = json_loads(raw, 0, &je), *trees;
    const json_t *learner = json_object_get(x, "learner");
    const char *bs = attn_json_str(json_object_get(learner, "learner_model_param"), "base_score");
    int rc = 0;
    trees = json_object_get(json_object_get(json_object_get(learner, "gradient_booster"), "model"),
                            "trees");
    if (!x || !bs || !json_is_array(trees) ||
        !(m->trees = calloc(json_array_size(trees) + 1, sizeof(*m->trees)))) {
        json_decref(x);
        return attn_error_set(err, ATTN_EINVAL, "%s: the xgboost model has no trees to read", label);
    }
    m->base_score = strtod(bs, NULL);
    for (size_t i = 0; i < json_array_size(trees) && !rc; i++) {
        m->n_trees = i + 1;
        if (parse_tree(json_array_get(trees, i), &m->trees[i]))
            rc = attn_error_set(err, ATTN_EINVAL, "%s: tree %zu of the xgboost model is malformed",
                                label, i);
    }
    json_decref(x);
    return rc;
}

void attn_lmodel_free(attn_lmodel *m)
{
    if (!m)
        return;
    trees_free(m);
    if (m->b)
        XGBoosterFree(m->b);
    json_decref(m->file);
    free(m);
}

const char *attn_lmodel_hash(const attn_lmodel *m) { return m->hash; }
const json_t *attn_lmodel_file(const attn_lmodel *m) { return m->file; }

static int check_file(const json_t *file, const char *label, char hash[65], attn_error *err)
{
    json_t *copy;
    const json_t *names = json_object_get(json_object_get(file, "features"), "names");
    const char *h = attn_json_str(file, "hash"), *fmt = attn_json_str(file, "format");
    int rc;
    if (!json_is_object(file) || !fmt || strcmp(fmt, ATTN_LMODEL_FORMAT))
        return attn_error_set(err, ATTN_EINVAL, "%s: not an attn learned model (format %s)",
                              label, ATTN_LMODEL_FORMAT);
    if (!h || !attn_json_str(file, "xgboost"))
        return attn_error_set(err, ATTN_EINVAL, "%s: the model has no hash or no xgboost model",
                              label);
    copy = attn_xcheck(json_deep_copy(file));
    json_object_del(copy, "hash");
    rc = attn_json_hash(copy, hash, err);
    json_decref(copy);
    if (rc)
        return rc;
    if (strcmp(hash, h))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: the model's content does not match its hash (edited or "
                              "damaged); train it again with `attn model train`",
                              label);
    if (json_array_size(names) != ATTN_FEAT_N)
        goto mismatch;
    for (size_t i = 0; i < ATTN_FEAT_N; i++)
        if (!json_is_string(json_array_get(names, i)) ||
            strcmp(json_string_value(json_array_get(names, i)), attn_feat_name(i)))
            goto mismatch;
    return 0;
mismatch:
    return attn_error_set(err, ATTN_EINVAL,
                          "%s: the model was trained with another feature list than %s; "
                          "train it again with this attn",
                          label, ATTN_FEAT_VERSION);
}

int attn_lmodel_from_json(const json_t *file, const char *label, attn_lmodel **out, attn_error *err)
{
    attn_lmodel *m;
    const char *raw;
    int rc;
    *out = NULL;
    quiet();
    m = attn_xcalloc(1, sizeof(*m));
    if ((rc = check_file(file, label, m->hash, err)))
        goto fail;
    raw = attn_json_str(file, "xgboost");
    if (XGBoosterCreate(NULL, 0, &m->b) ||
        XGBoosterLoadModelFromBuffer(m->b, raw, strlen(raw)) ||
        XGBoosterSetParam(m->b, "nthread", "1")) {
        rc = xgb_fail(err, label);
        goto fail;
    }
    if ((rc = parse_trees(m, raw, label, err)))
        goto fail;
    m->file = json_incref((json_t *)file);
    *out = m;
    return 0;
fail:
    attn_lmodel_free(m);
    return rc;
}

int attn_lmodel_load(const char *path, attn_lmodel **out, attn_error *err)
{
    json_t *file = NULL;
    int rc = attn_json_load_file(path, &file, err);
    if (!rc)
        rc = attn_lmodel_from_json(file, path, out, err);
    json_decref(file);
    return rc;
}

int attn_lmodel_predict(attn_lmodel *m, const float *x, size_t n, double *score, float *contrib,
                        attn_error *err)
{
    (void)err;
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * ATTN_FEAT_N;
        double *c = NULL, cbuf[ATTN_FEAT_N + 1];
        double s = m->base_score;
        if (contrib) {
            memset(cbuf, 0, sizeof(cbuf));
            c = cbuf;
            c[ATTN_FEAT_N] = m->base_score;
        }
        for (size_t k = 0; k < m->n_trees; k++) {
            const lm_tree *t = &m->trees[k];
            int nid = 0;
            if (c)
                c[ATTN_FEAT_N] += t->mean[0];
            while (t->left[nid] >= 0) {
                int f = t->feat[nid], next;
                float v = xi[f];
                next = isnan(v) ? (t->dleft[nid] ? t->left[nid] : t->right[nid])
                                : v < t->cond[nid] ? t->left[nid] : t->right[nid];
                if (c)
                    c[f] += t->mean[next] - t->mean[nid];
                nid = next;
            }
            s += t->cond[nid];
        }
        score[i] = s;
        for (size_t k = 0; c && k <= ATTN_FEAT_N; k++)
            contrib[i * (ATTN_FEAT_N + 1) + k] = (float)c[k];
    }
    return 0;
}

int attn_lmodel_predict_xgboost(attn_lmodel *m, const float *x, size_t n, double *score,
                                float *contrib, attn_error *err)
{
    DMatrixHandle dm = NULL;
    const bst_ulong *shape;
    bst_ulong dim;
    const float *res;
    int rc = 0;
    if (!n)
        return 0;
    if (XGDMatrixCreateFromMat_omp(x, n, ATTN_FEAT_N, NAN, &dm, 1))
        return xgb_fail(err, "building the prediction matrix");
    if (XGBoosterPredictFromDMatrix(m->b, dm,
                                    "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                    "\"iteration_end\": 0, \"strict_shape\": false}",
                                    &shape, &dim, &res)) {
        rc = xgb_fail(err, "predicting");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        score[i] = res[i];
    if (contrib) {
        if (XGBoosterPredictFromDMatrix(m->b, dm,
                                        "{\"type\": 3, \"training\": false, \"iteration_begin\": 0, "
                                        "\"iteration_end\": 0, \"strict_shape\": false}",
                                        &shape, &dim, &res)) {
            rc = xgb_fail(err, "predicting contributions");
            goto out;
        }
        memcpy(contrib, res, n * (ATTN_FEAT_N + 1) * sizeof(*contrib));
    }
out:
    XGDMatrixFree(dm);
    return rc;
}
