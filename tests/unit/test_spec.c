/*
 * test_spec.c - experiment specs (exp/spec.h): hash stability, hand edits
 * refused, unknown keys refused at every level, paths not hashed, defaults.
 */
#include "testutil.h"
#include "exp/spec.h"
#include "util/json.h"

#define COHORT_HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *make(const char *path)
{
    attn_spec_params p;
    attn_spec_router r[2] = {{"popularity", NULL}, {"hybrid", NULL}};
    attn_error err;
    json_t *doc = NULL;
    attn_spec_params_init(&p);
    p.repo = "o/r";
    p.cohort_hash = COHORT_HASH;
    p.cohort_path = path;
    p.routers = r;
    p.n_routers = 2;
    assert_int_equal(attn_spec_build(&p, &doc, &err), 0);
    return doc;
}

static void test_hash_stable_and_path_free(void **state)
{
    json_t *a = make("/a/cohort.json"), *b = make("/b/elsewhere.json"), *c = make(NULL);
    (void)state;
    assert_string_equal(attn_json_str(a, "hash"), attn_json_str(b, "hash"));
    assert_string_equal(attn_json_str(a, "hash"), attn_json_str(c, "hash"));
    assert_string_equal(attn_json_str(json_object_get(a, "cohort"), "path"), "/a/cohort.json");
    json_decref(a), json_decref(b), json_decref(c);
}

static void test_defaults_and_load(void **state)
{
    json_t *a = make(NULL);
    attn_spec *s = NULL;
    attn_error err;
    (void)state;
    assert_int_equal(attn_spec_from_json(a, "t", "o/r", &s, &err), 0);
    assert_string_equal(s->run_kind, "experimental");
    assert_string_equal(s->promotion.baseline_router, "popularity");
    assert_string_equal(s->promotion.candidate_router, "hybrid");
    assert_int_equal(s->promotion.min_n, 100);
    assert_int_equal(s->n_truth, 2);
    assert_string_equal(s->truth[0], "first_response:window=2d");
    assert_int_equal(s->top_k, 10);
    assert_int_equal(s->n_ks, 4);
    assert_int_equal(s->resamples, 1000);
    assert_true(s->gates.unknown_max > 0.029 && s->gates.unknown_max < 0.031);
    attn_spec_free(s);
    assert_int_equal(attn_spec_from_json(a, "t", "x/y", &s, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "not x/y"));
    json_decref(a);
}

/* Edit a copy, re-hash it when rehash is set, and expect a refusal naming want. */
static void refuse(const char *key, json_t *val, int rehash, const char *want)
{
    json_t *a = make(NULL);
    attn_spec *s = NULL;
    attn_error err;
    char h[65];
    json_object_set_new(a, key, val);
    if (rehash) {
        assert_int_equal(attn_spec_compute_hash(a, h, &err), 0);
        json_object_set_new(a, "hash", json_string(h));
    }
    assert_int_equal(attn_spec_from_json(a, "spec.json", NULL, &s, &err), ATTN_EINVAL);
    assert_null(s);
    if (!strstr(err.msg, want))
        fail_msg("message '%s' lacks '%s'", err.msg, want);
    json_decref(a);
}

static void test_refusals(void **state)
{
    (void)state;
    refuse("top_k", json_integer(5), 0, "hash mismatch");
    refuse("topk", json_integer(5), 1, "unknown key 'topk'");
    refuse("gates", json_pack("{s:f, s:f, s:f, s:f}", "unknown_max", 0.1, "availability_min", 0.9,
                              "unavailable_max", 0.1, "unknwon_max", 0.1),
           1, "unknown key 'unknwon_max' in gates");
    refuse("routers", json_pack("[{s:s, s:n}]", "name", "nosuch", "config"), 1, "routers[0]");
    refuse("routers", json_pack("[{s:s, s:n, s:i}]", "name", "popularity", "config", "x", 1), 1,
           "unknown key 'x' in routers[0]");
    refuse("truth", json_pack("[s]", "first_response:window=0"), 1, "truth[0]");
    refuse("run_kind", json_string("ab_control"), 1, "experiment_id");
    refuse("run_kind", json_string("champion"), 1, "run_kind");
    refuse("kind", json_string("cohort"), 1, "not an experiment spec");
    refuse("ks", json_pack("[i]", 11), 1, "ks[0]");
    refuse("promotion", json_pack("{s:s, s:s, s:i, s:f, s:f}", "baseline_router", "popularity",
                                  "candidate_router", "stewards", "min_n", 100, "min_delta_mrr",
                                  0.01, "max_hit1_drop", 0.01),
           1, "not one of the spec's routers");
}

static void test_inline_config_is_hashed(void **state)
{
    attn_spec_params p;
    json_t *cfg = json_pack("{s:{s:i}}", "decay", "half_life_days", 30);
    attn_spec_router r[1] = {{"stewards", cfg}};
    attn_error err;
    json_t *a = NULL, *b = NULL;
    (void)state;
    attn_spec_params_init(&p);
    p.repo = "o/r";
    p.cohort_hash = COHORT_HASH;
    p.routers = r;
    p.n_routers = 1;
    assert_int_equal(attn_spec_build(&p, &a, &err), 0);
    json_object_set_new(json_object_get(cfg, "decay"), "half_life_days", json_integer(31));
    assert_int_equal(attn_spec_build(&p, &b, &err), 0);
    assert_string_not_equal(attn_json_str(a, "hash"), attn_json_str(b, "hash"));
    /* one router: no promotion pair */
    assert_true(json_is_null(json_object_get(json_object_get(a, "promotion"), "candidate_router")));
    json_decref(a), json_decref(b), json_decref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_stable_and_path_free),
        cmocka_unit_test(test_defaults_and_load),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_inline_config_is_hashed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
