/*
 * test_route_leakage.c - the baseline routers (mentions, review_requests,
 * codeowners, popularity) see nothing after the cutoff.
 *
 * On a synthetic history (attn synth, loaded with the bundle loader, its
 * CODEOWNERS revisions pinned), for several cutoffs T and the PRs open at T:
 * route on the full store; then copy the store, delete every row after T
 * (events with occurred_at > T, reviews and comments after T, PRs and issues
 * created after T with their files, reviews and comments), rebuild intervals
 * and the activity index, and route again. The canonical JSON must be byte
 * for byte the same. A control checks that the comparison is sensitive: the
 * same routers at a later cutoff do give different output.
 */
#include "baseline_fixture.h"

#include <sqlite3.h>
#include "ingest/bundle.h"
#include "route/context.h"
#include "store/pinned.h"
#include "synth/synth.h"

#define REPO "synth/leak"
#define N_CUTOFFS 3
#define PRS_PER_CUTOFF 10

typedef struct {
    const attn_router_def *def;
    const char *config;
} variant;

static const variant VARIANTS[] = {
    {&attn_router_mentions, NULL},
    {&attn_router_mentions, "{\"expand_teams\": true}"},
    {&attn_router_review_requests, NULL},
    {&attn_router_review_requests, "{\"expand_teams\": false}"},
    {&attn_router_codeowners, NULL},
    {&attn_router_codeowners, "{\"expand_teams\": false}"},
    {&attn_router_popularity, NULL},
    {&attn_router_popularity,
     "{\"lookback_days\": 30, \"half_life_days\": 7,"
     " \"weights\": {\"review\": 1, \"review_comment\": 0.4, \"comment\": 0.2}}"},
    /* the common rules too: availability and load read the activity index */
    {&attn_router_popularity,
     "{\"availability\": {\"inactive_days\": 14, \"factor\": 0.5},"
     " \"load\": {\"max_open_requests\": 2}}"},
};
#define N_VARIANTS (sizeof(VARIANTS) / sizeof(VARIANTS[0]))

typedef struct {
    char *dir;
    char db[600];
    attn_store *s;
    int64_t repo_id;
} fixture;

static void pin_bundle_codeowners(const json_t *bundle, const char *repo_dir)
{
    const char *sha;
    json_t *text;
    attn_error err;
    size_t n = 0;
    json_object_foreach(json_object_get(bundle, "codeowners"), sha, text) {
        attn_pinned_file f = {".github/CODEOWNERS", json_string_value(text),
                              json_string_length(text)};
        if (attn_pinned_write(repo_dir, sha, "bundle", &f, 1, &err))
            fail_msg("pin %s: %s", sha, err.msg);
        n++;
    }
    assert_true(n > 0);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    attn_synth_opts o;
    attn_error err;
    attn_bundle_stats st;
    json_t *bundle;
    char path[600];
    fx->dir = test_tmpdir();
    attn_synth_opts_init(&o);
    assert_int_equal(attn_synth_opts_set(&o, "prs", "120", &err), 0);
    assert_int_equal(attn_synth_opts_set(&o, "seed", "11", &err), 0);
    assert_int_equal(attn_synth_opts_set(&o, "repo", REPO, &err), 0);
    assert_int_equal(attn_synth_opts_set(&o, "days", "90", &err), 0);
    assert_int_equal(attn_synth_opts_set(&o, "users", "16", &err), 0);
    snprintf(path, sizeof(path), "%s/bundle.json", fx->dir);
    if (attn_synth_write_file(&o, path, &err))
        fail_msg("synth: %s", err.msg);
    if (attn_bundle_read(path, REPO, &bundle, &err))
        fail_msg("bundle: %s", err.msg);
    snprintf(fx->db, sizeof(fx->db), "%s/history.sqlite", fx->dir);
    if (attn_store_open(fx->db, &fx->s, &err) || attn_bundle_apply(fx->s, bundle, &st, &err))
        fail_msg("load: %s", err.msg);
    fx->repo_id = st.repo_id;
    pin_bundle_codeowners(bundle, fx->dir);
    json_decref(bundle);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    attn_store_close(fx->s);
    fx_rm_rf(fx->dir);
    free(fx);
    return 0;
}

/* Every PR number created at or before t, newest first, up to cap. */
static size_t prs_before(attn_store *s, int64_t repo_id, int64_t t, int64_t *out, size_t cap)
{
    sqlite3_stmt *st;
    size_t n = 0;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(s),
                                        "SELECT number FROM pull_requests WHERE repo_id = ?1 AND"
                                        " created_at <= ?2 ORDER BY created_at DESC, number DESC",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, repo_id);
    sqlite3_bind_int64(st, 2, t);
    while (n < cap && sqlite3_step(st) == SQLITE_ROW)
        out[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Canonical outputs of every variant for every PR at as_of, in one array of
 * n_prs * N_VARIANTS strings; *nonempty[v] counts non-empty results. */
static char **route_all(attn_store *s, const char *repo_dir, const int64_t *prs, size_t n_prs,
                        int64_t as_of, size_t *nonempty)
{
    attn_error err;
    attn_route_env *env;
    const attn_route_ctx *ctx;
    char **out = calloc(n_prs * N_VARIANTS, sizeof(*out));
    attn_router *routers[N_VARIANTS];
    if (attn_route_env_open(s, REPO, repo_dir, &env, &err))
        fail_msg("env: %s", err.msg);
    ctx = attn_route_env_ctx(env);
    for (size_t v = 0; v < N_VARIANTS; v++) {
        json_t *cfg = VARIANTS[v].config ? rf_parse(VARIANTS[v].config) : NULL;
        if (attn_router_new(VARIANTS[v].def, cfg, NULL, ctx, &routers[v], &err))
            fail_msg("router %s: %s", VARIANTS[v].def->name, err.msg);
        json_decref(cfg);
    }
    for (size_t i = 0; i < n_prs; i++) {
        json_t *snap;
        if (attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, prs[i], as_of, &snap, &err))
            fail_msg("snapshot #%lld: %s", (long long)prs[i], err.msg);
        for (size_t v = 0; v < N_VARIANTS; v++) {
            attn_route_query q = {prs[i], as_of, 5, snap};
            json_t *res;
            if (attn_router_route(routers[v], ctx, &q, &res, &err))
                fail_msg("route: %s", err.msg);
            if (json_array_size(json_object_get(res, "candidates")) && nonempty)
                nonempty[v]++;
            out[i * N_VARIANTS + v] = rf_canon(res);
            json_decref(res);
        }
        json_decref(snap);
    }
    for (size_t v = 0; v < N_VARIANTS; v++)
        attn_router_free(routers[v]);
    attn_route_env_free(env);
    return out;
}

static void free_all(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

/* A copy of the store holding only what was known at t. */
static attn_store *truncated_copy(fixture *fx, int64_t t, const char *path)
{
    attn_error err;
    attn_store *c;
    char sql[2048];
    snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", path);
    fx_exec(fx->s, sql);
    if (attn_store_open(path, &c, &err))
        fail_msg("open copy: %s", err.msg);
    fx_exec(c, "PRAGMA foreign_keys = OFF");
    snprintf(sql, sizeof(sql),
             "DELETE FROM comments WHERE created_at > %1$lld"
             "  OR pull_request_id IN (SELECT id FROM pull_requests WHERE created_at > %1$lld)"
             "  OR issue_id IN (SELECT id FROM issues WHERE created_at > %1$lld)"
             "  OR review_id IN (SELECT id FROM reviews WHERE submitted_at > %1$lld);"
             "DELETE FROM reviews WHERE submitted_at > %1$lld"
             "  OR pull_request_id IN (SELECT id FROM pull_requests WHERE created_at > %1$lld);"
             "DELETE FROM events WHERE occurred_at > %1$lld;"
             "DELETE FROM pull_request_files WHERE pull_request_id IN"
             "  (SELECT id FROM pull_requests WHERE created_at > %1$lld);"
             "DELETE FROM pull_requests WHERE created_at > %1$lld;"
             "DELETE FROM issues WHERE created_at > %1$lld;",
             (long long)t);
    fx_exec(c, sql);
    if (attn_store_rebuild_intervals(c, fx->repo_id, NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
    return c;
}

static void test_no_leakage(void **state)
{
    fixture *fx = *state;
    int64_t lo = fx_count(fx->s, "SELECT MIN(created_at) FROM pull_requests");
    int64_t hi = fx_count(fx->s, "SELECT MAX(created_at) FROM pull_requests");
    size_t nonempty[N_VARIANTS] = {0}, compared = 0;
    for (int k = 1; k <= N_CUTOFFS; k++) {
        int64_t t = lo + (hi - lo) * k / (N_CUTOFFS + 1), prs[PRS_PER_CUTOFF];
        size_t n = prs_before(fx->s, fx->repo_id, t, prs, PRS_PER_CUTOFF);
        char path[700];
        attn_store *cut;
        char **full, **part;
        assert_true(n > 0);
        full = route_all(fx->s, fx->dir, prs, n, t, nonempty);
        snprintf(path, sizeof(path), "%s/cut%d.sqlite", fx->dir, k);
        cut = truncated_copy(fx, t, path);
        /* the copy really lost rows */
        assert_true(fx_count(cut, "SELECT COUNT(*) FROM events") <
                    fx_count(fx->s, "SELECT COUNT(*) FROM events"));
        part = route_all(cut, fx->dir, prs, n, t, NULL);
        for (size_t i = 0; i < n * N_VARIANTS; i++) {
            if (strcmp(full[i], part[i]))
                fail_msg("cutoff %d, PR #%lld, %s variant %zu differs:\nfull: %s\ncut:  %s", k,
                         (long long)prs[i / N_VARIANTS], VARIANTS[i % N_VARIANTS].def->name,
                         i % N_VARIANTS, full[i], part[i]);
            compared++;
        }
        free_all(full, n * N_VARIANTS);
        free_all(part, n * N_VARIANTS);
        attn_store_close(cut);
    }
    print_message("# %zu outputs compared; non-empty per variant:", compared);
    for (size_t v = 0; v < N_VARIANTS; v++)
        print_message(" %zu", nonempty[v]);
    print_message("\n");
    /* Each router must have produced something to compare. */
    for (size_t v = 0; v < N_VARIANTS; v++)
        if (!nonempty[v])
            fail_msg("variant %zu (%s) was always empty: the test proves nothing for it", v,
                     VARIANTS[v].def->name);
}

/* Control: the comparison is sensitive to later facts. The same PRs routed a
 * week later on the full store give different popularity output. */
static void test_control_later_cutoff_differs(void **state)
{
    fixture *fx = *state;
    int64_t lo = fx_count(fx->s, "SELECT MIN(created_at) FROM pull_requests");
    int64_t hi = fx_count(fx->s, "SELECT MAX(created_at) FROM pull_requests");
    int64_t t = lo + (hi - lo) / 2, prs[PRS_PER_CUTOFF];
    size_t n = prs_before(fx->s, fx->repo_id, t, prs, PRS_PER_CUTOFF), differ = 0;
    char **a = route_all(fx->s, fx->dir, prs, n, t, NULL);
    char **b = route_all(fx->s, fx->dir, prs, n, t + 7 * 86400, NULL);
    for (size_t i = 0; i < n * N_VARIANTS; i++) {
        const char *pa = strstr(a[i], "\"candidates\""), *pb = strstr(b[i], "\"candidates\"");
        if (VARIANTS[i % N_VARIANTS].def == &attn_router_popularity && strcmp(pa, pb))
            differ++;
    }
    assert_true(differ > 0);
    free_all(a, n * N_VARIANTS);
    free_all(b, n * N_VARIANTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_leakage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_later_cutoff_differs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
