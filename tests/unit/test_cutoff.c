/*
 * test_cutoff.c - cutoff policies (src/eval/cutoff.c) and eval durations.
 *
 * Parsing is data: tests/data/cutoff/policies.txt. Resolution runs on the
 * store fixture: PR #2 (id 20) is created at 1000, PR #4 (id 21) too.
 */
#include "store_fixture.h"
#include "eval/cutoff.h"
#include "eval/duration.h"
#include "util/json.h"

static void test_parse_cases(void **state)
{
    char path[512], line[512];
    int n = 0, bad = 0;
    FILE *f;
    (void)state;
    test_data_path("cutoff/policies.txt", path, sizeof(path));
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *text, *want, *third, *save = NULL;
        attn_cutoff_policy p;
        attn_error err;
        int rc;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        text = strtok_r(line, "\t", &save);
        want = strtok_r(NULL, "\t", &save);
        third = strtok_r(NULL, "\t", &save);
        assert_non_null(want);
        assert_non_null(third);
        if (!strcmp(text, "(empty)"))
            text = "";
        attn_error_clear(&err);
        rc = attn_cutoff_policy_parse(text, &p, &err);
        n++;
        if (!strcmp(want, "ERR")) {
            if (rc != ATTN_EINVAL || !strstr(err.msg, third)) {
                fprintf(stderr, "'%s': expected error containing '%s', got rc %d '%s'\n", text,
                        third, rc, err.msg);
                bad++;
            } else if (strchr(err.msg, '\n')) {
                fprintf(stderr, "'%s': message is not one line\n", text);
                bad++;
            }
        } else if (rc || strcmp(p.id, want) || p.offset_seconds != atoll(third)) {
            fprintf(stderr, "'%s': expected %s/%s, got rc %d id '%s' offset %lld (%s)\n", text,
                    want, third, rc, rc ? "" : p.id, (long long)p.offset_seconds, err.msg);
            bad++;
        } else {
            /* The canonical id parses back to itself. */
            attn_cutoff_policy q;
            if (attn_cutoff_policy_parse(p.id, &q, &err) || strcmp(q.id, p.id) ||
                q.kind != p.kind || q.offset_seconds != p.offset_seconds) {
                fprintf(stderr, "'%s': canonical id '%s' does not round-trip\n", text, p.id);
                bad++;
            }
        }
    }
    fclose(f);
    assert_true(n >= 30);
    assert_int_equal(bad, 0);
}

static void test_policy_json_and_hash(void **state)
{
    attn_cutoff_policy a, b;
    attn_error err;
    attn_buf buf = ATTN_BUF_INIT;
    char h1[65], h2[65];
    json_t *v;
    (void)state;
    assert_int_equal(attn_cutoff_policy_parse("created_at+120m", &a, &err), 0);
    assert_int_equal(attn_cutoff_policy_parse("created_at+2h", &b, &err), 0);
    v = attn_cutoff_policy_json(&a);
    assert_int_equal(attn_json_canonical(v, &buf, &err), 0);
    assert_string_equal(buf.ptr,
                        "{\"id\":\"created_at+2h\",\"params\":{\"offset_seconds\":7200},"
                        "\"version\":\"v1\"}");
    json_decref(v);
    attn_buf_free(&buf);
    /* Same meaning, same hash; a different policy, a different hash. */
    assert_int_equal(attn_cutoff_policy_hash(&a, h1, &err), 0);
    assert_int_equal(attn_cutoff_policy_hash(&b, h2, &err), 0);
    assert_string_equal(h1, h2);
    assert_int_equal(attn_cutoff_policy_parse("created_at", &b, &err), 0);
    assert_int_equal(attn_cutoff_policy_hash(&b, h2, &err), 0);
    assert_string_not_equal(h1, h2);
    v = attn_cutoff_policy_json(&b);
    assert_int_equal(attn_json_canonical(v, &buf, &err), 0);
    assert_string_equal(buf.ptr, "{\"id\":\"created_at\",\"params\":{},\"version\":\"v1\"}");
    json_decref(v);
    attn_buf_free(&buf);
}

static void test_duration_format(void **state)
{
    static const struct { int64_t s; const char *t; } C[] = {
        {0, "0s"}, {1, "1s"}, {59, "59s"}, {60, "1m"}, {61, "61s"}, {3600, "1h"},
        {5400, "90m"}, {86400, "1d"}, {90000, "25h"}, {172800, "2d"}, {2592000, "30d"},
    };
    char buf[ATTN_EVAL_DURATION_BUFSZ];
    (void)state;
    for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++)
        assert_string_equal(attn_eval_duration_format(C[i].s, buf), C[i].t);
}

/* ---- resolution ------------------------------------------------------------------ */

static attn_store *fresh(void)
{
    attn_store *s = NULL;
    attn_error err;
    if (attn_store_open(":memory:", &s, &err))
        fail_msg("%s", err.msg);
    fx_populate(s);
    return s;
}

static int64_t resolve(attn_store *s, int64_t number, const char *policy, int *rc_out,
                       attn_error *err)
{
    attn_cutoff_policy p;
    int64_t cutoff = 12345;
    assert_int_equal(attn_cutoff_policy_parse(policy, &p, err), 0);
    *rc_out = attn_cutoff_resolve(s, 1, number, &p, &cutoff, err);
    return cutoff;
}

static void draft(attn_store *s, const char *key, int64_t at, int is_draft)
{
    fx_event(s, key, at, "pull_request", 20, "pull_request.draft.set", NULL, ATTN_NULL_I64,
             NULL, is_draft ? "{\"is_draft\":true}" : "{\"is_draft\":false}");
}

static void rebuild(attn_store *s)
{
    attn_error err;
    if (attn_store_rebuild_intervals(s, 1, NULL, NULL, &err))
        fail_msg("rebuild: %s", err.msg);
}

static void test_resolve_created_at(void **state)
{
    attn_store *s = fresh();
    attn_error err;
    int rc;
    (void)state;
    assert_int_equal(resolve(s, 2, "created_at", &rc, &err), 1000);
    assert_int_equal(rc, 0);
    assert_int_equal(resolve(s, 2, "created_at+90", &rc, &err), 1090);
    assert_int_equal(resolve(s, 4, "created_at+2h", &rc, &err), 1000 + 7200);
    /* No draft interval at all: never a draft, the cutoff is created_at. */
    assert_int_equal(resolve(s, 2, "ready_for_review", &rc, &err), 1000);
    assert_int_equal(rc, 0);
    /* Unknown PR. */
    assert_int_equal(resolve(s, 999, "created_at", &rc, &err), ATTN_NULL_I64);
    assert_int_equal(rc, ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "#999"));
    assert_int_equal(resolve(s, 999, "ready_for_review", &rc, &err), ATTN_NULL_I64);
    assert_int_equal(rc, ATTN_ENOTFOUND);
    attn_store_close(s);
}

/* Data: draft events (at, is_draft) and the expected ready_for_review cutoff
 * (ATTN_NULL_I64: still a draft). The PR is created at 1000. */
static void test_ready_for_review(void **state)
{
    static const struct {
        const char *name;
        int n;
        int64_t at[4];
        int draft[4];
        int64_t want;
    } C[] = {
        {"opened ready", 1, {1000}, {0}, 1000},
        {"opened as draft, ready later", 2, {1000, 5000}, {1, 0}, 5000},
        {"draft, ready, draft again: the first ready instant", 3, {1000, 5000, 6000}, {1, 0, 1},
         5000},
        {"still a draft", 1, {1000}, {1}, ATTN_NULL_I64},
        {"draft twice, never ready", 2, {1000, 3000}, {1, 1}, ATTN_NULL_I64},
        {"ready then back to draft in the same second: zero-length, not ready", 3,
         {1000, 5000, 5000}, {1, 0, 1}, ATTN_NULL_I64},
        {"ready for a second counts", 3, {1000, 5000, 5001}, {1, 0, 1}, 5000},
        {"not-draft interval before created_at reaching past it", 2, {500, 2000}, {0, 1}, 1000},
        {"not-draft interval ending before created_at does not count", 3, {500, 800, 4000},
         {0, 1, 0}, 4000},
        {"not-draft interval ending exactly at created_at does not count", 3, {500, 1000, 4000},
         {0, 1, 0}, 4000},
        {"first state known only later", 2, {2000, 3000}, {1, 0}, 3000},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
        attn_store *s = fresh();
        attn_error err;
        int rc;
        int64_t got;
        for (int j = 0; j < C[i].n; j++) {
            char key[32];
            snprintf(key, sizeof(key), "d%d", j);
            draft(s, key, C[i].at[j], C[i].draft[j]);
        }
        rebuild(s);
        attn_error_clear(&err);
        got = resolve(s, 2, "ready_for_review", &rc, &err);
        if (got != C[i].want) {
            fprintf(stderr, "case '%s': expected %lld, got %lld (rc %d %s)\n", C[i].name,
                    (long long)C[i].want, (long long)got, rc, err.msg);
            fail();
        }
        if (C[i].want == ATTN_NULL_I64) {
            assert_int_equal(rc, ATTN_CUTOFF_NONE);
            assert_non_null(strstr(err.msg, "still a draft"));
            assert_non_null(strstr(err.msg, "#2"));
        } else {
            assert_int_equal(rc, 0);
        }
        /* created_at ignores draft state. */
        assert_int_equal(resolve(s, 2, "created_at", &rc, &err), 1000);
        attn_store_close(s);
    }
}

static void test_resolver_reuse(void **state)
{
    attn_store *s = fresh();
    attn_cutoff_resolver *r;
    attn_cutoff_policy rfr, plus;
    attn_error err;
    int64_t c;
    (void)state;
    draft(s, "d0", 1000, 1);
    rebuild(s);
    assert_int_equal(attn_cutoff_policy_parse("ready_for_review", &rfr, &err), 0);
    assert_int_equal(attn_cutoff_policy_parse("created_at+1m", &plus, &err), 0);
    assert_int_equal(attn_cutoff_resolver_open(s, 1, &r, &err), 0);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(attn_cutoff_resolver_get(r, 2, &rfr, &c, &err), ATTN_CUTOFF_NONE);
        assert_int_equal(c, ATTN_NULL_I64);
        assert_int_equal(attn_cutoff_resolver_get(r, 4, &rfr, &c, &err), 0);
        assert_int_equal(c, 1000);
        assert_int_equal(attn_cutoff_resolver_get(r, 2, &plus, &c, &err), 0);
        assert_int_equal(c, 1060);
        assert_int_equal(attn_cutoff_resolver_get(r, 3, &plus, &c, &err), ATTN_ENOTFOUND);
    }
    attn_cutoff_resolver_free(r);
    attn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cases),
        cmocka_unit_test(test_policy_json_and_hash),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_resolve_created_at),
        cmocka_unit_test(test_ready_for_review),
        cmocka_unit_test(test_resolver_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
