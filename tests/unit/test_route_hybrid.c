/*
 * test_route_hybrid.c - the hybrid router: linear and RRF fusion on
 * constructed component outputs, the router over components with known
 * outputs, configuration errors, weight fitting, determinism and leakage.
 *
 * The test brings its own router registry (attn_router_count/_at/_find are
 * defined below, so the linker does not pull route/registry.o from the
 * library): two fake components with fixed outputs per PR, named like real
 * routers because the hybrid's config only accepts the documented component
 * names, plus the real stewards, path_similarity and hybrid.
 */
#include "route_fixture.h"
#include "route/hybrid.h"

#include <math.h>

/* ---- fake components ------------------------------------------------------------------ */

/*
 * "mentions" ranks PR n's truth user "t<n>" first (1.0) and "decoy" second
 * (0.5); "popularity" ranks "decoy" first (1.0) and the truth second (0.2).
 * PR 99 gets nothing from either.
 */
static int fake_init(const json_t *config, const attn_route_ctx *ctx, void **state, attn_error *err)
{
    (void)config;
    (void)ctx;
    (void)err;
    *state = NULL;
    return 0;
}

static void fake_free(void *state) { (void)state; }

static void add(attn_route_result *res, const char *name, double score, const char *kind)
{
    attn_cand *c = attn_result_cand(res, "user", name);
    attn_cand_set_score(c, score);
    attn_cand_evidence(c, kind, NULL);
}

static int fake_mentions_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                               attn_route_result *res, attn_error *err)
{
    char truth[32];
    (void)state;
    (void)ctx;
    (void)err;
    if (q->pr_number == 99)
        return 0;
    snprintf(truth, sizeof(truth), "t%lld", (long long)q->pr_number);
    attn_result_set_risk(res, "low");
    add(res, truth, 1.0, "mention");
    add(res, "decoy", 0.5, "mention");
    return 0;
}

static int fake_popularity_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                                 attn_route_result *res, attn_error *err)
{
    char truth[32];
    (void)state;
    (void)ctx;
    (void)err;
    if (q->pr_number == 99)
        return 0;
    snprintf(truth, sizeof(truth), "T%lld", (long long)q->pr_number);   /* other spelling */
    attn_result_set_risk(res, "medium");
    add(res, "decoy", 1.0, "popularity");
    add(res, truth, 0.2, "popularity");
    return 0;
}

static const attn_router_def fake_mentions = {
    "mentions", "mentions.fake", "test", "{}", fake_init, fake_mentions_route, fake_free};
static const attn_router_def fake_popularity = {
    "popularity", "popularity.fake", "test", "{}", fake_init, fake_popularity_route, fake_free};

static const attn_router_def *const TEST_ROUTERS[] = {
    &attn_router_hybrid, &fake_mentions, &attn_router_path_similarity, &fake_popularity,
    &attn_router_stewards};
#define N_TEST_ROUTERS (sizeof(TEST_ROUTERS) / sizeof(TEST_ROUTERS[0]))

size_t attn_router_count(void) { return N_TEST_ROUTERS; }
const attn_router_def *attn_router_at(size_t i) { return i < N_TEST_ROUTERS ? TEST_ROUTERS[i] : NULL; }
int attn_router_find(const char *name, const attn_router_def **out, attn_error *err)
{
    for (size_t i = 0; i < N_TEST_ROUTERS; i++)
        if (name && !strcmp(TEST_ROUTERS[i]->name, name)) {
            *out = TEST_ROUTERS[i];
            return 0;
        }
    return attn_error_set(err, ATTN_EINVAL, "unknown router '%s'", name ? name : "");
}

/* Only the fakes, with the given weights (codeowners and review_requests are
 * not registered here, so they are 0). */
static char *config_text(const char *method, double wm, double wp, double wst, double wps)
{
    char *s = malloc(512);
    snprintf(s, 512,
             "{\"method\": \"%s\", \"components\": {\"codeowners\": 0, \"review_requests\": 0,"
             " \"mentions\": %g, \"popularity\": %g, \"stewards\": %g, \"path_similarity\": %g}}",
             method, wm, wp, wst, wps);
    return s;
}

/* ---- fusion on constructed outputs ---------------------------------------------------- */

static json_t *result_of(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    return v;
}

static const json_t *find_target(const json_t *arr, const char *name)
{
    const json_t *c;
    size_t i;
    json_array_foreach(arr, i, c)
        if (!strcmp(attn_json_str(json_object_get(c, "target"), "name"), name))
            return c;
    return NULL;
}

static void test_fuse_linear_and_rrf(void **state)
{
    json_t *a = result_of("{\"candidates\": ["
                          "{\"target\": {\"type\": \"user\", \"name\": \"x\"}, \"score\": 4,"
                          " \"evidence\": [{\"kind\": \"k1\", \"data\": {}}]},"
                          "{\"target\": {\"type\": \"user\", \"name\": \"y\"}, \"score\": 2,"
                          " \"evidence\": [{\"kind\": \"k1\", \"data\": {}},"
                          " {\"kind\": \"k2\", \"data\": {}}, {\"kind\": \"k1\", \"data\": {}}]}]}");
    json_t *b = result_of("{\"candidates\": ["
                          "{\"target\": {\"type\": \"user\", \"name\": \"Y\"}, \"score\": 10,"
                          " \"evidence\": []},"
                          "{\"target\": {\"type\": \"user\", \"name\": \"z\"}, \"score\": 5,"
                          " \"evidence\": []},"
                          "{\"target\": {\"type\": \"team\", \"name\": \"o/x\"}, \"score\": 5,"
                          " \"evidence\": []}]}");
    json_t *c = result_of("{\"candidates\": [{\"target\": {\"type\": \"user\", \"name\": \"w\"},"
                          " \"score\": 1, \"evidence\": []}]}");
    attn_hybrid_part parts[] = {{"a", 1.0, a}, {"b", 2.0, b}, {"c", 0.0, c}};
    json_t *out = NULL;
    const json_t *y;
    attn_error err;
    (void)state;

    /* linear: x 1*4/4 = 1; y 1*2/4 + 2*10/10 = 2.5; z 2*5/10 = 1; team o/x 1; w weight 0 */
    assert_int_equal(attn_hybrid_fuse("linear", 60, parts, 3, &out, &err), 0);
    assert_int_equal(json_array_size(out), 4);
    y = json_array_get(out, 0);
    assert_string_equal(attn_json_str(json_object_get(y, "target"), "name"), "y");
    assert_true(fabs(json_number_value(json_object_get(y, "score")) - 2.5) < 1e-12);
    assert_true(json_number_value(json_object_get(json_object_get(y, "parts"), "a")) == 0.5);
    assert_true(json_number_value(json_object_get(json_object_get(y, "parts"), "b")) == 2.0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(y, "kinds"), "a")), 2);
    assert_int_equal(json_array_size(json_object_get(json_object_get(y, "kinds"), "b")), 0);
    /* the three at 1.0: team before user, then names */
    assert_string_equal(attn_json_str(json_object_get(json_array_get(out, 1), "target"), "type"),
                        "team");
    assert_string_equal(attn_json_str(json_object_get(json_array_get(out, 2), "target"), "name"),
                        "x");
    assert_string_equal(attn_json_str(json_object_get(json_array_get(out, 3), "target"), "name"),
                        "z");
    assert_null(find_target(out, "w"));
    json_decref(out);

    /* rrf, k = 60: x 1/61; y 1/62 + 2/61; z 2/62; o/x 2/63 */
    assert_int_equal(attn_hybrid_fuse("rrf", 60, parts, 3, &out, &err), 0);
    assert_true(fabs(json_number_value(json_object_get(find_target(out, "y"), "score")) -
                     (1.0 / 62 + 2.0 / 61)) < 1e-15);
    assert_true(fabs(json_number_value(json_object_get(find_target(out, "x"), "score")) -
                     1.0 / 61) < 1e-15);
    assert_true(fabs(json_number_value(json_object_get(find_target(out, "z"), "score")) -
                     2.0 / 62) < 1e-15);
    assert_string_equal(attn_json_str(json_object_get(json_array_get(out, 0), "target"), "name"),
                        "y");
    assert_string_equal(attn_json_str(json_object_get(json_array_get(out, 1), "target"), "name"),
                        "z");
    assert_string_equal(attn_json_str(json_object_get(json_array_get(out, 2), "target"), "name"),
                        "o/x");
    assert_string_equal(attn_json_str(json_object_get(json_array_get(out, 3), "target"), "name"),
                        "x");
    json_decref(out);

    assert_int_not_equal(attn_hybrid_fuse("mean", 60, parts, 3, &out, &err), 0);
    assert_non_null(strstr(err.msg, "method"));
    assert_int_not_equal(attn_hybrid_fuse("rrf", 0, parts, 3, &out, &err), 0);
    assert_non_null(strstr(err.msg, "rrf_k"));
    /* nothing to fuse */
    assert_int_equal(attn_hybrid_fuse("linear", 60, parts, 0, &out, &err), 0);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* ---- the router ------------------------------------------------------------------------ */

static void empty_history(rfx *f)
{
    rfx_open(f);
    rfx_user(f, 100, "alice", NULL);
    rfx_build(f, NULL);
}

static json_t *route_pr(rfx *f, const char *config, int64_t number)
{
    attn_router *r = rfx_router(&attn_router_hybrid, config, &f->ctx);
    json_t *snap = rfx_snapshot("alice", NULL), *res;
    res = rfx_route(r, &f->ctx, number, RFX_T0, 10, snap);
    json_decref(snap);
    attn_router_free(r);
    return res;
}

static void test_router_linear(void **state)
{
    rfx f;
    char *cfg = config_text("linear", 1.0, 2.0, 0, 0);
    json_t *res;
    const json_t *ev, *data;
    (void)state;
    empty_history(&f);
    /* t7: 1*1/1 + 2*0.2/1 = 1.4; decoy: 1*0.5 + 2*1 = 2.5 */
    res = route_pr(&f, cfg, 7);
    assert_int_equal(rfx_ncands(res), 2);
    assert_string_equal(rfx_cand_name(res, 0), "decoy");
    assert_true(fabs(rfx_cand_score(res, 0) - 2.5) < 1e-9);
    assert_string_equal(rfx_cand_name(res, 1), "t7");   /* the first spelling is kept */
    assert_true(fabs(rfx_cand_score(res, 1) - 1.4) < 1e-9);
    ev = json_array_get(json_object_get(rfx_cand(res, 1), "evidence"), 0);
    assert_string_equal(attn_json_str(ev, "kind"), "hybrid");
    data = json_object_get(ev, "data");
    assert_string_equal(attn_json_str(data, "method"), "linear");
    assert_true(json_number_value(json_object_get(json_object_get(data, "parts"), "mentions")) ==
                1.0);
    assert_true(fabs(json_number_value(json_object_get(json_object_get(data, "parts"),
                                                       "popularity")) - 0.4) < 1e-12);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(data, "kinds"), "mentions"), 0)),
                        "mention");
    assert_true(rfx_has_note(res, "weights_hash="));
    /* both components support decoy; the best of their risks is low */
    assert_string_equal(attn_json_str(res, "risk"), "low");
    json_decref(res);
    free(cfg);

    /* rrf: t7 1/61 + 2/62, decoy 1/62 + 2/61 */
    cfg = config_text("rrf", 1.0, 2.0, 0, 0);
    res = route_pr(&f, cfg, 7);
    assert_string_equal(rfx_cand_name(res, 0), "decoy");
    assert_true(fabs(rfx_cand_score(res, 0) - (1.0 / 62 + 2.0 / 61)) < 1e-9);
    assert_true(fabs(rfx_cand_score(res, 1) - (1.0 / 61 + 2.0 / 62)) < 1e-9);
    json_decref(res);
    free(cfg);

    /* nobody: high risk and notes per component */
    cfg = config_text("linear", 1.0, 2.0, 0, 0);
    res = route_pr(&f, cfg, 99);
    assert_int_equal(rfx_ncands(res), 0);
    assert_string_equal(attn_json_str(res, "risk"), "high");
    assert_true(rfx_has_note(res, "component mentions returned no candidates"));
    json_decref(res);
    free(cfg);
    rfx_close(&f);
}

static void test_weights_hash_changes(void **state)
{
    rfx f;
    char *c1 = config_text("linear", 1.0, 2.0, 0, 0), *c2 = config_text("linear", 1.0, 3.0, 0, 0);
    json_t *a, *b;
    const char *na, *nb;
    (void)state;
    empty_history(&f);
    a = route_pr(&f, c1, 7);
    b = route_pr(&f, c2, 7);
    na = json_string_value(json_array_get(json_object_get(a, "notes"), 0));
    nb = json_string_value(json_array_get(json_object_get(b, "notes"), 0));
    assert_non_null(strstr(na, "weights_hash="));
    assert_string_not_equal(na, nb);
    assert_string_not_equal(attn_json_str(a, "config_hash"), attn_json_str(b, "config_hash"));
    json_decref(a);
    json_decref(b);
    free(c1);
    free(c2);
    rfx_close(&f);
}

static void test_bad_configs(void **state)
{
    rfx f;
    attn_error err;
    const attn_router_def *d = &attn_router_hybrid;
    (void)state;
    empty_history(&f);
    assert_non_null(strstr(rfx_config_error(d, "{\"components\": {\"hybrid\": 1}}", &f.ctx, &err),
                           "components.hybrid"));
    assert_non_null(strstr(rfx_config_error(d, "{\"method\": \"mean\"}", &f.ctx, &err),
                           "hybrid config: method must be \"linear\" or \"rrf\""));
    assert_non_null(strstr(rfx_config_error(d, "{\"rrf_k\": 0, \"components\": {\"codeowners\": 0,"
                                               " \"review_requests\": 0}}", &f.ctx, &err),
                           "rrf_k must be a number > 0"));
    assert_non_null(strstr(rfx_config_error(d, "{\"component_top_k\": 0}", &f.ctx, &err),
                           "component_top_k must be a whole number"));
    /* codeowners is not registered in this test: a weight > 0 names it */
    assert_non_null(strstr(rfx_config_error(d, "{}", &f.ctx, &err),
                           "components.codeowners: unknown router 'codeowners'"));
    assert_non_null(strstr(rfx_config_error(d, "{\"components\": {\"codeowners\": 0,"
                                               " \"review_requests\": 0, \"mentions\": 0,"
                                               " \"popularity\": 0, \"stewards\": 0,"
                                               " \"path_similarity\": 0}}", &f.ctx, &err),
                           "every weight is 0"));
    assert_non_null(strstr(rfx_config_error(d, "{\"components\": {\"mentions\": -1}}", &f.ctx,
                                            &err),
                           "components.mentions must be a number >= 0"));
    assert_non_null(strstr(rfx_config_error(d, "{\"component_configs\": {\"nope\": {}}}", &f.ctx,
                                            &err),
                           "component_configs.nope names no component"));
    /* a component's own config errors come through, named */
    assert_non_null(strstr(rfx_config_error(d, "{\"components\": {\"codeowners\": 0,"
                                               " \"review_requests\": 0},"
                                               " \"component_configs\": {\"stewards\":"
                                               " {\"decay\": {\"half_life_days\": 0}}}}", &f.ctx,
                                            &err),
                           "stewards config: decay.half_life_days must be > 0"));
    assert_non_null(strstr(rfx_config_error(d, "{\"fitted\": 3, \"components\": {\"codeowners\": 0,"
                                               " \"review_requests\": 0}}", &f.ctx, &err),
                           "fitted must be null or an object"));
    rfx_close(&f);
}

/* ---- fitting ---------------------------------------------------------------------------- */

static json_t *fit(rfx *f, const char *base, size_t n, json_t **snaps_out)
{
    attn_hybrid_example *ex = calloc(n, sizeof(*ex));
    json_t *targets = json_array(), *cfg_in = json_loads(base, 0, NULL), *out = NULL;
    attn_error err;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "T%zu", i + 1);
        json_array_append_new(targets, json_pack("[{s:s, s:s}]", "type", "user", "name", name));
        ex[i].pr_number = (int64_t)i + 1;
        ex[i].cutoff = RFX_T0 - 1000 * RFX_DAY + (int64_t)i * RFX_DAY;
        ex[i].snapshot = snaps_out[0];
        ex[i].targets = json_array_get(targets, i);
    }
    if (attn_hybrid_fit(&f->ctx, cfg_in, ex, n, &out, &err))
        fail_msg("fit: %s", err.msg);
    json_decref(targets);
    json_decref(cfg_in);
    free(ex);
    return out;
}

static void test_fit_recovers_better_weight(void **state)
{
    rfx f;
    char *base = config_text("rrf", 0.1, 1.0, 0, 0);
    json_t *snap = rfx_snapshot("alice", NULL), *fitted, *again, *res;
    const json_t *comps, *meta;
    char *c1, *c2;
    attn_router *r;
    (void)state;
    empty_history(&f);
    fitted = fit(&f, base, 12, &snap);
    comps = json_object_get(fitted, "components");
    meta = json_object_get(fitted, "fitted");
    /* With the base weights (mentions 0.1, popularity 1.0) the truth comes
     * second (MRR 0.5); the fit trusts mentions over popularity. */
    assert_string_equal(attn_json_str(fitted, "method"), "linear");
    assert_true(json_number_value(json_object_get(comps, "mentions")) >
                json_number_value(json_object_get(comps, "popularity")));
    assert_true(json_number_value(json_object_get(meta, "objective")) == 1.0);
    assert_int_equal(json_integer_value(json_object_get(meta, "n")), 12);
    assert_string_equal(attn_json_str(meta, "from"), "2021-02-17T22:13:20Z");
    assert_string_equal(attn_json_str(meta, "to"), "2021-02-28T22:13:20Z");
    assert_int_equal(json_array_size(json_object_get(meta, "grid")), 10);
    /* unregistered weight-0 components keep their key */
    assert_non_null(json_object_get(comps, "codeowners"));
    /* deterministic */
    again = fit(&f, base, 12, &snap);
    c1 = rfx_canonical(fitted);
    c2 = rfx_canonical(again);
    assert_string_equal(c1, c2);
    free(c1);
    free(c2);
    /* ready for attn_router_new: the truth now ranks first */
    {
        attn_error err;
        assert_int_equal(attn_router_new(&attn_router_hybrid, fitted, "fitted", &f.ctx, &r, &err),
                         0);
    }
    res = rfx_route(r, &f.ctx, 3, RFX_T0, 10, snap);
    assert_string_equal(rfx_cand_name(res, 0), "t3");
    json_decref(res);
    attn_router_free(r);
    json_decref(again);
    json_decref(fitted);
    json_decref(snap);
    free(base);
    rfx_close(&f);
}

static void test_fit_errors(void **state)
{
    rfx f;
    attn_error err;
    json_t *out = NULL;
    attn_hybrid_example ex = {1, RFX_T0, NULL, NULL};
    json_t *bad = json_loads("{\"method\": \"avg\"}", 0, NULL);
    (void)state;
    empty_history(&f);
    assert_int_equal(attn_hybrid_fit(&f.ctx, NULL, NULL, 0, &out, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "no training examples"));
    assert_int_not_equal(attn_hybrid_fit(&f.ctx, bad, &ex, 1, &out, &err), 0);
    assert_non_null(strstr(err.msg, "method"));
    assert_null(out);
    json_decref(bad);
    bad = json_loads("{\"components\": {\"codeowners\": 0, \"review_requests\": 0}}", 0, NULL);
    assert_int_equal(attn_hybrid_fit(&f.ctx, bad, &ex, 1, &out, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "no snapshot"));
    json_decref(bad);
    rfx_close(&f);
}

/* ---- leakage ------------------------------------------------------------------------------ */

static attn_router *make_hybrid(const attn_route_ctx *ctx)
{
    return rfx_router(&attn_router_hybrid,
                      "{\"method\": \"linear\", \"components\": {\"codeowners\": 0,"
                      " \"review_requests\": 0, \"mentions\": 0, \"popularity\": 0,"
                      " \"stewards\": 1.0, \"path_similarity\": 0.8},"
                      " \"availability\": {\"inactive_days\": 30}}",
                      ctx);
}

static void test_leakage(void **state)
{
    static const int64_t offsets[] = {0, 2 * RFX_DAY};
    rfx_synth y;
    size_t nonempty;
    (void)state;
    rfx_synth_open(&y, 240, 7);
    nonempty = rfx_leakage_check(&y, make_hybrid, 6, offsets, 2);
    assert_true(nonempty >= 6);
    rfx_synth_close(&y, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuse_linear_and_rrf),
        cmocka_unit_test(test_router_linear),
        cmocka_unit_test(test_weights_hash_changes),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_fit_recovers_better_weight),
        cmocka_unit_test(test_fit_errors),
        cmocka_unit_test(test_leakage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
