/*
 * bench_activity.c - the activity index (history/activity.h) on a synthetic
 * history: build time and memory, decayed sums per second, and the cost of
 * the candidate sweep a router does per PR (every user: total + 5 path sums).
 * Target: a 10,000-PR history well under 300 MB in total.
 *
 *   bench_activity [N_PRS]      default 10,000
 *
 * Environment: BENCH_USERS humans in the synthetic repo (default 40);
 * BENCH_STORE an existing history.sqlite of repo bench/act to reuse (skips
 * synth + load). The synthetic store is written by a child process so the
 * peak RSS reported is the index build's and the queries', not the loader's.
 */
#include "history/activity.h"
#include "ingest/bundle.h"
#include "store/store.h"
#include "synth/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPO "bench/act"
#define DAY 86400
#define MAX_PATHS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const attn_error *err)
{
    fprintf(stderr, "bench_activity: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static double rss_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

static double peak_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* Synthesize and load in a child process (the loader's memory stays there). */
static void make_store(const char *dir, const char *db, long prs, const char *users)
{
    char bundle_path[1024], num[32];
    double t0 = now();
    int status = 0;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        attn_synth_opts o;
        attn_error err;
        attn_store *s = NULL;
        json_t *bundle = NULL;
        attn_bundle_stats st;
        attn_synth_opts_init(&o);
        snprintf(num, sizeof(num), "%ld", prs);
        if (attn_synth_opts_set(&o, "prs", num, &err) || attn_synth_opts_set(&o, "seed", "11", &err) ||
            attn_synth_opts_set(&o, "repo", REPO, &err) ||
            (users && attn_synth_opts_set(&o, "users", users, &err)))
            die("synth options", &err);
        snprintf(bundle_path, sizeof(bundle_path), "%s/bundle.json", dir);
        if (attn_synth_write_file(&o, bundle_path, &err))
            die("synth", &err);
        if (attn_bundle_read(bundle_path, REPO, &bundle, &err))
            die("bundle", &err);
        if (attn_store_open(db, &s, &err) || attn_bundle_apply(s, bundle, &st, &err))
            die("load", &err);
        json_decref(bundle);
        attn_store_close(s);
        unlink(bundle_path);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
        die("synth + load child", NULL);
    printf("synth + load of %ld PRs (child process): %.1f s\n", prs, now() - t0);
}

typedef struct {
    int64_t id, created_at;
    int n;
    char *paths[MAX_PATHS];
} pr_info;

static int cmp_pr(const void *x, const void *y)
{
    int64_t p = ((const pr_info *)x)->id, q = ((const pr_info *)y)->id;
    return p < q ? -1 : p > q;
}

/* Each PR's creation time and up to 5 distinct paths from its stored files
 * (any head: the bench needs realistic paths, not as-of ones). */
static pr_info *load_prs(attn_store *s, int64_t repo_id, size_t *n_out)
{
    static const char SQL_PRS[] =
        "SELECT id, created_at FROM pull_requests WHERE repo_id = ?1 ORDER BY id";
    static const char SQL_FILES[] =
        "SELECT DISTINCT pull_request_id, path FROM pull_request_files WHERE repo_id = ?1"
        " ORDER BY pull_request_id, path";
    sqlite3 *db = attn_store_db(s);
    sqlite3_stmt *st;
    pr_info *v = NULL, key;
    size_t n = 0, cap = 0;
    if (sqlite3_prepare_v2(db, SQL_PRS, -1, &st, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(db), NULL);
    sqlite3_bind_int64(st, 1, repo_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            if (!(v = realloc(v, cap * sizeof(*v))))
                die("out of memory", NULL);
        }
        v[n].id = sqlite3_column_int64(st, 0);
        v[n].created_at = sqlite3_column_int64(st, 1);
        v[n++].n = 0;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, SQL_FILES, -1, &st, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(db), NULL);
    sqlite3_bind_int64(st, 1, repo_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        pr_info *p;
        key.id = sqlite3_column_int64(st, 0);
        p = bsearch(&key, v, n, sizeof(*v), cmp_pr);
        if (p && p->n < MAX_PATHS)
            p->paths[p->n++] = strdup((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    *n_out = n;
    return v;
}

int main(int argc, char **argv)
{
    long prs = argc > 1 ? atol(argv[1]) : 10000;
    const char *reuse = getenv("BENCH_STORE"), *users = getenv("BENCH_USERS");
    char dir[] = "/tmp/attn-bench-activity-XXXXXX", db[1100];
    attn_store *s = NULL;
    attn_activity *a = NULL;
    attn_error err;
    int64_t repo_id;
    double t0, t1, rss0, sink = 0;
    size_t n_entries, nu, n_prs;

    if (prs <= 0) {
        fprintf(stderr, "usage: bench_activity [N_PRS > 0]\n");
        return 2;
    }
    if (reuse) {
        snprintf(db, sizeof(db), "%s", reuse);
    } else {
        if (!mkdtemp(dir))
            die("mkdtemp", NULL);
        snprintf(db, sizeof(db), "%s/history.sqlite", dir);
        make_store(dir, db, prs, users);
    }
    if (attn_store_open_readonly(db, &s, &err) || attn_store_repo_id(s, REPO, &repo_id, &err))
        die(db, &err);

    rss0 = rss_mb();
    t0 = now();
    if (attn_activity_build(s, repo_id, NULL, &a, &err))
        die("build", &err);
    t1 = now();
    attn_activity_entries(a, &n_entries);
    nu = attn_activity_user_count(a);
    printf("activity.build: %zu entries, %zu users in %.3f s; index %.1f MB, RSS +%.1f MB,"
           " peak RSS %.1f MB\n",
           n_entries, nu, t1 - t0, (double)attn_activity_bytes(a) / 1048576.0,
           rss_mb() - rss0, peak_mb());

    t0 = now();
    pr_info *pv = load_prs(s, repo_id, &n_prs);
    printf("(PR list with up to %d paths each read in %.2f s)\n", MAX_PATHS, now() - t0);
    attn_act_window w = {0, 0, 30.0, {1.0, 0.4, 0.2}};

    /* first decayed query builds the prefix sums for this half-life */
    w.to = pv[n_prs - 1].created_at;
    w.from = w.to - 180 * DAY;
    t0 = now();
    sink += attn_activity_user_sum(a, 0, &w);
    printf("activity.prefix (first use of a half-life): %.3f s\n", now() - t0);

    /* per-user decayed sums: windows at every PR's creation */
    size_t calls = 0;
    t0 = now();
    for (size_t p = 0; p < n_prs; p++) {
        w.to = pv[p].created_at;
        w.from = w.to - 180 * DAY;
        for (size_t u = 0; u < nu; u++, calls++)
            sink += attn_activity_user_sum(a, u, &w);
    }
    t1 = now();
    printf("activity.user_sum: %zu calls in %.3f s = %.2f M/s\n", calls, t1 - t0,
           (double)calls / (t1 - t0) / 1e6);

    /* the router's sweep: for each PR, every user's total and 5 path sums,
     * plus availability and load */
    size_t psums = 0;
    t0 = now();
    for (size_t p = 0; p < n_prs; p++) {
        w.to = pv[p].created_at;
        w.from = w.to - 180 * DAY;
        for (size_t u = 0; u < nu; u++) {
            sink += attn_activity_user_sum(a, u, &w);
            for (int k = 0; k < pv[p].n; k++, psums++)
                sink += attn_activity_user_path_sum(a, u, pv[p].paths[k], &w);
            sink += (double)attn_activity_user_open_requests(a, u, w.to);
            sink += (double)(attn_activity_user_last_at(a, u, w.to) & 1);
        }
    }
    t1 = now();
    printf("activity.sweep: %zu PRs x %zu users (total + %zu path sums + load + last"
           " activity) in %.3f s = %.1f us per PR\n",
           n_prs, nu, psums, t1 - t0, (t1 - t0) / (double)n_prs * 1e6);

    /* the same sweep with a second half-life (a second prefix cache) */
    w.half_life_days = 7.0;
    t0 = now();
    for (size_t p = 0; p < n_prs; p++) {
        w.to = pv[p].created_at;
        w.from = w.to - 180 * DAY;
        for (size_t u = 0; u < nu; u++) {
            sink += attn_activity_user_sum(a, u, &w);
            for (int k = 0; k < pv[p].n; k++)
                sink += attn_activity_user_path_sum(a, u, pv[p].paths[k], &w);
        }
    }
    t1 = now();
    printf("activity.sweep (half-life 7 d, new cache): %.3f s = %.1f us per PR\n", t1 - t0,
           (t1 - t0) / (double)n_prs * 1e6);

    /* baseline: the same totals by scanning the window's entries, as a
     * router without the index would (on every 10th PR) */
    size_t n_scan = 0;
    const attn_act_entry *e = attn_activity_entries(a, &n_entries);
    double *acc = calloc(nu ? nu : 1, sizeof(*acc));
    w.half_life_days = 30.0;
    t0 = now();
    for (size_t p = 0; p < n_prs; p += 10, n_scan++) {
        size_t f, l;
        w.to = pv[p].created_at;
        w.from = w.to - 180 * DAY;
        attn_activity_slice(a, w.from, w.to, &f, &l);
        memset(acc, 0, nu * sizeof(*acc));
        for (size_t i = f; i < l; i++)
            acc[e[i].user] += w.weight[e[i].kind] *
                              exp2(-(double)(w.to - e[i].t) / (w.half_life_days * DAY));
        for (size_t u = 0; u < nu; u++)
            sink += acc[u];
    }
    t1 = now();
    printf("baseline window scan (totals only, no paths): %.1f us per PR\n",
           (t1 - t0) / (double)(n_scan ? n_scan : 1) * 1e6);
    printf("activity: index %.1f MB with 2 half-lives cached, peak RSS %.1f MB (checksum %.6g)\n",
           (double)attn_activity_bytes(a) / 1048576.0, peak_mb(), sink);

    free(acc);
    for (size_t p = 0; p < n_prs; p++)
        for (int k = 0; k < pv[p].n; k++)
            free(pv[p].paths[k]);
    free(pv);
    attn_activity_free(a);
    attn_store_close(s);
    if (!reuse) {
        char cmd[1200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_activity: could not remove %s\n", dir);
    }
    return 0;
}
