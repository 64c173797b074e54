/*
 * test_alloc.c - the allocation policy (src/util/alloc.c): growth keeps
 * contents and never shrinks; an overflowing size or an impossible
 * allocation ends the process with one line and status 1, never a short
 * buffer.
 */
#include "testutil.h"
#include "util/alloc.h"

#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_grow(void **state)
{
    int *v = NULL;
    size_t n = 0, cap = 0;
    (void)state;
    for (int i = 0; i < 1000; i++) {
        size_t before = cap;
        ATTN_ALLOC_GROW(v, n + 1, cap);
        assert_true(cap >= n + 1 && cap >= before);
        v[n++] = i;
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], i);
    ATTN_ALLOC_GROW(v, 10, cap);   /* never shrinks */
    assert_true(cap >= 1000);
    free(v);
    char *d = attn_xstrndup("abcdef", 3);
    assert_string_equal(d, "abc");
    free(d);
    assert_int_equal(attn_st_mult(0, SIZE_MAX), 0);
    assert_int_equal(attn_st_add(1, 2), 3);
}

/* Run fn in a child; return its exit status and its stderr's first line. */
static int in_child(void (*fn)(void), char *line, size_t cap)
{
    int fds[2], status = 0;
    pid_t pid;
    ssize_t got;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        fn();
        _exit(0);
    }
    close(fds[1]);
    got = read(fds[0], line, cap - 1);
    line[got > 0 ? got : 0] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void overflow_mult(void) { (void)attn_st_mult(SIZE_MAX / 2 + 1, 2); }
static void overflow_grow(void)
{
    int64_t *v = NULL;
    size_t cap = 0;
    ATTN_ALLOC_GROW(v, SIZE_MAX / 4, cap);
    free(v);
}

static void test_overflow_dies_with_one_line(void **state)
{
    char line[256];
    (void)state;
    assert_int_equal(in_child(overflow_mult, line, sizeof(line)), 1);
    assert_non_null(strstr(line, "attn: size overflow"));
    assert_non_null(strchr(line, '\n'));
    assert_int_equal(in_child(overflow_grow, line, sizeof(line)), 1);
    assert_true(!strncmp(line, "attn: ", 6));
}

static void check_null(void) { (void)attn_xcheck(NULL); }
static void check_rc(void) { attn_xcheck_rc(-1); }

/* A NULL (or a failure status) from an allocator outside attn (jansson,
 * PCRE2, zstd) dies the same way; anything else passes through. */
static void test_xcheck(void **state)
{
    char line[256];
    int x = 0;
    (void)state;
    assert_ptr_equal(attn_xcheck(&x), &x);
    assert_int_equal(in_child(check_null, line, sizeof(line)), 1);
    assert_string_equal(line, "attn: out of memory\n");
    attn_xcheck_rc(0);
    assert_int_equal(in_child(check_rc, line, sizeof(line)), 1);
    assert_string_equal(line, "attn: out of memory\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_overflow_dies_with_one_line),
        cmocka_unit_test(test_xcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
