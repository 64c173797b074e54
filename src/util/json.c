/*
 * json.c - jansson helpers and the canonical JSON writer (see json.h).
 */
#include "util/json.h"
#include "util/alloc.h"
#include "util/sha256.h"
#include "util/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put_string(attn_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    attn_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (esc)
            attn_buf_puts(out, esc);
        else
            attn_buf_putc(out, (char)c);
    }
    return attn_buf_putc(out, '"');
}

/*
 * Reals are written like Python's repr: the fewest significant digits that
 * read back to the same double, fixed notation for decimal exponents in
 * [-4, 16), scientific otherwise, and always a '.' or exponent. Matching a
 * well-known rule lets other tools recompute our hashes.
 */
static int put_real(attn_buf *out, double d, attn_error *err)
{
    char tmp[40], best[40], digits[24];
    int prec, lo, hi, exp, nd = 0;
    const char *p;

    if (!isfinite(d))
        return attn_error_set(err, ATTN_EINVAL, "canonical JSON cannot hold NaN or infinity");
    /* The fewest digits, by bisection: the nearest (p+1)-digit decimal is at
     * least as close to d as the nearest p-digit one, so once p digits read
     * back to d every longer form does too, and 17 always does. */
    best[0] = 0;
    for (lo = 1, hi = 17; lo < hi;) {
        prec = (lo + hi) / 2;
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d) {
            hi = prec;
            memcpy(best, tmp, sizeof(best));
        } else {
            lo = prec + 1;
        }
    }
    if (!best[0])
        snprintf(best, sizeof(best), "%.16e", d);
    /* best is [-]D[.DDD]e(+|-)XX: collect the digits and the exponent. */
    p = best;
    if (*p == '-') {
        attn_buf_putc(out, '-');
        p++;
    }
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    exp = atoi(p + 1);
    if (exp < -4 || exp >= 16) {
        int rc = attn_buf_putc(out, digits[0]);
        if (!rc && nd > 1)
            rc = attn_buf_printf(out, ".%s", digits + 1);
        return rc ? rc : attn_buf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    if (exp < 0)
        return attn_buf_printf(out, "0.%.*s%s", -exp - 1, "0000", digits);
    for (int i = 0; i <= exp; i++)
        attn_buf_putc(out, i < nd ? digits[i] : '0');
    return attn_buf_printf(out, ".%s", nd > exp + 1 ? digits + exp + 1 : "0");
}

/* The value printf("%.<digits>g") then strtod give, the slow way. */
static double round_printf(double v, int digits)
{
    char b[48];
    snprintf(b, sizeof(b), "%.*g", digits, v);
    return strtod(b, NULL);
}

/*
 * v rounded to `digits` significant digits exactly as printf then strtod
 * would, mostly without printf: every learned route rounds about a thousand
 * feature values, contributions and scores, and printf was most of the
 * cost. With v's decimal exponent e, the digits are r = the nearest
 * integer to v * 10^(digits - 1 - e), and the result r / 10^k (or r * 10^-k)
 * is one correctly rounded operation on exact doubles (r < 2^53, powers of
 * ten up to 10^22 are exact), which is what strtod returns for the printed
 * decimal. The product carries one rounding error (relative 2^-53, so below
 * 10^digits * 1e-14 absolute); when it lies that close to a tie or to the
 * ends of the digit range, printf decides. test_route_learned compares the
 * two on random values.
 */
double attn_round_sig(double v, int digits)
{
    static const double P10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double a = fabs(v), lo = P10[digits - 1], hi = P10[digits], tol = hi * 1e-14, scaled, fl,
           frac;
    int k;
    if (v == 0 || !isfinite(v))
        return 0;
    if (a < hi && v == floor(v))
        return v;                       /* an integer of at most `digits` digits */
    k = digits - 1 - (int)floor(log10(a));
    if (k < -22 || k > 22)
        return round_printf(v, digits);
    scaled = k >= 0 ? a * P10[k] : a / P10[-k];
    if (!(scaled >= lo + tol && scaled < hi - tol))
        return round_printf(v, digits); /* the exponent is off by one near a power of ten */
    fl = floor(scaled);
    frac = scaled - fl;
    if (fabs(frac - 0.5) < tol)
        return round_printf(v, digits); /* too near a tie to trust the product */
    fl += frac > 0.5;
    a = k >= 0 ? fl / P10[k] : fl * P10[-k];
    return v < 0 ? -a : a;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One writer for both forms: indent < 0 is the canonical compact form;
 * indent >= 0 is the pretty form at that depth (two spaces per level, as
 * jansson's JSON_INDENT(2) lays it out), with the same key order, escapes
 * and shortest round-trip reals, so pretty artifacts and hashes agree. */
static int write_value(const json_t *v, attn_buf *out, int indent, attn_error *err);

static void newline(attn_buf *out, int indent)
{
    if (indent < 0)
        return;
    attn_buf_putc(out, '\n');
    for (int i = 0; i < indent; i++)
        attn_buf_puts(out, "  ");
}

static int write_value(const json_t *v, attn_buf *out, int indent, attn_error *err)
{
    int rc = 0, in = indent < 0 ? -1 : indent + 1;
    switch (json_typeof(v)) {
    case JSON_NULL: return attn_buf_puts(out, "null");
    case JSON_TRUE: return attn_buf_puts(out, "true");
    case JSON_FALSE: return attn_buf_puts(out, "false");
    case JSON_INTEGER:
        return attn_buf_printf(out, "%lld", (long long)json_integer_value(v));
    case JSON_REAL: return put_real(out, json_real_value(v), err);
    case JSON_STRING: return put_string(out, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        size_t i;
        const json_t *x;
        attn_buf_putc(out, '[');
        json_array_foreach(v, i, x) {
            if (i)
                attn_buf_putc(out, ',');
            newline(out, in);
            if ((rc = write_value(x, out, in, err)))
                return rc;
        }
        if (json_array_size(v))
            newline(out, indent);
        return attn_buf_putc(out, ']');
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*keys)));
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof(*keys), cmp_keys);
        attn_buf_putc(out, '{');
        for (i = 0; i < n && !rc; i++) {
            if (i)
                attn_buf_putc(out, ',');
            newline(out, in);
            put_string(out, keys[i], strlen(keys[i]));
            attn_buf_puts(out, indent < 0 ? ":" : ": ");
            rc = write_value(json_object_get(v, keys[i]), out, in, err);
        }
        free(keys);
        if (rc)
            return rc;
        if (n)
            newline(out, indent);
        return attn_buf_putc(out, '}');
    }
    }
    return attn_error_set(err, ATTN_EINVAL, "JSON: unknown value type");
}

int attn_json_canonical(const json_t *v, attn_buf *out, attn_error *err)
{
    return write_value(v, out, -1, err);
}

int attn_json_hash(const json_t *v, char hex[65], attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    int rc = attn_json_canonical(v, &b, err);
    if (!rc && attn_sha256_hex(attn_buf_cstr(&b), b.len, hex) < 0)
        rc = attn_error_set(err, ATTN_EIO, "SHA-256 failed in libcrypto");
    attn_buf_free(&b);
    return rc;
}

int attn_json_load_file(const char *path, json_t **out, attn_error *err)
{
    json_error_t je;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return attn_error_set(err, ATTN_EINVAL, "%s:%d:%d: %s", path, je.line, je.column,
                              je.text);
    return 0;
}

int attn_json_parse(const char *text, size_t len, const char *what, json_t **out,
                    attn_error *err)
{
    json_error_t je;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return attn_error_set(err, ATTN_EINVAL, "malformed JSON in %s at line %d column %d: %s",
                              what, je.line, je.column, je.text);
    return 0;
}

int attn_json_dump_pretty(const json_t *v, attn_buf *out)
{
    attn_error err;
    int rc = write_value(v, out, 0, &err);
    return rc ? rc : attn_buf_putc(out, '\n');
}

const char *attn_json_str(const json_t *obj, const char *key)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t attn_json_i64(const json_t *obj, const char *key, int64_t dflt)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

int attn_json_bool(const json_t *obj, const char *key, int dflt)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int attn_json_time(const json_t *obj, const char *key, int64_t *out, attn_error *err)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = ATTN_NULL_I64;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return attn_error_set(err, ATTN_EINVAL, "field '%s' is not a time string", key);
    if (attn_time_parse(json_string_value(v), out, err) < 0)
        return attn_error_wrap(err, "field '%s'", key);
    return 0;
}
