/*
 * test_compare.c - exp/compare.h on a constructed pair of run directories:
 * hand-written manifest.json, per_pr.jsonl and a few routes/<router> entries
 * (run A keeps them packed, as eval run writes them; run B in the old
 * prs/<n>/ tree, which pack.h still reads). Checks
 * the flips exactly, the deltas against hand arithmetic, the config diff,
 * pairing rules, incompatibility refusal and --force, and determinism.
 * The fast paths of compare_scan.c and the one-pass bootstrap are checked
 * against what they replace: jansson's values and errors on awkward lines
 * and routes, and attn_bootstrap_paired_diff bit for bit.
 */
#include "testutil.h"
#include "exp/compare.h"
#include "exp/compare_internal.h"
#include "eval/metrics.h"
#include "util/prng.h"
#include "eval/rundir.h"
#include "util/fs.h"
#include "util/json.h"

#include <math.h>

typedef struct {
    char *root;
    char a[512], b[512], c[512], d[512];
} fx;

static void put(const char *dir, const char *rel, const char *text)
{
    char path[1024];
    attn_error err;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_int_equal(attn_fs_write_atomic(path, text, strlen(text), &err), 0);
}

/* A run directory parent/run_id whose only content is one packed entry. */
static void packed(const char *parent, const char *run_id, const char *rel, const char *text)
{
    attn_rundir *d;
    attn_error err;
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    assert_int_equal(attn_rundir_begin(parent, run_id, &d, &err), 0);
    assert_int_equal(attn_rundir_write_json(d, rel, v, &err), 0);
    assert_int_equal(attn_rundir_commit(d, &err), 0);
    json_decref(v);
}

#define CUTOFFS "{\"1\":\"2024-01-01T00:00:00Z\",\"2\":\"2024-01-02T00:00:00Z\"," \
                "\"3\":\"2024-01-03T00:00:00Z\",\"4\":\"2024-01-04T00:00:00Z\","  \
                "\"5\":\"2024-01-05T00:00:00Z\",\"6\":\"2024-01-06T00:00:00Z\"}"

static void manifest(const char *dir, const char *run_id, const char *cohort_hash,
                     const char *primary, const char *routers)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"run_id\":\"%s\",\"inputs_hash\":\"ih-%s\",\"kind\":\"eval_manifest\","
             "\"bootstrap\":{\"resamples\":200,\"seed\":7},\"top_k\":10,"
             "\"cohort\":{\"hash\":\"%s\",\"n\":6,\"pr_cutoffs\":" CUTOFFS "},"
             "\"truth\":{\"primary\":\"%s\"},\"routers\":%s}",
             run_id, run_id, cohort_hash, primary, routers);
    put(dir, "manifest.json", text);
}

/* One per_pr line: ranks of r (and of other routers named in extra). */
static void row(attn_buf *b, int n, const char *status, const char *routers)
{
    attn_buf_printf(b,
                    "{\"pr_number\":%d,\"cutoff\":\"2024-01-0%dT00:00:00Z\","
                    "\"truth\":{\"first_response:window=2d\":{\"status\":\"%s\","
                    "\"targets\":[\"t%d\"]}},\"routers\":{%s}}\n",
                    n, n, status, n, routers);
}

static char *rk(char *buf, size_t cap, const char *name, int rank)
{
    char r[32];
    if (rank)
        snprintf(r, sizeof(r), "%d", rank);
    else
        snprintf(r, sizeof(r), "null");
    snprintf(buf, cap,
             "\"%s\":{\"candidates\":[\"x\",\"y\"],\"rank\":{\"first_response:window=2d\":%s}}",
             name, r);
    return buf;
}

/* ranks of r1 per PR 1..6 in A and B; flips at hit@1: 2 hit->miss, 3
 * miss->hit; at hit@5: 5 hit->miss, 4 miss->hit. */
static const int RA[6] = {1, 1, 2, 0, 4, 7};
static const int RB[6] = {1, 3, 1, 2, 0, 6};

static void per_pr(const char *dir, const int *ranks, const char *other)
{
    attn_buf b = ATTN_BUF_INIT;
    for (int i = 0; i < 6; i++) {
        char r1[256], r2[256], both[600];
        rk(r1, sizeof(r1), "r1", ranks[i]);
        rk(r2, sizeof(r2), other, i % 2 ? 1 : 0);
        snprintf(both, sizeof(both), "%s,%s", r1, r2);
        row(&b, i + 1, i == 5 ? "no_response" : "observed", both);
    }
    put(dir, "per_pr.jsonl", b.ptr);
    attn_buf_free(&b);
}

static const char ROUTERS_A[] =
    "[{\"name\":\"r1\",\"version\":\"r1.v1\",\"config_hash\":\"h1\",\"config\":{\"w\":1,"
    "\"x\":{\"y\":2}}},{\"name\":\"only_a\",\"version\":\"a.v1\",\"config_hash\":\"ha\","
    "\"config\":{}}]";
static const char ROUTERS_B[] =
    "[{\"name\":\"r1\",\"version\":\"r1.v1\",\"config_hash\":\"h2\",\"config\":{\"w\":2,"
    "\"x\":{\"y\":2},\"z\":true}},{\"name\":\"only_b\",\"version\":\"b.v1\",\"config_hash\":"
    "\"hb\",\"config\":{}}]";

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->root = test_tmpdir();
    snprintf(f->a, sizeof(f->a), "%s/runA", f->root);
    snprintf(f->b, sizeof(f->b), "%s/runB", f->root);
    snprintf(f->c, sizeof(f->c), "%s/runC", f->root);
    snprintf(f->d, sizeof(f->d), "%s/runD", f->root);
    packed(f->root, "runA", "prs/2/routes/r1.json",
           "{\"candidates\":[{\"target\":{\"type\":\"user\",\"name\":\"t2\"},\"score\":4.0,"
           "\"evidence\":[{\"kind\":\"activity\",\"data\":{\"n\":3}}]}]}");
    manifest(f->a, "runA", "C1", "first_response:window=2d", ROUTERS_A);
    per_pr(f->a, RA, "only_a");
    manifest(f->b, "runB", "C1", "first_response:window=2d", ROUTERS_B);
    per_pr(f->b, RB, "only_b");
    put(f->b, "prs/2/routes/r1.json",
        "{\"candidates\":[{\"target\":{\"type\":\"user\",\"name\":\"zed\"},\"score\":8.0,"
        "\"evidence\":[{\"kind\":\"mention\",\"data\":{}}]},{\"target\":{\"type\":\"user\","
        "\"name\":\"yan\"},\"score\":2.0,\"evidence\":[]}]}");
    /* C: another cohort hash; D: another primary policy. */
    manifest(f->c, "runC", "C2", "first_response:window=2d", ROUTERS_B);
    per_pr(f->c, RB, "only_b");
    manifest(f->d, "runD", "C1", "first_approval:window=2d", ROUTERS_B);
    per_pr(f->d, RB, "only_b");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    attn_error err;
    attn_fs_remove_tree(f->root, &err);
    free(f->root);
    free(f);
    return 0;
}

static json_t *run_cmp(const char *a, const char *b, const attn_compare_opts *o)
{
    json_t *doc = NULL;
    attn_error err;
    int rc = attn_compare_runs(a, b, o, &doc, &err);
    if (rc)
        fail_msg("compare failed: %s", err.msg);
    return doc;
}

static void assert_items(const json_t *dir, const int *want, size_t n)
{
    assert_int_equal(json_integer_value(json_object_get(dir, "total")), n);
    assert_int_equal(json_array_size(json_object_get(dir, "items")), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(json_object_get(dir, "items"), i),
                                               "pr_number")),
            want[i]);
}

static void test_flips_exact(void **state)
{
    fx *f = *state;
    attn_compare_opts o;
    attn_compare_opts_init(&o);
    json_t *doc = run_cmp(f->a, f->b, &o);
    const json_t *pairs = json_object_get(doc, "pairs");
    assert_int_equal(json_array_size(pairs), 1); /* only r1 is shared */
    const json_t *p = json_array_get(pairs, 0);
    assert_string_equal(attn_json_str(p, "a_router"), "r1");
    const json_t *fl = json_object_get(p, "flips");
    int h1m[] = {2}, h1p[] = {3}, h5m[] = {5}, h5p[] = {4};
    assert_items(json_object_get(json_object_get(fl, "hit_at_1"), "hit_to_miss"), h1m, 1);
    assert_items(json_object_get(json_object_get(fl, "hit_at_1"), "miss_to_hit"), h1p, 1);
    assert_items(json_object_get(json_object_get(fl, "hit_at_5"), "hit_to_miss"), h5m, 1);
    assert_items(json_object_get(json_object_get(fl, "hit_at_5"), "miss_to_hit"), h5p, 1);

    /* The flip of PR 2 carries both routes' top candidates with evidence. */
    const json_t *it = json_array_get(
        json_object_get(json_object_get(json_object_get(fl, "hit_at_1"), "hit_to_miss"), "items"),
        0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(it, "truth_targets"), 0)),
                        "t2");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(it, "a"), "rank")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(it, "b"), "rank")), 3);
    const json_t *btop = json_object_get(json_object_get(it, "b"), "top");
    assert_int_equal(json_array_size(btop), 2);
    assert_string_equal(attn_json_str(json_object_get(json_array_get(btop, 0), "target"), "name"),
                        "zed");
    assert_string_equal(attn_json_str(json_array_get(json_object_get(json_array_get(btop, 0),
                                                                     "evidence"),
                                                     0),
                                      "kind"),
                        "mention");
    /* PR 3's routes were not written: marked, not an error. */
    it = json_array_get(
        json_object_get(json_object_get(json_object_get(fl, "hit_at_1"), "miss_to_hit"), "items"),
        0);
    assert_true(json_is_true(json_object_get(json_object_get(it, "a"), "route_missing")));

    /* The cap keeps totals. */
    o.max_flips = 0;
    json_t *doc2 = run_cmp(f->a, f->b, &o);
    const json_t *d2 = json_object_get(
        json_object_get(json_object_get(json_array_get(json_object_get(doc2, "pairs"), 0),
                                        "flips"),
                        "hit_at_1"),
        "hit_to_miss");
    assert_int_equal(json_integer_value(json_object_get(d2, "total")), 1);
    assert_int_equal(json_array_size(json_object_get(d2, "items")), 0);
    json_decref(doc2);
    json_decref(doc);
}

static double metric_of(const json_t *doc, const char *slice, const char *m, const char *k)
{
    const json_t *p = json_array_get(json_object_get(doc, "pairs"), 0);
    return json_number_value(
        json_object_get(json_object_get(json_object_get(json_object_get(p, "slices"), slice), m), k));
}

static void test_deltas(void **state)
{
    fx *f = *state;
    attn_compare_opts o;
    double ma = 0, mb = 0;
    attn_compare_opts_init(&o);
    json_t *doc = run_cmp(f->a, f->b, &o);
    for (int i = 0; i < 6; i++) {
        ma += RA[i] ? 1.0 / RA[i] : 0;
        mb += RB[i] ? 1.0 / RB[i] : 0;
    }
    assert_true(fabs(metric_of(doc, "all", "mrr", "a") - ma / 6) < 1e-12);
    assert_true(fabs(metric_of(doc, "all", "mrr", "b") - mb / 6) < 1e-12);
    assert_true(fabs(metric_of(doc, "all", "mrr", "diff") - (mb - ma) / 6) < 1e-12);
    assert_true(fabs(metric_of(doc, "all", "hit_at_1", "diff") - 0.0) < 1e-12);
    assert_true(fabs(metric_of(doc, "all", "hit_at_5", "a") - 4.0 / 6) < 1e-12);
    /* PR 6 is no_response in both: the observed slice has 5 PRs. */
    const json_t *obs = json_object_get(
        json_object_get(json_array_get(json_object_get(doc, "pairs"), 0), "slices"), "observed");
    assert_int_equal(json_integer_value(json_object_get(obs, "n")), 5);
    const json_t *ci = json_object_get(json_object_get(obs, "mrr"), "ci95");
    assert_true(json_is_array(ci));
    assert_true(json_number_value(json_array_get(ci, 0)) <=
                json_number_value(json_array_get(ci, 1)));
    /* A's seed and resamples drive the bootstrap. */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "bootstrap"), "seed")),
                     7);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "bootstrap"), "resamples")), 200);
    json_decref(doc);
}

static void test_config_diff(void **state)
{
    fx *f = *state;
    attn_compare_opts o;
    attn_compare_opts_init(&o);
    json_t *doc = run_cmp(f->a, f->b, &o);
    const json_t *r = json_object_get(json_object_get(doc, "config_diff"), "routers");
    assert_int_equal(json_array_size(json_object_get(r, "added")), 1);
    assert_string_equal(attn_json_str(json_array_get(json_object_get(r, "added"), 0), "name"),
                        "only_b");
    assert_string_equal(attn_json_str(json_array_get(json_object_get(r, "removed"), 0), "name"),
                        "only_a");
    const json_t *ch = json_array_get(json_object_get(r, "changed"), 0);
    assert_string_equal(attn_json_str(ch, "name"), "r1");
    json_t *want = json_loads("[{\"key\":\"w\",\"a\":1,\"b\":2},{\"key\":\"z\",\"b\":true}]", 0,
                              NULL);
    assert_true(json_equal(want, json_object_get(ch, "keys")));
    json_decref(want);
    /* Same manifests otherwise (run ids and input hashes are identities). */
    assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "config_diff"),
                                                     "settings")),
                     0);
    /* Histograms: r1's top-1 scores share edges over [0, 8]. */
    const json_t *h = json_object_get(json_object_get(doc, "histograms"), "r1");
    assert_true(fabs(json_number_value(json_object_get(h, "max")) - 8.0) < 1e-12);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "a"), "n")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "a"), "missing")), 5);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(json_object_get(h, "a"), "counts"), 5)),
        1);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(json_object_get(h, "b"), "counts"), 9)),
        1);
    json_decref(doc);
}

static void test_pairs(void **state)
{
    fx *f = *state;
    attn_compare_opts o;
    attn_error err;
    json_t *doc = NULL;
    attn_compare_opts_init(&o);
    assert_int_equal(attn_compare_add_pair(&o, "only_a:only_b", &err), 0);
    assert_int_equal(attn_compare_add_pair(&o, "r1:r1", &err), 0); /* duplicate: once */
    doc = run_cmp(f->a, f->b, &o);
    assert_int_equal(json_array_size(json_object_get(doc, "pairs")), 2);
    assert_string_equal(attn_json_str(json_array_get(json_object_get(doc, "pairs"), 1), "b_router"),
                        "only_b");
    json_decref(doc);

    assert_int_equal(attn_compare_add_pair(&o, "nosuch:r1", &err), 0);
    assert_int_equal(attn_compare_runs(f->a, f->b, &o, &doc, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "no router 'nosuch'"));
    assert_null(doc);

    assert_int_equal(attn_compare_add_pair(&o, "nocolon", &err), ATTN_EINVAL);
    assert_int_equal(attn_compare_add_pair(&o, ":x", &err), ATTN_EINVAL);
    assert_int_equal(attn_compare_add_pair(&o, "a:b:c", &err), ATTN_EINVAL);
}

static void test_cross_product(void **state)
{
    fx *f = *state;
    char e[600];
    attn_compare_opts o;
    attn_compare_opts_init(&o);
    /* E has no router in common with A: every A router x every E router. */
    snprintf(e, sizeof(e), "%s/runE", f->root);
    manifest(e, "runE", "C1", "first_response:window=2d",
             "[{\"name\":\"p\",\"version\":\"p.v1\",\"config_hash\":\"hp\",\"config\":{}},"
             "{\"name\":\"q\",\"version\":\"q.v1\",\"config_hash\":\"hq\",\"config\":{}}]");
    per_pr(e, RB, "p");
    json_t *doc = run_cmp(f->a, e, &o);
    assert_int_equal(json_array_size(json_object_get(doc, "pairs")), 4);
    json_decref(doc);
}

static void test_incompatible(void **state)
{
    fx *f = *state;
    attn_compare_opts o;
    attn_error err;
    json_t *doc = NULL;
    attn_compare_opts_init(&o);
    assert_int_equal(attn_compare_runs(f->a, f->c, &o, &doc, &err), ATTN_ECONFLICT);
    assert_null(doc);
    assert_non_null(strstr(err.msg, "cohort hash differs (C1 vs C2)"));
    assert_non_null(strstr(err.msg, "--force"));
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(attn_compare_runs(f->a, f->d, &o, &doc, &err), ATTN_ECONFLICT);
    assert_non_null(strstr(err.msg, "primary truth policy differs"));
    assert_null(strstr(err.msg, "cohort"));

    o.force = 1;
    doc = run_cmp(f->a, f->c, &o);
    assert_true(json_is_false(json_object_get(doc, "compatible")));
    assert_true(json_is_true(json_object_get(doc, "forced")));
    assert_int_equal(json_array_size(json_object_get(doc, "warnings")), 1);
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(doc, "warnings"), 0)),
                           "cohort hash differs"));
    json_decref(doc);

    /* Compatible runs: no warnings, not forced even with force set. */
    doc = run_cmp(f->a, f->b, &o);
    assert_true(json_is_true(json_object_get(doc, "compatible")));
    assert_true(json_is_false(json_object_get(doc, "forced")));
    json_decref(doc);

    /* Not a run directory. */
    assert_int_equal(attn_compare_runs(f->a, f->root, &o, &doc, &err), ATTN_ENOTFOUND);
}

static void test_write_deterministic(void **state)
{
    fx *f = *state;
    attn_compare_opts o;
    attn_error err;
    char out[600], p1[700];
    attn_buf b1 = ATTN_BUF_INIT, b2 = ATTN_BUF_INIT, md = ATTN_BUF_INIT;
    attn_compare_opts_init(&o);
    snprintf(out, sizeof(out), "%s/_compare/x", f->root);
    snprintf(p1, sizeof(p1), "%s/compare.json", out);
    json_t *doc = run_cmp(f->a, f->b, &o);
    assert_int_equal(attn_compare_write(out, doc, &err), 0);
    assert_int_equal(attn_fs_read_file(p1, &b1, &err), 0);
    json_decref(doc);
    doc = run_cmp(f->a, f->b, &o);
    assert_int_equal(attn_compare_write(out, doc, &err), 0);
    assert_int_equal(attn_fs_read_file(p1, &b2, &err), 0);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.ptr, b2.ptr, b1.len);
    snprintf(p1, sizeof(p1), "%s/compare.md", out);
    assert_int_equal(attn_fs_read_file(p1, &md, &err), 0);
    assert_non_null(strstr(md.ptr, "# Compare runA vs runB"));
    assert_non_null(strstr(md.ptr, "- PR #2, truth"));
    assert_non_null(strstr(md.ptr, "router changed: r1"));
    json_decref(doc);
    attn_buf_free(&b1);
    attn_buf_free(&b2);
    attn_buf_free(&md);
}

/* cmp_boot_multi = one attn_bootstrap_paired_diff per metric, bit for bit. */
static void test_boot_multi_exact(void **state)
{
    static const size_t ns[] = {0, 1, 2, 3, 7, 100, 1001, 9999};
    static const uint64_t seeds[] = {0, 42, 0x8000000000000005ULL};
    static const int rs[] = {1, 40, 201};
    attn_prng g;
    (void)state;
    attn_prng_seed(&g, 99);
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 3; c++) {
                size_t n = ns[a];
                double *x[6];
                attn_bootstrap_options o = {rs[c], seeds[b], 1, 0};
                attn_interval got[3], want;
                attn_error err;
                for (int j = 0; j < 6; j++) {
                    x[j] = calloc(n + 1, sizeof(double));
                    for (size_t i = 0; i < n; i++) /* rr-like and 0/1 values */
                        x[j][i] = j < 2 ? 1.0 / (double)(1 + attn_prng_below(&g, 7)) *
                                              (double)attn_prng_below(&g, 2)
                                        : (double)attn_prng_below(&g, 2);
                }
                double *const xa[3] = {x[0], x[2], x[4]}, *const xb[3] = {x[1], x[3], x[5]};
                for (int nm = 1; nm <= 3; nm++) {
                    assert_int_equal(cmp_boot_multi(&o, xa, xb, nm, n, got, &err), 0);
                    for (int j = 0; j < nm; j++) {
                        assert_int_equal(attn_bootstrap_paired_diff(xa[j], xb[j], n, &o, &want,
                                                                    &err), 0);
                        assert_memory_equal(&got[j].mean, &want.mean, sizeof(double));
                        assert_memory_equal(&got[j].lo, &want.lo, sizeof(double));
                        assert_memory_equal(&got[j].hi, &want.hi, sizeof(double));
                    }
                }
                for (int j = 0; j < 6; j++)
                    free(x[j]);
            }
}

/* Lines the skimmer must hand to jansson, or read exactly as jansson does. */
static void test_rows_skim(void **state)
{
    fx *f = *state;
    static const char *const lines[] = {
        "{\"pr_number\":1,\"routers\":{\"r\":{\"rank\":{\"p\":2},\"candidates\":[\"a\"]}},"
        "\"truth\":{\"p\":{\"status\":\"observed\"}}}",
        "{\"pr_number\":2,\"routers\":{\"r\":{\"rank\":{\"p\":2.0},\"candidates\":[]}},"
        "\"truth\":{\"p\":{\"status\":\"obs\\u0065rved\"}}}",
        " { \"truth\" : { \"p\" : { \"status\" : \"observed\" } } , \"pr_number\" : -3 ,"
        " \"routers\" : { \"x\" : 1 , \"r\" : { \"rank\" : { \"q\" : 1 , \"p\" : null } ,"
        " \"candidates\" : { } } } } \r",
        "{\"pr_number\":4.5,\"routers\":{\"r\":{\"rank\":{\"p\":1e2},\"candidates\":[1,[2],{}]}},"
        "\"note\":\"caf\xc3\xa9\"}",
        "{\"pr_number\":5,\"routers\":{\"r\":{\"rank\":{\"p\":3},\"candidates\":[true,false,null]}},"
        "\"truth\":{\"p\":[1]}}",
        "{\"pr_number\":123456789012345678,\"routers\":\"none\",\"truth\":{\"p\":{\"status\":1}}}",
        "[1,2]",
    };
    const char *names[2] = {"r", "zz"};
    char path[1024];
    attn_buf text = ATTN_BUF_INIT;
    attn_error err;
    cmp_rows r;
    snprintf(path, sizeof(path), "%s/rows.jsonl", f->root);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        attn_buf_printf(&text, "%s\n%s", lines[i], i == 2 ? "\n" : "");
    assert_int_equal(attn_fs_write_atomic(path, text.ptr, text.len, &err), 0);
    memset(&r, 0, sizeof(r));
    r.names = names;
    r.n_names = 2;
    assert_int_equal(cmp_rows_load(path, "p", &r, &err), 0);
    assert_int_equal(r.n_rows, sizeof(lines) / sizeof(lines[0]));
    for (size_t i = 0; i < r.n_rows; i++) {
        json_t *row = json_loads(lines[i], JSON_REJECT_DUPLICATES, NULL), *rt;
        const char *st;
        assert_non_null(row);
        assert_int_equal(r.rows[i].number, attn_json_i64(row, "pr_number", -1));
        st = attn_json_str(json_object_get(json_object_get(row, "truth"), "p"), "status");
        assert_int_equal(r.rows[i].observed, st && !strcmp(st, "observed"));
        for (size_t j = 0; j < 2; j++) {
            const json_t *rk;
            rt = json_object_get(json_object_get(row, "routers"), names[j]);
            rk = json_object_get(json_object_get(rt, "rank"), "p");
            assert_int_equal(r.rank[i * 2 + j], json_is_integer(rk) ? (int)json_integer_value(rk) : 0);
            assert_int_equal(r.empty[i * 2 + j],
                             json_array_size(json_object_get(rt, "candidates")) == 0);
        }
        json_decref(row);
    }
    cmp_rows_free(&r);
    /* A duplicate key deep inside a line fails as attn_json_parse fails. */
    attn_buf_clear(&text);
    attn_buf_puts(&text, "{\"pr_number\":1,\"routers\":{\"r\":{\"rank\":{\"p\":1,\"p\":2}}}}\n");
    assert_int_equal(attn_fs_write_atomic(path, text.ptr, text.len, &err), 0);
    memset(&r, 0, sizeof(r));
    r.names = names;
    r.n_names = 2;
    assert_int_equal(cmp_rows_load(path, "p", &r, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "duplicate"));
    cmp_rows_free(&r);
    /* The text ends at a NUL byte (the file is mapped, not read as a C
     * string, and must read the same); an empty file has no rows. */
    static const struct {
        const char *text;
        size_t len, rows;
    } ends[] = {{"{\"pr_number\":5}\n\0{\"pr_number\":6}\n", 33, 1},
                {"{\"pr_number\":5}\n{\"pr_number\":6}", 31, 2},
                {"", 0, 0}};
    for (size_t e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
        assert_int_equal(attn_fs_write_atomic(path, ends[e].text, ends[e].len, &err), 0);
        memset(&r, 0, sizeof(r));
        r.names = names;
        r.n_names = 2;
        assert_int_equal(cmp_rows_load(path, "p", &r, &err), 0);
        assert_int_equal(r.n_rows, ends[e].rows);
        for (size_t i = 0; i < r.n_rows; i++)
            assert_int_equal(r.rows[i].number, 5 + (int64_t)i);
        cmp_rows_free(&r);
    }
    attn_buf_free(&text);
}

/* Top-1 scores from the packed routes = attn_pack_read's, awkward routes included. */
static void test_top1_skim(void **state)
{
    fx *f = *state;
    static const char *const routes[] = {
        "{\"candidates\":[{\"score\":2.5,\"target\":{\"name\":\"a\"}},{\"score\":9}]}",
        "{\"candidates\":[]}",
        "{\"candidates\":[{\"target\":\"x\"}]}",
        "{\"candidates\":[{\"score\":\"high\"}]}",
        "{\"candidates\":[7]}",
        "{\"candidates\":{\"score\":1}}",
        "{\"as_of\":\"t\",\"candidates\":[{\"evidence\":[{\"w\":1e-5}],\"score\":12}]}",
        "{\"candidates\":[{\"score\":1.7976931348623157e308,\"n\":\"\\u00e9\"}]}",
        "{\"candidates\":[{\"score\":3}],\"candidates\":[{\"score\":4}]}",
        "[{\"score\":1}]",
    };
    size_t n = sizeof(routes) / sizeof(routes[0]);
    int64_t nums[12];
    double score[12];
    int state_[12];
    attn_rundir *d;
    attn_pack *p;
    attn_error err;
    char rel[64];
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_loads(routes[i], 0, NULL);
        assert_non_null(v);
        if (i == 0)
            assert_int_equal(attn_rundir_begin(f->root, "toprun", &d, &err), 0);
        snprintf(rel, sizeof(rel), "prs/%zu/routes/r.json", i + 1);
        assert_int_equal(attn_rundir_write_json(d, rel, v, &err), 0);
        json_decref(v);
        nums[i] = (int64_t)i + 1;
    }
    assert_int_equal(attn_rundir_commit(d, &err), 0);
    nums[n] = 99; /* no route */
    nums[n + 1] = 1; /* listed twice */
    snprintf(rel, sizeof(rel), "%s/toprun", f->root);
    assert_int_equal(attn_pack_open(rel, &p, &err), 0);
    /* every other route kept for flips, the twice-listed PR's second entry too */
    cmp_kept kept = {NULL, "r", n + 2, calloc(n + 2, 1), calloc(n + 2, sizeof(json_t *)), 0};
    for (size_t i = 0; i < n + 2; i += 2)
        kept.keep[i] = 1;
    kept.keep[n + 1] = 1;
    cmp_top1_scores(p, "r", nums, n + 2, score, state_, &kept);
    assert_int_equal(kept.scanned, 1);
    for (size_t i = 0; i < n + 2; i++) {
        json_t *route = NULL, *k;
        const json_t *c0;
        if (attn_pack_read(p, nums[i], "routes/r", &route, &err))
            route = NULL;
        k = kept.route[i];
        assert_true(kept.keep[i] ? (!k && !route) || (k && route && json_equal(k, route)) : !k);
        c0 = json_array_get(json_object_get(route, "candidates"), 0);
        assert_int_equal(state_[i], !route ? 2 : !c0 ? 1 : 0);
        if (c0) {
            double want = json_number_value(json_object_get(c0, "score"));
            assert_memory_equal(&score[i], &want, sizeof(double));
        }
        json_decref(route);
    }
    cmp_kept_free(&kept);
    attn_pack_close(p);
}

/* The manifest skimmer: jansson's tree with the cutoff map as {} and the
 * map's attn_json_hash, or -1 (the caller parses the whole text). */
static void test_manifest_skim(void **state)
{
    static const struct {
        const char *text;
        int ok;
    } cases[] = {
        {"{\"run_id\":\"x\",\"cohort\":{\"hash\":\"h\",\"pr_cutoffs\":{\"1\":\"t1\",\"10\":\"t/\x7f\","
         "\"2\":\"t2\"},\"n\":3},\"routers\":[{\"name\":\"r\"}]}", 1},
        {"{\"cohort\":{\"pr_cutoffs\":{}}}", 1},
        {" {\"a\":[1,{\"b\":null}],\"cohort\" : { \"pr_cutoffs\" : { \"1\" : \"t\" } } } ", 1},
        {"{\"cohort\":{\"pr_cutoffs\":{\"2\":\"t\",\"1\":\"t\"}}}", 0},   /* not in order */
        {"{\"cohort\":{\"pr_cutoffs\":{\"1\":\"t\",\"1\":\"u\"}}}", 0},   /* duplicate */
        {"{\"cohort\":{\"pr_cutoffs\":{\"1\":\"t\\u0041\"}}}", 0},          /* escape */
        {"{\"cohort\":{\"pr_cutoffs\":{\"1\":5}}}", 0},                       /* not a string */
        {"{\"cohort\":{\"pr_cutoffs\":null}}", 0},
        {"{\"cohort\":{\"hash\":\"h\"}}", 0},                                 /* no map */
        {"{\"cohort\":{\"pr_cutoffs\":{}},\"cohort\":{}}", 0},                /* duplicate */
        {"{\"cohort\":{\"pr_cutoffs\":{},\"pr_cutoffs\":{}}}", 0},
        {"{\"cohort\":{\"pr_cutoffs\":{}},\"x\":[1,}", 0},                     /* bad JSON after */
        {"{\"x\":01,\"cohort\":{\"pr_cutoffs\":{}}}", 0},                      /* bad JSON before */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *got = NULL, *want = json_loads(cases[i].text, JSON_REJECT_DUPLICATES, NULL);
        char hash[65] = "", want_hash[65];
        attn_error err;
        int rc = cmp_manifest_skim(cases[i].text, strlen(cases[i].text), &got, hash);
        assert_int_equal(rc, cases[i].ok ? 0 : -1);
        if (rc) {
            assert_null(got);
            json_decref(want);
            continue;
        }
        json_t *cohort = json_object_get(want, "cohort");
        assert_int_equal(attn_json_hash(json_object_get(cohort, "pr_cutoffs"), want_hash, &err), 0);
        assert_string_equal(hash, want_hash);
        json_object_set_new(cohort, "pr_cutoffs", json_object());
        assert_true(json_equal(got, want));
        json_decref(got);
        json_decref(want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flips_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deltas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_diff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_product, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incompatible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_deterministic, setup, teardown),
        cmocka_unit_test(test_boot_multi_exact),
        cmocka_unit_test_setup_teardown(test_rows_skim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top1_skim, setup, teardown),
        cmocka_unit_test(test_manifest_skim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
