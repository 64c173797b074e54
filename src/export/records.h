/*
 * records.h - evaluation records in PostgreSQL (seed 003): the versioned
 * migrations (db/migrations/0001_eval_records.sql: eval_runs, eval_samples,
 * views eval_headline and eval_router_leaderboard), a generated SQL script of
 * idempotent upserts, a direct load through libpq (COPY, one transaction per
 * run) and a contract check that prints eval_run_report.json.
 *
 * Reads runs only through report.json and per_pr.jsonl (run_export.h); a
 * run is validated completely before anything is written, so a broken run
 * directory writes nothing. Loading the same run twice changes no row (the
 * upserts skip identical rows). Never writes to the run directories.
 */
#ifndef ATTN_EXPORT_RECORDS_H
#define ATTN_EXPORT_RECORDS_H

#include <jansson.h>
#include <stdio.h>
#include "util/error.h"

#define ATTN_RECORDS_CONTRACT "attn.records.v1"

/* Migration n (1-based) and how many there are. */
const char *attn_records_migration(int n);
int attn_records_n_migrations(void);

/* The whole script (migrations, then every run's upserts, one transaction) to out. */
int attn_records_sql(const char *data_dir, const char *repo, char *const *run_ids, int n, FILE *out,
                     attn_error *err);

/* Load runs into the database at pg_url; *summary: {runs: [{run_id, samples}]}. */
int attn_records_push(const char *data_dir, const char *repo, char *const *run_ids, int n,
                      const char *pg_url, int quiet, json_t **summary, attn_error *err);

/* Check the contract of the database at pg_url against repo's run
 * directories; *report is eval_run_report.json ("ok" false when a check failed). */
int attn_records_check(const char *data_dir, const char *repo, const char *pg_url, json_t **report,
                       attn_error *err);

#endif
