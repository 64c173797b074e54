/*
 * test_prompt.c - prompt bundles (llm/prompt.h): canonicalization, the hash
 * (whitespace and key order do not change it; any text change does), the
 * label registry refusing a reused label, snapshots and the section diff.
 */
#include "testutil.h"
#include "llm/prompt.h"
#include "util/fs.h"

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    attn_error err;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    assert_int_equal(attn_fs_write_atomic(p, text, strlen(text), &err), 0);
}

static void bundle(const char *dir, const char *bundle_json, const char *system,
                   const char *task, const char *schema)
{
    put(dir, "bundle.json", bundle_json);
    put(dir, "system.md", system);
    put(dir, "task.md", task);
    put(dir, "schema.json", schema);
}

static const char B1[] = "{\"name\": \"t\", \"version\": \"1.0.0\", \"sections\": {\"system\": "
                         "\"system.md\", \"task\": \"task.md\", \"output_schema\": \"schema.json\"}}";
/* Same bundle, other key order and whitespace. */
static const char B2[] = "{\n  \"sections\": {\n    \"output_schema\": \"schema.json\",\n"
                         "    \"task\": \"task.md\", \"system\": \"system.md\"},\n"
                         "  \"version\": \"1.0.0\",  \"name\": \"t\"\n}\n";

static char *hash_of(const char *dir)
{
    attn_prompt *p = NULL;
    attn_error err;
    char *h;
    if (attn_prompt_load(dir, &p, &err))
        fail_msg("%s", err.msg);
    h = strdup(p->hash);
    attn_prompt_free(p);
    return h;
}

static void test_canon_text(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a  \nb\t\n", "a\nb"},      {"a\r\nb\r\n\r\n", "a\nb"}, {"a\rb", "a\nb"},
        {"  lead", "  lead"},        {"", ""},                   {"\n\n\n", ""},
        {"x \t \r\n\r\ny", "x\n\ny"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        attn_buf b = ATTN_BUF_INIT;
        attn_prompt_canon_text(cases[i].in, strlen(cases[i].in), &b);
        assert_string_equal(attn_buf_cstr(&b), cases[i].want);
        attn_buf_free(&b);
    }
}

static void test_hash_stable_and_sensitive(void **state)
{
    char *d1 = test_tmpdir(), *d2 = test_tmpdir(), *d3 = test_tmpdir(), *d4 = test_tmpdir();
    char *h1, *h2, *h3, *h4;
    attn_error err;
    (void)state;
    bundle(d1, B1, "You rank.\nOnly JSON.\n", "Task {{input}}\n", "{\"a\": 1, \"b\": [1, 2]}");
    /* CRLF, trailing spaces, extra trailing blank lines, JSON key order/whitespace. */
    bundle(d2, B2, "You rank.   \r\nOnly JSON.\r\n\r\n", "Task {{input}}  \n\n",
           "{\n \"b\": [1,2],\n \"a\": 1\n}\n");
    /* One word changed. */
    bundle(d3, B1, "You rank.\nOnly  JSON.\n", "Task {{input}}\n", "{\"a\": 1, \"b\": [1, 2]}");
    /* Same text, only the label differs: same content hash. */
    bundle(d4, "{\"name\": \"t\", \"version\": \"1.1.0\", \"sections\": {\"system\": \"system.md\", "
               "\"task\": \"task.md\", \"output_schema\": \"schema.json\"}}",
           "You rank.\nOnly JSON.\n", "Task {{input}}\n", "{\"a\": 1, \"b\": [1, 2]}");
    h1 = hash_of(d1), h2 = hash_of(d2), h3 = hash_of(d3), h4 = hash_of(d4);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_string_equal(h1, h4);
    assert_int_equal(strlen(h1), 64);
    /* A JSON value change changes it too. */
    put(d2, "schema.json", "{\"a\": 2, \"b\": [1, 2]}");
    free(h2);
    h2 = hash_of(d2);
    assert_string_not_equal(h1, h2);
    /* Leading indentation is content. */
    put(d4, "task.md", " Task {{input}}\n");
    free(h4);
    h4 = hash_of(d4);
    assert_string_not_equal(h1, h4);
    free(h1), free(h2), free(h3), free(h4);
    attn_fs_remove_tree(d1, &err), attn_fs_remove_tree(d2, &err), attn_fs_remove_tree(d3, &err),
        attn_fs_remove_tree(d4, &err);
    free(d1), free(d2), free(d3), free(d4);
}

static void test_bad_bundles(void **state)
{
    static const struct {
        const char *bundle, *msg;
    } cases[] = {
        {"{\"name\": \"t\", \"version\": \"1.0\", \"sections\": {\"system\": \"system.md\"}}",
         "major.minor.patch"},
        {"{\"name\": \"t\", \"version\": \"1.0.0\", \"sections\": {}}", "non-empty"},
        {"{\"name\": \"t/x\", \"version\": \"1.0.0\", \"sections\": {\"s\": \"system.md\"}}",
         "\"name\""},
        {"{\"name\": \"t\", \"version\": \"1.0.0\", \"sections\": {\"s\": \"../x.md\"}}",
         "inside the bundle"},
        {"{\"name\": \"t\", \"version\": \"1.0.0\", \"sections\": {\"s\": \"nope.md\"}}", "nope.md"},
        {"{\"name\": \"t\", \"version\": \"1.0.0\", \"sections\": {\"s\": \"system.md\"}, "
         "\"extra\": 1}",
         "unknown key 'extra'"},
        {"{\"name\": \"t\", \"version\": \"1.0.0\", \"sections\": {\"s\": \"bad.json\"}}", "bad.json"},
    };
    char *d = test_tmpdir();
    attn_error err;
    (void)state;
    put(d, "system.md", "x");
    put(d, "bad.json", "{nope");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        attn_prompt *p = NULL;
        put(d, "bundle.json", cases[i].bundle);
        assert_true(attn_prompt_load(d, &p, &err) < 0);
        assert_null(p);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
    }
    attn_fs_remove_tree(d, &err);
    free(d);
}

static void test_label_registry(void **state)
{
    char *d = test_tmpdir(), *data = test_tmpdir();
    attn_prompt *p = NULL, *q = NULL, *r = NULL;
    attn_error err;
    char old[65];
    (void)state;
    bundle(d, B1, "one\n", "two\n", "{}");
    assert_int_equal(attn_prompt_load(d, &p, &err), 0);
    assert_int_equal(attn_prompt_register(data, p, 0, &err), 0);
    assert_int_equal(attn_prompt_register(data, p, 0, &err), 0); /* same content: fine */
    memcpy(old, p->hash, 65);
    put(d, "task.md", "two, edited\n");
    assert_int_equal(attn_prompt_load(d, &q, &err), 0);
    assert_int_equal(attn_prompt_register(data, q, 1, &err), ATTN_ECONFLICT);
    assert_non_null(strstr(err.msg, old));
    assert_non_null(strstr(err.msg, q->hash));
    /* The registry snapshot resolves by label and keeps its hash. */
    assert_int_equal(attn_prompt_resolve(data, "t@1.0.0", &r, &err), 0);
    assert_string_equal(r->hash, old);
    {
        json_t *df = attn_prompt_diff(r, q);
        json_t *task = json_object_get(json_object_get(df, "sections"), "task");
        assert_false(json_is_true(json_object_get(df, "same")));
        assert_int_equal(json_array_size(json_object_get(df, "changed_sections")), 1);
        assert_string_equal(json_string_value(json_array_get(json_object_get(task, "lines"), 0)),
                            "-two");
        assert_string_equal(json_string_value(json_array_get(json_object_get(task, "lines"), 1)),
                            "+two, edited");
        json_decref(df);
    }
    {
        attn_prompt *none = NULL;
        assert_int_equal(attn_prompt_resolve(data, "t@9.9.9", &none, &err), ATTN_ENOTFOUND);
        assert_null(none);
    }
    attn_prompt_free(p);
    attn_prompt_free(q);
    attn_prompt_free(r);
    attn_fs_remove_tree(d, &err);
    attn_fs_remove_tree(data, &err);
    free(d);
    free(data);
}

static void test_snapshot_tamper(void **state)
{
    char *d = test_tmpdir();
    attn_prompt *p = NULL, *q = NULL;
    attn_error err;
    json_t *s;
    (void)state;
    bundle(d, B1, "one\n", "two\n", "{}");
    assert_int_equal(attn_prompt_load(d, &p, &err), 0);
    s = attn_prompt_snapshot(p);
    assert_int_equal(attn_prompt_from_snapshot(s, "snap", &q, &err), 0);
    assert_string_equal(q->hash, p->hash);
    attn_prompt_free(q);
    q = NULL;
    json_object_set_new(json_object_get(s, "sections"), "task", json_string("changed"));
    assert_int_equal(attn_prompt_from_snapshot(s, "snap", &q, &err), ATTN_ECORRUPT);
    assert_non_null(strstr(err.msg, "does not match"));
    json_decref(s);
    attn_prompt_free(p);
    attn_fs_remove_tree(d, &err);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_text),
        cmocka_unit_test(test_hash_stable_and_sensitive),
        cmocka_unit_test(test_bad_bundles),
        cmocka_unit_test(test_label_registry),
        cmocka_unit_test(test_snapshot_tamper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
