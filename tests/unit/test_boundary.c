/*
 * test_boundary.c - export/boundary.c: the boundary model as of T is the
 * same whether built from the full store or from a copy cut at T (every
 * row after T deleted, intervals rebuilt: cut_fixture.h, as test_leakage.c cuts), for
 * several T; only PRs merged at or before T count; weights are in (0, 1] and
 * every file has exactly one primary area.
 */
#include "cut_fixture.h"
#include "export/boundary.h"
#include "ingest/bundle.h"
#include "store/store.h"
#include "synth/synth.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <sqlite3.h>

static int setup(void **state)
{
    return cut_fixture_setup(state, 17);
}

/* cut_store on the database file db. */
static void cut_db(const char *db, int64_t t)
{
    attn_error err;
    attn_store *s;
    if (attn_store_open(db, &s, &err))
        fail_msg("open: %s", err.msg);
    cut_store(s, t);
    attn_store_close(s);
}

static char *slurp(const char *dir, const char *name)
{
    char path[1200];
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (attn_fs_read_file(path, &b, &err))
        fail_msg("read %s: %s", path, err.msg);
    attn_buf_putc(&b, '\0');
    return attn_buf_detach(&b);
}

static void test_cut_store_gives_the_same_model(void **state)
{
    fixture *f = *state;
    int models = 0;
    for (int k = 1; k <= 3; k++) {
        int64_t t = f->t0 + (f->t1 - f->t0) * k / 4;
        char cut[700], a[700], b[700];
        attn_error err;
        json_t *ma = NULL, *mb = NULL;
        snprintf(cut, sizeof(cut), "%s/cut%d.sqlite", f->dir, k);
        snprintf(a, sizeof(a), "%s/full%d", f->dir, k);
        snprintf(b, sizeof(b), "%s/cutmodel%d", f->dir, k);
        copy_file(f->db, cut);
        cut_db(cut, t);
        if (attn_boundary_build(f->db, "synth/sample", t, NULL, a, &ma, &err) ||
            attn_boundary_build(cut, "synth/sample", t, NULL, b, &mb, &err))
            fail_msg("build: %s", err.msg);
        assert_true(json_integer_value(json_object_get(ma, "merged_prs")) > 0);
        char *ja = slurp(a, "boundary_model.json"), *jb = slurp(b, "boundary_model.json");
        assert_string_equal(ja, jb);
        assert_true(json_equal(ma, mb));
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(ma, "files"),
                                                                               "memberships.parquet"), "sha256")),
                            json_string_value(json_object_get(json_object_get(json_object_get(mb, "files"),
                                                                              "memberships.parquet"), "sha256")));
        free(ja), free(jb);
        json_decref(ma), json_decref(mb);
        models++;
    }
    assert_int_equal(models, 3);
}

static void test_only_merges_before_t(void **state)
{
    fixture *f = *state;
    int64_t t = f->t0 + (f->t1 - f->t0) / 2;
    char out[700], sql[512];
    attn_error err;
    attn_store *s;
    json_t *m = NULL;
    snprintf(out, sizeof(out), "%s/half", f->dir);
    if (attn_boundary_build(f->db, "synth/sample", t, NULL, out, &m, &err))
        fail_msg("build: %s", err.msg);
    assert_int_equal(attn_store_open(f->db, &s, &err), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(DISTINCT subject_id) FROM events WHERE event_type = 'pull_request.merged'"
             " AND occurred_at <= %lld AND subject_id IN (SELECT DISTINCT pull_request_id FROM pull_request_files)",
             (long long)t);
    /* PRs whose merge head has no stored list do not count, so at most this many */
    assert_true(json_integer_value(json_object_get(m, "merged_prs")) <= query_i64(s, sql));
    assert_true(json_integer_value(json_object_get(m, "merged_prs")) > 0);
    attn_store_close(s);
    json_decref(m);
    /* a T before any PR: an empty but valid model */
    if (attn_boundary_build(f->db, "synth/sample", f->t0 - 86400, NULL, out, &m, &err))
        fail_msg("build: %s", err.msg);
    assert_int_equal(json_integer_value(json_object_get(m, "merged_prs")), 0);
    json_decref(m);
    /* an unknown repository */
    assert_int_equal(attn_boundary_build(f->db, "no/such", t, NULL, out, &m, &err), ATTN_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cut_store_gives_the_same_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_merges_before_t, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
