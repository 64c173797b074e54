/*
 * testutil.h - includes and small helpers for cmocka unit tests.
 */
#ifndef ATTN_TESTUTIL_H
#define ATTN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A fresh scratch directory for a test (removed by the caller with rm_rf). */
static inline char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/attn-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

/* Path of a file under the source tree's tests/data (ATTN_ROOT or cwd). */
static inline void test_data_path(const char *name, char *out, size_t cap)
{
    const char *root = getenv("ATTN_ROOT");
    snprintf(out, cap, "%s/tests/data/%s", root ? root : ".", name);
}

#endif
