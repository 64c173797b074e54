/*
 * test_synth.c - the documented PRNG (util/prng.h) and the synthetic history
 * generator (synth/synth.h): known answers, determinism, and the invariants
 * every bundle must keep (times, authors, bots, shapes).
 */
#include "testutil.h"

#include <unistd.h>
#include "synth/synth.h"
#include "util/error.h"
#include "util/prng.h"
#include "util/time.h"

#include <jansson.h>

/* ------------------------------------------------------------------ PRNG */

/*
 * Known answers. The state {1,2,3,4} vector is the published xoshiro256**
 * reference output (as used by the authors' and Rust rand_xoshiro's tests).
 * splitmix64 from x = 0 gives 0xE220A8397B1DCDAF, the well-known first value
 * of SplittableRandom's mixer. The seeded values were computed once with an
 * independent Python transcription of the algorithms in prng.h (64-bit
 * masking of every +, *, <<) and pinned here: if they change, every
 * synthetic bundle and cohort changes with them.
 */
static void test_prng_known_answers(void **state)
{
    static const uint64_t s1234[4] = {1, 2, 3, 4};
    attn_prng p;
    uint64_t x = 0;
    (void)state;

    attn_prng_set_state(&p, s1234);
    assert_true(attn_prng_next(&p) == UINT64_C(11520));
    assert_true(attn_prng_next(&p) == UINT64_C(0));
    assert_true(attn_prng_next(&p) == UINT64_C(1509978240));
    assert_true(attn_prng_next(&p) == UINT64_C(1215971899390074240));

    assert_true(attn_splitmix64(&x) == UINT64_C(16294208416658607535));

    attn_prng_seed(&p, 1);
    assert_true(attn_prng_next(&p) == UINT64_C(12966619160104079557));
    assert_true(attn_prng_next(&p) == UINT64_C(9600361134598540522));
    assert_true(attn_prng_next(&p) == UINT64_C(10590380919521690900));
    assert_true(attn_prng_next(&p) == UINT64_C(7218738570589545383));

    attn_prng_seed(&p, 42);
    assert_true(attn_prng_next(&p) == UINT64_C(1546998764402558742));

    attn_prng_seed_stream(&p, 7, 5);
    assert_true(attn_prng_next(&p) == UINT64_C(881047761808879970));
    assert_true(attn_prng_next(&p) == UINT64_C(13226474759049306954));

    /* stream 0 is the plain seed */
    attn_prng_seed_stream(&p, 1, 0);
    assert_true(attn_prng_next(&p) == UINT64_C(12966619160104079557));

    attn_prng_seed(&p, 1);
    assert_true(attn_prng_double(&p) == 0.7029218331588505);

    attn_prng_seed(&p, 1);
    assert_int_equal(attn_prng_below(&p, 10), 7);
    assert_int_equal(attn_prng_below(&p, 10), 2);
    assert_int_equal(attn_prng_below(&p, 10), 0);
    assert_int_equal(attn_prng_below(&p, 10), 3);
    assert_int_equal(attn_prng_below(&p, 10), 1);

    /* fill_below gives exactly the draws below() would, for any n (one that
     * rejects often, 2^63 + 1, included) and count, and leaves the same state. */
    {
        static const uint64_t ns[] = {1, 2, 3, 7, 10, 64, 8602, 10000, UINT32_MAX,
                                      UINT64_C(4294967297), UINT64_C(1) << 40,
                                      UINT64_C(9223372036854775807),
                                      UINT64_C(9223372036854775808),
                                      UINT64_C(9223372036854775809), UINT64_MAX - 1,
                                      UINT64_MAX};
        for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
            attn_prng a, b;
            size_t got[3000];
            attn_prng_seed(&a, 5 + t);
            attn_prng_seed(&b, 5 + t);
            attn_prng_fill_below(&a, ns[t], got, 3000);
            for (size_t i = 0; i < 3000; i++)
                assert_true(got[i] == (size_t)attn_prng_below(&b, ns[t]));
            assert_true(attn_prng_next(&a) == attn_prng_next(&b));
        }
    }
}

static void test_prng_bounded_uniform(void **state)
{
    attn_prng p;
    int counts[7] = {0};
    (void)state;

    attn_prng_seed(&p, 99);
    for (int i = 0; i < 70000; i++) {
        uint64_t v = attn_prng_below(&p, 7);
        assert_true(v < 7);
        counts[v]++;
    }
    for (int i = 0; i < 7; i++)   /* expected 10000, sd ~93 */
        assert_in_range(counts[i], 9500, 10500);
    for (int i = 0; i < 1000; i++) {
        int64_t v = attn_prng_range(&p, -3, 3);
        assert_true(v >= -3 && v <= 3);
        assert_true(attn_prng_below(&p, 1) == 0);
        double d = attn_prng_double(&p);
        assert_true(d >= 0.0 && d < 1.0);
    }
    /* Huge bounds (the rejection threshold matters here) stay in range. */
    for (int i = 0; i < 1000; i++)
        assert_true(attn_prng_below(&p, UINT64_C(0x8000000000000001)) <
                    UINT64_C(0x8000000000000001));
    assert_true(attn_prng_below(&p, 0) == 0);
}

static void test_prng_helpers(void **state)
{
    attn_prng p;
    double w[4] = {0, 2, 0, 1}, sum = 0, gsum = 0;
    int hits[4] = {0}, a[10], seen[10] = {0};
    (void)state;

    attn_prng_seed(&p, 5);
    for (int i = 0; i < 30000; i++)
        hits[attn_prng_weighted(&p, w, 4)]++;
    assert_int_equal(hits[0], 0);
    assert_int_equal(hits[2], 0);
    assert_in_range(hits[1], 19000, 21000);
    {
        double zero[2] = {0, -1};
        assert_int_equal(attn_prng_weighted(&p, zero, 2), -1);
    }
    for (int i = 0; i < 20000; i++) {
        sum += attn_prng_exp(&p, 3.0);
        gsum += (double)attn_prng_geometric(&p, 0.25);   /* mean (1-p)/p = 3 */
    }
    assert_true(sum / 20000 > 2.85 && sum / 20000 < 3.15);
    assert_true(gsum / 20000 > 2.85 && gsum / 20000 < 3.15);
    for (int i = 0; i < 10; i++)
        a[i] = i;
    attn_prng_shuffle(&p, a, 10);
    for (int i = 0; i < 10; i++)
        seen[a[i]]++;
    for (int i = 0; i < 10; i++)
        assert_int_equal(seen[i], 1);
}

/* ------------------------------------------------------------------ synth */

static char *gen(const attn_synth_opts *o, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    attn_error err;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    attn_error_clear(&err);
    assert_int_equal(attn_synth_write(o, f, &err), 0);
    fclose(f);
    *len = n;
    return buf;
}

static void small_opts(attn_synth_opts *o, uint64_t seed)
{
    attn_synth_opts_init(o);
    o->prs = 150;
    o->seed = seed;
}

static int64_t tm(const json_t *obj, const char *key)
{
    int64_t t;
    const json_t *v = json_object_get(obj, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    assert_int_equal(attn_time_parse(json_string_value(v), &t, NULL), 0);
    return t;
}

static void test_synth_deterministic(void **state)
{
    attn_synth_opts o;
    size_t n1, n2, n3;
    char *a, *b, *c;
    (void)state;

    small_opts(&o, 11);
    a = gen(&o, &n1);
    b = gen(&o, &n2);
    assert_true(n1 > 1000);
    assert_true(n1 == n2 && memcmp(a, b, n1) == 0);
    o.seed = 12;
    c = gen(&o, &n3);
    assert_false(n1 == n3 && memcmp(a, c, n1) == 0);
    free(a);
    free(b);
    free(c);
}

/* The output is exactly jansson's sorted, compact dump of itself. */
static void test_synth_canonical_and_parses(void **state)
{
    attn_synth_opts o;
    json_error_t je;
    size_t n;
    char *s, *again;
    json_t *b;
    (void)state;

    small_opts(&o, 3);
    s = gen(&o, &n);
    b = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "format")), "attn.github_bundle.v1");
    again = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(15));
    assert_non_null(again);
    assert_int_equal(strlen(again) + 1, n);
    assert_memory_equal(again, s, n - 1);
    assert_int_equal(s[n - 1], '\n');
    free(again);
    json_decref(b);
    free(s);
}

static json_t *load_small(uint64_t seed)
{
    attn_synth_opts o;
    json_error_t je;
    size_t n;
    char *s;
    json_t *b;
    small_opts(&o, seed);
    s = gen(&o, &n);
    b = json_loadb(s, n, 0, &je);
    free(s);
    assert_non_null(b);
    return b;
}

static json_t *issue_by_number(json_t *b, json_int_t number)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(b, "issues"), i, it)
        if (json_integer_value(json_object_get(it, "number")) == number)
            return it;
    return NULL;
}

static json_int_t number_from_url(const json_t *o, const char *key)
{
    const char *u = json_string_value(json_object_get(o, key));
    assert_non_null(u);
    return strtoll(strrchr(u, '/') + 1, NULL, 10);
}

static void test_synth_invariants(void **state)
{
    json_t *b = load_small(21), *v, *gen_o;
    size_t i, j;
    int64_t end;
    int force = 0, ready = 0, requested = 0, merged = 0;
    const char *key;
    (void)state;

    gen_o = json_object_get(b, "generator");
    end = tm(gen_o, "end");

    /* Bots are type Bot; people are User. */
    json_array_foreach(json_object_get(b, "users"), i, v) {
        const char *login = json_string_value(json_object_get(v, "login"));
        const char *type = json_string_value(json_object_get(v, "type"));
        int bot = strstr(login, "[bot]") || !strcmp(login, "synth-ci");
        assert_string_equal(type, bot ? "Bot" : "User");
        assert_non_null(json_object_get(v, "node_id"));
        assert_non_null(json_object_get(v, "avatar_url"));
        assert_true(json_is_false(json_object_get(v, "site_admin")));
    }

    /* Every PR is in issues with a pull_request key, its own issue id. */
    json_array_foreach(json_object_get(b, "pulls"), i, v) {
        json_int_t num = json_integer_value(json_object_get(v, "number"));
        json_t *is = issue_by_number(b, num);
        assert_non_null(is);
        assert_non_null(json_object_get(is, "pull_request"));
        assert_true(json_integer_value(json_object_get(is, "id")) !=
                    json_integer_value(json_object_get(v, "id")));
        assert_true(tm(v, "created_at") <= end);
        merged += !json_is_null(json_object_get(v, "merged_at"));
    }
    assert_true(merged > 0);

    /* Event times within [created_at of their issue, end]; request shape. */
    json_array_foreach(json_object_get(b, "issue_events"), i, v) {
        json_t *is = issue_by_number(b, json_integer_value(
                                             json_object_get(json_object_get(v, "issue"), "number")));
        const char *ev = json_string_value(json_object_get(v, "event"));
        int64_t t = tm(v, "created_at");
        assert_non_null(is);
        assert_true(t >= tm(is, "created_at"));
        assert_true(t <= end);
        assert_non_null(json_object_get(v, "actor"));
        assert_non_null(json_object_get(v, "node_id"));
        assert_non_null(json_object_get(v, "commit_id"));
        if (!strcmp(ev, "review_requested") || !strcmp(ev, "review_request_removed")) {
            int u = json_object_get(v, "requested_reviewer") != NULL;
            int t2 = json_object_get(v, "requested_team") != NULL;
            assert_int_equal(u + t2, 1);
            assert_non_null(json_object_get(v, "review_requester"));
            requested++;
        }
        if (!strcmp(ev, "head_ref_force_pushed")) {
            force++;
            assert_true(json_is_string(json_object_get(v, "commit_id")));
        }
        ready += !strcmp(ev, "ready_for_review");
    }
    assert_true(force > 0);
    assert_true(ready > 0);
    assert_true(requested > 0);

    /* Comments: inside [created_at, end], issue_url names a known issue. */
    json_array_foreach(json_object_get(b, "issue_comments"), i, v) {
        json_t *is = issue_by_number(b, number_from_url(v, "issue_url"));
        assert_non_null(is);
        assert_true(tm(v, "created_at") >= tm(is, "created_at"));
        assert_true(tm(v, "updated_at") <= end);
    }
    json_array_foreach(json_object_get(b, "review_comments"), i, v) {
        json_t *is = issue_by_number(b, number_from_url(v, "pull_request_url"));
        assert_non_null(is);
        assert_true(tm(v, "created_at") >= tm(is, "created_at"));
        assert_true(tm(v, "created_at") <= end);
        assert_non_null(json_object_get(v, "path"));
        assert_non_null(json_object_get(v, "pull_request_review_id"));
    }

    /* Reviews: never by the author, after creation, a merge follows an approval. */
    json_object_foreach(json_object_get(b, "reviews"), key, v) {
        json_t *pr = issue_by_number(b, strtoll(key, NULL, 10)), *r;
        const char *author = json_string_value(
            json_object_get(json_object_get(pr, "user"), "login"));
        json_t *merged_at = json_object_get(json_object_get(pr, "pull_request"), "merged_at");
        int64_t first_approval = INT64_MAX;
        json_array_foreach(v, j, r) {
            const char *who = json_string_value(json_object_get(json_object_get(r, "user"),
                                                                "login"));
            int64_t t = tm(r, "submitted_at");
            assert_string_not_equal(who, author);
            assert_true(t >= tm(pr, "created_at") && t <= end);
            if (!strcmp(json_string_value(json_object_get(r, "state")), "APPROVED") &&
                t < first_approval)
                first_approval = t;
        }
        if (!json_is_null(merged_at))
            assert_true(first_approval <= tm(json_object_get(pr, "pull_request"), "merged_at"));
    }
    json_decref(b);
}

static void test_synth_ids_distinct(void **state)
{
    static const char *const lists[] = {"pulls", "issues", "issue_comments", "review_comments",
                                        "issue_events"};
    json_t *b = load_small(5), *seen = json_object(), *v, *l;
    size_t i, j;
    const char *key;
    char k[32];
    (void)state;

    for (size_t n = 0; n < sizeof(lists) / sizeof(lists[0]); n++)
        json_array_foreach(json_object_get(b, lists[n]), i, v) {
            snprintf(k, sizeof(k), "%lld", (long long)json_integer_value(json_object_get(v, "id")));
            assert_null(json_object_get(seen, k));
            json_object_set_new(seen, k, json_true());
        }
    json_object_foreach(json_object_get(b, "reviews"), key, l)
        json_array_foreach(l, j, v) {
            snprintf(k, sizeof(k), "%lld", (long long)json_integer_value(json_object_get(v, "id")));
            assert_null(json_object_get(seen, k));
            json_object_set_new(seen, k, json_true());
        }
    json_decref(seen);
    json_decref(b);
}

static void test_synth_bad_options(void **state)
{
    static const char *const bad[][2] = {
        {"prs", "-1"}, {"prs", "abc"}, {"prs", "600000"}, {"start", "2024-13-01T00:00:00Z"},
        {"start", "yesterday"}, {"days", "0"}, {"seed", "-5"}, {"seed", "x"}, {"seed", "9223372036854775808"},
        {"repo", "no-slash"}, {"repo", "../x"}, {"users", "1"}, {"colour", "blue"}};
    attn_synth_opts o;
    attn_error err;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        attn_synth_opts_init(&o);
        attn_error_clear(&err);
        assert_int_equal(attn_synth_opts_set(&o, bad[i][0], bad[i][1], &err), ATTN_EINVAL);
        assert_int_equal(attn_error_exit_status(err.code), 2);
        assert_true(err.msg[0] != '\0');
        assert_null(strchr(err.msg, '\n'));
    }
    attn_synth_opts_init(&o);
    assert_int_equal(attn_synth_opts_set(&o, "start", "2023-06-01", &err), 0);
    assert_int_equal(attn_synth_opts_set(&o, "repo", "acme/widgets", &err), 0);
    assert_string_equal(o.owner, "acme");
    assert_string_equal(o.name, "widgets");
    assert_int_equal(attn_synth_write_file(&o, "", &err), ATTN_EINVAL);
}

static void test_synth_write_file_atomic(void **state)
{
    attn_synth_opts o;
    attn_error err;
    char *dir = test_tmpdir(), path[512], cmd[600];
    FILE *f;
    long size;
    (void)state;

    attn_synth_opts_init(&o);
    o.prs = 20;
    snprintf(path, sizeof(path), "%s/b.json", dir);
    assert_int_equal(attn_synth_write_file(&o, path, &err), 0);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    assert_true(size > 1000);
    /* Only the target remains: no temporary files. */
    snprintf(cmd, sizeof(cmd), "test \"$(ls '%s' | wc -l)\" -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    /* A directory that cannot hold the file fails cleanly. */
    snprintf(path, sizeof(path), "%s/missing/b.json", dir);
    assert_int_equal(attn_synth_write_file(&o, path, &err), ATTN_EIO);
    assert_null(strchr(err.msg, '\n'));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prng_known_answers),
        cmocka_unit_test(test_prng_bounded_uniform),
        cmocka_unit_test(test_prng_helpers),
        cmocka_unit_test(test_synth_deterministic),
        cmocka_unit_test(test_synth_canonical_and_parses),
        cmocka_unit_test(test_synth_invariants),
        cmocka_unit_test(test_synth_ids_distinct),
        cmocka_unit_test(test_synth_bad_options),
        cmocka_unit_test(test_synth_write_file_atomic),
    };
    return cmocka_run_group_tests_name("synth", tests, NULL, NULL);
}
