/*
 * bench_route_baselines.c - routing cost of the baseline routers (mentions,
 * review_requests, codeowners, popularity) on a synthetic history: every PR
 * routed at its created_at, PRs per second per router (snapshots built once,
 * outside the timing), plus the @mention scanner's throughput.
 *
 *   bench_route_baselines [N_PRS]      default 2,000
 */
#include "ingest/bundle.h"
#include "route/context.h"
#include "route/mentions.h"
#include "route/router.h"
#include "store/pinned.h"
#include "synth/synth.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPO "bench/route"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const attn_error *err)
{
    fprintf(stderr, "bench_route_baselines: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

int main(int argc, char **argv)
{
    long n_prs = argc > 1 ? atol(argv[1]) : 2000;
    char dir[] = "/tmp/attn-bench-route-XXXXXX", path[512], num[32];
    const attn_router_def *defs[] = {&attn_router_mentions, &attn_router_review_requests,
                                     &attn_router_codeowners, &attn_router_popularity};
    attn_synth_opts o;
    attn_error err;
    attn_bundle_stats st;
    attn_store *s;
    attn_route_env *env;
    const attn_route_ctx *ctx;
    json_t *bundle, **snaps, *text;
    int64_t *numbers, *cutoffs;
    size_t n = 0;
    const char *sha;
    sqlite3_stmt *q;
    double t0;

    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    attn_synth_opts_init(&o);
    snprintf(num, sizeof(num), "%ld", n_prs);
    if (attn_synth_opts_set(&o, "prs", num, &err) || attn_synth_opts_set(&o, "repo", REPO, &err))
        die("synth options", &err);
    snprintf(path, sizeof(path), "%s/bundle.json", dir);
    if (attn_synth_write_file(&o, path, &err) || attn_bundle_read(path, REPO, &bundle, &err))
        die("synth", &err);
    snprintf(path, sizeof(path), "%s/history.sqlite", dir);
    if (attn_store_open(path, &s, &err) || attn_bundle_apply(s, bundle, &st, &err))
        die("load", &err);
    json_object_foreach(json_object_get(bundle, "codeowners"), sha, text) {
        attn_pinned_file f = {".github/CODEOWNERS", json_string_value(text),
                              json_string_length(text)};
        if (attn_pinned_write(dir, sha, "bundle", &f, 1, &err))
            die("pin", &err);
    }
    json_decref(bundle);
    t0 = now();
    if (attn_route_env_open(s, REPO, dir, &env, &err))
        die("context", &err);
    printf("context (activity index etc.): %.3f s\n", now() - t0);
    ctx = attn_route_env_ctx(env);

    snaps = calloc((size_t)n_prs, sizeof(*snaps));
    numbers = calloc((size_t)n_prs, sizeof(*numbers));
    cutoffs = calloc((size_t)n_prs, sizeof(*cutoffs));
    sqlite3_prepare_v2(attn_store_db(s),
                       "SELECT number, created_at FROM pull_requests ORDER BY number", -1, &q,
                       NULL);
    t0 = now();
    while (sqlite3_step(q) == SQLITE_ROW && n < (size_t)n_prs) {
        numbers[n] = sqlite3_column_int64(q, 0);
        cutoffs[n] = sqlite3_column_int64(q, 1);
        if (attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, numbers[n], cutoffs[n],
                                         &snaps[n], &err))
            die("snapshot", &err);
        n++;
    }
    sqlite3_finalize(q);
    printf("snapshots: %zu PRs in %.3f s\n", n, now() - t0);

    for (size_t r = 0; r < sizeof(defs) / sizeof(defs[0]); r++) {
        attn_router *rt;
        size_t nonempty = 0;
        if (attn_router_new(defs[r], NULL, NULL, ctx, &rt, &err))
            die("router", &err);
        t0 = now();
        for (size_t i = 0; i < n; i++) {
            attn_route_query rq = {numbers[i], cutoffs[i], 10, snaps[i]};
            json_t *out;
            if (attn_router_route(rt, ctx, &rq, &out, &err))
                die("route", &err);
            nonempty += json_array_size(json_object_get(out, "candidates")) > 0;
            json_decref(out);
        }
        double dt = now() - t0;
        printf("%-16s %8.0f PRs/s  (%zu PRs, %.3f s, %zu non-empty)\n", defs[r]->name,
               (double)n / dt, n, dt, nonempty);
        attn_router_free(rt);
    }

    {
        attn_buf body = ATTN_BUF_INIT;
        json_t *list;
        int reps = 200;
        for (int i = 0; i < 400; i++)
            attn_buf_printf(&body, "Line %d: cc @user%d, see `code @x` and a@b.com\n"
                                   "> quoted @q%d\n", i, i % 50, i);
        t0 = now();
        for (int i = 0; i < reps; i++) {
            list = json_array();
            attn_mentions_extract(body.ptr, body.len, ATTN_MENTIONS_BODY, "body", list, &err);
            json_decref(list);
        }
        printf("mention scanner: %.1f MB/s (%zu-byte body, 50 distinct mentions)\n",
               (double)body.len * reps / (now() - t0) / 1e6, body.len);
        attn_buf_free(&body);
    }

    for (size_t i = 0; i < n; i++)
        json_decref(snaps[i]);
    free(snaps);
    free(numbers);
    free(cutoffs);
    attn_route_env_free(env);
    attn_store_close(s);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0)
        return 1;
    return 0;
}
