/*
 * hybrid.h - the `hybrid` router's fusion and weight fitting (route/hybrid.c),
 * for evaluations and tools that need more than the router interface.
 */
#ifndef ATTN_ROUTE_HYBRID_H
#define ATTN_ROUTE_HYBRID_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "route/router.h"
#include "util/error.h"

/* One training example: a PR, its cutoff and its truth targets ("user"/"team" + name). */
typedef struct {
    int64_t pr_number;
    int64_t cutoff;
    const json_t *snapshot;
    const json_t *targets;   /* [{type, name}, ...] */
} attn_hybrid_example;

/* Fit component weights for method "linear" on examples (PRs strictly before the cohort), by
 * deterministic coordinate ascent over a fixed grid maximizing MRR (ties -> smaller weights, then
 * component name order); returns a config object {method, components{...}, fitted:{n, from, to,
 * objective, grid}} ready to pass to attn_router_new. Deterministic.
 *
 * base_config is a hybrid config (NULL: the defaults). Every component it
 * lists whose router is registered takes part, including those with weight 0;
 * unregistered ones with weight 0 are left out (an unregistered one with a
 * weight > 0 is an error, as in attn_router_new). Each component is routed
 * once per example (top component_top_k); the search then runs over the
 * cached normalized scores. MRR counts the first truth target in the fused
 * ranking (score desc, then type, then name), 0 when none is ranked; the
 * availability and load rules are not part of the objective. The caller
 * must pick examples from before the cohort: nothing here knows the cohort. */
int attn_hybrid_fit(const attn_route_ctx *ctx, const json_t *base_config, const attn_hybrid_example *ex,
                    size_t n, json_t **fitted_config, attn_error *err);

/* The grid the fit searches (ascending, starts with 0). */
size_t attn_hybrid_grid(const double **values);

/* One component's output for one PR, as attn_router_route returned it. */
typedef struct {
    const char *name;        /* the component router's name */
    double weight;
    const json_t *result;    /* {candidates: [{target{type,name}, score, evidence}], ...} */
} attn_hybrid_part;

/* Fuse component outputs the way the router does: "linear" adds
 * weight * score / (the component's top score for this PR); "rrf" adds
 * weight / (rrf_k + rank), rank 1-based in the component's list. *out is an
 * array of {target{type,name}, score, parts{name: contribution},
 * kinds{name: [evidence kinds]}} with score > 0, ordered by score desc, then
 * type, then name (case-insensitively, then bytewise). Targets are matched by
 * type and case-insensitive name; the first spelling (components in the
 * order given, then rank) is kept. */
int attn_hybrid_fuse(const char *method, double rrf_k, const attn_hybrid_part *parts, size_t n,
                     json_t **out, attn_error *err);

#endif
