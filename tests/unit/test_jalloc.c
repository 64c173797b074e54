/*
 * test_jalloc.c - jansson's per-thread free lists (src/util/jalloc.c): a
 * block is only handed to a request it can hold, freed blocks are reused
 * within their class, a class keeps at most ATTN_JALLOC_KEEP, a thread's
 * blocks go when it exits or releases them, and text from json_dumps can
 * still be freed with free() once the allocator is installed. Under the
 * sanitizer build, a block too small for its request is a heap overflow
 * and a cache not freed at thread exit is a leak: both fail the run.
 */
#define _GNU_SOURCE /* malloc_usable_size */
#include "testutil.h"
#include "util/jalloc.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Every size up to past the largest class, twice: fresh blocks, then
 * blocks from the free lists (freed in another order than taken). */
static void test_sizes(void **state)
{
    enum { TOP = ATTN_JALLOC_MAX + 80 };
    static unsigned char *p[TOP + 1];
    (void)state;
    for (int round = 0; round < 2; round++) {
        for (size_t n = 1; n <= TOP; n++) {
            p[n] = attn_jalloc_malloc(n);
            assert_non_null(p[n]);
            assert_true(malloc_usable_size(p[n]) >= n);
            memset(p[n], (int)(n & 0xff), n);
        }
        for (size_t n = 1; n <= TOP; n++)
            for (size_t i = 0; i < n; i++)
                assert_int_equal(p[n][i], (unsigned char)(n & 0xff));
        for (size_t n = TOP; n >= 1; n--)
            attn_jalloc_free(p[n]);
        /* the small ones are kept, the large ones are not */
        assert_true(attn_jalloc_thread_kept(0) >= ATTN_JALLOC_MAX);
        assert_true(attn_jalloc_thread_kept(0) < TOP);
    }
    attn_jalloc_free(NULL);
    attn_jalloc_thread_release();
    assert_int_equal(attn_jalloc_thread_kept(0), 0);
}

static void test_reuse_and_cap(void **state)
{
    enum { N = ATTN_JALLOC_KEEP + 50 };
    void **v = calloc(N, sizeof(*v));
    void *a, *b;
    (void)state;
    assert_non_null(v);
    a = attn_jalloc_malloc(40);
    attn_jalloc_free(a);
    assert_int_equal(attn_jalloc_thread_kept(0), 1);
    assert_int_equal(attn_jalloc_thread_kept(48), 1);
    b = attn_jalloc_malloc(33);   /* the same class: the same block */
    assert_ptr_equal(a, b);
    assert_int_equal(attn_jalloc_thread_kept(0), 0);
    attn_jalloc_free(b);
    attn_jalloc_thread_release();
    for (size_t i = 0; i < N; i++)
        v[i] = attn_jalloc_malloc(64);
    for (size_t i = 0; i < N; i++)
        attn_jalloc_free(v[i]);
    /* malloc may give a few of them a larger block (another class) */
    assert_int_equal(attn_jalloc_thread_kept(64), ATTN_JALLOC_KEEP);
    attn_jalloc_thread_release();
    assert_int_equal(attn_jalloc_thread_kept(0), 0);
    free(v);
}

static void *worker(void *arg)
{
    size_t *kept = arg;
    void *v[100];
    for (int i = 0; i < 100; i++)
        v[i] = attn_jalloc_malloc(24);
    for (int i = 0; i < 100; i++)
        attn_jalloc_free(v[i]);
    *kept = attn_jalloc_thread_kept(0);
    return NULL;   /* the cache goes with the thread (a leak otherwise) */
}

static void test_threads(void **state)
{
    pthread_t t[4];
    size_t kept[4];
    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &kept[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(kept[i], 100);
    }
    /* each thread kept its own: none reached this one */
    assert_int_equal(attn_jalloc_thread_kept(0), 0);
}

static void test_installed(void **state)
{
    json_t *o;
    char *text;
    (void)state;
    attn_jalloc_install();
    o = json_pack("{s:s, s:[i, f, s]}", "name", "octocat", "list", 1, 2.5, "x");
    assert_non_null(o);
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"list\":[1,2.5,\"x\"],\"name\":\"octocat\"}");
    free(text);   /* what jansson hands out stays a plain malloc block */
    json_decref(o);
    assert_true(attn_jalloc_thread_kept(0) > 0);
    attn_jalloc_thread_release();
    assert_int_equal(attn_jalloc_thread_kept(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_reuse_and_cap),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_installed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
