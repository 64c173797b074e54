/*
 * test_normalize.c - normalizers, bundle loading and the as-of reader.
 *
 * Most cases are data: tests/data/normalize/<case>.json holds a small bundle
 * ("input") and what loading it must produce:
 *   expected_events    [[event_type, subject_type, object_type, occurred_at, key], ...]
 *   expected_counts    {event_type: n}          exact number of events of a type
 *   expected_actors    {key: login | null}
 *   expected_payloads  {key: {field: value}}    subset of the stored payload
 *   absent_keys        [key, ...]
 *   expected_user_types {login: type}
 *   expected_error     substring of the load error (malformed input)
 *   snapshots          [{pr, as_of, expect: {field: value}, leak_risk_contains: [],
 *                        leak_risk_absent: []}]
 * Every loadable case is also loaded twice (the second load inserts nothing),
 * and every snapshot is recomputed after deleting all events after its cutoff
 * (it must not change). A hand-built history tests interval boundaries.
 */
#include "testutil.h"
#include "history/asof.h"
#include "ingest/bundle.h"
#include "ingest/normalize.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <dirent.h>

static void rm_rf(const char *dir)
{
    attn_error err;
    if (attn_fs_remove_tree(dir, &err))
        fail_msg("%s", err.msg);
}

static attn_store *open_tmp_store(char **dir)
{
    attn_store *s = NULL;
    attn_error err;
    char path[512];
    *dir = test_tmpdir();
    snprintf(path, sizeof(path), "%s/history.sqlite", *dir);
    if (attn_store_open(path, &s, &err))
        fail_msg("open store: %s", err.msg);
    return s;
}

static int64_t t_of(const char *iso)
{
    int64_t t;
    attn_error err;
    if (attn_time_parse(iso, &t, &err))
        fail_msg("bad time in test data: %s", iso);
    return t;
}

/* ---- data-driven checks ------------------------------------------------------- */

static void check_event(attn_store *s, const char *name, const json_t *exp)
{
    sqlite3_stmt *st;
    const char *type = json_string_value(json_array_get(exp, 0));
    const char *subj = json_string_value(json_array_get(exp, 1));
    const json_t *obj = json_array_get(exp, 2);
    const char *iso = json_string_value(json_array_get(exp, 3));
    const char *key = json_string_value(json_array_get(exp, 4));
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s),
                                        "SELECT event_type, subject_type, object_type, occurred_at"
                                        " FROM events WHERE event_key = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        fail_msg("%s: no event with key %s", name, key);
    if (strcmp((const char *)sqlite3_column_text(st, 0), type) ||
        strcmp((const char *)sqlite3_column_text(st, 1), subj) ||
        (json_is_null(obj) ? sqlite3_column_type(st, 2) != SQLITE_NULL
                           : !sqlite3_column_text(st, 2) ||
                                 strcmp((const char *)sqlite3_column_text(st, 2),
                                        json_string_value(obj))) ||
        sqlite3_column_int64(st, 3) != t_of(iso))
        fail_msg("%s: event %s is (%s, %s, %s, %lld), expected (%s, %s, %s, %s)", name, key,
                 sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                 sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "null",
                 (long long)sqlite3_column_int64(st, 3), type, subj,
                 json_is_null(obj) ? "null" : json_string_value(obj), iso);
    sqlite3_finalize(st);
}

static int64_t count_sql(attn_store *s, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    int64_t n;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void check_actor(attn_store *s, const char *name, const char *key, const json_t *login)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s),
                                        "SELECT e.actor_id, u.login FROM events e"
                                        " LEFT JOIN users u ON u.id = e.actor_id"
                                        " WHERE e.event_key = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        fail_msg("%s: no event %s", name, key);
    if (json_is_null(login)) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            fail_msg("%s: event %s has actor %s, expected none", name, key,
                     sqlite3_column_text(st, 1));
    } else if (!sqlite3_column_text(st, 1) ||
               strcmp((const char *)sqlite3_column_text(st, 1), json_string_value(login))) {
        fail_msg("%s: event %s actor is %s, expected %s", name, key,
                 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "null",
                 json_string_value(login));
    }
    sqlite3_finalize(st);
}

static void check_payload(attn_store *s, const char *name, const char *key, const json_t *exp)
{
    sqlite3_stmt *st;
    json_t *p;
    const char *k;
    const json_t *v;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s),
                                        "SELECT payload_json FROM events WHERE event_key = ?1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_text(st, 0))
        fail_msg("%s: no payload for %s", name, key);
    p = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    assert_non_null(p);
    json_object_foreach((json_t *)exp, k, v) {
        if (!json_equal(json_object_get(p, k), (json_t *)v))
            fail_msg("%s: payload of %s: %s is %s", name, key, k,
                     sqlite3_column_text(st, 0));
    }
    json_decref(p);
    sqlite3_finalize(st);
}

static int leak_has(const json_t *snap, const char *name)
{
    const json_t *v;
    size_t i;
    json_array_foreach(json_object_get(snap, "leak_risk"), i, v)
        if (!strcmp(json_string_value(v), name))
            return 1;
    return 0;
}

static char *snapshot_text(attn_store *s, int64_t number, int64_t as_of)
{
    json_t *snap;
    attn_error err;
    char *text;
    if (attn_asof_pr_snapshot(s, 1, number, as_of, &snap, &err))
        fail_msg("snapshot #%lld at %lld: %s", (long long)number, (long long)as_of, err.msg);
    text = json_dumps(snap, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(snap);
    return text;
}

static void check_snapshot(attn_store *s, const char *name, const json_t *spec)
{
    int64_t number = json_integer_value(json_object_get(spec, "pr"));
    const char *iso = json_string_value(json_object_get(spec, "as_of"));
    json_t *snap;
    attn_error err;
    const char *k;
    const json_t *v;
    size_t i;

    if (attn_asof_pr_snapshot(s, 1, number, t_of(iso), &snap, &err))
        fail_msg("%s: snapshot #%lld at %s: %s", name, (long long)number, iso, err.msg);
    json_object_foreach(json_object_get(spec, "expect"), k, v) {
        if (!json_equal(json_object_get(snap, k), (json_t *)v)) {
            char *got = json_dumps(json_object_get(snap, k), JSON_ENCODE_ANY | JSON_COMPACT);
            char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            fail_msg("%s: snapshot #%lld at %s: %s is %s, expected %s", name, (long long)number,
                     iso, k, got, want);
        }
    }
    json_array_foreach(json_object_get(spec, "leak_risk_contains"), i, v)
        if (!leak_has(snap, json_string_value(v)))
            fail_msg("%s: snapshot at %s: leak_risk lacks %s", name, iso, json_string_value(v));
    json_array_foreach(json_object_get(spec, "leak_risk_absent"), i, v)
        if (leak_has(snap, json_string_value(v)))
            fail_msg("%s: snapshot at %s: leak_risk has %s", name, iso, json_string_value(v));
    json_decref(snap);
}

/* Delete every event after t (and the intervals, then rebuild). */
static void truncate_after(attn_store *s, int64_t t)
{
    static const char *const tables[] = {
        "issue_state_intervals", "issue_content_intervals", "issue_label_intervals",
        "issue_assignee_intervals", "issue_milestone_intervals", "pull_request_draft_intervals",
        "pull_request_head_intervals", "pull_request_base_intervals",
        "pull_request_review_request_intervals", "comment_content_intervals",
        "review_content_intervals"};
    char sql[256];
    attn_error err;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[i]);
        assert_int_equal(sqlite3_exec(attn_store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
    }
    snprintf(sql, sizeof(sql), "DELETE FROM events WHERE occurred_at > %lld", (long long)t);
    assert_int_equal(sqlite3_exec(attn_store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
    if (attn_store_rebuild_intervals(s, 1, NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
}

static int cmp_as_of_desc(const void *a, const void *b)
{
    int64_t x = t_of(json_string_value(json_object_get(*(json_t *const *)a, "as_of")));
    int64_t y = t_of(json_string_value(json_object_get(*(json_t *const *)b, "as_of")));
    return x < y ? 1 : x > y ? -1 : 0;
}

static void run_case(void **state)
{
    const char *name = *state;
    char path[600], *dir;
    json_t *c, *bundle;
    attn_error err;
    attn_store *s;
    attn_bundle_stats st, st2;
    const json_t *v, *exp_err;
    const char *k;
    size_t i;
    int rc;

    snprintf(path, sizeof(path), "normalize/%s.json", name);
    {
        char full[700];
        test_data_path(path, full, sizeof(full));
        if (attn_json_load_file(full, &c, &err))
            fail_msg("%s", err.msg);
    }
    bundle = json_object_get(c, "input");
    s = open_tmp_store(&dir);
    rc = attn_bundle_apply(s, bundle, &st, &err);
    exp_err = json_object_get(c, "expected_error");
    if (exp_err) {
        if (!rc)
            fail_msg("%s: load succeeded, expected an error with '%s'", name,
                     json_string_value(exp_err));
        if (!strstr(err.msg, json_string_value(exp_err)))
            fail_msg("%s: error '%s' lacks '%s'", name, err.msg, json_string_value(exp_err));
        goto done;
    }
    if (rc)
        fail_msg("%s: load failed: %s", name, err.msg);
    assert_true(st.norm.events_inserted > 0);

    json_array_foreach(json_object_get(c, "expected_events"), i, v)
        check_event(s, name, v);
    json_object_foreach(json_object_get(c, "expected_counts"), k, v) {
        int64_t n = count_sql(s, "SELECT count(*) FROM events WHERE event_type = ?1", k);
        if (n != json_integer_value(v))
            fail_msg("%s: %lld events of type %s, expected %lld", name, (long long)n, k,
                     (long long)json_integer_value(v));
    }
    json_object_foreach(json_object_get(c, "expected_actors"), k, v)
        check_actor(s, name, k, v);
    json_object_foreach(json_object_get(c, "expected_payloads"), k, v)
        check_payload(s, name, k, v);
    json_array_foreach(json_object_get(c, "absent_keys"), i, v) {
        if (count_sql(s, "SELECT count(*) FROM events WHERE event_key = ?1",
                      json_string_value(v)))
            fail_msg("%s: event %s should not exist", name, json_string_value(v));
    }
    json_object_foreach(json_object_get(c, "expected_user_types"), k, v) {
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(attn_store_db(s),
                                            "SELECT type FROM users WHERE login = ?1", -1, &q,
                                            NULL),
                         SQLITE_OK);
        sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        if (strcmp((const char *)sqlite3_column_text(q, 0), json_string_value(v)))
            fail_msg("%s: user %s has type %s", name, k, sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
    }

    /* Idempotence: a second load adds nothing. */
    if (attn_bundle_apply(s, bundle, &st2, &err))
        fail_msg("%s: reload failed: %s", name, err.msg);
    assert_int_equal(st2.norm.events_inserted, 0);
    assert_int_equal(st2.norm.events_duplicate, st.norm.events_inserted + st.norm.events_duplicate);

    json_array_foreach(json_object_get(c, "snapshots"), i, v)
        check_snapshot(s, name, v);

    /* No snapshot may depend on anything after its cutoff. */
    {
        json_t *snaps = json_object_get(c, "snapshots");
        size_t n = json_array_size(snaps);
        json_t **order = n ? calloc(n, sizeof(*order)) : NULL;
        for (i = 0; i < n; i++)
            order[i] = json_array_get(snaps, i);
        if (n)
            qsort(order, n, sizeof(*order), cmp_as_of_desc);
        for (i = 0; i < n; i++) {
            int64_t number = json_integer_value(json_object_get(order[i], "pr"));
            int64_t t = t_of(json_string_value(json_object_get(order[i], "as_of")));
            char *before = snapshot_text(s, number, t), *after;
            truncate_after(s, t);
            after = snapshot_text(s, number, t);
            if (strcmp(before, after))
                fail_msg("%s: snapshot at %lld changed after deleting later events:\n%s\n%s",
                         name, (long long)t, before, after);
            free(before);
            free(after);
        }
        free(order);
    }
done:
    attn_store_close(s);
    rm_rf(dir);
    free(dir);
    json_decref(c);
}

/* ---- hand-built history: interval boundaries ---------------------------------- */

static void ev(attn_store *s, int64_t at, const char *subj_type, int64_t subj, const char *type,
               const char *obj_type, int64_t obj, const char *sha, const char *payload,
               const char *key)
{
    attn_event_row e = {1, at, 10, subj_type, subj, type, obj_type, obj, sha, payload, key};
    attn_error err;
    if (attn_store_insert_event(s, &e, NULL, NULL, &err))
        fail_msg("insert %s: %s", key, err.msg);
}

static attn_store *hand_built(char **dir)
{
    attn_store *s = open_tmp_store(dir);
    attn_error err;
    attn_repo_row repo = {1, 100, "acme", "widgets", "acme/widgets", NULL, "main", 0, 0, 0,
                          ATTN_NULL_I64, ATTN_NULL_I64, ATTN_NULL_I64};
    attn_user_row alice = {10, "alice", "User", 0, NULL}, bob = {11, "bob", "User", 0, NULL};
    attn_team_row team = {11, "core", "Core"};
    attn_label_row bug = {301, 1, "bug", NULL, NULL, 0};
    attn_issue_row issue = {5001, 1, 1, 10, "Z", "z", "open", 1000, 1000, ATTN_NULL_I64, 1, 0};
    attn_pull_request_row pr;
    memset(&pr, 0, sizeof(pr));
    pr.id = 1001; pr.repo_id = 1; pr.number = 1; pr.issue_id = 5001; pr.user_id = 10;
    pr.title = "LATEST TITLE"; pr.body = "LATEST BODY"; pr.state = "closed"; pr.draft = 1;
    pr.head_sha = "LATEST"; pr.created_at = 1000; pr.updated_at = 1000;
    pr.closed_at = ATTN_NULL_I64; pr.merged_at = ATTN_NULL_I64;
    assert_int_equal(attn_store_upsert_repo(s, &repo, &err), 0);
    assert_int_equal(attn_store_upsert_user(s, &alice, &err), 0);
    assert_int_equal(attn_store_upsert_user(s, &bob, &err), 0);
    assert_int_equal(attn_store_upsert_team(s, &team, &err), 0);
    assert_int_equal(attn_store_upsert_label(s, &bug, &err), 0);
    assert_int_equal(attn_store_upsert_issue(s, &issue, &err), 0);
    assert_int_equal(attn_store_upsert_pull_request(s, &pr, &err), 0);

    ev(s, 1000, "issue", 5001, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL, "k1");
    ev(s, 1000, "issue", 5001, "issue.content.set", NULL, ATTN_NULL_I64, NULL,
       "{\"title\":\"A\",\"body\":\"x\"}", "k2");
    ev(s, 1000, "pull_request", 1001, "pull_request.head.set", NULL, ATTN_NULL_I64, "s1",
       "{\"head_ref\":\"r\"}", "k3");
    ev(s, 1000, "pull_request", 1001, "pull_request.draft.set", NULL, ATTN_NULL_I64, NULL,
       "{\"is_draft\":false}", "k4");
    ev(s, 1000, "pull_request", 1001, "pull_request.base.set", NULL, ATTN_NULL_I64, "b1",
       "{\"base_ref\":\"main\"}", "k5");
    ev(s, 2000, "issue", 5001, "issue.content.edit", NULL, ATTN_NULL_I64, NULL,
       "{\"title\":\"B\"}", "k6");
    ev(s, 1500, "issue", 5001, "issue.label.add", "label", 301, NULL, NULL, "k7");
    ev(s, 2500, "issue", 5001, "issue.label.remove", "label", 301, NULL, NULL, "k8");
    ev(s, 1200, "pull_request", 1001, "pull_request.review_request.add", "user", 11, NULL, NULL,
       "k9");
    ev(s, 1200, "pull_request", 1001, "pull_request.review_request.add", "team", 11, NULL, NULL,
       "k10");
    ev(s, 1800, "pull_request", 1001, "pull_request.review_request.remove", "user", 11, NULL,
       NULL, "k11");
    ev(s, 3000, "issue", 5001, "issue.closed", NULL, ATTN_NULL_I64, NULL, NULL, "k12");
    if (attn_store_rebuild_intervals(s, 1, NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
    return s;
}

static json_t *snap_at(attn_store *s, int64_t t)
{
    json_t *snap;
    attn_error err;
    if (attn_asof_pr_snapshot(s, 1, 1, t, &snap, &err))
        fail_msg("snapshot at %lld: %s", (long long)t, err.msg);
    return snap;
}

static void test_asof_title_boundary(void **state)
{
    char *dir;
    attn_store *s = hand_built(&dir);
    json_t *a = snap_at(s, 1999), *b = snap_at(s, 2000);
    (void)state;
    /* Start-inclusive, end-exclusive: at the rename instant the new title. */
    assert_string_equal(attn_json_str(a, "title"), "A");
    assert_string_equal(attn_json_str(b, "title"), "B");
    assert_string_equal(attn_json_str(b, "body"), "x");   /* carried across the title edit */
    /* The hand-built store has no file lists: that is the only risk. */
    assert_int_equal(json_array_size(json_object_get(b, "leak_risk")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(b, "leak_risk"), 0)),
                        "files_unknown_at_cutoff");
    /* Never the latest columns. */
    assert_string_equal(attn_json_str(a, "head_sha"), "s1");
    assert_false(json_is_true(json_object_get(a, "draft")));
    assert_string_equal(attn_json_str(a, "state"), "open");
    json_decref(a);
    json_decref(b);
    a = snap_at(s, 3000);
    assert_string_equal(attn_json_str(a, "state"), "closed");
    json_decref(a);
    attn_store_close(s);
    rm_rf(dir);
    free(dir);
}

static void test_asof_labels_and_requests(void **state)
{
    static const struct { int64_t t; size_t labels; const char *requests; } cases[] = {
        {1000, 0, "[]"},
        {1199, 0, "[]"},
        {1200, 0, "[{\"name\":\"core\",\"type\":\"team\"},{\"name\":\"bob\",\"type\":\"user\"}]"},
        {1499, 0, "[{\"name\":\"core\",\"type\":\"team\"},{\"name\":\"bob\",\"type\":\"user\"}]"},
        {1500, 1, "[{\"name\":\"core\",\"type\":\"team\"},{\"name\":\"bob\",\"type\":\"user\"}]"},
        {1799, 1, "[{\"name\":\"core\",\"type\":\"team\"},{\"name\":\"bob\",\"type\":\"user\"}]"},
        {1800, 1, "[{\"name\":\"core\",\"type\":\"team\"}]"},
        {2499, 1, "[{\"name\":\"core\",\"type\":\"team\"}]"},
        {2500, 0, "[{\"name\":\"core\",\"type\":\"team\"}]"},
    };
    char *dir;
    attn_store *s = hand_built(&dir);
    attn_asof_reader *rdr;
    attn_error err;
    (void)state;
    /* One reader for every cutoff: its cached statements must not leak state. */
    assert_int_equal(attn_asof_reader_open(s, &rdr, &err), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *snap;
        if (attn_asof_reader_pr_snapshot(rdr, 1, 1, cases[i].t, &snap, &err))
            fail_msg("snapshot at %lld: %s", (long long)cases[i].t, err.msg);
        char *rr = json_dumps(json_object_get(snap, "review_requests"),
                              JSON_SORT_KEYS | JSON_COMPACT);
        if (json_array_size(json_object_get(snap, "labels")) != cases[i].labels)
            fail_msg("at %lld: %zu labels", (long long)cases[i].t,
                     json_array_size(json_object_get(snap, "labels")));
        if (strcmp(rr, cases[i].requests))
            fail_msg("at %lld: review_requests %s, expected %s", (long long)cases[i].t, rr,
                     cases[i].requests);
        free(rr);
        json_decref(snap);
    }
    attn_asof_reader_free(rdr);
    attn_store_close(s);
    rm_rf(dir);
    free(dir);
}

static void test_asof_not_found(void **state)
{
    char *dir;
    attn_store *s = hand_built(&dir);
    json_t *snap = NULL;
    attn_error err;
    (void)state;
    assert_int_equal(attn_asof_pr_snapshot(s, 1, 1, 999, &snap, &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "did not exist yet"));
    assert_null(snap);
    assert_int_equal(attn_asof_pr_snapshot(s, 1, 42, 5000, &snap, &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "#42"));
    attn_store_close(s);
    rm_rf(dir);
    free(dir);
}

static void test_url_number(void **state)
{
    (void)state;
    assert_int_equal(attn_norm_url_number("https://api.github.com/repos/a/b/issues/12"), 12);
    assert_int_equal(attn_norm_url_number("https://x/pulls/7"), 7);
    assert_int_equal(attn_norm_url_number("https://x/pulls/"), -1);
    assert_int_equal(attn_norm_url_number("12"), 12);
    assert_int_equal(attn_norm_url_number("abc12"), -1);
    assert_int_equal(attn_norm_url_number(NULL), -1);
}

static void test_bundle_check(void **state)
{
    attn_error err;
    json_t *b = json_pack("{s:s, s:{s:s}}", "format", "attn.github_bundle.v1", "repo",
                          "full_name", "acme/widgets");
    (void)state;
    assert_int_equal(attn_bundle_check(b, "x.json", "acme/widgets", &err), 0);
    assert_int_equal(attn_bundle_check(b, "x.json", "ACME/Widgets", &err), ATTN_EINVAL);
    assert_int_equal(attn_bundle_check(b, "x.json", "acme/other", &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "acme/widgets"));
    assert_non_null(strstr(err.msg, "acme/other"));
    json_object_set_new(b, "format", json_string("v0"));
    assert_int_equal(attn_bundle_check(b, "x.json", "acme/widgets", &err), ATTN_EINVAL);
    json_decref(b);
}

/* A bundle with events but no issues or pulls at all: the events are skipped
 * and counted (before issue 19, bsearch ran on a NULL group array: undefined
 * behaviour that UBSan reports, found by fuzz_normalize). */
static void test_bundle_only_orphan_events(void **state)
{
    char *dir;
    attn_store *s = open_tmp_store(&dir);
    attn_bundle_stats st;
    attn_error err;
    json_t *b = json_loads(
        "{\"format\": \"attn.github_bundle.v1\", \"repo\": {\"id\": 1, \"name\": \"widgets\","
        " \"full_name\": \"acme/widgets\", \"owner\": {\"id\": 100, \"login\": \"acme\","
        " \"type\": \"Organization\"}, \"default_branch\": \"main\", \"private\": false,"
        " \"created_at\": \"2023-01-01T00:00:00Z\"},"
        " \"issue_events\": [{\"id\": 9201, \"event\": \"closed\","
        " \"created_at\": \"2024-01-02T00:00:00Z\", \"actor\": null,"
        " \"issue\": {\"number\": 42, \"id\": 5042}}]}", 0, NULL);
    (void)state;
    assert_non_null(b);
    if (attn_bundle_apply(s, b, &st, &err))
        fail_msg("load: %s", err.msg);
    assert_int_equal(st.norm.events_inserted, 0);
    assert_int_equal(count_sql(s, "SELECT count(*) FROM events WHERE event_key = ?1",
                               "issue_event:9201"), 0);
    json_decref(b);
    attn_store_close(s);
    rm_rf(dir);
    free(dir);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_asof_title_boundary),
        cmocka_unit_test(test_bundle_only_orphan_events),
        cmocka_unit_test(test_asof_labels_and_requests),
        cmocka_unit_test(test_asof_not_found),
        cmocka_unit_test(test_url_number),
        cmocka_unit_test(test_bundle_check),
    };
    char dirpath[600], *names[256];
    size_t n = 0, nf = sizeof(fixed) / sizeof(fixed[0]);
    struct CMUnitTest *tests;
    DIR *d;
    struct dirent *de;
    int rc;

    test_data_path("normalize", dirpath, sizeof(dirpath));
    if (!(d = opendir(dirpath))) {
        fprintf(stderr, "cannot open %s\n", dirpath);
        return 1;
    }
    while ((de = readdir(d)) && n < 256) {
        size_t len = strlen(de->d_name);
        if (len > 5 && !strcmp(de->d_name + len - 5, ".json"))
            names[n++] = strndup(de->d_name, len - 5);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    tests = calloc(n + nf, sizeof(*tests));
    for (size_t i = 0; i < nf; i++)
        tests[i] = fixed[i];
    for (size_t i = 0; i < n; i++) {
        tests[nf + i].name = names[i];
        tests[nf + i].test_func = run_case;
        tests[nf + i].initial_state = names[i];
    }
    rc = _cmocka_run_group_tests("normalize", tests, n + nf, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(tests);
    return rc;
}
