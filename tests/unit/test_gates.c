/*
 * test_gates.c - PR-body gate parsing and the gate correlation
 * (src/eval/gates.c). Parsing cases are data: tests/data/gates/cases.txt.
 */
#include "testutil.h"
#include "eval/gates.h"
#include "util/buf.h"
#include "util/json.h"

static int check_field(const char *name, const char *field, const char *want, const char *got)
{
    int bad = want ? (got == NULL || strcmp(want, got)) : got != NULL;
    if (bad)
        fprintf(stderr, "case '%s': %s: expected %s, got %s\n", name, field,
                want ? want : "(missing)", got ? got : "(missing)");
    return bad;
}

static void test_cases(void **state)
{
    char path[512], line[1024], name[1024] = "";
    attn_gate_parser *p;
    attn_buf body = ATTN_BUF_INIT;
    char *want[3] = {NULL, NULL, NULL};
    int in_body = 0, null_body = 0, crlf = 0, n = 0, bad = 0;
    attn_error err;
    FILE *f;
    (void)state;
    assert_int_equal(attn_gate_parser_new(&p, &err), 0);
    test_data_path("gates/cases.txt", path, sizeof(path));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (in_body) {
            if (!strcmp(line, ".")) {
                in_body = 0;
                continue;
            }
            attn_buf_puts(&body, line);
            attn_buf_puts(&body, crlf ? "\r\n" : "\n");
            continue;
        }
        if (!line[0] || line[0] == '#')
            continue;
        if (!strncmp(line, "case ", 5)) {
            snprintf(name, sizeof(name), "%s", line + 5);
            attn_buf_clear(&body);
            null_body = crlf = 0;
        } else if (!strcmp(line, "crlf")) {
            crlf = 1;
        } else if (!strcmp(line, "body")) {
            in_body = 1;
        } else if (!strcmp(line, "body null")) {
            null_body = 1;
        } else if (!strncmp(line, "expect ", 7)) {
            char field[32], value[512];
            int i;
            assert_int_equal(sscanf(line + 7, "%31s %511[^\n]", field, value), 2);
            i = !strcmp(field, "issue") ? 0 : !strcmp(field, "ai_disclosure") ? 1 :
                !strcmp(field, "provenance") ? 2 : -1;
            if (i < 0)
                fail_msg("case '%s': unknown field %s", name, field);
            free(want[i]);
            want[i] = strcmp(value, "-") ? strdup(value) : NULL;
        } else if (!strcmp(line, "end")) {
            attn_gates g;
            assert_int_equal(attn_gate_parse(p, null_body ? NULL : attn_buf_cstr(&body), &g, &err),
                             0);
            bad += check_field(name, "issue", want[0], g.issue);
            bad += check_field(name, "ai_disclosure", want[1], g.ai_disclosure);
            bad += check_field(name, "provenance", want[2], g.provenance);
            attn_gates_free(&g);
            for (int i = 0; i < 3; i++) {
                free(want[i]);
                want[i] = NULL;
            }
            n++;
        } else {
            fail_msg("unknown line '%s'", line);
        }
    }
    fclose(f);
    attn_buf_free(&body);
    attn_gate_parser_free(p);
    fprintf(stderr, "# %d gate cases\n", n);
    assert_true(n >= 35);
    assert_int_equal(bad, 0);
}

static char *canonical(const json_t *v)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (attn_json_canonical(v, &b, &err))
        fail_msg("%s", err.msg);
    return attn_buf_detach(&b);
}

static void test_json(void **state)
{
    attn_gate_parser *p;
    attn_gates g;
    attn_error err;
    json_t *v;
    char *text;
    (void)state;
    assert_int_equal(attn_gate_parser_new(&p, &err), 0);
    assert_int_equal(attn_gate_parse(p, "Fixes #4\nAI: no", &g, &err), 0);
    v = attn_gates_json(&g);
    text = canonical(v);
    assert_string_equal(text, "{\"ai_disclosure\":\"no\",\"issue\":\"#4\",\"missing_ai_disclosure\":"
                              "false,\"missing_issue\":false,\"missing_provenance\":true,"
                              "\"provenance\":null}");
    free(text);
    json_decref(v);
    attn_gates_free(&g);
    attn_gate_parser_free(p);
}

/* A large hostile body: bounded time, no crash; invalid UTF-8 is fine. */
static void test_hostile_body(void **state)
{
    attn_gate_parser *p;
    attn_gates g;
    attn_error err;
    size_t n = 1 << 20;
    char *body = malloc(n + 1);
    (void)state;
    assert_non_null(body);
    static const char pat[] = "- [x] \xff\xfe#a xx:  \t**\n";
    for (size_t i = 0; i < n; i++)
        body[i] = pat[i % (sizeof(pat) - 1)];
    body[n] = 0;
    assert_int_equal(attn_gate_parser_new(&p, &err), 0);
    /* Every line is a checked box that names nothing: all of them are read. */
    assert_int_equal(attn_gate_parse(p, body, &g, &err), 0);
    assert_null(g.issue);
    assert_null(g.ai_disclosure);
    assert_null(g.provenance);
    attn_gates_free(&g);
    free(body);
    attn_gate_parser_free(p);
}

static void test_correlation(void **state)
{
    attn_gates a = {"#1", "yes", NULL}, b = {NULL, "no", NULL}, c = {"#2", NULL, NULL};
    attn_gate_row rows[] = {{&a, 1}, {&b, 0}, {&c, 1}, {&b, 1}, {NULL, 0}};
    attn_error err;
    json_t *v;
    char *text;
    (void)state;
    assert_int_equal(attn_gate_correlation(rows, 5, &v, &err), 0);
    text = canonical(v);
    /* issue: present in a, c (both merged); missing in b, b, NULL (1 of 3 merged).
     * ai_disclosure: present a, b, b (2 of 3 merged); missing c, NULL (1 of 2).
     * provenance: missing everywhere (3 of 5 merged), present rate null. */
    assert_string_equal(
        text,
        "{\"ai_disclosure\":{\"merged_rate_missing\":0.5,\"merged_rate_present\":"
        "0.6666666666666666,\"missing_n\":2,\"missing_rate\":0.4,\"n\":5,"
        "\"present_n\":3},\"issue\":{\"merged_rate_missing\":0.3333333333333333,"
        "\"merged_rate_present\":1.0,\"missing_n\":3,\"missing_rate\":0.6,"
        "\"n\":5,\"present_n\":2},\"provenance\":{\"merged_rate_missing\":0.6,"
        "\"merged_rate_present\":null,\"missing_n\":5,\"missing_rate\":1.0,\"n\":5,"
        "\"present_n\":0}}");
    free(text);
    json_decref(v);
    /* No rows: every rate is null. */
    assert_int_equal(attn_gate_correlation(NULL, 0, &v, &err), 0);
    assert_true(json_is_null(json_object_get(json_object_get(v, "issue"), "missing_rate")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "issue"), "n")), 0);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_hostile_body),
        cmocka_unit_test(test_correlation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
