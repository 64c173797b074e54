/*
 * safe.c - terminal-safe text (see safe.h).
 */
#include "util/safe.h"

#include <stdio.h>

char *attn_safe_text(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    if (!cap)
        return out;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            if (n + 5 > cap)
                break;
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", *p);
        } else {
            if (n + 2 > cap)
                break;
            out[n++] = (char)*p;
        }
    }
    out[n] = 0;
    return out;
}
