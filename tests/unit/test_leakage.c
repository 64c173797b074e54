/*
 * test_leakage.c - the leakage rule, end to end (SPEC §5, §7): nothing after
 * a cutoff may change a snapshot or any router's output.
 *
 * A synthetic history is loaded; for several cutoffs T and many PRs created
 * at or before T, every snapshot and every registered router's result at T
 * is recorded. Then a copy of the store is cut at T: every event, review,
 * comment, PR, issue and file list that appears after T is deleted and the
 * intervals are rebuilt from what is left. Routing again on the cut store
 * must give byte-identical canonical JSON. A router that peeked past T (a
 * later review, a later head's files, a later request) would differ.
 */
#include "cut_fixture.h"
#include "route/context.h"
#include "route/router.h"
#include "store/store.h"
#include "synth/synth.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CUTS 4
#define PRS_PER_CUT 25

static int setup(void **state)
{
    return cut_fixture_setup(state, 11);
}

/* Canonical text of every snapshot and route at t for the PRs in numbers. */
static char *route_all(const fixture *f, const char *db, int64_t t, const int64_t *numbers,
                       size_t n)
{
    attn_store *s;
    attn_route_env *env;
    attn_error err;
    attn_buf out = ATTN_BUF_INIT;
    attn_router *routers[16];
    const attn_router_def *defs[16];
    size_t nr = 0;
    const attn_route_ctx *ctx;

    /* Opt-in routers need an outside service (llm_rerank: a model); what
     * llm_rerank sends is built only from the snapshot and its base router's
     * result, both checked here. */
    assert_true(attn_router_count() <= 16);
    for (size_t i = 0; i < attn_router_count(); i++)
        if (!attn_router_opt_in(attn_router_at(i)))
            defs[nr++] = attn_router_at(i);
    if (attn_store_open(db, &s, &err) ||
        attn_route_env_open(s, "synth/sample", f->repo_dir, &env, &err))
        fail_msg("open %s: %s", db, err.msg);
    ctx = attn_route_env_ctx(env);
    for (size_t i = 0; i < nr; i++)
        if (attn_router_new(defs[i], NULL, NULL, ctx, &routers[i], &err))
            fail_msg("router %s: %s", defs[i]->name, err.msg);
    for (size_t k = 0; k < n; k++) {
        json_t *snap;
        attn_buf c = ATTN_BUF_INIT;
        if (attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, numbers[k], t, &snap, &err))
            fail_msg("snapshot #%lld: %s", (long long)numbers[k], err.msg);
        assert_int_equal(attn_json_canonical(snap, &c, &err), 0);
        attn_buf_printf(&out, "#%lld %s\n", (long long)numbers[k], attn_buf_cstr(&c));
        for (size_t i = 0; i < nr; i++) {
            attn_route_query q = {numbers[k], t, 10, snap};
            json_t *res;
            if (attn_router_route(routers[i], ctx, &q, &res, &err))
                fail_msg("route %s #%lld: %s", defs[i]->name, (long long)numbers[k],
                         err.msg);
            attn_buf_clear(&c);
            assert_int_equal(attn_json_canonical(res, &c, &err), 0);
            attn_buf_printf(&out, "%s %s\n", defs[i]->name, attn_buf_cstr(&c));
            json_decref(res);
        }
        attn_buf_free(&c);
        json_decref(snap);
    }
    for (size_t i = 0; i < nr; i++)
        attn_router_free(routers[i]);
    attn_route_env_free(env);
    attn_store_close(s);
    return attn_buf_detach(&out);
}

static void first_difference(const char *a, const char *b)
{
    size_t line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    fail_msg("output differs at line %zu:\nfull: %.400s\ncut:  %.400s", line, la, lb);
}

static void test_cut_store_routes_identically(void **state)
{
    fixture *f = *state;
    int checked = 0;

    assert_true(attn_router_count() > 0);
    for (int c = 1; c <= N_CUTS; c++) {
        /* Cutoffs spread over the history, off the exact event seconds. */
        int64_t t = f->t0 + (f->t1 - f->t0) * c / (N_CUTS + 1) + 17;
        int64_t numbers[PRS_PER_CUT];
        size_t n = 0;
        char sql[512], cut[800];
        sqlite3_stmt *st;
        attn_store *s;
        attn_error err;
        char *full, *again;

        /* The PRs open at t are the interesting ones; take the latest. */
        assert_int_equal(attn_store_open(f->db, &s, &err), 0);
        snprintf(sql, sizeof(sql),
                 "SELECT number FROM pull_requests WHERE created_at <= %lld"
                 " ORDER BY created_at DESC, number LIMIT %d",
                 (long long)t, PRS_PER_CUT);
        assert_int_equal(sqlite3_prepare_v2(attn_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW)
            numbers[n++] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        attn_store_close(s);
        assert_true(n > 5);

        full = route_all(f, f->db, t, numbers, n);
        snprintf(cut, sizeof(cut), "%s/cut-%d.sqlite", f->dir, c);
        copy_file(f->db, cut);
        assert_int_equal(attn_store_open(cut, &s, &err), 0);
        cut_store(s, t);
        assert_true(query_i64(s, "SELECT count(*) FROM events") > 0);
        attn_store_close(s);
        again = route_all(f, cut, t, numbers, n);
        if (strcmp(full, again))
            first_difference(full, again);
        checked += (int)n;
        free(full);
        free(again);
    }
    assert_true(checked >= N_CUTS * 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cut_store_routes_identically, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
