/*
 * run.h - one evaluation run (SPEC §8): route every PR of a cohort at its
 * cutoff with each router, label it with each truth policy, score, and write
 * the run directory DATA/github/<o>/<r>/eval/<run_id>/ atomically:
 *
 *   manifest.json      every input that decides the results, with hashes
 *   report.json        metrics per policy x router x slice, with intervals
 *   report.md          the same for a person
 *   per_pr.jsonl       one line per PR (cutoff order): truth, ranks, queue
 *   run_summary.json   headline figures and the SHA-256 of each file above
 *   artifacts.sqlite   the per-PR entries snapshot, inputs, truth, routes/<router>
 *                      (and features/, llm/ from routers), read with eval/pack.h
 *   hybrid_fit.json    when a hybrid router's weights were fitted
 *   learned_fit.json   when the learned router was trained (eval/learn.h)
 *
 * Determinism: no wall-clock value is written anywhere; the same store,
 * cohort, routers, configs and policies give byte-identical trees. The run id
 * defaults to "eval-" + the first 12 hex digits of the manifest's input hash.
 *
 * Strict streaming: a cutoff after the store's horizon (the latest event
 * time) is refused, naming the PRs, unless allow_stale is set; then the run
 * records a note and the PRs are still evaluated.
 */
#ifndef ATTN_EVAL_RUN_H
#define ATTN_EVAL_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "eval/rundir.h"
#include "store/store.h"
#include "util/error.h"

typedef struct {
    const char *name;          /* built-in router name */
    const char *config_path;   /* JSON file or NULL for defaults */
    const json_t *config;      /* inline config (wins over config_path) or NULL */
} attn_eval_router;

typedef struct {
    int64_t number;
    int64_t cutoff;            /* ATTN_NULL_I64: resolve with the cutoff policy */
} attn_eval_pr;

#define ATTN_EVAL_MAX_KS 8

typedef struct {
    attn_store *store;
    const char *repo;           /* owner/name */
    const char *repo_dir;       /* DATA/github/<o>/<r> */
    const char *run_id;         /* NULL: derived from the inputs */
    const attn_eval_router *routers;
    size_t n_routers;
    const char *cutoff_policy;  /* NULL: created_at */
    const char *const *truth;   /* policy specs; the first is primary. NULL: defaults */
    size_t n_truth;
    const attn_eval_pr *prs;    /* cohort, any order; evaluated in (cutoff, number) order */
    size_t n_prs;
    const char *cohort_hash;    /* recorded when the PRs came from a cohort file */
    int top_k;                  /* candidates kept per route (default 10) */
    int ks[ATTN_EVAL_MAX_KS];   /* hit@k / recall@k; n_ks 0 -> 1,3,5,10 */
    size_t n_ks;
    int bootstrap;              /* resamples (default 1000; 0 = no intervals) */
    uint64_t seed;              /* bootstrap seed (default 42) */
    int allow_stale;
    int hybrid_train_days;      /* fit hybrid weights on PRs this many days before
                                   the cohort (default 90; 0 = use configured weights) */
    int learned_train_days;     /* train the learned router (when its config names no
                                   model) on PRs this many days before each block
                                   (default 730; 0 = no training: its fallback) */
    int learned_retrain_days;   /* walk-forward: a new model every M days of
                                   cutoffs (default 0: one model for the cohort) */
    int progress;               /* TTY progress on stderr */
    int jobs;                   /* worker threads routing and labelling PRs (0: one per
                                   core); the run directory is the same for any value */
    int force;                  /* replace a run id that belongs to another run or is
                                   reserved (the caller records the replacement) */
    const json_t *extra;        /* recorded under manifest.extra (experiments), or NULL */
    int artifacts_only;         /* build-artifacts: snapshots, inputs and routes only
                                   (no truth, metrics or report) */
    /* Called after every artifact is written and before the run directory
     * is renamed into place, so callers (experiments) can add files that
     * commit or vanish with the run: write them with attn_rundir_write*.
     * report and summary are the run's report.json and run_summary.json
     * objects (summary may be modified: it is written after the hook). */
    double max_cost_usd;        /* > 0: stop (error, no run directory) once the LLM
                                   routers' answers cost more than this (USD) */
    int (*post)(void *ud, attn_rundir *dir, const json_t *report, json_t *summary,
                attn_error *err);
    void *post_ud;
} attn_eval_opts;

void attn_eval_opts_init(attn_eval_opts *o);

/* The PRs created in [from, end_at), in number order (cutoffs unresolved).
 * *prs is malloc'd (NULL when none). */
int attn_eval_prs_in_window(attn_store *s, int64_t repo_id, int64_t from, int64_t end_at,
                            attn_eval_pr **prs, size_t *n, attn_error *err);

/* Run and commit the run directory. *summary (may be NULL) receives
 * run_summary.json's object plus "run_dir". */
int attn_eval_run(const attn_eval_opts *o, json_t **summary, attn_error *err);

#endif
