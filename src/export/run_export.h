/*
 * run_export.h - `attn export run`: an evaluation run as flat long tables
 * with fixed column names whatever the routers and policies are.
 *
 *   run_routes      (PR, router, policy): cutoff, truth status, first-hit
 *                   rank, hit@1/3/5, reciprocal rank, top-1, candidate count
 *   run_candidates  (PR, router, rank, candidate): score
 *   run_truth       (PR, policy, truth target)
 *
 * Reads the run only through per_pr.jsonl, report.json and eval/pack.h
 * (never prs/<n>/... directly). Owns the output folder (temp name + rename);
 * never modifies the run.
 */
#ifndef ATTN_EXPORT_RUN_EXPORT_H
#define ATTN_EXPORT_RUN_EXPORT_H

#include <jansson.h>
#include "util/error.h"

/* out_dir NULL: DATA/exports/O/R/run-RUN_ID-<format>. *summary: {dir, format, tables:{name:{file, rows}}}. */
int attn_run_export(const char *data_dir, const char *repo, const char *run_id, int csv,
                    const char *out_dir, int quiet, json_t **summary, attn_error *err);

#endif
