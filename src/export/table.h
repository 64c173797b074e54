/*
 * table.h - a table sink: rows of typed values written either as Parquet
 * (parquet.h) or as CSV (RFC 4180, header line, NULL as an empty field,
 * timestamps as YYYY-MM-DDTHH:MM:SS.ffffffZ), plus the helpers every export
 * shares: streaming a SQLite statement into a sink and hashing a written
 * file.
 *
 * Owns only the file it writes; never opens a store or decides what a
 * table holds (export.c and run_export.c do).
 */
#ifndef ATTN_EXPORT_TABLE_H
#define ATTN_EXPORT_TABLE_H

#include <sqlite3.h>
#include <stdint.h>
#include "export/parquet.h"
#include "util/error.h"

typedef enum { ATTN_SINK_PARQUET, ATTN_SINK_CSV } attn_sink_format;

typedef struct attn_sink attn_sink;

int attn_sink_open(const char *path, attn_sink_format fmt, const attn_pq_col *cols, size_t ncols,
                   const attn_pq_opts *opts, attn_sink **out, attn_error *err);
void attn_sink_null(attn_sink *s, size_t col);
void attn_sink_i64(attn_sink *s, size_t col, int64_t v);   /* TIMESTAMP columns: microseconds */
void attn_sink_f64(attn_sink *s, size_t col, double v);
void attn_sink_bool(attn_sink *s, size_t col, int v);
void attn_sink_str(attn_sink *s, size_t col, const char *v); /* NULL writes NULL */
int attn_sink_end_row(attn_sink *s, attn_error *err);
int attn_sink_close(attn_sink *s, int64_t *rows, attn_error *err);
void attn_sink_abort(attn_sink *s);

/* Every row of st (already bound) into s: column i of the result feeds
 * column i of the sink; TIMESTAMP columns read epoch seconds and write
 * microseconds; BOOL columns read integers. Calls progress (may be NULL)
 * every 65,536 rows. */
int attn_sink_from_stmt(attn_sink *s, sqlite3_stmt *st, void (*progress)(void *, int64_t),
                        void *ctx, attn_error *err);

/* SHA-256 (hex) and size of a file, read in blocks. */
int attn_export_hash_file(const char *path, char hex[65], int64_t *bytes, attn_error *err);

#endif
