/*
 * cut_fixture.h - a synthetic store and the way leakage tests cut it at T
 * (test_leakage.c, test_boundary.c): one copy, so the two cut the same way.
 *
 * setup loads a 300-PR synthetic history (the seed per test) into
 * DIR/history.sqlite; cut_store deletes every event, review, comment, PR,
 * issue and file list that appears after T and rebuilds the intervals from
 * what is left. Whatever is computed as of T must not see the difference.
 */
#ifndef ATTN_CUT_FIXTURE_H
#define ATTN_CUT_FIXTURE_H

#include "testutil.h"
#include "ingest/bundle.h"
#include "store/store.h"
#include "synth/synth.h"
#include "util/buf.h"
#include "util/fs.h"

#include <sqlite3.h>

typedef struct {
    char *dir;
    char db[600];
    char repo_dir[700];
    int64_t t0, t1; /* first and last PR creation */
} fixture;

static inline void exec_sql(attn_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(attn_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static inline int64_t query_i64(attn_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline int cut_fixture_setup(void **state, uint64_t seed)
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
    o.seed = seed;
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

static inline int teardown(void **state)
{
    fixture *f = *state;
    attn_error err;
    attn_fs_remove_tree(f->dir, &err);
    free(f->dir);
    free(f);
    return 0;
}

static inline void copy_file(const char *from, const char *to)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (attn_fs_read_file(from, &b, &err) || attn_fs_write_atomic(to, b.ptr, b.len, &err))
        fail_msg("copy %s: %s", from, err.msg);
    attn_buf_free(&b);
}

/* Remove everything that happened after t, then rebuild the intervals. */
static inline void cut_store(attn_store *s, int64_t t)
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
    long long T = (long long)t;

    for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", intervals[i]);
        exec_sql(s, sql);
    }
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
}

#endif
