/*
 * test_metrics.c - routing metrics, slices, bootstrap and queue metrics
 * (src/eval/metrics.c).
 *
 * Per-PR cases are data: tests/data/metrics/cases.txt (hand-computed rank,
 * hit@k and recall@k). The pinned bootstrap values were computed by an
 * independent implementation of util/prng.h and the rule in metrics.h
 * (Python, summing in the same order, so the doubles are bit-identical).
 */
#include "testutil.h"
#include "eval/metrics.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/time.h"

#include <math.h>

static char *canonical(const json_t *v)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (attn_json_canonical(v, &b, &err))
        fail_msg("%s", err.msg);
    return attn_buf_detach(&b);
}

/* ---- per-PR cases ---------------------------------------------------------------- */

typedef struct {
    char team[64];
    char members[256];
} roster;

/* The test's team_match hook: "org/core=bob,carol" (exact team spelling). */
static int roster_match(void *ctx, const char *team, const char *user)
{
    const roster *r = ctx;
    char copy[256], *save = NULL;
    if (strcmp(team, r->team))
        return 0;
    snprintf(copy, sizeof(copy), "%s", r->members);
    for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save))
        if (!strcmp(m, user))
            return 1;
    return 0;
}

static size_t parse_targets(char *list, attn_target *out, char *storage)
{
    size_t n = 0;
    char *save = NULL;
    if (!strcmp(list, "-"))
        return 0;
    strcpy(storage, list);
    for (char *t = strtok_r(storage, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(t, ':');
        assert_non_null(colon);
        *colon = 0;
        out[n].type = t;
        out[n].name = colon + 1;
        n++;
    }
    return n;
}

static void parse_values(const char *text, double *v, size_t n)
{
    char copy[128], *save = NULL;
    size_t i = 0;
    snprintf(copy, sizeof(copy), "%s", text);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *slash = strchr(t, '/');
        assert_true(i < n);
        v[i++] = slash ? atof(t) / atof(slash + 1) : atof(t);
    }
    assert_int_equal(i, n);
}

static void test_pr_cases(void **state)
{
    char path[512], line[2048];
    int n = 0, bad = 0;
    FILE *f;
    (void)state;
    test_data_path("metrics/cases.txt", path, sizeof(path));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *field[7] = {0}, *save = NULL, cs[1024], ts[1024];
        attn_target cands[32], truth[32];
        attn_metrics_options o;
        attn_pr_metrics m;
        attn_error err;
        double hit[4], rec[4];
        roster r;
        size_t nc, nt, k = 0;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        for (char *t = strtok_r(line, "\t", &save); t && k < 7; t = strtok_r(NULL, "\t", &save))
            field[k++] = t;
        assert_true(k >= 6);
        attn_metrics_options_init(&o);
        if (field[6]) {
            char *eq = strchr(field[6], '=');
            assert_non_null(eq);
            *eq = 0;
            snprintf(r.team, sizeof(r.team), "%s", field[6]);
            snprintf(r.members, sizeof(r.members), "%s", eq + 1);
            o.team_match = roster_match;
            o.team_match_ctx = &r;
        }
        nc = parse_targets(field[1], cands, cs);
        nt = parse_targets(field[2], truth, ts);
        parse_values(field[4], hit, 4);
        parse_values(field[5], rec, 4);
        assert_int_equal(attn_metrics_pr(&o, cands, nc, truth, nt, &m, &err), 0);
        n++;
        int ok = m.rank == atoi(field[3]) && m.empty == (nc == 0) &&
                 m.rr == (m.rank ? 1.0 / m.rank : 0.0);
        for (int i = 0; i < 4; i++)
            ok = ok && m.hit[i] == hit[i] && fabs(m.recall[i] - rec[i]) < 1e-12;
        if (!ok) {
            fprintf(stderr, "case '%s': got rank %d rr %g empty %d hit %g,%g,%g,%g recall "
                            "%g,%g,%g,%g\n",
                    field[0], m.rank, m.rr, m.empty, m.hit[0], m.hit[1], m.hit[2], m.hit[3],
                    m.recall[0], m.recall[1], m.recall[2], m.recall[3]);
            bad++;
        }
    }
    fclose(f);
    assert_true(n >= 30);
    assert_int_equal(bad, 0);
}

static void test_pr_json_and_errors(void **state)
{
    attn_metrics_options o;
    attn_target c[] = {{"user", "a"}, {"user", "b"}}, t[] = {{"user", "B"}, {"team", "x"}};
    attn_target bad_type[] = {{"User", "a"}}, no_name[] = {{"user", ""}};
    attn_pr_metrics m;
    attn_error err;
    json_t *v;
    char *text;
    (void)state;
    attn_metrics_options_init(&o);
    assert_int_equal(attn_metrics_parse_ks("3,1", &o, &err), 0);
    assert_int_equal(attn_metrics_pr(&o, c, 2, t, 2, &m, &err), 0);
    v = attn_metrics_pr_json(&o, &m);
    text = canonical(v);
    assert_string_equal(text, "{\"empty_candidates\":false,\"hit_at_1\":0.0,\"hit_at_3\":1.0,"
                              "\"n_targets\":2,\"rank\":2,\"recall_at_1\":0.0,\"recall_at_3\":0.5,"
                              "\"rr\":0.5}");
    free(text);
    json_decref(v);
    assert_int_equal(attn_metrics_pr(&o, c, 0, t, 0, &m, &err), 0);
    v = attn_metrics_pr_json(&o, &m);
    assert_true(json_is_null(json_object_get(v, "rank")));
    assert_true(json_is_true(json_object_get(v, "empty_candidates")));
    json_decref(v);
    assert_int_equal(attn_metrics_pr(&o, bad_type, 1, t, 1, &m, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "candidate 1: type must be user or team, not 'User'"));
    assert_int_equal(attn_metrics_pr(&o, c, 2, no_name, 1, &m, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "truth target 1: no name"));
}

static void test_parse_ks(void **state)
{
    static const struct { const char *text; const char *want; } C[] = {
        {"1,3,5,10", "1,3,5,10"}, {"10,1", "1,10"}, {"7", "7"}, {"", NULL}, {"1,,3", NULL},
        {"0", NULL}, {"-1", NULL}, {"1,1", NULL}, {"1, 3", NULL}, {"1,3,", NULL},
        {"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"},
        {"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", NULL}, {"1000001", NULL}, {"a", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
        attn_metrics_options o;
        attn_error err;
        char got[256] = "";
        attn_metrics_options_init(&o);
        int rc = attn_metrics_parse_ks(C[i].text, &o, &err);
        if (!C[i].want) {
            if (rc != ATTN_EINVAL)
                fail_msg("'%s' should be refused", C[i].text);
            assert_non_null(strstr(err.msg, "ks '"));
            assert_int_equal(o.n_ks, 4);    /* unchanged on error */
            continue;
        }
        assert_int_equal(rc, 0);
        for (size_t k = 0; k < o.n_ks; k++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%d", k ? "," : "", o.ks[k]);
        assert_string_equal(got, C[i].want);
    }
}

static void test_targets_from_json(void **state)
{
    attn_target *t;
    size_t n;
    attn_error err;
    json_t *v;
    (void)state;
    v = json_loads("[{\"target\":{\"type\":\"team\",\"name\":\"o/c\"},\"score\":2},"
                   "{\"type\":\"user\",\"name\":\"bob\"}]", 0, NULL);
    assert_int_equal(attn_targets_from_json(v, &t, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].type, "team");
    assert_string_equal(t[0].name, "o/c");
    assert_string_equal(t[1].name, "bob");
    free(t);
    json_decref(v);
    v = json_loads("[{\"type\":\"user\"}]", 0, NULL);
    assert_int_equal(attn_targets_from_json(v, &t, &n, &err), ATTN_EINVAL);
    assert_null(t);
    json_decref(v);
    v = json_object();
    assert_int_equal(attn_targets_from_json(v, &t, &n, &err), ATTN_EINVAL);
    json_decref(v);
    v = json_array();
    assert_int_equal(attn_targets_from_json(v, &t, &n, &err), 0);
    assert_int_equal(n, 0);
    json_decref(v);
}

/* ---- bootstrap ------------------------------------------------------------------------ */

static void fmt17(double v, char *buf)
{
    snprintf(buf, 32, "%.17g", v);
}

static void assert_interval(const attn_interval *iv, const char *mean, const char *lo,
                            const char *hi)
{
    char a[32], b[32], c[32];
    fmt17(iv->mean, a);
    fmt17(iv->lo, b);
    fmt17(iv->hi, c);
    /* Python's repr is the shortest round-trip form; compare as doubles. */
    if (iv->mean != atof(mean) || iv->lo != atof(lo) || iv->hi != atof(hi))
        fail_msg("interval %s [%s, %s], expected %s [%s, %s]", a, b, c, mean, lo, hi);
}

static void test_bootstrap_pinned(void **state)
{
    const double hits[] = {1, 0, 1, 1, 0, 0, 1, 0, 1, 1};
    const double rr[] = {1.0, 0.5, 0.0, 1.0 / 3, 1.0, 0.25, 0.0, 0.2, 1.0, 0.5};
    attn_bootstrap_options b;
    attn_interval iv;
    attn_error err;
    (void)state;
    attn_bootstrap_options_init(&b);
    assert_int_equal(b.resamples, 1000);
    assert_int_equal(b.seed, 42);
    assert_int_equal(attn_bootstrap_mean(hits, 10, &b, &iv, &err), 0);
    assert_int_equal(iv.n, 10);
    assert_interval(&iv, "0.6", "0.3", "0.9");
    assert_int_equal(attn_bootstrap_mean(rr, 10, &b, &iv, &err), 0);
    assert_interval(&iv, "0.47833333333333333", "0.265", "0.7");
    b.resamples = 200;
    b.seed = 7;
    assert_int_equal(attn_bootstrap_mean(rr, 10, &b, &iv, &err), 0);
    assert_interval(&iv, "0.47833333333333333", "0.23666666666666664", "0.7033333333333334");
    /* The cut index floor(R / 40) at small R. */
    b.seed = 42;
    b.resamples = 1;
    assert_int_equal(attn_bootstrap_mean(rr, 10, &b, &iv, &err), 0);
    assert_interval(&iv, "0.47833333333333333", "0.42833333333333334", "0.42833333333333334");
    b.resamples = 39;
    assert_int_equal(attn_bootstrap_mean(rr, 10, &b, &iv, &err), 0);
    assert_interval(&iv, "0.47833333333333333", "0.33166666666666667", "0.72");
    b.resamples = 40;
    assert_int_equal(attn_bootstrap_mean(rr, 10, &b, &iv, &err), 0);
    assert_interval(&iv, "0.47833333333333333", "0.33666666666666667", "0.675");
}

static void test_bootstrap_degenerate(void **state)
{
    const double one[] = {0.25}, same[] = {0.5, 0.5, 0.5, 0.5}, bad[] = {1, NAN};
    attn_bootstrap_options b;
    attn_interval iv;
    attn_error err;
    (void)state;
    attn_bootstrap_options_init(&b);
    assert_int_equal(attn_bootstrap_mean(NULL, 0, &b, &iv, &err), 0);
    assert_int_equal(iv.n, 0);
    assert_true(isnan(iv.mean) && isnan(iv.lo) && isnan(iv.hi));
    assert_int_equal(attn_bootstrap_mean(one, 1, &b, &iv, &err), 0);
    assert_true(iv.mean == 0.25 && iv.lo == 0.25 && iv.hi == 0.25);
    assert_int_equal(attn_bootstrap_mean(same, 4, &b, &iv, &err), 0);
    assert_true(iv.mean == 0.5 && iv.lo == 0.5 && iv.hi == 0.5);
    /* Without options: the mean only. */
    assert_int_equal(attn_bootstrap_mean(same, 4, NULL, &iv, &err), 0);
    assert_true(iv.mean == 0.5 && isnan(iv.lo));
    b.resamples = 0;
    assert_int_equal(attn_bootstrap_mean(same, 4, &b, &iv, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "resamples must be at least 1"));
    attn_bootstrap_options_init(&b);
    assert_int_equal(attn_bootstrap_mean(bad, 2, &b, &iv, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "value 2 is not finite"));
}

static void test_bootstrap_paired(void **state)
{
    const double a[] = {1, 0, 1, 0, 0, 1, 0, 0}, b2[] = {1, 1, 1, 0, 1, 1, 0, 1};
    attn_bootstrap_options b;
    attn_interval iv, again;
    attn_error err;
    (void)state;
    attn_bootstrap_options_init(&b);
    assert_int_equal(attn_bootstrap_paired_diff(a, b2, 8, &b, &iv, &err), 0);
    assert_interval(&iv, "0.375", "0.0", "0.75");
    /* Deterministic: the same seed gives the same interval; the reverse is
     * the mirror image. */
    assert_int_equal(attn_bootstrap_paired_diff(a, b2, 8, &b, &again, &err), 0);
    assert_true(iv.lo == again.lo && iv.hi == again.hi);
    assert_int_equal(attn_bootstrap_paired_diff(b2, a, 8, &b, &again, &err), 0);
    assert_true(again.mean == -iv.mean && again.lo == -iv.hi && again.hi == -iv.lo);
    /* Identical routers: zero, with a zero-width interval. */
    assert_int_equal(attn_bootstrap_paired_diff(a, a, 8, &b, &iv, &err), 0);
    assert_true(iv.mean == 0 && iv.lo == 0 && iv.hi == 0);
    assert_int_equal(attn_bootstrap_paired_diff(NULL, NULL, 0, &b, &iv, &err), 0);
    assert_true(isnan(iv.mean));
}

/* ---- slices --------------------------------------------------------------------------- */

/* Eight PRs: (observed, rank, empty, n_targets, recall@1,3,5,10). */
static void make_rows(const attn_metrics_options *o, attn_pr_metrics *rows, int *observed)
{
    static const struct {
        int observed, rank, empty, nt;
        double recall[4];
    } R[] = {
        {1, 1, 0, 1, {1, 1, 1, 1}},
        {1, 2, 0, 2, {0, 0.5, 1, 1}},
        {1, 0, 0, 1, {0, 0, 0, 0}},
        {1, 0, 1, 1, {0, 0, 0, 0}},
        {0, 0, 0, 0, {0, 0, 0, 0}},
        {0, 0, 1, 0, {0, 0, 0, 0}},
        {1, 6, 0, 1, {0, 0, 0, 1}},
        {0, 0, 0, 0, {0, 0, 0, 0}},
    };
    for (size_t i = 0; i < 8; i++) {
        memset(&rows[i], 0, sizeof(rows[i]));
        observed[i] = R[i].observed;
        rows[i].rank = R[i].rank;
        rows[i].rr = R[i].rank ? 1.0 / R[i].rank : 0;
        rows[i].empty = R[i].empty;
        rows[i].n_targets = (size_t)R[i].nt;
        for (size_t k = 0; k < o->n_ks; k++) {
            rows[i].hit[k] = R[i].rank && R[i].rank <= o->ks[k];
            rows[i].recall[k] = R[i].recall[k];
        }
    }
}

static void test_slices(void **state)
{
    attn_metrics_options o;
    attn_pr_metrics rows[8];
    int observed[8];
    attn_slice_summary s[ATTN_SLICE_N];
    attn_error err;
    json_t *v;
    char *text;
    (void)state;
    attn_metrics_options_init(&o);
    make_rows(&o, rows, observed);
    assert_int_equal(attn_metrics_slices(&o, rows, observed, 8, NULL, s, &err), 0);
    /* all: 8 PRs, 6 non-empty; rr 1 + 0.5 + 1/6 = 5/3. */
    assert_int_equal(s[ATTN_SLICE_ALL].n, 8);
    assert_true(fabs(s[ATTN_SLICE_ALL].coverage.mean - 6.0 / 8) < 1e-15);
    assert_true(fabs(s[ATTN_SLICE_ALL].mrr.mean - (5.0 / 3) / 8) < 1e-15);
    assert_true(s[ATTN_SLICE_ALL].hit[0].mean == 1.0 / 8);
    assert_true(s[ATTN_SLICE_ALL].hit[1].mean == 2.0 / 8);
    assert_true(s[ATTN_SLICE_ALL].hit[3].mean == 3.0 / 8);
    assert_true(fabs(s[ATTN_SLICE_ALL].recall[1].mean - 1.5 / 8) < 1e-15);
    /* observed: PRs 0, 1, 2, 3, 6. */
    assert_int_equal(s[ATTN_SLICE_OBSERVED].n, 5);
    assert_true(s[ATTN_SLICE_OBSERVED].coverage.mean == 4.0 / 5);
    assert_true(fabs(s[ATTN_SLICE_OBSERVED].mrr.mean - (5.0 / 3) / 5) < 1e-15);
    assert_true(s[ATTN_SLICE_OBSERVED].hit[3].mean == 3.0 / 5);
    assert_true(fabs(s[ATTN_SLICE_OBSERVED].recall[2].mean - 2.0 / 5) < 1e-15);
    /* router_nonempty: 0, 1, 2, 4, 6, 7. */
    assert_int_equal(s[ATTN_SLICE_ROUTER_NONEMPTY].n, 6);
    assert_true(s[ATTN_SLICE_ROUTER_NONEMPTY].coverage.mean == 1.0);
    assert_true(s[ATTN_SLICE_ROUTER_NONEMPTY].hit[0].mean == 1.0 / 6);
    /* observed_and_router_nonempty: 0, 1, 2, 6. */
    assert_int_equal(s[ATTN_SLICE_OBSERVED_AND_ROUTER_NONEMPTY].n, 4);
    assert_true(s[ATTN_SLICE_OBSERVED_AND_ROUTER_NONEMPTY].hit[1].mean == 0.5);
    assert_true(s[ATTN_SLICE_OBSERVED_AND_ROUTER_NONEMPTY].hit[3].mean == 0.75);
    assert_true(isnan(s[ATTN_SLICE_ALL].mrr.lo));

    /* The JSON, with ks 1,3 for brevity. */
    assert_int_equal(attn_metrics_parse_ks("1,3", &o, &err), 0);
    make_rows(&o, rows, observed);
    assert_int_equal(attn_metrics_slices(&o, rows, observed, 8, NULL, s, &err), 0);
    v = attn_metrics_slices_json(&o, s, 0);
    text = canonical(json_object_get(v, "observed_and_router_nonempty"));
    assert_string_equal(text, "{\"coverage\":1.0,\"hit_at_1\":0.25,\"hit_at_3\":0.5,"
                              "\"mrr\":0.4166666666666667,\"n\":4,\"recall_at_1\":0.25,"
                              "\"recall_at_3\":0.375}");
    free(text);
    assert_string_equal(attn_slice_name(ATTN_SLICE_OBSERVED_AND_ROUTER_NONEMPTY),
                        "observed_and_router_nonempty");
    assert_null(attn_slice_name(ATTN_SLICE_N));
    json_decref(v);
}

static void test_slices_empty_and_ci(void **state)
{
    attn_metrics_options o;
    attn_pr_metrics rows[8];
    int observed[8] = {0};
    attn_slice_summary s[ATTN_SLICE_N];
    attn_bootstrap_options b;
    attn_error err;
    json_t *v, *sl;
    (void)state;
    attn_metrics_options_init(&o);
    attn_bootstrap_options_init(&b);
    /* No PRs at all: n = 0, every value null. */
    assert_int_equal(attn_metrics_slices(&o, NULL, NULL, 0, &b, s, &err), 0);
    v = attn_metrics_slices_json(&o, s, 1);
    sl = json_object_get(v, "all");
    assert_int_equal(json_integer_value(json_object_get(sl, "n")), 0);
    assert_true(json_is_null(json_object_get(sl, "mrr")));
    assert_true(json_is_null(json_object_get(json_object_get(sl, "ci95"), "hit_at_10")));
    json_decref(v);
    /* With intervals: every metric gets [lo, hi] around its mean. */
    make_rows(&o, rows, observed);
    for (int i = 0; i < 8; i++)
        observed[i] = 1;
    assert_int_equal(attn_metrics_slices(&o, rows, observed, 8, &b, s, &err), 0);
    for (int k = 0; k < ATTN_SLICE_N; k++) {
        assert_true(s[k].mrr.lo <= s[k].mrr.mean && s[k].mrr.mean <= s[k].mrr.hi);
        assert_true(s[k].hit[3].lo <= s[k].hit[3].hi);
    }
    /* Same seed and slice size: the same resamples for every slice of equal
     * contents ("all" and "observed" are the same PRs here). */
    assert_true(s[ATTN_SLICE_ALL].mrr.lo == s[ATTN_SLICE_OBSERVED].mrr.lo);
    /* Each metric's interval is bit-identical to bootstrapping it alone. */
    {
        double rr[8], h[8];
        attn_interval a;
        for (int i = 0; i < 8; i++) {
            rr[i] = rows[i].rr;
            h[i] = rows[i].hit[1];
        }
        assert_int_equal(attn_bootstrap_mean(rr, 8, &b, &a, &err), 0);
        assert_true(a.lo == s[ATTN_SLICE_ALL].mrr.lo && a.hi == s[ATTN_SLICE_ALL].mrr.hi);
        assert_int_equal(attn_bootstrap_mean(h, 8, &b, &a, &err), 0);
        assert_true(a.lo == s[ATTN_SLICE_ALL].hit[1].lo && a.hi == s[ATTN_SLICE_ALL].hit[1].hi);
    }
    /* Spread over threads, every interval is the same to the bit. */
    for (int t = 2; t <= 20; t += 9) {
        attn_slice_summary s2[ATTN_SLICE_N];
        b.threads = t;
        assert_int_equal(attn_metrics_slices(&o, rows, observed, 8, &b, s2, &err), 0);
        for (int k = 0; k < ATTN_SLICE_N; k++) {
            assert_true(s2[k].mrr.lo == s[k].mrr.lo && s2[k].mrr.hi == s[k].mrr.hi);
            assert_true(s2[k].coverage.lo == s[k].coverage.lo);
            for (size_t h = 0; h < o.n_ks; h++)
                assert_true(s2[k].hit[h].lo == s[k].hit[h].lo &&
                            s2[k].hit[h].hi == s[k].hit[h].hi &&
                            s2[k].recall[h].hi == s[k].recall[h].hi);
        }
    }
    b.threads = 1;
    v = attn_metrics_slices_json(&o, s, 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(v, "all"),
                                                                     "ci95"),
                                                     "mrr")),
                     2);
    json_decref(v);
}

/* One interval against attn_bootstrap_mean of the same values alone. */
static void check_alone(const attn_metrics_options *o, const attn_pr_metrics *rows,
                        const int *observed, size_t n, attn_slice sl, size_t m,
                        const attn_bootstrap_options *b, const attn_interval *got)
{
    double *x = calloc(n ? n : 1, sizeof(double));
    size_t k = 0;
    attn_interval want;
    attn_error err;
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        int in = sl == ATTN_SLICE_ALL ? 1
                 : sl == ATTN_SLICE_OBSERVED ? observed[i]
                 : sl == ATTN_SLICE_ROUTER_NONEMPTY ? !rows[i].empty
                                                    : observed[i] && !rows[i].empty;
        if (!in)
            continue;
        x[k++] = m == 0 ? !rows[i].empty
                 : m == 1 ? rows[i].rr
                 : m < 2 + o->n_ks ? rows[i].hit[m - 2]
                                   : rows[i].recall[m - 2 - o->n_ks];
    }
    assert_int_equal(attn_bootstrap_mean(x, k, b, &want, &err), 0);
    free(x);
    assert_int_equal(got->n, k);
    if (k == 0) {
        assert_true(isnan(got->mean) && isnan(got->lo) && isnan(got->hi));
        return;
    }
    assert_true(got->mean == want.mean);
    assert_true(got->lo == want.lo);
    assert_true(got->hi == want.hi);
}

/*
 * Several sets (policies) of several routers at once: every interval of
 * every slice is bit for bit attn_bootstrap_mean of its values alone,
 * whatever the thread count and the memory for draws (down to one resample
 * per chunk, and a chunk size that does not divide the resamples). Router 0
 * never has any candidate, router 1 often has none, router 2 always has
 * some (its "router_nonempty" slices hold "all"'s and "observed"'s PRs).
 */
static void test_slices_sets(void **state)
{
    enum { N = 37, NR = 3, NS = 2 };
    attn_metrics_options o;
    attn_pr_metrics rows[NS][NR][N];
    const attn_pr_metrics *ptr[NS][NR];
    int observed[NS][N];
    attn_slice_summary out[NS][NR][ATTN_SLICE_N];
    attn_metrics_set sets[NS];
    attn_bootstrap_options b;
    attn_error err;
    static const size_t draw_bytes[] = {0, 1, 7 * N * 4, 64 * N * 4};
    (void)state;
    attn_metrics_options_init(&o);
    attn_bootstrap_options_init(&b);
    b.resamples = 199;
    b.seed = 7;
    for (size_t s = 0; s < NS; s++) {
        for (size_t i = 0; i < N; i++)
            observed[s][i] = (i * (s + 3)) % 5 != 0;
        for (size_t r = 0; r < NR; r++) {
            for (size_t i = 0; i < N; i++) {
                attn_pr_metrics *m = &rows[s][r][i];
                memset(m, 0, sizeof(*m));
                m->empty = r == 0 || (r == 1 && i % 3 == 0);
                m->rank = m->empty ? 0 : (int)((i * 7 + r + s) % 6);
                m->rr = m->rank ? 1.0 / m->rank : 0;
                m->n_targets = 1;
                for (size_t k = 0; k < o.n_ks; k++) {
                    m->hit[k] = m->rank && m->rank <= o.ks[k];
                    m->recall[k] = m->hit[k] * (double)((i + k) % 4) / 3;
                }
            }
            ptr[s][r] = rows[s][r];
        }
        sets[s].rows = ptr[s];
        sets[s].observed = observed[s];
        sets[s].out = out[s];
    }
    for (int t = 1; t <= 3; t++)
        for (size_t d = 0; d < sizeof(draw_bytes) / sizeof(draw_bytes[0]); d++) {
            b.threads = t;
            b.draw_bytes = draw_bytes[d];
            memset(out, 0xab, sizeof(out));
            assert_int_equal(attn_metrics_slices_sets(&o, sets, NS, NR, N, &b, &err), 0);
            for (size_t s = 0; s < NS; s++)
                for (size_t r = 0; r < NR; r++)
                    for (int sl = 0; sl < ATTN_SLICE_N; sl++) {
                        attn_slice_summary *x = &out[s][r][sl];
                        const attn_interval *v[] = {&x->coverage, &x->mrr, &x->hit[0],
                                                    &x->hit[3], &x->recall[1], &x->recall[2]};
                        const size_t m[] = {0, 1, 2, 5, 7, 8};
                        for (size_t q = 0; q < 6; q++)
                            check_alone(&o, rows[s][r], observed[s], N, (attn_slice)sl, m[q],
                                        &b, v[q]);
                    }
        }
    /* A value that is not finite is refused, naming it. */
    rows[1][1][4].rr = NAN;
    assert_int_equal(attn_metrics_slices_sets(&o, sets, NS, NR, N, &b, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "not finite"));
    rows[1][1][4].rr = 0;
    b.resamples = 0;
    assert_int_equal(attn_metrics_slices_sets(&o, sets, NS, NR, N, &b, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "resamples"));
}

/* Past the byte lanes' limits: slices of more than 255 PRs (a lane holds
 * 255 draws before it is flushed), more than 32 columns of only 0 and 1 in
 * one slice (a second 32-byte block), recall that is 0/1 for some routers
 * and fractional for others, and every metric checked against the column
 * bootstrapped alone. */
static void test_slices_sets_wide(void **state)
{
    enum { N = 600, NR = 7 };
    attn_metrics_options o;
    static attn_pr_metrics rows[NR][N];
    const attn_pr_metrics *ptr[NR];
    int observed[N];
    attn_slice_summary out[NR][ATTN_SLICE_N];
    attn_metrics_set set = {ptr, observed, out};
    attn_bootstrap_options b;
    attn_error err;
    (void)state;
    attn_metrics_options_init(&o);
    attn_bootstrap_options_init(&b);
    b.resamples = 41;
    b.seed = 3;
    for (size_t i = 0; i < N; i++)
        observed[i] = i % 7 != 0;
    for (size_t r = 0; r < NR; r++) {
        for (size_t i = 0; i < N; i++) {
            attn_pr_metrics *m = &rows[r][i];
            memset(m, 0, sizeof(*m));
            m->empty = (i * (r + 1)) % 11 == 0;
            m->rank = m->empty ? 0 : (int)((i * 5 + r) % 13);
            m->rr = m->rank ? 1.0 / m->rank : 0;
            m->n_targets = r < 4 ? 1 : 2;
            for (size_t k = 0; k < o.n_ks; k++) {
                m->hit[k] = m->rank && m->rank <= o.ks[k];
                m->recall[k] = r < 4 ? m->hit[k] : m->hit[k] * (double)((i + k) % 2 + 1) / 2;
            }
        }
        ptr[r] = rows[r];
    }
    for (int t = 1; t <= 2; t++) {
        b.threads = t;
        b.draw_bytes = t == 1 ? 0 : 5 * N * 4;
        memset(out, 0xab, sizeof(out));
        assert_int_equal(attn_metrics_slices_sets(&o, &set, 1, NR, N, &b, &err), 0);
        for (size_t r = 0; r < NR; r++)
            for (int sl = 0; sl < ATTN_SLICE_N; sl++) {
                attn_slice_summary *x = &out[r][sl];
                check_alone(&o, rows[r], observed, N, (attn_slice)sl, 0, &b, &x->coverage);
                check_alone(&o, rows[r], observed, N, (attn_slice)sl, 1, &b, &x->mrr);
                for (size_t k = 0; k < o.n_ks; k++) {
                    check_alone(&o, rows[r], observed, N, (attn_slice)sl, 2 + k, &b, &x->hit[k]);
                    check_alone(&o, rows[r], observed, N, (attn_slice)sl, 2 + o.n_ks + k, &b,
                                &x->recall[k]);
                }
            }
    }
}

static void test_compare(void **state)
{
    attn_metrics_options o;
    attn_pr_metrics a[8], b[8];
    int observed[8];
    attn_bootstrap_options boot;
    attn_error err;
    json_t *v, *mrr;
    (void)state;
    attn_metrics_options_init(&o);
    attn_bootstrap_options_init(&boot);
    make_rows(&o, a, observed);
    make_rows(&o, b, observed);
    /* B finds PR 2's target first and returns something for PR 3. */
    b[2].rank = 1; b[2].rr = 1; b[2].hit[0] = b[2].hit[1] = b[2].hit[2] = b[2].hit[3] = 1;
    b[3].empty = 0;
    assert_int_equal(attn_metrics_compare(&o, a, b, observed, 8, &boot, &v, &err), 0);
    mrr = json_object_get(json_object_get(v, "all"), "mrr");
    assert_true(fabs(json_real_value(json_object_get(mrr, "diff")) - 1.0 / 8) < 1e-15);
    assert_true(fabs(json_real_value(json_object_get(mrr, "b")) -
                     json_real_value(json_object_get(mrr, "a")) - 1.0 / 8) < 1e-15);
    assert_int_equal(json_array_size(json_object_get(mrr, "ci95")), 2);
    /* Both non-empty: PR 3 is empty for A, so it is left out. */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "router_nonempty"),
                                                        "n")),
                     6);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "all"), "n")), 8);
    json_decref(v);
}

/* ---- queue ---------------------------------------------------------------------------- */

static void test_quantile(void **state)
{
    const double one[] = {7}, four[] = {1, 2, 3, 4}, ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    (void)state;
    assert_true(attn_quantile(one, 1, 0.5) == 7 && attn_quantile(one, 1, 0.9) == 7);
    assert_true(attn_quantile(four, 4, 0.5) == 2.5);
    assert_true(fabs(attn_quantile(four, 4, 0.9) - 3.7) < 1e-12);   /* numpy: 3.7 */
    assert_true(attn_quantile(four, 4, 0) == 1 && attn_quantile(four, 4, 1) == 4);
    assert_true(attn_quantile(ten, 10, 0.5) == 5.5);
    assert_true(fabs(attn_quantile(ten, 10, 0.9) - 9.1) < 1e-12);   /* numpy: 9.1 */
}

static void test_queue(void **state)
{
    const attn_queue_row rows[] = {
        {"high", 100, 200},
        {"HIGH", 300, ATTN_NULL_I64},
        {"low", ATTN_NULL_I64, ATTN_NULL_I64},
        {NULL, 50, 50},
        {"", 150, ATTN_NULL_I64},
        {"High", 200, 400},
    };
    attn_error err;
    json_t *v;
    char *text;
    (void)state;
    assert_int_equal(attn_metrics_queue(rows, 6, &v, &err), 0);
    text = canonical(v);
    assert_string_equal(
        text,
        "{\"high\":{\"n\":3,\"time_to_first_response\":{\"mean\":200.0,\"median\":200.0,\"n\":3,"
        "\"p90\":280.0},\"time_to_first_review\":{\"mean\":300.0,\"median\":300.0,\"n\":2,"
        "\"p90\":380.0}},\"low\":{\"n\":1,\"time_to_first_response\":{\"mean\":null,"
        "\"median\":null,\"n\":0,\"p90\":null},\"time_to_first_review\":{\"mean\":null,"
        "\"median\":null,\"n\":0,\"p90\":null}},\"unknown\":{\"n\":2,\"time_to_first_response\":"
        "{\"mean\":100.0,\"median\":100.0,\"n\":2,\"p90\":140.0},\"time_to_first_review\":"
        "{\"mean\":50.0,\"median\":50.0,\"n\":1,\"p90\":50.0}}}");
    free(text);
    json_decref(v);
    assert_int_equal(attn_metrics_queue(NULL, 0, &v, &err), 0);
    assert_int_equal(json_object_size(v), 0);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pr_cases),
        cmocka_unit_test(test_pr_json_and_errors),
        cmocka_unit_test(test_parse_ks),
        cmocka_unit_test(test_targets_from_json),
        cmocka_unit_test(test_bootstrap_pinned),
        cmocka_unit_test(test_bootstrap_degenerate),
        cmocka_unit_test(test_bootstrap_paired),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_slices_empty_and_ci),
        cmocka_unit_test(test_slices_sets),
        cmocka_unit_test(test_slices_sets_wide),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
