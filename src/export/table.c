/*
 * table.c - Parquet/CSV table sinks, SQLite-to-sink streaming, file hashing
 * (see table.h).
 */
#include "export/table.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/time.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct attn_sink {
    attn_sink_format fmt;
    attn_pq_writer *pq;
    /* CSV */
    FILE *f;
    char *path;
    attn_pq_col *cols;
    size_t ncols;
    char **cells;      /* the current row's fields, already quoted */
    int64_t rows;
    attn_error fail;
};

static void csv_free(attn_sink *s)
{
    if (s->cells)
        for (size_t i = 0; i < s->ncols; i++)
            free(s->cells[i]);
    free(s->cells);
    free(s->cols);
    free(s->path);
    if (s->f)
        fclose(s->f);
    free(s);
}

static char *csv_quote(const char *v)
{
    attn_buf b = ATTN_BUF_INIT;
    int need = strpbrk(v, ",\"\r\n") != NULL || !*v; /* "" distinguishes empty text from NULL */
    if (need)
        attn_buf_putc(&b, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            attn_buf_putc(&b, '"');
        attn_buf_putc(&b, *p);
    }
    if (need)
        attn_buf_putc(&b, '"');
    return attn_buf_detach(&b);
}

int attn_sink_open(const char *path, attn_sink_format fmt, const attn_pq_col *cols, size_t ncols,
                   const attn_pq_opts *opts, attn_sink **out, attn_error *err)
{
    attn_sink *s = attn_xcalloc(1, sizeof(*s));
    *out = NULL;
    s->fmt = fmt;
    s->ncols = ncols;
    s->path = attn_xstrdup(path);
    s->cols = attn_xcalloc(ncols ? ncols : 1, sizeof(*cols));
    s->cells = attn_xcalloc(ncols ? ncols : 1, sizeof(char *));
    memcpy(s->cols, cols, ncols * sizeof(*cols));
    if (fmt == ATTN_SINK_PARQUET) {
        int rc = attn_pq_open(path, cols, ncols, opts, &s->pq, err);
        if (rc) {
            csv_free(s);
            return rc;
        }
        *out = s;
        return 0;
    }
    if (!(s->f = fopen(path, "wb"))) {
        attn_error_set(err, ATTN_EIO, "cannot create %s: %s", path, strerror(errno));
        csv_free(s);
        return ATTN_EIO;
    }
    for (size_t i = 0; i < ncols; i++)
        fprintf(s->f, "%s%s", i ? "," : "", cols[i].name);
    fputs("\r\n", s->f);
    *out = s;
    return 0;
}

static void csv_cell(attn_sink *s, size_t col, char *v)
{
    /* v is never NULL (the x-wrappers); a column past the header is a caller's error */
    if (col >= s->ncols) {
        free(v);
        if (!s->fail.code)
            attn_error_set(&s->fail, ATTN_EINVAL, "writing %s: no column %zu (of %zu)", s->path,
                           col, s->ncols);
        return;
    }
    free(s->cells[col]);
    s->cells[col] = v;
}

void attn_sink_null(attn_sink *s, size_t col)
{
    if (s->pq)
        attn_pq_null(s->pq, col);
    else
        csv_cell(s, col, attn_xstrdup(""));
}

void attn_sink_i64(attn_sink *s, size_t col, int64_t v)
{
    char b[64];
    if (s->pq) {
        attn_pq_i64(s->pq, col, v);
        return;
    }
    if (col < s->ncols && s->cols[col].type == ATTN_PQ_TIMESTAMP) {
        char t[ATTN_TIME_BUFSZ];
        int64_t sec = v / 1000000, us = v % 1000000;
        if (us < 0)
            sec--, us += 1000000;
        attn_time_format(sec, t);
        t[strlen(t) - 1] = '\0'; /* drop Z, add the fraction */
        snprintf(b, sizeof(b), "%s.%06lldZ", t, (long long)us);
    } else {
        snprintf(b, sizeof(b), "%lld", (long long)v);
    }
    csv_cell(s, col, attn_xstrdup(b));
}

void attn_sink_f64(attn_sink *s, size_t col, double v)
{
    char b[64];
    if (s->pq) {
        attn_pq_f64(s->pq, col, v);
        return;
    }
    snprintf(b, sizeof(b), "%.17g", v);
    csv_cell(s, col, attn_xstrdup(b));
}

void attn_sink_bool(attn_sink *s, size_t col, int v)
{
    if (s->pq)
        attn_pq_bool(s->pq, col, v);
    else
        csv_cell(s, col, attn_xstrdup(v ? "true" : "false"));
}

void attn_sink_str(attn_sink *s, size_t col, const char *v)
{
    if (!v)
        attn_sink_null(s, col);
    else if (s->pq)
        attn_pq_str(s->pq, col, v, strlen(v));
    else
        csv_cell(s, col, csv_quote(v));
}

int attn_sink_end_row(attn_sink *s, attn_error *err)
{
    if (s->pq)
        return attn_pq_end_row(s->pq, err);
    if (s->fail.code) {
        *err = s->fail;
        return err->code;
    }
    for (size_t i = 0; i < s->ncols; i++) {
        if (!s->cells[i])
            return attn_error_set(err, ATTN_EINVAL, "%s: row %lld has no value for column '%s'",
                                  s->path, (long long)s->rows, s->cols[i].name);
        fprintf(s->f, "%s%s", i ? "," : "", s->cells[i]);
        free(s->cells[i]);
        s->cells[i] = NULL;
    }
    fputs("\r\n", s->f);
    s->rows++;
    return 0;
}

int attn_sink_close(attn_sink *s, int64_t *rows, attn_error *err)
{
    int rc = 0;
    if (s->pq) {
        rc = attn_pq_close(s->pq, rows, err);
        csv_free(s);
        return rc;
    }
    if (fflush(s->f) != 0 || fsync(fileno(s->f)) != 0 || ferror(s->f))
        rc = attn_error_set(err, ATTN_EIO, "writing %s: %s", s->path, strerror(errno));
    if (fclose(s->f) != 0 && !rc)
        rc = attn_error_set(err, ATTN_EIO, "writing %s: %s", s->path, strerror(errno));
    s->f = NULL;
    if (rc)
        unlink(s->path);
    if (rows)
        *rows = s->rows;
    csv_free(s);
    return rc;
}

void attn_sink_abort(attn_sink *s)
{
    if (!s)
        return;
    if (s->pq) {
        attn_pq_abort(s->pq);
        csv_free(s);
        return;
    }
    fclose(s->f);
    s->f = NULL;
    unlink(s->path);
    csv_free(s);
}

int attn_sink_from_stmt(attn_sink *s, sqlite3_stmt *st, void (*progress)(void *, int64_t),
                        void *ctx, attn_error *err)
{
    int rc, n = sqlite3_column_count(st);
    int64_t rows = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            attn_pq_type t = (size_t)i < s->ncols ? s->cols[i].type : ATTN_PQ_INT64;
            if (sqlite3_column_type(st, i) == SQLITE_NULL) {
                attn_sink_null(s, (size_t)i);
                continue;
            }
            switch (t) {
            case ATTN_PQ_TIMESTAMP: attn_sink_i64(s, (size_t)i, sqlite3_column_int64(st, i) * 1000000); break;
            case ATTN_PQ_DOUBLE: attn_sink_f64(s, (size_t)i, sqlite3_column_double(st, i)); break;
            case ATTN_PQ_BOOL: attn_sink_bool(s, (size_t)i, sqlite3_column_int64(st, i) != 0); break;
            case ATTN_PQ_STRING: attn_sink_str(s, (size_t)i, (const char *)sqlite3_column_text(st, i)); break;
            default: attn_sink_i64(s, (size_t)i, sqlite3_column_int64(st, i));
            }
        }
        if (attn_sink_end_row(s, err) < 0)
            return err->code;
        if (progress && (++rows & 0xffff) == 0)
            progress(ctx, rows);
    }
    if (rc != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "export query: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
    return 0;
}

int attn_export_hash_file(const char *path, char hex[65], int64_t *bytes, attn_error *err)
{
    unsigned char md[32], block[65536];
    unsigned int mdlen = 0;
    size_t n;
    int64_t total = 0;
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *c;

    if (!f)
        return attn_error_set(err, ATTN_EIO, "cannot read %s: %s", path, strerror(errno));
    if (!(c = EVP_MD_CTX_new()) || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        fclose(f);
        return attn_error_set(err, ATTN_EIO, "sha256 of %s: libcrypto failed", path);
    }
    while ((n = fread(block, 1, sizeof(block), f)) > 0) {
        EVP_DigestUpdate(c, block, n);
        total += (int64_t)n;
    }
    fclose(f);
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (bytes)
        *bytes = total;
    return 0;
}
