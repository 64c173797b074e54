/*
 * test_route_codeowners.c - the `codeowners` router over CODEOWNERS files
 * pinned in a scratch repo directory: shares of changed lines (hand-computed),
 * last match wins, e-mail and unowned files, team expansion, evidence shape,
 * the distinct empty cases, risk levels, author removal, bad configs.
 */
#include "baseline_fixture.h"

#include "store/pinned.h"

#define T0 1700000000
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccc"
#define SHA_D "dddddddddddddddddddddddddddddddddddddddd"

/* Line numbers matter: evidence cites them. */
static const char CODEOWNERS_A[] =
    "# owners\n"                       /* 1 */
    "*            @acme/all\n"         /* 2: catch-all, always overridden below */
    "*.md         @docs-writer docs@acme.io\n" /* 3 */
    "/src/        @alice @acme/core\n" /* 4 */
    "/src/net/    @bob\n"              /* 5 */
    "/src/gen/\n"                      /* 6: explicitly unowned */
    "/tools/**    ops@acme.io\n"       /* 7: e-mail only */
    "!bad         @x\n";               /* 8: invalid (negation), skipped */

typedef struct {
    char *dir;
    attn_route_ctx ctx;
    attn_roster *roster;
} fixture;

static void pin(const char *dir, const char *sha, const char *path, const char *text)
{
    attn_error err;
    attn_pinned_file f = {path, text, text ? strlen(text) : 0};
    if (attn_pinned_write(dir, sha, "bundle", &f, 1, &err))
        fail_msg("pin %s: %s", sha, err.msg);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    fx->dir = test_tmpdir();
    pin(fx->dir, SHA_A, ".github/CODEOWNERS", CODEOWNERS_A);
    /* SHA_B: not pinned. SHA_C: pinned, no CODEOWNERS anywhere GitHub looks. */
    {
        attn_error err;
        attn_pinned_file none[3] = {{".github/CODEOWNERS", NULL, 0}, {"CODEOWNERS", NULL, 0},
                                    {"docs/CODEOWNERS", NULL, 0}};
        if (attn_pinned_write(fx->dir, SHA_C, "bundle", none, 3, &err))
            fail_msg("pin C: %s", err.msg);
    }
    pin(fx->dir, SHA_D, "CODEOWNERS", "* @dave\n");
    fx->ctx.repo = "acme/demo";
    fx->ctx.repo_dir = fx->dir;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    attn_roster_free(fx->roster);
    fx_rm_rf(fx->dir);
    free(fx);
    return 0;
}

/* The five files of the main case: weights 10, 30, 50, 1 (0 changed lines), 9 = 100. */
#define FILES_A                                                                                \
    "[{\"path\": \"README.md\", \"status\": \"modified\", \"additions\": 5, \"deletions\": 5,"  \
    " \"changes\": 10},"                                                                       \
    " {\"path\": \"src/gen/x.c\", \"status\": \"renamed\", \"additions\": 0,"                  \
    " \"deletions\": 0, \"changes\": 0},"                                                      \
    " {\"path\": \"src/main.c\", \"status\": \"modified\", \"additions\": 20,"                 \
    " \"deletions\": 10, \"changes\": 30},"                                                    \
    " {\"path\": \"src/net/http.c\", \"status\": \"added\", \"additions\": 50,"                \
    " \"deletions\": 0, \"changes\": 50},"                                                     \
    " {\"path\": \"tools/build.sh\", \"status\": \"modified\", \"additions\": 9,"              \
    " \"deletions\": 0}]"

static char *snap(const char *author, const char *sha, const char *files, const char *leaks)
{
    char *s = malloc(8192);
    snprintf(s, 8192,
             "{\"number\": 3, \"author\": \"%s\", \"base_sha\": %s%s%s, \"changed_files\": %s,"
             " \"leak_risk\": %s, \"review_requests\": []}",
             author, sha ? "\"" : "", sha ? sha : "null", sha ? "\"" : "", files, leaks);
    return s;
}

static void test_shares(void **state)
{
    fixture *fx = *state;
    char *s = snap("dave", SHA_A, FILES_A, "[]");
    json_t *res = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
    const json_t *d;
    /* bob 50/100, alice and the team 30/100, docs-writer 10/100; the catch-all
     * @acme/all never decides (last match wins) */
    assert_cands(res, "user:bob=0.5 team:acme/core=0.3 user:alice=0.3 user:docs-writer=0.1");
    assert_string_equal(rf_str(res, "risk"), "low");         /* 90% of lines owned */
    assert_string_equal(rf_str(res, "confidence"), "medium"); /* (0.5-0.3)/0.5 = 0.4 */
    d = rf_ev(res, 0, 0, "codeowners");
    assert_string_equal(rf_str(d, "file"), ".github/CODEOWNERS");
    assert_int_equal(json_integer_value(json_object_get(d, "line")), 5);
    assert_string_equal(rf_str(d, "pattern"), "/src/net/");
    assert_int_equal(json_integer_value(json_object_get(d, "files")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "paths"), 0)),
                        "src/net/http.c");
    assert_true(json_number_value(json_object_get(d, "share")) == 0.5);
    assert_int_equal(json_object_size(d), 6);
    d = rf_ev(res, 3, 0, "codeowners");
    assert_int_equal(json_integer_value(json_object_get(d, "line")), 3);
    assert_true(rf_has_note(res, "2 of 5 changed files unowned (1 by a rule without owners, 1 owned"
                                 " only by e-mail)"));
    assert_true(rf_has_note(res, "2 e-mail owners skipped"));
    assert_true(rf_has_note(res, "1 invalid line skipped (first: line 8"));
    json_decref(res);
    free(s);
}

static void test_many_files_one_rule(void **state)
{
    fixture *fx = *state;
    char *s = snap("dave", SHA_A,
                   "[{\"path\": \"src/e.c\", \"changes\": 2}, {\"path\": \"src/a.c\", \"changes\": 2},"
                   " {\"path\": \"src/d.c\", \"changes\": 2}, {\"path\": \"src/c.c\", \"changes\": 2},"
                   " {\"path\": \"src/net/b.c\", \"changes\": 0}]", "[]");
    json_t *res = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
    const json_t *d, *paths;
    /* weights 2+2+2+2 under /src/, 1 under /src/net/: 8/9 and 1/9 */
    assert_cands(res, "team:acme/core=0.888889 user:alice=0.888889 user:bob=0.111111");
    d = rf_ev(res, 1, 0, "codeowners");
    assert_int_equal(json_integer_value(json_object_get(d, "files")), 4);
    paths = json_object_get(d, "paths");
    assert_int_equal(json_array_size(paths), 3);
    assert_string_equal(json_string_value(json_array_get(paths, 0)), "src/a.c");
    assert_string_equal(json_string_value(json_array_get(paths, 2)), "src/d.c");
    assert_string_equal(rf_str(res, "confidence"), "low");   /* a tie at the top */
    assert_false(rf_has_note(res, "unowned"));
    json_decref(res);
    free(s);
}

static void test_team_expansion(void **state)
{
    fixture *fx = *state;
    attn_error err;
    json_t *r = rf_parse("{\"acme/core\": [\"carol\", \"alice\"]}");
    char *s = snap("dave", SHA_A, FILES_A, "[]");
    json_t *res;
    const json_t *d;
    assert_int_equal(attn_roster_from_json(r, &fx->roster, &err), 0);
    json_decref(r);
    fx->ctx.roster = fx->roster;
    res = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
    /* alice owns src/main.c in person and through acme/core: counted once */
    assert_cands(res, "user:bob=0.5 user:alice=0.3 user:carol=0.3 user:docs-writer=0.1");
    assert_int_equal(json_array_size(rf_evidence(res, 1)), 1);
    assert_null(json_object_get(rf_ev(res, 1, 0, "codeowners"), "via_team"));
    d = rf_ev(res, 2, 0, "codeowners");
    assert_string_equal(rf_str(d, "via_team"), "acme/core");
    json_decref(res);
    res = rf_route(&attn_router_codeowners, "{\"expand_teams\": false}", &fx->ctx, s, T0, 10);
    assert_cands(res, "user:bob=0.5 team:acme/core=0.3 user:alice=0.3 user:docs-writer=0.1");
    json_decref(res);
    free(s);
}

static void test_empty_cases(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *sha, *files, *note;
    } cases[] = {
        {NULL, FILES_A, "no base SHA at the cutoff"},
        {SHA_B, FILES_A, "CODEOWNERS not pinned for base " SHA_B ": run attn pin"},
        {SHA_C, FILES_A, "no CODEOWNERS at base " SHA_C},
        {SHA_A, "[]", "no changed files at the cutoff"},
        {SHA_A, "[{\"path\": \"src/gen/y.c\", \"changes\": 4}]", "no owner for any changed file"},
        {"nothex", FILES_A, "CODEOWNERS for base nothex unreadable"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = snap("dave", cases[i].sha, cases[i].files, "[]");
        json_t *res = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
        assert_cands(res, "-");
        assert_string_equal(rf_str(res, "risk"), "high");
        if (!rf_has_note(res, cases[i].note))
            fail_msg("case %zu: no note '%s'", i, cases[i].note);
        json_decref(res);
        free(s);
    }
}

static void test_risk_and_author(void **state)
{
    fixture *fx = *state;
    char *s;
    json_t *res;
    /* 30 of 40 lines owned: medium */
    s = snap("dave", SHA_A, "[{\"path\": \"src/main.c\", \"changes\": 30},"
                            " {\"path\": \"tools/x\", \"changes\": 10}]",
             "[\"base_sha_observed_at_ingestion\", \"files_from_later_head\"]");
    res = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
    assert_cands(res, "team:acme/core=0.75 user:alice=0.75");
    assert_string_equal(rf_str(res, "risk"), "medium");
    assert_true(rf_has_note(res, "base SHA observed at ingestion"));
    assert_true(rf_has_note(res, "changed files observed at ingestion"));
    json_decref(res);
    free(s);
    /* the author never appears */
    s = snap("Bob", SHA_A, FILES_A, "[]");
    res = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
    assert_cands(res, "team:acme/core=0.3 user:alice=0.3 user:docs-writer=0.1");
    json_decref(res);
    free(s);
    /* the author owns everything: empty, high, says so */
    s = snap("dave", SHA_D, FILES_A, "[]");
    res = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
    assert_cands(res, "-");
    assert_string_equal(rf_str(res, "risk"), "high");
    assert_true(rf_has_note(res, "the only owners are the author or bots"));
    json_decref(res);
    free(s);
}

/* One router instance across PRs and SHAs: the cache never changes a result. */
static void test_cache_independent(void **state)
{
    fixture *fx = *state;
    attn_error err;
    attn_router *r;
    const char *shas[] = {SHA_A, SHA_B, SHA_C, SHA_A, SHA_D, SHA_B, SHA_A};
    assert_int_equal(attn_router_new(&attn_router_codeowners, NULL, NULL, &fx->ctx, &r, &err), 0);
    for (size_t i = 0; i < sizeof(shas) / sizeof(shas[0]); i++) {
        char *s = snap("erin", shas[i], FILES_A, "[]");
        json_t *sj = rf_parse(s), *warm = NULL, *cold;
        attn_route_query q = {3, T0, 10, sj};
        char *a, *b;
        assert_int_equal(attn_router_route(r, &fx->ctx, &q, &warm, &err), 0);
        cold = rf_route(&attn_router_codeowners, NULL, &fx->ctx, s, T0, 10);
        a = rf_canon(warm);
        b = rf_canon(cold);
        assert_string_equal(a, b);
        free(a);
        free(b);
        json_decref(warm);
        json_decref(cold);
        json_decref(sj);
        free(s);
    }
    attn_router_free(r);
}

static void test_bad_configs(void **state)
{
    fixture *fx = *state;
    rf_config_fails(&attn_router_codeowners, "{\"expand\": true}", &fx->ctx,
                    "unknown key 'expand'");
    rf_config_fails(&attn_router_codeowners, "{\"expand_teams\": \"no\"}", &fx->ctx,
                    "expand_teams");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_files_one_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_expansion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_risk_and_author, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
