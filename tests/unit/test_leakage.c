/*
 * test_leakage.c - the leakage rule, end to end (SPEC §5, §7): nothing after
 * a cutoff may change a snapshot or any router's output.
 *
 * A synthetic history is loaded; for several cutoffs T and many PRs created
 * at or before T, every snapshot and every registered router's result at T
 * is recorded. Then a copy of the store is cut at T: every event, review,
 * comment, PR, issue and file list that appears after T is deleted and the
 * intervals are rebuilt from what is left. Routing again on the cut store
 * must give byte-identical canonical JSON. A router that peeked past T (a
 * later review, a later head's files, a later request) would differ.
 */
#include "testutil.h"
#include "ingest/bundle.h"
#include "route/context.h"
#include "route/router.h"
#include "store/store.h"
#include "synth/synth.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CUTS 4
#define PRS_PER_CUT 25

typedef struct {
    char *dir;
    char db[600];
    char repo_dir[700];
    int64_t t0, t1; /* first and last PR creation */
} fixture;

static void exec_sql(attn_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(attn_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t query_i64(attn_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    attn_synth_opts o;
    attn_error err;
    attn_store *s;
    json_t *bundle;
    attn_bundle_stats st;
    char bpath[700];

    f->dir = test_tmpdir();
    attn_synth_opts_init(&o);
    o.prs = 300;
    o.seed = 11;
    o.days = 120;
    snprintf(bpath, sizeof(bpath), "%s/b.json", f->dir);
    if (attn_synth_write_file(&o, bpath, &err))
        fail_msg("synth: %s", err.msg);
    snprintf(f->db, sizeof(f->db), "%s/history.sqlite", f->dir);
    snprintf(f->repo_dir, sizeof(f->repo_dir), "%s", f->dir);
    if (attn_bundle_read(bpath, "synth/sample", &bundle, &err) || attn_store_open(f->db, &s, &err) ||
        attn_bundle_apply(s, bundle, &st, &err))
        fail_msg("load: %s", err.msg);
    json_decref(bundle);
    f->t0 = query_i64(s, "SELECT min(created_at) FROM pull_requests");
    f->t1 = query_i64(s, "SELECT max(created_at) FROM pull_requests");
    attn_store_close(s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    attn_error err;
    attn_fs_remove_tree(f->dir, &err);
    free(f->dir);
    free(f);
    return 0;
}

static void copy_file(const char *from, const char *to)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (attn_fs_read_file(from, &b, &err) || attn_fs_write_atomic(to, b.ptr, b.len, &err))
        fail_msg("copy %s: %s", from, err.msg);
    attn_buf_free(&b);
}

/* Remove everything that happened after t, then rebuild the intervals. */
static void cut_store(attn_store *s, int64_t t)
{
    static const char *const intervals[] = {
        "issue_state_intervals", "issue_content_intervals", "issue_label_intervals",
        "issue_assignee_intervals", "issue_milestone_intervals", "pull_request_draft_intervals",
        "pull_request_head_intervals", "pull_request_base_intervals",
        "pull_request_review_request_intervals", "comment_content_intervals",
        "review_content_intervals"};
    char sql[1024];
    attn_error err;
    int64_t repo_id = query_i64(s, "SELECT id FROM repos");

    for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", intervals[i]);
        exec_sql(s, sql);
    }
#define T (long long)t
    snprintf(sql, sizeof(sql), "DELETE FROM events WHERE occurred_at > %lld", T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql),
             "DELETE FROM comments WHERE created_at > %lld OR pull_request_id IN"
             " (SELECT id FROM pull_requests WHERE created_at > %lld) OR issue_id IN"
             " (SELECT id FROM issues WHERE created_at > %lld)",
             T, T, T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql),
             "DELETE FROM reviews WHERE submitted_at IS NULL OR submitted_at > %lld OR"
             " pull_request_id IN (SELECT id FROM pull_requests WHERE created_at > %lld)",
             T, T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql),
             "DELETE FROM pull_request_files WHERE pull_request_id IN"
             " (SELECT id FROM pull_requests WHERE created_at > %lld)",
             T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM pull_requests WHERE created_at > %lld", T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM issues WHERE created_at > %lld", T);
    exec_sql(s, sql);
    if (attn_store_rebuild_intervals(s, repo_id, NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
    /* File lists of heads that only appear after t are unreachable now;
     * drop them too, so a reader falling back to "some other head" would
     * see a different list. */
    exec_sql(s, "DELETE FROM pull_request_files WHERE NOT EXISTS (SELECT 1 FROM"
                " pull_request_head_intervals h WHERE h.pull_request_id ="
                " pull_request_files.pull_request_id AND h.head_sha = pull_request_files.head_sha)");
#undef T
}

/* Canonical text of every snapshot and route at t for the PRs in numbers. */
static char *route_all(const fixture *f, const char *db, int64_t t, const int64_t *numbers,
                       size_t n)
{
    attn_store *s;
    attn_route_env *env;
    attn_error err;
    attn_buf out = ATTN_BUF_INIT;
    attn_router *routers[16];
    const attn_router_def *defs[16];
    size_t nr = 0;
    const attn_route_ctx *ctx;

    /* Opt-in routers need an outside service (llm_rerank: a model); what
     * llm_rerank sends is built only from the snapshot and its base router's
     * result, both checked here. */
    assert_true(attn_router_count() <= 16);
    for (size_t i = 0; i < attn_router_count(); i++)
        if (!attn_router_opt_in(attn_router_at(i)))
            defs[nr++] = attn_router_at(i);
    if (attn_store_open(db, &s, &err) ||
        attn_route_env_open(s, "synth/sample", f->repo_dir, &env, &err))
        fail_msg("open %s: %s", db, err.msg);
    ctx = attn_route_env_ctx(env);
    for (size_t i = 0; i < nr; i++)
        if (attn_router_new(defs[i], NULL, NULL, ctx, &routers[i], &err))
            fail_msg("router %s: %s", defs[i]->name, err.msg);
    for (size_t k = 0; k < n; k++) {
        json_t *snap;
        attn_buf c = ATTN_BUF_INIT;
        if (attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, numbers[k], t, &snap, &err))
            fail_msg("snapshot #%lld: %s", (long long)numbers[k], err.msg);
        assert_int_equal(attn_json_canonical(snap, &c, &err), 0);
        attn_buf_printf(&out, "#%lld %s\n", (long long)numbers[k], attn_buf_cstr(&c));
        for (size_t i = 0; i < nr; i++) {
            attn_route_query q = {numbers[k], t, 10, snap};
            json_t *res;
            if (attn_router_route(routers[i], ctx, &q, &res, &err))
                fail_msg("route %s #%lld: %s", defs[i]->name, (long long)numbers[k],
                         err.msg);
            attn_buf_clear(&c);
            assert_int_equal(attn_json_canonical(res, &c, &err), 0);
            attn_buf_printf(&out, "%s %s\n", defs[i]->name, attn_buf_cstr(&c));
            json_decref(res);
        }
        attn_buf_free(&c);
        json_decref(snap);
    }
    for (size_t i = 0; i < nr; i++)
        attn_router_free(routers[i]);
    attn_route_env_free(env);
    attn_store_close(s);
    return attn_buf_detach(&out);
}

static void first_difference(const char *a, const char *b)
{
    size_t line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    fail_msg("output differs at line %zu:\nfull: %.400s\ncut:  %.400s", line, la, lb);
}

static void test_cut_store_routes_identically(void **state)
{
    fixture *f = *state;
    int checked = 0;

    assert_true(attn_router_count() > 0);
    for (int c = 1; c <= N_CUTS; c++) {
        /* Cutoffs spread over the history, off the exact event seconds. */
        int64_t t = f->t0 + (f->t1 - f->t0) * c / (N_CUTS + 1) + 17;
        int64_t numbers[PRS_PER_CUT];
        size_t n = 0;
        char sql[512], cut[800];
        sqlite3_stmt *st;
        attn_store *s;
        attn_error err;
        char *full, *again;

        /* The PRs open at t are the interesting ones; take the latest. */
        assert_int_equal(attn_store_open(f->db, &s, &err), 0);
        snprintf(sql, sizeof(sql),
                 "SELECT number FROM pull_requests WHERE created_at <= %lld"
                 " ORDER BY created_at DESC, number LIMIT %d",
                 (long long)t, PRS_PER_CUT);
        assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW)
            numbers[n++] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        attn_store_close(s);
        assert_true(n > 5);

        full = route_all(f, f->db, t, numbers, n);
        snprintf(cut, sizeof(cut), "%s/cut-%d.sqlite", f->dir, c);
        copy_file(f->db, cut);
        assert_int_equal(attn_store_open(cut, &s, &err), 0);
        cut_store(s, t);
        assert_true(query_i64(s, "SELECT count(*) FROM events") > 0);
        attn_store_close(s);
        again = route_all(f, cut, t, numbers, n);
        if (strcmp(full, again))
            first_difference(full, again);
        checked += (int)n;
        free(full);
        free(again);
    }
    assert_true(checked >= N_CUTS * 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cut_store_routes_identically, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
