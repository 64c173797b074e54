/*
 * parquet.c - the streaming Parquet writer (see parquet.h).
 *
 * File layout: "PAR1", then per row group and column one chunk (an optional
 * dictionary page, then data pages v1: [def levels][values], each page
 * compressed whole), then the FileMetaData footer, its 4-byte length, "PAR1".
 * Each finished row group's RowGroup struct is serialized at once into
 * rg_meta (a compact-protocol struct is self-contained), so the footer needs
 * only the concatenation and memory stays flat.
 */
#include "export/parquet.h"
#include "export/pqenc.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/version.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

/* Parquet enum values (parquet.thrift). */
enum { PT_BOOLEAN = 0, PT_INT64 = 2, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICTIONARY = 2, ENC_RLE = 3 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { CODEC_UNCOMPRESSED = 0, CODEC_ZSTD = 6 };

typedef struct {
    uint32_t off, len;   /* the entry's bytes in dict_data (after its length prefix) */
} dict_entry;

typedef struct {
    attn_pq_col def;
    char *name;
    int set;                 /* a value was given for the current row */
    /* the open page */
    attn_buf defs;           /* RLE-encoded definition levels */
    attn_rle defs_rle;
    attn_buf vals;           /* PLAIN values */
    uint32_t *idx;           /* dictionary indices of the page */
    size_t nidx, idx_cap;
    size_t page_rows;
    uint8_t bool_acc;        /* PLAIN booleans are bit-packed */
    int bool_bits;
    /* the dictionary of the chunk (strings only) */
    int dict_on;             /* values of the open page are dictionary indices */
    int fell_back, ever_fell_back;
    attn_buf dict_data;      /* PLAIN-encoded entries: the dictionary page */
    dict_entry *ents;
    size_t nents, ents_cap;
    uint32_t *slots;         /* open addressing: entry index + 1, 0 = empty */
    size_t nslots;
    /* the chunk */
    attn_buf chunk;          /* compressed data pages with headers */
    int64_t chunk_values, chunk_nulls, chunk_uncompressed;
    int used_plain, used_dict;
    int has_minmax;
    int64_t min_i, max_i;
    double min_d, max_d;
    attn_buf min_s, max_s;
} pq_column;

struct attn_pq_writer {
    FILE *f;
    char *path;
    attn_pq_opts opts;
    pq_column *cols;
    size_t ncols;
    int64_t offset;          /* bytes written to f */
    int64_t rows, rg_row_count;
    size_t rg_bytes;         /* uncompressed page bytes in the open row group */
    size_t nrg;
    attn_buf rg_meta;        /* serialized RowGroup structs */
    attn_buf page, scratch;  /* a page being assembled / its compressed form */
    ZSTD_CCtx *zc;
    attn_error fail;         /* sticky error from the value calls */
};

void attn_pq_opts_default(attn_pq_opts *o)
{
    o->rg_rows = 1000000;
    o->rg_bytes = 32u << 20;
    o->page_bytes = 256u << 10;
    o->dict_bytes = 512u << 10;
    o->zstd_level = 3;
}

static int physical_type(attn_pq_type t)
{
    switch (t) {
    case ATTN_PQ_DOUBLE: return PT_DOUBLE;
    case ATTN_PQ_STRING: return PT_BYTE_ARRAY;
    case ATTN_PQ_BOOL: return PT_BOOLEAN;
    default: return PT_INT64;
    }
}

static void fail(attn_pq_writer *w, int code, const char *what, const pq_column *c)
{
    if (!w->fail.code)
        attn_error_set(&w->fail, code, "parquet %s: column '%s': %s", w->path, c->name, what);
}

/* ---- writing bytes ---- */

static int out_write(attn_pq_writer *w, const void *p, size_t n, attn_error *err)
{
    if (n && fwrite(p, 1, n, w->f) != n)
        return attn_error_set(err, ATTN_EIO, "writing %s: %s", w->path, strerror(errno));
    w->offset += (int64_t)n;
    return 0;
}

/* Compress w->page into scratch (or copy it) and append header + body to dst. */
static int emit_page(attn_pq_writer *w, attn_buf *dst, int type, int32_t nvalues, int encoding,
                     int64_t *uncompressed, attn_error *err)
{
    const void *body = w->page.ptr ? w->page.ptr : "";
    size_t blen = w->page.len;
    attn_buf hdr = ATTN_BUF_INIT;
    attn_tc t;
    int rc = 0;

    if (w->opts.zstd_level > 0) {
        size_t bound = ZSTD_compressBound(w->page.len);
        attn_buf_clear(&w->scratch);
        attn_buf_grow(&w->scratch, bound + 1);
        size_t n = ZSTD_compressCCtx(w->zc, w->scratch.ptr, bound, body, blen, w->opts.zstd_level);
        if (ZSTD_isError(n))
            return attn_error_set(err, ATTN_EIO, "parquet %s: zstd: %s", w->path, ZSTD_getErrorName(n));
        body = w->scratch.ptr;
        blen = n;
    }
    attn_tc_init(&t, &hdr);
    attn_tc_i32(&t, 1, type);
    attn_tc_i32(&t, 2, (int32_t)w->page.len);
    attn_tc_i32(&t, 3, (int32_t)blen);
    if (type == PAGE_DATA) {
        attn_tc_struct_begin(&t, 5);
        attn_tc_i32(&t, 1, nvalues);
        attn_tc_i32(&t, 2, encoding);
        attn_tc_i32(&t, 3, ENC_RLE);
        attn_tc_i32(&t, 4, ENC_RLE);
        attn_tc_struct_end(&t);
    } else {
        attn_tc_struct_begin(&t, 7);
        attn_tc_i32(&t, 1, nvalues);
        attn_tc_i32(&t, 2, encoding);
        attn_tc_struct_end(&t);
    }
    attn_tc_stop(&t);
    if (t.failed) /* a thrift struct nested too deep: a bug in this file */
        rc = attn_error_set(err, ATTN_EINVAL, "parquet %s: a page header nests too deep", w->path);
    attn_buf_put(dst, hdr.ptr, hdr.len);
    attn_buf_put(dst, body, blen);
    *uncompressed += (int64_t)(hdr.len + w->page.len);
    attn_buf_free(&hdr);
    return rc;
}

/* ---- pages ---- */

static size_t page_estimate(const pq_column *c)
{
    return c->vals.len + c->defs.len + c->nidx * 4;
}

static int flush_page(attn_pq_writer *w, pq_column *c, attn_error *err)
{
    int encoding = ENC_PLAIN;

    if (c->page_rows == 0)
        return 0;
    attn_buf_clear(&w->page);
    if (c->def.nullable) {
        attn_rle_finish(&c->defs_rle, &c->defs);
        attn_pq_plain_i32(&w->page, (int32_t)c->defs.len);
        if (c->defs.len)
            attn_buf_put(&w->page, c->defs.ptr, c->defs.len);
    }
    if (c->dict_on && c->nidx > 0) {
        /* bit width 0 is legal for a one-entry dictionary but some readers trip on it */
        int width = attn_pq_bit_width(c->nents - 1);
        attn_rle r;
        char wb;
        if (width == 0)
            width = 1;
        wb = (char)width;
        encoding = ENC_PLAIN_DICTIONARY;
        attn_rle_init(&r, width);
        attn_buf_put(&w->page, &wb, 1);
        for (size_t i = 0; i < c->nidx; i++)
            attn_rle_put(&r, &w->page, c->idx[i]);
        attn_rle_finish(&r, &w->page);
        c->used_dict = 1;
    } else {
        if (c->bool_bits > 0)
            attn_buf_put(&c->vals, (const char *)&c->bool_acc, 1);
        if (c->vals.len)
            attn_buf_put(&w->page, c->vals.ptr, c->vals.len);
        c->used_plain = 1;
    }
    w->rg_bytes += w->page.len;
    if (emit_page(w, &c->chunk, PAGE_DATA, (int32_t)c->page_rows, encoding,
                  &c->chunk_uncompressed, err) < 0)
        return -1;
    attn_buf_clear(&c->defs);
    attn_rle_init(&c->defs_rle, 1);
    attn_buf_clear(&c->vals);
    c->nidx = 0;
    c->page_rows = 0;
    c->bool_acc = 0;
    c->bool_bits = 0;
    if (c->fell_back)
        c->dict_on = 0;
    return 0;
}

/* ---- the dictionary ---- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void dict_rehash(pq_column *c, size_t nslots)
{
    uint32_t *slots = attn_xcalloc(nslots, sizeof(*slots));
    for (size_t i = 0; i < c->nents; i++) {
        size_t h = hash_bytes(c->dict_data.ptr + c->ents[i].off, c->ents[i].len) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)i + 1;
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = nslots;
    }

/* Index of s in the dictionary, adding it: >= 0, or -2 when it is full. */
static long dict_index(pq_column *c, size_t limit, const char *s, size_t n)
{
    size_t h;
    if (c->nents * 2 >= c->nslots)
        dict_rehash(c, c->nslots ? c->nslots * 2 : 1024);
    h = hash_bytes(s, n) & (c->nslots - 1);
    while (c->slots[h]) {
        dict_entry *e = &c->ents[c->slots[h] - 1];
        if (e->len == n && !memcmp(c->dict_data.ptr + e->off, s, n))
            return (long)c->slots[h] - 1;
        h = (h + 1) & (c->nslots - 1);
    }
    if (c->dict_data.len + n + 4 > limit || c->nents >= INT32_MAX / 2)
        return -2;
    ATTN_ALLOC_GROW(c->ents, c->nents + 1, c->ents_cap);
    attn_pq_plain_bytes(&c->dict_data, s, n);
    c->ents[c->nents].off = (uint32_t)(c->dict_data.len - n);
    c->ents[c->nents].len = (uint32_t)n;
    c->slots[h] = (uint32_t)c->nents + 1;
    return (long)c->nents++;
}

static void dict_reset(pq_column *c)
{
    attn_buf_clear(&c->dict_data);
    c->nents = 0;
    if (c->slots)
        memset(c->slots, 0, c->nslots * sizeof(*c->slots));
    c->dict_on = c->def.type == ATTN_PQ_STRING;
    c->fell_back = 0;
}

/* ---- values ---- */

static pq_column *begin_value(attn_pq_writer *w, size_t col, int is_null, attn_pq_type want)
{
    pq_column *c;
    if (w->fail.code)
        return NULL;
    if (col >= w->ncols) {
        attn_error_set(&w->fail, ATTN_EINVAL, "parquet %s: no column %zu", w->path, col);
        return NULL;
    }
    c = &w->cols[col];
    if (c->set) {
        fail(w, ATTN_EINVAL, "two values in one row", c);
        return NULL;
    }
    if (is_null && !c->def.nullable) {
        fail(w, ATTN_EINVAL, "NULL in a required column", c);
        return NULL;
    }
    if (!is_null && c->def.type != want &&
        !(want == ATTN_PQ_INT64 && c->def.type == ATTN_PQ_TIMESTAMP)) {
        fail(w, ATTN_EINVAL, "value of the wrong type", c);
        return NULL;
    }
    if (c->def.nullable)
        attn_rle_put(&c->defs_rle, &c->defs, is_null ? 0 : 1);
    c->set = 1;
    c->page_rows++;
    c->chunk_values++;
    if (is_null)
        c->chunk_nulls++;
    return c;
}

void attn_pq_null(attn_pq_writer *w, size_t col)
{
    begin_value(w, col, 1, ATTN_PQ_INT64);
}

void attn_pq_i64(attn_pq_writer *w, size_t col, int64_t v)
{
    pq_column *c = begin_value(w, col, 0, ATTN_PQ_INT64);
    if (!c)
        return;
    attn_pq_plain_i64(&c->vals, v);
    if (!c->has_minmax || v < c->min_i)
        c->min_i = v;
    if (!c->has_minmax || v > c->max_i)
        c->max_i = v;
    c->has_minmax = 1;
}

void attn_pq_f64(attn_pq_writer *w, size_t col, double v)
{
    pq_column *c = begin_value(w, col, 0, ATTN_PQ_DOUBLE);
    if (!c)
        return;
    attn_pq_plain_f64(&c->vals, v);
    if (isnan(v))
        return; /* NaN has no place in min/max */
    if (!c->has_minmax || v < c->min_d)
        c->min_d = v;
    if (!c->has_minmax || v > c->max_d)
        c->max_d = v;
    c->has_minmax = 1;
}

void attn_pq_bool(attn_pq_writer *w, size_t col, int v)
{
    pq_column *c = begin_value(w, col, 0, ATTN_PQ_BOOL);
    int64_t b = v ? 1 : 0;
    if (!c)
        return;
    if (b)
        c->bool_acc |= (uint8_t)(1u << c->bool_bits);
    if (++c->bool_bits == 8) {
        attn_buf_put(&c->vals, (const char *)&c->bool_acc, 1);
        c->bool_acc = 0;
        c->bool_bits = 0;
    }
    if (!c->has_minmax || b < c->min_i)
        c->min_i = b;
    if (!c->has_minmax || b > c->max_i)
        c->max_i = b;
    c->has_minmax = 1;
}

/* Unsigned bytewise order, shorter prefix first: Parquet's order for strings. */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : (an > bn) - (an < bn);
}

static int set_buf(attn_buf *b, const char *s, size_t n)
{
    attn_buf_clear(b);
    if (n == 0)
        return attn_buf_grow(b, 1);
    return attn_buf_put(b, s, n);
}

void attn_pq_str(attn_pq_writer *w, size_t col, const char *s, size_t n)
{
    pq_column *c;
    if (!s)
        s = "";
    /* a full dictionary closes the open page (before this row's level is recorded) */
    if (!w->fail.code && col < w->ncols && w->cols[col].dict_on && !w->cols[col].fell_back &&
        w->cols[col].def.type == ATTN_PQ_STRING && !w->cols[col].set) {
        pq_column *d = &w->cols[col];
        long idx = dict_index(d, w->opts.dict_bytes, s, n);
        if (idx == -2) {
            attn_error e;
            d->fell_back = d->ever_fell_back = 1;
            if (flush_page(w, d, &e) < 0) {
                w->fail = e;
                return;
            }
            d->dict_on = 0;
        } else {
            if (!(c = begin_value(w, col, 0, ATTN_PQ_STRING)))
                return;
            ATTN_ALLOC_GROW(c->idx, c->nidx + 1, c->idx_cap);
            c->idx[c->nidx++] = (uint32_t)idx;
            goto stats;
        }
    }
    if (!(c = begin_value(w, col, 0, ATTN_PQ_STRING)))
        return;
    attn_pq_plain_bytes(&c->vals, s, n);
stats:
    if (!c->has_minmax || bytes_cmp(s, n, c->min_s.ptr, c->min_s.len) < 0)
        set_buf(&c->min_s, s, n);
    if (!c->has_minmax || bytes_cmp(s, n, c->max_s.ptr, c->max_s.len) > 0)
        set_buf(&c->max_s, s, n);
    c->has_minmax = 1;
}

/* ---- chunks and row groups ---- */

static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_stats(attn_tc *t, const pq_column *c)
{
    unsigned char mn[8], mx[8];
    const void *pmin = mn, *pmax = mx;
    size_t nmin = 8, nmax = 8;
    uint64_t u;

    attn_tc_struct_begin(t, 12);
    attn_tc_i64(t, 3, c->chunk_nulls);
    if (c->has_minmax) {
        switch (c->def.type) {
        case ATTN_PQ_DOUBLE:
            memcpy(&u, &c->min_d, 8);
            le64(mn, u);
            memcpy(&u, &c->max_d, 8);
            le64(mx, u);
            break;
        case ATTN_PQ_STRING:
            pmin = c->min_s.ptr, nmin = c->min_s.len;
            pmax = c->max_s.ptr, nmax = c->max_s.len;
            break;
        case ATTN_PQ_BOOL:
            mn[0] = (unsigned char)c->min_i, mx[0] = (unsigned char)c->max_i;
            nmin = nmax = 1;
            break;
        default:
            le64(mn, (uint64_t)c->min_i);
            le64(mx, (uint64_t)c->max_i);
        }
        if (nmin <= 256 && nmax <= 256) { /* long strings: no min/max rather than a truncated one */
            attn_tc_binary(t, 5, pmax, nmax);
            attn_tc_binary(t, 6, pmin, nmin);
        }
    }
    attn_tc_struct_end(t);
}

/* Write column c's chunk (dictionary page, data pages) and its ColumnChunk struct. */
static int write_chunk(attn_pq_writer *w, pq_column *c, attn_tc *t, int64_t *uncomp, int64_t *comp,
                       attn_error *err)
{
    int64_t start = w->offset, dict_off = -1, data_off;
    attn_buf dict = ATTN_BUF_INIT;
    int ne;

    if (flush_page(w, c, err) < 0)
        return -1;
    ne = 1 + c->used_plain + c->used_dict;
    if (c->used_dict) {
        attn_buf_clear(&w->page);
        if (c->dict_data.len)
            attn_buf_put(&w->page, c->dict_data.ptr, c->dict_data.len);
        w->rg_bytes += w->page.len;
        if (emit_page(w, &dict, PAGE_DICTIONARY, (int32_t)c->nents, ENC_PLAIN_DICTIONARY,
                      &c->chunk_uncompressed, err) < 0) {
            attn_buf_free(&dict);
            return -1;
        }
        dict_off = w->offset;
        if (out_write(w, dict.ptr, dict.len, err) < 0) {
            attn_buf_free(&dict);
            return -1;
        }
    }
    data_off = w->offset;
    if (out_write(w, c->chunk.ptr, c->chunk.len, err) < 0) {
        attn_buf_free(&dict);
        return -1;
    }
    *uncomp += c->chunk_uncompressed;
    *comp += w->offset - start;

    attn_tc_elem_begin(t); /* ColumnChunk */
    attn_tc_i64(t, 2, start);
    attn_tc_struct_begin(t, 3); /* ColumnMetaData */
    attn_tc_i32(t, 1, physical_type(c->def.type));
    attn_tc_list(t, 2, ATTN_TC_I32, (size_t)ne);
    if (c->used_dict)
        attn_tc_elem_i32(t, ENC_PLAIN_DICTIONARY);
    if (c->used_plain)
        attn_tc_elem_i32(t, ENC_PLAIN);
    attn_tc_elem_i32(t, ENC_RLE);
    attn_tc_list(t, 3, ATTN_TC_BINARY, 1);
    attn_tc_elem_binary(t, c->name, strlen(c->name));
    attn_tc_i32(t, 4, w->opts.zstd_level > 0 ? CODEC_ZSTD : CODEC_UNCOMPRESSED);
    attn_tc_i64(t, 5, c->chunk_values);
    attn_tc_i64(t, 6, c->chunk_uncompressed);
    attn_tc_i64(t, 7, w->offset - start);
    attn_tc_i64(t, 9, data_off);
    if (dict_off >= 0)
        attn_tc_i64(t, 11, start);
    put_stats(t, c);
    attn_tc_struct_end(t); /* ColumnMetaData */
    attn_tc_struct_end(t); /* ColumnChunk */

    attn_buf_free(&dict);
    attn_buf_clear(&c->chunk);
    c->chunk_values = c->chunk_nulls = c->chunk_uncompressed = 0;
    c->used_plain = c->used_dict = 0;
    c->has_minmax = 0;
    dict_reset(c);
    return 0;
}

static int flush_row_group(attn_pq_writer *w, attn_error *err)
{
    attn_buf rg = ATTN_BUF_INIT;
    attn_tc t;
    int64_t start = w->offset, uncomp = 0, comp = 0;

    if (w->rg_row_count == 0)
        return 0;
    attn_tc_init(&t, &rg);
    attn_tc_list(&t, 1, ATTN_TC_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++)
        if (write_chunk(w, &w->cols[i], &t, &uncomp, &comp, err) < 0) {
            attn_buf_free(&rg);
            return -1;
        }
    attn_tc_i64(&t, 2, uncomp);
    attn_tc_i64(&t, 3, w->rg_row_count);
    attn_tc_i64(&t, 5, start);
    attn_tc_i64(&t, 6, comp);
    attn_tc_field(&t, 7, ATTN_TC_I16);
    attn_pq_uvarint(&rg, attn_pq_zigzag((int64_t)w->nrg));
    attn_tc_stop(&t);
    if (t.failed) {
        attn_buf_free(&rg);
        return attn_error_set(err, ATTN_EINVAL, "parquet %s: row group metadata nests too deep",
                              w->path);
    }
    attn_buf_put(&w->rg_meta, rg.ptr, rg.len);
    attn_buf_free(&rg);
    w->nrg++;
    w->rg_row_count = 0;
    w->rg_bytes = 0;
    return 0;
}

int attn_pq_end_row(attn_pq_writer *w, attn_error *err)
{
    size_t pending = 0;
    if (w->fail.code) {
        *err = w->fail;
        return w->fail.code;
    }
    for (size_t i = 0; i < w->ncols; i++) {
        if (!w->cols[i].set)
            return attn_error_set(err, ATTN_EINVAL, "parquet %s: row %lld has no value for column '%s'",
                                  w->path, (long long)w->rows, w->cols[i].name);
        w->cols[i].set = 0;
    }
    w->rows++;
    w->rg_row_count++;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_column *c = &w->cols[i];
        if (page_estimate(c) >= w->opts.page_bytes && flush_page(w, c, err) < 0)
            return -1;
        pending += page_estimate(c);
    }
    if ((size_t)w->rg_row_count >= w->opts.rg_rows || w->rg_bytes + pending >= w->opts.rg_bytes)
        return flush_row_group(w, err);
    return 0;
}

/* ---- the file ---- */

static void put_schema(attn_pq_writer *w, attn_tc *t)
{
    attn_tc_list(t, 2, ATTN_TC_STRUCT, w->ncols + 1);
    attn_tc_elem_begin(t);
    attn_tc_string(t, 4, "schema");
    attn_tc_i32(t, 5, (int32_t)w->ncols);
    attn_tc_struct_end(t);
    for (size_t i = 0; i < w->ncols; i++) {
        const pq_column *c = &w->cols[i];
        attn_tc_elem_begin(t);
        attn_tc_i32(t, 1, physical_type(c->def.type));
        attn_tc_i32(t, 3, c->def.nullable ? 1 : 0);
        attn_tc_string(t, 4, c->name);
        if (c->def.type == ATTN_PQ_STRING) {
            attn_tc_i32(t, 6, 0); /* ConvertedType UTF8 */
            attn_tc_struct_begin(t, 10);
            attn_tc_struct_begin(t, 1); /* STRING */
            attn_tc_struct_end(t);
            attn_tc_struct_end(t);
        } else if (c->def.type == ATTN_PQ_TIMESTAMP) {
            attn_tc_i32(t, 6, 10); /* ConvertedType TIMESTAMP_MICROS */
            attn_tc_struct_begin(t, 10);
            attn_tc_struct_begin(t, 8); /* TIMESTAMP */
            attn_tc_bool(t, 1, 1);      /* isAdjustedToUTC */
            attn_tc_struct_begin(t, 2); /* unit */
            attn_tc_struct_begin(t, 2); /* MICROS */
            attn_tc_struct_end(t);
            attn_tc_struct_end(t);
            attn_tc_struct_end(t);
            attn_tc_struct_end(t);
        }
        attn_tc_struct_end(t);
    }
}

static int write_footer(attn_pq_writer *w, attn_error *err)
{
    attn_buf meta = ATTN_BUF_INIT;
    attn_tc t;
    unsigned char tail[8];
    int rc;

    attn_tc_init(&t, &meta);
    attn_tc_i32(&t, 1, 1);
    put_schema(w, &t);
    attn_tc_i64(&t, 3, w->rows);
    attn_tc_list(&t, 4, ATTN_TC_STRUCT, w->nrg);
    if (w->rg_meta.len && attn_buf_put(&meta, w->rg_meta.ptr, w->rg_meta.len) < 0)
        t.failed = 1;
    attn_tc_string(&t, 6, "attn " ATTN_VERSION);
    attn_tc_list(&t, 7, ATTN_TC_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        attn_tc_elem_begin(&t);
        attn_tc_struct_begin(&t, 1); /* TYPE_ORDER */
        attn_tc_struct_end(&t);
        attn_tc_struct_end(&t);
    }
    attn_tc_stop(&t);
    if (t.failed) {
        attn_buf_free(&meta);
        return attn_error_set(err, ATTN_EINVAL, "parquet %s: file metadata nests too deep", w->path);
    }
    tail[0] = (unsigned char)(meta.len), tail[1] = (unsigned char)(meta.len >> 8);
    tail[2] = (unsigned char)(meta.len >> 16), tail[3] = (unsigned char)(meta.len >> 24);
    memcpy(tail + 4, "PAR1", 4);
    rc = out_write(w, meta.ptr, meta.len, err);
    if (rc == 0)
        rc = out_write(w, tail, 8, err);
    attn_buf_free(&meta);
    return rc;
}

static void free_writer(attn_pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_column *c = &w->cols[i];
        free(c->name);
        attn_buf_free(&c->defs);
        attn_buf_free(&c->vals);
        free(c->idx);
        attn_buf_free(&c->dict_data);
        free(c->ents);
        free(c->slots);
        attn_buf_free(&c->chunk);
        attn_buf_free(&c->min_s);
        attn_buf_free(&c->max_s);
    }
    free(w->cols);
    attn_buf_free(&w->rg_meta);
    attn_buf_free(&w->page);
    attn_buf_free(&w->scratch);
    ZSTD_freeCCtx(w->zc);
    if (w->f)
        fclose(w->f);
    free(w->path);
    free(w);
}

int attn_pq_open(const char *path, const attn_pq_col *cols, size_t ncols, const attn_pq_opts *opts,
                 attn_pq_writer **out, attn_error *err)
{
    attn_pq_writer *w = attn_xcalloc(1, sizeof(*w));
    *out = NULL;
    w->path = attn_xstrdup(path);
    w->cols = attn_xcalloc(ncols ? ncols : 1, sizeof(*w->cols));
    w->zc = attn_xcheck(ZSTD_createCCtx());
    if (opts)
        w->opts = *opts;
    else
        attn_pq_opts_default(&w->opts);
    if (ncols == 0) {
        free_writer(w);
        return attn_error_set(err, ATTN_EINVAL, "parquet %s: a table needs at least one column", path);
    }
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        pq_column *c = &w->cols[i];
        c->def = cols[i];
        c->name = attn_xstrdup(cols[i].name);
        c->def.name = c->name;
        attn_rle_init(&c->defs_rle, 1);
        dict_reset(c);
    }
    if (!(w->f = fopen(path, "wb"))) {
        attn_error_set(err, ATTN_EIO, "cannot create %s: %s", path, strerror(errno));
        free_writer(w);
        return ATTN_EIO;
    }
    if (out_write(w, "PAR1", 4, err) < 0) {
        attn_pq_abort(w);
        return ATTN_EIO;
    }
    *out = w;
    return 0;
}

int attn_pq_close(attn_pq_writer *w, int64_t *rows, attn_error *err)
{
    int rc = 0;
    if (w->fail.code) {
        *err = w->fail;
        attn_pq_abort(w);
        return err->code;
    }
    for (size_t i = 0; i < w->ncols; i++)
        if (w->cols[i].set) {
            attn_error_set(err, ATTN_EINVAL, "parquet %s: the last row was not ended", w->path);
            attn_pq_abort(w);
            return ATTN_EINVAL;
        }
    if (flush_row_group(w, err) < 0 || write_footer(w, err) < 0) {
        attn_pq_abort(w);
        return err->code ? err->code : ATTN_EIO;
    }
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0 || fclose(w->f) != 0) {
        w->f = NULL;
        rc = attn_error_set(err, ATTN_EIO, "writing %s: %s", w->path, strerror(errno));
        unlink(w->path);
    }
    w->f = NULL;
    if (rows)
        *rows = w->rows;
    free_writer(w);
    return rc;
}

void attn_pq_abort(attn_pq_writer *w)
{
    if (!w)
        return;
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
    }
    unlink(w->path);
    free_writer(w);
}

size_t attn_pq_row_groups(const attn_pq_writer *w)
{
    return w->nrg;
}

int attn_pq_dict_fell_back(const attn_pq_writer *w, size_t col)
{
    return col < w->ncols && w->cols[col].ever_fell_back;
}
