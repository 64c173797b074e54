/*
 * baselines.c - helpers shared by the baseline routers (see baselines.h).
 *
 * Owns only glue: config type/range checks with messages naming the key, the
 * "org/slug" team form, roster look-ups at an explicit instant. Must never
 * hold state or read anything but its arguments.
 */
#include "route/baselines.h"
#include "util/num.h"
#include "util/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const json_t *attn_bl_get(const json_t *cfg, const char *path)
{
    const json_t *v = cfg;
    const char *p = path;
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (!json_is_object(v) || n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        p += n + (dot ? 1 : 0);
    }
    return v;
}

int attn_bl_number(const json_t *cfg, const char *router, const char *path, double lo,
                   int lo_open, double hi, double *out, attn_error *err)
{
    const json_t *v = attn_bl_get(cfg, path);
    double x;
    if (!v || !json_is_number(v))
        return attn_error_set(err, ATTN_EINVAL, "%s config: %s must be a number", router, path);
    x = json_number_value(v);
    if (!isfinite(x) || (lo_open ? !(x > lo) : !(x >= lo)) || !(x <= hi)) {
        if (isinf(hi))
            return attn_error_set(err, ATTN_EINVAL, "%s config: %s must be %s %g", router, path,
                                  lo_open ? ">" : ">=", lo);
        return attn_error_set(err, ATTN_EINVAL, "%s config: %s must be %s %g and <= %g", router,
                              path, lo_open ? ">" : ">=", lo, hi);
    }
    *out = x;
    return 0;
}

int attn_bl_bool(const json_t *cfg, const char *router, const char *path, int *out,
                 attn_error *err)
{
    const json_t *v = attn_bl_get(cfg, path);
    if (!v || !json_is_boolean(v))
        return attn_error_set(err, ATTN_EINVAL, "%s config: %s must be true or false", router,
                              path);
    *out = json_is_true(v);
    return 0;
}

void attn_bl_team_name(const char *repo, const char *team, attn_buf *out)
{
    attn_buf_clear(out);
    if (team[0] == '@')
        team++;
    if (!strchr(team, '/')) {
        const char *slash = repo ? strchr(repo, '/') : NULL;
        if (slash && slash > repo) {
            attn_buf_put(out, repo, (size_t)(slash - repo));
            attn_buf_putc(out, '/');
        }
    }
    attn_buf_puts(out, team);
}

void attn_bl_team_members(const attn_roster *roster, const char *team, int64_t t,
                          const char ***out, size_t *n)
{
    size_t total, got;
    *out = NULL;
    *n = 0;
    if (!roster)
        return;
    total = attn_roster_members(roster, team, t, NULL, 0);
    if (!total)
        return;
    *out = attn_xcalloc(total, sizeof(**out));
    got = attn_roster_members(roster, team, t, *out, total);
    *n = got < total ? got : total;
}

int attn_bl_leak_has(const json_t *snapshot, const char *name)
{
    const json_t *arr = json_object_get(snapshot, "leak_risk");
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), name))
            return 1;
    }
    return 0;
}

double attn_bl_round12(double x) { return isfinite(x) ? attn_round_sig(x, 12) : x; }

int attn_bl_excluded(const attn_route_ctx *ctx, const json_t *snapshot, const char *type,
                     const char *name)
{
    const char *author = json_string_value(json_object_get(snapshot, "author"));
    long u;
    if (strcmp(type, "user"))
        return 0;
    if ((author && !strcasecmp(author, name)) || attn_is_bot(name, NULL))
        return 1;
    return ctx->activity && (u = attn_activity_find_login(ctx->activity, name)) >= 0 &&
           attn_activity_user_is_bot(ctx->activity, (size_t)u);
}

size_t attn_bl_survivors(attn_route_result *res, const attn_route_ctx *ctx,
                         const json_t *snapshot, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < attn_result_count(res); i++) {
        attn_cand *c = attn_result_at(res, i);
        if ((!type || !strcmp(attn_cand_type(c), type)) && attn_cand_score(c) > 0 &&
            !attn_bl_excluded(ctx, snapshot, attn_cand_type(c), attn_cand_name(c)))
            n++;
    }
    return n;
}
