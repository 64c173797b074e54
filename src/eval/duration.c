/*
 * duration.c - "<N>[smhd]" durations of eval specs (see duration.h).
 */
#include "eval/duration.h"

#include <stdio.h>

int attn_eval_duration_parse(const char *text, const char *what, int64_t *out, attn_error *err)
{
    const char *p = text;
    int64_t v = 0, mult = 1;

    if (!text || *p < '0' || *p > '9')
        return attn_error_set(err, ATTN_EINVAL,
                              "%s '%s': expected a whole number with an optional unit s, m, h "
                              "or d (e.g. 90, 30m, 48h, 7d)",
                              what, text ? text : "");
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > ATTN_EVAL_DURATION_MAX)
            return attn_error_set(err, ATTN_EINVAL, "%s '%s': longer than 3650 days", what,
                                  text);
    }
    switch (*p) {
    case '\0': mult = 1; p--; break;
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    default:
        return attn_error_set(err, ATTN_EINVAL,
                              "%s '%s': unit must be s, m, h or d (a bare number is seconds)",
                              what, text);
    }
    if (p[1] != '\0')
        return attn_error_set(err, ATTN_EINVAL, "%s '%s': trailing text after the unit", what,
                              text);
    if (v * mult > ATTN_EVAL_DURATION_MAX)
        return attn_error_set(err, ATTN_EINVAL, "%s '%s': longer than 3650 days", what, text);
    *out = v * mult;
    return 0;
}

char *attn_eval_duration_format(int64_t seconds, char buf[ATTN_EVAL_DURATION_BUFSZ])
{
    static const struct { int64_t mult; char unit; } U[] = {
        {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    for (int i = 0; i < 4; i++) {
        if (seconds != 0 && seconds % U[i].mult == 0) {
            snprintf(buf, ATTN_EVAL_DURATION_BUFSZ, "%lld%c", (long long)(seconds / U[i].mult),
                     U[i].unit);
            return buf;
        }
    }
    snprintf(buf, ATTN_EVAL_DURATION_BUFSZ, "%llds", (long long)seconds);
    return buf;
}
