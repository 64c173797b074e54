/*
 * test_route_review_requests.c - the `review_requests` router: flat scores,
 * team names qualified with the repo owner, roster expansion, risk levels,
 * author and bots removed, bad configs.
 */
#include "baseline_fixture.h"

#define T0 1700000000

static attn_route_ctx plain_ctx(const attn_roster *roster)
{
    attn_route_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.repo = "acme/demo";
    ctx.roster = roster;
    return ctx;
}

static attn_roster *roster_of(const char *json)
{
    attn_error err;
    attn_roster *r = NULL;
    json_t *v = rf_parse(json);
    if (attn_roster_from_json(v, &r, &err))
        fail_msg("roster: %s", err.msg);
    json_decref(v);
    return r;
}

static const char SNAP[] =
    "{\"number\": 9, \"author\": \"dave\", \"leak_risk\": [], \"review_requests\": ["
    " {\"type\": \"team\", \"name\": \"core\"}, {\"type\": \"team\", \"name\": \"ops\"},"
    " {\"type\": \"user\", \"name\": \"bob\"}, {\"type\": \"user\", \"name\": \"Alice\"}]}";

static void test_flat_scores_and_team_names(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    json_t *res;
    const json_t *d;
    (void)state;
    /* everyone 1.0; ties: teams before users, then names case-insensitively */
    res = rf_route(&attn_router_review_requests, NULL, &ctx, SNAP, T0, 10);
    assert_cands(res, "team:acme/core=1 team:acme/ops=1 user:Alice=1 user:bob=1");
    assert_string_equal(rf_str(res, "risk"), "low");
    d = rf_ev(res, 2, 0, "review_request");
    assert_string_equal(rf_str(d, "type"), "user");
    assert_int_equal(json_object_size(d), 1);
    d = rf_ev(res, 0, 0, "review_request");
    assert_string_equal(rf_str(d, "type"), "team");
    json_decref(res);
    /* an already qualified team name is kept */
    res = rf_route(&attn_router_review_requests, NULL, &ctx,
                   "{\"number\": 9, \"author\": \"dave\", \"leak_risk\": [], \"review_requests\":"
                   " [{\"type\": \"team\", \"name\": \"other/sec\"}]}", T0, 10);
    assert_cands(res, "team:other/sec=1");
    assert_string_equal(rf_str(res, "risk"), "medium");   /* only teams */
    json_decref(res);
}

static void test_expansion(void **state)
{
    attn_roster *roster = roster_of(
        "{\"acme/core\": [\"bob\", \"carol\", {\"login\": \"late\", \"from\": \"2030-01-01\"}]}");
    attn_route_ctx ctx = plain_ctx(roster);
    json_t *res;
    const json_t *d;
    (void)state;
    /* core -> bob (asked in person: keeps 1.0) and carol (0.5); ops unknown: stays a team */
    res = rf_route(&attn_router_review_requests, NULL, &ctx, SNAP, T0, 10);
    assert_cands(res, "team:acme/ops=1 user:Alice=1 user:bob=1 user:carol=0.5");
    assert_true(rf_has_note(res, "1 requested team without members"));
    d = rf_ev(res, 3, 0, "review_request");
    assert_string_equal(rf_str(d, "type"), "team");
    assert_string_equal(rf_str(d, "via_team"), "acme/core");
    assert_int_equal(json_array_size(rf_evidence(res, 2)), 2);
    json_decref(res);
    res = rf_route(&attn_router_review_requests, "{\"team_member_score\": 1}", &ctx, SNAP, T0, 10);
    assert_cands(res, "team:acme/ops=1 user:Alice=1 user:bob=1 user:carol=1");
    json_decref(res);
    res = rf_route(&attn_router_review_requests, "{\"expand_teams\": false}", &ctx, SNAP, T0, 10);
    assert_cands(res, "team:acme/core=1 team:acme/ops=1 user:Alice=1 user:bob=1");
    json_decref(res);
    /* membership is taken at the cutoff */
    res = rf_route(&attn_router_review_requests, NULL, &ctx, SNAP, 1900000000, 10);
    assert_cands(res, "team:acme/ops=1 user:Alice=1 user:bob=1 user:carol=0.5 user:late=0.5");
    json_decref(res);
    attn_roster_free(roster);
}

static void test_empty_author_bots(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    json_t *res;
    (void)state;
    res = rf_route(&attn_router_review_requests, NULL, &ctx,
                   "{\"number\": 9, \"author\": \"dave\", \"leak_risk\": [],"
                   " \"review_requests\": []}", T0, 10);
    assert_cands(res, "-");
    assert_string_equal(rf_str(res, "risk"), "high");
    assert_true(rf_has_note(res, "no review requests active at the cutoff"));
    json_decref(res);
    res = rf_route(&attn_router_review_requests, NULL, &ctx,
                   "{\"number\": 9, \"author\": \"dave\", \"leak_risk\": [], \"review_requests\":"
                   " [{\"type\": \"user\", \"name\": \"DAVE\"},"
                   " {\"type\": \"user\", \"name\": \"helper[bot]\"}]}", T0, 10);
    assert_cands(res, "-");
    assert_string_equal(rf_str(res, "risk"), "high");
    assert_true(rf_has_note(res, "but for the author or bots"));
    assert_true(rf_has_note(res, "1 bot candidate removed"));
    json_decref(res);
}

static void test_bad_configs(void **state)
{
    attn_route_ctx ctx = plain_ctx(NULL);
    (void)state;
    rf_config_fails(&attn_router_review_requests, "{\"expand\": true}", &ctx,
                    "unknown key 'expand'");
    rf_config_fails(&attn_router_review_requests, "{\"expand_teams\": 1}", &ctx, "expand_teams");
    rf_config_fails(&attn_router_review_requests, "{\"team_member_score\": 0}", &ctx,
                    "review_requests config: team_member_score must be > 0 and <= 1");
    rf_config_fails(&attn_router_review_requests, "{\"team_member_score\": 1.5}", &ctx,
                    "team_member_score must be > 0 and <= 1");
    rf_config_fails(&attn_router_review_requests, "{\"team_member_score\": \"high\"}", &ctx,
                    "team_member_score");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_scores_and_team_names),
        cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_empty_author_bots),
        cmocka_unit_test(test_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
