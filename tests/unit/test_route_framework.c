/*
 * test_route_framework.c - what router.c and candidates.c guarantee for
 * every router: config merging and refusal, config hashes, the common rules
 * (author and bots removed, availability, load, zero scores, order, top_k,
 * empty results), and the team roster.
 */
#include "testutil.h"
#include "store_fixture.h"
#include "route/router.h"
#include "route/candidates.h"
#include "ownership/roster.h"
#include "util/json.h"
#include "util/time.h"
#include "util/fs.h"

#include <string.h>

/* A router that returns the candidates listed in its config. */
typedef struct {
    json_t *cands;
} fake_state;

static int fake_init(const json_t *config, const attn_route_ctx *ctx, void **state, attn_error *err)
{
    fake_state *s = calloc(1, sizeof(*s));
    (void)ctx;
    if (json_number_value(json_object_get(config, "threshold")) < 0) {
        free(s);
        return attn_error_set(err, ATTN_EINVAL, "fake config: threshold must be >= 0");
    }
    s->cands = json_incref(json_object_get(config, "cands"));
    *state = s;
    return 0;
}

static int fake_route(void *state, const attn_route_ctx *ctx, const attn_route_query *q,
                      attn_route_result *res, attn_error *err)
{
    fake_state *s = state;
    size_t i;
    json_t *c;
    (void)ctx; (void)q; (void)err;
    json_array_foreach(s->cands, i, c) {
        attn_cand *k = attn_result_cand(res, json_string_value(json_array_get(c, 0)),
                                        json_string_value(json_array_get(c, 1)));
        assert_non_null(k);
        attn_cand_add_score(k, json_number_value(json_array_get(c, 2)));
        attn_cand_evidence(k, "fake", json_pack("{s:i}", "i", (int)i));
    }
    return 0;
}

static void fake_free(void *state)
{
    fake_state *s = state;
    json_decref(s->cands);
    free(s);
}

static const attn_router_def fake = {
    "fake", "fake.v1", "test router",
    "{\"threshold\": 1.5, \"nested\": {\"a\": 1, \"b\": \"x\"}, \"map\": {}, \"any\": null,"
    " \"cands\": []}",
    fake_init, fake_route, fake_free};

typedef struct {
    char *dir;
    attn_store *s;
    attn_activity *act;
    attn_route_ctx ctx;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    attn_error err;
    char db[600];
    f->dir = test_tmpdir();
    snprintf(db, sizeof(db), "%s/h.sqlite", f->dir);
    assert_int_equal(attn_store_open(db, &f->s, &err), 0);
    fx_populate(f->s);
    /* alice (100) authored everything; bob (101) reviewed at t=1500 (review 40
     * is on PR 20); ci[bot] is 102. */
    fx_exec(f->s, "UPDATE reviews SET submitted_at = 1500, user_id = 101 WHERE id = 40");
    fx_exec(f->s, "UPDATE reviews SET submitted_at = NULL WHERE id = 41");
    if (attn_activity_build(f->s, 1, NULL, &f->act, &err))
        fail_msg("activity: %s", err.msg);
    f->ctx.store = f->s;
    f->ctx.repo_id = 1;
    f->ctx.repo = "octo/demo";
    f->ctx.repo_dir = f->dir;
    f->ctx.activity = f->act;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_activity_free(f->act);
    attn_store_close(f->s);
    attn_fs_remove_tree(f->dir, &err);
    free(f->dir);
    free(f);
    return 0;
}

static int new_router(fx *f, const char *cfg, attn_router **r, attn_error *err)
{
    json_t *c = NULL;
    int rc;
    if (cfg && attn_json_parse(cfg, strlen(cfg), "cfg", &c, err))
        fail_msg("bad test config: %s", err->msg);
    rc = attn_router_new(&fake, c, "test.json", &f->ctx, r, err);
    json_decref(c);
    return rc;
}

static void test_config_refusals(void **state)
{
    static const struct { const char *cfg, *msg; } cases[] = {
        {"{\"thresold\": 2}", "fake config (test.json): unknown key 'thresold' (known here: "},
        {"{\"nested\": {\"c\": 1}}", "unknown key 'nested.c' (known here: a, b)"},
        {"{\"threshold\": \"2\"}", "'threshold' must be a number, not a string"},
        {"{\"nested\": {\"b\": 3}}", "'nested.b' must be a string, not a number"},
        {"{\"nested\": 3}", "'nested' must be an object, not a number"},
        {"{\"threshold\": -1}", "threshold must be >= 0"},
        {"{\"availability\": {\"factor\": 2}}", "availability.factor must be in [0, 1]"},
        {"{\"load\": {\"max_open_requests\": 1.5}}", "load.max_open_requests must be a whole number"},
        {"{\"availability\": {\"days\": 3}}", "unknown key 'availability.days'"},
        {"[1]", "must be a JSON object"},
    };
    fx *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        attn_router *r = NULL;
        attn_error err;
        attn_error_clear(&err);
        assert_int_equal(new_router(f, cases[i].cfg, &r, &err), ATTN_EINVAL);
        assert_null(r);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
    }
}

static void test_config_merge_and_hash(void **state)
{
    fx *f = *state;
    attn_router *a, *b, *c;
    attn_error err;
    const json_t *cfg;
    assert_int_equal(new_router(f, NULL, &a, &err), 0);
    assert_int_equal(new_router(f, "{\"threshold\": 1.5}", &b, &err), 0);
    assert_int_equal(new_router(f, "{\"map\": {\"free\": [1]}, \"any\": \"x\", \"nested\": {\"a\": 2}}",
                                &c, &err), 0);
    /* Spelling out a default changes nothing, so the hash is the same. */
    assert_string_equal(attn_router_config_hash(a), attn_router_config_hash(b));
    assert_string_not_equal(attn_router_config_hash(a), attn_router_config_hash(c));
    assert_int_equal(strlen(attn_router_config_hash(a)), 64);
    cfg = attn_router_config(c);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cfg, "nested"), "a")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(cfg, "nested"), "b")), "x");
    assert_non_null(json_object_get(json_object_get(cfg, "map"), "free"));
    assert_non_null(json_object_get(json_object_get(cfg, "availability"), "inactive_days"));
    attn_router_free(a);
    attn_router_free(b);
    attn_router_free(c);
}

static json_t *route_with(fx *f, const char *cfg, int top_k, int64_t as_of, const char *requests)
{
    attn_router *r;
    attn_error err;
    json_t *snap = json_pack("{s:s, s:o}", "author", "ALICE", "review_requests",
                             json_loads(requests ? requests : "[]", 0, NULL));
    json_t *out;
    attn_route_query q = {20, as_of, top_k, snap};
    if (new_router(f, cfg, &r, &err))
        fail_msg("router: %s", err.msg);
    if (attn_router_route(r, &f->ctx, &q, &out, &err))
        fail_msg("route: %s", err.msg);
    attn_router_free(r);
    json_decref(snap);
    return out;
}

static const char *name_at(const json_t *res, size_t i)
{
    return json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(res, "candidates"), i), "target"), "name"));
}

static void test_rules_order_and_exclusions(void **state)
{
    fx *f = *state;
    json_t *res = route_with(f,
        "{\"cands\": [[\"user\",\"zed\",1],[\"user\",\"alice\",9],[\"user\",\"ci[bot]\",9],"
        "[\"user\",\"five\",0],[\"user\",\"Bob\",1],[\"team\",\"octo/core\",1],"
        "[\"user\",\"amy\",1],[\"user\",\"bob\",0.5],[\"user\",\"neg\",-1]]}",
        10, 2000, NULL);
    /* alice is the author (case-insensitive); ci[bot] a bot; five and neg
     * have no positive score; Bob and bob are one candidate (1.5). */
    assert_int_equal(json_array_size(json_object_get(res, "candidates")), 4);
    assert_string_equal(name_at(res, 0), "Bob");
    assert_string_equal(name_at(res, 1), "octo/core"); /* ties: team before user */
    assert_string_equal(name_at(res, 2), "amy");
    assert_string_equal(name_at(res, 3), "zed");
    assert_string_equal(json_string_value(json_object_get(res, "router")), "fake");
    assert_string_equal(json_string_value(json_object_get(res, "as_of")), "1970-01-01T00:33:20Z");
    json_decref(res);

    res = route_with(f, "{\"cands\": [[\"user\",\"zed\",1],[\"user\",\"amy\",1]]}", 1, 2000, NULL);
    assert_int_equal(json_array_size(json_object_get(res, "candidates")), 1);
    assert_string_equal(name_at(res, 0), "amy");
    json_decref(res);

    res = route_with(f, "{\"cands\": [[\"user\",\"alice\",1]]}", 5, 2000, NULL);
    assert_int_equal(json_array_size(json_object_get(res, "candidates")), 0);
    assert_string_equal(json_string_value(json_object_get(res, "risk")), "high");
    {
        char *notes = json_dumps(json_object_get(res, "notes"), 0);
        int found = notes && strstr(notes, "no candidates");
        free(notes);
        assert_true(found);
    }
    json_decref(res);
}

static void test_availability(void **state)
{
    fx *f = *state;
    /* bob last acted at 1500; at 1500 + 2 days he is inactive for N = 1. */
    const char *cfg = "{\"availability\": {\"inactive_days\": 1, \"factor\": 0.25},"
                      " \"cands\": [[\"user\",\"bob\",1],[\"user\",\"zed\",0.5]]}";
    json_t *res = route_with(f, cfg, 5, 1500 + 86400 / 2, NULL);
    assert_string_equal(name_at(res, 0), "bob");
    assert_string_equal(name_at(res, 1), "zed"); /* zed never acted: 0.125 */
    json_decref(res);
    res = route_with(f, cfg, 5, 1500 + 2 * 86400, NULL);
    assert_string_equal(name_at(res, 0), "bob"); /* 0.25 > 0.125 */
    assert_true(json_real_value(json_object_get(json_array_get(json_object_get(res, "candidates"), 0), "score")) == 0.25);
    json_decref(res);
}

static void test_scores_rounded(void **state)
{
    fx *f = *state;
    json_t *res = route_with(f, "{\"cands\": [[\"user\",\"zed\",0.1],[\"user\",\"zed\",0.2]]}", 5,
                             2000, NULL);
    /* 0.1 + 0.2 = 0.30000000000000004 prints as 0.3 */
    char *s = json_dumps(json_object_get(json_array_get(json_object_get(res, "candidates"), 0), "score"),
                         JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    assert_string_equal(s, "0.29999999999999999");
    free(s);
    json_decref(res);
}

static void test_roster(void **state)
{
    static const char *bad[][2] = {
        {"[]", "must be an object"},
        {"{\"web\": []}", "'web' is not a team name like org/team"},
        {"{\"o/web\": 3}", "o/web must list its members"},
        {"{\"o/web\": [3]}", "o/web member 0 must be a login"},
        {"{\"o/web\": [{\"login\": \"a\", \"since\": \"x\"}]}", "unknown key 'since'"},
        {"{\"o/web\": [{\"login\": \"a\", \"from\": \"2024-13-01\"}]}", "'from' must be an ISO-8601"},
        {"{\"o/web\": [{\"login\": \"a\", \"from\": \"2024-02-01T00:00:00Z\", \"until\": \"2024-01-01T00:00:00Z\"}]}",
         "'until' must be after 'from'"},
        {"{\"o/web\": [], \"@O/Web\": []}", "listed twice"},
    };
    attn_roster *r;
    attn_error err;
    json_t *v;
    const char *out[4];
    int64_t jan, feb;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = json_loads(bad[i][0], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_int_equal(attn_roster_from_json(v, &r, &err), ATTN_EINVAL);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i][1]);
        json_decref(v);
    }
    v = json_loads("{\"@acme/web\": [\"zed\", {\"login\": \"amy\", \"from\": \"2024-02-01T00:00:00Z\"},"
                   " {\"login\": \"bo\", \"until\": \"2024-02-01T00:00:00Z\"}, \"Amy\"]}", 0, NULL);
    assert_int_equal(attn_roster_from_json(v, &r, &err), 0);
    json_decref(v);
    attn_time_parse("2024-01-15T00:00:00Z", &jan, &err);
    attn_time_parse("2024-02-01T00:00:00Z", &feb, &err);
    assert_int_equal(attn_roster_members(r, "acme/WEB", jan, out, 4), 3);
    assert_string_equal(out[0], "Amy");
    assert_string_equal(out[1], "bo");
    assert_string_equal(out[2], "zed");
    /* from is inclusive, until exclusive; Amy/amy count once */
    assert_int_equal(attn_roster_members(r, "@acme/web", feb, out, 4), 2);
    assert_string_equal(out[0], "Amy");
    assert_string_equal(out[1], "zed");
    assert_int_equal(attn_roster_members(r, "acme/web", feb, out, 1), 2);
    assert_int_equal(attn_roster_members(r, "acme/other", feb, out, 4), 0);
    attn_roster_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_merge_and_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_order_and_exclusions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_availability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scores_rounded, setup, teardown),
        cmocka_unit_test(test_roster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
