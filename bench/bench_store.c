/*
 * bench_store.c - throughput of the history store: event insertion through
 * attn_store_insert_event and a full interval rebuild, on a fresh temporary
 * database. Targets (SPEC §3 work plan): >= 500k events/s inserted, rebuild
 * of 1M events in < 5 s.
 *
 *   bench_store [N_EVENTS]      default 1,000,000
 *
 * The events are loaded twice, each time into a fresh store: through the
 * normal path (every index maintained per row, as an incremental ingest
 * does) and through the bulk path of a first load (attn_store_bulk_begin:
 * the events indexes built once after the inserts, as `attn load` does for
 * a first backfill); the rebuild and the contract check then run on the bulk
 * store. A third load, of the same events through bare SQLite with every
 * safety off (floor_load), gives the ceiling the bulk path reads against.
 * Each rate is given per wall second and per CPU second (user + sys):
 * on a shared machine the second is the one that compares across runs.
 *
 * Knobs for experiments (environment): BENCH_BATCH events per transaction
 * (default: the whole load in one, as `attn load`); BENCH_PRAGMA SQL run
 * right after opening (e.g. "PRAGMA cache_size=-400000"); BENCH_POST SQL run
 * and timed after the load; BENCH_INSERT_ONLY stops after the loads;
 * BENCH_BULK=0 / BENCH_NORMAL=0 skip one of the two loads, BENCH_FLOOR=0 the
 * bare-SQLite load (floor_load).
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define N_USERS 500
#define N_LABELS 40
#define N_MILESTONES 10
#define N_ISSUES 10000      /* issues 1..N; the first half are PRs */
#define N_PRS (N_ISSUES / 2)
#define N_COMMENTS 20000
#define N_REVIEWS 10000


static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + sys seconds of this process so far */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

typedef struct {
    double wall, cpu;
} span;

static span since(double w0, double c0)
{
    span d = {now() - w0, cpu() - c0};
    return d;
}

/* xorshift64*: a fixed sequence, so runs are comparable. */
static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void die(const attn_error *err)
{
    fprintf(stderr, "bench_store: %s\n", err->msg);
    exit(1);
}

static void populate(attn_store *s)
{
    attn_error err;
    attn_repo_row repo = {1, 1, "bench", "repo", "bench/repo", NULL, "main", 0, 0, 0, 0, 0, 0};
    if (attn_store_begin(s, &err) || attn_store_upsert_repo(s, &repo, &err))
        die(&err);
    for (int64_t u = 1; u <= N_USERS; u++) {
        attn_user_row r = {u, "user", "User", 0, NULL};
        if (attn_store_upsert_user(s, &r, &err))
            die(&err);
    }
    attn_team_row t = {1, "core", "Core"};
    if (attn_store_upsert_team(s, &t, &err))
        die(&err);
    for (int64_t l = 1; l <= N_LABELS; l++) {
        attn_label_row r = {l, 1, "label", NULL, NULL, 0};
        if (attn_store_upsert_label(s, &r, &err))
            die(&err);
    }
    for (int64_t m = 1; m <= N_MILESTONES; m++) {
        attn_milestone_row r = {m, 1, m, "m", "open", NULL, ATTN_NULL_I64, ATTN_NULL_I64, 0, 0};
        if (attn_store_upsert_milestone(s, &r, &err))
            die(&err);
    }
    for (int64_t i = 1; i <= N_ISSUES; i++) {
        attn_issue_row r = {i, 1, i, 1 + i % N_USERS, "title", "body", "open", 0, 0,
                            ATTN_NULL_I64, i <= N_PRS, 0};
        if (attn_store_upsert_issue(s, &r, &err))
            die(&err);
    }
    for (int64_t p = 1; p <= N_PRS; p++) {
        attn_pull_request_row r;
        memset(&r, 0, sizeof(r));
        r.id = p; r.repo_id = 1; r.number = p; r.issue_id = p; r.user_id = 1 + p % N_USERS;
        r.draft = r.merged = -1;
        r.created_at = r.updated_at = r.closed_at = r.merged_at = ATTN_NULL_I64;
        if (attn_store_upsert_pull_request(s, &r, &err))
            die(&err);
    }
    for (int64_t c = 1; c <= N_COMMENTS; c++) {
        attn_comment_row r = {c, 1, 1 + c % N_ISSUES, ATTN_NULL_I64, ATTN_NULL_I64, 1 + c % N_USERS,
                              "b", 0, 0, NULL, ATTN_NULL_I64, NULL, ATTN_NULL_I64, "issue"};
        if (attn_store_upsert_comment(s, &r, &err))
            die(&err);
    }
    for (int64_t v = 1; v <= N_REVIEWS; v++) {
        attn_review_row r = {v, 1, 1 + v % N_PRS, 1 + v % N_USERS, "COMMENTED", "b", "sha", 0};
        if (attn_store_upsert_review(s, &r, &err))
            die(&err);
    }
    if (attn_store_commit(s, &err))
        die(&err);
}

/* One event of a realistic mix (see the table in make_event). */
static void make_event(uint64_t *seed, long i, attn_event_row *e, char *key, char *payload,
                       char *sha)
{
    uint64_t r = rng(seed);
    int pick = (int)(r % 100);
    int64_t issue = 1 + (int64_t)((r >> 8) % N_ISSUES), pr = 1 + (int64_t)((r >> 8) % N_PRS);
    int64_t obj = (int64_t)((r >> 32) % 1000);
    memset(e, 0, sizeof(*e));
    e->repo_id = 1;
    e->occurred_at = 1500000000 + i * 30;   /* ~1 year of a busy repository */
    e->actor_id = 1 + (int64_t)((r >> 20) % N_USERS);
    e->object_id = ATTN_NULL_I64;
    e->subject_type = "issue";
    e->subject_id = issue;
    e->event_key = key;
    snprintf(key, 32, "ev:%ld", i);
    if (pick < 8) {
        e->event_type = (r >> 40) & 1 ? "issue.closed" : "issue.reopened";
    } else if (pick < 18) {
        e->event_type = "issue.content.edit";
        snprintf(payload, 256, "{\"body\":\"Body text revision %ld with a few words\",\"title\":\"Title %ld\"}", i, i);
        e->payload_json = payload;
    } else if (pick < 38) {
        e->event_type = (r >> 40) & 1 ? "issue.label.add" : "issue.label.remove";
        e->object_type = "label";
        e->object_id = 1 + obj % N_LABELS;
    } else if (pick < 48) {
        e->event_type = (r >> 40) & 1 ? "issue.assignee.add" : "issue.assignee.remove";
        e->object_type = "user";
        e->object_id = 1 + obj % N_USERS;
    } else if (pick < 51) {
        e->event_type = "issue.milestone.set";
        e->object_type = "milestone";
        e->object_id = 1 + obj % N_MILESTONES;
    } else if (pick < 56) {
        e->subject_type = "pull_request";
        e->subject_id = pr;
        e->event_type = "pull_request.draft.set";
        e->payload_json = (r >> 40) & 1 ? "{\"is_draft\":true}" : "{\"is_draft\":false}";
    } else if (pick < 66) {
        e->subject_type = "pull_request";
        e->subject_id = pr;
        e->event_type = "pull_request.head.set";
        snprintf(sha, 48, "%016llx%016llx", (unsigned long long)r, (unsigned long long)i);
        e->commit_sha = sha;
    } else if (pick < 68) {
        e->subject_type = "pull_request";
        e->subject_id = pr;
        e->event_type = "pull_request.base.set";
        e->payload_json = "{\"base_ref\":\"main\"}";
    } else if (pick < 78) {
        e->subject_type = "pull_request";
        e->subject_id = pr;
        e->event_type = (r >> 40) & 1 ? "pull_request.review_request.add"
                                       : "pull_request.review_request.remove";
        e->object_type = (r >> 41) % 8 == 0 ? "team" : "user";
        e->object_id = (r >> 41) % 8 == 0 ? 1 : 1 + obj % N_USERS;
    } else if (pick < 90) {
        e->subject_type = "comment";
        e->subject_id = 1 + (int64_t)((r >> 8) % N_COMMENTS);
        e->event_type = (r >> 40) % 4 ? "comment.created" : "comment.edited";
        snprintf(payload, 256, "{\"body\":\"Looks good to me, one nit in line %ld\"}", i % 500);
        e->payload_json = payload;
    } else if (pick < 96) {
        e->subject_type = "review";
        e->subject_id = 1 + (int64_t)((r >> 8) % N_REVIEWS);
        e->event_type = "review.submitted";
        e->payload_json = "{\"body\":\"approved\",\"state\":\"APPROVED\"}";
    } else {
        e->event_type = "issue.mentioned";   /* stored, ignored by the rebuild */
    }
}

/* A fresh store in dir with the catalogue, then n events (bulk path or not),
 * timed; the bulk path's index build is timed apart. */
static attn_store *load(const char *dir, int bulk_path, long n)
{
    char path[256], key[32], payload[256], sha[48];
    attn_store *s = NULL;
    attn_error err;
    attn_event_row e;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int bulk = 0;
    double w0, c0;
    span ins, idx = {0, 0};
    long batch = getenv("BENCH_BATCH") ? atol(getenv("BENCH_BATCH")) : n;   /* read once: not timed */
    if (batch <= 0)
        batch = n;

    snprintf(path, sizeof(path), "%s/%s.sqlite", dir, bulk_path ? "bulk" : "normal");
    if (attn_store_open(path, &s, &err))
        die(&err);
    if (bulk_path)
        attn_store_load_settings(s);   /* as `attn load` */
    if (getenv("BENCH_PRAGMA"))
        sqlite3_exec(attn_store_db(s), getenv("BENCH_PRAGMA"), NULL, NULL, NULL);
    populate(s);
    w0 = now();
    c0 = cpu();
    for (long i = 0; i < n; i++) {
        if (i % batch == 0 && attn_store_begin(s, &err))
            die(&err);
        /* as attn load: inside the load's transaction, before the first event */
        if (i == 0 && bulk_path && attn_store_bulk_begin(s, &bulk, &err))
            die(&err);
        make_event(&seed, i, &e, key, payload, sha);
        if (attn_store_insert_event(s, &e, NULL, NULL, &err))
            die(&err);
        if (i + 1 == n && bulk) {
            double w1 = now(), c1 = cpu();
            if (attn_store_bulk_end(s, &err))
                die(&err);
            idx = since(w1, c1);
        }
        if ((i + 1) % batch == 0 || i + 1 == n)
            if (attn_store_commit(s, &err))
                die(&err);
    }
    ins = since(w0, c0);
    if (!bulk) {
        printf("store.insert_events (normal path): %ld events in %.2f s wall, %.2f s cpu ="
               " %.0f events/s wall, %.0f events/s cpu\n",
               n, ins.wall, ins.cpu, (double)n / ins.wall, (double)n / ins.cpu);
        return s;
    }
    printf("store.insert_events (bulk path, indexes built after): %ld events in %.2f s wall,"
           " %.2f s cpu = %.0f events/s wall, %.0f events/s cpu\n",
           n, ins.wall, ins.cpu, (double)n / ins.wall, (double)n / ins.cpu);
    printf("store.bulk_index_build (included above): %.2f s wall, %.2f s cpu\n", idx.wall,
           idx.cpu);
    return s;
}

/*
 * The same n events through SQLite alone, with every safety the store has
 * switched off: no foreign keys, no journal, no sync, no attn code between
 * the generator and sqlite3_step. The schema and the index build are the
 * store's own (attn_store_open, attn_store_bulk_begin/end), so the rows and
 * the three indexes are those of the bulk path by construction. No store may
 * be kept this way; it is the ceiling any insert path on SQLite can reach on
 * this machine, so the bulk path's rate reads against it.
 */
static void floor_load(const char *dir, long n)
{
    char path[256], key[32], payload[256], sha[48];
    attn_store *s = NULL;
    attn_error err;
    sqlite3 *db;
    sqlite3_stmt *st;
    attn_event_row e;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int bulk = 0;
    double w0, c0, w1, c1;
    span all, idx;

    snprintf(path, sizeof(path), "%s/floor.sqlite", dir);
    if (attn_store_open(path, &s, &err))
        die(&err);
    attn_store_load_settings(s);   /* as the bulk path: its sorts on worker threads */
    db = attn_store_db(s);
    /* outside a transaction: SQLite ignores both inside one */
    if (sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                         " PRAGMA foreign_keys=OFF;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO events (repo_id, occurred_at, actor_id, subject_type,"
                           " subject_id, event_type, object_type, object_id, commit_sha,"
                           " payload_json, event_key) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_store: floor: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    w0 = now();
    c0 = cpu();
    if (attn_store_begin(s, &err) || attn_store_bulk_begin(s, &bulk, &err))
        die(&err);
    for (long i = 0; i < n; i++) {
        make_event(&seed, i, &e, key, payload, sha);
        /* a NULL text binds NULL (sqlite3_bind_text) */
        sqlite3_bind_int64(st, 1, e.repo_id);
        sqlite3_bind_int64(st, 2, e.occurred_at);
        sqlite3_bind_int64(st, 3, e.actor_id);
        sqlite3_bind_text(st, 4, e.subject_type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, e.subject_id);
        sqlite3_bind_text(st, 6, e.event_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, e.object_type, -1, SQLITE_STATIC);
        if (e.object_id != ATTN_NULL_I64)
            sqlite3_bind_int64(st, 8, e.object_id);
        else
            sqlite3_bind_null(st, 8);
        sqlite3_bind_text(st, 9, e.commit_sha, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, e.payload_json, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, e.event_key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench_store: floor: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_reset(st);
    }
    w1 = now();
    c1 = cpu();
    if ((bulk && attn_store_bulk_end(s, &err)) || attn_store_commit(s, &err))
        die(&err);
    idx = since(w1, c1);
    all = since(w0, c0);
    sqlite3_finalize(st);
    attn_store_close(s);
    printf("store.sqlite_floor (bare SQLite: no foreign keys, journal or sync; same rows and"
           " indexes): %ld events in %.2f s wall, %.2f s cpu = %.0f events/s wall,"
           " %.0f events/s cpu\n",
           n, all.wall, all.cpu, (double)n / all.wall, (double)n / all.cpu);
    printf("store.sqlite_floor_index_build (included above): %.2f s wall, %.2f s cpu\n",
           idx.wall, idx.cpu);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char dir[] = "/tmp/attn-bench-XXXXXX";
    attn_store *s = NULL;
    attn_error err;
    attn_rebuild_stats st;
    struct rusage ru;
    double t0, t1;
    int want_bulk = !getenv("BENCH_BULK") || atoi(getenv("BENCH_BULK"));
    int want_normal = !getenv("BENCH_NORMAL") || atoi(getenv("BENCH_NORMAL"));
    int want_floor = !getenv("BENCH_FLOOR") || atoi(getenv("BENCH_FLOOR"));

    if (n <= 0 || !mkdtemp(dir)) {
        fprintf(stderr, "usage: bench_store [N_EVENTS > 0]\n");
        return 2;
    }
    if (want_normal) {
        s = load(dir, 0, n);
        if (want_bulk) {
            attn_store_close(s);
            s = NULL;
        }
    }
    if (want_bulk)
        s = load(dir, 1, n);
    if (want_floor)
        floor_load(dir, n);

    if (getenv("BENCH_POST")) {
        t0 = now();
        sqlite3_exec(attn_store_db(s), getenv("BENCH_POST"), NULL, NULL, NULL);
        printf("post: %.2f s\n", now() - t0);
    }
    if (getenv("BENCH_INSERT_ONLY"))
        goto done;
    t0 = now();
    if (attn_store_rebuild_intervals(s, 1, NULL, &st, &err))
        die(&err);
    t1 = now();
    printf("store.rebuild_intervals: %lld events read, %lld intervals written in %.2f s"
           " = %.0f events/s\n",
           (long long)st.events_read, (long long)st.intervals_written, t1 - t0,
           (double)st.events_read / (t1 - t0));

    t0 = now();
    attn_contract_report rep;
    if (attn_store_contract_check(s, 1, &rep, &err))
        die(&err);
    t1 = now();
    printf("store.contract_check: %s, %lld intervals in %.2f s\n", rep.ok ? "OK" : "FAILED",
           (long long)rep.n_intervals, t1 - t0);
    for (int i = 0; i < rep.n_findings && i < 5; i++)
        printf("  %s\n", rep.findings[i]);
    attn_contract_report_free(&rep);

    getrusage(RUSAGE_SELF, &ru);
    printf("store.peak_rss: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
done:
    attn_store_close(s);

    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_store: could not remove %s\n", dir);
    return 0;
}
