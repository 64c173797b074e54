/*
 * error.c - the explicit error slot (see error.h).
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void attn_error_clear(attn_error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

int attn_error_set(attn_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int attn_error_wrap(attn_error *err, const char *fmt, ...)
{
    char old[sizeof(err->msg)];
    va_list ap;
    int n;

    if (!err)
        return ATTN_EINVAL;
    memcpy(old, err->msg, sizeof(old));
    va_start(ap, fmt);
    n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    /* Append ": <old>" in whatever room is left; truncation is acceptable. */
    if (n >= 0 && (size_t)n < sizeof(err->msg) - 2) {
        size_t room = sizeof(err->msg) - (size_t)n;
        err->msg[n] = ':';
        err->msg[n + 1] = ' ';
        strncpy(err->msg + n + 2, old, room - 3);
        err->msg[sizeof(err->msg) - 1] = '\0';
    }
    return err->code;
}

int attn_error_exit_status(int code)
{
    return code == ATTN_EINVAL ? 2 : 1;
}
