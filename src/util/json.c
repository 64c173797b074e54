/*
 * json.c - jansson helpers and the canonical JSON writer (see json.h).
 */
#include "util/json.h"
#include "util/alloc.h"
#include "util/sha256.h"
#include "util/time.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The writer appends through room(): one capacity check per piece instead
 * of a call per byte, and the terminating NUL is written once at the end
 * (attn_json_canonical, attn_json_dump_pretty). Profile: the canonical form
 * of a run's routes and snapshots was an eighth of an evaluation, mostly
 * attn_buf calls and a byte-by-byte scan of strings.
 */
static inline char *room(attn_buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap)
        attn_buf_grow(b, n);
    return b->ptr + b->len;
}

static inline void put_raw(attn_buf *b, const char *s, size_t n)
{
    memcpy(room(b, n), s, n);
    b->len += n;
}

static inline void put_ch(attn_buf *b, char c)
{
    *room(b, 1) = c;
    b->len++;
}

static void terminate(attn_buf *b)
{
    *room(b, 0) = '\0';
}

/* Does the byte need an escape in a JSON string? */
static inline int needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/* The length of s's longest prefix with no byte to escape. Eight bytes at a
 * time: a word is skipped when none of its bytes is below 0x20, a quote or
 * a backslash (the usual has-zero-byte test on x - 0x20.., x ^ '"'.. and
 * x ^ '\\'..; it can flag a clean word after a borrow, never miss a byte,
 * and a flagged word is rescanned byte by byte). */
static size_t plain_prefix(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x, q, b;
        memcpy(&x, s + i, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
            break;
    }
    while (i < len && !needs_escape((unsigned char)s[i]))
        i++;
    return i;
}

static void put_string(attn_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = plain_prefix(s, len);
    char *p = room(out, i + 2);
    *p = '"';
    memcpy(p + 1, s, i);
    out->len += i + 1;
    while (i < len) {   /* s[i] needs an escape */
        unsigned char c = (unsigned char)s[i++];
        size_t run;
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
        case '"': put_raw(out, "\\\"", 2); break;
        case '\\': put_raw(out, "\\\\", 2); break;
        case '\b': put_raw(out, "\\b", 2); break;
        case '\f': put_raw(out, "\\f", 2); break;
        case '\n': put_raw(out, "\\n", 2); break;
        case '\r': put_raw(out, "\\r", 2); break;
        case '\t': put_raw(out, "\\t", 2); break;
        default: put_raw(out, u, sizeof(u));
        }
        run = plain_prefix(s + i, len - i);
        put_raw(out, s + i, run);
        i += run;
    }
    put_ch(out, '"');
}

/*
 * Reals are written like Python's repr: the fewest significant digits that
 * read back to the same double, fixed notation for decimal exponents in
 * [-4, 16), scientific otherwise, and always a '.' or exponent. Matching a
 * well-known rule lets other tools recompute our hashes.
 */
/* nd significant digits (no trailing zeros) times 10^exp, laid out as
 * described above. */
static void put_digits(attn_buf *out, const char *digits, int nd, int exp)
{
    if (exp < -4 || exp >= 16) {
        int e = exp < 0 ? -exp : exp;
        char tail[8] = {'e', exp < 0 ? '-' : '+'}, *t = tail + 2;
        put_ch(out, digits[0]);
        if (nd > 1) {
            put_ch(out, '.');
            put_raw(out, digits + 1, (size_t)nd - 1);
        }
        if (e >= 100)
            *t++ = (char)('0' + e / 100);
        *t++ = (char)('0' + e / 10 % 10);
        *t++ = (char)('0' + e % 10);
        put_raw(out, tail, (size_t)(t - tail));
        return;
    }
    if (exp < 0) {
        put_raw(out, "0.0000", (size_t)(1 - exp));
        put_raw(out, digits, (size_t)nd);
        return;
    }
    if (nd > exp + 1) {
        put_raw(out, digits, (size_t)exp + 1);
        put_ch(out, '.');
        put_raw(out, digits + exp + 1, (size_t)(nd - exp - 1));
        return;
    }
    put_raw(out, digits, (size_t)nd);
    for (int i = nd; i <= exp; i++)
        put_ch(out, '0');
    put_raw(out, ".0", 2);
}

/*
 * The fast path for most reals (a score rounded to 6 or 12 digits, a
 * fraction of small integers): on the decimal grids 10^-s, coarsest first,
 * a grid point m reads back to d exactly when (double)m / 10^s (or
 * * 10^-s) == |d|, since with m < 2^53 and 10^|s| exact that is one
 * correctly rounded operation, as strtod is. Such an m is within
 * m * 2.3e-16 < 0.25 of x = |d| * 10^s as computed (two roundings, x <
 * 1e15), so only the integer nearest to x can be one, and only when x is
 * that close to it: most grids cost no division. Up to 15 digits the grid is
 * coarser than d's rounding interval, so at most one point reads back, and
 * when one does so does the nearest: the same digits the bisection below
 * finds. At a power of two the interval is lopsided (half as wide below),
 * which changes nothing: a 15-digit grid step is over four ulps, so still at
 * most one point reads back, and a nearer one would be within an ulp of it
 * (profile: scores of 0.5 and 1.0 were a third of the bisections).
 * Subnormals take the bisection. Writes the digits (no trailing zeros) and
 * returns the decimal exponent; INT_MIN when the fast path does not apply,
 * INT_MAX when it ran out of grids: then no 15-digit form reads back, so 16
 * or 17 do.
 */
static int shortest_fast(double a, char *digits, int *nd)
{
    static const double P10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int s0;
    if (!(a >= DBL_MIN) || a > 1e300)
        return INT_MIN;
    s0 = -(int)floor(log10(a)) - 1;       /* one digit or none on grid s0 */
    for (int s = s0; s <= s0 + 16; s++) {
        double x, p, near;
        if (s < -22 || s > 22)
            return INT_MIN;
        p = P10[s < 0 ? -s : s];
        x = s < 0 ? a / p : a * p;
        if (x >= 1e15)
            return INT_MAX;
        near = nearbyint(x);
        if (fabs(x - near) <= 0.25) {
            double m = near;
            unsigned long long v;
            int n = 0, exp;
            char tmp[24];
            if (m < 1 || (s < 0 ? m * p : m / p) != a)
                continue;
            for (v = (unsigned long long)m; v % 10 == 0; v /= 10)
                ;
            for (unsigned long long w = (unsigned long long)m; w; w /= 10)
                n++;                        /* digits of m */
            exp = n - 1 - s;
            n = 0;
            for (; v; v /= 10)
                tmp[n++] = (char)('0' + v % 10);
            for (int i = 0; i < n; i++)
                digits[i] = tmp[n - 1 - i];
            digits[n] = '\0';
            *nd = n;
            return exp;
        }
    }
    return INT_MIN;
}

static int put_real(attn_buf *out, double d, attn_error *err)
{
    char tmp[40], best[40], digits[24];
    int prec, lo, hi, exp, nd = 0;
    const char *p;

    if (!isfinite(d))
        return attn_error_set(err, ATTN_EINVAL, "canonical JSON cannot hold NaN or infinity");
    if (d == 0)   /* common in features; the fast path below starts at DBL_MIN */
    {
        if (signbit(d))
            put_ch(out, '-');
        put_raw(out, "0.0", 3);
        return 0;
    }
    lo = 1;
    if ((exp = shortest_fast(fabs(d), digits, &nd)) == INT_MAX) {
        lo = 16;
    } else if (exp != INT_MIN) {
        if (signbit(d))
            put_ch(out, '-');
        put_digits(out, digits, nd, exp);
        return 0;
    }
    /* The fewest digits, by bisection: the nearest (p+1)-digit decimal is at
     * least as close to d as the nearest p-digit one, so once p digits read
     * back to d every longer form does too, and 17 always does. */
    best[0] = 0;
    for (hi = 17; lo < hi;) {
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
        put_ch(out, '-');
        p++;
    }
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    put_digits(out, digits, nd, atoi(p + 1));
    return 0;
}

typedef struct {
    const char *key;
    size_t klen;
    const json_t *value;
} member;

static int cmp_members(const void *a, const void *b)
{
    return strcmp(((const member *)a)->key, ((const member *)b)->key);
}

/* One writer for both forms: indent < 0 is the canonical compact form;
 * indent >= 0 is the pretty form at that depth (two spaces per level, as
 * jansson's JSON_INDENT(2) lays it out), with the same key order, escapes
 * and shortest round-trip reals, so pretty artifacts and hashes agree. */
static int write_value(const json_t *v, attn_buf *out, int indent, attn_error *err);

static inline void newline(attn_buf *out, int indent)
{
    if (indent < 0)
        return;
    put_ch(out, '\n');
    for (int i = 0; i < indent; i++)
        put_raw(out, "  ", 2);
}

static int write_value(const json_t *v, attn_buf *out, int indent, attn_error *err)
{
    int rc = 0, in = indent < 0 ? -1 : indent + 1;
    switch (json_typeof(v)) {
    case JSON_NULL: put_raw(out, "null", 4); return 0;
    case JSON_TRUE: put_raw(out, "true", 4); return 0;
    case JSON_FALSE: put_raw(out, "false", 5); return 0;
    case JSON_INTEGER: {
        /* by hand: printf was a tenth of writing a route (profile) */
        long long x = (long long)json_integer_value(v);
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        char tmp[24], *p = tmp + sizeof(tmp);
        do
            *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (x < 0)
            *--p = '-';
        put_raw(out, p, (size_t)(tmp + sizeof(tmp) - p));
        return 0;
    }
    case JSON_REAL: return put_real(out, json_real_value(v), err);
    case JSON_STRING: put_string(out, json_string_value(v), json_string_length(v)); return 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        put_ch(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                put_ch(out, ',');
            newline(out, in);
            if ((rc = write_value(json_array_get(v, i), out, in, err)))
                return rc;
        }
        if (n)
            newline(out, indent);
        put_ch(out, ']');
        return 0;
    }
    case JSON_OBJECT: {
        /* the members sorted by key, each with its value (no lookup again) */
        size_t n = json_object_size(v), i = 0;
        member small[16];
        member *ms = n <= 16 ? small : attn_xmalloc(attn_st_mult(n, sizeof(*ms)));
        for (void *it = json_object_iter((json_t *)v); it && i < n;
             it = json_object_iter_next((json_t *)v, it)) {
            ms[i].key = json_object_iter_key(it);
            ms[i].klen = json_object_iter_key_len(it);
            ms[i++].value = json_object_iter_value(it);
        }
        n = i;
        if (n <= 16) {
            /* most objects are small: insertion sort, no call per compare */
            for (size_t a = 1; a < n; a++) {
                member t = ms[a];
                size_t b = a;
                for (; b > 0 && strcmp(ms[b - 1].key, t.key) > 0; b--)
                    ms[b] = ms[b - 1];
                ms[b] = t;
            }
        } else {
            qsort(ms, n, sizeof(*ms), cmp_members);
        }
        put_ch(out, '{');
        for (i = 0; i < n && !rc; i++) {
            if (i)
                put_ch(out, ',');
            newline(out, in);
            put_string(out, ms[i].key, ms[i].klen);
            put_raw(out, ": ", indent < 0 ? 1 : 2);
            rc = write_value(ms[i].value, out, in, err);
        }
        if (ms != small)
            free(ms);
        if (rc)
            return rc;
        if (n)
            newline(out, indent);
        put_ch(out, '}');
        return 0;
    }
    }
    return attn_error_set(err, ATTN_EINVAL, "JSON: unknown value type");
}

int attn_json_canonical(const json_t *v, attn_buf *out, attn_error *err)
{
    int rc = write_value(v, out, -1, err);
    terminate(out);
    return rc;
}

void attn_json_put_string(attn_buf *out, const char *s, size_t len)
{
    put_string(out, s, len);
    terminate(out);
}

int attn_json_put_real(attn_buf *out, double d, attn_error *err)
{
    int rc = put_real(out, d, err);
    terminate(out);
    return rc;
}

void attn_json_put_decimal(attn_buf *out, int neg, uint64_t mant, int k)
{
    char tmp[24], digits[24];
    int n = 0, nd = 0, all;
    for (; mant % 10 == 0 && mant; mant /= 10, k--)
        ;
    for (; mant; mant /= 10)
        tmp[n++] = (char)('0' + mant % 10);
    for (all = n; nd < n; nd++)
        digits[nd] = tmp[n - 1 - nd];
    digits[nd] = '\0';
    if (neg)
        put_ch(out, '-');
    put_digits(out, digits, nd, all - 1 - k);
    terminate(out);
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

json_t *attn_json_obj(const char *key, ...)
{
    json_t *o = attn_xcheck(json_object());
    va_list ap;
    va_start(ap, key);
    for (const char *k = key; k; k = va_arg(ap, const char *))
        attn_xcheck_rc(json_object_set_new_nocheck(o, k, attn_xcheck(va_arg(ap, json_t *))));
    va_end(ap);
    return o;
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
    if (!rc)
        put_ch(out, '\n');
    terminate(out);
    return rc;
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

int attn_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!s)
        return 0;
    while (*p) {
        unsigned c = *p, n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3, cp = c & 0x07;
        else
            return 0;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}
