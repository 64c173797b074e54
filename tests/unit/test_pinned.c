/*
 * test_pinned.c - the pinned-file store (store/pinned.h) and the pure parts of
 * ingest/pin.h: write/read round trips, recorded absence, one blob per
 * content, path and sha validation, ENOTFOUND vs 1, CODEOWNERS precedence
 * (data-driven, tests/data/pinned/precedence.txt), no temporary files left,
 * damage detection, the legacy location, base64 and bundle maps.
 */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/pin.h"
#include "store/pinned.h"
#include "util/fs.h"
#include "util/json.h"

#define SHA_A "0123456789abcdef0123456789abcdef01234567"
#define SHA_B "89abcdef0123456789abcdef0123456789abcdef"

static const char CO_TEXT[] = "* @acme/core\n/docs/ @acme/docs\n";

/* Files under dir (recursively) whose name contains needle; all files when
 * needle is NULL. */
static int count_files(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char p[4096];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (lstat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(p, needle);
        else if (!needle || strstr(e->d_name, needle))
            n++;
    }
    closedir(d);
    return n;
}

static void rm_rf(char *dir)
{
    attn_error err;
    assert_int_equal(attn_fs_remove_tree(dir, &err), 0);
    free(dir);
}

static void write_ok(const char *dir, const char *sha, const attn_pinned_file *f, size_t n)
{
    attn_error err;
    attn_error_clear(&err);
    if (attn_pinned_write(dir, sha, "contents_api", f, n, &err))
        fail_msg("attn_pinned_write: %s", err.msg);
}

static void test_blob_sha(void **state)
{
    char hex[41];
    (void)state;
    /* Values from `git hash-object`. */
    assert_int_equal(attn_pinned_blob_sha("", 0, hex), 0);
    assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    assert_int_equal(attn_pinned_blob_sha("hello\n", 6, hex), 0);
    assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
}

static void test_round_trip(void **state)
{
    char *dir = test_tmpdir(), which[64], path[4096];
    char *text = NULL;
    size_t len = 0;
    attn_error err;
    json_t *m = NULL;
    attn_buf b = ATTN_BUF_INIT;
    attn_pinned_file f[] = {{".github/CODEOWNERS", CO_TEXT, sizeof(CO_TEXT) - 1},
                            {"CODEOWNERS", NULL, 0},
                            {"docs/CODEOWNERS", NULL, 0},
                            {"CONTRIBUTING.md", "be nice\0really", 14}};
    (void)state;
    assert_int_equal(attn_pinned_has(dir, SHA_A), 0);
    write_ok(dir, SHA_A, f, 4);
    assert_int_equal(attn_pinned_has(dir, SHA_A), 1);

    assert_int_equal(attn_pinned_codeowners(dir, SHA_A, &text, &len, which, sizeof(which), &err),
                     0);
    assert_string_equal(which, ".github/CODEOWNERS");
    assert_int_equal(len, sizeof(CO_TEXT) - 1);
    assert_string_equal(text, CO_TEXT);
    free(text);

    /* Bytes are kept exactly, NUL included. */
    assert_int_equal(attn_pinned_read(dir, SHA_A, "CONTRIBUTING.md", &text, &len, &err), 0);
    assert_int_equal(len, 14);
    assert_memory_equal(text, "be nice\0really", 14);
    free(text);

    /* Absence is recorded: 1, not "not pinned". */
    assert_int_equal(attn_pinned_read(dir, SHA_A, "CODEOWNERS", &text, &len, &err), 1);
    assert_null(text);
    assert_int_equal(len, 0);

    /* A path never looked for at a pinned sha is "not pinned", with the fix. */
    assert_int_equal(attn_pinned_read(dir, SHA_A, "OWNERS", &text, &len, &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "--path 'OWNERS'"));

    /* Files, the legacy copy and the canonical manifest are on disk. */
    snprintf(path, sizeof(path), "%s/repo_artifacts/%s/.github/CODEOWNERS", dir, SHA_A);
    assert_int_equal(attn_fs_read_file(path, &b, &err), 0);
    assert_string_equal(b.ptr, CO_TEXT);
    attn_buf_clear(&b);
    snprintf(path, sizeof(path), "%s/codeowners/%s/CODEOWNERS", dir, SHA_A);
    assert_int_equal(attn_fs_read_file(path, &b, &err), 0);
    assert_string_equal(b.ptr, CO_TEXT);
    attn_buf_clear(&b);
    snprintf(path, sizeof(path), "%s/repo_artifacts/%s/CODEOWNERS", dir, SHA_A);
    assert_false(attn_fs_exists(path));
    snprintf(path, sizeof(path), "%s/repo_artifacts/%s/.pin.json", dir, SHA_A);
    assert_int_equal(attn_fs_read_file(path, &b, &err), 0);
    assert_int_equal(attn_pinned_manifest(dir, SHA_A, &m, &err), 0);
    {
        attn_buf canon = ATTN_BUF_INIT;
        char hex[41];
        assert_int_equal(attn_json_canonical(m, &canon, &err), 0);
        assert_int_equal(attn_buf_putc(&canon, '\n'), 0);
        assert_string_equal(canon.ptr, b.ptr);
        attn_buf_free(&canon);
        assert_string_equal(attn_json_str(m, "source"), "contents_api");
        assert_string_equal(attn_json_str(m, "codeowners_path"), ".github/CODEOWNERS");
        assert_string_equal(attn_json_str(m, "format"), ATTN_PINNED_FORMAT);
        assert_int_equal(attn_pinned_blob_sha(CO_TEXT, sizeof(CO_TEXT) - 1, hex), 0);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(m, "files"), ".github/CODEOWNERS")),
            hex);
        assert_true(json_is_null(json_object_get(json_object_get(m, "files"), "CODEOWNERS")));
    }
    json_decref(m);
    attn_buf_free(&b);
    rm_rf(dir);
}

static void test_not_pinned_vs_no_codeowners(void **state)
{
    char *dir = test_tmpdir(), which[64] = "x";
    char *text = (char *)1;
    size_t len = 7;
    attn_error err;
    attn_pinned_file none[] = {{".github/CODEOWNERS", NULL, 0}, {"CODEOWNERS", NULL, 0},
                               {"docs/CODEOWNERS", NULL, 0}};
    (void)state;
    attn_error_clear(&err);
    assert_int_equal(attn_pinned_codeowners(dir, SHA_A, &text, &len, which, sizeof(which), &err),
                     ATTN_ENOTFOUND);
    assert_null(text);
    assert_non_null(strstr(err.msg, "attn pin"));
    assert_non_null(strstr(err.msg, SHA_A));
    assert_int_equal(attn_pinned_read(dir, SHA_A, "CODEOWNERS", &text, &len, &err),
                     ATTN_ENOTFOUND);

    write_ok(dir, SHA_A, none, 3);
    text = (char *)1;
    assert_int_equal(attn_pinned_codeowners(dir, SHA_A, &text, &len, which, sizeof(which), &err),
                     1);
    assert_null(text);
    assert_int_equal(len, 0);
    assert_string_equal(which, "");
    /* The other sha is still not pinned. */
    assert_int_equal(attn_pinned_codeowners(dir, SHA_B, &text, &len, NULL, 0, &err),
                     ATTN_ENOTFOUND);
    rm_rf(dir);
}

static void test_blob_stored_once(void **state)
{
    char *dir = test_tmpdir(), a[4096], b[4096], blobs[4096];
    struct stat sa, sb;
    attn_pinned_file f1[] = {{".github/CODEOWNERS", CO_TEXT, sizeof(CO_TEXT) - 1}};
    attn_pinned_file f2[] = {{"CODEOWNERS", CO_TEXT, sizeof(CO_TEXT) - 1},
                             {".github/CODEOWNERS", NULL, 0}};
    (void)state;
    write_ok(dir, SHA_A, f1, 1);
    write_ok(dir, SHA_B, f2, 2);
    snprintf(blobs, sizeof(blobs), "%s/repo_artifacts/.blobs", dir);
    assert_int_equal(count_files(blobs, NULL), 1);
    snprintf(a, sizeof(a), "%s/repo_artifacts/%s/.github/CODEOWNERS", dir, SHA_A);
    snprintf(b, sizeof(b), "%s/repo_artifacts/%s/CODEOWNERS", dir, SHA_B);
    assert_int_equal(stat(a, &sa), 0);
    assert_int_equal(stat(b, &sb), 0);
    /* Hard links where the file system allows them: one inode for both. */
    assert_true(sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
    assert_true(sa.st_nlink >= 4); /* blob, two per-sha paths, legacy copies */
    rm_rf(dir);
}

static void test_rewrite_merges_and_leaves_no_temp_files(void **state)
{
    char *dir = test_tmpdir(), *text = NULL, which[64];
    size_t len;
    attn_error err;
    json_t *m = NULL;
    attn_pinned_file f1[] = {{".github/CODEOWNERS", NULL, 0},
                             {"CODEOWNERS", CO_TEXT, sizeof(CO_TEXT) - 1}};
    attn_pinned_file f2[] = {{"OWNERS", "x\n", 2}};
    (void)state;
    /* The same set twice, then another path: merged, nothing left over. */
    write_ok(dir, SHA_A, f1, 2);
    write_ok(dir, SHA_A, f1, 2);
    write_ok(dir, SHA_A, f2, 1);
    assert_int_equal(count_files(dir, ".tmp."), 0);
    assert_int_equal(attn_pinned_manifest(dir, SHA_A, &m, &err), 0);
    assert_int_equal(json_object_size(json_object_get(m, "files")), 3);
    json_decref(m);
    assert_int_equal(attn_pinned_codeowners(dir, SHA_A, &text, &len, which, sizeof(which), &err),
                     0);
    assert_string_equal(which, "CODEOWNERS");
    free(text);
    assert_int_equal(attn_pinned_read(dir, SHA_A, "OWNERS", &text, &len, &err), 0);
    assert_string_equal(text, "x\n");
    free(text);
    rm_rf(dir);
}

static void test_bad_paths_and_shas(void **state)
{
    static const char *const bad_paths[] = {"../x", "/etc/passwd", "a/../b", "", "a//b",
                                            "./a", "a\\b", ".pin.json", "a/", "tab\there"};
    static const char *const bad_shas[] = {"abc", "0123456789ABCDEF0123456789ABCDEF01234567",
                                           SHA_A "0", "g123456789abcdef0123456789abcdef01234567",
                                           "../3456789abcdef0123456789abcdef0123456789", ""};
    char *dir = test_tmpdir(), *text = NULL;
    size_t len;
    attn_error err;
    (void)state;
    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        attn_pinned_file f[] = {{"CODEOWNERS", "a", 1}, {bad_paths[i], "b", 1}};
        attn_error_clear(&err);
        if (attn_pinned_write(dir, SHA_A, "git", f, 2, &err) != ATTN_EINVAL)
            fail_msg("path '%s' was accepted", bad_paths[i]);
        assert_int_equal(attn_pinned_read(dir, SHA_A, bad_paths[i], &text, &len, &err),
                         ATTN_EINVAL);
    }
    for (size_t i = 0; i < sizeof(bad_shas) / sizeof(bad_shas[0]); i++) {
        attn_pinned_file f[] = {{"CODEOWNERS", "a", 1}};
        if (attn_pinned_write(dir, bad_shas[i], "git", f, 1, &err) != ATTN_EINVAL)
            fail_msg("sha '%s' was accepted", bad_shas[i]);
        assert_non_null(strstr(err.msg, "40 lowercase hex"));
        assert_int_equal(attn_pinned_codeowners(dir, bad_shas[i], &text, &len, NULL, 0, &err),
                         ATTN_EINVAL);
        assert_int_equal(attn_pinned_has(dir, bad_shas[i]), 0);
    }
    {
        attn_pinned_file dup[] = {{"CODEOWNERS", "a", 1}, {"CODEOWNERS", NULL, 0}};
        attn_pinned_file nest[] = {{"docs", "a", 1}, {"docs/CODEOWNERS", "b", 1}};
        attn_pinned_file ok_nest[] = {{"docs", NULL, 0}, {"docs/CODEOWNERS", "b", 1}};
        attn_pinned_file one[] = {{"CODEOWNERS", "a", 1}};
        assert_int_equal(attn_pinned_write(dir, SHA_A, "git", dup, 2, &err), ATTN_EINVAL);
        assert_int_equal(attn_pinned_write(dir, SHA_A, "git", nest, 2, &err), ATTN_EINVAL);
        assert_int_equal(attn_pinned_write(dir, SHA_A, "Bad-Source", one, 1, &err), ATTN_EINVAL);
        assert_int_equal(attn_pinned_write(dir, SHA_A, "git", one, 0, &err), ATTN_EINVAL);
        /* Nothing at all was written by the refusals. */
        assert_int_equal(count_files(dir, NULL), 0);
        /* A directory "docs" (absent as a file) beside docs/CODEOWNERS is fine. */
        write_ok(dir, SHA_A, ok_nest, 2);
    }
    rm_rf(dir);
}

static void test_precedence_cases(void **state)
{
    char path[1024], line[1024];
    int n = 0;
    FILE *f;
    (void)state;
    test_data_path("pinned/precedence.txt", path, sizeof(path));
    assert_non_null(f = fopen(path, "r"));
    while (fgets(line, sizeof(line), f)) {
        char *dir, *present, *absent, *want, *tok, *save = NULL, which[64], *text = NULL;
        attn_pinned_file files[8];
        char contents[8][128];
        size_t nf = 0, len;
        attn_error err;
        int rc;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || !line[0])
            continue;
        present = strtok_r(line, "\t", &save);
        absent = strtok_r(NULL, "\t", &save);
        want = strtok_r(NULL, "\t", &save);
        assert_non_null(want);
        for (tok = strtok_r(present, ",", &save); tok && strcmp(tok, "-");
             tok = strtok_r(NULL, ",", &save)) {
            snprintf(contents[nf], sizeof(contents[nf]), "# from %s\n", tok);
            files[nf] = (attn_pinned_file){tok, contents[nf], strlen(contents[nf])};
            nf++;
        }
        for (tok = strtok_r(absent, ",", &save); tok && strcmp(tok, "-");
             tok = strtok_r(NULL, ",", &save))
            files[nf++] = (attn_pinned_file){tok, NULL, 0};
        dir = test_tmpdir();
        write_ok(dir, SHA_B, files, nf);
        rc = attn_pinned_codeowners(dir, SHA_B, &text, &len, which, sizeof(which), &err);
        if (!strcmp(want, "none")) {
            if (rc != 1 || text)
                fail_msg("case %d: want no CODEOWNERS, got rc=%d which='%s'", n + 1, rc, which);
        } else {
            char expect[128];
            snprintf(expect, sizeof(expect), "# from %s\n", want);
            if (rc != 0 || strcmp(which, want) || strcmp(text, expect))
                fail_msg("case %d: want %s, got rc=%d which='%s' (%s)", n + 1, want, rc, which,
                         err.msg);
        }
        free(text);
        rm_rf(dir);
        n++;
    }
    fclose(f);
    assert_true(n >= 12);
}

static void test_damage_detected(void **state)
{
    char *dir = test_tmpdir(), path[4096], *text = NULL;
    size_t len;
    attn_error err;
    attn_pinned_file f[] = {{".github/CODEOWNERS", CO_TEXT, sizeof(CO_TEXT) - 1}};
    FILE *fp;
    (void)state;
    write_ok(dir, SHA_A, f, 1);
    /* Editing one link in place edits them all: the blob sha catches it. */
    snprintf(path, sizeof(path), "%s/repo_artifacts/%s/.github/CODEOWNERS", dir, SHA_A);
    assert_non_null(fp = fopen(path, "a"));
    fputs("* @intruder\n", fp);
    fclose(fp);
    assert_int_equal(attn_pinned_codeowners(dir, SHA_A, &text, &len, NULL, 0, &err),
                     ATTN_ECORRUPT);
    assert_null(text);
    assert_non_null(strstr(err.msg, "blob sha"));
    /* A broken manifest is reported, not trusted. */
    snprintf(path, sizeof(path), "%s/repo_artifacts/%s/.pin.json", dir, SHA_A);
    assert_int_equal(attn_fs_write_atomic(path, "{\"files\":1}", 11, &err), 0);
    assert_int_equal(attn_pinned_read(dir, SHA_A, "CODEOWNERS", &text, &len, &err),
                     ATTN_ECORRUPT);
    assert_non_null(strstr(err.msg, "damaged"));
    rm_rf(dir);
}

static void test_legacy_location(void **state)
{
    char *dir = test_tmpdir(), path[4096], which[128], *text = NULL;
    size_t len;
    attn_error err;
    (void)state;
    snprintf(path, sizeof(path), "%s/codeowners/%s/CODEOWNERS", dir, SHA_A);
    assert_int_equal(attn_fs_write_atomic(path, CO_TEXT, sizeof(CO_TEXT) - 1, &err), 0);
    assert_int_equal(attn_pinned_codeowners(dir, SHA_A, &text, &len, which, sizeof(which), &err),
                     0);
    assert_string_equal(text, CO_TEXT);
    assert_string_equal(which, "codeowners/" SHA_A "/CODEOWNERS");
    free(text);
    /* attn_pinned_has is about manifests only. */
    assert_int_equal(attn_pinned_has(dir, SHA_A), 0);
    rm_rf(dir);
}

static void test_base64(void **state)
{
    static const struct {
        const char *in, *out;
    } good[] = {{"", ""}, {"aGVsbG8K", "hello\n"}, {"aGk=", "hi"}, {"aA==", "h"},
                {"KiBAYWNt\nZS9jb3Jl\nCg==\n", "* @acme/core\n"}, {"YWJj\r\n", "abc"}};
    static const char *const bad[] = {"aGk", "a===", "aGk=aGk=", "aG!k", "aA=", "aB==",
                                      "aGVsbG8K=", "====", "a"};
    attn_error err;
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        attn_buf b = ATTN_BUF_INIT;
        if (attn_pin_base64_decode(good[i].in, strlen(good[i].in), &b, &err))
            fail_msg("'%s': %s", good[i].in, err.msg);
        assert_int_equal(b.len, strlen(good[i].out));
        assert_memory_equal(b.len ? b.ptr : "", good[i].out, b.len);
        attn_buf_free(&b);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        attn_buf b = ATTN_BUF_INIT;
        if (attn_pin_base64_decode(bad[i], strlen(bad[i]), &b, &err) != ATTN_EINVAL)
            fail_msg("bad base64 '%s' was accepted", bad[i]);
        assert_non_null(strstr(err.msg, "base64"));
        attn_buf_free(&b);
    }
}

static void test_bundle_map(void **state)
{
    char *dir = test_tmpdir(), which[64], *text = NULL;
    size_t len;
    int64_t pinned = 0;
    attn_error err;
    json_t *b;
    static const char *const bad[] = {
        "{\"codeowners\": []}",
        "{\"codeowners\": {\"abc\": \"x\"}}",
        "{\"codeowners\": {\"" SHA_A "\": 3}}",
        "{\"codeowners\": {\"" SHA_A "\": {\"../x\": \"y\"}}}",
        "{\"codeowners\": {\"" SHA_A "\": {\"CODEOWNERS\": 1}}}",
        "{\"codeowners\": {\"" SHA_A "\": {\"a\": \"1\", \"a/b\": \"2\"}}}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_non_null(b = json_loads(bad[i], 0, NULL));
        if (attn_pin_bundle_check(b, &err) != ATTN_EINVAL)
            fail_msg("bad map %s was accepted", bad[i]);
        assert_int_equal(attn_pin_bundle_apply(dir, b, &pinned, &err), ATTN_EINVAL);
        json_decref(b);
    }
    assert_int_equal(count_files(dir, NULL), 0);

    assert_non_null(b = json_loads("{\"codeowners\": {\"" SHA_A "\": \"* @a\\n\", \"" SHA_B
                                   "\": {\"docs/CODEOWNERS\": \"* @d\\n\", \"README\": null}}}",
                                   0, NULL));
    assert_int_equal(attn_pin_bundle_apply(dir, b, &pinned, &err), 0);
    assert_int_equal(pinned, 2);
    json_decref(b);
    assert_int_equal(attn_pinned_codeowners(dir, SHA_A, &text, &len, which, sizeof(which), &err),
                     0);
    assert_string_equal(which, ".github/CODEOWNERS");
    assert_string_equal(text, "* @a\n");
    free(text);
    /* The places an entry does not name are recorded absent. */
    assert_int_equal(attn_pinned_read(dir, SHA_A, "docs/CODEOWNERS", &text, &len, &err), 1);
    assert_int_equal(attn_pinned_codeowners(dir, SHA_B, &text, &len, which, sizeof(which), &err),
                     0);
    assert_string_equal(which, "docs/CODEOWNERS");
    free(text);
    assert_int_equal(attn_pinned_read(dir, SHA_B, "README", &text, &len, &err), 1);
    /* No map: nothing happens. */
    assert_non_null(b = json_loads("{}", 0, NULL));
    assert_int_equal(attn_pin_bundle_apply(dir, b, &pinned, &err), 0);
    assert_int_equal(pinned, 0);
    json_decref(b);
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_sha),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_not_pinned_vs_no_codeowners),
        cmocka_unit_test(test_blob_stored_once),
        cmocka_unit_test(test_rewrite_merges_and_leaves_no_temp_files),
        cmocka_unit_test(test_bad_paths_and_shas),
        cmocka_unit_test(test_precedence_cases),
        cmocka_unit_test(test_damage_detected),
        cmocka_unit_test(test_legacy_location),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_bundle_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
