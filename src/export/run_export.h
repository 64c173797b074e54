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
#include <stdint.h>
#include "util/error.h"

/* out_dir NULL: DATA/exports/O/R/run-RUN_ID-<format>. *summary: {dir, format, tables:{name:{file, rows}}}. */
int attn_run_export(const char *data_dir, const char *repo, const char *run_id, int csv,
                    const char *out_dir, int quiet, json_t **summary, attn_error *err);

/* One (PR, router, policy) result of a run: the row of run_routes and of
 * the PostgreSQL eval_samples table. Strings point into the parsed line. */
typedef struct {
    int64_t pr;
    int has_cutoff;
    int64_t cutoff;            /* epoch seconds */
    const char *router, *policy, *truth_status, *top1, *confidence, *risk;
    int64_t n_truth_targets;
    int64_t first_hit_rank;    /* 0: no hit */
    int64_t n_candidates;
    int observed;              /* truth observed: hit@k and reciprocal rank are defined */
} attn_run_route_row;

typedef int (*attn_run_route_fn)(void *ctx, const attn_run_route_row *row, attn_error *err);

/* Stream run_dir/per_pr.jsonl, calling fn for every (PR, router, policy)
 * in file order. A malformed line fails with its line number. */
int attn_run_each_route(const char *run_dir, const char *run_id, attn_run_route_fn fn, void *ctx,
                        attn_error *err);

#endif
