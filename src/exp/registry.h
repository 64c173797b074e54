/*
 * registry.h - the run registry (SPEC §9): runs.sqlite beside history.sqlite
 * (DATA/github/<o>/<r>/runs.sqlite), one row per experiment run plus an
 * append-only audit trail of every change.
 *
 * Schema (PRAGMA user_version migrations, like the history store):
 *   runs(run_id PK, status running|completed|failed,
 *        kind baseline|experimental|ab_control|ab_treatment,
 *        lifecycle active|archived|deleted, experiment_id, spec_hash,
 *        cohort_hash, router_hashes JSON {router: config_hash},
 *        truth_hashes JSON {policy spec: hash}, inputs_hash, db_horizon,
 *        code_version, started_at, finished_at, duration_ms, n_prs,
 *        headline JSON, gates_pass 0/1, promote 0/1, tags JSON [sorted],
 *        notes, run_dir, error, archived_at, deleted_at)
 *   events(id, run_id, at, action, detail)
 * Instants are epoch seconds in the DB; row JSON writes them as
 * YYYY-MM-DDTHH:MM:SSZ. Wall-clock times belong here (when did this run
 * happen), never in run artifacts. Every change is one transaction that
 * updates the row and appends its event.
 *
 * Status moves running -> completed | failed (a rerun of the same id goes
 * back to running and is logged as "rerun"). Lifecycle moves active <->
 * archived -> deleted; delete is final except that a rerun revives the id.
 *
 * ---- Retention (attn_retention_plan; pure, "now" is a parameter) ----------
 * Baseline runs are never archived or deleted by cleanup, and running runs
 * are never touched. Of the other runs:
 *   1. failed runs started more than archive_after ago are deleted;
 *   2. active completed runs: the keep_last most recent (started_at, then
 *      run_id, descending) stay active; every other one started more than
 *      archive_after ago is archived;
 *   3. archived runs started more than delete_after ago are deleted.
 * A run gets at most one action per cleanup (an active run old enough to be
 * deleted is archived now and deleted by a later cleanup). Actions are
 * ordered by run_id, so `cleanup --dry-run` prints exactly what cleanup does.
 */
#ifndef ATTN_EXP_REGISTRY_H
#define ATTN_EXP_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

typedef struct attn_registry attn_registry;

/* Open (creating and migrating) the registry at path. */
int attn_registry_open(const char *path, attn_registry **out, attn_error *err);
/* "now" for lifecycle and retention: the wall clock, or $ATTN_NOW (epoch
 * seconds or an instant) so tests can pin it. One rule for `attn runs`,
 * `attn runs import` and the service. */
int attn_registry_now(int64_t *out, attn_error *err);
void attn_registry_close(attn_registry *r);
int attn_registry_schema_version(void);

typedef struct {
    const char *run_id, *kind, *experiment_id, *spec_hash, *cohort_hash, *code_version, *notes,
        *run_dir;
    const json_t *tags;          /* array of strings or NULL */
    int64_t started_at;
} attn_run_start;

/* Insert the row as running/active (or reset an existing row of the same id
 * to running, logging "rerun"). */
int attn_registry_start(attn_registry *r, const attn_run_start *s, attn_error *err);

typedef struct {
    const char *inputs_hash;
    const json_t *router_hashes, *truth_hashes, *headline;   /* may be NULL */
    int64_t db_horizon, finished_at, duration_ms, n_prs;     /* db_horizon may be ATTN_NULL_I64 */
    int gates_pass, promote;                                  /* -1: unknown */
    /* LLM routers (migration 2), may be NULL: run_summary's "llm" totals
     * {router: {tokens_in, tokens_out, cost_usd, ...}} and prompt bundle
     * snapshots {router: snapshot} (llm/prompt.h). */
    const json_t *llm, *prompts;
} attn_run_finish;

int attn_registry_complete(attn_registry *r, const char *run_id, const attn_run_finish *f,
                           attn_error *err);
/* A run's prompt snapshot (router NULL: the first by router name);
 * ATTN_ENOTFOUND (no message) when the run has none. */
int attn_registry_prompt(attn_registry *r, const char *run_id, const char *router, json_t **out,
                         attn_error *err);
int attn_registry_fail(attn_registry *r, const char *run_id, const char *error,
                       int64_t finished_at, int64_t duration_ms, attn_error *err);

/* The row as JSON (keys as the columns; JSON columns parsed; instants as
 * text; NULL as null). ATTN_ENOTFOUND naming the id when absent. */
/* The run's directory was replaced by another run under the same id (`attn
 * eval run --run-id ID --force`): the row no longer describes what is on
 * disk, so it becomes failed with error = detail, and a "replaced" event is
 * appended. ATTN_ENOTFOUND when there is no such row. */
int attn_registry_replaced(attn_registry *r, const char *run_id, const char *detail, int64_t at,
                           attn_error *err);
int attn_registry_get(attn_registry *r, const char *run_id, json_t **out, attn_error *err);

typedef struct {
    const char *status, *kind, *lifecycle, *experiment_id;   /* NULL: any */
    int include_deleted;         /* lifecycle NULL: deleted rows only when set */
} attn_run_filter;

/* Rows in (started_at, run_id) order. */
int attn_registry_list(attn_registry *r, const attn_run_filter *f, json_t **out, attn_error *err);
/* The audit trail of one run (or all runs when run_id is NULL), in order. */
int attn_registry_events(attn_registry *r, const char *run_id, json_t **out, attn_error *err);

/* Add (add = 1) or remove a tag; tags stay sorted and distinct. */
int attn_registry_tag(attn_registry *r, const char *run_id, const char *tag, int add, int64_t now,
                      attn_error *err);
/* Move to "active", "archived" or "deleted" (recording archived_at /
 * deleted_at). Restoring a deleted run is refused (its directory is gone).
 * detail (may be NULL) goes to the audit trail. */
int attn_registry_set_lifecycle(attn_registry *r, const char *run_id, const char *lifecycle,
                                int64_t now, const char *detail, attn_error *err);

/* Mark a run "baseline" or "experimental" (the dashboard's control); the
 * change goes to the audit trail as "kind". */
int attn_registry_set_kind(attn_registry *r, const char *run_id, const char *kind, int64_t now,
                           attn_error *err);

typedef struct {
    int keep_last;               /* default 10 */
    int64_t archive_after;       /* seconds; default 30 days */
    int64_t delete_after;        /* seconds; default 90 days */
} attn_retention;

void attn_retention_init(attn_retention *p);
/* Read {"keep_last", "archive_after_days", "delete_after_days"} (all optional,
 * unknown keys refused) over the values already in p. */
int attn_retention_from_json(const json_t *v, const char *what, attn_retention *p,
                             attn_error *err);

/* The cleanup actions for rows (attn_registry_list output, deleted rows may
 * be included) at now: [{"run_id", "action": "archive"|"delete", "reason",
 * "run_dir"}] by run_id. */
int attn_retention_plan(const json_t *rows, const attn_retention *p, int64_t now, json_t **out,
                        attn_error *err);

/* ---- external runs (migration 2; `attn runs import`) -----------------------
 * Runs kept by another tracker (W&B), imported as kind "external" with the
 * run type and fields a classification config gave them. Keyed by (source,
 * run_id); reimporting the same content changes nothing and logs nothing, a
 * changed run is updated and logged "external-update". */
typedef struct {
    const char *source, *run_id, *name, *state, *project, *entity, *created_at, *run_type,
        *pattern, *patterns_name;
    const json_t *fields, *matches, *config, *summary;  /* config/summary may be NULL */
} attn_external_run;

/* One transaction for all n; counts[0] unchanged, [1] inserted, [2] updated. */
int attn_registry_import_external(attn_registry *r, const attn_external_run *runs, size_t n,
                                  int64_t now, size_t counts[3], attn_error *err);
/* External runs (all, or those with run_id) by (created_at, run_id), shaped
 * like runs rows (kind "external", status = the tracker's state, tags =
 * [run_type]); with full, also config and summary. */
int attn_registry_list_external(attn_registry *r, const char *run_id, int full, json_t **out,
                                attn_error *err);
/* Append to rows the runs of ext (attn_registry_list_external) that f lets
 * through: an external run is kind "external", always active, has the
 * tracker's status, and belongs to no experiment. One rule for `attn runs
 * list` and the service. */
void attn_registry_add_external(json_t *rows, const json_t *ext, const attn_run_filter *f);

#endif
