/*
 * baselines.h - small helpers shared by the baseline routers (mentions,
 * review_requests, codeowners, popularity): typed config access with messages
 * that name the key, team names, and roster expansion.
 *
 * Nothing here keeps state or reads the store; the roster is queried only at
 * the instant the caller passes (the cutoff).
 */
#ifndef ATTN_ROUTE_BASELINES_H
#define ATTN_ROUTE_BASELINES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "ownership/roster.h"
#include "route/router.h"
#include "util/buf.h"
#include "util/error.h"

/* The value at a dotted path ("weights.review") of a config object, or NULL. */
const json_t *attn_bl_get(const json_t *cfg, const char *path);

/* A number at path with lo <= v <= hi (lo_open: lo < v). Errors (ATTN_EINVAL)
 * read "<router> config: <path> must be ...". */
int attn_bl_number(const json_t *cfg, const char *router, const char *path, double lo,
                   int lo_open, double hi, double *out, attn_error *err);
/* A boolean at path. */
int attn_bl_bool(const json_t *cfg, const char *router, const char *path, int *out,
                 attn_error *err);

/* "org/slug" for a team as a snapshot or file names it: a leading '@' is
 * dropped and a bare slug is qualified with the owner part of repo
 * ("owner/name"). out is replaced. */
void attn_bl_team_name(const char *repo, const char *team, attn_buf *out);

/* Members of team valid at t, in the roster's (login) order, as a malloc'd
 * array of borrowed strings (free the array only). *n = 0 and *out = NULL
 * for an unknown team or a NULL roster. */
void attn_bl_team_members(const attn_roster *roster, const char *team, int64_t t,
                          const char ***out, size_t *n);

/* Whether router.c's first rule will remove the candidate (the PR's author,
 * a bot), so a router can set its risk on what will survive. survivors()
 * counts the candidates of res, of type (NULL: any), that will. */
int attn_bl_excluded(const attn_route_ctx *ctx, const json_t *snapshot, const char *type,
                     const char *name);
size_t attn_bl_survivors(attn_route_result *res, const attn_route_ctx *ctx,
                         const json_t *snapshot, const char *type);

/* x rounded to 12 significant digits, as router.c rounds scores, so evidence
 * figures do not depend on the last bits of summation order. */
double attn_bl_round12(double x);

/* True when the snapshot's leak_risk list holds name. */
int attn_bl_leak_has(const json_t *snapshot, const char *name);

#endif
