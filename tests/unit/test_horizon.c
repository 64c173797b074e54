/*
 * test_horizon.c - the one staleness rule of eval and doctor
 * (src/eval/horizon.c): the horizon is the latest event; a cutoff at the
 * horizon is not stale, one second after is; a database error is an error,
 * never a horizon (before issue 19 it read as "no events", so every cutoff
 * was refused as stale).
 */
#include "store_fixture.h"
#include "eval/horizon.h"

static void test_horizon_and_rule(void **state)
{
    attn_store *s = NULL;
    attn_error err;
    int64_t h = 0;
    (void)state;
    assert_int_equal(attn_store_open(":memory:", &s, &err), 0);
    fx_populate(s);
    assert_int_equal(attn_eval_horizon(s, 1, &h, &err), 0);
    assert_true(h == ATTN_NULL_I64);
    assert_true(attn_eval_cutoff_stale(h, 0));
    fx_event(s, "1", 100, "issue", 10, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_event(s, "2", 250, "issue", 10, "issue.closed", NULL, ATTN_NULL_I64, NULL, NULL);
    assert_int_equal(attn_eval_horizon(s, 1, &h, &err), 0);
    assert_int_equal(h, 250);
    assert_false(attn_eval_cutoff_stale(h, 249));
    assert_false(attn_eval_cutoff_stale(h, 250));
    assert_true(attn_eval_cutoff_stale(h, 251));
    /* another repository's events do not move this one's horizon */
    assert_int_equal(attn_eval_horizon(s, 2, &h, &err), 0);
    assert_true(h == ATTN_NULL_I64);
    attn_store_close(s);
}

static void test_db_error_is_not_stale(void **state)
{
    attn_store *s = NULL;
    attn_error err;
    int64_t h = 0;
    (void)state;
    assert_int_equal(attn_store_open(":memory:", &s, &err), 0);
    fx_populate(s);
    fx_event(s, "1", 100, "issue", 10, "issue.opened", NULL, ATTN_NULL_I64, NULL, NULL);
    fx_exec(s, "PRAGMA foreign_keys=OFF; ALTER TABLE events RENAME TO events_gone");
    attn_error_clear(&err);
    assert_int_equal(attn_eval_horizon(s, 1, &h, &err), ATTN_EDB);
    assert_non_null(strstr(err.msg, "horizon"));
    assert_true(h == ATTN_NULL_I64);
    attn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_horizon_and_rule),
        cmocka_unit_test(test_db_error_is_not_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
