/*
 * buf.h - growable byte buffer, always NUL-terminated.
 *
 * Appending never fails for want of memory (util/alloc.h ends the process):
 * the functions return 0, and attn_buf_printf ATTN_EINVAL only when the C
 * library cannot encode its arguments. New code need not check them.
 */
#ifndef ATTN_UTIL_BUF_H
#define ATTN_UTIL_BUF_H

#include <stddef.h>

typedef struct attn_buf {
    char *ptr;   /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
} attn_buf;

#define ATTN_BUF_INIT { NULL, 0, 0 }

int attn_buf_grow(attn_buf *b, size_t extra);          /* ensure room for extra bytes */
int attn_buf_put(attn_buf *b, const void *data, size_t len);
int attn_buf_puts(attn_buf *b, const char *s);
int attn_buf_putc(attn_buf *b, char c);
int attn_buf_printf(attn_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void attn_buf_clear(attn_buf *b);                      /* len = 0, keeps memory */
char *attn_buf_detach(attn_buf *b);                    /* caller frees; buffer reset */
const char *attn_buf_cstr(const attn_buf *b);          /* "" when empty */
void attn_buf_free(attn_buf *b);

#endif
