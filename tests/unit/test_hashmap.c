/*
 * test_hashmap.c - util/hashmap: map64 get/put/replace across growth, against
 * a plain array; imap finds entries by caller equality, with colliding hashes;
 * strtab interns strings in insertion order.
 */
#include "testutil.h"
#include "util/hashmap.h"

static void test_map64(void **state)
{
    attn_map64 m = ATTN_MAP64_INIT;
    (void)state;
    assert_int_equal(attn_map64_get(&m, 5), ATTN_MAP64_NONE);
    for (uint32_t i = 0; i < 20000; i++)
        attn_map64_put(&m, (uint64_t)i * 7919u, i);
    assert_int_equal(m.n, 20000);
    for (uint32_t i = 0; i < 20000; i++)
        assert_int_equal(attn_map64_get(&m, (uint64_t)i * 7919u), i);
    assert_int_equal(attn_map64_get(&m, 1), ATTN_MAP64_NONE);
    attn_map64_put(&m, 7919u, 42);   /* replace, not add */
    assert_int_equal(m.n, 20000);
    assert_int_equal(attn_map64_get(&m, 7919u), 42);
    attn_map64_put(&m, UINT64_MAX, 7);
    assert_int_equal(attn_map64_get(&m, UINT64_MAX), 7);
    attn_map64_free(&m);
    assert_int_equal(attn_map64_get(&m, 0), ATTN_MAP64_NONE);
}

typedef struct {
    const char *const *names;
    const char *want;
} lookup;

static int eq_name(const void *ctx, size_t i)
{
    const lookup *l = ctx;
    return !strcmp(l->names[i], l->want);
}

static void test_imap(void **state)
{
    static const char *const names[] = {"alice", "bob", "carol", "dave", "erin"};
    attn_imap m = ATTN_IMAP_INIT;
    lookup l = {names, NULL};
    (void)state;
    for (size_t i = 0; i < 5; i++)   /* every entry under one hash: all collide */
        attn_imap_add(&m, 99, i);
    for (size_t i = 0; i < 5; i++) {
        l.want = names[i];
        assert_int_equal(attn_imap_find(&m, 99, eq_name, &l), i);
    }
    l.want = "zed";
    assert_int_equal(attn_imap_find(&m, 99, eq_name, &l), ATTN_IMAP_NONE);
    l.want = "bob";
    assert_int_equal(attn_imap_find(&m, 98, eq_name, &l), ATTN_IMAP_NONE);
    for (size_t i = 5; i < 5000; i++)
        attn_imap_add(&m, attn_hash_u64(i), i);
    l.want = "carol";
    assert_int_equal(attn_imap_find(&m, 99, eq_name, &l), 2);
    attn_imap_free(&m);
    assert_int_equal(attn_hash_str("a"), attn_hash_bytes("a", 1));
    assert_true(attn_hash_str("a") != attn_hash_str("b"));
}

/* Interned strings: ids in the order first added, lookups without adding,
 * lengths that cut a longer text, and a cleared table that starts again at
 * id 0 with no trace of what it held. */
static void test_strtab(void **state)
{
    attn_strtab t;
    char word[16];
    (void)state;
    memset(&t, 0, sizeof(t));
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i++) {
            snprintf(word, sizeof(word), "w%d", (i * 7) % 300);
            assert_int_equal(attn_strtab_id(&t, word, strlen(word), 1), i);
        }
        assert_int_equal(t.n, 300);
        for (int i = 0; i < 300; i++) {
            snprintf(word, sizeof(word), "w%d", (i * 7) % 300);
            assert_int_equal(attn_strtab_id(&t, word, strlen(word), 0), i);
            assert_string_equal(attn_strtab_at(&t, (size_t)i), word);
        }
        assert_int_equal(attn_strtab_id(&t, "w", 1, 0), -1);         /* a prefix of many */
        assert_int_equal(attn_strtab_id(&t, "w10x", 3, 0), attn_strtab_id(&t, "w10", 3, 0));
        assert_int_equal(attn_strtab_id(&t, "w1000", 5, 0), -1);
        attn_strtab_clear(&t);
        assert_int_equal(t.n, 0);
        assert_int_equal(attn_strtab_id(&t, "w0", 2, 0), -1);
    }
    attn_strtab_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map64),
        cmocka_unit_test(test_imap),
        cmocka_unit_test(test_strtab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
