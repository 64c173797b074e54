/*
 * test_registry.c - the run registry (exp/registry.h): schema and
 * migration, status and lifecycle transitions with their audit trail, tags,
 * and retention decisions at a fixed "now".
 */
#include "testutil.h"
#include "exp/registry.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <sqlite3.h>

#define DAY 86400
#define NOW ((int64_t)2000000000)

static attn_registry *open_tmp(char **dir, char *path, size_t cap)
{
    attn_registry *r = NULL;
    attn_error err;
    *dir = test_tmpdir();
    snprintf(path, cap, "%s/runs.sqlite", *dir);
    assert_int_equal(attn_registry_open(path, &r, &err), 0);
    return r;
}

static void start(attn_registry *r, const char *id, const char *kind, int64_t at)
{
    attn_run_start s;
    attn_error err;
    memset(&s, 0, sizeof(s));
    s.run_id = id;
    s.kind = kind;
    s.spec_hash = "spec";
    s.cohort_hash = "cohort";
    s.code_version = "test";
    s.run_dir = "/nonexistent";
    s.started_at = at;
    assert_int_equal(attn_registry_start(r, &s, &err), 0);
}

static void complete(attn_registry *r, const char *id, int64_t at)
{
    attn_run_finish f;
    attn_error err;
    memset(&f, 0, sizeof(f));
    f.inputs_hash = "in";
    f.db_horizon = ATTN_NULL_I64;
    f.finished_at = at;
    f.duration_ms = 5;
    f.n_prs = 3;
    f.gates_pass = 1;
    f.promote = 0;
    assert_int_equal(attn_registry_complete(r, id, &f, &err), 0);
}

static void test_schema_and_transitions(void **state)
{
    char *dir, path[4200];
    attn_registry *r = open_tmp(&dir, path, sizeof(path));
    attn_error err;
    json_t *row = NULL, *ev = NULL;
    (void)state;
    start(r, "a", "experimental", NOW);
    assert_int_equal(attn_registry_get(r, "a", &row, &err), 0);
    assert_string_equal(attn_json_str(row, "status"), "running");
    assert_string_equal(attn_json_str(row, "lifecycle"), "active");
    json_decref(row);
    complete(r, "a", NOW + 1);
    assert_int_equal(attn_registry_get(r, "a", &row, &err), 0);
    assert_string_equal(attn_json_str(row, "status"), "completed");
    assert_int_equal(attn_json_i64(row, "n_prs", 0), 3);
    assert_true(json_is_true(json_object_get(row, "gates_pass")));
    assert_string_equal(attn_json_str(row, "finished_at"), "2033-05-18T03:33:21Z");
    json_decref(row);
    assert_int_equal(attn_registry_tag(r, "a", "z", 1, NOW, &err), 0);
    assert_int_equal(attn_registry_tag(r, "a", "b", 1, NOW, &err), 0);
    assert_int_equal(attn_registry_tag(r, "a", "z", 1, NOW, &err), 0);
    assert_int_equal(attn_registry_get(r, "a", &row, &err), 0);
    assert_int_equal(json_array_size(json_object_get(row, "tags")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(row, "tags"), 0)), "b");
    json_decref(row);
    assert_int_equal(attn_registry_set_lifecycle(r, "a", "archived", NOW, NULL, &err), 0);
    assert_int_equal(attn_registry_set_lifecycle(r, "a", "active", NOW, NULL, &err), 0);
    assert_int_equal(attn_registry_set_lifecycle(r, "a", "deleted", NOW, NULL, &err), 0);
    assert_int_equal(attn_registry_set_lifecycle(r, "a", "active", NOW, NULL, &err), ATTN_ECONFLICT);
    assert_int_equal(attn_registry_set_lifecycle(r, "a", "gone", NOW, NULL, &err), ATTN_EINVAL);
    assert_int_equal(attn_registry_get(r, "nosuch", &row, &err), ATTN_ENOTFOUND);
    assert_int_equal(attn_registry_fail(r, "nosuch", "x", NOW, 1, &err), ATTN_ENOTFOUND);
    /* a rerun revives the id and is logged */
    start(r, "a", "experimental", NOW + 10);
    assert_int_equal(attn_registry_fail(r, "a", "boom", NOW + 11, 1000, &err), 0);
    assert_int_equal(attn_registry_get(r, "a", &row, &err), 0);
    assert_string_equal(attn_json_str(row, "status"), "failed");
    assert_string_equal(attn_json_str(row, "error"), "boom");
    assert_string_equal(attn_json_str(row, "lifecycle"), "active");
    json_decref(row);
    assert_int_equal(attn_registry_events(r, "a", &ev, &err), 0);
    {
        static const char *const want[] = {"start", "complete", "tag", "tag", "tag", "archive",
                                           "restore", "delete", "rerun", "fail"};
        assert_int_equal(json_array_size(ev), 10);
        for (size_t i = 0; i < 10; i++)
            assert_string_equal(attn_json_str(json_array_get(ev, i), "action"), want[i]);
    }
    json_decref(ev);
    attn_registry_close(r);
    /* reopening keeps the version; a newer file is refused */
    assert_int_equal(attn_registry_open(path, &r, &err), 0);
    attn_registry_close(r);
    {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
    assert_int_equal(attn_registry_open(path, &r, &err), ATTN_ECORRUPT);
    assert_non_null(strstr(err.msg, "newer"));
    attn_fs_remove_tree(dir, &err);
    free(dir);
}

static void test_list_filters(void **state)
{
    char *dir, path[4200];
    attn_registry *r = open_tmp(&dir, path, sizeof(path));
    attn_run_filter f;
    attn_error err;
    json_t *rows = NULL;
    (void)state;
    start(r, "b", "baseline", NOW - 2);
    start(r, "a", "experimental", NOW - 1);
    complete(r, "a", NOW);
    memset(&f, 0, sizeof(f));
    assert_int_equal(attn_registry_list(r, &f, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(attn_json_str(json_array_get(rows, 0), "run_id"), "b");
    json_decref(rows);
    f.status = "completed";
    assert_int_equal(attn_registry_list(r, &f, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(attn_registry_set_lifecycle(r, "a", "deleted", NOW, NULL, &err), 0);
    memset(&f, 0, sizeof(f));
    assert_int_equal(attn_registry_list(r, &f, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);   /* deleted hidden by default */
    json_decref(rows);
    f.lifecycle = "deleted";
    assert_int_equal(attn_registry_list(r, &f, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    /* Two runs started in the same second list in the order they started
     * (not by name), and the retention plan keeps the later one. */
    start(r, "zz", "experimental", NOW + 5);
    complete(r, "zz", NOW + 5);
    start(r, "mm", "experimental", NOW + 5);
    complete(r, "mm", NOW + 5);
    memset(&f, 0, sizeof(f));
    f.kind = "experimental";
    assert_int_equal(attn_registry_list(r, &f, &rows, &err), 0);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(attn_json_str(json_array_get(rows, 0), "run_id"), "zz");
    assert_string_equal(attn_json_str(json_array_get(rows, 1), "run_id"), "mm");
    {
        attn_retention p;
        json_t *plan = NULL;
        attn_retention_init(&p);
        p.keep_last = 1;
        p.archive_after = 0;
        assert_int_equal(attn_retention_plan(rows, &p, NOW + 10, &plan, &err), 0);
        assert_int_equal(json_array_size(plan), 1);
        assert_string_equal(attn_json_str(json_array_get(plan, 0), "run_id"), "zz");
        json_decref(plan);
    }
    json_decref(rows);
    attn_registry_close(r);
    attn_fs_remove_tree(dir, &err);
    free(dir);
}

/* A row as attn_registry_list writes it. */
static json_t *row(const char *id, const char *kind, const char *status, const char *life,
                   int64_t age_days)
{
    char ts[ATTN_TIME_BUFSZ];
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "run_id", id, "kind", kind, "status",
                     status, "lifecycle", life, "started_at",
                     attn_time_format(NOW - age_days * DAY, ts), "run_dir", "/x");
}

static void test_retention_plan(void **state)
{
    attn_retention p;
    attn_error err;
    json_t *rows = json_array(), *plan = NULL;
    char got[1024] = "";
    size_t i;
    json_t *a;
    (void)state;
    attn_retention_init(&p);
    p.keep_last = 2;
    json_array_append_new(rows, row("base-old", "baseline", "completed", "active", 500));
    json_array_append_new(rows, row("base-arch", "baseline", "completed", "archived", 500));
    json_array_append_new(rows, row("e1", "experimental", "completed", "active", 1));
    json_array_append_new(rows, row("e2", "experimental", "completed", "active", 40));
    json_array_append_new(rows, row("e3", "experimental", "completed", "active", 50));
    json_array_append_new(rows, row("e4", "ab_control", "completed", "active", 60));
    json_array_append_new(rows, row("e5", "experimental", "completed", "active", 20));
    json_array_append_new(rows, row("f1", "experimental", "failed", "active", 31));
    json_array_append_new(rows, row("f2", "experimental", "failed", "active", 29));
    json_array_append_new(rows, row("r1", "experimental", "running", "active", 400));
    json_array_append_new(rows, row("x1", "experimental", "completed", "archived", 91));
    json_array_append_new(rows, row("x2", "experimental", "completed", "archived", 89));
    json_array_append_new(rows, row("d1", "experimental", "completed", "deleted", 400));
    assert_int_equal(attn_retention_plan(rows, &p, NOW, &plan, &err), 0);
    json_array_foreach(plan, i, a) {
        strcat(got, attn_json_str(a, "action"));
        strcat(got, ":");
        strcat(got, attn_json_str(a, "run_id"));
        strcat(got, " ");
    }
    /* kept: e1, e5 (the last two); e2..e4 older than 30 d -> archive; f1
     * failed and older than 30 d -> delete; x1 archived > 90 d -> delete;
     * baselines, running and deleted runs untouched. */
    assert_string_equal(got, "archive:e2 archive:e3 archive:e4 delete:f1 delete:x1 ");
    json_decref(plan);
    /* keep_last covers everything: only failed and old archived runs go */
    p.keep_last = 100;
    assert_int_equal(attn_retention_plan(rows, &p, NOW, &plan, &err), 0);
    assert_int_equal(json_array_size(plan), 2);
    json_decref(plan);
    /* policy file parsing */
    {
        json_t *pj = json_pack("{s:i, s:i}", "keep_last", 3, "archive_after_days", 7);
        assert_int_equal(attn_retention_from_json(pj, "r.json", &p, &err), 0);
        assert_int_equal(p.keep_last, 3);
        assert_int_equal(p.archive_after, 7 * DAY);
        assert_int_equal(p.delete_after, 90 * DAY);
        json_object_set_new(pj, "keep", json_integer(1));
        assert_int_equal(attn_retention_from_json(pj, "r.json", &p, &err), ATTN_EINVAL);
        assert_non_null(strstr(err.msg, "unknown key 'keep'"));
        json_decref(pj);
    }
    json_decref(rows);
}

/* Which external runs a filter lets through: one rule for `attn runs list`
 * and the service (an external run is active, kind "external", in no
 * experiment). */
static void test_external_filter(void **state)
{
    (void)state;
    json_t *ext = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s}]", "run_id", "a", "status",
                            "finished", "run_id", "b", "status", "crashed", "run_id", "c");
    struct {
        attn_run_filter f;
        size_t want;
    } cases[] = {
        {{NULL, NULL, NULL, NULL, 0}, 3},
        {{"finished", NULL, NULL, NULL, 0}, 1},
        {{NULL, "external", NULL, NULL, 0}, 3},
        {{NULL, "baseline", NULL, NULL, 0}, 0},
        {{NULL, NULL, "active", NULL, 0}, 3},
        {{NULL, NULL, "archived", NULL, 0}, 0},
        {{NULL, NULL, NULL, "exp-1", 0}, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *rows = json_array();
        attn_registry_add_external(rows, ext, &cases[i].f);
        assert_int_equal(json_array_size(rows), cases[i].want);
        json_decref(rows);
    }
    json_decref(ext);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_and_transitions),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_retention_plan),
        cmocka_unit_test(test_external_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
