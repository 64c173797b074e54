/*
 * bench_route.c - routing throughput: a synthetic history (attn synth,
 * loaded with the bundle loader into a temporary store), then every PR routed
 * at its created_at by each router, printing PRs/s per router and the peak
 * RSS. Targets (issue 4): stewards >= 5,000 PRs/s and path_similarity >= 200
 * PRs/s on one core over a 10,000-PR history.
 *
 *   bench_route [N_PRS [ROUTER...]]   default 10,000 PRs, every router
 *
 * Every registered router runs with its default config; stewards and
 * path_similarity run even when the registry does not list them yet. A
 * router whose defaults cannot be built here (e.g. a hybrid whose components
 * are not registered) is reported and skipped. Snapshots are read once,
 * before timing; the timed part is attn_router_route alone, measured in CPU
 * time (the process is single-threaded, so that is time on one core, and a
 * busy shared machine does not distort it); wall time is printed too.
 * Environment: BENCH_USERS (default 200), BENCH_DAYS (default 365),
 * BENCH_SEED (default 11), BENCH_KEEP=1 keeps the temporary directory,
 * BENCH_DIR=D uses (and keeps) D, reusing D/history.sqlite when it exists,
 * BENCH_SAMPLE=K routes only every K-th PR (quicker profiling runs).
 */
#include "history/asof.h"
#include "ingest/bundle.h"
#include "route/context.h"
#include "route/router.h"
#include "synth/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const attn_error *err)
{
    fprintf(stderr, "bench_route: %s: %s\n", what, err->msg);
    exit(1);
}

/* CPU time of this (single-threaded) process: the machine may be shared,
 * and the targets are per core. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : dflt;
}

typedef struct {
    int64_t number, created;
    json_t *snapshot;
} pr_case;

static int wanted(const char *name, int argc, char **argv)
{
    if (argc <= 2)
        return 1;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

static void run(const attn_router_def *def, const attn_route_ctx *ctx, const pr_case *prs,
                size_t n)
{
    attn_router *r = NULL;
    attn_error err;
    size_t nonempty = 0, cands = 0;
    double t0, t1, c0, c1;
    if (attn_router_new(def, NULL, NULL, ctx, &r, &err)) {
        printf("route.%s: skipped (%s)\n", def->name, err.msg);
        return;
    }
    t0 = now();
    c0 = cpu_now();
    for (size_t i = 0; i < n; i++) {
        attn_route_query q = {prs[i].number, prs[i].created, 10, prs[i].snapshot};
        json_t *out = NULL;
        size_t k;
        if (attn_router_route(r, ctx, &q, &out, &err))
            die(def->name, &err);
        k = json_array_size(json_object_get(out, "candidates"));
        nonempty += k > 0;
        cands += k;
        json_decref(out);
    }
    t1 = now();
    c1 = cpu_now();
    printf("route.%s: %zu PRs in %.2f s CPU = %.0f PRs/s per core (wall %.2f s); "
           "%.1f%% with candidates, %.1f per PR\n",
           def->name, n, c1 - c0, (double)n / (c1 - c0), t1 - t0,
           100.0 * (double)nonempty / (double)n, (double)cands / (double)n);
    fflush(stdout);
    attn_router_free(r);
}

int main(int argc, char **argv)
{
    long n_prs = argc > 1 ? atol(argv[1]) : 10000;
    char dir[256] = "/tmp/attn-bench-route-XXXXXX", path[300], db[300];
    attn_synth_opts o;
    attn_error err;
    attn_bundle_stats bst;
    attn_store *s = NULL;
    attn_route_env *env = NULL;
    const attn_route_ctx *ctx;
    json_t *bundle = NULL;
    pr_case *prs;
    size_t n = 0;
    sqlite3_stmt *st;
    double t0;

    const char *keep_dir = getenv("BENCH_DIR");
    long sample = env_long("BENCH_SAMPLE", 1);
    int reuse = 0;
    if (keep_dir) {
        snprintf(dir, sizeof(dir), "%s", keep_dir);
        snprintf(db, sizeof(db), "%s/history.sqlite", dir);
        reuse = access(db, F_OK) == 0;
    }
    if (n_prs <= 0 || sample <= 0 || (!keep_dir && !mkdtemp(dir))) {
        fprintf(stderr, "usage: bench_route [N_PRS > 0 [ROUTER...]]\n");
        return 2;
    }
    attn_synth_opts_init(&o);
    o.prs = n_prs;
    o.seed = (uint64_t)env_long("BENCH_SEED", 11);
    o.users = env_long("BENCH_USERS", 200);
    o.days = env_long("BENCH_DAYS", 365);
    snprintf(o.owner, sizeof(o.owner), "bench");
    snprintf(o.name, sizeof(o.name), "route");
    snprintf(path, sizeof(path), "%s/bundle.json", dir);
    snprintf(db, sizeof(db), "%s/history.sqlite", dir);

    t0 = now();
    if (reuse) {
        if (attn_store_open(db, &s, &err))
            die("open", &err);
        printf("history: reusing %s\n", db);
    } else {
        /* Built in a child process: loading the bundle holds the whole JSON
         * in memory (about 1 GiB for 10,000 PRs), which is not routing's
         * footprint, and the peak RSS printed below is this process's. */
        pid_t pid;
        int status = 0;
        fflush(stdout);
        if ((pid = fork()) < 0) {
            perror("bench_route: fork");
            return 1;
        }
        if (pid == 0) {
            if (attn_synth_write_file(&o, path, &err) ||
                attn_bundle_read(path, "bench/route", &bundle, &err))
                die("synth", &err);
            if (attn_store_open(db, &s, &err) || attn_bundle_apply(s, bundle, &bst, &err))
                die("load", &err);
            json_decref(bundle);
            attn_store_close(s);
            remove(path);
            printf("history: %ld PRs, %lld users, %lld reviews, %lld comments (%ld days, seed %ld), "
                   "built in %.1f s (peak RSS of the build %.1f MiB, in a child process)\n",
                   n_prs, (long long)bst.norm.users, (long long)bst.norm.reviews,
                   (long long)bst.norm.comments, (long)o.days, (long)o.seed, now() - t0,
                   peak_rss_mib());
            fflush(stdout);
            _exit(0);
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
            fprintf(stderr, "bench_route: building the history failed\n");
            return 1;
        }
        if (attn_store_open(db, &s, &err))
            die("open", &err);
    }

    t0 = now();
    if (attn_route_env_open(s, "bench/route", dir, &env, &err))
        die("context", &err);
    ctx = attn_route_env_ctx(env);
    {
        size_t ne;
        attn_activity_entries(ctx->activity, &ne);
        printf("activity index: %zu facts, %zu users, built in %.2f s (peak RSS so far %.1f MiB)\n",
               ne, attn_activity_user_count(ctx->activity), now() - t0, peak_rss_mib());
    }

    /* Snapshots at created_at, read once. */
    t0 = now();
    prs = calloc((size_t)n_prs + 1, sizeof(*prs));
    if (!prs || sqlite3_prepare_v2(attn_store_db(s),
                                   "SELECT number, created_at FROM pull_requests WHERE repo_id = ?1"
                                   " ORDER BY created_at, number",
                                   -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_route: listing PRs failed\n");
        return 1;
    }
    sqlite3_bind_int64(st, 1, ctx->repo_id);
    for (long row = 0; sqlite3_step(st) == SQLITE_ROW && n < (size_t)n_prs; row++) {
        if (row % sample)
            continue;
        prs[n].number = sqlite3_column_int64(st, 0);
        prs[n].created = sqlite3_column_int64(st, 1);
        if (attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, prs[n].number, prs[n].created,
                                         &prs[n].snapshot, &err))
            die("snapshot", &err);
        n++;
    }
    sqlite3_finalize(st);
    printf("snapshots: %zu in %.2f s (peak RSS so far %.1f MiB)\n", n, now() - t0,
           peak_rss_mib());

    {
        /* The registry, plus this branch's routers when it does not list them. */
        const attn_router_def *mine[] = {&attn_router_stewards, &attn_router_path_similarity};
        for (size_t i = 0; i < attn_router_count(); i++)
            if (wanted(attn_router_at(i)->name, argc, argv))
                run(attn_router_at(i), ctx, prs, n);
        for (size_t k = 0; k < sizeof(mine) / sizeof(mine[0]); k++) {
            const attn_router_def *d = NULL;
            attn_error ferr;
            if (attn_router_find(mine[k]->name, &d, &ferr) && wanted(mine[k]->name, argc, argv))
                run(mine[k], ctx, prs, n);
        }
    }
    printf("route.peak_rss: %.1f MiB\n", peak_rss_mib());

    for (size_t i = 0; i < n; i++)
        json_decref(prs[i].snapshot);
    free(prs);
    attn_route_env_free(env);
    attn_store_close(s);
    if (!getenv("BENCH_KEEP") && !keep_dir) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_route: could not remove %s\n", dir);
    } else {
        printf("kept %s\n", dir);
    }
    return 0;
}
