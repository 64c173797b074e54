/*
 * path_similarity.h - the file-list similarity of the `path_similarity`
 * router (route/path_similarity.c), exposed so it can be checked on its own.
 */
#ifndef ATTN_ROUTE_PATH_SIMILARITY_H
#define ATTN_ROUTE_PATH_SIMILARITY_H

#include <stddef.h>
#include "route/router.h"
#include "route/shortlist.h"

/* The comparison methods, in the order of the out[] array below. */
#define ATTN_PATHSIM_NMETHODS 4   /* lcp, lcsuffix, lcsubstr, lcsubseq */

/* RevFinder similarity of file lists F and G under each method:
 * out[m] = sum over f in F, g in G of m(f, g) / (|F| * |G|), with m(f, g) the
 * longest common prefix / suffix / substring / subsequence of the paths'
 * '/'-separated components divided by the longer path's component count.
 * Empty lists (or paths without components) give 0. */
void attn_path_similarity(const char *const *f, size_t nf, const char *const *g, size_t ng,
                          double out[ATTN_PATHSIM_NMETHODS]);

/* The router's scores for q without its result: what its route would rank,
 * before router.c's rules, but no evidence, no shortlist and no JSON (the
 * learned features read only the scores; features.c applies the rules).
 * state is one made by attn_router_path_similarity.init. *rows are the
 * users (activity index) with a score > 0, in no particular order, borrowed
 * until the state's next use; none when the PR has no changed files. */
int attn_path_similarity_scores(void *state, const attn_route_ctx *ctx,
                                const attn_route_query *q, const attn_shortlist_row **rows,
                                size_t *n, attn_error *err);

#endif
