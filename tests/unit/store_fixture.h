/*
 * store_fixture.h - a small, fixed set of entity rows for store tests, so
 * events and intervals have owners to point at (foreign keys are enforced).
 *
 *   repo 1 "octo/demo"; users 5 (same numeric id as team 5), 100, 101, 102 (bot)
 *   team 5; labels 5, 6; milestones 7, 8
 *   issues 10 (plain), 11 (the issue of PR 20), 12 (plain)
 *   pull requests 20 (issue 11), 21 (no issue row)
 *   comments 30 (on issue 10), 31 (on PR 20); reviews 40 (PR 20), 41 (PR 21)
 */
#ifndef ATTN_STORE_FIXTURE_H
#define ATTN_STORE_FIXTURE_H

#include "testutil.h"
#include "store/store.h"

static inline attn_repo_row fx_repo(void)
{
    attn_repo_row r = {1, 900, "octo", "demo", "octo/demo", "a demo", "main", 0, 0, 0,
                       1000, 2000, 3000};
    return r;
}

static inline void fx_user(attn_store *s, int64_t id, const char *login, const char *type)
{
    attn_error err;
    attn_user_row u = {id, login, type, 0, NULL};
    assert_int_equal(attn_store_upsert_user(s, &u, &err), 0);
}

static inline void fx_issue(attn_store *s, int64_t id, int64_t number, int is_pr)
{
    attn_error err;
    attn_issue_row i = {id, 1, number, 100, "t", "b", "open", 1000, 1000, ATTN_NULL_I64,
                        is_pr, 0};
    assert_int_equal(attn_store_upsert_issue(s, &i, &err), 0);
}

static inline void fx_pr(attn_store *s, int64_t id, int64_t number, int64_t issue_id)
{
    attn_error err;
    attn_pull_request_row p;
    memset(&p, 0, sizeof(p));
    p.id = id; p.repo_id = 1; p.number = number; p.issue_id = issue_id; p.user_id = 100;
    p.title = "t"; p.state = "open"; p.draft = 0; p.merged = 0;
    p.created_at = 1000; p.updated_at = 1000; p.closed_at = ATTN_NULL_I64;
    p.merged_at = ATTN_NULL_I64;
    assert_int_equal(attn_store_upsert_pull_request(s, &p, &err), 0);
}

static inline void fx_populate(attn_store *s)
{
    attn_error err;
    attn_repo_row repo = fx_repo();
    assert_int_equal(attn_store_upsert_repo(s, &repo, &err), 0);
    fx_user(s, 5, "five", "User");
    fx_user(s, 100, "alice", "User");
    fx_user(s, 101, "bob", "User");
    fx_user(s, 102, "ci[bot]", "Bot");
    attn_team_row team = {5, "core", "Core"};
    assert_int_equal(attn_store_upsert_team(s, &team, &err), 0);
    for (int64_t id = 5; id <= 6; id++) {
        attn_label_row l = {id, 1, id == 5 ? "bug" : "docs", "fff", NULL, 0};
        assert_int_equal(attn_store_upsert_label(s, &l, &err), 0);
    }
    for (int64_t id = 7; id <= 8; id++) {
        attn_milestone_row m = {id, 1, id, "m", "open", NULL, ATTN_NULL_I64, ATTN_NULL_I64,
                                1000, 1000};
        assert_int_equal(attn_store_upsert_milestone(s, &m, &err), 0);
    }
    fx_issue(s, 10, 1, 0);
    fx_issue(s, 11, 2, 1);
    fx_issue(s, 12, 3, 0);
    fx_pr(s, 20, 2, 11);
    fx_pr(s, 21, 4, ATTN_NULL_I64);
    attn_comment_row c = {30, 1, 10, ATTN_NULL_I64, ATTN_NULL_I64, 101, "hi", 1100, 1100,
                          NULL, ATTN_NULL_I64, NULL, ATTN_NULL_I64, "issue"};
    assert_int_equal(attn_store_upsert_comment(s, &c, &err), 0);
    c.id = 31; c.issue_id = ATTN_NULL_I64; c.pull_request_id = 20; c.comment_type = "review";
    c.path = "a.c"; c.position = 3; c.commit_id = "abc";
    assert_int_equal(attn_store_upsert_comment(s, &c, &err), 0);
    attn_review_row r = {40, 1, 20, 101, "APPROVED", "lgtm", "abc", 1200};
    assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
    r.id = 41; r.pull_request_id = 21;
    assert_int_equal(attn_store_upsert_review(s, &r, &err), 0);
}

/* Insert one event; returns its id. */
static inline int64_t fx_event(attn_store *s, const char *key, int64_t at, const char *subject,
                               int64_t subject_id, const char *type, const char *object_type,
                               int64_t object_id, const char *sha, const char *payload)
{
    attn_error err;
    int inserted = 0;
    int64_t id = 0;
    attn_event_row e = {1, at, ATTN_NULL_I64, subject, subject_id, type, object_type,
                        object_id, sha, payload, key};
    int rc = attn_store_insert_event(s, &e, &inserted, &id, &err);
    if (rc)
        fail_msg("insert event %s: %s", key, err.msg);
    return id;
}

static inline int64_t fx_count(attn_store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static inline void fx_exec(attn_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(attn_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

static inline void fx_rm_rf(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

#endif
