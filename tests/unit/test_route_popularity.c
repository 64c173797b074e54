/*
 * test_route_popularity.c - the `popularity` router on a hand-built store:
 * decayed sums against hand-computed values, window ends (inclusive, nothing
 * after the cutoff), weights, ties, bots and the author, the empty case,
 * evidence shape, bad configs.
 */
#include "baseline_fixture.h"

#define DAY 86400
#define T0 1700000000LL

typedef struct {
    char *dir;
    attn_store *s;
    attn_activity *act;
    attn_route_ctx ctx;
} fixture;

static void review(attn_store *s, int64_t id, int64_t user, int64_t at)
{
    attn_error err;
    attn_review_row r = {id, 1, 20, user, "COMMENTED", "", "abc", at};
    if (attn_store_upsert_review(s, &r, &err))
        fail_msg("review %lld: %s", (long long)id, err.msg);
}

static void conversation_comment(attn_store *s, int64_t id, int64_t user, int64_t at)
{
    attn_error err;
    attn_comment_row c = {id, 1, 11, 20, ATTN_NULL_I64, user, "hi", at, at,
                          NULL, ATTN_NULL_I64, NULL, ATTN_NULL_I64, "issue"};
    if (attn_store_upsert_comment(s, &c, &err))
        fail_msg("comment %lld: %s", (long long)id, err.msg);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    attn_error err;
    char path[512];
    fx->dir = test_tmpdir();
    snprintf(path, sizeof(path), "%s/history.sqlite", fx->dir);
    if (attn_store_open(path, &fx->s, &err))
        fail_msg("%s", err.msg);
    fx_populate(fx->s);   /* bob reviews and comments at t = 1100..1200: far outside */
    fx_user(fx->s, 110, "carol", "User");
    fx_user(fx->s, 111, "erin", "User");
    fx_user(fx->s, 112, "synth-ci", "Bot");
    review(fx->s, 500, 100, T0);                 /* alice: 1 */
    review(fx->s, 501, 100, T0 - 200 * DAY);     /* alice: outside 180 d */
    review(fx->s, 502, 110, T0 - 30 * DAY);      /* carol: 0.5 */
    review(fx->s, 503, 110, T0 - 60 * DAY);      /* carol: 0.25 */
    review(fx->s, 504, 111, T0 - 180 * DAY);     /* erin: first second of the window, 2^-6 */
    review(fx->s, 505, 111, T0 + 1);             /* erin: after the cutoff */
    review(fx->s, 506, 112, T0);                 /* a bot */
    conversation_comment(fx->s, 600, 110, T0 - 30 * DAY);   /* carol's comment */
    if (attn_activity_build(fx->s, 1, NULL, &fx->act, &err))
        fail_msg("activity: %s", err.msg);
    fx->ctx.store = fx->s;
    fx->ctx.repo_id = 1;
    fx->ctx.repo = "octo/demo";
    fx->ctx.activity = fx->act;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    attn_activity_free(fx->act);
    attn_store_close(fx->s);
    fx_rm_rf(fx->dir);
    free(fx);
    return 0;
}

static const char SNAP[] = "{\"number\": 2, \"author\": \"dave\", \"leak_risk\": []}";

static void test_decayed_sums(void **state)
{
    fixture *fx = *state;
    json_t *res = rf_route(&attn_router_popularity, NULL, &fx->ctx, SNAP, T0, 10);
    const json_t *d;
    assert_cands(res, "user:alice=1 user:carol=0.75 user:erin=0.015625");
    assert_string_equal(rf_str(res, "risk"), "medium");
    assert_string_equal(rf_str(res, "confidence"), "low");
    d = rf_ev(res, 1, 0, "popularity");
    assert_true(json_real_value(json_object_get(d, "decayed")) == 0.75);
    assert_int_equal(json_integer_value(json_object_get(d, "reviews")), 2);
    assert_int_equal(json_integer_value(json_object_get(d, "comments")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "review_comments")), 0);
    assert_int_equal(json_integer_value(json_object_get(d, "lookback_days")), 180);
    assert_int_equal(json_integer_value(json_object_get(d, "half_life_days")), 30);
    assert_int_equal(json_object_size(d), 6);
    /* erin's review one second after the cutoff is not counted */
    d = rf_ev(res, 2, 0, "popularity");
    assert_int_equal(json_integer_value(json_object_get(d, "reviews")), 1);
    json_decref(res);
}

static void test_windows_and_weights(void **state)
{
    fixture *fx = *state;
    json_t *res;
    /* no decay: plain counts */
    res = rf_route(&attn_router_popularity, "{\"half_life_days\": 0}", &fx->ctx, SNAP, T0, 10);
    assert_cands(res, "user:carol=2 user:alice=1 user:erin=1");
    json_decref(res);
    /* a 30-day window still includes carol's review at exactly T-30d */
    res = rf_route(&attn_router_popularity, "{\"lookback_days\": 30}", &fx->ctx, SNAP, T0, 10);
    assert_cands(res, "user:alice=1 user:carol=0.5");
    json_decref(res);
    /* comments weighted: carol 0.75 + 0.5 * 0.5 = 1 ties alice; ties go by name */
    res = rf_route(&attn_router_popularity, "{\"weights\": {\"comment\": 0.5}}", &fx->ctx, SNAP,
                   T0, 10);
    assert_cands(res, "user:alice=1 user:carol=1 user:erin=0.015625");
    json_decref(res);
    /* comments only: only carol has any */
    res = rf_route(&attn_router_popularity, "{\"weights\": {\"review\": 0, \"comment\": 2}}",
                   &fx->ctx, SNAP, T0, 10);
    assert_cands(res, "user:carol=1");
    json_decref(res);
    /* 30 days later: window [T0-150d, T0+30d]; erin's review at T0+1 now counts (just over
     * 0.5), alice 0.5, carol 0.25 + 0.125 */
    res = rf_route(&attn_router_popularity, NULL, &fx->ctx, SNAP, T0 + 30 * DAY, 10);
    assert_cands(res, "user:erin=0.5 user:alice=0.5 user:carol=0.375");
    json_decref(res);
}

static void test_author_bots_empty(void **state)
{
    fixture *fx = *state;
    json_t *res;
    /* the author is removed; the bot never appears */
    res = rf_route(&attn_router_popularity, NULL, &fx->ctx,
                   "{\"number\": 2, \"author\": \"ALICE\", \"leak_risk\": []}", T0, 10);
    assert_cands(res, "user:carol=0.75 user:erin=0.015625");
    json_decref(res);
    /* nothing in the window (bob's first review is at t = 1200) */
    res = rf_route(&attn_router_popularity, NULL, &fx->ctx, SNAP, 1000, 10);
    assert_cands(res, "-");
    assert_string_equal(rf_str(res, "risk"), "high");
    assert_true(rf_has_note(res, "no review activity in the lookback window"));
    json_decref(res);
    /* only the author in the window */
    res = rf_route(&attn_router_popularity, "{\"lookback_days\": 1}", &fx->ctx,
                   "{\"number\": 2, \"author\": \"alice\", \"leak_risk\": []}", T0, 10);
    assert_cands(res, "-");
    assert_string_equal(rf_str(res, "risk"), "high");
    assert_true(rf_has_note(res, "but the author's"));
    json_decref(res);
}

static void test_bad_configs(void **state)
{
    fixture *fx = *state;
    rf_config_fails(&attn_router_popularity, "{\"lookback\": 3}", &fx->ctx,
                    "unknown key 'lookback'");
    rf_config_fails(&attn_router_popularity, "{\"weights\": {\"reviews\": 1}}", &fx->ctx,
                    "unknown key 'weights.reviews'");
    rf_config_fails(&attn_router_popularity, "{\"lookback_days\": 0}", &fx->ctx,
                    "popularity config: lookback_days must be > 0 and <= 36500");
    rf_config_fails(&attn_router_popularity, "{\"lookback_days\": \"30d\"}", &fx->ctx,
                    "lookback_days");
    rf_config_fails(&attn_router_popularity, "{\"half_life_days\": -1}", &fx->ctx,
                    "popularity config: half_life_days must be >= 0");
    rf_config_fails(&attn_router_popularity, "{\"weights\": {\"review_comment\": -0.5}}",
                    &fx->ctx, "popularity config: weights.review_comment must be >= 0");
    rf_config_fails(&attn_router_popularity, "{\"weights\": {\"review\": 0}}", &fx->ctx,
                    "at least one of review, review_comment, comment must be > 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decayed_sums, setup, teardown),
        cmocka_unit_test_setup_teardown(test_windows_and_weights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_author_bots_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
