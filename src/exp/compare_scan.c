/*
 * compare_scan.c - the reads of a comparison that touch every PR: the rows of
 * per_pr.jsonl (rank, candidates, truth status) and the top-1 score of every
 * route of a router.
 *
 * Why not jansson: building a tree for 10,000 rows and 10,000 routes per run
 * (about 40 MB of JSON) took most of a comparison's 2.5 s, to read a few
 * values. A "skimmer" here walks the text once, validates it and picks those
 * values out. It only accepts text whose meaning it knows to match jansson's
 * exactly (ASCII strings without escapes, numbers jansson reads without
 * overflow, bounded nesting, and for per_pr rows no duplicate key, which
 * attn_json_parse rejects); anything else falls back to jansson on that one
 * line or route, so the values (and errors) are always jansson's.
 * Must never: return a value jansson would not, or read a run's entries other
 * than through pack.h (attn_pack_scan hands over the raw text).
 */
#include "exp/compare_internal.h"
#include "exp/compare.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/hashmap.h"
#include "util/json.h"
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the skimmer ------------------------------------------------------------ */

#define SK_MAX_DEPTH 64
#define SK_MAX_KEYS 64

typedef struct {
    const char *p, *end;
    int reject_dups;   /* attn_json_parse's JSON_REJECT_DUPLICATES */
    int depth;
} sk;

typedef struct {
    const char *k[SK_MAX_KEYS];
    size_t n[SK_MAX_KEYS];
    int cnt, first;
} sk_obj;

static void sk_ws(sk *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int sk_at(sk *c, char ch)
{
    sk_ws(c);
    return c->p < c->end && *c->p == ch;
}

/* A string of printable ASCII without escapes (-1: anything else). */
static int sk_str(sk *c, const char **s, size_t *n)
{
    const char *q;
    if (c->p >= c->end || *c->p != '"')
        return -1;
    q = ++c->p;
    for (; c->p < c->end; c->p++) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            *s = q;
            *n = (size_t)(c->p++ - q);
            return 0;
        }
        if (ch == '\\' || ch < 0x20 || ch >= 0x80)
            return -1;
    }
    return -1;
}

static int is_digit(const char *p, const char *end) { return p < end && *p >= '0' && *p <= '9'; }

/* A number jansson reads without error: *is_int and the value (int in *iv,
 * and as jansson's json_number_value in *dv). */
static int sk_num(sk *c, int *is_int, long long *iv, double *dv)
{
    const char *s = c->p, *q = s;
    int isint = 1, exp = 0;
    char buf[320];
    size_t len;
    if (q < c->end && *q == '-')
        q++;
    if (!is_digit(q, c->end))
        return -1;
    if (*q == '0')
        q++;
    else
        while (is_digit(q, c->end))
            q++;
    if (q < c->end && *q == '.') {
        isint = 0;
        if (!is_digit(++q, c->end))
            return -1;
        while (is_digit(q, c->end))
            q++;
    }
    if (q < c->end && (*q == 'e' || *q == 'E')) {
        isint = 0;
        exp = 1;
        q++;
        if (q < c->end && (*q == '+' || *q == '-'))
            q++;
        if (!is_digit(q, c->end))
            return -1;
        while (is_digit(q, c->end))
            q++;
    }
    len = (size_t)(q - s);
    if (len >= sizeof(buf) - 1)
        return -1;
    c->p = q;
    /* Only long integers can overflow jansson's json_int_t, and only reals
     * with an exponent can overflow a double (300 digits cannot). */
    if (!iv && !dv && !(isint && len >= 18) && !exp)
        return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    if (isint) {
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            return -1;
        if (iv)
            *iv = v;
        if (dv)
            *dv = (double)v;
    } else {
        double v = strtod(buf, NULL);
        if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
            return -1;
        if (dv)
            *dv = v;
    }
    if (is_int)
        *is_int = isint;
    return 0;
}

static int sk_lit(sk *c)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(c->end - c->p) >= n && !memcmp(c->p, lits[i], n)) {
            c->p += n;
            if (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z')))
                return -1;
            return 0;
        }
    }
    return -1;
}

static int sk_obj_begin(sk *c, sk_obj *o)
{
    if (!sk_at(c, '{') || ++c->depth > SK_MAX_DEPTH)
        return -1;
    c->p++;
    o->cnt = 0;
    o->first = 1;
    return 0;
}

/* 1: a key, c at its value; 0: the object ended; -1: fall back. */
static int sk_obj_next(sk *c, sk_obj *o, const char **k, size_t *kn)
{
    sk_ws(c);
    if (c->p >= c->end)
        return -1;
    if (*c->p == '}') {
        c->p++;
        c->depth--;
        return 0;
    }
    if (!o->first) {
        if (*c->p != ',')
            return -1;
        c->p++;
        sk_ws(c);
    }
    o->first = 0;
    if (sk_str(c, k, kn))
        return -1;
    if (c->reject_dups) {
        for (int i = 0; i < o->cnt; i++)
            if (o->n[i] == *kn && !memcmp(o->k[i], *k, *kn))
                return -1;
        if (o->cnt == SK_MAX_KEYS)
            return -1;
        o->k[o->cnt] = *k;
        o->n[o->cnt++] = *kn;
    }
    if (!sk_at(c, ':'))
        return -1;
    c->p++;
    sk_ws(c);
    return 1;
}

static int sk_arr_begin(sk *c, int *first)
{
    if (!sk_at(c, '[') || ++c->depth > SK_MAX_DEPTH)
        return -1;
    c->p++;
    *first = 1;
    return 0;
}

/* 1: an element, c at it; 0: the array ended; -1: fall back. */
static int sk_arr_next(sk *c, int *first)
{
    sk_ws(c);
    if (c->p >= c->end)
        return -1;
    if (*c->p == ']') {
        c->p++;
        c->depth--;
        return 0;
    }
    if (!*first) {
        if (*c->p != ',')
            return -1;
        c->p++;
        sk_ws(c);
    }
    *first = 0;
    return 1;
}

static int sk_skip(sk *c)
{
    const char *s;
    size_t n;
    int r, first;
    sk_obj o;
    sk_ws(c);
    if (c->p >= c->end)
        return -1;
    switch (*c->p) {
    case '"':
        return sk_str(c, &s, &n);
    case '{':
        if (sk_obj_begin(c, &o))
            return -1;
        while ((r = sk_obj_next(c, &o, &s, &n)) == 1)
            if (sk_skip(c))
                return -1;
        return r;
    case '[':
        if (sk_arr_begin(c, &first))
            return -1;
        while ((r = sk_arr_next(c, &first)) == 1)
            if (sk_skip(c))
                return -1;
        return r;
    case 't':
    case 'f':
    case 'n':
        return sk_lit(c);
    default:
        return sk_num(c, NULL, NULL, NULL);
    }
}

/* Nothing but white space after the top-level value (jansson's EOF check). */
static int sk_done(sk *c)
{
    sk_ws(c);
    return c->p == c->end ? 0 : -1;
}

static int key_is(const char *k, size_t kn, const char *want)
{
    return strlen(want) == kn && !memcmp(k, want, kn);
}

/* ---- per_pr.jsonl rows -------------------------------------------------------- */

/* routers[name].rank[primary] and routers[name].candidates of one router. */
static int skim_router(sk *c, const char *primary, int *rank, unsigned char *empty)
{
    sk_obj o, o2;
    const char *k;
    size_t kn;
    int r, r2, first, isint;
    long long v;
    *rank = 0;
    *empty = 1;
    if (!sk_at(c, '{'))
        return sk_skip(c);
    if (sk_obj_begin(c, &o))
        return -1;
    while ((r = sk_obj_next(c, &o, &k, &kn)) == 1) {
        if (key_is(k, kn, "rank") && sk_at(c, '{')) {
            if (sk_obj_begin(c, &o2))
                return -1;
            while ((r2 = sk_obj_next(c, &o2, &k, &kn)) == 1) {
                if (!key_is(k, kn, primary)) {
                    if (sk_skip(c))
                        return -1;
                    continue;
                }
                if (c->p < c->end && (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))) {
                    if (sk_num(c, &isint, &v, NULL))
                        return -1;
                    *rank = isint ? (int)v : 0;
                } else if (sk_skip(c))
                    return -1;
            }
            if (r2)
                return -1;
        } else if (key_is(k, kn, "candidates") && sk_at(c, '[')) {
            if (sk_arr_begin(c, &first))
                return -1;
            while ((r2 = sk_arr_next(c, &first)) == 1) {
                *empty = 0;
                if (sk_skip(c))
                    return -1;
            }
            if (r2)
                return -1;
        } else if (sk_skip(c)) {
            return -1;
        }
    }
    return r;
}

/* truth[primary].status == "observed". */
static int skim_truth(sk *c, const char *primary, int *observed)
{
    sk_obj o, o2;
    const char *k, *s;
    size_t kn, sn;
    int r, r2;
    *observed = 0;
    if (!sk_at(c, '{'))
        return sk_skip(c);
    if (sk_obj_begin(c, &o))
        return -1;
    while ((r = sk_obj_next(c, &o, &k, &kn)) == 1) {
        if (!key_is(k, kn, primary) || !sk_at(c, '{')) {
            if (sk_skip(c))
                return -1;
            continue;
        }
        if (sk_obj_begin(c, &o2))
            return -1;
        while ((r2 = sk_obj_next(c, &o2, &k, &kn)) == 1) {
            if (key_is(k, kn, "status") && c->p < c->end && *c->p == '"') {
                if (sk_str(c, &s, &sn))
                    return -1;
                *observed = key_is(s, sn, "observed");
            } else if (sk_skip(c)) {
                return -1;
            }
        }
        if (r2)
            return -1;
    }
    return r;
}

static int skim_row(const char *s, size_t len, const char *primary, cmp_rows *r, size_t i)
{
    sk c = {s, s + len, 1, 0};
    sk_obj o;
    const char *k;
    size_t kn;
    int rc, isint;
    long long v;
    cmp_row *row = &r->rows[i];
    row->number = -1;
    row->observed = 0;
    for (size_t j = 0; j < r->n_names; j++) {
        r->rank[i * r->n_names + j] = 0;
        r->empty[i * r->n_names + j] = 1;
    }
    if (sk_obj_begin(&c, &o))
        return -1;
    while ((rc = sk_obj_next(&c, &o, &k, &kn)) == 1) {
        if (key_is(k, kn, "pr_number") && c.p < c.end &&
            (*c.p == '-' || (*c.p >= '0' && *c.p <= '9'))) {
            if (sk_num(&c, &isint, &v, NULL))
                return -1;
            row->number = isint ? (int64_t)v : -1;
        } else if (key_is(k, kn, "routers") && sk_at(&c, '{')) {
            sk_obj o2;
            int r2;
            if (sk_obj_begin(&c, &o2))
                return -1;
            while ((r2 = sk_obj_next(&c, &o2, &k, &kn)) == 1) {
                int j = -1;
                for (size_t x = 0; x < r->n_names && j < 0; x++)
                    if (key_is(k, kn, r->names[x]))
                        j = (int)x;
                if (j < 0 ? sk_skip(&c)
                          : skim_router(&c, primary, &r->rank[i * r->n_names + (size_t)j],
                                        &r->empty[i * r->n_names + (size_t)j]))
                    return -1;
            }
            if (r2)
                return -1;
        } else if (key_is(k, kn, "truth")) {
            if (skim_truth(&c, primary, &row->observed))
                return -1;
        } else if (sk_skip(&c)) {
            return -1;
        }
    }
    return rc ? -1 : sk_done(&c);
}

/* The slow path: jansson, exactly as the comparison read rows before. */
static int parse_row(const char *s, size_t len, const char *path, const char *primary,
                     cmp_rows *r, size_t i, attn_error *err)
{
    json_t *row, *routers;
    int rc;
    if ((rc = attn_json_parse(s, len, path, &row, err)))
        return rc;
    r->rows[i].number = attn_json_i64(row, "pr_number", -1);
    r->rows[i].observed = 0;
    {
        const char *st = attn_json_str(json_object_get(json_object_get(row, "truth"), primary),
                                       "status");
        r->rows[i].observed = st && !strcmp(st, "observed");
    }
    routers = json_object_get(row, "routers");
    for (size_t j = 0; j < r->n_names; j++) {
        const json_t *x = json_object_get(routers, r->names[j]);
        const json_t *rk = json_object_get(json_object_get(x, "rank"), primary);
        r->rank[i * r->n_names + j] = json_is_integer(rk) ? (int)json_integer_value(rk) : 0;
        r->empty[i * r->n_names + j] = json_array_size(json_object_get(x, "candidates")) == 0;
    }
    json_decref(row);
    return 0;
}

/* per_pr.jsonl mapped rather than read: 8 MB copied into fresh memory took
 * a page fault per 4 KB and two copies, a third of loading a run. A
 * finished run's files are replaced by rename, never rewritten in place, so
 * the mapping cannot shrink under the reader. Anything else (not a regular
 * file, empty, mmap refused) is read as before, with the same errors. The
 * text ends at its first NUL byte, as the C string read before did. */
static int rows_text(const char *path, cmp_rows *r, attn_error *err)
{
    attn_buf text = ATTN_BUF_INIT;
    struct stat st;
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
            void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
            if (m != MAP_FAILED) {
                r->text = m;
                r->map_len = (size_t)st.st_size;
                r->text_len = strnlen(r->text, r->map_len);
            }
        }
        close(fd);
        if (r->text)
            return 0;
    }
    /* One allocation of the file's size, not a doubling copy per 64 KB. */
    if (!stat(path, &st) && st.st_size > 0)
        attn_buf_grow(&text, (size_t)st.st_size + 1);
    if ((rc = attn_fs_read_file(path, &text, err)))
        return rc;
    r->text = attn_buf_detach(&text);
    if (!r->text)
        r->text = attn_xstrdup("");
    r->text_len = strlen(r->text);
    return 0;
}

int cmp_rows_load(const char *path, const char *primary, cmp_rows *r, attn_error *err)
{
    size_t cap = 0;
    int rc;
    if ((rc = rows_text(path, r, err)))
        return rc;
    for (const char *line = r->text, *end = line + r->text_len, *nl; line < end;
         line = nl ? nl + 1 : end) {
        size_t len, i = r->n_rows;
        nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == line)
            continue;
        len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (i == cap) {
            cap = cap ? 2 * cap : 1024;
            r->rows = attn_xrealloc(r->rows, attn_st_mult(cap, sizeof(*r->rows)));
            r->rank = attn_xrealloc(r->rank, attn_st_mult(cap, (r->n_names + 1) * sizeof(int)));
            r->empty = attn_xrealloc(r->empty, attn_st_mult(cap, r->n_names + 1));
        }
        r->rows[i].off = (size_t)(line - r->text);
        r->rows[i].len = len;
        if (skim_row(line, len, primary, r, i) &&
            (rc = parse_row(line, len, path, primary, r, i, err)))
            return rc;
        r->n_rows++;
    }
    return 0;
}

void cmp_rows_free(cmp_rows *r)
{
    free(r->rows);
    free(r->rank);
    free(r->empty);
    if (r->map_len)
        munmap(r->text, r->map_len);
    else
        free(r->text);
}

int cmp_rows_router(const cmp_rows *r, const char *name)
{
    for (size_t i = 0; name && i < r->n_names; i++)
        if (!strcmp(r->names[i], name))
            return (int)i;
    return -1;
}

json_t *cmp_rows_json(const cmp_rows *r, size_t i)
{
    json_error_t je;
    return json_loadb(r->text + r->rows[i].off, r->rows[i].len, JSON_REJECT_DUPLICATES, &je);
}

int attn_compare_pr_ranks(const char *run_dir, const char *router, const char *primary,
                          int64_t **nums, int **ranks, size_t *n, attn_error *err)
{
    char path[4400];
    const char *names[1] = {router};
    cmp_rows r;
    int rc;
    memset(&r, 0, sizeof(r));
    r.names = names;
    r.n_names = 1;
    *nums = NULL;
    *ranks = NULL;
    *n = 0;
    snprintf(path, sizeof(path), "%s/per_pr.jsonl", run_dir);
    if (!(rc = cmp_rows_load(path, primary, &r, err))) {
        *nums = attn_xcalloc(r.n_rows + 1, sizeof(int64_t));
        for (size_t i = 0; i < r.n_rows; i++)
            (*nums)[i] = r.rows[i].number;
        *ranks = r.rank; /* one router: rank[i] is row i's */
        r.rank = NULL;
        *n = r.n_rows;
    }
    cmp_rows_free(&r);
    return rc;
}

/* ---- manifest.json --------------------------------------------------------------- */

/* cohort.pr_cutoffs (c at its value) as its canonical JSON into out, when
 * every key and value is a plain string and the keys ascend strictly: then
 * the text's order is the canonical one and no key repeats. */
static int skim_cutoffs(sk *c, attn_buf *out)
{
    sk_obj o;
    const char *k, *v, *pk = NULL;
    size_t kn, vn, pn = 0;
    int r;
    if (sk_obj_begin(c, &o))
        return -1;
    attn_buf_putc(out, '{');
    while ((r = sk_obj_next(c, &o, &k, &kn)) == 1) {
        int d = pk ? memcmp(pk, k, pn < kn ? pn : kn) : -1;
        if (d > 0 || (d == 0 && pn >= kn) || sk_str(c, &v, &vn))
            return -1;
        if (pk)
            attn_buf_putc(out, ',');
        attn_buf_putc(out, '"');
        attn_buf_put(out, k, kn);
        attn_buf_puts(out, "\":\"");
        attn_buf_put(out, v, vn);
        attn_buf_putc(out, '"');
        pk = k;
        pn = kn;
    }
    return r ? -1 : attn_buf_putc(out, '}');
}

int cmp_manifest_skim(const char *s, size_t len, json_t **out, char hash[65])
{
    sk c = {s, s + len, 0, 0};
    sk_obj o, o2;
    const char *k, *at = NULL, *end = NULL;
    size_t kn;
    attn_buf canon = ATTN_BUF_INIT, text = ATTN_BUF_INIT;
    json_error_t je;
    *out = NULL;
    if (sk_obj_begin(&c, &o))
        return -1;
    /* Find the value of the first cohort's pr_cutoffs; anything unexpected
     * on the way leaves the whole text to jansson. */
    while (!at && sk_obj_next(&c, &o, &k, &kn) == 1) {
        if (!key_is(k, kn, "cohort") || !sk_at(&c, '{')) {
            if (sk_skip(&c))
                break;
            continue;
        }
        if (sk_obj_begin(&c, &o2))
            break;
        while (sk_obj_next(&c, &o2, &k, &kn) == 1) {
            if (key_is(k, kn, "pr_cutoffs")) {
                at = c.p;
                if (!skim_cutoffs(&c, &canon))
                    end = c.p;
                break;
            }
            if (sk_skip(&c))
                break;
        }
        break;
    }
    /* The rest goes to jansson with the cutoffs as {}: one valid value for
     * another keeps the text valid (and its other values, and errors:
     * any error sends the caller to parse the whole text). */
    if (end) {
        attn_buf_put(&text, s, (size_t)(at - s));
        attn_buf_puts(&text, "{}");
        attn_buf_put(&text, end, (size_t)(s + len - end));
        *out = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &je);
        if (*out && attn_sha256_hex(canon.ptr, canon.len, hash) < 0) {
            json_decref(*out);
            *out = NULL;
        }
    }
    attn_buf_free(&canon);
    attn_buf_free(&text);
    return *out ? 0 : -1;
}

/* ---- routes ------------------------------------------------------------------ */

/* candidates[0] of a route as attn_pack_read + json_loadb(flags 0) would see
 * it: later duplicate keys win. */
static int skim_top1(const char *s, size_t len, double *score, int *state)
{
    sk c = {s, s + len, 0, 0};
    sk_obj o, o2;
    const char *k;
    size_t kn;
    int r, r2, r3, first;
    *state = 1;
    *score = 0;
    if (sk_obj_begin(&c, &o))
        return -1;
    while ((r = sk_obj_next(&c, &o, &k, &kn)) == 1) {
        if (!key_is(k, kn, "candidates")) {
            if (sk_skip(&c))
                return -1;
            continue;
        }
        *state = 1; /* a later "candidates" replaces an earlier one */
        *score = 0;
        if (!sk_at(&c, '[')) {
            if (sk_skip(&c))
                return -1;
            continue;
        }
        if (sk_arr_begin(&c, &first))
            return -1;
        while ((r2 = sk_arr_next(&c, &first)) == 1) {
            if (*state == 0 || !sk_at(&c, '{')) { /* not the first, or not an object */
                if (*state == 1)
                    *state = 0; /* a non-object first candidate: scored 0 */
                if (sk_skip(&c))
                    return -1;
                continue;
            }
            *state = 0;
            if (sk_obj_begin(&c, &o2))
                return -1;
            while ((r3 = sk_obj_next(&c, &o2, &k, &kn)) == 1) {
                if (key_is(k, kn, "score") && c.p < c.end &&
                    (*c.p == '-' || (*c.p >= '0' && *c.p <= '9'))) {
                    if (sk_num(&c, NULL, NULL, score))
                        return -1;
                } else {
                    if (key_is(k, kn, "score"))
                        *score = 0; /* not a number: json_number_value gives 0 */
                    if (sk_skip(&c))
                        return -1;
                }
            }
            if (r3)
                return -1;
        }
        if (r2)
            return -1;
    }
    return r ? -1 : sk_done(&c);
}

static void top1_json(const json_t *route, double *score, int *state)
{
    const json_t *c0 = json_array_get(json_object_get(route, "candidates"), 0);
    *state = !route ? 2 : !c0 ? 1 : 0;
    *score = c0 ? json_number_value(json_object_get(c0, "score")) : 0;
}

static void top1_text(const char *s, size_t len, double *score, int *state)
{
    json_error_t je;
    json_t *route;
    if (!skim_top1(s, len, score, state))
        return;
    route = json_loadb(s, len, 0, &je);
    top1_json(route, score, state);
    json_decref(route);
}

/* One router's top-1 scores of every PR in one pass over the pack
 * (attn_pack_scan), and the texts of the kept PRs. 0 when done, -1 when the
 * caller should read entry by entry. */
typedef struct {
    attn_map64 at; /* PR number -> its first index in nums */
    double *score;
    int *state;
    cmp_kept *kept;
} scan_ctx;

static void scan_one(void *vctx, int64_t pr, const char *json, size_t len)
{
    scan_ctx *c = vctx;
    uint32_t i = attn_map64_get(&c->at, (uint64_t)pr);
    if (i == ATTN_MAP64_NONE)
        return;
    top1_text(json, len, &c->score[i], &c->state[i]);
    if (c->kept && c->kept->keep[i]) { /* parsed here, on the scan's thread */
        json_error_t je;
        c->kept->route[i] = json_loadb(json, len, 0, &je);
    }
}

static int scan_pack(attn_pack *p, const char *entry, const int64_t *nums, size_t n,
                     double *score, int *state, cmp_kept *kept)
{
    scan_ctx c = {ATTN_MAP64_INIT, score, state, kept};
    attn_error e;
    int rc;
    for (size_t i = 0; i < n; i++) {
        state[i] = 2;
        score[i] = 0;
        if (attn_map64_get(&c.at, (uint64_t)nums[i]) == ATTN_MAP64_NONE)
            attn_map64_put(&c.at, (uint64_t)nums[i], (uint32_t)i);
    }
    if (!(rc = attn_pack_scan(p, entry, scan_one, &c, &e)))
        /* PRs listed twice share the first one's values. */
        for (size_t i = 0; i < n; i++) {
            uint32_t j = attn_map64_get(&c.at, (uint64_t)nums[i]);
            score[i] = score[j];
            state[i] = state[j];
            if (kept && kept->keep[i] && j != i)
                kept->route[i] = json_incref(kept->route[j]);
        }
    attn_map64_free(&c.at);
    if (kept)
        kept->scanned = !rc;
    return rc ? -1 : 0;
}

void cmp_top1_scores(attn_pack *p, const char *router, const int64_t *nums, size_t n,
                     double *score, int *state, cmp_kept *kept)
{
    char entry[512];
    attn_error e;
    json_t *route = NULL;
    snprintf(entry, sizeof(entry), "routes/%s", router);
    /* One ordinary read first: a router name the pack refuses as an entry
     * name (or an unreadable pack) then fails the same way for every PR. */
    if (n && attn_pack_is_packed(p)) {
        int rc = attn_pack_read(p, nums[0], entry, &route, &e);
        json_decref(route);
        if (rc == ATTN_EINVAL) {
            for (size_t i = 0; i < n; i++) {
                state[i] = 2;
                score[i] = 0;
            }
            return;
        }
        if (!scan_pack(p, entry, nums, n, score, state, kept))
            return;
    }
    for (size_t i = 0; i < n; i++) {
        route = NULL;
        if (attn_pack_read(p, nums[i], entry, &route, &e))
            route = NULL;
        top1_json(route, &score[i], &state[i]);
        json_decref(route);
    }
}

void cmp_kept_free(cmp_kept *k)
{
    for (size_t i = 0; k->route && i < k->n; i++)
        json_decref(k->route[i]);
    free(k->route);
    free(k->keep);
}
