/*
 * experiment.h - one experiment run (SPEC §9): a spec and its cohort, run
 * through eval/run.h, judged by quality gates and promotion (quality.h),
 * and recorded in the run registry (registry.h).
 *
 * Sequence:
 *  1. the spec's cohort hash must equal the cohort's (else ATTN_EINVAL
 *     naming both hashes): the spec locks its cohort, and the cohort locks
 *     the cutoffs, which are never recomputed;
 *  2. the registry row is inserted as "running" (wall-clock started_at);
 *  3. attn_eval_run with the spec's routers (inline configs), truth,
 *     cutoff policy, top_k, ks, bootstrap and hybrid_train_days, extra =
 *     {"experiment": {spec_hash, run_kind, experiment_id}}, and a post hook
 *     that writes into the (still temporary) run directory:
 *       experiment.json (the spec), cohort.json (the cohort),
 *       gates.json, promotion.json (quality.h)
 *     and adds "experiment": {spec_hash, run_kind, experiment_id,
 *     gates_pass, promote} to run_summary.json;
 *  4. success: the row becomes "completed" with the inputs hash, router and
 *     truth hashes, store horizon, headline, counts, gates and promotion;
 *     any failure: "failed" with the error, and the run directory is not
 *     there (rundir.h guarantees nothing half-written is left).
 *
 * Run ids: opts.run_id, else "exp-" + the first 12 hex digits of the spec
 * hash, so rerunning a spec replaces its run (the registry logs "rerun");
 * pass a run id to keep several runs of one spec.
 *
 * Fault injection for tests: when the environment variable
 * ATTN_TEST_FAIL_EXPERIMENT is "post", the post hook fails after writing
 * its files, i.e. after every artifact of the run exists in the temporary
 * directory and before the rename: the latest point a crash can happen.
 * It is read in that one place and nowhere else.
 */
#ifndef ATTN_EXP_EXPERIMENT_H
#define ATTN_EXP_EXPERIMENT_H

#include <jansson.h>
#include "exp/cohort.h"
#include "exp/registry.h"
#include "exp/spec.h"
#include "store/store.h"
#include "util/error.h"

typedef struct {
    attn_store *store;
    attn_registry *registry;
    const char *repo, *repo_dir;
    const attn_spec *spec;
    const attn_cohort *cohort;
    const char *run_id;          /* NULL: "exp-<spec hash 12>" */
    int allow_stale;
    int progress;
    double max_cost_usd;         /* > 0: stop once LLM answers cost more (run.h) */
    const char *kind;            /* NULL: the spec's run_kind (A/B: ab_control|ab_treatment) */
    const char *experiment_id;   /* NULL: the spec's */
} attn_experiment_opts;

/* Run, record, and return run_summary.json's object plus "run_dir" in
 * *summary (may be NULL). On failure the registry row (if it was created)
 * says failed and err holds the run's error. */
int attn_experiment_run(const attn_experiment_opts *o, json_t **summary, attn_error *err);

/* The default run id of a spec into out (at least 20 bytes). */
void attn_experiment_default_id(const attn_spec *spec, char *out, size_t cap);

#endif
