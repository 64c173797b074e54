/*
 * registry.c - runs.sqlite: schema, transitions, audit trail, retention
 * (registry.h).
 *
 * Owns: the registry file and its SQL. Must never: change a row without
 * appending its event in the same transaction, touch run directories
 * (lifecycle.c removes them after the registry says so), or format a value
 * into SQL (everything is bound).
 */
#include "exp/registry.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct attn_registry {
    sqlite3 *db;
    char path[4096];
};

/* Migration 1: runs and events. Append new migrations; never edit one. */
static const char SQL_V1[] =
    "CREATE TABLE runs ("
    " run_id TEXT PRIMARY KEY,"
    " status TEXT NOT NULL CHECK (status IN ('running','completed','failed')),"
    " kind TEXT NOT NULL CHECK (kind IN ('baseline','experimental','ab_control','ab_treatment')),"
    " lifecycle TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active','archived','deleted')),"
    " experiment_id TEXT, spec_hash TEXT, cohort_hash TEXT, router_hashes TEXT, truth_hashes TEXT,"
    " inputs_hash TEXT, db_horizon INTEGER, code_version TEXT, started_at INTEGER NOT NULL,"
    " finished_at INTEGER, duration_ms INTEGER, n_prs INTEGER, headline TEXT, gates_pass INTEGER,"
    " promote INTEGER, tags TEXT NOT NULL DEFAULT '[]', notes TEXT, run_dir TEXT, error TEXT,"
    " archived_at INTEGER, deleted_at INTEGER);"
    "CREATE INDEX ix_runs_started ON runs(started_at, run_id);"
    "CREATE INDEX ix_runs_experiment ON runs(experiment_id);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, at INTEGER NOT NULL, action TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX ix_events_run ON events(run_id, id);";

/* Migration 2: LLM accounting on the run record (issue 12, seed 004): totals
 * per LLM router, run-wide tokens and cost, and each run's prompt bundle
 * snapshots (so a run stays reproducible after the prompt files change). */
static const char SQL_V2_LLM[] =
    "ALTER TABLE runs ADD COLUMN llm TEXT;"
    "ALTER TABLE runs ADD COLUMN tokens_in INTEGER;"
    "ALTER TABLE runs ADD COLUMN tokens_out INTEGER;"
    "ALTER TABLE runs ADD COLUMN cost_usd REAL;"
    "CREATE TABLE run_prompts ("
    " run_id TEXT NOT NULL, router TEXT NOT NULL, prompt_name TEXT NOT NULL,"
    " prompt_version TEXT NOT NULL, prompt_hash TEXT NOT NULL, source_paths TEXT,"
    " snapshot TEXT NOT NULL, PRIMARY KEY (run_id, router));";


/* Migration 3: runs imported from other trackers (kind "external"; `attn runs
 * import`), classified by a pattern registry. Kept in their own table so the
 * runs table's kind CHECK and columns stay as they are. */
static const char SQL_V3_EXTERNAL[] =
    "CREATE TABLE external_runs ("
    " source TEXT NOT NULL, run_id TEXT NOT NULL, name TEXT, state TEXT, project TEXT,"
    " entity TEXT, created_at TEXT, run_type TEXT NOT NULL, pattern TEXT, patterns_name TEXT,"
    " fields TEXT NOT NULL, matches TEXT NOT NULL, config TEXT, summary TEXT,"
    " content_hash TEXT NOT NULL, imported_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (source, run_id));"
    "CREATE INDEX ix_external_created ON external_runs(created_at, run_id);";

static const char *const MIGRATIONS[] = {SQL_V1, SQL_V2_LLM, SQL_V3_EXTERNAL};
#define N_MIGRATIONS ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

static const char SQL_COLS[] =
    "SELECT run_id, status, kind, lifecycle, experiment_id, spec_hash, cohort_hash, router_hashes,"
    " truth_hashes, inputs_hash, db_horizon, code_version, started_at, finished_at, duration_ms,"
    " n_prs, headline, gates_pass, promote, tags, notes, run_dir, error, archived_at, deleted_at,"
    " llm, tokens_in, tokens_out, cost_usd,"
    /* Start times are whole seconds; the start event's id orders runs that
     * started within the same second. */
    " (SELECT max(id) FROM events e WHERE e.run_id = runs.run_id"
    "  AND e.action IN ('start', 'rerun')) AS start_seq"
    " FROM runs";

int attn_registry_schema_version(void) { return N_MIGRATIONS; }

static int db_err(attn_registry *r, const char *what, attn_error *err)
{
    return attn_error_set(err, ATTN_EDB, "run registry %s: %s: %s", r->path, what,
                          sqlite3_errmsg(r->db));
}

static int exec(attn_registry *r, const char *sql, attn_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = attn_error_set(err, ATTN_EDB, "run registry %s: %s", r->path,
                                msg ? msg : sqlite3_errmsg(r->db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* JSON columns are stored compact with sorted keys. */
static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/*
 * Prepare sql and bind the arguments described by types: 's' text (NULL is
 * SQL NULL), 'i' int64 (ATTN_NULL_I64 is NULL), 'b' int (-1 is NULL), 'j'
 * json_t * (NULL is NULL). Steps once (statements with no result rows).
 * *changes (may be NULL) receives sqlite3_changes.
 */
static int run_sql(attn_registry *r, int *changes, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int rc = SQLITE_OK, i = 1;
    char *tofree[16];
    int nfree = 0;

    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    va_start(ap, types);
    for (const char *t = types; *t && rc == SQLITE_OK; t++, i++) {
        if (*t == 's') {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
        } else if (*t == 'i') {
            int64_t v = va_arg(ap, int64_t);
            rc = v == ATTN_NULL_I64 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
        } else if (*t == 'b') {
            int v = va_arg(ap, int);
            rc = v < 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int(st, i, v);
        } else if (*t == 'j') {
            char *s = dump(va_arg(ap, const json_t *));
            if (s && nfree < 16)
                tofree[nfree++] = s;
            rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
        }
    }
    va_end(ap);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (changes)
        *changes = sqlite3_changes(r->db);
    sqlite3_finalize(st);
    while (nfree)
        free(tofree[--nfree]);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int current_version(attn_registry *r, int *version, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_err(r, "reading the schema version", err);
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int attn_registry_open(const char *path, attn_registry **out, attn_error *err)
{
    attn_registry *r;
    sqlite3_stmt *st = NULL;
    int version = 0, rc;

    *out = NULL;
    r = attn_xcalloc(1, sizeof(*r));
    snprintf(r->path, sizeof(r->path), "%s", path);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = attn_error_set(err, ATTN_EDB, "cannot open the run registry %s: %s", path,
                            r->db ? sqlite3_errmsg(r->db) : "out of memory");
        attn_registry_close(r);
        return rc;
    }
    sqlite3_busy_timeout(r->db, 10000);
    if ((rc = exec(r, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", err)))
        goto fail;
    if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        rc = db_err(r, "reading the schema version (is it a SQLite file?)", err);
        goto fail;
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > N_MIGRATIONS) {
        rc = attn_error_set(err, ATTN_ECORRUPT,
                            "run registry %s has schema version %d, newer than this attn (%d); "
                            "upgrade attn",
                            path, version, N_MIGRATIONS);
        goto fail;
    }
    for (int v = version; v < N_MIGRATIONS; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if ((rc = exec(r, "BEGIN IMMEDIATE", err)))
            goto fail;
        /* Another process may have migrated meanwhile (two runs on a new
         * repository, D6): read the version again under the write lock. */
        if ((rc = current_version(r, &version, err))) {
            exec(r, "ROLLBACK", NULL);
            goto fail;
        }
        if (version > v) {
            if ((rc = exec(r, "COMMIT", err)))
                goto fail;
            v = version - 1;
            continue;
        }
        if ((rc = exec(r, MIGRATIONS[v], err)) || (rc = exec(r, pragma, err))) {
            exec(r, "ROLLBACK", NULL);
            attn_error_wrap(err, "migrating to version %d", v + 1);
            goto fail;
        }
        if ((rc = exec(r, "COMMIT", err)))
            goto fail;
    }
    *out = r;
    return 0;
fail:
    attn_registry_close(r);
    return rc;
}

void attn_registry_close(attn_registry *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    free(r);
}

static int begin(attn_registry *r, attn_error *err) { return exec(r, "BEGIN IMMEDIATE", err); }

static int commit(attn_registry *r, attn_error *err)
{
    int rc = exec(r, "COMMIT", err);
    if (rc)
        exec(r, "ROLLBACK", NULL);
    return rc;
}

static int rollback(attn_registry *r, int rc)
{
    exec(r, "ROLLBACK", NULL);
    return rc;
}

static int event(attn_registry *r, const char *run_id, int64_t at, const char *action,
                 const char *detail, attn_error *err)
{
    if (run_sql(r, NULL, "INSERT INTO events(run_id, at, action, detail) VALUES (?,?,?,?)",
                "siss", run_id, at, action, detail))
        return db_err(r, "appending an event", err);
    return 0;
}

static int sorted_tags(const json_t *tags, json_t **out, attn_error *err);


int attn_registry_start(attn_registry *r, const attn_run_start *s, attn_error *err)
{
    json_t *tags = NULL;
    int changes = 0, rc;

    if ((rc = sorted_tags(s->tags, &tags, err)))
        return rc;
    if ((rc = begin(r, err))) {
        json_decref(tags);
        return rc;
    }
    if (run_sql(r, &changes,
                "UPDATE runs SET status='running', kind=?2, lifecycle='active', experiment_id=?3,"
                " spec_hash=?4, cohort_hash=?5, router_hashes=NULL, truth_hashes=NULL,"
                " inputs_hash=NULL, db_horizon=NULL, code_version=?6, started_at=?7,"
                " finished_at=NULL, duration_ms=NULL, n_prs=NULL, headline=NULL, gates_pass=NULL,"
                " promote=NULL, tags=?8, notes=?9, run_dir=?10, error=NULL, archived_at=NULL,"
                " deleted_at=NULL WHERE run_id=?1",
                "ssssssijss", s->run_id, s->kind, s->experiment_id, s->spec_hash, s->cohort_hash,
                s->code_version, s->started_at, tags, s->notes, s->run_dir)) {
        rc = db_err(r, "restarting a run", err);
        goto fail;
    }
    if (!changes &&
        run_sql(r, NULL,
                "INSERT INTO runs(run_id, status, kind, lifecycle, experiment_id, spec_hash,"
                " cohort_hash, code_version, started_at, tags, notes, run_dir)"
                " VALUES (?,'running',?,'active',?,?,?,?,?,?,?,?)",
                "ssssssijss", s->run_id, s->kind, s->experiment_id, s->spec_hash, s->cohort_hash,
                s->code_version, s->started_at, tags, s->notes, s->run_dir)) {
        rc = db_err(r, "inserting a run", err);
        goto fail;
    }
    if ((rc = event(r, s->run_id, s->started_at, changes ? "rerun" : "start", s->kind, err)))
        goto fail;
    json_decref(tags);
    return commit(r, err);
fail:
    json_decref(tags);
    return rollback(r, rc);
}

/* The row must exist; ATTN_ENOTFOUND otherwise. */
static int need_row(attn_registry *r, const char *run_id, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    int found;
    if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM runs WHERE run_id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return db_err(r, "looking up a run", err);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!found)
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "no run '%s' in %s; see `attn runs list --repo ...`", run_id,
                              r->path);
    return 0;
}

/* LLM totals and prompt snapshots (migration 2), inside complete's transaction. */
static int record_llm(attn_registry *r, const char *run_id, const attn_run_finish *f,
                      attn_error *err)
{
    const char *k;
    json_t *x;
    int64_t tin = 0, tout = 0;
    double cost = 0;
    if (!json_object_size(f->llm) && !json_object_size(f->prompts))
        return 0;
    json_object_foreach((json_t *)f->llm, k, x) {
        tin += attn_json_i64(x, "tokens_in", 0);
        tout += attn_json_i64(x, "tokens_out", 0);
        cost += json_number_value(json_object_get(x, "cost_usd"));
    }
    {
        sqlite3_stmt *st = NULL;
        int ok = sqlite3_prepare_v2(r->db,
                                    "UPDATE runs SET llm=?2, tokens_in=?3, tokens_out=?4,"
                                    " cost_usd=?5 WHERE run_id=?1",
                                    -1, &st, NULL) == SQLITE_OK;
        char *t = json_dumps(f->llm, JSON_SORT_KEYS | JSON_COMPACT);
        if (ok) {
            sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, t ? t : "{}", -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 3, tin);
            sqlite3_bind_int64(st, 4, tout);
            sqlite3_bind_double(st, 5, round(cost * 1e9) / 1e9);
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        free(t);
        sqlite3_finalize(st);
        if (!ok)
            return db_err(r, "recording LLM totals", err);
    }
    json_object_foreach((json_t *)f->prompts, k, x) {
        if (run_sql(r, NULL, "DELETE FROM run_prompts WHERE run_id=?1 AND router=?2", "ss", run_id,
                    k) ||
            run_sql(r, NULL,
                    "INSERT INTO run_prompts (run_id, router, prompt_name, prompt_version,"
                    " prompt_hash, source_paths, snapshot) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    "sssssjj", run_id, k, attn_json_str(x, "name"), attn_json_str(x, "version"),
                    attn_json_str(x, "prompt_hash"), json_object_get(x, "source_paths"), x))
            return db_err(r, "recording a prompt snapshot", err);
    }
    return 0;
}

int attn_registry_prompt(attn_registry *r, const char *run_id, const char *router, json_t **out,
                         attn_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = ATTN_ENOTFOUND;
    *out = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT snapshot FROM run_prompts WHERE run_id=?1"
                           " AND (?2 IS NULL OR router=?2) ORDER BY router LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(r, "reading a prompt snapshot", err);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    if (router)
        sqlite3_bind_text(st, 2, router, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        rc = *out ? 0 : attn_error_set(err, ATTN_ECORRUPT, "run %s: damaged prompt snapshot",
                                       run_id);
    }
    sqlite3_finalize(st);
    return rc;
}

int attn_registry_complete(attn_registry *r, const char *run_id, const attn_run_finish *f,
                           attn_error *err)
{
    int rc;
    if ((rc = begin(r, err)))
        return rc;
    if ((rc = need_row(r, run_id, err)))
        return rollback(r, rc);
    if (run_sql(r, NULL,
                "UPDATE runs SET status='completed', inputs_hash=?2, router_hashes=?3,"
                " truth_hashes=?4, headline=?5, db_horizon=?6, finished_at=?7, duration_ms=?8,"
                " n_prs=?9, gates_pass=?10, promote=?11, error=NULL WHERE run_id=?1",
                "ssjjjiiiibb", run_id, f->inputs_hash, f->router_hashes, f->truth_hashes,
                f->headline, f->db_horizon, f->finished_at, f->duration_ms, f->n_prs,
                f->gates_pass, f->promote))
        return rollback(r, db_err(r, "completing a run", err));
    if ((rc = record_llm(r, run_id, f, err)) ||
        (rc = event(r, run_id, f->finished_at, "complete", NULL, err)))
        return rollback(r, rc);
    return commit(r, err);
}

int attn_registry_fail(attn_registry *r, const char *run_id, const char *error,
                       int64_t finished_at, int64_t duration_ms, attn_error *err)
{
    int rc;
    if ((rc = begin(r, err)))
        return rc;
    if ((rc = need_row(r, run_id, err)))
        return rollback(r, rc);
    if (run_sql(r, NULL,
                "UPDATE runs SET status='failed', error=?2, finished_at=?3, duration_ms=?4"
                " WHERE run_id=?1",
                "ssii", run_id, error, finished_at, duration_ms))
        return rollback(r, db_err(r, "marking a run failed", err));
    if ((rc = event(r, run_id, finished_at, "fail", error, err)))
        return rollback(r, rc);
    return commit(r, err);
}

int attn_registry_replaced(attn_registry *r, const char *run_id, const char *detail, int64_t at,
                           attn_error *err)
{
    int rc;
    if ((rc = begin(r, err)))
        return rc;
    if ((rc = need_row(r, run_id, err)))
        return rollback(r, rc);
    if (run_sql(r, NULL, "UPDATE runs SET status='failed', error=?2 WHERE run_id=?1", "ss",
                run_id, detail))
        return rollback(r, db_err(r, "recording a replaced run", err));
    if ((rc = event(r, run_id, at, "replaced", detail, err)))
        return rollback(r, rc);
    return commit(r, err);
}

static int is_time_col(const char *c)
{
    return !strcmp(c, "db_horizon") || !strcmp(c, "started_at") || !strcmp(c, "finished_at") ||
           !strcmp(c, "archived_at") || !strcmp(c, "deleted_at");
}

static int is_json_col(const char *c)
{
    return !strcmp(c, "router_hashes") || !strcmp(c, "truth_hashes") || !strcmp(c, "headline") ||
           !strcmp(c, "tags") || !strcmp(c, "llm");
}

static json_t *row_json(sqlite3_stmt *st)
{
    json_t *o = attn_xcheck(json_object());
    for (int c = 0; c < sqlite3_column_count(st); c++) {
        const char *name = sqlite3_column_name(st, c);
        json_t *v;
        if (sqlite3_column_type(st, c) == SQLITE_NULL)
            v = json_null();
        else if (is_time_col(name)) {
            char ts[ATTN_TIME_BUFSZ];
            v = json_string(attn_time_format(sqlite3_column_int64(st, c), ts));
        } else if (is_json_col(name)) {
            const char *t = (const char *)sqlite3_column_text(st, c);
            v = json_loads(t, JSON_DECODE_ANY, NULL);
            if (!v)
                v = json_string(t); /* never lose a value, even a damaged one */
        } else if (!strcmp(name, "gates_pass") || !strcmp(name, "promote"))
            v = json_boolean(sqlite3_column_int(st, c));
        else if (sqlite3_column_type(st, c) == SQLITE_INTEGER)
            v = json_integer(sqlite3_column_int64(st, c));
        else if (sqlite3_column_type(st, c) == SQLITE_FLOAT)
            v = json_real(sqlite3_column_double(st, c));
        else
            v = json_string((const char *)sqlite3_column_text(st, c));
        json_object_set_new(o, name, v);
    }
    return o;
}

int attn_registry_get(attn_registry *r, const char *run_id, json_t **out, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    char sql[1024];
    int rc;
    *out = NULL;
    snprintf(sql, sizeof(sql), "%s WHERE run_id = ?", SQL_COLS);
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(r, "reading a run", err);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = row_json(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "no run '%s' in %s; see `attn runs list --repo ...`", run_id,
                              r->path);
    if (rc != SQLITE_ROW)
        return db_err(r, "reading a run", err);
    return 0;
}

int attn_registry_list(attn_registry *r, const attn_run_filter *f, json_t **out, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    char sql[1400];
    json_t *arr;
    int rc;

    *out = NULL;
    snprintf(sql, sizeof(sql),
             "%s WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR kind = ?2)"
             " AND ((?3 IS NULL AND (?5 OR lifecycle <> 'deleted')) OR lifecycle = ?3)"
             " AND (?4 IS NULL OR experiment_id = ?4) ORDER BY started_at, start_seq, run_id",
             SQL_COLS);
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(r, "listing runs", err);
    sqlite3_bind_text(st, 1, f ? f->status : NULL, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, f ? f->kind : NULL, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, f ? f->lifecycle : NULL, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, f ? f->experiment_id : NULL, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, f ? f->include_deleted : 0);
    arr = attn_xcheck(json_array());
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, row_json(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return db_err(r, "listing runs", err);
    }
    *out = arr;
    return 0;
}

int attn_registry_events(attn_registry *r, const char *run_id, json_t **out, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    json_t *arr;
    int rc;
    *out = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT run_id, at, action, detail FROM events"
                           " WHERE ?1 IS NULL OR run_id = ?1 ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(r, "reading events", err);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
    arr = attn_xcheck(json_array());
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char ts[ATTN_TIME_BUFSZ];
        const char *d = (const char *)sqlite3_column_text(st, 3);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "run_id",
                                             (const char *)sqlite3_column_text(st, 0), "at",
                                             attn_time_format(sqlite3_column_int64(st, 1), ts),
                                             "action", (const char *)sqlite3_column_text(st, 2),
                                             "detail", d ? json_string(d) : json_null()));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return db_err(r, "reading events", err);
    }
    *out = arr;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted, distinct copy of an array of strings (NULL -> []). */
static int sorted_tags(const json_t *tags, json_t **out, attn_error *err)
{
    size_t n = json_array_size(tags), i;
    const char **v = attn_xcalloc(n ? n : 1, sizeof(*v));
    json_t *e, *arr = attn_xcheck(json_array());
    *out = NULL;
    json_array_foreach(tags, i, e) {
        if (!json_is_string(e)) {
            free(v);
            json_decref(arr);
            return attn_error_set(err, ATTN_EINVAL, "tags must be strings");
        }
        v[i] = json_string_value(e);
    }
    qsort(v, n, sizeof(*v), cmp_str);
    for (i = 0; i < n; i++)
        if (!i || strcmp(v[i], v[i - 1]))
            json_array_append_new(arr, json_string(v[i]));
    free(v);
    *out = arr;
    return 0;
}

int attn_registry_tag(attn_registry *r, const char *run_id, const char *tag, int add, int64_t now,
                      attn_error *err)
{
    json_t *row = NULL, *tags = NULL, *next = NULL;
    size_t i;
    json_t *e;
    int rc;

    if (!tag || !*tag)
        return attn_error_set(err, ATTN_EINVAL, "a tag must not be empty");
    if ((rc = begin(r, err)))
        return rc;
    if ((rc = attn_registry_get(r, run_id, &row, err)))
        return rollback(r, rc);
    tags = attn_xcheck(json_array());
    json_array_foreach(json_object_get(row, "tags"), i, e)
        if (json_is_string(e) && strcmp(json_string_value(e), tag))
            json_array_append(tags, e);
    if (add)
        json_array_append_new(tags, json_string(tag));
    json_decref(row);
    rc = sorted_tags(tags, &next, err);
    json_decref(tags);
    if (rc)
        return rollback(r, rc);
    if (run_sql(r, NULL, "UPDATE runs SET tags = ?2 WHERE run_id = ?1", "sj", run_id, next)) {
        json_decref(next);
        return rollback(r, db_err(r, "tagging a run", err));
    }
    json_decref(next);
    if ((rc = event(r, run_id, now, add ? "tag" : "untag", tag, err)))
        return rollback(r, rc);
    return commit(r, err);
}

int attn_registry_set_kind(attn_registry *r, const char *run_id, const char *kind, int64_t now,
                           attn_error *err)
{
    json_t *row = NULL;
    int rc;

    if (!kind || (strcmp(kind, "baseline") && strcmp(kind, "experimental")))
        return attn_error_set(err, ATTN_EINVAL,
                              "kind '%s' is not one a person sets (baseline or experimental)",
                              kind ? kind : "");
    if ((rc = begin(r, err)))
        return rc;
    if ((rc = attn_registry_get(r, run_id, &row, err)))
        return rollback(r, rc);
    json_decref(row);
    if (run_sql(r, NULL, "UPDATE runs SET kind = ?2 WHERE run_id = ?1", "ss", run_id, kind))
        return rollback(r, db_err(r, "setting a run's kind", err));
    if ((rc = event(r, run_id, now, "kind", kind, err)))
        return rollback(r, rc);
    return commit(r, err);
}

int attn_registry_set_lifecycle(attn_registry *r, const char *run_id, const char *lifecycle,
                                int64_t now, const char *detail, attn_error *err)
{
    json_t *row = NULL;
    const char *cur;
    int rc;

    if (strcmp(lifecycle, "active") && strcmp(lifecycle, "archived") &&
        strcmp(lifecycle, "deleted"))
        return attn_error_set(err, ATTN_EINVAL, "lifecycle '%s' is not active, archived or deleted",
                              lifecycle);
    if ((rc = begin(r, err)))
        return rc;
    if ((rc = attn_registry_get(r, run_id, &row, err)))
        return rollback(r, rc);
    cur = attn_json_str(row, "lifecycle");
    if (cur && !strcmp(cur, "deleted") && strcmp(lifecycle, "deleted")) {
        json_decref(row);
        return rollback(r, attn_error_set(err, ATTN_ECONFLICT,
                                          "run '%s' was deleted (its directory is gone); rerun "
                                          "its spec to get it back",
                                          run_id));
    }
    json_decref(row);
    if (run_sql(r, NULL,
                "UPDATE runs SET lifecycle = ?2,"
                " archived_at = CASE WHEN ?2 = 'archived' THEN ?3"
                "   WHEN ?2 = 'active' THEN NULL ELSE archived_at END,"
                " deleted_at = CASE WHEN ?2 = 'deleted' THEN ?3 ELSE deleted_at END"
                " WHERE run_id = ?1",
                "ssi", run_id, lifecycle, now))
        return rollback(r, db_err(r, "changing a run's lifecycle", err));
    if ((rc = event(r, run_id, now,
                    !strcmp(lifecycle, "active") ? "restore"
                    : !strcmp(lifecycle, "archived") ? "archive"
                                                     : "delete",
                    detail, err)))
        return rollback(r, rc);
    return commit(r, err);
}

/* ---- retention ----------------------------------------------------------- */

void attn_retention_init(attn_retention *p)
{
    p->keep_last = 10;
    p->archive_after = 30 * 86400;
    p->delete_after = 90 * 86400;
}

int attn_retention_from_json(const json_t *v, const char *what, attn_retention *p,
                             attn_error *err)
{
    const char *k;
    json_t *x;
    if (!json_is_object(v))
        return attn_error_set(err, ATTN_EINVAL, "%s: a retention policy is a JSON object", what);
    json_object_foreach((json_t *)v, k, x) {
        json_int_t n = json_integer_value(x);
        if (!json_is_integer(x) || n < 0 || n > 100000)
            return attn_error_set(err, ATTN_EINVAL, "%s: %s must be a whole number >= 0", what, k);
        if (!strcmp(k, "keep_last"))
            p->keep_last = (int)n;
        else if (!strcmp(k, "archive_after_days"))
            p->archive_after = (int64_t)n * 86400;
        else if (!strcmp(k, "delete_after_days"))
            p->delete_after = (int64_t)n * 86400;
        else
            return attn_error_set(err, ATTN_EINVAL,
                                  "%s: unknown key '%s' (keep_last, archive_after_days, "
                                  "delete_after_days)",
                                  what, k);
    }
    return 0;
}

typedef struct {
    const json_t *row;
    const char *run_id;
    int64_t started, seq;
} ret_row;

static int by_recent(const void *a, const void *b)
{
    const ret_row *x = a, *y = b;
    if (x->started != y->started)
        return x->started > y->started ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq > y->seq ? -1 : 1;
    return -strcmp(x->run_id, y->run_id);
}

static int by_run_id(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    return strcmp(attn_json_str(x, "run_id"), attn_json_str(y, "run_id"));
}

static json_t *action(const json_t *row, const char *act, const char *reason)
{
    const json_t *d = json_object_get(row, "run_dir");
    return json_pack("{s:s, s:s, s:s, s:O}", "run_id", attn_json_str(row, "run_id"), "action", act,
                     "reason", reason, "run_dir", d ? d : json_null());
}

int attn_retention_plan(const json_t *rows, const attn_retention *p, int64_t now, json_t **out,
                        attn_error *err)
{
    size_t n = json_array_size(rows), na = 0, i;
    ret_row *act = attn_xcalloc(n ? n : 1, sizeof(*act));
    json_t **acts = attn_xcalloc(n ? n : 1, sizeof(*acts));
    json_t *arr = attn_xcheck(json_array()), *row;
    char why[160];
    int kept = 0, rc = 0;

    *out = NULL;
    json_array_foreach(rows, i, row) {
        const char *kind = attn_json_str(row, "kind"), *status = attn_json_str(row, "status"),
                   *life = attn_json_str(row, "lifecycle");
        int64_t started;
        if ((rc = attn_json_time(row, "started_at", &started, err)))
            goto out;
        if (!kind || !status || !life || !strcmp(kind, "baseline") ||
            !strcmp(status, "running") || !strcmp(life, "deleted"))
            continue;
        if (!strcmp(status, "failed")) {
            if (now - started > p->archive_after) {
                snprintf(why, sizeof(why), "failed run older than %lld days",
                         (long long)(p->archive_after / 86400));
                acts[na++] = action(row, "delete", why);
            }
            continue;
        }
        if (!strcmp(life, "archived")) {
            if (now - started > p->delete_after) {
                snprintf(why, sizeof(why), "archived run older than %lld days",
                         (long long)(p->delete_after / 86400));
                acts[na++] = action(row, "delete", why);
            }
            continue;
        }
        act[kept].row = row;
        act[kept].run_id = attn_json_str(row, "run_id");
        act[kept].seq = attn_json_i64(row, "start_seq", 0);
        act[kept++].started = started;
    }
    qsort(act, (size_t)kept, sizeof(*act), by_recent);
    for (int k = p->keep_last; k < kept; k++)
        if (now - act[k].started > p->archive_after) {
            snprintf(why, sizeof(why), "not among the last %d experimental runs and older than %lld days",
                     p->keep_last, (long long)(p->archive_after / 86400));
            acts[na++] = action(act[k].row, "archive", why);
        }
    qsort(acts, na, sizeof(*acts), by_run_id);
    for (i = 0; i < na; i++) {
        json_array_append_new(arr, acts[i]);
        acts[i] = NULL;
    }
    *out = arr;
    arr = NULL;
out:
    for (i = 0; acts && i < na; i++)
        json_decref(acts[i]);
    free(acts);
    free(act);
    json_decref(arr);
    return rc;
}

/* ---- external runs (migration 2) ------------------------------------------ */

static int import_one(attn_registry *r, const attn_external_run *x, int64_t now, int *outcome,
                      attn_error *err)
{
    json_t *content;
    char hash[65], *old = NULL;
    sqlite3_stmt *st = NULL;
    int rc;
    /* Checked here, as json_pack would refuse them: created_at comes from the
     * export file, the patterns name (a path) from the command line. */
    if (!x->created_at || !x->run_type)
        return attn_error_set(err, ATTN_EINVAL, "external run '%s': no %s", x->run_id,
                              x->created_at ? "run type" : "created_at");
    if (x->patterns_name && !attn_utf8_valid(x->patterns_name))
        return attn_error_set(err, ATTN_EINVAL, "the patterns file name is not valid UTF-8");
    content = attn_xcheck(json_pack(
        "{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:O, s:O, s:O?, s:O?}", "source",
        x->source, "run_id", x->run_id, "name", x->name, "state", x->state, "project", x->project,
        "entity", x->entity, "created_at", x->created_at, "run_type", x->run_type, "pattern",
        x->pattern, "patterns_name", x->patterns_name, "fields", x->fields, "matches", x->matches,
        "config", x->config, "summary", x->summary));
    rc = attn_json_hash(content, hash, err);
    json_decref(content);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(r->db, "SELECT content_hash FROM external_runs WHERE source = ? AND run_id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(r, "reading an external run", err);
    sqlite3_bind_text(st, 1, x->source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, x->run_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        old = attn_xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    *outcome = !old ? 1 : strcmp(old, hash) ? 2 : 0;
    free(old);
    if (*outcome == 0)
        return 0; /* reimport of the same content: nothing changes, no event */
    if (run_sql(r, NULL,
                "INSERT INTO external_runs(source, run_id, name, state, project, entity, created_at,"
                " run_type, pattern, patterns_name, fields, matches, config, summary, content_hash,"
                " imported_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(source, run_id) DO UPDATE SET name = excluded.name,"
                " state = excluded.state, project = excluded.project, entity = excluded.entity,"
                " created_at = excluded.created_at, run_type = excluded.run_type,"
                " pattern = excluded.pattern, patterns_name = excluded.patterns_name,"
                " fields = excluded.fields, matches = excluded.matches, config = excluded.config,"
                " summary = excluded.summary, content_hash = excluded.content_hash,"
                " updated_at = excluded.updated_at",
                "ssssssssssjjjjsii", x->source, x->run_id, x->name, x->state, x->project,
                x->entity, x->created_at, x->run_type, x->pattern, x->patterns_name, x->fields,
                x->matches, x->config, x->summary, hash, now, now))
        return db_err(r, "writing an external run", err);
    char detail[300];
    snprintf(detail, sizeof detail, "%s run, type %s", x->source, x->run_type);
    return event(r, x->run_id, now, *outcome == 1 ? "external-import" : "external-update", detail,
                 err);
}

int attn_registry_import_external(attn_registry *r, const attn_external_run *runs, size_t n,
                                  int64_t now, size_t counts[3], attn_error *err)
{
    int rc = begin(r, err);
    counts[0] = counts[1] = counts[2] = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int outcome = 0;
        rc = import_one(r, &runs[i], now, &outcome, err);
        counts[outcome]++;
    }
    return rc ? rollback(r, rc) : commit(r, err);
}

static int is_external_json_col(const char *c)
{
    return !strcmp(c, "fields") || !strcmp(c, "matches") || !strcmp(c, "config") ||
           !strcmp(c, "summary");
}

static json_t *external_row(sqlite3_stmt *st)
{
    json_t *o = attn_xcheck(json_object());
    for (int c = 0; c < sqlite3_column_count(st); c++) {
        const char *name = sqlite3_column_name(st, c);
        const char *t = (const char *)sqlite3_column_text(st, c);
        json_t *v;
        if (!t)
            v = json_null();
        else if (!strcmp(name, "imported_at") || !strcmp(name, "updated_at")) {
            char ts[ATTN_TIME_BUFSZ];
            v = json_string(attn_time_format(sqlite3_column_int64(st, c), ts));
        } else if (is_external_json_col(name)) {
            v = json_loads(t, JSON_DECODE_ANY, NULL);
            if (!v)
                v = json_string(t);
        } else
            v = json_string(t);
        json_object_set_new(o, name, v);
    }
    /* The shape of a runs row, so lists can hold both. */
    json_object_set_new(o, "kind", json_string("external"));
    json_object_set(o, "status", json_object_get(o, "state"));
    json_object_set_new(o, "lifecycle", json_string("active"));
    json_object_set(o, "started_at", json_object_get(o, "created_at"));
    json_object_set_new(o, "tags", json_pack("[s]", json_string_value(json_object_get(o, "run_type"))));
    return o;
}

int attn_registry_list_external(attn_registry *r, const char *run_id, int full, json_t **out,
                                attn_error *err)
{
    sqlite3_stmt *st = NULL;
    char sql[800];
    int rc;
    snprintf(sql, sizeof sql,
             "SELECT source, run_id, name, state, project, entity, created_at, run_type, pattern,"
             " patterns_name, fields, matches,%s content_hash, imported_at, updated_at"
             " FROM external_runs WHERE (?1 IS NULL OR run_id = ?1) ORDER BY created_at, run_id, source",
             full ? " config, summary," : "");
    *out = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(r, "listing external runs", err);
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, external_row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return db_err(r, "listing external runs", err);
    }
    *out = arr;
    return 0;
}

int attn_registry_now(int64_t *out, attn_error *err)
{
    const char *e = getenv("ATTN_NOW");
    if (e && *e) {
        char *end;
        long long v = strtoll(e, &end, 10);
        if (!*end) {
            *out = v;
            return 0;
        }
        return attn_time_parse(e, out, err);
    }
    *out = (int64_t)time(NULL);
    return 0;
}

void attn_registry_add_external(json_t *rows, const json_t *ext, const attn_run_filter *f)
{
    size_t i;
    json_t *r;
    json_array_foreach(ext, i, r) {
        const char *st = attn_json_str(r, "status");
        if ((f->kind && strcmp(f->kind, "external")) ||
            (f->lifecycle && strcmp(f->lifecycle, "active")) ||
            (f->status && (!st || strcmp(f->status, st))) || f->experiment_id)
            continue;
        json_array_append(rows, r);
    }
}
