/*
 * alloc.c - allocation that succeeds or ends the process (see alloc.h).
 *
 * Owns: the out-of-memory message and exit status. Must never: return NULL.
 */
#include "util/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_nomem(size_t n)
{
    fprintf(stderr, "attn: out of memory allocating %zu bytes\n", n);
    exit(1);
}

void *attn_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_nomem(n);
    return p;
}

void *attn_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        die_nomem(attn_st_mult(count, size));
    return p;
}

void *attn_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_nomem(n);
    return q;
}

void *attn_xcheck(void *p)
{
    if (!p) {
        fprintf(stderr, "attn: out of memory\n");
        exit(1);
    }
    return p;
}

void attn_xcheck_rc(int rc)
{
    if (rc)
        attn_xcheck(NULL);
}

char *attn_xstrndup(const char *s, size_t n)
{
    char *d = attn_xmalloc(attn_st_add(n, 1));
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *attn_xstrdup(const char *s)
{
    return attn_xstrndup(s, strlen(s));
}

size_t attn_st_mult(size_t a, size_t b)
{
    if (b && a > SIZE_MAX / b) {
        fprintf(stderr, "attn: size overflow: %zu * %zu\n", a, b);
        exit(1);
    }
    return a * b;
}

size_t attn_st_add(size_t a, size_t b)
{
    if (a > SIZE_MAX - b) {
        fprintf(stderr, "attn: size overflow: %zu + %zu\n", a, b);
        exit(1);
    }
    return a + b;
}
