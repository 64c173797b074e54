/*
 * run_internal.h - what the pieces of one evaluation run share: the run and
 * worker state, and the functions one file calls in another. run.c sets up
 * and drives a run and evaluates one PR, pool.c spreads PRs over worker
 * threads, report.c aggregates metrics and writes report.json/report.md.
 * Nothing outside src/eval/run*.c, pool.c and report.c includes this.
 */
#ifndef ATTN_EVAL_RUN_INTERNAL_H
#define ATTN_EVAL_RUN_INTERNAL_H

#include "eval/run.h"
#include "eval/cutoff.h"
#include "eval/gates.h"
#include "eval/metrics.h"
#include "eval/rundir.h"
#include "eval/truth.h"
#include "route/context.h"
#include "route/features.h"
#include "route/router.h"
#include "util/buf.h"
#include "util/progress.h"

#include <sqlite3.h>

#define MAX_POLICIES 8
static const char *const DEFAULT_TRUTH[] = {"first_response", "first_approval"};


typedef struct {
    int64_t number, cutoff;
    int status[MAX_POLICIES];   /* 0 observed, 1 no_response, 2 unknown */
    int64_t ttfr, ttfrev;       /* seconds after the cutoff, or -1 */
    int merged;                 /* merged eventually (gate correlation outcome) */
    attn_gates gates;           /* of the body as of the cutoff */
} pr_row;

typedef struct {
    const attn_eval_opts *o;
    attn_route_env *env;
    const attn_route_ctx *ctx;
    attn_route_ctx ctx_shared;  /* ctx with a memo: the hybrid's components are the
                                 * routers it runs alone, so each runs once per PR */
    attn_router **routers;
    size_t nr;
    attn_truth_policy pol[MAX_POLICIES];
    size_t np;
    attn_cutoff_policy cutoff;
    attn_truth_ctx *truth;
    attn_metrics_options mopt;
    int top_k;
    pr_row *rows;
    size_t n;
    attn_pr_metrics *out;       /* [p][r][i] */
    attn_gate_parser *gates;
    char **risk;                /* [r][i]: the router's risk (static strings) */
    int *nonempty;              /* [r][i] */
    char **top1;                /* [r][i]: malloc'd login or NULL */
    int64_t *top1_resp;         /* [r][i]: seconds until the top-1 acted, -1 never */
    int64_t horizon;
    json_t *notes;
    json_t *fit;                /* hybrid_fit.json content, or NULL */
    json_t *learned_fit;        /* learned_fit.json content, or NULL */
    sqlite3_stmt *st_user_first;
    int in_txn;
    json_t *llm;                /* {router: LLM totals} (llm_account), {} when none */
    double llm_cost;            /* USD so far, for --max-cost-usd */
    attn_progress prog;         /* "eval: PR i/n, ETA" on stderr */
    int jobs;                   /* --jobs resolved (0: one per core), for the
                                 * work outside the routing pool too */
    attn_store **spare;         /* jobs - 1 read-only connections begun with the
                                 * run's (one state of the store): the workers' */
    size_t n_spare;
    attn_feat_ahead feat_ahead; /* the learned router's features of the first PRs,
                                 * computed while it trained (learn.h) */
} run;

#define OUT(R, p, r, i) ((R)->out[((p) * (R)->nr + (r)) * (R)->n + (i)])

/* What routing and labelling one PR needs that is not safe to share between
 * threads: a store connection (its statements), the routing context (the
 * activity index keeps caches, the memo is per PR), the routers (per-router
 * caches), the truth context and the gate parser. Worker 0 borrows the run's
 * own; the others own theirs (pool.c). */
typedef struct {
    const attn_route_ctx *ctx;
    attn_router **routers;
    attn_truth_ctx *truth;
    attn_gate_parser *gates;
    sqlite3_stmt *st_user_first;
    /* owned by workers 1..N-1 */
    attn_store *store;
    int borrowed;               /* store is one of the run's spares, not closed here */
    attn_route_env *env;
    attn_route_ctx ctx_own;
    int owned;
} worker;

/* run.c */
/* When a user first acted on a PR after the cutoff (one statement per worker). */
extern const char EVAL_SQL_USER_FIRST[];
const char *eval_status_name(int c);
int eval_do_pr(run *R, worker *W, attn_rundir *dir, size_t i, attn_buf *jsonl, attn_error *err);
void eval_progress(run *R, size_t i, int done);

/* pool.c: a worker of its own (routing: with routers and gate parser too) on
 * spare connection slot - 1 (1 .. n_spare; past them, a connection of its
 * own); close it with eval_worker_close. */
int eval_worker_open(run *R, worker *W, size_t slot, int routing, attn_error *err);
void eval_worker_close(run *R, worker *W);
/* pool.c: route and label every PR on `jobs` threads, merged in PR order. */
int eval_run_pool(run *R, worker *W0, int jobs, attn_rundir *dir, attn_buf *jsonl,
                  size_t *extra_hits, attn_error *err);

/* report.c */
/* NULL only with err set (a metric that could not be computed). */
json_t *eval_report_json(run *R, const char *run_id, attn_error *err);
char *eval_report_md(run *R, const json_t *rep, const char *run_id);

#endif
