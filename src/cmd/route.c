/*
 * route.c - `attn route --repo O/R --pr N [--as-of T] [--router R]...
 *            [--config FILE | --config R=FILE]... [--top-k K] [--list]`.
 *
 * Ranks candidate reviewers for one PR at a cutoff (default: its created_at)
 * with each named router (default: every built-in), printing the result
 * (router.h) as pretty JSON with sorted keys; several routers print an array
 * in the order given. --config FILE applies to the only router named;
 * R=FILE to router R. --list prints the routers with their versions and
 * default configs. Read-only: never writes to the store.
 * Exit 2: bad usage, unknown router, bad config; 1: unknown PR, no store.
 */
#include "cmd/cmd.h"
#include "route/context.h"
#include "route/router.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn route --repo OWNER/NAME --pr N [--as-of T] [--router R]... [--config [R=]FILE]... "
    "[--top-k K] [--list] [--json] [--data-dir DIR]";

enum { OPT_PR = 300, OPT_AS_OF, OPT_ROUTER, OPT_CONFIG, OPT_TOP_K, OPT_LIST };

#define MAX_ROUTERS 32

struct route_opts {
    const char *pr, *as_of, *top_k;
    const char *routers[MAX_ROUTERS];
    size_t n_routers;
    const char *configs[MAX_ROUTERS];
    size_t n_configs;
    int list;
    int too_many;
};

static int route_opt(void *ctx, int opt, const char *arg)
{
    struct route_opts *o = ctx;
    switch (opt) {
    case OPT_PR: o->pr = arg; return 0;
    case OPT_AS_OF: o->as_of = arg; return 0;
    case OPT_TOP_K: o->top_k = arg; return 0;
    case OPT_LIST: o->list = 1; return 0;
    case OPT_ROUTER:
        if (o->n_routers == MAX_ROUTERS)
            o->too_many = 1;
        else
            o->routers[o->n_routers++] = arg;
        return 0;
    case OPT_CONFIG:
        if (o->n_configs == MAX_ROUTERS)
            o->too_many = 1;
        else
            o->configs[o->n_configs++] = arg;
        return 0;
    }
    return -1;
}

static int parse_positive(const char *s, const char *what, int64_t max, int64_t *out,
                          attn_error *err)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v <= 0 || v > max)
        return attn_error_set(err, ATTN_EINVAL, "%s '%s' is not a whole number from 1 to %lld",
                              what, s, (long long)max);
    *out = v;
    return 0;
}

static int list_routers(int json)
{
    json_t *arr = json_array();
    attn_error err;
    for (size_t i = 0; i < attn_router_count(); i++) {
        const attn_router_def *d = attn_router_at(i);
        json_t *cfg = NULL;
        attn_error_clear(&err);
        if (attn_json_parse(d->default_config, strlen(d->default_config), d->name, &cfg, &err))
            return attn_cli_fail(&err);
        if (!json)
            printf("%-16s %-22s %s\n", d->name, d->version, d->summary);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "name", d->name, "version",
                                             d->version, "summary", d->summary,
                                             "default_config", cfg));
    }
    if (json)
        attn_cli_print_json(arr);
    else
        json_decref(arr);
    return 0;
}

/* The config file for router name: "name=FILE", or a bare FILE when exactly
 * one router is named. */
static int config_for(const struct route_opts *o, const char *name, const char **path,
                      attn_error *err)
{
    *path = NULL;
    for (size_t i = 0; i < o->n_configs; i++) {
        const char *c = o->configs[i], *eq = strchr(c, '=');
        if (eq) {
            if (strlen(name) == (size_t)(eq - c) && !strncmp(c, name, eq - c))
                *path = eq + 1;
        } else if (o->n_routers == 1) {
            *path = c;
        } else {
            return attn_error_set(err, ATTN_EINVAL,
                                  "--config %s: name the router (--config ROUTER=FILE) when "
                                  "routing with several",
                                  c);
        }
    }
    return 0;
}

static int check_config_names(const struct route_opts *o, const char **names, size_t n,
                              attn_error *err)
{
    for (size_t i = 0; i < o->n_configs; i++) {
        const char *c = o->configs[i], *eq = strchr(c, '=');
        int found = 0;
        if (!eq)
            continue;
        for (size_t j = 0; j < n; j++)
            found |= strlen(names[j]) == (size_t)(eq - c) && !strncmp(c, names[j], eq - c);
        if (!found)
            return attn_error_set(err, ATTN_EINVAL, "--config %s names a router that is not routed",
                                  c);
    }
    return 0;
}

/* What an evidence list says, in a few words: the kinds, and for a
 * fusion ("hybrid") the parts it fused with their weights. */
static void evidence_text(const json_t *ev, attn_buf *b)
{
    size_t i;
    json_t *e;
    json_array_foreach(ev, i, e) {
        const json_t *parts = json_object_get(json_object_get(e, "data"), "parts");
        const char *k;
        json_t *w;
        if (json_object_size(parts)) {
            json_object_foreach((json_t *)parts, k, w)
                attn_buf_printf(b, "%s%s %.3g", b->len ? ", " : "", k, json_number_value(w));
        } else if (attn_json_str(e, "kind") &&
                   (!b->len || !strstr(attn_buf_cstr(b), attn_json_str(e, "kind")))) {
            attn_buf_printf(b, "%s%s", b->len ? ", " : "", attn_json_str(e, "kind"));
        }
    }
}

/* One router's result as a table (the default output; --json for all of it). */
static void print_table(const json_t *r, int gap)
{
    size_t i;
    json_t *c, *x;
    printf("%s%s (%s) for %s#%lld as of %s: risk %s, confidence %s\n", gap ? "\n" : "",
           attn_json_str(r, "router"), attn_json_str(r, "router_version"),
           attn_json_str(r, "repo"), (long long)attn_json_i64(r, "pr_number", 0),
           attn_json_str(r, "as_of"), attn_json_str(r, "risk") ? attn_json_str(r, "risk") : "-",
           attn_json_str(r, "confidence") ? attn_json_str(r, "confidence") : "-");
    if (!json_array_size(json_object_get(r, "candidates"))) {
        printf("  (no candidates)\n");
    } else {
        printf("%4s  %-24s %9s  %s\n", "rank", "candidate", "score", "evidence");
        json_array_foreach(json_object_get(r, "candidates"), i, c) {
            const json_t *t = json_object_get(c, "target");
            const char *type = attn_json_str(t, "type");
            attn_buf b = ATTN_BUF_INIT;
            char name[300], score[32];
            snprintf(name, sizeof(name), "%s%s%s", attn_json_str(t, "name"),
                     type && strcmp(type, "user") ? " " : "",
                     type && strcmp(type, "user") ? type : "");
            evidence_text(json_object_get(c, "evidence"), &b);
            printf("%4zu  %-24s %9s  %s\n", i + 1, name,
                   attn_cli_cell(score, sizeof(score), json_object_get(c, "score"), 9, 3),
                   b.len ? attn_buf_cstr(&b) : "");
            attn_buf_free(&b);
        }
    }
    json_array_foreach(json_object_get(r, "notes"), i, x)
        if (json_is_string(x) && strncmp(json_string_value(x), "weights_hash=", 13))
            printf("  note: %s\n", json_string_value(x));
}

int cmd_route(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"pr", required_argument, NULL, OPT_PR},
        {"as-of", required_argument, NULL, OPT_AS_OF},
        {"router", required_argument, NULL, OPT_ROUTER},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"top-k", required_argument, NULL, OPT_TOP_K},
        {"list", no_argument, NULL, OPT_LIST},
        {NULL, 0, NULL, 0}};
    struct route_opts o;
    attn_cli cli;
    attn_error err;
    attn_store *s = NULL;
    attn_route_env *env = NULL;
    attn_router *routers[MAX_ROUTERS] = {0};
    const char *names[MAX_ROUTERS];
    size_t n = 0;
    json_t *snap = NULL, *results = NULL;
    char path[4200], repo_dir[4200];
    int64_t number = 0, as_of = ATTN_NULL_I64, top_k = 5;
    int rc;

    memset(&o, 0, sizeof(o));
    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 0, &cli, route_opt, &o, NULL)) >= 0)
        return rc;
    if (o.too_many)
        return attn_cli_usage(USAGE, "at most %d --router and --config options", MAX_ROUTERS);
    if (o.list)
        return list_routers(cli.json);
    if (!cli.repo)
        return attn_cli_usage(USAGE, "--repo OWNER/NAME is required");
    if (!o.pr)
        return attn_cli_usage(USAGE, "--pr N is required");
    if (parse_positive(o.pr, "--pr", INT64_MAX, &number, &err) ||
        (o.top_k && parse_positive(o.top_k, "--top-k", 1000, &top_k, &err)))
        return attn_cli_fail(&err);
    if (o.as_of && attn_time_parse(o.as_of, &as_of, &err)) {
        attn_error_wrap(&err, "--as-of");
        return attn_cli_fail(&err);
    }
    if (o.n_routers) {
        for (size_t i = 0; i < o.n_routers; i++)
            names[n++] = o.routers[i];
    } else {
        for (size_t i = 0; i < attn_router_count(); i++)
            if (!attn_router_opt_in(attn_router_at(i)))
                names[n++] = attn_router_at(i)->name;
    }
    for (size_t i = 0; i < n; i++) {
        const attn_router_def *d;
        if (attn_router_find(names[i], &d, &err))
            return attn_cli_fail(&err);
    }
    if (check_config_names(&o, names, n, &err))
        return attn_cli_fail(&err);
    if (attn_cli_db_path(&cli, path, sizeof(path), &err) ||
        attn_path_repo_dir(cli.data_dir, cli.repo, repo_dir, sizeof(repo_dir), &err) ||
        attn_store_open_readonly(path, &s, &err))
        return attn_cli_fail(&err);
    if ((rc = attn_route_env_open(s, cli.repo, repo_dir, &env, &err)))
        goto out;
    {
        const attn_route_ctx *ctx = attn_route_env_ctx(env);
        if (as_of == ATTN_NULL_I64 &&
            (rc = attn_asof_reader_pr_created_at(ctx->reader, ctx->repo_id, number, &as_of, &err)))
            goto out;
        if ((rc = attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, number, as_of, &snap,
                                               &err)))
            goto out;
        for (size_t i = 0; i < n; i++) {
            const attn_router_def *d;
            const char *cfg;
            attn_router_find(names[i], &d, &err);
            if ((rc = config_for(&o, names[i], &cfg, &err)) ||
                (rc = attn_router_new_from_file(d, cfg, ctx, &routers[i], &err)))
                goto out;
        }
        results = attn_xcheck(json_array());
        for (size_t i = 0; i < n; i++) {
            attn_route_query q = {number, as_of, (int)top_k, snap};
            json_t *res;
            if ((rc = attn_router_route(routers[i], ctx, &q, &res, &err)))
                goto out;
            json_array_append_new(results, res);
        }
    }
    {
        json_t *shown = n == 1 ? json_incref(json_array_get(results, 0)) : json_incref(results);
        if (cli.json) {
            attn_cli_print_json(shown);
        } else if (!cli.quiet) {
            size_t i;
            json_t *r;
            json_array_foreach(results, i, r)
                print_table(r, i > 0);
            json_decref(shown);
        } else {
            json_decref(shown);
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        attn_router_free(routers[i]);
    json_decref(results);
    json_decref(snap);
    attn_route_env_free(env);
    attn_store_close(s);
    if (rc) {
        if (rc == ATTN_ENOTFOUND)
            attn_error_wrap(&err, "%s", cli.repo);
        return attn_cli_fail(&err);
    }
    return 0;
}
