/* fuzz_text.h - a fuzz input as a NUL-terminated string (the parsers under
 * test take C strings; an embedded NUL just ends the text early). */
#ifndef ATTN_FUZZ_TEXT_H
#define ATTN_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
