/*
 * learned_model.h - the `learned` router's model file: training an XGBoost
 * ranking model on (PR, candidate) rows, writing and reading the file, and
 * predicting with per-feature contributions (route/learned_model.c).
 *
 * The model file is one JSON object (canonical, sorted keys):
 *   {"format": "attn-learned-model.v1",
 *    "features": {"version": ATTN_FEAT_VERSION, "names": [...]},
 *    "params": {objective, rounds, eta, max_depth, min_child_weight, seed, nthread},
 *    "training": {...whatever the trainer records: repo, window, truth policy, counts},
 *    "importance": {feature: total gain share} (features never split on are absent),
 *    "xgboost": the model as XGBoost's own JSON text (a string),
 *    "hash": SHA-256 hex of the canonical JSON of every other key}
 * The defaults were picked on rust-clippy's 2019-2020 PRs (validation; see
 * README "learned router"). Deterministic: one thread and a fixed seed, so the same rows and params
 * give a byte-identical file.
 */
#ifndef ATTN_ROUTE_LEARNED_MODEL_H
#define ATTN_ROUTE_LEARNED_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

#define ATTN_LMODEL_FORMAT "attn-learned-model.v1"

typedef struct {
    const float *x;          /* n_rows * ATTN_FEAT_N, row-major */
    const float *y;          /* n_rows labels: 1 reviewer, 0 not */
    const unsigned *group;   /* n_groups sizes (rows of one PR each), summing to n_rows */
    size_t n_rows, n_groups;
} attn_lmodel_data;

typedef struct {
    const char *objective;   /* "rank:pairwise" (default) or "rank:ndcg" */
    int rounds;              /* boosting rounds (default 100) */
    double eta;              /* learning rate (0.1) */
    int max_depth;           /* 2 */
    double min_child_weight; /* 10 */
    uint64_t seed;           /* 0 */
} attn_lmodel_params;

void attn_lmodel_params_init(attn_lmodel_params *p);

typedef struct attn_lmodel attn_lmodel;

/* Train; training (a JSON object, borrowed) is recorded as is. *file is the
 * model file object (new reference). ATTN_EINVAL without rows or positives. */
int attn_lmodel_train(const attn_lmodel_data *d, const attn_lmodel_params *p,
                      const json_t *training, json_t **file, attn_error *err);

/* Write the file atomically as canonical JSON plus a newline. */
int attn_lmodel_write(const char *path, const json_t *file, attn_error *err);

/* Load a model file object (checks format, hash and feature list). */
int attn_lmodel_from_json(const json_t *file, const char *label, attn_lmodel **out, attn_error *err);
int attn_lmodel_load(const char *path, attn_lmodel **out, attn_error *err);
void attn_lmodel_free(attn_lmodel *m);
const char *attn_lmodel_hash(const attn_lmodel *m);
const json_t *attn_lmodel_file(const attn_lmodel *m);

/* Scores (the model's margins) for n rows, evaluated here from the model's
 * trees (XGBoost's own predict costs about 1 ms per call); contrib (NULL or
 * n * (ATTN_FEAT_N + 1), the last column being the bias) receives the
 * per-feature contributions as XGBoost's pred_contribs with
 * approx_contribs computes them (Saabas: along each tree's path, the change
 * of the node mean value at each split goes to the split's feature); the
 * row's contributions sum to its score. */
int attn_lmodel_predict(attn_lmodel *m, const float *x, size_t n, double *score, float *contrib,
                        attn_error *err);
/* The same through XGBoost's C API (the reference the tests compare with). */
int attn_lmodel_predict_xgboost(attn_lmodel *m, const float *x, size_t n, double *score,
                                float *contrib, attn_error *err);

#endif
