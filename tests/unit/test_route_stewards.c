/*
 * test_route_stewards.c - the stewards router: decayed activity split into
 * the PR's areas, its files and total, on a hand-built history whose scores
 * are computed by hand below; configuration errors; leakage.
 */
#include "route_fixture.h"

#include <math.h>

/*
 * The history (T0 = the cutoff; ages are whole half-lives of 30 days, so the
 * decay factors are exact powers of two):
 *   PR #1 (src/core/a.c, src/core/b.c)    PR #2 (docs/guide.md)
 *   bob    review on #1, 30 d             -> 1.0 * 0.5   = 0.5   (area src, file a.c)
 *   alice  review on #1, 30 d             -> 0.5 (alice is the author: removed)
 *   carol  comment on #1, 30 d            -> 0.2 * 0.5   = 0.1   (area src, file a.c)
 *          review comment on #2, 60 d     -> 0.4 * 0.25  = 0.1   (docs)
 *   erin   review on #2, 90 d             -> 1.0 * 0.125 = 0.125 (docs)
 *   amy, Zed  review on #2, 30 d          -> 0.5 each (docs)
 *   dave   review on #2, 200 d            -> outside the pool and the window
 *   ci[bot] review on #1, 1 d             -> a bot: never a candidate
 * The routed PR #3 touches src/core/a.c and lib/x.c: areas {src, lib}.
 * score = 1.0 * area + 0.5 * file + 0.2 * total:
 *   bob 0.5 + 0.25 + 0.1 = 0.85; carol 0.1 + 0.05 + 0.04 = 0.19;
 *   amy, Zed 0.1; erin 0.025.
 */
static const char *const PR1_FILES[] = {"src/core/a.c", "src/core/b.c", NULL};
static const char *const PR2_FILES[] = {"docs/guide.md", NULL};
static const char *const PR3_FILES[] = {"src/core/a.c", "lib/x.c", NULL};

static void build(rfx *f, const char *areas_json)
{
    rfx_open(f);
    rfx_user(f, 100, "alice", NULL);
    rfx_user(f, 101, "bob", NULL);
    rfx_user(f, 102, "ci[bot]", "Bot");
    rfx_user(f, 103, "carol", NULL);
    rfx_user(f, 104, "dave", NULL);
    rfx_user(f, 105, "erin", NULL);
    rfx_user(f, 106, "Zed", NULL);
    rfx_user(f, 107, "amy", NULL);
    rfx_pr(f, 1001, 1, 104, RFX_T0 - 100 * RFX_DAY, PR1_FILES);
    rfx_pr(f, 1002, 2, 104, RFX_T0 - 250 * RFX_DAY, PR2_FILES);
    rfx_pr(f, 1003, 3, 100, RFX_T0, PR3_FILES);
    rfx_review(f, 1, 1001, 101, RFX_T0 - 30 * RFX_DAY, "APPROVED");
    rfx_review(f, 2, 1002, 104, RFX_T0 - 200 * RFX_DAY, NULL);
    rfx_review(f, 3, 1002, 105, RFX_T0 - 90 * RFX_DAY, NULL);
    rfx_review(f, 4, 1001, 102, RFX_T0 - 1 * RFX_DAY, NULL);
    rfx_review(f, 5, 1001, 100, RFX_T0 - 30 * RFX_DAY, NULL);
    rfx_review(f, 6, 1002, 106, RFX_T0 - 30 * RFX_DAY, NULL);
    rfx_review(f, 7, 1002, 107, RFX_T0 - 30 * RFX_DAY, NULL);
    rfx_comment(f, 11, 1001, 103, RFX_T0 - 30 * RFX_DAY, 0);
    rfx_comment(f, 12, 1002, 103, RFX_T0 - 60 * RFX_DAY, 1);
    /* After the cutoff: must not count. */
    rfx_review(f, 8, 1001, 105, RFX_T0 + 1, NULL);
    rfx_build(f, areas_json);
}

static json_t *route3(rfx *f, const char *config, int64_t as_of, const char *const *files)
{
    attn_router *r = rfx_router(&attn_router_stewards, config, &f->ctx);
    json_t *snap = rfx_snapshot("alice", files), *res;
    res = rfx_route(r, &f->ctx, 3, as_of, 10, snap);
    json_decref(snap);
    attn_router_free(r);
    return res;
}

static void test_scores_by_hand(void **state)
{
    rfx f;
    json_t *res;
    (void)state;
    build(&f, NULL);
    res = route3(&f, NULL, RFX_T0, PR3_FILES);
    assert_int_equal(rfx_ncands(res), 5);
    assert_string_equal(rfx_cand_name(res, 0), "bob");
    assert_true(fabs(rfx_cand_score(res, 0) - 0.85) < 1e-9);
    assert_string_equal(rfx_cand_name(res, 1), "carol");
    assert_true(fabs(rfx_cand_score(res, 1) - 0.19) < 1e-9);
    /* a tie: case-insensitive name order */
    assert_string_equal(rfx_cand_name(res, 2), "amy");
    assert_string_equal(rfx_cand_name(res, 3), "Zed");
    assert_true(fabs(rfx_cand_score(res, 2) - 0.1) < 1e-9);
    assert_true(fabs(rfx_cand_score(res, 3) - 0.1) < 1e-9);
    assert_string_equal(rfx_cand_name(res, 4), "erin");
    assert_true(fabs(rfx_cand_score(res, 4) - 0.025) < 1e-9);
    assert_string_equal(attn_json_str(res, "risk"), "low");
    /* (0.85 - 0.19) / 0.85 >= 0.3 */
    assert_string_equal(attn_json_str(res, "confidence"), "high");
    assert_true(rfx_has_note(res, "author removed"));
    json_decref(res);
    rfx_close(&f);
}

static void test_author_and_bots_absent(void **state)
{
    rfx f;
    json_t *res;
    (void)state;
    build(&f, NULL);
    res = route3(&f, NULL, RFX_T0, PR3_FILES);
    for (size_t i = 0; i < rfx_ncands(res); i++) {
        assert_string_not_equal(rfx_cand_name(res, i), "alice");
        assert_string_not_equal(rfx_cand_name(res, i), "ci[bot]");
        assert_string_not_equal(rfx_cand_name(res, i), "dave");
    }
    json_decref(res);
    rfx_close(&f);
}

static void test_evidence_shape(void **state)
{
    rfx f;
    json_t *res;
    const json_t *ev, *data;
    (void)state;
    build(&f, NULL);
    res = route3(&f, NULL, RFX_T0, PR3_FILES);
    ev = json_array_get(json_object_get(rfx_cand(res, 0), "evidence"), 0);
    assert_string_equal(attn_json_str(ev, "kind"), "activity");
    data = json_object_get(ev, "data");
    assert_true(fabs(json_number_value(json_object_get(data, "area")) - 0.5) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(data, "file")) - 0.5) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(data, "total")) - 0.5) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(data, "areas")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(data, "areas"), 0)),
                        "src");
    assert_true(json_number_value(json_object_get(data, "half_life_days")) == 30);
    assert_true(json_number_value(json_object_get(data, "lookback_days")) == 180);
    assert_true(json_number_value(json_object_get(data, "author")) == 0);
    assert_int_equal(json_object_size(data), 7);
    /* erin: total only, no areas */
    ev = json_array_get(json_object_get(rfx_cand(res, 4), "evidence"), 0);
    data = json_object_get(ev, "data");
    assert_int_equal(json_array_size(json_object_get(data, "areas")), 0);
    assert_true(json_number_value(json_object_get(data, "area")) == 0);
    assert_true(fabs(json_number_value(json_object_get(data, "total")) - 0.125) < 1e-9);
    json_decref(res);
    rfx_close(&f);
}

/* Nobody worked on web/: the ranking falls back to total activity, risk medium. */
static void test_total_only_is_medium_risk(void **state)
{
    static const char *const WEB[] = {"web/app.js", NULL};
    rfx f;
    json_t *res;
    (void)state;
    build(&f, NULL);
    res = route3(&f, NULL, RFX_T0, WEB);
    assert_string_equal(attn_json_str(res, "risk"), "medium");
    /* 0.2 * 0.5 for amy, bob and Zed: a three-way tie in name order */
    assert_string_equal(rfx_cand_name(res, 0), "amy");
    assert_string_equal(rfx_cand_name(res, 1), "bob");
    assert_string_equal(rfx_cand_name(res, 2), "Zed");
    assert_true(fabs(rfx_cand_score(res, 0) - 0.1) < 1e-9);
    assert_string_equal(attn_json_str(res, "confidence"), "low");
    json_decref(res);
    /* no files known: total activity only, and a note says so */
    res = route3(&f, NULL, RFX_T0, NULL);
    assert_string_equal(attn_json_str(res, "risk"), "medium");
    assert_true(rfx_has_note(res, "no changed files"));
    json_decref(res);
    rfx_close(&f);
}

static void test_empty_pool(void **state)
{
    rfx f;
    json_t *res;
    (void)state;
    build(&f, NULL);
    res = route3(&f, NULL, RFX_T0 - 400 * RFX_DAY, PR3_FILES);
    assert_int_equal(rfx_ncands(res), 0);
    assert_string_equal(attn_json_str(res, "risk"), "high");
    assert_true(rfx_has_note(res, "no candidates"));
    json_decref(res);
    rfx_close(&f);
}

static void test_config_weights_and_filters(void **state)
{
    rfx f;
    json_t *res;
    (void)state;
    build(&f, NULL);
    /* total only: bob 0.5, carol 0.2, amy/Zed 0.5, erin 0.125 */
    res = route3(&f, "{\"weights\": {\"area\": 0, \"file\": 0, \"total\": 1}}", RFX_T0,
                 PR3_FILES);
    assert_string_equal(rfx_cand_name(res, 0), "amy");
    assert_string_equal(rfx_cand_name(res, 1), "bob");
    assert_true(fabs(rfx_cand_score(res, 1) - 0.5) < 1e-9);
    json_decref(res);
    /* min_activity drops erin (total 0.125) */
    res = route3(&f, "{\"min_activity\": 0.15}", RFX_T0, PR3_FILES);
    assert_int_equal(rfx_ncands(res), 4);
    for (size_t i = 0; i < rfx_ncands(res); i++)
        assert_string_not_equal(rfx_cand_name(res, i), "erin");
    json_decref(res);
    /* no decay over 10 000 days: bob 1 + 0.5 + 0.2 */
    res = route3(&f, "{\"decay\": {\"half_life_days\": 1e7}}", RFX_T0, PR3_FILES);
    assert_string_equal(rfx_cand_name(res, 0), "bob");
    assert_true(fabs(rfx_cand_score(res, 0) - 1.7) < 1e-5);
    json_decref(res);
    /* a 20-day lookback sees only the bot, which is no candidate */
    res = route3(&f, "{\"decay\": {\"lookback_days\": 20}, \"pool\": {\"lookback_days\": 20}}",
                 RFX_T0, PR3_FILES);
    assert_int_equal(rfx_ncands(res), 0);
    assert_string_equal(attn_json_str(res, "risk"), "high");
    json_decref(res);
    /* comments weigh nothing: carol keeps only her review comment (0.1, docs) */
    res = route3(&f, "{\"event_weights\": {\"comment\": 0}}", RFX_T0, PR3_FILES);
    for (size_t i = 0; i < rfx_ncands(res); i++)
        if (!strcmp(rfx_cand_name(res, i), "carol"))
            assert_true(fabs(rfx_cand_score(res, i) - 0.02) < 1e-9);
    json_decref(res);
    rfx_close(&f);
}

/* Areas come from routing/area_overrides.json when given (no boundary
 * artifact needed): with docs/ in area src, PR #2's activity is area work. */
static void test_area_overrides(void **state)
{
    rfx f;
    json_t *res;
    (void)state;
    build(&f, "{\"docs/\": \"src\"}");
    res = route3(&f, NULL, RFX_T0, PR3_FILES);
    /* carol: area 0.1 + 0.1, file 0.1, total 0.2 -> 0.2 + 0.05 + 0.04 */
    for (size_t i = 0; i < rfx_ncands(res); i++) {
        const char *n = rfx_cand_name(res, i);
        if (!strcmp(n, "carol"))
            assert_true(fabs(rfx_cand_score(res, i) - 0.29) < 1e-9);
        if (!strcmp(n, "erin"))
            assert_true(fabs(rfx_cand_score(res, i) - 0.15) < 1e-9);
        if (!strcmp(n, "amy"))
            assert_true(fabs(rfx_cand_score(res, i) - 0.6) < 1e-9);
    }
    json_decref(res);
    rfx_close(&f);
}

static void test_bad_configs(void **state)
{
    rfx f;
    attn_error err;
    (void)state;
    build(&f, NULL);
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"weights\": {\"areas\": 1}}", &f.ctx, &err),
                           "unknown key 'weights.areas'"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"area_overlap_activity\": 1}", &f.ctx, &err),
                           "unknown key 'area_overlap_activity'"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"decay\": {\"half_life_days\": \"30\"}}", &f.ctx,
                                            &err),
                           "decay.half_life_days' must be a number"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"decay\": {\"half_life_days\": 0}}", &f.ctx, &err),
                           "stewards config: decay.half_life_days must be > 0"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"weights\": {\"file\": -1}}", &f.ctx, &err),
                           "weights.file must be >= 0"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"weights\": {\"area\": 0, \"file\": 0, "
                                            "\"total\": 0, \"author\": 0}}", &f.ctx, &err),
                           "all 0"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"pool\": {\"lookback_days\": -5}}", &f.ctx, &err),
                           "pool.lookback_days must be > 0"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"confidence\": {\"medium\": 0.9}}", &f.ctx, &err),
                           "confidence.medium must be <= confidence.high"));
    assert_non_null(strstr(rfx_config_error(&attn_router_stewards,
                                            "{\"event_weights\": {\"review\": 0, "
                                            "\"review_comment\": 0, \"comment\": 0}}", &f.ctx,
                                            &err),
                           "event_weights"));
    rfx_close(&f);
}

/* The same router answers the same PR the same way whatever it routed before. */
static void test_order_independent(void **state)
{
    static const char *const WEB[] = {"web/app.js", NULL};
    rfx f;
    attn_router *r;
    json_t *snap3, *snapw, *a, *b, *c;
    char *ca, *cc;
    (void)state;
    build(&f, NULL);
    r = rfx_router(&attn_router_stewards, NULL, &f.ctx);
    snap3 = rfx_snapshot("alice", PR3_FILES);
    snapw = rfx_snapshot("alice", WEB);
    a = rfx_route(r, &f.ctx, 3, RFX_T0, 10, snap3);
    b = rfx_route(r, &f.ctx, 4, RFX_T0, 10, snapw);
    c = rfx_route(r, &f.ctx, 3, RFX_T0, 10, snap3);
    ca = rfx_canonical(a);
    cc = rfx_canonical(c);
    assert_string_equal(ca, cc);
    free(ca);
    free(cc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(snap3);
    json_decref(snapw);
    attn_router_free(r);
    rfx_close(&f);
}

/* A large PR (its paths are deduplicated through a hash index past 16)
 * whose list repeats paths routes like the list without the repeats. */
static void test_large_pr_repeats(void **state)
{
    const char *dup[64], *uniq[64];
    char names[24][32];
    size_t nd = 0, nu = 0;
    rfx f;
    json_t *a, *b;
    char *ca, *cb;
    (void)state;
    for (int i = 0; i < 24; i++)
        snprintf(names[i], sizeof(names[i]), "gen/f%02d.c", i);
    for (int i = 0; i < 24; i++) {
        uniq[nu++] = dup[nd++] = names[i];
        if (i % 5 == 0)
            dup[nd++] = names[i];
        if (i == 7) {
            uniq[nu++] = dup[nd++] = "src/core/a.c";
            uniq[nu++] = dup[nd++] = "lib/x.c";
        }
        if (i > 7 && i % 4 == 0)
            dup[nd++] = "src/core/a.c";
    }
    uniq[nu] = dup[nd] = NULL;
    assert_true(nu > 16 && nd > nu);
    build(&f, NULL);
    a = route3(&f, NULL, RFX_T0, dup);
    b = route3(&f, NULL, RFX_T0, uniq);
    ca = rfx_canonical(a);
    cb = rfx_canonical(b);
    assert_string_equal(ca, cb);
    /* bob's file term counts src/core/a.c once: 0.5 + 0.25 + 0.1 */
    assert_non_null(strstr(ca, "\"score\":0.85"));
    free(ca);
    free(cb);
    json_decref(a);
    json_decref(b);
    rfx_close(&f);
}

static attn_router *make_stewards(const attn_route_ctx *ctx)
{
    return rfx_router(&attn_router_stewards, NULL, ctx);
}

/* Handing router.c a shortlist changes nothing (route/shortlist.h), also
 * with the availability and load rules on. */
static void test_shortlist_exact(void **state)
{
    rfx_synth y;
    attn_router *r;
    size_t trimmed = 0;
    (void)state;
    rfx_synth_open(&y, 160, 3);
    r = rfx_router(&attn_router_stewards, NULL, &y.ctx);
    trimmed += rfx_shortlist_check(&y, r, 60, 25, 0, 3);
    attn_router_free(r);
    r = rfx_router(&attn_router_stewards,
                   "{\"availability\": {\"inactive_days\": 5, \"factor\": 0.3},"
                   " \"load\": {\"max_open_requests\": 1}}",
                   &y.ctx);
    trimmed += rfx_shortlist_check(&y, r, 60, 25, 3600, 2);
    attn_router_free(r);
    /* area and file work dominate: the pruning by total must not cut the
     * specialists whose totals are small */
    r = rfx_router(&attn_router_stewards,
                   "{\"weights\": {\"area\": 1, \"file\": 3, \"total\": 0.01}}", &y.ctx);
    trimmed += rfx_shortlist_check(&y, r, 40, 60, 0, 1);
    attn_router_free(r);
    assert_true(trimmed >= 20);
    rfx_synth_close(&y, 1);
}

static void test_leakage(void **state)
{
    static const int64_t offsets[] = {0, 2 * RFX_DAY};
    rfx_synth y;
    size_t nonempty;
    (void)state;
    rfx_synth_open(&y, 240, 7);
    nonempty = rfx_leakage_check(&y, make_stewards, 6, offsets, 2);
    assert_true(nonempty >= 6);
    rfx_synth_close(&y, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_by_hand),
        cmocka_unit_test(test_author_and_bots_absent),
        cmocka_unit_test(test_evidence_shape),
        cmocka_unit_test(test_total_only_is_medium_risk),
        cmocka_unit_test(test_empty_pool),
        cmocka_unit_test(test_config_weights_and_filters),
        cmocka_unit_test(test_area_overrides),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_shortlist_exact),
        cmocka_unit_test(test_large_pr_repeats),
        cmocka_unit_test(test_leakage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
