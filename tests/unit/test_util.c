/*
 * test_util.c - util/: ISO-8601 (data-driven, tests/data/time_cases.txt),
 * durations, canonical JSON and its hash, path safety, atomic writes, buffers.
 */
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/num.h"
#include "util/path.h"
#include "util/sha256.h"
#include "util/sort.h"
#include "util/time.h"

static void test_time_cases(void **state)
{
    char path[1024], line[512];
    int n = 0;
    (void)state;
    test_data_path("time_cases.txt", path, sizeof(path));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *tab, *nl = strchr(line, '\n');
        attn_error err;
        int64_t t = 42;
        int rc;
        if (nl)
            *nl = '\0';
        if (line[0] == '#' || !(tab = strchr(line, '\t')))
            continue;
        *tab = '\0';
        attn_error_clear(&err);
        rc = attn_time_parse(line, &t, &err);
        if (!strncmp(tab + 1, "ERR ", 4)) {
            if (rc != ATTN_EINVAL || !strstr(err.msg, tab + 5) || !strstr(err.msg, line))
                fail_msg("'%s': want error containing '%s', got rc=%d msg='%s'", line, tab + 5,
                         rc, err.msg);
        } else {
            if (rc != 0 || t != strtoll(tab + 1, NULL, 10))
                fail_msg("'%s': want %s, got rc=%d t=%lld (%s)", line, tab + 1, rc,
                         (long long)t, err.msg);
        }
        n++;
    }
    fclose(f);
    assert_true(n >= 40);
}

static void test_time_format_roundtrip(void **state)
{
    char buf[ATTN_TIME_BUFSZ];
    attn_error err;
    int64_t back;
    static const int64_t samples[] = {0, -1, 951782400 /* 2000-02-29 */, 1709208000,
                                      253402300799LL, -62135596800LL, 86399, -86400};
    (void)state;
    assert_string_equal(attn_time_format(0, buf), "1970-01-01T00:00:00Z");
    assert_string_equal(attn_time_format(-1, buf), "1969-12-31T23:59:59Z");
    assert_string_equal(attn_time_format(1709208000, buf), "2024-02-29T12:00:00Z");
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        attn_time_format(samples[i], buf);
        assert_int_equal(attn_time_parse(buf, &back, &err), 0);
        assert_int_equal(back, samples[i]);
    }
    /* Every day across a leap cycle survives a round trip. */
    for (int64_t t = 946684800; t < 946684800 + 4 * 366 * 86400LL; t += 86400 + 3601) {
        attn_time_format(t, buf);
        assert_int_equal(attn_time_parse(buf, &back, &err), 0);
        assert_int_equal(back, t);
    }
}

static void test_duration(void **state)
{
    attn_error err;
    int64_t d;
    (void)state;
    assert_int_equal(attn_duration_parse("48h", &d, &err), 0);
    assert_int_equal(d, 172800);
    assert_int_equal(attn_duration_parse("60m", &d, &err), 0);
    assert_int_equal(d, 3600);
    assert_int_equal(attn_duration_parse("30d", &d, &err), 0);
    assert_int_equal(d, 2592000);
    assert_int_equal(attn_duration_parse("0s", &d, &err), 0);
    assert_int_equal(d, 0);
    assert_int_equal(attn_duration_parse("2w", &d, &err), 0);
    assert_int_equal(d, 1209600);
    assert_int_equal(attn_duration_parse("48", &d, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "'48'"));
    assert_int_equal(attn_duration_parse("h", &d, &err), ATTN_EINVAL);
    assert_int_equal(attn_duration_parse("-5h", &d, &err), ATTN_EINVAL);
    assert_int_equal(attn_duration_parse("5hx", &d, &err), ATTN_EINVAL);
    assert_int_equal(attn_duration_parse("99999999999999999999d", &d, &err), ATTN_EINVAL);
}

static char *canon(const char *text)
{
    json_t *v;
    attn_error err;
    attn_buf b = ATTN_BUF_INIT;
    assert_int_equal(attn_json_parse(text, strlen(text), "test", &v, &err), 0);
    assert_int_equal(attn_json_canonical(v, &b, &err), 0);
    json_decref(v);
    return attn_buf_detach(&b);
}

static void test_canonical_json(void **state)
{
    static const char *cases[][2] = {
        {"{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}"},
        {" { \"a\" : [ 1 , 2 ] } ", "{\"a\":[1,2]}"},
        {"{\"x\":{\"d\":null,\"c\":{\"b\":true,\"a\":false}}}",
         "{\"x\":{\"c\":{\"a\":false,\"b\":true},\"d\":null}}"},
        /* Expected strings are Python's repr() of the same doubles. */
        {"[0.1, 2.5, 1.0, 1e22, -0.0, 100.0, 1e-7]", "[0.1,2.5,1.0,1e+22,-0.0,100.0,1e-07]"},
        {"[0.0, -0.0, 0e5, 5e-324, -5e-324]", "[0.0,-0.0,0.0,5e-324,-5e-324]"},
        {"[1e16, 1e15, 0.0001, 0.00012345, 123.456, 1.5e-10, 5e-324, 0.30000000000000004]",
         "[1e+16,1000000000000000.0,0.0001,0.00012345,123.456,1.5e-10,5e-324,0.30000000000000004]"},
        {"[-1234.5, 1.7976931348623157e308, 12345678901234567890.0]",
         "[-1234.5,1.7976931348623157e+308,1.2345678901234567e+19]"},
        {"[\"plain text, then \\\"quotes\\\" and a tab\\t at the end\\u0002\"]",
         "[\"plain text, then \\\"quotes\\\" and a tab\\t at the end\\u0002\"]"},
        {"[\"\\u00e9\", \"a\\\"b\\\\c\", \"\\n\\t\\u0001\\u001f\", \"\\/\"]",
         "[\"\xc3\xa9\",\"a\\\"b\\\\c\",\"\\n\\t\\u0001\\u001f\",\"/\"]"},
        {"{\"B\":1,\"a\":2,\"_\":3}", "{\"B\":1,\"_\":3,\"a\":2}"}, /* byte order */
        /* more keys than the writer sorts in place */
        {"{\"kt\":0,\"ks\":1,\"kr\":2,\"kq\":3,\"kp\":4,\"ko\":5,\"kn\":6,\"km\":7,\"kl\":8,\"kk\":9,\"kj\":10,\"ki\":11,\"kh\":12,\"kg\":13,\"kf\":14,\"ke\":15,\"kd\":16,\"kc\":17,\"kb\":18,\"ka\":19}",
         "{\"ka\":19,\"kb\":18,\"kc\":17,\"kd\":16,\"ke\":15,\"kf\":14,\"kg\":13,\"kh\":12,\"ki\":11,\"kj\":10,\"kk\":9,\"kl\":8,\"km\":7,\"kn\":6,\"ko\":5,\"kp\":4,\"kq\":3,\"kr\":2,\"ks\":1,\"kt\":0}"},
        {"[]", "[]"},
        {"{}", "{}"},
        {"[-9223372036854775808]", "[-9223372036854775808]"},
        {"[0, -1, 7, 10, -10, 9223372036854775807, {\"n\": -42}]",
         "[0,-1,7,10,-10,9223372036854775807,{\"n\":-42}]"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = canon(cases[i][0]);
        if (strcmp(got, cases[i][1]))
            fail_msg("case %zu: want %s got %s", i, cases[i][1], got);
        free(got);
    }
}

/* The canonical writer scans strings eight bytes at a time; check it against
 * a byte-by-byte escaper on random strings of every length up to 40 (the
 * word loop and its tail) drawn from bytes around each escape rule: control
 * bytes, '"' and '\\' (escaped), and 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80,
 * 0xff and letters (copied). A borrow across bytes must never hide one. */
static void test_canonical_string_escapes(void **state)
{
    static const unsigned char pool[] = {0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, '"',
                                         '\\', 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xff, 'a',
                                         'z', '0'};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    (void)state;
    for (int i = 0; i < 20000; i++) {
        unsigned char s[40];
        size_t len = (size_t)(i % 41);
        attn_buf want = ATTN_BUF_INIT, got = ATTN_BUF_INIT;
        attn_error err;
        json_t *v;
        for (size_t j = 0; j < len; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* mostly plain bytes, so whole words pass the fast test */
            s[j] = (x >> 8) % 4 ? (unsigned char)('a' + x % 26) : pool[(x >> 16) % sizeof(pool)];
        }
        attn_buf_putc(&want, '"');
        for (size_t j = 0; j < len; j++) {
            unsigned char c = s[j];
            if (c == '"' || c == '\\')
                attn_buf_printf(&want, "\\%c", c);
            else if (c == '\n')
                attn_buf_puts(&want, "\\n");
            else if (c == '\t')
                attn_buf_puts(&want, "\\t");
            else if (c == '\r')
                attn_buf_puts(&want, "\\r");
            else if (c == '\b')
                attn_buf_puts(&want, "\\b");
            else if (c == '\f')
                attn_buf_puts(&want, "\\f");
            else if (c < 0x20)
                attn_buf_printf(&want, "\\u%04x", c);
            else
                attn_buf_putc(&want, (char)c);
        }
        attn_buf_putc(&want, '"');
        /* the writer takes any bytes; jansson's check is for text from outside */
        assert_non_null(v = json_stringn_nocheck((const char *)s, len));
        assert_int_equal(attn_json_canonical(v, &got, &err), 0);
        json_decref(v);
        assert_int_equal(got.len, want.len);
        if (memcmp(got.ptr, want.ptr, want.len) || got.ptr[got.len] != '\0')
            fail_msg("case %d (%zu bytes): want %s got %s", i, len, want.ptr, got.ptr);
        attn_buf_free(&want);
        attn_buf_free(&got);
    }
}

/* attn_json_obj builds what json_pack builds from the same pairs. */
static void test_json_obj(void **state)
{
    json_t *a, *b;
    (void)state;
    a = attn_json_obj("n", json_integer(7), "s", json_string("x"), "in",
                      attn_json_obj("r", json_real(0.5), NULL), "empty", attn_json_obj(NULL),
                      NULL);
    b = json_pack("{s:I, s:s, s:{s:f}, s:{}}", "n", (json_int_t)7, "s", "x", "in", "r", 0.5,
                  "empty");
    assert_non_null(b);
    assert_true(json_equal(a, b));
    assert_int_equal(json_object_size(a), 4);
    json_decref(a);
    json_decref(b);
}

/* The significant digits of a decimal text ("-0.00120e+05" -> "12"). */
static void sig_digits(const char *t, char *out, size_t cap)
{
    size_t n = 0;
    for (; *t && *t != 'e' && n + 1 < cap; t++)
        if (*t >= '0' && *t <= '9' && (n || *t != '0'))
            out[n++] = *t;
    while (n > 1 && out[n - 1] == '0')
        n--;
    out[n] = 0;
}

/* The canonical writer bisects for the fewest digits that read back; check
 * it against the plain scan over every precision, for doubles from random
 * bits and for values with 1..17 significant digits (as router scores are). */
static void test_canonical_real_shortest(void **state)
{
    uint64_t x = 88172645463325252u;
    (void)state;
    for (int i = 0; i < 120000; i++) {
        double d;
        char slow[40], want[40], have[40], *got;
        json_t *v;
        attn_error err;
        attn_buf b = ATTN_BUF_INIT;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* the writer has a fast path for short decimals and takes the
         * bisection for the rest: feed it both, and the edges between */
        switch (i % 6) {
        case 0: /* any bits */
            memcpy(&d, &x, sizeof(d));
            break;
        case 1: /* 1..17 significant digits */
            snprintf(slow, sizeof(slow), "%.*e", (int)(x % 17), (double)(x >> 11) / 1e9);
            d = strtod(slow, NULL);
            break;
        case 2: /* a float widened, as XGBoost's outputs are */
            d = (double)(float)((double)(x >> 11) / (double)(1ull << (x % 60)));
            break;
        case 3: /* a ratio of small integers, as shares and rates are */
            d = (double)(x % 100000) / (double)((x >> 20) % 997 + 1);
            break;
        case 4: /* powers of two and ten, and their neighbours */
            d = ldexp(1.0, (int)(x % 2000) - 1000);
            if (x & 1)
                d = pow(10.0, (double)((int)((x >> 1) % 600) - 300));
            d = nextafter(d, (x & 2) ? 0.0 : 1e308);
            if (x & 4)
                d = nextafter(d, (x & 2) ? 1e308 : 0.0);
            break;
        default: /* 15 and 16 digits: the fast path's edge */
            snprintf(slow, sizeof(slow), "%.*e", 14 + (int)(x % 2), (double)(x >> 11) / 1e9);
            d = strtod(slow, NULL);
        }
        if (x & 8)
            d = -d;
        if (!isfinite(d) || d == 0)
            continue;
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(slow, sizeof(slow), "%.*e", prec - 1, d);
            if (strtod(slow, NULL) == d)
                break;
        }
        assert_non_null(v = json_real(d));
        assert_int_equal(attn_json_canonical(v, &b, &err), 0);
        json_decref(v);
        got = attn_buf_detach(&b);
        sig_digits(slow, want, sizeof(want));
        sig_digits(got, have, sizeof(have));
        if (strtod(got, NULL) != d || strcmp(want, have))
            fail_msg("%.17g: wrote %s, the scan gives %s", d, got, slow);
        free(got);
    }
}

/* attn_round_sig is printf("%.<d>g") then strtod, bit for bit, zeros' signs
 * included: scores, evidence and features are rounded with it. */
static void test_round_sig_equals_printf(void **state)
{
    uint64_t x = 0x2545F4914F6CDD1Dull;
    (void)state;
    for (int i = 0; i < 300000; i++) {
        double v, want, got;
        float f;
        uint32_t fb;
        char b[48];
        int digits = (i % 3 == 0) ? 12 : (i % 3 == 1) ? 6 : 1 + (int)(x % 17);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        fb = (uint32_t)x;
        switch (i % 5) {
        case 0: memcpy(&f, &fb, sizeof(f)); v = f; break;
        case 1: memcpy(&v, &x, sizeof(v)); break;
        case 2: v = (double)(x >> 11) / 9007199254740992.0 * pow(10, (int)(x % 41) - 20); break;
        case 3: v = (double)(x % 2000000) / (double)(1 + x % 997); break;
        default: v = (double)(int64_t)(x % 4000000) - 2000000 + 0.5 * (double)(i % 3);
        }
        if (x & 64)
            v = -v;
        if (!isfinite(v))
            continue;
        snprintf(b, sizeof(b), "%.*g", digits, v);
        want = strtod(b, NULL);
        got = attn_round_sig(v, digits);
        if (memcmp(&want, &got, sizeof(want)))
            fail_msg("round_sig(%.17g, %d) = %.17g, printf gives %.17g", v, digits, got, want);
    }
    assert_true(signbit(attn_round_sig(-0.0, 6)));
    assert_true(attn_round_sig(1.0 / 0.0, 6) == 0);
}

/* attn_lower_u32_from gives attn_lower_u32's answer from every hint, on
 * every sub-range of sorted lists with runs of equal values and gaps. */
static void test_lower_from_hint(void **state)
{
    uint32_t pos[24];
    uint64_t seed = 7;
    size_t checked = 0;
    (void)state;
    for (int list = 0; list < 96; list++) {
        size_t n = (size_t)(list % 24) + 1;
        uint32_t x = 0;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            x += (uint32_t)(seed >> 61);   /* steps of 0..7: repeats and gaps */
            pos[i] = x;
        }
        for (size_t lo = 0; lo <= n; lo++)
            for (size_t hi = lo; hi <= n; hi++)
                for (size_t v = 0; v <= (size_t)x + 1; v++) {
                    size_t want = attn_lower_u32(pos, lo, hi, v);
                    for (size_t hint = 0; hint <= n + 1; hint++) {
                        size_t got = attn_lower_u32_from(pos, lo, hi, v, hint);
                        if (got != want) {
                            print_message("n %zu lo %zu hi %zu v %zu hint %zu: %zu, want %zu\n",
                                          n, lo, hi, v, hint, got, want);
                            fail();
                        }
                        checked++;
                    }
                }
    }
    assert_true(checked > 500000);
}

typedef struct {
    int key;
    int id;                 /* tells equal keys apart: the order is total */
    char pad[150];          /* larger than the swap buffer: swapped in pieces */
} sort_el;

typedef struct {
    int key, id;            /* small: short arrays take the insertion sort */
} sort_small;

static int sort_el_cmp(const void *a, const void *b)
{
    const sort_el *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int sort_small_cmp(const void *a, const void *b)
{
    const sort_small *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* attn_heap_top puts qsort's first k in front, in order, and keeps every
 * element (the rest behind them), for every n up to 40 and every k, with
 * large elements (always the heap) and small ones (insertion up to 32). */
static void test_heap_top(void **state)
{
    sort_el a[40], want[40];
    sort_small sa[40], swant[40];
    uint64_t seed = 11;
    (void)state;
    for (size_t n = 0; n <= 40; n++)
        for (size_t k = 0; k <= n + 2; k++) {
            int seen[40] = {0}, sseen[40] = {0};
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                a[i].key = sa[i].key = (int)(seed >> 60);     /* 16 keys: many ties */
                a[i].id = sa[i].id = (int)i;
                memset(a[i].pad, (int)i, sizeof(a[i].pad));
            }
            memcpy(want, a, n * sizeof(*a));
            qsort(want, n, sizeof(*want), sort_el_cmp);
            memcpy(swant, sa, n * sizeof(*sa));
            qsort(swant, n, sizeof(*swant), sort_small_cmp);
            attn_heap_top(a, n, k, sizeof(*a), sort_el_cmp);
            attn_heap_top(sa, n, k, sizeof(*sa), sort_small_cmp);
            for (size_t i = 0; i < n; i++) {
                if (i < k) {
                    assert_int_equal(sort_el_cmp(&a[i], &want[i]), 0);
                    assert_int_equal(sort_small_cmp(&sa[i], &swant[i]), 0);
                } else if (k > 0) {
                    assert_true(sort_el_cmp(&a[i], &want[k - 1]) > 0);
                    assert_true(sort_small_cmp(&sa[i], &swant[k - 1]) > 0);
                }
                assert_int_equal(a[i].pad[149], (char)a[i].id);   /* moved whole */
                seen[a[i].id]++;
                sseen[sa[i].id]++;
            }
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(seen[i], 1);
                assert_int_equal(sseen[i], 1);
            }
            attn_heap_sort(a, n, sizeof(*a), sort_el_cmp);
            attn_heap_sort(sa, n, sizeof(*sa), sort_small_cmp);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(sort_el_cmp(&a[i], &want[i]), 0);
                assert_int_equal(sort_small_cmp(&sa[i], &swant[i]), 0);
            }
        }
}

static void test_json_hash_stable(void **state)
{
    /* Expected digest computed independently: Python json.dumps(sort_keys=True,
     * separators=(',',':'), ensure_ascii=False) then hashlib.sha256. */
    const char *text =
        "{\"m\":123456789012,\"k\":1e-7,\"h\":[],\"g\":{},\"f\":false,\"e\":0,\"d\":2.5,"
        "\"c\":0.1,\"b\":[1,2,{\"z\":null,\"a\":true}],\"a\":\"h\\u00e9llo \\\"q\\\"\\n\\t\\u0001\"}";
    const char *want = "c29506e55bcc4b0f2a54c532bd52416ff01dc9a11da00f8a3fe416b7e61ea838";
    json_t *v, *w;
    char hex[65], hex2[65];
    attn_error err;
    (void)state;
    assert_int_equal(attn_json_parse(text, strlen(text), "t", &v, &err), 0);
    assert_int_equal(attn_json_hash(v, hex, &err), 0);
    assert_string_equal(hex, want);
    /* Same content, different key insertion order and spacing: same hash. */
    w = json_deep_copy(v);
    json_object_del(w, "a");
    json_object_set_new(w, "a", json_string("h\xc3\xa9llo \"q\"\n\t\x01"));
    assert_int_equal(attn_json_hash(w, hex2, &err), 0);
    assert_string_equal(hex2, want);
    /* Any change changes it. */
    json_object_set_new(w, "e", json_integer(1));
    assert_int_equal(attn_json_hash(w, hex2, &err), 0);
    assert_string_not_equal(hex2, want);
    json_decref(v);
    json_decref(w);
    assert_int_equal(attn_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_json_nan_rejected(void **state)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    json_t *v = json_real(0.0);
    (void)state;
    /* jansson refuses to create NaN; poke an infinite value through json_real_set. */
    assert_int_equal(json_real_set(v, 1.0 / 0.0), -1);
    json_decref(v);
    attn_error_clear(&err);
    assert_int_equal(attn_json_canonical(json_null(), &b, &err), 0);
    assert_string_equal(attn_buf_cstr(&b), "null");
    attn_buf_free(&b);
}

/* attn_utf8_valid agrees with what json_string() accepts. */
static void test_utf8_valid(void **state)
{
    static const char *const cases[] = {
        "", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
        "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",
        "ok\xe2\x82", "\x80",
    };
    (void)state;
    assert_false(attn_utf8_valid(NULL));
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        json_t *s = json_string(cases[i]);
        assert_int_equal(attn_utf8_valid(cases[i]), s != NULL);
        json_decref(s);
    }
}

static void test_json_accessors(void **state)
{
    json_t *v;
    attn_error err;
    int64_t t;
    const char *text = "{\"s\":\"x\",\"i\":7,\"b\":true,\"n\":null,\"t\":\"2024-01-01T00:00:00Z\","
                       "\"bad\":\"2024-13-01T00:00:00Z\"}";
    (void)state;
    assert_int_equal(attn_json_parse(text, strlen(text), "t", &v, &err), 0);
    assert_string_equal(attn_json_str(v, "s"), "x");
    assert_null(attn_json_str(v, "i"));
    assert_null(attn_json_str(v, "missing"));
    assert_int_equal(attn_json_i64(v, "i", -1), 7);
    assert_int_equal(attn_json_i64(v, "s", -1), -1);
    assert_int_equal(attn_json_bool(v, "b", -1), 1);
    assert_int_equal(attn_json_bool(v, "n", -1), -1);
    assert_int_equal(attn_json_time(v, "t", &t, &err), 0);
    assert_int_equal(t, 1704067200);
    assert_int_equal(attn_json_time(v, "n", &t, &err), 0);
    assert_true(t == ATTN_NULL_I64);
    assert_int_equal(attn_json_time(v, "bad", &t, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "field 'bad'"));
    assert_non_null(strstr(err.msg, "month out of range"));
    json_decref(v);
    /* Malformed text: the message names origin, line and column. */
    assert_int_equal(attn_json_parse("{\"a\":\n  tru}", 12, "page 3", &v, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "page 3"));
    assert_non_null(strstr(err.msg, "line 2"));
    /* Duplicate keys are refused: they make hashes ambiguous. */
    assert_int_equal(attn_json_parse("{\"a\":1,\"a\":2}", 13, "dup", &v, &err), ATTN_EINVAL);
}

static void test_path_checks(void **state)
{
    char o[ATTN_NAME_MAX + 1], n[ATTN_NAME_MAX + 1], dir[256];
    attn_error err;
    static const char *good_repos[] = {"rust-lang/rust-clippy", "a/b", "A.b_c-d/x.y", "o/..x"};
    static const char *bad_repos[] = {"", "noslash", "/x", "x/", "a/b/c", "../x", "a/..",
                                      "a/.", "a b/c", "a/b;rm", "a/b\n", "ä/b"};
    (void)state;
    for (size_t i = 0; i < sizeof(good_repos) / sizeof(*good_repos); i++)
        assert_int_equal(attn_path_parse_repo(good_repos[i], o, n, &err), 0);
    assert_int_equal(attn_path_parse_repo("rust-lang/rust-clippy", o, n, &err), 0);
    assert_string_equal(o, "rust-lang");
    assert_string_equal(n, "rust-clippy");
    for (size_t i = 0; i < sizeof(bad_repos) / sizeof(*bad_repos); i++) {
        if (attn_path_parse_repo(bad_repos[i], o, n, &err) != ATTN_EINVAL)
            fail_msg("repo '%s' accepted", bad_repos[i]);
        assert_non_null(strstr(err.msg, "OWNER/NAME"));
    }
    assert_int_equal(attn_path_parse_repo(NULL, o, n, &err), ATTN_EINVAL);
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    longname[101] = '/';
    longname[103] = '\0';
    assert_int_equal(attn_path_parse_repo(longname, o, n, &err), ATTN_EINVAL);

    assert_int_equal(attn_path_check_id("run-2024.01_a", "run id", &err), 0);
    assert_int_equal(attn_path_check_id("..", "run id", &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, "run id"));
    assert_int_equal(attn_path_check_id("a/b", "run id", &err), ATTN_EINVAL);
    assert_int_equal(attn_path_check_id("", "run id", &err), ATTN_EINVAL);

    assert_int_equal(attn_path_check_relative(".github/CODEOWNERS", &err), 0);
    assert_int_equal(attn_path_check_relative("a/b c/d.txt", &err), 0);
    assert_int_equal(attn_path_check_relative("/etc/passwd", &err), ATTN_EINVAL);
    assert_int_equal(attn_path_check_relative("a/../../x", &err), ATTN_EINVAL);
    assert_int_equal(attn_path_check_relative("a//b", &err), ATTN_EINVAL);
    assert_int_equal(attn_path_check_relative("a/./b", &err), ATTN_EINVAL);
    assert_int_equal(attn_path_check_relative("a\\..\\b", &err), ATTN_EINVAL);
    assert_int_equal(attn_path_check_relative("", &err), ATTN_EINVAL);

    assert_int_equal(attn_path_repo_dir("/d", "o/r", dir, sizeof(dir), &err), 0);
    assert_string_equal(dir, "/d/github/o/r");
    assert_int_equal(attn_path_repo_dir("/d", "o/../r", dir, sizeof(dir), &err), ATTN_EINVAL);
}

static void test_atomic_write(void **state)
{
    char *dir = test_tmpdir(), path[512], cmd[600];
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    (void)state;
    snprintf(path, sizeof(path), "%s/deep/er/file.json", dir);
    assert_int_equal(attn_fs_write_atomic(path, "one", 3, &err), 0);
    assert_int_equal(attn_fs_read_file(path, &b, &err), 0);
    assert_string_equal(attn_buf_cstr(&b), "one");
    attn_buf_clear(&b);
    assert_int_equal(attn_fs_write_atomic(path, "second", 6, &err), 0);
    assert_int_equal(attn_fs_read_file(path, &b, &err), 0);
    assert_string_equal(attn_buf_cstr(&b), "second");
    /* No temporary files are left behind. */
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s/deep/er | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    /* Missing file: not found, message names it. */
    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_int_equal(attn_fs_read_file(path, &b, &err), ATTN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "missing"));
    /* Unwritable target directory (a file in the way): a clear error, no crash. */
    snprintf(path, sizeof(path), "%s/deep/er/file.json/x", dir);
    assert_true(attn_fs_write_atomic(path, "x", 1, &err) < 0);
    assert_non_null(strstr(err.msg, "file.json"));
    attn_buf_free(&b);
    assert_int_equal(attn_fs_remove_tree(dir, &err), 0);
    assert_false(attn_fs_exists(dir));
    free(dir);
}

static void test_buf_and_error(void **state)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    char *s;
    (void)state;
    assert_string_equal(attn_buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(attn_buf_printf(&b, "%d,", i), 0);
    assert_int_equal(b.len, 3890);
    assert_int_equal(strncmp(b.ptr, "0,1,2,", 6), 0);
    /* Appends that end exactly at, one short of and one past the room left
     * (printf writes in place when the text fits, else grows and writes
     * again): the text is the same as one snprintf of it all. */
    attn_buf_clear(&b);
    {
        char want[8192];
        size_t wl = 0;
        for (int i = 0; i < 300; i++) {
            int w = i % 37;
            assert_int_equal(attn_buf_printf(&b, "%*d|", w, i), 0);
            wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%*d|", w, i);
            assert_int_equal(b.len, wl);
            assert_true(b.len < b.cap && b.ptr[b.len] == '\0');
        }
        assert_memory_equal(b.ptr, want, wl);
    }
    s = attn_buf_detach(&b);
    assert_null(b.ptr);
    free(s);
    assert_int_equal(attn_error_set(&err, ATTN_EIO, "cannot open '%s'", "x.db"), ATTN_EIO);
    assert_int_equal(attn_error_wrap(&err, "loading %s", "bundle"), ATTN_EIO);
    assert_string_equal(err.msg, "loading bundle: cannot open 'x.db'");
    assert_int_equal(attn_error_exit_status(ATTN_EINVAL), 2);
    assert_int_equal(attn_error_exit_status(ATTN_EIO), 1);
    /* A message is one line whatever it quotes (found by fuzz_classify_config:
     * a converter name with a newline split the message). */
    attn_error_set(&err, ATTN_EINVAL, "unknown converter '%s'", "tokens_to\number\t\x1b[2J");
    assert_string_equal(err.msg, "unknown converter 'tokens_to\\number\\t\\x1b[2J'");
    attn_error_wrap(&err, "step %s", "7\r");
    assert_null(strchr(err.msg, '\n'));
    assert_int_equal(strncmp(err.msg, "step 7\\r: unknown", 17), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_cases),
        cmocka_unit_test(test_time_format_roundtrip),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_canonical_json),
        cmocka_unit_test(test_canonical_real_shortest),
        cmocka_unit_test(test_lower_from_hint),
        cmocka_unit_test(test_heap_top),
        cmocka_unit_test(test_canonical_string_escapes),
        cmocka_unit_test(test_json_obj),
        cmocka_unit_test(test_round_sig_equals_printf),
        cmocka_unit_test(test_json_hash_stable),
        cmocka_unit_test(test_json_nan_rejected),
        cmocka_unit_test(test_json_accessors),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_path_checks),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_buf_and_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
