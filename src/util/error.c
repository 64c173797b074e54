/*
 * error.c - the explicit error slot (see error.h).
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A message is one line whatever it quotes: a newline or other control byte
 * taken from a config file, a JSON body or a path would split it, or drive
 * the terminal. Each one becomes a visible escape (\n, \t, \xNN); what does
 * not fit is cut. */
static void one_line(char *msg, size_t cap)
{
    char out[sizeof(((attn_error *)0)->msg)];
    size_t o = 0;
    int changed = 0;

    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 1 < sizeof(out); p++) {
        char esc[5];
        size_t n;
        if (*p >= 0x20 && *p != 0x7f) {
            out[o++] = (char)*p;
            continue;
        }
        changed = 1;
        if (*p == '\n')
            n = (size_t)snprintf(esc, sizeof esc, "\\n");
        else if (*p == '\t')
            n = (size_t)snprintf(esc, sizeof esc, "\\t");
        else if (*p == '\r')
            n = (size_t)snprintf(esc, sizeof esc, "\\r");
        else
            n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
        if (o + n + 1 > sizeof(out))
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    if (!changed)
        return;
    out[o] = '\0';
    if (o >= cap)
        o = cap - 1;
    memcpy(msg, out, o);
    msg[o] = '\0';
}

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
        one_line(err->msg, sizeof(err->msg));
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
    one_line(err->msg, sizeof(err->msg));
    return err->code;
}

int attn_error_exit_status(int code)
{
    return code == ATTN_EINVAL ? 2 : 1;
}
