/*
 * test_route_learned.c - the learned router's features (route/features.h) at
 * exact cutoffs, the training-window rule (eval/learn.h), the model file's
 * determinism and checks (route/learned_model.h), and the router's output.
 *
 * History (days relative to T = RFX_T0 + 100 d; alice authors PRs 1, 3, 4):
 *   #1 alice, created T-50d, src/a.c        bob reviews at T-40d
 *   #2 dave,  created T-20d, src/b.c docs/x carol reviews at T-10d, bob comments T-5d
 *   #3 alice, created T-3d,  src/a.c        carol reviews at exactly T
 *   #4 alice, created T,     src/a.c        the PR routed (body mentions @bob)
 * Each feature is checked at T (carol's review at T counts: t <= cutoff) and
 * at T-1 s (it does not).
 */
#include "route_fixture.h"
#include "eval/learn.h"
#include "route/features.h"
#include "route/learned_model.h"
#include "util/fs.h"

#include <math.h>

#define T (RFX_T0 + 100 * RFX_DAY)
#define D RFX_DAY

static void build(rfx *f)
{
    static const char *const a[] = {"src/a.c", NULL};
    static const char *const b[] = {"src/b.c", "docs/x.md", NULL};
    rfx_open(f);
    rfx_user(f, 1, "alice", NULL);
    rfx_user(f, 2, "bob", NULL);
    rfx_user(f, 3, "carol", NULL);
    rfx_user(f, 4, "dave", NULL);
    rfx_pr(f, 101, 1, 1, T - 50 * D, a);
    rfx_pr(f, 102, 2, 4, T - 20 * D, b);
    rfx_pr(f, 103, 3, 1, T - 3 * D, a);
    rfx_pr(f, 104, 4, 1, T, a);
    rfx_review(f, 1, 101, 2, T - 40 * D, "APPROVED");
    rfx_review(f, 2, 102, 3, T - 10 * D, "APPROVED");
    rfx_comment(f, 1, 102, 2, T - 5 * D, 0);
    rfx_review(f, 3, 103, 3, T, "APPROVED");
    rfx_build(f, NULL);
}

static json_t *snapshot4(void)
{
    static const char *const a[] = {"src/a.c", NULL};
    json_t *s = rfx_snapshot("alice", a);
    json_object_set_new(s, "author_id", json_integer(1));
    json_object_set_new(s, "title", json_string("fix a"));
    json_object_set_new(s, "body", json_string("cc @bob"));
    json_object_set_new(s, "number", json_integer(4));
    return s;
}

static double feat(const attn_feat_set *fs, const char *login, const char *name)
{
    size_t k;
    for (k = 0; k < ATTN_FEAT_N; k++)
        if (!strcmp(attn_feat_name(k), name))
            break;
    assert_true(k < ATTN_FEAT_N);
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->login[i], login))
            return fs->x[i * ATTN_FEAT_N + k];
    fail_msg("%s is not a candidate", login);
    return 0;
}

typedef struct {
    const char *login, *feature;
    int before;          /* 0: at T, 1: at T - 1 s */
    double want;
} feat_case;

#define H(days, hl) pow(0.5, (double)(days) / (double)(hl))
#define S1 (1.0 / 86400.0)

static void test_features_at_exact_cutoffs(void **state)
{
    const feat_case cases[] = {
        {"carol", "pop_hl7", 0, 1 + H(10, 7)},
        {"carol", "pop_hl7", 1, H(10 - S1, 7)},
        {"carol", "pop_hl30", 0, 1 + H(10, 30)},
        {"carol", "pop_hl180", 0, 1 + H(10, 180)},
        {"bob", "pop_hl180", 0, H(40, 180)},
        {"carol", "reviews_7d", 0, 1},
        {"carol", "reviews_7d", 1, 0},
        {"carol", "reviews_30d", 0, 2},
        {"carol", "reviews_30d", 1, 1},
        {"bob", "reviews_30d", 0, 0},
        {"bob", "reviews_180d", 0, 1},
        {"carol", "days_since_review", 0, 0},
        {"carol", "days_since_review", 1, 10 - S1},
        {"bob", "days_since_active", 0, 5},
        {"carol", "days_since_active", 0, 0},
        {"carol", "author_affinity", 0, 1},
        {"carol", "author_affinity", 1, 0},
        {"bob", "author_affinity", 0, H(40, 180)},
        {"carol", "author_last_reviewer", 0, 1},
        {"bob", "author_last_reviewer", 0, 0},
        {"carol", "author_last_reviewer", 1, 0},
        {"bob", "author_last_reviewer", 1, 1},
        {"carol", "author_review_share", 0, 0.5},
        {"bob", "author_review_share", 1, 1},
        {"carol", "author_review_share", 1, 0},
        {"carol", "file_activity", 0, 1},
        {"carol", "file_activity", 1, 0},
        {"bob", "file_activity", 0, H(40, 180)},
        {"carol", "area_activity", 0, 1 + H(10, 180)},
        {"carol", "area_activity", 1, H(10 - S1, 180)},
        {"bob", "mentioned", 0, 1},
        {"carol", "mentioned", 0, 0},
        {"carol", "requested", 0, 0},
        {"carol", "open_requests", 0, 0},
        {"carol", "hour_fit", 0, 1},
        {"carol", "weekday_fit", 0, 0.5},
        {"carol", "weekday_fit", 1, 0},
        {"carol", "pop_rr", 0, 1},
        {"bob", "pop_rr", 0, 0.5},
        {"carol", "review_share_30d", 0, 1},
        {"bob", "review_share_30d", 0, 0},
        {"carol", "reviews_since_last", 0, 0},
        {"bob", "reviews_since_last", 0, 2},
        {"bob", "reviews_since_last", 1, 1},
        {"carol", "codeowners_rr", 0, 0},
        {"carol", "author_prs_365d", 0, 3},
        {"bob", "author_prs_365d", 1, 2},
        {"carol", "reviewers_30d", 0, 1},
        {"bob", "reviewers_30d", 1, 1},
        {"carol", "active_days_30d", 0, 2},
        {"carol", "active_days_30d", 1, 1},
        {"bob", "active_days_30d", 0, 1},
    };
    rfx f;
    attn_features *fe;
    attn_error err;
    json_t *snap = snapshot4();
    attn_feat_set at[2];
    (void)state;
    build(&f);
    if (attn_features_new(&f.ctx, 30, &fe, &err))
        fail_msg("features: %s", err.msg);
    for (int b = 0; b < 2; b++) {
        attn_route_query q = {4, T - b, 10, snap};
        if (attn_features_compute(fe, &f.ctx, &q, &at[b], &err))
            fail_msg("compute: %s", err.msg);
        assert_int_equal(at[b].n, 2); /* bob and carol; never alice (the author) */
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const feat_case *c = &cases[i];
        double got = feat(&at[c->before], c->login, c->feature);
        if (fabs(got - c->want) > 1e-5 * (1 + fabs(c->want)))
            fail_msg("%s of %s at T%s: %.9g, want %.9g", c->feature, c->login,
                     c->before ? "-1s" : "", got, c->want);
    }
    /* Components' scores are the routers' own; both are listed at T. */
    assert_true(feat(&at[0], "carol", "path_sim_score") > 0);
    assert_true(feat(&at[0], "carol", "stewards_score") > feat(&at[1], "carol", "stewards_score"));
    attn_feat_set_free(&at[0]);
    attn_feat_set_free(&at[1]);
    attn_features_free(fe);
    json_decref(snap);
    rfx_close(&f);
}

/* Every feature of the list is covered above or by the component checks. */
static void test_feature_list_is_versioned(void **state)
{
    json_t *names = attn_feat_names_json();
    (void)state;
    assert_int_equal(json_array_size(names), ATTN_FEAT_N);
    assert_string_equal(ATTN_FEAT_VERSION, "learned-features.v2");
    assert_null(attn_feat_name(ATTN_FEAT_N));
    json_decref(names);
}

/* ---- training ------------------------------------------------------------- */

/* A history for training: bob and carol review alice's PRs (bob the files in
 * src/, carol those in docs/), from T-200d on, one PR every 4 days. */
static void build_train(rfx *f, int n_prs)
{
    rfx_open(f);
    rfx_user(f, 1, "alice", NULL);
    rfx_user(f, 2, "bob", NULL);
    rfx_user(f, 3, "carol", NULL);
    for (int i = 0; i < n_prs; i++) {
        static const char *const s[] = {"src/a.c", NULL}, *const d[] = {"docs/a.md", NULL};
        int64_t created = T - 200 * D + i * 4 * D;
        rfx_pr(f, 1000 + i, 10 + i, 1, created, i % 2 ? d : s);
        rfx_review(f, 100 + i, 1000 + i, i % 2 ? 3 : 2, created + D, "APPROVED");
    }
    rfx_build(f, NULL);
}

static int64_t examples_of(const json_t *file, const char *key)
{
    return attn_json_i64(json_object_get(file, "training"), key, -1);
}

static json_t *train(rfx *f, int64_t from, int64_t until, const char *policy, attn_error *err,
                     int *rc)
{
    attn_learn_opts o;
    attn_truth_policy tp;
    attn_cutoff_policy cp;
    attn_truth_ctx *truth = NULL;
    attn_asof_reader *reader = NULL;
    json_t *file = NULL;
    attn_learn_opts_init(&o);
    assert_int_equal(attn_truth_policy_parse(policy, &tp, err), 0);
    assert_int_equal(attn_cutoff_policy_parse("created_at", &cp, err), 0);
    assert_int_equal(attn_truth_ctx_open(f->s, 1, &truth, err), 0);
    assert_int_equal(attn_asof_reader_open(f->s, &reader, err), 0);
    f->ctx.reader = reader;
    o.from = from;
    o.until = until;
    o.truth = &tp;
    o.cutoff = &cp;
    o.params.rounds = 20;
    *rc = attn_learn_train(&f->ctx, truth, &o, &file, err);
    f->ctx.reader = NULL;
    attn_asof_reader_free(reader);
    attn_truth_ctx_free(truth);
    return file;
}

/* reviewers_until_close with a 30-day window: a PR's label is final 30 days
 * after its creation (no close events here), so until = T admits only PRs
 * created by T-30d. The last PR is created at T-200d + 4*59 d = T+36d. */
static void test_training_window_rule(void **state)
{
    rfx f;
    attn_error err;
    int rc;
    json_t *file;
    (void)state;
    build_train(&f, 60);
    /* PRs created in [T-200d, T): 50 of them (i < 50). Created at or before
     * T-30d: i <= 42 (43 PRs); 7 have their window still open at T. The
     * first PR has nobody in the pool (no history), so it is no example. */
    file = train(&f, T - 200 * D, T, "reviewers_until_close:window=30d", &err, &rc);
    if (rc)
        fail_msg("train: %s", err.msg);
    assert_int_equal(examples_of(file, "prs_in_window"), 50);
    assert_int_equal(examples_of(file, "excluded_window_open"), 7);
    assert_int_equal(examples_of(file, "excluded_not_observed"), 0);
    assert_int_equal(examples_of(file, "examples") + examples_of(file, "no_target_in_pool"), 43);
    assert_string_equal(attn_json_str(json_object_get(file, "training"), "until"),
                        "2024-02-22T22:13:20Z");
    json_decref(file);
    /* One second before the 43rd PR's window closes, it is excluded too. */
    file = train(&f, T - 200 * D, T - 200 * D + 42 * 4 * D + 30 * D - 1,
                 "reviewers_until_close:window=30d", &err, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(examples_of(file, "examples") + examples_of(file, "no_target_in_pool"), 42);
    json_decref(file);
    /* A window with no final label at all: ATTN_EINVAL saying why. */
    file = train(&f, T - 200 * D, T - 190 * D, "reviewers_until_close:window=30d", &err, &rc);
    assert_int_equal(rc, ATTN_EINVAL);
    assert_null(file);
    assert_non_null(strstr(err.msg, "still open"));
    rfx_close(&f);
}

static void test_model_deterministic_and_checked(void **state)
{
    rfx f;
    attn_error err;
    int rc;
    json_t *a, *b, *bad;
    attn_buf ca = ATTN_BUF_INIT, cb = ATTN_BUF_INIT;
    attn_lmodel *m = NULL;
    (void)state;
    build_train(&f, 60);
    a = train(&f, T - 200 * D, T, "reviewers_until_close:window=30d", &err, &rc);
    b = train(&f, T - 200 * D, T, "reviewers_until_close:window=30d", &err, &rc);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(attn_json_canonical(a, &ca, &err), 0);
    assert_int_equal(attn_json_canonical(b, &cb, &err), 0);
    assert_string_equal(attn_buf_cstr(&ca), attn_buf_cstr(&cb));
    assert_int_equal(strlen(attn_json_str(a, "hash")), 64);
    assert_int_equal(attn_lmodel_from_json(a, "a", &m, &err), 0);
    {
        /* The tree evaluator agrees with XGBoost's predict and approx contribs. */
        static const char *const d[] = {"docs/a.md", NULL};
        json_t *snap = rfx_snapshot("alice", d);
        attn_features *fe;
        attn_feat_set fs;
        attn_asof_reader *reader = NULL;
        attn_route_query q = {999, T + 12 * D, 10, snap};
        double s1[64], s2[64];
        float c1[64 * (ATTN_FEAT_N + 1)], c2[64 * (ATTN_FEAT_N + 1)];
        json_object_set_new(snap, "author_id", json_integer(1));
        assert_int_equal(attn_asof_reader_open(f.s, &reader, &err), 0);
        f.ctx.reader = reader;
        assert_int_equal(attn_features_new(&f.ctx, 30, &fe, &err), 0);
        assert_int_equal(attn_features_compute(fe, &f.ctx, &q, &fs, &err), 0);
        assert_true(fs.n >= 2 && fs.n <= 64);
        assert_int_equal(attn_lmodel_predict(m, fs.x, fs.n, s1, c1, &err), 0);
        assert_int_equal(attn_lmodel_predict_xgboost(m, fs.x, fs.n, s2, c2, &err), 0);
        for (size_t i = 0; i < fs.n; i++) {
            double sum = 0;
            assert_true(fabs(s1[i] - s2[i]) < 1e-4);
            for (size_t k = 0; k <= ATTN_FEAT_N; k++) {
                assert_true(fabs(c1[i * (ATTN_FEAT_N + 1) + k] - c2[i * (ATTN_FEAT_N + 1) + k]) < 1e-4);
                sum += c1[i * (ATTN_FEAT_N + 1) + k];
            }
            assert_true(fabs(sum - s1[i]) < 1e-4);
        }
        attn_feat_set_free(&fs);
        attn_features_free(fe);
        f.ctx.reader = NULL;
        attn_asof_reader_free(reader);
        json_decref(snap);
    }
    attn_lmodel_free(m);
    /* An edited file fails its hash. */
    bad = json_deep_copy(a);
    json_object_set_new(json_object_get(bad, "training"), "examples", json_integer(1));
    assert_int_equal(attn_lmodel_from_json(bad, "edited.json", &m, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "does not match its hash"));
    json_decref(bad);
    /* Another feature list is refused (hash recomputed so only the list differs). */
    bad = json_deep_copy(a);
    json_array_set_new(json_object_get(json_object_get(bad, "features"), "names"), 0,
                       json_string("other"));
    json_object_del(bad, "hash");
    {
        char hex[65];
        assert_int_equal(attn_json_hash(bad, hex, &err), 0);
        json_object_set_new(bad, "hash", json_string(hex));
    }
    assert_int_equal(attn_lmodel_from_json(bad, "old.json", &m, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "another feature list"));
    json_decref(bad);
    attn_buf_free(&ca);
    attn_buf_free(&cb);
    json_decref(a);
    json_decref(b);
    rfx_close(&f);
}

/* The router with a trained model: ranks the reviewer of the PR's area
 * first, explains with contributions, names the model, and gives identical
 * routes on a second router instance. */
static void test_router_with_model(void **state)
{
    rfx f;
    attn_error err;
    int rc;
    json_t *file, *r1, *r2, *snap;
    char path[700], cfg[900];
    attn_router *ra, *rb;
    static const char *const d[] = {"docs/a.md", NULL};
    (void)state;
    build_train(&f, 60);
    file = train(&f, T - 200 * D, T, "reviewers_until_close:window=30d", &err, &rc);
    assert_non_null(file);
    snprintf(path, sizeof(path), "%s/m.json", f.dir);
    assert_int_equal(attn_lmodel_write(path, file, &err), 0);
    snprintf(cfg, sizeof(cfg), "{\"model\": \"m.json\"}");
    snap = rfx_snapshot("alice", d);
    json_object_set_new(snap, "author_id", json_integer(1));
    ra = rfx_router(&attn_router_learned, cfg, &f.ctx);
    rb = rfx_router(&attn_router_learned, cfg, &f.ctx);
    r1 = rfx_route(ra, &f.ctx, 999, T + 12 * D, 5, snap);
    r2 = rfx_route(rb, &f.ctx, 999, T + 12 * D, 5, snap);
    assert_true(json_equal(r1, r2));
    if (getenv("DEBUG_LEARNED")) {
        char *t = json_dumps(r1, JSON_INDENT(1) | JSON_SORT_KEYS);
        puts(t);
        free(t);
    }
    assert_string_equal(attn_json_str(json_object_get(rfx_cand(r1, 0), "target"), "name"), "carol");
    {
        const json_t *ev = json_array_get(json_object_get(rfx_cand(r1, 0), "evidence"), 0);
        char note[80];
        assert_string_equal(attn_json_str(ev, "kind"), "learned");
        assert_true(json_array_size(json_object_get(json_object_get(ev, "data"), "contributions")) > 0);
        snprintf(note, sizeof(note), "model=%s", attn_json_str(file, "hash"));
        assert_string_equal(json_string_value(json_array_get(json_object_get(r1, "notes"), 0)), note);
        assert_non_null(json_object_get(json_object_get(r1, "_artifacts"), "features/learned"));
    }
    /* Config errors name the key. */
    assert_non_null(strstr(rfx_config_error(&attn_router_learned, "{\"max_candidates\": 0}", &f.ctx,
                                            &err), "max_candidates"));
    assert_non_null(strstr(rfx_config_error(&attn_router_learned,
                                            "{\"model\": \"m.json\", \"models\": [{\"path\": \"m.json\"}]}",
                                            &f.ctx, &err), "not both"));
    assert_non_null(strstr(rfx_config_error(&attn_router_learned,
                                            "{\"models\": [{\"path\": \"m.json\", \"hash\": \"00\"}]}",
                                            &f.ctx, &err), "hash"));
    rfx_config_error(&attn_router_learned, "{\"model\": \"missing.json\"}", &f.ctx, &err);
    assert_non_null(strstr(err.msg, "missing.json"));
    json_decref(r1);
    json_decref(r2);
    json_decref(snap);
    json_decref(file);
    attn_router_free(ra);
    attn_router_free(rb);
    rfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_at_exact_cutoffs),
        cmocka_unit_test(test_feature_list_is_versioned),
        cmocka_unit_test(test_training_window_rule),
        cmocka_unit_test(test_model_deterministic_and_checked),
        cmocka_unit_test(test_router_with_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
