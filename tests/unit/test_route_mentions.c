/*
 * test_route_mentions.c - the @mention scanner as data
 * (tests/data/mentions/cases.txt) and the `mentions` router: scores,
 * title-before-body order, team expansion, notes, bad configs.
 */
#include "route_fixture.h"

#include "route/mentions.h"

/* Undo the \n \t \\ escapes of a case's text. */
static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    for (; *in; in++) {
        if (*in == '\\' && in[1]) {
            in++;
            out[n++] = *in == 'n' ? '\n' : *in == 't' ? '\t' : *in == 'r' ? '\r' : *in;
        } else {
            out[n++] = *in;
        }
    }
    out[n] = '\0';
    return n;
}

static void test_mention_cases(void **state)
{
    char path[1024], line[1024], text[1024];
    int n = 0, bad = 0;
    (void)state;
    test_data_path("mentions/cases.txt", path, sizeof(path));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *nl = strchr(line, '\n'), *t1, *t2;
        attn_error err;
        attn_buf got = ATTN_BUF_INIT;
        json_t *list = json_array(), *m;
        unsigned flags;
        size_t len, i;
        if (nl)
            *nl = '\0';
        if (line[0] == '#' || !(t1 = strchr(line, '\t')) || !(t2 = strchr(t1 + 1, '\t'))) {
            json_decref(list);
            continue;
        }
        *t1 = *t2 = '\0';
        flags = !strcmp(line, "body") ? ATTN_MENTIONS_BODY
              : !strcmp(line, "title") ? ATTN_MENTIONS_INLINE | ATTN_MENTIONS_SKIP_CODE |
                                         ATTN_MENTIONS_SKIP_HTML
              : 0;
        if (strcmp(line, "body") && strcmp(line, "title") && strcmp(line, "raw"))
            fail_msg("bad mode '%s'", line);
        len = unescape(t2 + 1, text);
        assert_int_equal(attn_mentions_extract(text, len, flags, "body", list, &err), 0);
        json_array_foreach(list, i, m) {
            if (i)
                attn_buf_putc(&got, ' ');
            attn_buf_printf(&got, "@%s", json_string_value(json_object_get(m, "name")));
            /* a team is exactly what has a '/' */
            assert_int_equal(!strcmp(json_string_value(json_object_get(m, "type")), "team"),
                             strchr(json_string_value(json_object_get(m, "name")), '/') != NULL);
        }
        if (!json_array_size(list))
            attn_buf_puts(&got, "-");
        if (strcmp(attn_buf_cstr(&got), t1 + 1)) {
            print_error("case '%s' (%s): want '%s' got '%s'\n", t2 + 1, line, t1 + 1,
                        attn_buf_cstr(&got));
            bad++;
        }
        attn_buf_free(&got);
        json_decref(list);
        n++;
    }
    fclose(f);
    assert_int_equal(bad, 0);
    assert_true(n >= 30);
}

/* Offsets point at the '@'; a shared list de-duplicates across calls. */
static void test_mention_offsets_and_shared_list(void **state)
{
    attn_error err;
    json_t *list = json_array();
    const char *title = "x @Alice", *body = "@alice @bob";
    (void)state;
    assert_int_equal(attn_mentions_extract(title, strlen(title), ATTN_MENTIONS_INLINE, "title",
                                           list, &err), 0);
    assert_int_equal(attn_mentions_extract(body, strlen(body), ATTN_MENTIONS_BODY, "body", list,
                                           &err), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "Alice");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "source")),
                        "title");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "offset")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "source")),
                        "body");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "offset")), 7);
    json_decref(list);
}

/* A pathological body is linear enough and capped. */
static void test_mention_cap(void **state)
{
    attn_error err;
    json_t *list = json_array();
    attn_buf b = ATTN_BUF_INIT;
    (void)state;
    for (int i = 0; i < 3000; i++)
        attn_buf_printf(&b, "@u%d ", i);
    assert_int_equal(attn_mentions_extract(b.ptr, b.len, ATTN_MENTIONS_BODY, "body", list, &err),
                     1);
    assert_int_equal(json_array_size(list), 1000);
    attn_buf_free(&b);
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mention_cases),
        cmocka_unit_test(test_mention_offsets_and_shared_list),
        cmocka_unit_test(test_mention_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
