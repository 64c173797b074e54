/*
 * test_promotion.c - the promotion decision's messages (exp/quality.c) and
 * the default promotion pair of a spec (exp/spec.c): the reasons name the
 * side of 0 the interval lies on, and hybrid is never the default baseline.
 */
#include "testutil.h"
#include "exp/quality.h"
#include "exp/spec.h"
#include "util/json.h"

#define COHORT_HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POLICY "first_response:window=2d"

static attn_spec *spec_of(const char *a, const char *b)
{
    attn_spec_params p;
    attn_spec_router r[2] = {{a, NULL}, {b, NULL}};
    attn_spec *s = NULL;
    attn_error err;
    json_t *doc = NULL;
    attn_spec_params_init(&p);
    p.repo = "o/r";
    p.cohort_hash = COHORT_HASH;
    p.routers = r;
    p.n_routers = 2;
    assert_int_equal(attn_spec_build(&p, &doc, &err), 0);
    assert_int_equal(attn_spec_from_json(doc, "t", "o/r", &s, &err), 0);
    json_decref(doc);
    return s;
}

/* n observed rows; the baseline ranks the truth at ka(i), the candidate at kb(i). */
static json_t *rows(size_t n, int (*ka)(size_t), int (*kb)(size_t))
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:{s:{s:s}}, s:{s:{s:[s], s:{s:i}}, s:{s:[s], s:{s:i}}}}", "truth",
                           POLICY, "status", "observed", "routers", "popularity", "candidates",
                           "x", "rank", POLICY, ka(i), "hybrid", "candidates", "x", "rank",
                           POLICY, kb(i)));
    return arr;
}

static int first(size_t i) { (void)i; return 1; }
static int third(size_t i) { (void)i; return 3; }
static int mixed(size_t i) { return i % 2 ? 1 : 2; }
static int mixed2(size_t i) { return i % 2 ? 2 : 1; }

static const char *reason_with(const json_t *p, const char *needle)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(p, "reasons"), i, r)
        if (strstr(json_string_value(r), needle))
            return json_string_value(r);
    return NULL;
}

static void test_interval_below_zero_excludes_it(void **state)
{
    attn_spec *s = spec_of("popularity", "hybrid");
    json_t *per = rows(150, first, third), *p = NULL;
    attn_error err;
    (void)state;
    assert_int_equal(attn_quality_promotion(per, s, 1, &p, &err), 0);
    assert_false(json_is_true(json_object_get(p, "promote")));
    assert_null(reason_with(p, "does not exclude"));
    assert_non_null(reason_with(p, "lies below 0"));
    json_decref(p), json_decref(per);
    attn_spec_free(s);
}

static void test_interval_across_zero_includes_it(void **state)
{
    attn_spec *s = spec_of("popularity", "hybrid");
    json_t *per = rows(150, mixed, mixed2), *p = NULL;
    attn_error err;
    (void)state;
    assert_int_equal(attn_quality_promotion(per, s, 1, &p, &err), 0);
    assert_non_null(reason_with(p, "includes 0"));
    assert_null(reason_with(p, "below 0"));
    json_decref(p), json_decref(per);
    attn_spec_free(s);
}

static void test_default_pair_never_hybrid_as_baseline(void **state)
{
    /* the demo's candidate spec lists hybrid first */
    attn_spec *s = spec_of("hybrid", "stewards");
    (void)state;
    assert_string_equal(s->promotion.baseline_router, "stewards");
    assert_string_equal(s->promotion.candidate_router, "hybrid");
    attn_spec_free(s);
    s = spec_of("stewards", "hybrid");
    assert_string_equal(s->promotion.baseline_router, "stewards");
    assert_string_equal(s->promotion.candidate_router, "hybrid");
    attn_spec_free(s);
    s = spec_of("hybrid", "popularity");
    assert_string_equal(s->promotion.baseline_router, "popularity");
    assert_string_equal(s->promotion.candidate_router, "hybrid");
    attn_spec_free(s);
    s = spec_of("mentions", "stewards");
    assert_string_equal(s->promotion.baseline_router, "mentions");
    assert_string_equal(s->promotion.candidate_router, "stewards");
    attn_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interval_below_zero_excludes_it),
        cmocka_unit_test(test_interval_across_zero_includes_it),
        cmocka_unit_test(test_default_pair_never_hybrid_as_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
