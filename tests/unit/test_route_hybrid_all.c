/*
 * test_route_hybrid_all.c - the hybrid router with its DEFAULT config over
 * the real registry (every built-in component), on a synthetic history:
 * it runs, fuses several components, fits, and sees nothing after the
 * cutoff. (test_route_hybrid.c checks the arithmetic with fake components.)
 */
#include "route_fixture.h"
#include "route/hybrid.h"

static attn_router *make_default(const attn_route_ctx *ctx)
{
    return rfx_router(&attn_router_hybrid, NULL, ctx);
}

/* Every registered router except the hybrid, learned (which combine the
 * others themselves) and the opt-in ones (an LLM reranks a base router; it is
 * no component) is a default component. */
static void test_defaults_cover_registry(void **state)
{
    rfx_synth y;
    attn_router *r;
    const json_t *comps;
    (void)state;
    rfx_synth_open(&y, 60, 5);
    r = make_default(&y.ctx);
    comps = json_object_get(attn_router_config(r), "components");
    for (size_t i = 0; i < attn_router_count(); i++) {
        const char *name = attn_router_at(i)->name;
        if (strcmp(name, "hybrid") && strcmp(name, "learned") && !attn_router_opt_in(attn_router_at(i)))
            assert_non_null(json_object_get(comps, name));
    }
    attn_router_free(r);
    rfx_synth_close(&y, 1);
}

static void test_fuses_components(void **state)
{
    rfx_synth y;
    attn_router *r;
    size_t multi = 0;
    (void)state;
    rfx_synth_open(&y, 200, 9);
    r = make_default(&y.ctx);
    for (size_t i = 120; i < 140; i++) {
        int64_t number, created;
        json_t *res;
        rfx_synth_pr(&y, i, &number, &created);
        res = rfx_synth_route(&y, r, number, created + 3600);
        assert_true(rfx_has_note(res, "weights_hash="));
        for (size_t k = 0; k < rfx_ncands(res); k++) {
            const json_t *ev = json_array_get(json_object_get(rfx_cand(res, k), "evidence"), 0);
            assert_string_equal(attn_json_str(ev, "kind"), "hybrid");
            multi += json_object_size(json_object_get(json_object_get(ev, "data"), "parts")) > 1;
        }
        json_decref(res);
    }
    /* candidates supported by more than one component are common */
    assert_true(multi >= 20);
    attn_router_free(r);
    rfx_synth_close(&y, 1);
}

/* Fitting on the real components: deterministic, and the fitted config
 * routes. The truth is the first reviewer after the cutoff. */
static void test_fit_real_components(void **state)
{
    rfx_synth y;
    attn_hybrid_example ex[30];
    json_t *snaps[30], *targets = json_array(), *f1 = NULL, *f2 = NULL;
    attn_error err;
    char *c1, *c2;
    size_t n = 0;
    attn_router *r;
    (void)state;
    rfx_synth_open(&y, 200, 9);
    for (size_t i = 100; i < 160 && n < 30; i++) {
        int64_t number, created;
        sqlite3_stmt *st;
        rfx_synth_pr(&y, i, &number, &created);
        assert_int_equal(sqlite3_prepare_v2(attn_store_db(y.s),
                                            "SELECT u.login FROM reviews r"
                                            " JOIN pull_requests p ON p.id = r.pull_request_id"
                                            " JOIN users u ON u.id = r.user_id"
                                            " WHERE p.number = ?1 AND r.submitted_at > ?2"
                                            " ORDER BY r.submitted_at, r.id LIMIT 1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(st, 1, number);
        sqlite3_bind_int64(st, 2, created);
        if (sqlite3_step(st) == SQLITE_ROW) {
            json_array_append_new(targets,
                                  json_pack("[{s:s, s:s}]", "type", "user", "name",
                                            (const char *)sqlite3_column_text(st, 0)));
            if (attn_asof_reader_pr_snapshot(y.reader, y.ctx.repo_id, number, created,
                                             &snaps[n], &err))
                fail_msg("snapshot: %s", err.msg);
            ex[n].pr_number = number;
            ex[n].cutoff = created;
            ex[n].snapshot = snaps[n];
            ex[n].targets = json_array_get(targets, n);
            n++;
        }
        sqlite3_finalize(st);
    }
    assert_true(n >= 15);
    if (attn_hybrid_fit(&y.ctx, NULL, ex, n, &f1, &err) ||
        attn_hybrid_fit(&y.ctx, NULL, ex, n, &f2, &err))
        fail_msg("fit: %s", err.msg);
    c1 = rfx_canonical(f1);
    c2 = rfx_canonical(f2);
    assert_string_equal(c1, c2);
    assert_true(json_number_value(json_object_get(json_object_get(f1, "fitted"), "objective")) >
                0);
    if (attn_router_new(&attn_router_hybrid, f1, "fitted", &y.ctx, &r, &err))
        fail_msg("fitted config: %s", err.msg);
    attn_router_free(r);
    free(c1);
    free(c2);
    json_decref(f1);
    json_decref(f2);
    for (size_t i = 0; i < n; i++)
        json_decref(snaps[i]);
    json_decref(targets);
    rfx_synth_close(&y, 1);
}

/* The hybrid hands router.c a shortlist too; it changes nothing. */
static void test_shortlist_exact(void **state)
{
    rfx_synth y;
    attn_router *r;
    size_t trimmed = 0;
    (void)state;
    rfx_synth_open(&y, 160, 3);
    r = make_default(&y.ctx);
    trimmed += rfx_shortlist_check(&y, r, 60, 15, 0, 3);
    trimmed += rfx_shortlist_check(&y, r, 80, 10, 0, 1);
    attn_router_free(r);
    r = rfx_router(&attn_router_hybrid,
                   "{\"method\": \"rrf\", \"availability\": {\"inactive_days\": 5,"
                   " \"factor\": 0.3}, \"load\": {\"max_open_requests\": 1}}",
                   &y.ctx);
    trimmed += rfx_shortlist_check(&y, r, 60, 15, 3600, 2);
    attn_router_free(r);
    assert_true(trimmed >= 20);
    rfx_synth_close(&y, 1);
}

static void test_leakage(void **state)
{
    static const int64_t offsets[] = {0, 6 * 3600};
    rfx_synth y;
    size_t nonempty;
    (void)state;
    rfx_synth_open(&y, 240, 7);
    nonempty = rfx_leakage_check(&y, make_default, 5, offsets, 2);
    assert_true(nonempty >= 5);
    rfx_synth_close(&y, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_cover_registry),
        cmocka_unit_test(test_fuses_components),
        cmocka_unit_test(test_fit_real_components),
        cmocka_unit_test(test_shortlist_exact),
        cmocka_unit_test(test_leakage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
