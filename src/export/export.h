/*
 * export.h - `attn export parquet`: the history store as flat Parquet tables
 * (prs, pr_files, pr_activity, optional prs_text, truth_behavior,
 * truth_intent) plus export_manifest.json, for DuckDB, Spark or pandas.
 *
 * Every feature column is as of the PR's cutoff (its created_at), read from
 * interval tables, never from the mutable "latest" columns; outcome and truth
 * columns carry their own times, and the manifest says per column what a
 * consumer must filter on to stay leakage-safe. Owns DATA/exports/O/R/ID/,
 * written under a temporary name and renamed into place; never writes to the
 * store (opened read-only).
 */
#ifndef ATTN_EXPORT_EXPORT_H
#define ATTN_EXPORT_EXPORT_H

#include <jansson.h>
#include <stdint.h>
#include "export/parquet.h"
#include "util/error.h"

#define ATTN_EXPORT_CONTRACT "attn.export.v1"

typedef struct {
    const char *data_dir, *repo, *export_run_id;
    int64_t from, end_at;          /* PRs created in [from, end_at); ATTN_NULL_I64: unbounded */
    int include_text, include_truth;
    int64_t activity_lookback_days; /* pr_activity starts this long before from (default 180) */
    int64_t truth_window_days;      /* ... and ends this long after end_at; truth_behavior window (30) */
    int64_t intent_window_minutes;  /* truth_intent: requests in [cutoff, cutoff + this) (60) */
    attn_pq_opts pq;
    int quiet;
    int progress;                   /* ATTN_PROGRESS_* (util/progress.h); 0 with quiet */
} attn_export_opts;

void attn_export_opts_default(attn_export_opts *o);

/* Write the export; on success *manifest (may be NULL) is the manifest written. */
int attn_export_parquet(const attn_export_opts *o, json_t **manifest, attn_error *err);

/* The manifest's schema of a table: [{name, type, nullable, as_of}] (as_of may be NULL). */
json_t *attn_export_schema_json(const attn_pq_col *cols, const char *const *as_of, size_t n);

#endif
