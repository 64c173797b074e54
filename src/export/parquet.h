/*
 * parquet.h - attn's streaming Parquet writer (no Arrow: Debian packages none).
 *
 * Rows are appended one value per column, then attn_pq_end_row. Values go to
 * per-column pages (PLAIN, or dictionary indices for strings until the
 * dictionary outgrows its bound, then PLAIN for the rest of the row group);
 * full pages are ZSTD-compressed into the row group's buffers, and a row group
 * is written out once it reaches its row or byte bound. Memory is bounded by
 * the row-group byte bound plus one page per column, never by the table. The
 * footer is Thrift compact protocol, with per-chunk min/max/null_count
 * statistics and TYPE_ORDER column orders.
 *
 * Owns the file it writes (at path, truncated); the caller chooses the path
 * (temp name + rename for atomic artifacts). Never reads anything back.
 */
#ifndef ATTN_EXPORT_PARQUET_H
#define ATTN_EXPORT_PARQUET_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

typedef enum {
    ATTN_PQ_INT64 = 1,   /* INT64 */
    ATTN_PQ_TIMESTAMP,   /* INT64, TIMESTAMP(isAdjustedToUTC=true, MICROS); values in microseconds */
    ATTN_PQ_DOUBLE,      /* DOUBLE */
    ATTN_PQ_STRING,      /* BYTE_ARRAY, STRING (UTF8) logical type */
    ATTN_PQ_BOOL         /* BOOLEAN */
} attn_pq_type;

typedef struct {
    const char *name;
    attn_pq_type type;
    int nullable;        /* OPTIONAL (with RLE definition levels) vs REQUIRED */
} attn_pq_col;

typedef struct {
    size_t rg_rows;      /* a row group ends after this many rows (default 1,000,000) */
    size_t rg_bytes;     /* ... or this many uncompressed page bytes (default 32 MiB) */
    size_t page_bytes;   /* a data page ends at about this size (default 256 KiB) */
    size_t dict_bytes;   /* dictionary bound per column chunk; past it, PLAIN (default 512 KiB) */
    int zstd_level;      /* 1..19; 0 writes UNCOMPRESSED pages (default 3) */
} attn_pq_opts;

void attn_pq_opts_default(attn_pq_opts *o);

typedef struct attn_pq_writer attn_pq_writer;

/* Create path and start a file with ncols columns (names are copied). opts may be NULL. */
int attn_pq_open(const char *path, const attn_pq_col *cols, size_t ncols, const attn_pq_opts *opts,
                 attn_pq_writer **out, attn_error *err);

/* One value for column col of the current row. Errors (a NULL in a REQUIRED
 * column, a type mismatch, memory) are sticky and reported by end_row/close. */
void attn_pq_null(attn_pq_writer *w, size_t col);
void attn_pq_i64(attn_pq_writer *w, size_t col, int64_t v);
void attn_pq_f64(attn_pq_writer *w, size_t col, double v);
void attn_pq_bool(attn_pq_writer *w, size_t col, int v);
void attn_pq_str(attn_pq_writer *w, size_t col, const char *s, size_t len);

/* Finish the row: every column must have had exactly one value. */
int attn_pq_end_row(attn_pq_writer *w, attn_error *err);

/* Flush the last row group, write the footer, close and free. Rows written so far go to *rows (may be NULL). */
int attn_pq_close(attn_pq_writer *w, int64_t *rows, attn_error *err);

/* Close, free and delete the partial file. NULL is fine. */
void attn_pq_abort(attn_pq_writer *w);

/* Counters for tests and progress: row groups written so far, and whether
 * column col fell back from dictionary to PLAIN in any row group. */
size_t attn_pq_row_groups(const attn_pq_writer *w);
int attn_pq_dict_fell_back(const attn_pq_writer *w, size_t col);

#endif
