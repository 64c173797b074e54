/*
 * test_contract.c - the contract check (src/store/contract.c): a good store
 * passes; each kind of damage is reported with the right finding.
 */
#include "store_fixture.h"
#include "store/store_internal.h"

static attn_store *good_store(void)
{
    attn_store *s = NULL;
    attn_error err;
    if (attn_store_open(":memory:", &s, &err))
        fail_msg("%s", err.msg);
    fx_populate(s);
    fx_event(s, "1", 100, "issue", 10, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "2", 110, "issue", 10, "issue.label.add", "label", 5, NULL, NULL);
    fx_event(s, "3", 200, "issue", 10, "issue.label.remove", "label", 5, NULL, NULL);
    fx_event(s, "4", 200, "issue", 10, "issue.label.add", "label", 5, NULL, NULL);
    fx_event(s, "5", 300, "issue", 10, "issue.label.remove", "label", 5, NULL, NULL);
    fx_event(s, "6", 300, "issue", 10, "issue.label.add", "label", 6, NULL, NULL);
    fx_event(s, "7", 300, "issue", 10, "issue.label.remove", "label", 6, NULL, NULL);
    fx_event(s, "8", 120, "pull_request", 20, "pull_request.review_request.add", "user", 5, NULL,
             NULL);
    fx_event(s, "9", 130, "pull_request", 20, "pull_request.review_request.add", "team", 5, NULL,
             NULL);
    fx_event(s, "10", 140, "comment", 30, "comment.created", NULL, ATTN_NULL_I64, NULL,
             "{\"body\":\"x\"}");
    if (attn_store_rebuild_intervals(s, 1, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    return s;
}

static attn_contract_report check(attn_store *s)
{
    attn_contract_report r;
    attn_error err;
    if (attn_store_contract_check(s, 1, &r, &err))
        fail_msg("contract check could not run: %s", err.msg);
    return r;
}

/* Number of findings that start with `prefix` and contain `needle` (may be NULL). */
static int count_findings(const attn_contract_report *r, const char *prefix, const char *needle)
{
    int n = 0;
    for (int i = 0; i < r->n_findings; i++)
        if (!strncmp(r->findings[i], prefix, strlen(prefix)) &&
            (!needle || strstr(r->findings[i], needle)))
            n++;
    return n;
}

static void print_findings(const attn_contract_report *r)
{
    for (int i = 0; i < r->n_findings; i++)
        fprintf(stderr, "# %s\n", r->findings[i]);
}

static void test_good_store_passes(void **state)
{
    attn_store *s = good_store();
    attn_contract_report r = check(s);
    print_findings(&r);
    assert_true(r.ok);
    assert_int_equal(r.n_findings, 0);
    assert_int_equal(r.schema_version, 2);
    assert_int_equal(r.n_tables, 31);
    /* state 1, labels 3 (two touching, one zero-length), review requests 2, comment 1 */
    assert_int_equal(r.n_intervals, 7);
    attn_contract_report_free(&r);
    /* an empty, freshly created store passes too */
    attn_store *e = NULL;
    attn_error err;
    assert_int_equal(attn_store_open(":memory:", &e, &err), 0);
    assert_int_equal(attn_store_contract_check(e, ATTN_NULL_I64, &r, &err), 0);
    assert_true(r.ok);
    assert_int_equal(r.n_intervals, 0);
    attn_contract_report_free(&r);
    attn_store_close(e);
    attn_store_close(s);
}

static void test_overlap_detected(void **state)
{
    attn_store *s = good_store();
    /* a second open interval for (issue 10, label 5) starting inside the first */
    fx_exec(s, "INSERT INTO issue_label_intervals (issue_id, label_id, start_event_id,"
               " start_at) VALUES (10, 5, 4, 200)");
    /* a second open state interval for issue 10 (single-valued: owner alone is the key) */
    fx_exec(s, "INSERT INTO issue_state_intervals (issue_id, state, start_event_id, start_at)"
               " VALUES (10, 'closed', 2, 110)");
    attn_contract_report r = check(s);
    print_findings(&r);
    assert_false(r.ok);
    assert_int_equal(count_findings(&r, "FAIL overlap issue_label_intervals", "issue_id=10 label_id=5"), 1);
    assert_int_equal(count_findings(&r, "FAIL overlap issue_state_intervals", "issue_id=10"), 1);
    assert_int_equal(count_findings(&r, "FAIL overlap", NULL), 2);
    assert_int_equal(r.n_findings, 2);
    attn_contract_report_free(&r);
    attn_store_close(s);
}

static void test_user_and_team_requests_do_not_overlap(void **state)
{
    /* user 5 and team 5 are open at once on PR 20: different keys, no finding
     * (checked by the good store); the same reviewer twice is an overlap. */
    attn_store *s = good_store();
    fx_exec(s, "INSERT INTO pull_request_review_request_intervals (pull_request_id,"
               " reviewer_type, reviewer_id, start_event_id, start_at) VALUES (20,'team',5,9,130)");
    attn_contract_report r = check(s);
    assert_int_equal(count_findings(&r, "FAIL overlap pull_request_review_request_intervals",
                                    "reviewer_type=team reviewer_id=5"), 1);
    assert_int_equal(r.n_findings, 1);
    attn_contract_report_free(&r);
    attn_store_close(s);
}

static void test_end_before_start(void **state)
{
    attn_store *s = good_store();
    fx_exec(s, "INSERT INTO issue_label_intervals (issue_id, label_id, start_event_id,"
               " end_event_id, start_at, end_at) VALUES (10, 6, 3, 2, 200, 110)");
    attn_contract_report r = check(s);
    print_findings(&r);
    assert_false(r.ok);
    assert_int_equal(count_findings(&r, "FAIL end_before_start issue_label_intervals", "end_at=110"), 1);
    attn_contract_report_free(&r);
    attn_store_close(s);
}

static void test_dangling_and_mismatched_events(void **state)
{
    attn_store *s = good_store();
    /* raw SQL with foreign keys off, as a buggy writer or a hand edit would */
    fx_exec(s, "PRAGMA foreign_keys = OFF;"
               "INSERT INTO comment_content_intervals (comment_id, body, start_event_id,"
               " start_at) VALUES (31, 'ghost', 9999, 500);"
               "PRAGMA foreign_keys = ON;");
    /* start_at that disagrees with the event's occurred_at */
    fx_exec(s, "UPDATE issue_state_intervals SET start_at = 101 WHERE issue_id = 10");
    /* an event about another subject: event 8 is about PR 20, not review 40 */
    fx_exec(s, "INSERT INTO review_content_intervals (review_id, body, state, start_event_id,"
               " start_at) VALUES (40, 'b', 'APPROVED', 8, 120)");
    attn_contract_report r = check(s);
    print_findings(&r);
    assert_false(r.ok);
    assert_int_equal(count_findings(&r, "FAIL dangling_event comment_content_intervals",
                                    "start_event_id=9999"), 1);
    assert_int_equal(count_findings(&r, "FAIL foreign_key comment_content_intervals", "events"), 1);
    assert_int_equal(count_findings(&r, "FAIL event_time issue_state_intervals",
                                    "start_at=101 but event 1 occurred_at=100"), 1);
    assert_int_equal(count_findings(&r, "FAIL event_subject review_content_intervals",
                                    "pull_request 20"), 1);
    assert_int_equal(r.n_findings, 4);
    attn_contract_report_free(&r);
    attn_store_close(s);
}

static void test_half_closed_interval(void **state)
{
    attn_store *s = good_store();
    fx_exec(s, "UPDATE comment_content_intervals SET end_event_id = 10");
    attn_contract_report r = check(s);
    assert_int_equal(count_findings(&r, "FAIL end_mismatch comment_content_intervals", NULL), 1);
    attn_contract_report_free(&r);
    attn_store_close(s);
}

static void test_schema_damage(void **state)
{
    attn_store *s = good_store();
    fx_exec(s, "DROP INDEX ix_events_subject; DROP INDEX ix_issue_label_intervals_owner;"
               "DROP TABLE qa_reports; ALTER TABLE watermarks DROP COLUMN cursor;");
    attn_contract_report r = check(s);
    print_findings(&r);
    assert_false(r.ok);
    assert_int_equal(count_findings(&r, "FAIL missing_index events(subject_type,subject_id,occurred_at)", NULL), 1);
    assert_int_equal(count_findings(&r, "FAIL missing_index issue_label_intervals(issue_id,start_at)", NULL), 1);
    assert_int_equal(count_findings(&r, "FAIL missing_table qa_reports", NULL), 1);
    assert_int_equal(count_findings(&r, "FAIL missing_column watermarks.cursor", NULL), 1);
    assert_int_equal(r.n_findings, 4);
    attn_contract_report_free(&r);
    attn_store_close(s);
}

static void test_old_schema_version(void **state)
{
    char *dir = test_tmpdir(), path[512];
    attn_store *s = NULL;
    attn_error err;
    attn_contract_report r;
    snprintf(path, sizeof(path), "%s/h.sqlite", dir);
    assert_int_equal(attn_store_open_at_version(path, 1, &s, &err), 0);
    attn_store_close(s);
    /* read-only open does not migrate, so the check sees version 1 */
    assert_int_equal(attn_store_open_readonly(path, &s, &err), 0);
    assert_int_equal(attn_store_contract_check(s, ATTN_NULL_I64, &r, &err), 0);
    print_findings(&r);
    assert_false(r.ok);
    assert_int_equal(count_findings(&r, "FAIL schema_version 1", NULL), 1);
    assert_int_equal(count_findings(&r, "FAIL missing_column pull_requests.files_truncated", NULL), 1);
    assert_int_equal(count_findings(&r, "FAIL missing_column pull_request_files.previous_path", NULL), 1);
    attn_contract_report_free(&r);
    attn_store_close(s);
    fx_rm_rf(dir);
}

static void test_missing_repo_and_many_findings(void **state)
{
    attn_store *s = good_store();
    attn_contract_report r;
    attn_error err;
    assert_int_equal(attn_store_contract_check(s, 42, &r, &err), 0);
    assert_int_equal(count_findings(&r, "FAIL missing_repo", "id=42"), 1);
    attn_contract_report_free(&r);
    /* 1,500 overlapping rows: the list is capped and says how many were left out */
    fx_exec(s, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)"
               " INSERT INTO issue_state_intervals (issue_id, state, start_event_id, start_at)"
               " SELECT 10, 'open', 1, 100 FROM n");
    r = check(s);
    assert_false(r.ok);
    assert_int_equal(r.n_findings, 1001);
    assert_non_null(strstr(r.findings[1000], "and 500 more findings"));
    attn_contract_report_free(&r);
    attn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_store_passes),
        cmocka_unit_test(test_overlap_detected),
        cmocka_unit_test(test_user_and_team_requests_do_not_overlap),
        cmocka_unit_test(test_end_before_start),
        cmocka_unit_test(test_dangling_and_mismatched_events),
        cmocka_unit_test(test_half_closed_interval),
        cmocka_unit_test(test_schema_damage),
        cmocka_unit_test(test_old_schema_version),
        cmocka_unit_test(test_missing_repo_and_many_findings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
