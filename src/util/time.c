/*
 * time.c - ISO-8601 parsing and formatting to and from epoch seconds.
 *
 * Hand-written rather than strptime/timegm because those accept too much
 * (silently normalising 2023-02-30 to March) and depend on the locale and TZ.
 */
#include "util/time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t attn_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Read exactly n digits at *p; advance. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int bad(attn_error *err, const char *s, const char *why)
{
    return attn_error_set(err, ATTN_EINVAL,
        "invalid instant '%s': %s (expected YYYY-MM-DDTHH:MM:SSZ)", s, why);
}

int attn_time_parse(const char *s, int64_t *out, attn_error *err)
{
    const char *p = s;
    int Y, M, D, h = 0, mi = 0, se = 0, oh, om, sign;
    int64_t t;

    if (!s || !*s)
        return bad(err, s ? s : "", "empty");
    if (digits(&p, 4, &Y) < 0 || *p++ != '-' || digits(&p, 2, &M) < 0 ||
        *p++ != '-' || digits(&p, 2, &D) < 0)
        return bad(err, s, "malformed date");
    if (M < 1 || M > 12)
        return bad(err, s, "month out of range");
    if (D < 1 || (unsigned)D > days_in_month(Y, (unsigned)M))
        return bad(err, s, "day out of range");
    t = attn_days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400;
    if (*p == '\0') {
        *out = t;
        return 0;
    }
    if (*p++ != 'T')
        return bad(err, s, "expected 'T' between date and time");
    if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0 ||
        *p++ != ':' || digits(&p, 2, &se) < 0)
        return bad(err, s, "malformed time");
    if (h > 23 || mi > 59 || se > 59)
        return bad(err, s, "time out of range");
    if (*p == '.' || *p == ',') {
        p++;
        if (!isdigit((unsigned char)*p))
            return bad(err, s, "empty fraction");
        while (isdigit((unsigned char)*p))
            p++; /* fraction truncated: the instant is within this second */
    }
    if (*p == 'Z') {
        p++;
        oh = om = 0;
        sign = 1;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '+' ? 1 : -1;
        if (digits(&p, 2, &oh) < 0)
            return bad(err, s, "malformed zone offset");
        if (*p == ':')
            p++;
        if (digits(&p, 2, &om) < 0)
            return bad(err, s, "malformed zone offset");
        if (oh > 23 || om > 59)
            return bad(err, s, "zone offset out of range");
    } else {
        return bad(err, s, *p ? "unexpected text after time" : "missing zone (add Z)");
    }
    if (*p != '\0')
        return bad(err, s, "trailing text");
    t += (int64_t)h * 3600 + mi * 60 + se;
    t -= sign * ((int64_t)oh * 3600 + om * 60);
    *out = t;
    return 0;
}

char *attn_time_format(int64_t t, char *buf)
{
    int64_t days = t / 86400, rem = t % 86400, y;
    unsigned m, d;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, ATTN_TIME_BUFSZ, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    return buf;
}

int attn_duration_parse(const char *s, int64_t *out, attn_error *err)
{
    const char *p = s;
    int64_t v = 0, mult;

    if (!s || !isdigit((unsigned char)*p))
        return attn_error_set(err, ATTN_EINVAL,
            "invalid duration '%s': expected a number and a unit s, m, h, d or w (e.g. 48h)",
            s ? s : "");
    while (isdigit((unsigned char)*p)) {
        if (v > INT64_MAX / 10 / 604800)
            return attn_error_set(err, ATTN_EINVAL, "invalid duration '%s': too large", s);
        v = v * 10 + (*p++ - '0');
    }
    switch (*p) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 604800; break;
    default:
        return attn_error_set(err, ATTN_EINVAL,
            "invalid duration '%s': unit must be s, m, h, d or w", s);
    }
    if (p[1] != '\0')
        return attn_error_set(err, ATTN_EINVAL, "invalid duration '%s': trailing text", s);
    *out = v * mult;
    return 0;
}
