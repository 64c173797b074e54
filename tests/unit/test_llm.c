/*
 * test_llm.c - llm/answer.h (strict validation of a chat answer, prices) and
 * llm/cache.h (zstd entries, modes): every invalid shape is refused with a
 * reason, a valid one returns the candidates' own spelling, tokens come from
 * usage either way; cache entries round-trip and damaged ones are refused;
 * the clients (llm/client.h, batch and async) retry a refused connection and
 * end every call, and stopping the async client ends the queued ones.
 */
#include "testutil.h"
#include "llm/answer.h"
#include "llm/cache.h"
#include "llm/client.h"
#include "util/fs.h"

static const char *const CANDS[] = {"alice", "Bob", "team:org/core"};

/* A chat body whose message content is the given text (JSON-escaped here). */
static char *body_with(const char *content)
{
    json_t *b = json_pack("{s:[{s:{s:s, s:s}}], s:{s:i, s:i}}", "choices", "message", "role",
                          "assistant", "content", content, "usage", "prompt_tokens", 100,
                          "completion_tokens", 7);
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s;
}

static void test_answers(void **state)
{
    static const struct {
        const char *content; /* NULL: use raw as the whole body */
        const char *raw;
        const char *want;    /* NULL: valid; else a substring of the reason */
    } cases[] = {
        {"{\"ranking\": [{\"login\": \"bob\", \"reason\": \"owns it\"}]}", NULL, NULL},
        {"```json\n{\"ranking\": [{\"login\": \"alice\", \"reason\": \"r\"}]}\n```", NULL, NULL},
        {"{\"ranking\": [{\"login\": \"team:org/core\", \"reason\": \"r\"}]}", NULL, NULL},
        {NULL, "<html>", "not JSON"},
        {NULL, "{\"choices\": []}", "no choices[0].message.content"},
        {"Sure! {\"ranking\"", NULL, "content is not JSON"},
        {"{\"ranking\": []}", NULL, "schema"},
        {"{\"ranking\": \"x\"}", NULL, "schema"},
        {"{\"ranking\": [{\"login\": \"alice\", \"reason\": \"r\"}], \"extra\": 1}", NULL, "schema"},
        {"{\"ranking\": [{\"login\": \"alice\"}]}", NULL, "ranking[0] is not"},
        {"{\"ranking\": [{\"login\": \"alice\", \"reason\": \"r\", \"score\": 1}]}", NULL,
         "ranking[0] is not"},
        {"{\"ranking\": [{\"login\": \"alice\", \"reason\": \"r\"}, {\"login\": \"ghost\", "
         "\"reason\": \"r\"}]}",
         NULL, "ranking[1].login 'ghost' is not a candidate"},
        {"{\"ranking\": [{\"login\": \"alice\", \"reason\": \"r\"}, {\"login\": \"ALICE\", "
         "\"reason\": \"r\"}]}",
         NULL, "appears twice"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *b = cases[i].content ? body_with(cases[i].content) : strdup(cases[i].raw);
        json_t *r = NULL;
        long tin = -1, tout = -1;
        attn_error err;
        int rc;
        attn_error_clear(&err);
        rc = attn_llm_answer_parse(b, strlen(b), CANDS, 3, &r, &tin, &tout, &err);
        if (!cases[i].want) {
            if (rc)
                fail_msg("case %zu: %s", i, err.msg);
            assert_true(json_array_size(r) == 1);
            assert_int_equal(tin, 100);
            assert_int_equal(tout, 7);
        } else {
            assert_int_equal(rc, ATTN_EINVAL);
            assert_null(r);
            if (!strstr(err.msg, cases[i].want))
                fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
            if (cases[i].content)
                assert_int_equal(tin, 100); /* usage is counted even for a refused answer */
        }
        json_decref(r);
        free(b);
    }
}

static void test_spelling(void **state)
{
    char *b = body_with("{\"ranking\": [{\"login\": \"BOB\", \"reason\": \"r\"}]}");
    json_t *r = NULL;
    long tin, tout;
    attn_error err;
    (void)state;
    assert_int_equal(attn_llm_answer_parse(b, strlen(b), CANDS, 3, &r, &tin, &tout, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "login")), "Bob");
    json_decref(r);
    free(b);
}

static void put_text(const char *path, const char *text)
{
    attn_error err;
    assert_int_equal(attn_fs_write_atomic(path, text, strlen(text), &err), 0);
}

static void test_prices(void **state)
{
    char *d = test_tmpdir(), path[512];
    double in, out;
    int found;
    attn_error err;
    (void)state;
    snprintf(path, sizeof(path), "%s/p.json", d);
    assert_int_equal(attn_llm_price_lookup(path, "m", &in, &out, &found, &err), 0);
    assert_int_equal(found, 0);
    put_text(path, "{\"m\": {\"input_usd_per_mtok\": 0.5, \"output_usd_per_mtok\": 2}}");
    assert_int_equal(attn_llm_price_lookup(path, "m", &in, &out, &found, &err), 0);
    assert_int_equal(found, 1);
    assert_true(in == 0.5 && out == 2);
    assert_int_equal(attn_llm_price_lookup(path, "other", &in, &out, &found, &err), 0);
    assert_int_equal(found, 0);
    put_text(path, "{\"m\": {\"input_usd_per_mtok\": -1, \"output_usd_per_mtok\": 2}}");
    assert_int_equal(attn_llm_price_lookup(path, "m", &in, &out, &found, &err), ATTN_EINVAL);
    attn_fs_remove_tree(d, &err);
    free(d);
}

static void test_cache(void **state)
{
    char *d = test_tmpdir(), path[600];
    const char *key = "ab01234567890123456789012345678901234567890123456789012345678901";
    json_t *e = json_pack("{s:s, s:i, s:s, s:i}", "key", key, "status", 200, "body", "{\"x\":1}",
                          "latency_ms", 210),
           *got = NULL;
    attn_error err;
    attn_llm_mode m;
    (void)state;
    assert_int_equal(attn_llm_cache_get(d, key, &got, &err), ATTN_ENOTFOUND);
    assert_int_equal(attn_llm_cache_put(d, key, e, &err), 0);
    assert_int_equal(attn_llm_cache_get(d, key, &got, &err), 0);
    assert_true(json_equal(e, got));
    json_decref(got);
    snprintf(path, sizeof(path), "%s/ab/%s.json.zst", d, key);
    attn_fs_write_atomic(path, "garbage", 7, &err);
    assert_int_equal(attn_llm_cache_get(d, key, &got, &err), ATTN_ECORRUPT);
    assert_non_null(strstr(err.msg, "delete it"));
    assert_int_equal(attn_llm_mode_parse("replay", &m, &err), 0);
    assert_int_equal(m, ATTN_LLM_REPLAY);
    assert_int_equal(attn_llm_mode_parse("REPLAY", &m, &err), ATTN_EINVAL);
    json_decref(e);
    attn_fs_remove_tree(d, &err);
    free(d);
}

/* Nothing listens on loopback port 1: every try is refused at once. */
static void refused_opts(attn_llm_client_opts *o)
{
    attn_llm_client_opts_init(o);
    o->base_url = "http://127.0.0.1:1/v1";
    o->timeout_ms = 2000;
    o->max_retries = 1;
    o->retry_base_ms = 5;
    o->concurrency = 2;
}

static void test_clients(void **state)
{
    attn_llm_client_opts o;
    attn_llm_call calls[8];
    attn_llm_async *a = NULL;
    attn_error err;
    (void)state;
    refused_opts(&o);
    memset(calls, 0, sizeof(calls));
    for (int i = 0; i < 8; i++)
        calls[i].body = "{}";
    assert_int_equal(attn_llm_call_batch(&o, calls, 3, &err), 0);
    for (int i = 0; i < 3; i++) {
        assert_true(calls[i].done);
        assert_int_equal(calls[i].status, 0);
        assert_int_equal(calls[i].attempts, 2);
        assert_non_null(strstr(calls[i].error, "after 2 tries"));
    }
    assert_int_equal(attn_llm_async_start(&o, &a, &err), 0);
    for (int i = 0; i < 5; i++)
        attn_llm_async_submit(a, &calls[i]);
    for (int i = 0; i < 5; i++) {
        attn_llm_async_wait(a, &calls[i]);
        assert_true(calls[i].done);
        assert_int_equal(calls[i].attempts, 2);
        assert_non_null(strstr(calls[i].error, "after 2 tries"));
    }
    /* Stopped with calls queued or running: each ends, done, without an answer. */
    for (int i = 5; i < 8; i++)
        attn_llm_async_submit(a, &calls[i]);
    attn_llm_async_stop(a);
    for (int i = 5; i < 8; i++) {
        assert_true(calls[i].done);
        assert_int_equal(calls[i].status, 0);
        assert_true(calls[i].error[0] != '\0');
    }
    for (int i = 0; i < 8; i++)
        attn_buf_free(&calls[i].response);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_spelling),
        cmocka_unit_test(test_prices),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
