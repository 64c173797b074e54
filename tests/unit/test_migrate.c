/*
 * test_migrate.c - numbered migrations: a file written at schema version 1
 * is upgraded to the current version on open, in place, keeping its rows.
 */
#include "store_fixture.h"
#include "store/store_internal.h"

static void test_v1_to_v2_keeps_rows(void **state)
{
    char *dir = test_tmpdir(), path[512];
    attn_error err;
    attn_store *s = NULL;
    snprintf(path, sizeof(path), "%s/history.sqlite", dir);

    assert_int_equal(attn_store_open_at_version(path, 1, &s, &err), 0);
    assert_int_equal(fx_count(s, "PRAGMA user_version"), 1);
    /* v1 has no files_truncated / previous_path: write rows with raw SQL as a v1 attn did */
    assert_int_equal(fx_count(s, "SELECT count(*) FROM pragma_table_info('pull_requests')"
                                 " WHERE name = 'files_truncated'"), 0);
    fx_exec(s, "INSERT INTO repos (id, owner_login, name, full_name) VALUES (1,'o','r','o/r');"
               "INSERT INTO users (id, login, type) VALUES (100,'alice','User');"
               "INSERT INTO issues (id, repo_id, number, user_id, title) VALUES (11,1,2,100,'T');"
               "INSERT INTO pull_requests (id, repo_id, number, issue_id, user_id, title, head_sha)"
               " VALUES (20,1,2,11,100,'T','h1');"
               "INSERT INTO pull_request_files (repo_id, pull_request_id, head_sha, path, status,"
               " additions) VALUES (1,20,'h1','a.c','modified',5);"
               "INSERT INTO events (repo_id, occurred_at, subject_type, subject_id, event_type,"
               " event_key) VALUES (1,100,'issue',11,'issue.opened','k1');"
               "INSERT INTO issue_state_intervals (issue_id, state, start_event_id, start_at)"
               " VALUES (11,'open',1,100);");
    attn_store_close(s);

    assert_int_equal(attn_store_open(path, &s, &err), 0);
    assert_int_equal(fx_count(s, "PRAGMA user_version"), 2);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM pull_requests WHERE id = 20 AND title = 'T'"
                                 " AND head_sha = 'h1' AND files_truncated = 0"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM pull_request_files WHERE additions = 5"
                                 " AND previous_path IS NULL"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM events"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM issue_state_intervals"), 1);
    /* the new columns are usable through the API */
    attn_pr_file_row f = {1, 20, "h1", "a.c", "renamed", "old.c", 5, 0, 5};
    assert_int_equal(attn_store_upsert_pr_file(s, &f, &err), 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM pull_request_files WHERE previous_path = 'old.c'"), 1);
    /* and the upgraded file passes the contract */
    attn_contract_report rep;
    assert_int_equal(attn_store_contract_check(s, 1, &rep, &err), 0);
    for (int i = 0; i < rep.n_findings; i++)
        fprintf(stderr, "%s\n", rep.findings[i]);
    assert_true(rep.ok);
    attn_contract_report_free(&rep);
    attn_store_close(s);

    /* reopening a current file applies nothing */
    assert_int_equal(attn_store_open(path, &s, &err), 0);
    assert_int_equal(fx_count(s, "PRAGMA user_version"), 2);
    attn_store_close(s);
    fx_rm_rf(dir);
}

static void test_migrations_are_ordered(void **state)
{
    assert_true(attn_store_n_migrations >= 2);
    for (int i = 0; i < attn_store_n_migrations; i++) {
        assert_int_equal(attn_store_migrations[i].version, i + 1);
        assert_non_null(attn_store_migrations[i].sql);
    }
    assert_int_equal(attn_store_schema_version(), attn_store_n_migrations);
}

static void test_open_at_bad_version(void **state)
{
    attn_error err;
    attn_store *s = NULL;
    assert_int_equal(attn_store_open_at_version("/nonexistent/x", 0, &s, &err), ATTN_EINVAL);
    assert_int_equal(attn_store_open_at_version("/nonexistent/x", 3, &s, &err), ATTN_EINVAL);
    assert_null(s);
}

static void test_failed_migration_rolls_back(void **state)
{
    /* A v1 file whose data breaks migration 2's CHECK cannot exist, so simulate a
     * failure instead: a conflicting column makes ALTER TABLE fail, and the file
     * must stay at version 1 with its data. */
    char *dir = test_tmpdir(), path[512];
    attn_error err;
    attn_store *s = NULL;
    snprintf(path, sizeof(path), "%s/history.sqlite", dir);
    assert_int_equal(attn_store_open_at_version(path, 1, &s, &err), 0);
    fx_exec(s, "ALTER TABLE pull_request_files ADD COLUMN previous_path TEXT;"
               "INSERT INTO repos (id, owner_login, name, full_name) VALUES (1,'o','r','o/r');");
    attn_store_close(s);
    assert_int_equal(attn_store_open(path, &s, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "migration 2"));
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(attn_store_open_at_version(path, 1, &s, &err), 0);
    assert_int_equal(fx_count(s, "PRAGMA user_version"), 1);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM pragma_table_info('pull_requests')"
                                 " WHERE name = 'files_truncated'"), 0);
    assert_int_equal(fx_count(s, "SELECT count(*) FROM repos"), 1);
    attn_store_close(s);
    fx_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_to_v2_keeps_rows),
        cmocka_unit_test(test_migrations_are_ordered),
        cmocka_unit_test(test_open_at_bad_version),
        cmocka_unit_test(test_failed_migration_rolls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
