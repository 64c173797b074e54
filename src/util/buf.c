/*
 * buf.c - growable byte buffer (see buf.h). Memory comes from util/alloc.h:
 * running out ends the process, so appending never fails.
 */
#include "util/buf.h"
#include "util/alloc.h"
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int attn_buf_grow(attn_buf *b, size_t extra)
{
    size_t need = attn_st_add(attn_st_add(b->len, extra), 1), cap;

    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = attn_st_mult(cap, 2);
    b->ptr = attn_xrealloc(b->ptr, cap);
    b->cap = cap;
    return 0;
}

int attn_buf_put(attn_buf *b, const void *data, size_t len)
{
    attn_buf_grow(b, len);
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

int attn_buf_puts(attn_buf *b, const char *s)
{
    return attn_buf_put(b, s, strlen(s));
}

int attn_buf_putc(attn_buf *b, char c)
{
    if (b->len + 2 > b->cap)
        attn_buf_grow(b, 1);
    b->ptr[b->len++] = c;
    b->ptr[b->len] = '\0';
    return 0;
}

int attn_buf_printf(attn_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    /* one pass when the text fits the room left, a second after growing */
    va_start(ap, fmt);
    n = vsnprintf(b->ptr ? b->ptr + b->len : NULL, b->ptr ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) { /* an encoding error, not memory */
        if (b->ptr)
            b->ptr[b->len] = '\0';
        return ATTN_EINVAL;
    }
    if (b->ptr && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return 0;
    }
    attn_buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void attn_buf_clear(attn_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

char *attn_buf_detach(attn_buf *b)
{
    char *p = b->ptr;
    if (!p)
        p = attn_xcalloc(1, 1);
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *attn_buf_cstr(const attn_buf *b)
{
    return b->ptr ? b->ptr : "";
}

void attn_buf_free(attn_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}
