/*
 * bench_learned.c - the learned router's costs (issue 15 targets): training
 * on 5,000 PRs in under 10 s, and features plus prediction at >= 2,000 PRs/s
 * with up to 30 candidates each, over a synthetic history (attn synth).
 *
 *   bench_learned [N_PRS]     default 6,000 PRs: the first 5,000 (by creation)
 *                             train the model, the rest are routed with it
 *
 * Times are CPU time of this single-threaded process (XGBoost runs with one
 * thread), so a busy shared machine does not distort them; wall time is
 * printed too. Environment: BENCH_USERS (default 60: a team-sized pool, so
 * most PRs have about 30 candidates), BENCH_DAYS (730), BENCH_SEED (11),
 * BENCH_TRAIN (5000), BENCH_KEEP=1 keeps the temporary directory,
 * BENCH_HISTORY=DIR reuses the history a kept directory holds (for profiling:
 * building it is most of a run; the other settings must match it),
 * BENCH_DUMP=FILE writes every routed PR's candidates and feature values
 * (text, exact float bits) so two builds can be compared byte for byte.
 */
#include "eval/learn.h"
#include "ingest/bundle.h"
#include "route/context.h"
#include "route/features.h"
#include "route/router.h"
#include "synth/synth.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double clock_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#define NOW() clock_of(CLOCK_MONOTONIC)
#define CPU() clock_of(CLOCK_PROCESS_CPUTIME_ID)

static void die(const char *what, const attn_error *err)
{
    fprintf(stderr, "bench_learned: %s: %s\n", what, err->msg);
    exit(1);
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : dflt;
}

static void build_history(const attn_synth_opts *o, const char *dir, const char *db)
{
    char path[400];
    pid_t pid;
    int status = 0;
    snprintf(path, sizeof(path), "%s/bundle.json", dir);
    fflush(stdout);
    if ((pid = fork()) < 0) {
        perror("bench_learned: fork");
        exit(1);
    }
    if (pid == 0) {
        attn_error err;
        attn_bundle_stats bst;
        attn_store *s = NULL;
        json_t *bundle = NULL;
        if (attn_synth_write_file(o, path, &err) ||
            attn_bundle_read(path, "bench/learned", &bundle, &err))
            die("synth", &err);
        if (attn_store_open(db, &s, &err) || attn_bundle_apply(s, bundle, &bst, &err))
            die("load", &err);
        json_decref(bundle);
        attn_store_close(s);
        remove(path);
        printf("history: %ld PRs, %lld users, %lld reviews (%ld days, seed %ld)\n", o->prs,
               (long long)bst.norm.users, (long long)bst.norm.reviews, (long)o->days, (long)o->seed);
        fflush(stdout);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "bench_learned: building the history failed\n");
        exit(1);
    }
}

/* Creation times of the PRs, in order. */
static int64_t *created_times(attn_store *s, int64_t repo_id, size_t *n, int64_t **numbers)
{
    sqlite3_stmt *st;
    size_t cap = 1024;
    int64_t *t = malloc(cap * sizeof(*t)), *num = malloc(cap * sizeof(*num));
    *n = 0;
    if (sqlite3_prepare_v2(attn_store_db(s), "SELECT number, created_at FROM pull_requests "
                                             "WHERE repo_id = ? ORDER BY created_at, number",
                           -1, &st, NULL) != SQLITE_OK)
        exit(1);
    sqlite3_bind_int64(st, 1, repo_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            t = realloc(t, cap * sizeof(*t));
            num = realloc(num, cap * sizeof(*num));
        }
        num[*n] = sqlite3_column_int64(st, 0);
        t[(*n)++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    *numbers = num;
    return t;
}

static void route_rest(const attn_route_ctx *ctx, const char *model, const int64_t *num,
                       const int64_t *created, size_t first, size_t n)
{
    attn_router *r = NULL;
    attn_error err;
    json_t *cfg = json_pack("{s:s, s:i}", "model", model, "explain_top",
                            (int)env_long("BENCH_EXPLAIN", 3)), **snaps;
    attn_features *fe = NULL;
    size_t cands = 0, with30 = 0, count = n - first;
    FILE *dump;
    double c0, w0, c_feat, c_route;
    if (attn_router_new(&attn_router_learned, cfg, "bench", ctx, &r, &err) ||
        attn_features_new(ctx, 30, &fe, &err))
        die("router", &err);
    json_decref(cfg);
    snaps = calloc(count, sizeof(*snaps));
    for (size_t i = first; i < n; i++)
        if (attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, num[i], created[i],
                                         &snaps[i - first], &err))
            die("snapshot", &err);
    dump = getenv("BENCH_DUMP") && *getenv("BENCH_DUMP") ? fopen(getenv("BENCH_DUMP"), "w") : NULL;
    c0 = CPU();
    for (size_t i = first; i < n; i++) {
        attn_route_query q = {num[i], created[i], 10, snaps[i - first]};
        attn_feat_set fs;
        if (attn_features_compute(fe, ctx, &q, &fs, &err))
            die("features", &err);
        for (size_t j = 0; dump && j < fs.n; j++) {
            fprintf(dump, "#%lld %s", (long long)num[i], fs.login[j]);
            for (size_t k = 0; k < ATTN_FEAT_N; k++)
                fprintf(dump, " %a", (double)fs.x[j * ATTN_FEAT_N + k]);
            fputc('\n', dump);
        }
        cands += fs.n;
        with30 += fs.n >= 30;
        attn_feat_set_free(&fs);
    }
    c_feat = CPU() - c0;
    if (dump)
        fclose(dump);
    c0 = CPU();
    w0 = NOW();
    for (size_t i = first; i < n; i++) {
        attn_route_query q = {num[i], created[i], 10, snaps[i - first]};
        json_t *out = NULL;
        if (attn_router_route(r, ctx, &q, &out, &err))
            die("route", &err);
        json_decref(out);
    }
    c_route = CPU() - c0;
    printf("learned.features: %zu PRs in %.2f s CPU = %.0f PRs/s per core; %.1f candidates per "
           "PR (%.0f%% with 30)\n",
           count, c_feat, (double)count / c_feat, (double)cands / (double)count,
           100.0 * (double)with30 / (double)count);
    printf("learned.route (features + prediction + contributions + result JSON): %zu PRs in "
           "%.2f s CPU = %.0f PRs/s per core (wall %.2f s); target >= 2,000\n",
           count, c_route, (double)count / c_route, NOW() - w0);
    for (size_t i = 0; i < count; i++)
        json_decref(snaps[i]);
    free(snaps);
    attn_features_free(fe);
    attn_router_free(r);
}

int main(int argc, char **argv)
{
    long n_prs = argc > 1 ? atol(argv[1]) : 6000, n_train = env_long("BENCH_TRAIN", 5000);
    char dir[256] = "/tmp/attn-bench-learned-XXXXXX", db[300], model[300];
    attn_synth_opts o;
    attn_error err;
    attn_store *s = NULL;
    attn_route_env *env = NULL;
    attn_truth_ctx *truth = NULL;
    attn_truth_policy tp;
    attn_cutoff_policy cp;
    attn_learn_opts lo;
    json_t *file = NULL;
    int64_t *created, *num;
    size_t n;
    double c0, w0;

    if (getenv("BENCH_HISTORY") && *getenv("BENCH_HISTORY"))
        snprintf(dir, sizeof(dir), "%s", getenv("BENCH_HISTORY"));
    else if (n_prs > n_train && !mkdtemp(dir))
        n_prs = 0;
    if (n_prs <= n_train) {
        fprintf(stderr, "usage: bench_learned [N_PRS > BENCH_TRAIN (5000)]\n");
        return 2;
    }
    attn_synth_opts_init(&o);
    o.prs = n_prs;
    o.seed = (uint64_t)env_long("BENCH_SEED", 11);
    o.users = env_long("BENCH_USERS", 60);
    o.days = env_long("BENCH_DAYS", 730);
    snprintf(o.owner, sizeof(o.owner), "bench");
    snprintf(o.name, sizeof(o.name), "learned");
    snprintf(db, sizeof(db), "%s/history.sqlite", dir);
    snprintf(model, sizeof(model), "%s/model.json", dir);
    if (!getenv("BENCH_HISTORY") || !*getenv("BENCH_HISTORY"))
        build_history(&o, dir, db);
    if (attn_store_open(db, &s, &err) || attn_route_env_open(s, "bench/learned", dir, &env, &err) ||
        attn_truth_ctx_open(s, attn_route_env_ctx(env)->repo_id, &truth, &err) ||
        attn_truth_policy_parse("reviewers_until_close", &tp, &err) ||
        attn_cutoff_policy_parse("created_at", &cp, &err))
        die("open", &err);
    created = created_times(s, attn_route_env_ctx(env)->repo_id, &n, &num);
    if (n <= (size_t)n_train) {
        fprintf(stderr, "bench_learned: only %zu PRs\n", n);
        return 1;
    }
    attn_learn_opts_init(&lo);
    lo.from = created[0];
    lo.until = created[n_train];
    lo.truth = &tp;
    lo.cutoff = &cp;
    c0 = CPU();
    w0 = NOW();
    if (attn_learn_train(attn_route_env_ctx(env), truth, &lo, &file, &err) ||
        attn_lmodel_write(model, file, &err))
        die("train", &err);
    {
        const json_t *t = json_object_get(file, "training");
        printf("learned.train: %ld PRs in the window, %lld examples, %lld rows, %d rounds: "
               "%.2f s CPU (wall %.2f s); target < 10 s\n",
               n_train, (long long)attn_json_i64(t, "examples", 0),
               (long long)attn_json_i64(t, "rows", 0), lo.params.rounds, CPU() - c0, NOW() - w0);
    }
    json_decref(file);
    route_rest(attn_route_env_ctx(env), model, num, created, (size_t)n_train, n);
    free(created);
    free(num);
    attn_truth_ctx_free(truth);
    attn_route_env_free(env);
    attn_store_close(s);
    if (!getenv("BENCH_KEEP") && !getenv("BENCH_HISTORY")) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_learned: could not remove %s\n", dir);
    }
    return 0;
}
