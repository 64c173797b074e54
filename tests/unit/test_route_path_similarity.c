/*
 * test_route_path_similarity.c - the RevFinder similarity on hand-made path
 * lists (data: tests/data/path_similarity/cases.txt), and the router on a
 * hand-built history: scores by hand, dedup per reviewer and PR, kinds,
 * decay, Borda, the past-PR cap, empty results, bad configs, paths sharing
 * a directory, leakage.
 */
#include "route_fixture.h"
#include "route/path_similarity.h"

#include <ctype.h>
#include <math.h>

/* ---- data-driven similarity cases ------------------------------------------------- */

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* "a, b, c" -> list (in place); "-" is the empty list. */
static size_t split_paths(char *s, const char **out, size_t cap)
{
    size_t n = 0;
    s = trim(s);
    if (!strcmp(s, "-"))
        return 0;
    for (char *tok = strtok(s, ","); tok && n < cap; tok = strtok(NULL, ","))
        out[n++] = trim(tok);
    return n;
}

static double parse_value(const char *s)
{
    const char *slash = strchr(s, '/');
    if (slash)
        return atof(s) / atof(slash + 1);
    return atof(s);
}

static void test_similarity_cases(void **state)
{
    char path[600], line[1024];
    FILE *fp;
    int n_cases = 0, line_no = 0;
    (void)state;
    test_data_path("path_similarity/cases.txt", path, sizeof(path));
    fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        char *bar1, *bar2, *s = trim(line), *tok;
        const char *f[16], *g[16];
        size_t nf, ng;
        double want[ATTN_PATHSIM_NMETHODS], got[ATTN_PATHSIM_NMETHODS];
        int k = 0;
        line_no++;
        if (!*s || *s == '#')
            continue;
        bar1 = strchr(s, '|');
        bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        if (!bar1 || !bar2)
            fail_msg("cases.txt:%d: expected 'F | G | values'", line_no);
        *bar1 = *bar2 = 0;
        for (tok = strtok(bar2 + 1, " \t"); tok && k < ATTN_PATHSIM_NMETHODS;
             tok = strtok(NULL, " \t"))
            want[k++] = parse_value(tok);
        if (k != ATTN_PATHSIM_NMETHODS)
            fail_msg("cases.txt:%d: expected %d values", line_no, ATTN_PATHSIM_NMETHODS);
        nf = split_paths(s, f, 16);
        ng = split_paths(bar1 + 1, g, 16);
        attn_path_similarity(f, nf, g, ng, got);
        for (k = 0; k < ATTN_PATHSIM_NMETHODS; k++)
            if (fabs(got[k] - want[k]) > 1e-12)
                fail_msg("cases.txt:%d: method %d: got %.15g, want %.15g", line_no, k, got[k],
                         want[k]);
        n_cases++;
    }
    fclose(fp);
    assert_true(n_cases >= 15);
}

/* ---- the router on a hand-built history --------------------------------------------- */

/*
 *   PR #1 (src/net/http.c, src/net/tls.c)  bob: review 10 d ago, diff comment 9 d ago
 *                                          carol: conversation comment 5 d ago
 *                                          ci[bot]: review; dave: review after the cutoff
 *   PR #2 (docs/net/http.md)               carol: review 10 d ago
 *   PR #3 (src/net/http.c), 500 d old      dave: review 400 d ago (outside 365 d)
 *   PR #4 (src/net/http.c): the routed PR  erin: review 1 d ago (its own PR: not past)
 * Against F = {src/net/http.c}:
 *   #1: (http, http) = 1 each; (http, tls) = lcp 2/3, lcsuffix 0, lcsubstr 2/3,
 *       lcsubseq 2/3; / (1 * 2): 5/6, 1/2, 5/6, 5/6 -> combined (mean) 0.75
 *   #2: lcp 0, lcsuffix 0 (http.md != http.c), lcsubstr 1/3, lcsubseq 1/3
 *       -> combined 1/6
 * bob 0.75 (once, though he acted twice on #1), carol 1/6.
 */
static const char *const F1[] = {"src/net/http.c", "src/net/tls.c", NULL};
static const char *const F2[] = {"docs/net/http.md", NULL};
static const char *const F3[] = {"src/net/http.c", NULL};

static void build(rfx *f)
{
    rfx_open(f);
    rfx_user(f, 100, "alice", NULL);
    rfx_user(f, 101, "bob", NULL);
    rfx_user(f, 102, "ci[bot]", "Bot");
    rfx_user(f, 103, "carol", NULL);
    rfx_user(f, 104, "dave", NULL);
    rfx_user(f, 105, "erin", NULL);
    rfx_pr(f, 1001, 1, 100, RFX_T0 - 50 * RFX_DAY, F1);
    rfx_pr(f, 1002, 2, 100, RFX_T0 - 50 * RFX_DAY, F2);
    rfx_pr(f, 1003, 3, 100, RFX_T0 - 500 * RFX_DAY, F3);
    rfx_pr(f, 1004, 4, 100, RFX_T0 - 2 * RFX_DAY, F3);
    rfx_review(f, 1, 1001, 101, RFX_T0 - 10 * RFX_DAY, "APPROVED");
    rfx_comment(f, 11, 1001, 101, RFX_T0 - 9 * RFX_DAY, 1);
    rfx_comment(f, 12, 1001, 103, RFX_T0 - 5 * RFX_DAY, 0);
    rfx_review(f, 2, 1001, 102, RFX_T0 - 3 * RFX_DAY, NULL);
    rfx_review(f, 3, 1001, 104, RFX_T0 + 1, NULL);
    rfx_review(f, 4, 1002, 103, RFX_T0 - 10 * RFX_DAY, NULL);
    rfx_review(f, 5, 1003, 104, RFX_T0 - 400 * RFX_DAY, NULL);
    rfx_review(f, 6, 1004, 105, RFX_T0 - 1 * RFX_DAY, NULL);
    rfx_build(f, NULL);
}

static json_t *route4(rfx *f, const char *config, int64_t as_of, const char *const *files)
{
    attn_router *r = rfx_router(&attn_router_path_similarity, config, &f->ctx);
    json_t *snap = rfx_snapshot("alice", files), *res;
    res = rfx_route(r, &f->ctx, 4, as_of, 10, snap);
    json_decref(snap);
    attn_router_free(r);
    return res;
}

static void test_scores_by_hand(void **state)
{
    rfx f;
    json_t *res;
    const json_t *ev, *data, *prs;
    (void)state;
    build(&f);
    res = route4(&f, NULL, RFX_T0, F3);
    assert_int_equal(rfx_ncands(res), 2);
    assert_string_equal(rfx_cand_name(res, 0), "bob");
    assert_true(fabs(rfx_cand_score(res, 0) - 0.75) < 1e-9);
    assert_string_equal(rfx_cand_name(res, 1), "carol");
    assert_true(fabs(rfx_cand_score(res, 1) - 1.0 / 6) < 1e-9);
    assert_string_equal(attn_json_str(res, "risk"), "low");
    assert_string_equal(attn_json_str(res, "confidence"), "high");
    ev = json_array_get(json_object_get(rfx_cand(res, 0), "evidence"), 0);
    assert_string_equal(attn_json_str(ev, "kind"), "similar_prs");
    data = json_object_get(ev, "data");
    assert_int_equal(json_object_size(data), 2);
    assert_int_equal(json_integer_value(json_object_get(data, "n_prs")), 1);
    prs = json_object_get(data, "prs");
    assert_int_equal(json_array_size(prs), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(prs, 0), "number")), 1);
    assert_true(json_number_value(json_object_get(json_array_get(prs, 0), "similarity")) == 0.75);
    /* carol's similarity is rounded to 4 decimals in the evidence */
    ev = json_array_get(json_object_get(rfx_cand(res, 1), "evidence"), 0);
    prs = json_object_get(json_object_get(ev, "data"), "prs");
    assert_true(json_number_value(json_object_get(json_array_get(prs, 0), "similarity")) ==
                0.1667);
    /* never: the author, bots, erin (only acted on this PR), dave (too old / too late) */
    for (size_t i = 0; i < rfx_ncands(res); i++) {
        assert_string_not_equal(rfx_cand_name(res, i), "ci[bot]");
        assert_string_not_equal(rfx_cand_name(res, i), "erin");
        assert_string_not_equal(rfx_cand_name(res, i), "dave");
    }
    json_decref(res);
    rfx_close(&f);
}

static void test_config_variants(void **state)
{
    rfx f;
    json_t *res;
    (void)state;
    build(&f);
    /* conversation comments count: carol has #1 as well, 0.75 + 1/6 */
    res = route4(&f, "{\"kinds\": {\"comment\": true}}", RFX_T0, F3);
    assert_string_equal(rfx_cand_name(res, 0), "carol");
    assert_true(fabs(rfx_cand_score(res, 0) - (0.75 + 1.0 / 6)) < 1e-9);
    json_decref(res);
    /* decay: bob's latest fact on #1 is 9 days old, carol's on #2 10 days */
    res = route4(&f, "{\"half_life_days\": 10}", RFX_T0, F3);
    assert_true(fabs(rfx_cand_score(res, 0) - 0.75 * pow(0.5, 0.9)) < 1e-9);
    assert_true(fabs(rfx_cand_score(res, 1) - 0.5 / 6) < 1e-9);
    json_decref(res);
    /* one method only: lcsuffix gives bob 1/2 and carol 0 */
    res = route4(&f, "{\"methods\": {\"lcp\": 0, \"lcsubstr\": 0, \"lcsubseq\": 0}}", RFX_T0,
                 F3);
    assert_int_equal(rfx_ncands(res), 1);
    assert_true(fabs(rfx_cand_score(res, 0) - 0.5) < 1e-9);
    json_decref(res);
    /* Borda: lcp and lcsuffix rank bob alone (1 point each), lcsubstr and
     * lcsubseq rank bob then carol (2 and 1 points each): 6 and 2 */
    res = route4(&f, "{\"combine\": \"borda\"}", RFX_T0, F3);
    assert_true(fabs(rfx_cand_score(res, 0) - 6) < 1e-9);
    assert_true(fabs(rfx_cand_score(res, 1) - 2) < 1e-9);
    json_decref(res);
    /* only the most recent past PR (#1, bob's diff comment 9 days ago) */
    res = route4(&f, "{\"max_past_prs\": 1}", RFX_T0, F3);
    assert_int_equal(rfx_ncands(res), 1);
    assert_string_equal(rfx_cand_name(res, 0), "bob");
    json_decref(res);
    /* a long lookback reaches dave's old review of #3 (identical files: 1.0) */
    res = route4(&f, "{\"lookback_days\": 1000}", RFX_T0, F3);
    assert_string_equal(rfx_cand_name(res, 0), "dave");
    assert_true(fabs(rfx_cand_score(res, 0) - 1.0) < 1e-9);
    json_decref(res);
    rfx_close(&f);
}

static void test_empty(void **state)
{
    rfx f;
    json_t *res;
    static const char *const OTHER[] = {"zzz/q.py", NULL};
    (void)state;
    build(&f);
    /* before any review (dave's review of #3 400 days ago is the first) */
    res = route4(&f, NULL, RFX_T0 - 450 * RFX_DAY, F3);
    assert_int_equal(rfx_ncands(res), 0);
    assert_string_equal(attn_json_str(res, "risk"), "high");
    assert_true(rfx_has_note(res, "no candidates"));
    json_decref(res);
    /* no files at the cutoff */
    res = route4(&f, NULL, RFX_T0, NULL);
    assert_int_equal(rfx_ncands(res), 0);
    assert_string_equal(attn_json_str(res, "risk"), "high");
    assert_true(rfx_has_note(res, "no changed files"));
    json_decref(res);
    /* nothing alike: every similarity 0, nobody ranked */
    res = route4(&f, NULL, RFX_T0, OTHER);
    assert_int_equal(rfx_ncands(res), 0);
    assert_string_equal(attn_json_str(res, "risk"), "high");
    json_decref(res);
    rfx_close(&f);
}

/* A weaker match only: medium risk. */
static void test_medium_risk(void **state)
{
    rfx f;
    json_t *res;
    static const char *const DOCS[] = {"docs/net/tcp.md", NULL};
    (void)state;
    build(&f);
    /* vs #2 docs/net/http.md: lcp 2/3, lcsuffix 0, lcsubstr 2/3, lcsubseq 2/3 -> 0.5;
     * vs #1: lcp 0, lcsuffix 0, lcsubstr 1/3, lcsubseq 1/3 per file -> 1/6 */
    res = route4(&f, "{\"methods\": {\"lcsuffix\": 0}}", RFX_T0, DOCS);
    assert_string_equal(rfx_cand_name(res, 0), "carol");
    assert_true(fabs(rfx_cand_score(res, 0) - 2.0 / 3) < 1e-9);
    assert_string_equal(attn_json_str(res, "risk"), "low");
    json_decref(res);
    res = route4(&f, NULL, RFX_T0, DOCS);
    assert_true(fabs(rfx_cand_score(res, 0) - 0.5) < 1e-9);
    assert_string_equal(attn_json_str(res, "risk"), "low");
    json_decref(res);
    {
        static const char *const LIB[] = {"lib/net/x.c", NULL};
        /* vs #1 (per file: lcsubstr 1/3, lcsubseq 1/3) -> 1/6; vs #2 the same */
        res = route4(&f, NULL, RFX_T0, LIB);
        assert_string_equal(attn_json_str(res, "risk"), "medium");
        assert_string_equal(attn_json_str(res, "confidence"), "low");
        json_decref(res);
    }
    rfx_close(&f);
}

static void test_bad_configs(void **state)
{
    rfx f;
    attn_error err;
    const attn_router_def *d = &attn_router_path_similarity;
    (void)state;
    build(&f);
    assert_non_null(strstr(rfx_config_error(d, "{\"methods\": {\"lcs\": 1}}", &f.ctx, &err),
                           "unknown key 'methods.lcs'"));
    assert_non_null(strstr(rfx_config_error(d, "{\"combine\": \"mean\"}", &f.ctx, &err),
                           "path_similarity config: combine must be \"sum\" or \"borda\""));
    assert_non_null(strstr(rfx_config_error(d, "{\"combine\": 1}", &f.ctx, &err),
                           "'combine' must be a string"));
    assert_non_null(strstr(rfx_config_error(d, "{\"max_past_prs\": 0}", &f.ctx, &err),
                           "max_past_prs must be a whole number"));
    assert_non_null(strstr(rfx_config_error(d, "{\"max_past_prs\": 2.5}", &f.ctx, &err),
                           "max_past_prs must be a whole number"));
    assert_non_null(strstr(rfx_config_error(d, "{\"lookback_days\": 0}", &f.ctx, &err),
                           "lookback_days must be > 0"));
    assert_non_null(strstr(rfx_config_error(d, "{\"half_life_days\": -1}", &f.ctx, &err),
                           "half_life_days must be >= 0"));
    assert_non_null(strstr(rfx_config_error(d,
                                            "{\"methods\": {\"lcp\": 0, \"lcsuffix\": 0, "
                                            "\"lcsubstr\": 0, \"lcsubseq\": 0}}",
                                            &f.ctx, &err),
                           "methods must give at least one method a weight > 0"));
    assert_non_null(strstr(rfx_config_error(d,
                                            "{\"kinds\": {\"review\": false, "
                                            "\"review_comment\": false}}",
                                            &f.ctx, &err),
                           "kinds must enable at least one"));
    assert_non_null(strstr(rfx_config_error(d, "{\"kinds\": {\"review\": 1}}", &f.ctx, &err),
                           "'kinds.review' must be true or false"));
    rfx_close(&f);
}

/* Routing other PRs in between (which fills the caches) changes nothing. */
static void test_cache_independent(void **state)
{
    static const char *const DOCS[] = {"docs/net/tcp.md", NULL};
    rfx f;
    attn_router *r1, *r2;
    json_t *snap = rfx_snapshot("alice", F3), *snap2 = rfx_snapshot("alice", DOCS), *a, *b, *x;
    char *ca, *cb;
    (void)state;
    build(&f);
    r1 = rfx_router(&attn_router_path_similarity, NULL, &f.ctx);
    r2 = rfx_router(&attn_router_path_similarity, NULL, &f.ctx);
    x = rfx_route(r1, &f.ctx, 9, RFX_T0 - 8 * RFX_DAY, 10, snap2);
    json_decref(x);
    x = rfx_route(r1, &f.ctx, 9, RFX_T0 + 10 * RFX_DAY, 10, snap2);
    json_decref(x);
    a = rfx_route(r1, &f.ctx, 4, RFX_T0, 10, snap);
    b = rfx_route(r2, &f.ctx, 4, RFX_T0, 10, snap);
    ca = rfx_canonical(a);
    cb = rfx_canonical(b);
    assert_string_equal(ca, cb);
    free(ca);
    free(cb);
    json_decref(a);
    json_decref(b);
    json_decref(snap);
    json_decref(snap2);
    attn_router_free(r1);
    attn_router_free(r2);
    rfx_close(&f);
}

static attn_router *make_ps(const attn_route_ctx *ctx)
{
    return rfx_router(&attn_router_path_similarity, "{\"half_life_days\": 60}", ctx);
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
    r = rfx_router(&attn_router_path_similarity, NULL, &y.ctx);
    trimmed += rfx_shortlist_check(&y, r, 60, 25, 0, 3);
    attn_router_free(r);
    r = rfx_router(&attn_router_path_similarity,
                   "{\"availability\": {\"inactive_days\": 5, \"factor\": 0.3},"
                   " \"load\": {\"max_open_requests\": 1}}",
                   &y.ctx);
    trimmed += rfx_shortlist_check(&y, r, 60, 25, 3600, 2);
    /* top_k 1: the confidence still compares the top two */
    trimmed += rfx_shortlist_check(&y, r, 90, 20, 0, 1);
    attn_router_free(r);
    assert_true(trimmed >= 20);
    rfx_synth_close(&y, 1);
}

/* Past paths whose last component is none of the PR's files' components
 * share one similarity per directory (path_similarity.c path_sim); paths
 * whose last component is one of them (a basename, or a directory name of
 * the PR) are compared alone. Each reviewer's score must equal the
 * definition, computed pair by pair by attn_path_similarity, whichever PR
 * was routed before (the memos are per set of files). The same holds for
 * the per-route match table (path_sim's use_masks): paths deeper than the
 * bit-parallel comparison takes, components repeated within a path, a PR
 * with too many files for the table, and one with many files per
 * directory. */
static void test_directory_sharing(void **state)
{
    enum { NU = 7, BIG = 1100 };
    static char deep_a[600], deep_b[600], big[BIG][32];
    const char *const P[NU][5] = {
        {"src/net/udp.c", "src/net/raw.c", NULL},            /* bob: nothing matches by name */
        {"src/net/http.c", "src/net/udp.c", NULL},           /* carol: the PR's own path */
        {"lib/net/tcp.c", "src/net/net", "src/net/raw.c", NULL}, /* dave: names of F's parts */
        {"src/io/udp.c", "lib/udp.c", "src/net/udp.c", NULL}, /* erin */
        {"a//src//net/raw.c", "src/net/tls.c", NULL},        /* frank: another spelling */
        {"tcp.c", "udp.c", "README", NULL},                  /* gina: top level */
        {deep_a, "x/a/a/a/b.c", "big7/f7.c", "p0/p1/q3/z.c", NULL}, /* hank: deep, repeats */
    };
    static const char *const FA[] = {"src/net/http.c", "src/tcp.c", NULL};
    static const char *const FB[] = {"src/net/udp.c", NULL};
    const char *const FC[] = {deep_b, "a/a/b.c", "src/net/udp.c", deep_a, NULL};
    /* many files per directory: those whose name a past path lacks share
     * one comparison (path_sim's sib); unknown directories (new1, new2)
     * match nothing either way */
    static const char *const FE[] = {
        "src/net/a1.c", "src/net/udp.c", "src/net/a2.c", "src/io/k1.c", "src/net/raw.c",
        "src/net/a3.c", "src/io/udp.c", "src/io/k2.c", "new1/x.c", "new2/y.c", "new1/udp.c",
        "lib/net/tcp.c", "lib/net/zz.c", "src/net/net", "src/net/a4.c", NULL};
    /* more files than the per-route match table is built for */
    static const char *FD[BIG + 2];
    const char *const *const ROUTED[] = {FA, FB, FA, FC, FB, FD, FC, FE, FA, FE};
    static const char *const NAMES[NU] = {"bob", "carol", "dave", "erin", "frank", "gina", "hank"};
    rfx f;
    attn_router *r;
    (void)state;
    /* 70 components (past the 64 the bit-parallel comparison takes), the
     * second differing from the first in two of them */
    deep_a[0] = deep_b[0] = '\0';
    for (int i = 0; i < 70; i++) {
        char part[16];
        snprintf(part, sizeof(part), "p%d/", i);
        strcat(deep_a, part);
        snprintf(part, sizeof(part), i == 3 || i == 50 ? "q%d/" : "p%d/", i);
        strcat(deep_b, part);
    }
    strcat(deep_a, "z.c");
    strcat(deep_b, "z.c");
    for (int i = 0; i < BIG; i++) {
        snprintf(big[i], sizeof(big[i]), "big%d/f%d.c", i, i);
        FD[i] = big[i];
    }
    FD[BIG] = "src/net/udp.c";
    FD[BIG + 1] = NULL;
    rfx_open(&f);
    rfx_user(&f, 100, "alice", NULL);
    for (int u = 0; u < NU; u++) {
        rfx_user(&f, 101 + u, NAMES[u], NULL);
        rfx_pr(&f, 2001 + u, 1 + u, 100, RFX_T0 - 40 * RFX_DAY, P[u]);
        rfx_review(&f, 1 + u, 2001 + u, 101 + u, RFX_T0 - (20 - u) * RFX_DAY, NULL);
    }
    rfx_pr(&f, 2010, 10, 100, RFX_T0 - RFX_DAY, FA);
    rfx_build(&f, NULL);
    r = rfx_router(&attn_router_path_similarity, NULL, &f.ctx);
    for (size_t k = 0; k < sizeof(ROUTED) / sizeof(ROUTED[0]); k++) {
        const char *const *F = ROUTED[k];
        size_t nf = 0, seen = 0;
        json_t *snap = rfx_snapshot("alice", F), *res;
        while (F[nf])
            nf++;
        res = rfx_route(r, &f.ctx, 10, RFX_T0, 10, snap);
        for (int u = 0; u < NU; u++) {
            double sim[ATTN_PATHSIM_NMETHODS], want = 0;
            size_t ng = 0;
            while (P[u][ng])
                ng++;
            attn_path_similarity(F, nf, P[u], ng, sim);
            for (int m = 0; m < ATTN_PATHSIM_NMETHODS; m++)
                want += sim[m] / ATTN_PATHSIM_NMETHODS;
            for (size_t i = 0; i < rfx_ncands(res); i++)
                if (!strcmp(rfx_cand_name(res, i), NAMES[u])) {
                    if (fabs(rfx_cand_score(res, i) - want) > 1e-12)
                        fail_msg("route %zu, %s: score %.17g, by definition %.17g", k, NAMES[u],
                                 rfx_cand_score(res, i), want);
                    seen++;
                }
            if (want == 0)
                seen++;   /* no similarity: no candidate */
        }
        assert_int_equal(seen, NU);
        json_decref(res);
        json_decref(snap);
    }
    attn_router_free(r);
    rfx_close(&f);
}

/* Routers sharing one cache reuse the last walk only when it is theirs:
 * routing each PR with several configs in turn (two of them equal, so the
 * second reuses the first's walk; those differing only in half_life_days
 * replay its contributions with their decay; the others differ in one
 * setting the walk depends on) gives, for every config, what it gives
 * routing alone. */
static void test_walk_reuse(void **state)
{
    /* each variant between two defaults, so it differs from its neighbours
     * in that setting alone (but two half-lives in a row) */
    static const char *const CONFIGS[] = {
        NULL, NULL, "{\"half_life_days\": 60}", "{\"half_life_days\": 7}", NULL,
        "{\"max_past_prs\": 3}", NULL,
        "{\"lookback_days\": 20}", NULL,
        "{\"kinds\": {\"review\": true, \"review_comment\": true, \"comment\": true}}", NULL,
        "{\"methods\": {\"lcp\": 1, \"lcsuffix\": 0, \"lcsubstr\": 1, \"lcsubseq\": 1}}",
    };
    enum { NC = sizeof(CONFIGS) / sizeof(CONFIGS[0]), NP = 24 };
    rfx_synth y;
    char *alone[NC][NP];
    int64_t number[NP], t[NP];
    (void)state;
    rfx_synth_open(&y, 160, 11);
    for (size_t p = 0; p < NP; p++) {
        rfx_synth_pr(&y, 100 + p, &number[p], &t[p]);
        t[p] += 3600;
    }
    for (size_t c = 0; c < NC; c++) {
        attn_router *r = rfx_router(&attn_router_path_similarity, CONFIGS[c], &y.ctx);
        for (size_t p = 0; p < NP; p++) {
            json_t *res = rfx_synth_route(&y, r, number[p], t[p]);
            alone[c][p] = rfx_canonical(res);
            json_decref(res);
        }
        attn_router_free(r);
    }
    {
        attn_router *r[NC];
        for (size_t c = 0; c < NC; c++)
            r[c] = rfx_router(&attn_router_path_similarity, CONFIGS[c], &y.ctx);
        for (size_t p = 0; p < NP; p++)
            for (size_t c = 0; c < NC; c++) {
                json_t *res = rfx_synth_route(&y, r[c], number[p], t[p]);
                char *got = rfx_canonical(res);
                if (strcmp(got, alone[c][p]))
                    fail_msg("PR #%lld, config %zu: routed in turn with the others, not alone",
                             (long long)number[p], c);
                free(got);
                free(alone[c][p]);
                json_decref(res);
            }
        for (size_t c = 0; c < NC; c++)
            attn_router_free(r[c]);
    }
    rfx_synth_close(&y, 1);
}

static void test_leakage(void **state)
{
    static const int64_t offsets[] = {0, 2 * RFX_DAY};
    rfx_synth y;
    size_t nonempty;
    (void)state;
    rfx_synth_open(&y, 240, 7);
    nonempty = rfx_leakage_check(&y, make_ps, 6, offsets, 2);
    assert_true(nonempty >= 6);
    rfx_synth_close(&y, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_similarity_cases),
        cmocka_unit_test(test_scores_by_hand),
        cmocka_unit_test(test_config_variants),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_medium_risk),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_cache_independent),
        cmocka_unit_test(test_shortlist_exact),
        cmocka_unit_test(test_directory_sharing),
        cmocka_unit_test(test_walk_reuse),
        cmocka_unit_test(test_leakage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
