/*
 * alloc.h - one allocation policy for the whole program (git's wrapper.c).
 *
 * attn is a command-line tool: when memory runs out there is nothing useful
 * left to do, and hundreds of ENOMEM branches that no test reaches are worse
 * than none. These wrappers print one line ("attn: out of memory allocating
 * N bytes") and exit with status 1. Sizes are multiplied with an overflow
 * check (attn_st_mult), so a huge count dies the same way instead of
 * allocating a short buffer.
 *
 * New code uses these; older modules are converted as they are touched.
 */
#ifndef ATTN_UTIL_ALLOC_H
#define ATTN_UTIL_ALLOC_H

#include <stddef.h>

void *attn_xmalloc(size_t n);
void *attn_xcalloc(size_t count, size_t size);
void *attn_xrealloc(void *p, size_t n);
char *attn_xstrdup(const char *s);
char *attn_xstrndup(const char *s, size_t n);
/* p, or exit with the same one line when an allocator outside attn
 * (jansson's json_object(), json_deep_copy(), ...) returned NULL for it:
 *     json_t *o = attn_xcheck(json_object());                              */
void *attn_xcheck(void *p);
/* The same for a call that reports failure as a nonzero status and can only
 * fail for want of memory with the arguments given (jansson's
 * json_array_append_new() with a value, json_object_set_new() with a valid
 * key):
 *     attn_xcheck_rc(json_array_append_new(arr, attn_xcheck(json_string(s))));  */
void attn_xcheck_rc(int rc);

/* a * b, or exit with one line when it overflows size_t. */
size_t attn_st_mult(size_t a, size_t b);
/* a + b, likewise. */
size_t attn_st_add(size_t a, size_t b);

/* The growth every array in attn uses: make room for at least n elements in
 * (x, alloc), growing by half again (at least 16), overflow-checked:
 *     ATTN_ALLOC_GROW(v, n + 1, cap); v[n++] = item;                      */
#define ATTN_ALLOC_GROW(x, nr, alloc)                                                  \
    do {                                                                               \
        if ((size_t)(nr) > (alloc)) {                                                  \
            size_t grow_ = attn_st_add((alloc), (alloc) / 2 + 16);                     \
            (alloc) = grow_ < (size_t)(nr) ? (size_t)(nr) : grow_;                     \
            (x) = attn_xrealloc((x), attn_st_mult(sizeof(*(x)), (alloc)));             \
        }                                                                              \
    } while (0)

#endif
