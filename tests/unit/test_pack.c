/*
 * test_pack.c - eval/pack.h over run directories written by eval/rundir.h:
 * per-PR entries land in the packed file (no prs/ tree), read back equal,
 * list sorted, the same writes give a byte-identical pack, a worker's
 * buffered writes flushed in order equal direct writes, an old run's tree is
 * still read, and bad entry names and missing entries are refused.
 */
#include "testutil.h"
#include "eval/pack.h"
#include "eval/rundir.h"
#include "util/fs.h"
#include "util/json.h"

static void write_run(const char *parent, const char *id, int buffered)
{
    attn_rundir *d, *buf = NULL, *w;
    attn_error err;
    json_t *snap = json_pack("{s:I, s:s, s:[s,s]}", "number", (json_int_t)7, "title", "x",
                             "files", "a.c", "b.c");
    json_t *route = json_pack("{s:s, s:[{s:{s:s, s:s}, s:f}]}", "router", "r1", "candidates",
                              "target", "type", "user", "name", "ann", "score", 0.1);
    assert_int_equal(attn_rundir_begin(parent, id, &d, &err), 0);
    if (buffered)
        assert_int_equal(attn_rundir_buffer_new(&buf, &err), 0);
    w = buffered ? buf : d;
    assert_int_equal(attn_rundir_write_json(w, "prs/7/snapshot.json", snap, &err), 0);
    assert_int_equal(attn_rundir_write_json(w, "prs/7/routes/r1.json", route, &err), 0);
    assert_int_equal(attn_rundir_write_json(w, "prs/7/llm/r1/request.json", route, &err), 0);
    assert_int_equal(attn_rundir_write_json(w, "prs/12/snapshot.json", snap, &err), 0);
    if (buffered) {
        assert_int_equal(attn_rundir_buffer_flush(buf, d, &err), 0);
        attn_rundir_abort(buf);
    }
    assert_int_equal(attn_rundir_entries_done(d, &err), 0);
    assert_int_equal(attn_rundir_write_json(d, "manifest.json", snap, &err), 0);
    assert_int_equal(attn_rundir_commit(d, &err), 0);
    json_decref(snap);
    json_decref(route);
}

static void same_file(const char *a, const char *b)
{
    attn_buf x = ATTN_BUF_INIT, y = ATTN_BUF_INIT;
    attn_error err;
    assert_int_equal(attn_fs_read_file(a, &x, &err), 0);
    assert_int_equal(attn_fs_read_file(b, &y, &err), 0);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.ptr, y.ptr, x.len);
    attn_buf_free(&x);
    attn_buf_free(&y);
}

static void test_roundtrip(void **state)
{
    char *root = test_tmpdir(), run[600], path[700];
    attn_error err;
    json_t *v, *names;
    attn_pack *p;
    (void)state;
    write_run(root, "r", 0);
    snprintf(run, sizeof(run), "%s/r", root);
    snprintf(path, sizeof(path), "%s/prs", run);
    assert_false(attn_fs_exists(path));
    snprintf(path, sizeof(path), "%s/%s", run, ATTN_PACK_FILE);
    assert_true(attn_fs_exists(path));
    assert_int_equal(attn_pack_get(run, 7, "snapshot", &v, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "number")), 7);
    json_decref(v);
    assert_int_equal(attn_pack_get(run, 7, "llm/r1/request", &v, &err), 0);
    assert_string_equal(attn_json_str(v, "router"), "r1");
    json_decref(v);
    assert_int_equal(attn_pack_list(run, 7, &names, &err), 0);
    v = json_pack("[s,s,s]", "llm/r1/request", "routes/r1", "snapshot");
    assert_true(json_equal(names, v));
    json_decref(v);
    json_decref(names);
    assert_int_equal(attn_pack_open(run, &p, &err), 0);
    assert_true(attn_pack_is_packed(p));
    assert_int_equal(attn_pack_prs(p, &names, &err), 0);
    v = json_pack("[i,i]", 7, 12);
    assert_true(json_equal(names, v));
    json_decref(v);
    json_decref(names);
    assert_int_equal(attn_pack_read(p, 12, "routes/r1", &v, &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "#12"));
    assert_int_equal(attn_pack_read(p, 7, "../manifest", &v, &err), ATTN_EINVAL);
    assert_int_equal(attn_pack_read(p, 7, "routes//r1", &v, &err), ATTN_EINVAL);
    attn_pack_close(p);
    assert_int_equal(attn_pack_get("/nonexistent/run", 7, "snapshot", &v, &err), ATTN_ENOTFOUND);
    attn_fs_remove_tree(root, &err);
    free(root);
}

static void test_deterministic(void **state)
{
    char *root = test_tmpdir(), a[700], b[700];
    attn_error err;
    (void)state;
    write_run(root, "a", 0);
    write_run(root, "b", 1);
    snprintf(a, sizeof(a), "%s/a/%s", root, ATTN_PACK_FILE);
    snprintf(b, sizeof(b), "%s/b/%s", root, ATTN_PACK_FILE);
    same_file(a, b);
    write_run(root, "a", 0); /* a rerun replaces the run with the same bytes */
    same_file(a, b);
    attn_fs_remove_tree(root, &err);
    free(root);
}

static void test_old_tree(void **state)
{
    char *root = test_tmpdir(), path[700];
    attn_error err;
    json_t *v, *names;
    attn_pack *p;
    (void)state;
    snprintf(path, sizeof(path), "%s/prs/3/routes/r9.json", root);
    assert_int_equal(attn_fs_write_atomic(path, "{\"router\": \"r9\"}\n", 17, &err), 0);
    snprintf(path, sizeof(path), "%s/prs/3/truth.json", root);
    assert_int_equal(attn_fs_write_atomic(path, "{}\n", 3, &err), 0);
    assert_int_equal(attn_pack_get(root, 3, "routes/r9", &v, &err), 0);
    assert_string_equal(attn_json_str(v, "router"), "r9");
    json_decref(v);
    assert_int_equal(attn_pack_list(root, 3, &names, &err), 0);
    v = json_pack("[s,s]", "routes/r9", "truth");
    assert_true(json_equal(names, v));
    json_decref(v);
    json_decref(names);
    assert_int_equal(attn_pack_open(root, &p, &err), 0);
    assert_false(attn_pack_is_packed(p));
    assert_int_equal(attn_pack_prs(p, &names, &err), 0);
    assert_int_equal(json_array_size(names), 1);
    json_decref(names);
    attn_pack_close(p);
    attn_fs_remove_tree(root, &err);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_old_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
