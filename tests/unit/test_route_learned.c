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
#include "route/context.h"
#include "route/learned_model.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/num.h"
#include "util/prng.h"
#include "util/version.h"

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
    {
        /* In an evaluation the table comes as the text of the same tree with
         * candidate_gen_version, and nothing else in the result changes. */
        attn_route_ctx ectx = f.ctx;
        attn_router *rt = rfx_router(&attn_router_learned, cfg, &f.ctx);
        json_t *r3, *tree, *t1, *t3;
        attn_buf want = ATTN_BUF_INIT;
        ectx.artifact_text = 1;
        r3 = rfx_route(rt, &ectx, 999, T + 12 * D, 5, snap);
        tree = json_copy(json_object_get(json_object_get(r1, "_artifacts"), "features/learned"));
        json_object_set_new(tree, "candidate_gen_version", json_string(ATTN_CANDIDATE_GEN_VERSION));
        assert_int_equal(attn_json_canonical(tree, &want, &err), 0);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(r3, "_artifact_text"), "features/learned")),
                            want.ptr);
        assert_null(json_object_get(r3, "_artifacts"));
        t1 = json_copy(r1);
        t3 = json_copy(r3);
        json_object_del(t1, "_artifacts");
        json_object_del(t3, "_artifact_text");
        assert_true(json_equal(t1, t3));
        json_decref(t1);
        json_decref(t3);
        json_decref(tree);
        json_decref(r3);
        attn_buf_free(&want);
        attn_router_free(rt);
    }
    {
        /* Features computed ahead (features.h) are taken for their PR and
         * cutoff, with the router's pool size, and only then: a table with
         * one value changed shows in the route's feature table. */
        attn_route_ctx ectx = f.ctx;
        attn_router *rt = rfx_router(&attn_router_learned, cfg, &f.ctx);
        attn_features *feat;
        attn_feat_ahead ahead = {0};
        attn_route_query q = {999, T + 12 * D, 5, snap};
        const json_t *x0;
        json_t *r4;
        assert_int_equal(attn_features_new(&f.ctx, 30, &feat, &err), 0);
        ahead.e = calloc(3, sizeof(*ahead.e));
        ahead.cap = 3;
        ahead.max_cands = 30;
        ahead.e[0].pr_number = 5;           /* an earlier cutoff */
        ahead.e[0].as_of = T;
        ahead.e[1].pr_number = 999;
        ahead.e[1].as_of = T + 12 * D;
        assert_int_equal(attn_features_compute(feat, &f.ctx, &q, &ahead.e[1].fs, &err), 0);
        assert_true(ahead.e[1].fs.n > 0);
        ahead.e[1].fs.x[0] = 12345.0f;
        ahead.e[2].pr_number = 1000;        /* a later PR at the same cutoff */
        ahead.e[2].as_of = T + 12 * D;
        ahead.n = 3;
        assert_ptr_equal(attn_feat_ahead_find(&ahead, 999, T + 12 * D, 30), &ahead.e[1].fs);
        assert_null(attn_feat_ahead_find(&ahead, 999, T + 12 * D, 29));
        assert_null(attn_feat_ahead_find(&ahead, 999, T + 11 * D, 30));
        assert_null(attn_feat_ahead_find(&ahead, 998, T + 12 * D, 30));
        assert_null(attn_feat_ahead_find(NULL, 999, T + 12 * D, 30));
        ectx.feat_ahead = &ahead;
        r4 = rfx_route(rt, &ectx, 999, T + 12 * D, 5, snap);
        x0 = json_array_get(json_object_get(json_array_get(json_object_get(json_object_get(
                                json_object_get(r4, "_artifacts"), "features/learned"),
                                "candidates"), 0), "x"), 0);
        assert_true(json_real_value(x0) == 12345.0);
        json_decref(r4);
        ahead.max_cands = 29;               /* another pool size: computed again */
        r4 = rfx_route(rt, &ectx, 999, T + 12 * D, 5, snap);
        assert_true(json_equal(json_object_get(r4, "_artifacts"), json_object_get(r1, "_artifacts")));
        json_decref(r4);
        attn_feat_ahead_free(&ahead);
        attn_features_free(feat);
        attn_router_free(rt);
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


/* ---- the fast path against the component routers ---------------------------- */

/*
 * Until learned-features.v2's speed-up the pool and the component features
 * came from routing the six components through attn_router_route and reading
 * their result JSON. features.c now drives path_similarity, codeowners,
 * mentions and review_requests without the JSON and scores popularity and
 * stewards itself; this is the old reading, kept as the reference.
 */
enum { R_POP, R_PATH, R_STEW, R_OWNERS, R_MENTIONS, R_REQUESTS, R_N };
static const char *const REF_COMPONENTS[R_N] = {"popularity", "path_similarity", "stewards",
                                                "codeowners", "mentions", "review_requests"};

typedef struct {
    char login[128];
    double best_rr, rr[R_N], score[R_N];
} ref_item;

static int ref_cmp(const void *a, const void *b)
{
    const ref_item *x = a, *y = b;
    int c;
    if (x->best_rr != y->best_rr)
        return x->best_rr > y->best_rr ? -1 : 1;
    if ((c = strcasecmp(x->login, y->login)))
        return c;
    return strcmp(x->login, y->login);
}

static size_t ref_pool(attn_router **r, const attn_route_ctx *ctx, const attn_route_query *q,
                       ref_item *items, size_t cap)
{
    size_t n = 0;
    attn_error err;
    for (int c = 0; c < R_N; c++) {
        json_t *res;
        const json_t *cd;
        size_t j, rank = 0;
        if (attn_router_route(r[c], ctx, q, &res, &err))
            fail_msg("%s: %s", REF_COMPONENTS[c], err.msg);
        json_array_foreach(json_object_get(res, "candidates"), j, cd) {
            const json_t *t = json_object_get(cd, "target");
            const char *name = attn_json_str(t, "name");
            size_t i;
            if (strcmp(attn_json_str(t, "type"), "user"))
                continue;
            rank++;
            for (i = 0; i < n && strcasecmp(items[i].login, name); i++)
                ;
            if (i == n) {
                assert_true(n < cap);
                memset(&items[n], 0, sizeof(items[n]));
                snprintf(items[n++].login, sizeof(items[0].login), "%s", name);
            }
            if (items[i].rr[c] == 0) {
                items[i].rr[c] = 1.0 / (double)rank;
                items[i].score[c] = json_number_value(json_object_get(cd, "score"));
                if (items[i].rr[c] > items[i].best_rr)
                    items[i].best_rr = items[i].rr[c];
            }
        }
        json_decref(res);
    }
    qsort(items, n, sizeof(*items), ref_cmp);
    return n < (size_t)q->top_k ? n : (size_t)q->top_k;
}

static int64_t q_i64(attn_store *s, const char *sql, int64_t *col2)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        if (col2)
            *col2 = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return v;
}

static void test_fast_path_equals_component_routers(void **state)
{
    char *dir = test_tmpdir(), bpath[700], db[700];
    attn_synth_opts o;
    attn_error err;
    attn_store *s;
    attn_route_env *env;
    attn_bundle_stats bst;
    json_t *bundle;
    attn_router *r[R_N];
    attn_features *fe;
    const attn_route_ctx *ctx;
    size_t checked = 0, with_path = 0, with_stew = 0;
    (void)state;
    attn_synth_opts_init(&o);
    o.prs = 300;
    o.seed = 11;
    o.days = 120;
    snprintf(bpath, sizeof(bpath), "%s/b.json", dir);
    snprintf(db, sizeof(db), "%s/history.sqlite", dir);
    if (attn_synth_write_file(&o, bpath, &err) ||
        attn_bundle_read(bpath, "synth/sample", &bundle, &err) || attn_store_open(db, &s, &err) ||
        attn_bundle_apply(s, bundle, &bst, &err) ||
        attn_route_env_open(s, "synth/sample", dir, &env, &err))
        fail_msg("history: %s", err.msg);
    json_decref(bundle);
    ctx = attn_route_env_ctx(env);
    for (int c = 0; c < R_N; c++) {
        const attn_router_def *d;
        if (attn_router_find(REF_COMPONENTS[c], &d, &err) ||
            attn_router_new(d, NULL, NULL, ctx, &r[c], &err))
            fail_msg("%s: %s", REF_COMPONENTS[c], err.msg);
    }
    assert_int_equal(attn_features_new(ctx, 30, &fe, &err), 0);
    for (int64_t number = 100; number <= 300; number += 2) {
        char sql[200];
        int64_t created = 0, exists;
        ref_item items[200];
        attn_feat_set fs;
        json_t *snap;
        size_t n;
        snprintf(sql, sizeof(sql),
                 "SELECT count(*), created_at FROM pull_requests WHERE number = %lld",
                 (long long)number);
        if (!(exists = q_i64(s, sql, &created)))
            continue;
        for (int late = 0; late < 2; late++) {
            /* at creation, and a day later (requests and mentions made by then) */
            attn_route_query q = {number, created + late * D, 30, NULL};
            if (attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, number, q.as_of, &snap,
                                             &err))
                fail_msg("snapshot #%lld: %s", (long long)number, err.msg);
            q.snapshot = snap;
            n = ref_pool(r, ctx, &q, items, 200);
            assert_int_equal(attn_features_compute(fe, ctx, &q, &fs, &err), 0);
            assert_int_equal(fs.n, n);
            for (size_t i = 0; i < n; i++) {
                const float *x = fs.x + i * ATTN_FEAT_N;
                assert_string_equal(fs.login[i], items[i].login);
                assert_true(x[11] == (float)items[i].score[R_PATH]);  /* path_sim_score */
                assert_true(x[12] == (float)items[i].rr[R_PATH]);
                assert_true(x[13] == (float)items[i].score[R_STEW]);  /* stewards_score */
                assert_true(x[14] == (float)items[i].rr[R_STEW]);
                assert_true(x[17] == (float)items[i].rr[R_OWNERS]);
                assert_true(x[18] == (items[i].rr[R_MENTIONS] > 0));
                assert_true(x[19] == (items[i].rr[R_REQUESTS] > 0));
                assert_true(x[23] == (float)items[i].rr[R_POP]);
                with_path += x[11] > 0;
                with_stew += x[13] > 0;
            }
            checked += n;
            attn_feat_set_free(&fs);
            json_decref(snap);
        }
    }
    /* The history exercises what is compared. */
    assert_true(checked > 1000);
    assert_true(with_path > 100);
    assert_true(with_stew > 100);
    attn_features_free(fe);
    for (int c = 0; c < R_N; c++)
        attn_router_free(r[c]);
    attn_route_env_free(env);
    attn_store_close(s);
    attn_fs_remove_tree(dir, &err);
    free(dir);
}

/* attn_feat_round6 is printf("%.6g") then strtod, without printf; attn_round_sig(v, 12)
 * likewise "%.12g". */
static void test_round6_equals_printf(void **state)
{
    attn_prng g;
    (void)state;
    attn_prng_seed(&g, 15);
    for (int i = 0; i < 400000; i++) {
        uint64_t bits = attn_prng_next(&g);
        double v, want, got;
        char b[40];
        float fv;
        uint32_t fb = (uint32_t)bits;
        switch (i % 4) {
        case 0: memcpy(&fv, &fb, sizeof(fv)); v = fv; break;        /* any float */
        case 1: v = (double)(bits >> 11) / 9007199254740992.0 * pow(10, (int)(bits % 41) - 20); break;
        case 2: v = (float)((double)(bits % 2000000) / (double)(1 + bits % 997)); break;
        default: v = (double)(int64_t)(bits % 4000000) - 2000000 + 0.5 * (double)(i % 3); break;
        }
        if (!isfinite(v))
            continue;
        snprintf(b, sizeof(b), "%.6g", v);
        want = v == 0 ? 0 : strtod(b, NULL);
        got = attn_feat_round6(v);
        if (memcmp(&want, &got, sizeof(want)) && !(want == 0 && got == 0))
            fail_msg("round6(%.17g) = %.17g, printf gives %.17g", v, got, want);
        /* the 12 digits router.c compares scores with (candidates.c) */
        snprintf(b, sizeof(b), "%.12g", v);
        want = v == 0 ? 0 : strtod(b, NULL);
        got = attn_round_sig(v, 12);
        if (memcmp(&want, &got, sizeof(want)) && !(want == 0 && got == 0))
            fail_msg("round_sig(%.17g, 12) = %.17g, printf gives %.17g", v, got, want);
    }
}

/* The feature table's text is the canonical form of its tree, for tables
 * of every size, logins that need escapes, and values of every kind. */
static void test_feature_table_text(void **state)
{
    static const char *const LOGINS[] = {"alice", "b\"o\\b", "tab\there", "\xc3\xa9mile",
                                         "ctl\x01", "x"};
    attn_prng g;
    (void)state;
    attn_prng_seed(&g, 16);
    for (int i = 0; i < 3000; i++) {
        attn_feat_set fs;
        json_t *tree;
        attn_buf want = ATTN_BUF_INIT, got = ATTN_BUF_INIT;
        attn_error err;
        const char *model = i % 3 ? "0123abcd" : NULL;
        fs.n = (size_t)(attn_prng_next(&g) % 35);
        fs.login = calloc(fs.n ? fs.n : 1, sizeof(*fs.login));
        fs.x = calloc((fs.n ? fs.n : 1) * ATTN_FEAT_N, sizeof(*fs.x));
        for (size_t c = 0; c < fs.n; c++) {
            fs.login[c] = (char *)LOGINS[(c + (size_t)i) % 6];
            for (size_t k = 0; k < ATTN_FEAT_N; k++) {
                uint64_t b = attn_prng_next(&g);
                float v;
                uint32_t fb = (uint32_t)(b >> 16);
                switch (b % 7) {
                case 0: v = 0; break;
                case 1: v = (float)(b >> 40); break;                     /* counts */
                case 2: v = (float)((double)(b >> 11) / 9007199254740992.0); break;
                case 3: v = -(float)ldexp((double)(b >> 40), (int)(b >> 8) % 80 - 60); break;
                case 4: memcpy(&v, &fb, sizeof(v)); break;               /* any float */
                case 5: v = (float)((double)(b >> 44) / (double)(1 + (b >> 8) % 997)); break;
                default: v = (b & 64) ? -0.0f : 1e-7f; break;
                }
                fs.x[c * ATTN_FEAT_N + k] = v;
            }
        }
        assert_non_null(tree = attn_feat_set_json(&fs));
        json_object_set_new(tree, "candidate_gen_version", json_string(ATTN_CANDIDATE_GEN_VERSION));
        if (model)
            json_object_set_new(tree, "model", json_string(model));
        assert_int_equal(attn_json_canonical(tree, &want, &err), 0);
        assert_int_equal(attn_feat_set_canonical(&fs, model, &got, &err), 0);
        assert_int_equal(got.len, want.len);
        assert_string_equal(got.ptr, want.ptr);
        json_decref(tree);
        attn_buf_free(&want);
        attn_buf_free(&got);
        free(fs.login);
        free(fs.x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_at_exact_cutoffs),
        cmocka_unit_test(test_feature_list_is_versioned),
        cmocka_unit_test(test_training_window_rule),
        cmocka_unit_test(test_model_deterministic_and_checked),
        cmocka_unit_test(test_router_with_model),
        cmocka_unit_test(test_fast_path_equals_component_routers),
        cmocka_unit_test(test_round6_equals_printf),
        cmocka_unit_test(test_feature_table_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
