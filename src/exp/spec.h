/*
 * spec.h - the experiment spec (SPEC §9): everything an experiment run needs
 * besides the store, hashed so a run can name exactly what it executed.
 *
 * File format (canonical JSON, sorted keys):
 *   {"kind": "experiment_spec", "version": "attn.experiment.v1",
 *    "repo": "owner/name",
 *    "cohort": {"hash": H, "path": P (optional, not hashed)},
 *    "cutoff_policy": "created_at" | ...        (eval/cutoff.h grammar),
 *    "truth": [policy spec, ...]                (canonical, first = primary),
 *    "routers": [{"name": built-in, "config": {...} | null}],
 *    "top_k": K, "ks": [k, ...] (each 1..top_k, at most 8),
 *    "bootstrap": {"resamples": R, "seed": S},
 *    "hybrid_train_days": D,
 *    "run_kind": "baseline" | "experimental" | "ab_control" | "ab_treatment",
 *    "experiment_id": string | null             (links A/B pairs),
 *    "tags": [string...], "notes": string,
 *    "gates": {"unknown_max": x, "availability_min": x, "unavailable_max": x},
 *    "promotion": {"baseline_router": name | null, "candidate_router": name | null,
 *                  "min_n": N, "min_delta_mrr": x, "max_hit1_drop": x},
 *    "hash": SHA-256 hex}
 *
 * hash = SHA-256 of the canonical JSON of the spec without "hash" and
 * without cohort.path: paths are not hashed, so spec and cohort files can
 * move without changing what the spec means. Router configs are embedded
 * inline (init reads the files), so the hash covers their content.
 *
 * Validation (attn_spec_from_json) refuses: another kind or version, a hash
 * that does not match the content (a hand edit, named as such), unknown keys
 * at any level (a typo must not silently fall back to a default), unknown
 * routers (route/router.h), truth specs or cutoff policies that do not parse
 * (eval/truth.h, eval/cutoff.h), and promotion routers not in "routers".
 * Router configs are checked against the router's defaults when the run
 * instantiates the router, not here (that needs a store).
 *
 * Gate thresholds are fixed defaults (0.03, 0.90, 0.02), never switched on
 * router names (reference §15.16). Promotion defaults: baseline "popularity"
 * when routed, else the first router; candidate "hybrid" when routed (and
 * not the baseline), else the last router; null when only one router.
 * min_n 100, min_delta_mrr 0.01, max_hit1_drop 0.01.
 */
#ifndef ATTN_EXP_SPEC_H
#define ATTN_EXP_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

#define ATTN_SPEC_VERSION "attn.experiment.v1"
#define ATTN_SPEC_MAX_ROUTERS 32
#define ATTN_SPEC_MAX_TRUTH 16
#define ATTN_SPEC_MAX_KS 8

typedef struct {
    const char *name;
    const json_t *config;       /* inline config object or NULL (defaults); borrowed */
} attn_spec_router;

typedef struct {
    double unknown_max, availability_min, unavailable_max;
} attn_spec_gates;

typedef struct {
    const char *baseline_router, *candidate_router;   /* NULL: no pair */
    long min_n;
    double min_delta_mrr, max_hit1_drop;
} attn_spec_promotion;

/* What `experiment init` knows; NULL / 0 fields take the defaults. */
typedef struct {
    const char *repo;
    const char *cohort_hash, *cohort_path, *cutoff_policy;   /* policy NULL: created_at */
    const char *const *truth;   /* NULL: first_response, first_approval */
    size_t n_truth;
    const attn_spec_router *routers;
    size_t n_routers;
    int top_k;                  /* 0: 10 */
    const int *ks;              /* NULL: 1,3,5,10 (those <= top_k) */
    size_t n_ks;
    int resamples;              /* -1: 1000 */
    uint64_t seed;              /* used when has_seed; else 42 */
    int has_seed;
    int hybrid_train_days;      /* -1: 90 */
    const char *run_kind;       /* NULL: experimental */
    const char *experiment_id;  /* may be NULL */
    const char *const *tags;
    size_t n_tags;
    const char *notes;
    const char *baseline_router, *candidate_router;  /* NULL: defaults above */
} attn_spec_params;

void attn_spec_params_init(attn_spec_params *p);

/* Build a validated spec JSON with its hash (new reference in *out). */
int attn_spec_build(const attn_spec_params *p, json_t **out, attn_error *err);

/* The hash of a spec object (its "hash" and cohort.path ignored). */
int attn_spec_compute_hash(const json_t *spec, char hex[65], attn_error *err);

/* A validated spec; fields borrow from the JSON it holds. */
typedef struct {
    json_t *doc;
    const char *repo, *cohort_hash, *cohort_path, *cutoff_policy, *run_kind, *experiment_id,
        *notes;
    const char *truth[ATTN_SPEC_MAX_TRUTH];
    size_t n_truth;
    attn_spec_router routers[ATTN_SPEC_MAX_ROUTERS];
    size_t n_routers;
    int top_k;
    int ks[ATTN_SPEC_MAX_KS];
    size_t n_ks;
    int resamples;
    uint64_t seed;
    int hybrid_train_days;
    attn_spec_gates gates;
    attn_spec_promotion promotion;
    char hash[65];
} attn_spec;

/* Validate v (rules above); repo (may be NULL) must match. what names the
 * source in messages. *out is malloc'd; attn_spec_free it. */
int attn_spec_from_json(const json_t *v, const char *what, const char *repo, attn_spec **out,
                        attn_error *err);
int attn_spec_load(const char *path, const char *repo, attn_spec **out, attn_error *err);
void attn_spec_free(attn_spec *s);

/* 1 for baseline | experimental | ab_control | ab_treatment. */
int attn_spec_kind_valid(const char *kind);

#endif
