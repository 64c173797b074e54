/*
 * export.c - `attn export parquet` (see export.h): one SQL statement per
 * table, streamed row by row into the Parquet writer, so memory stays flat
 * whatever the history's size.
 *
 * Parameters shared by every statement: ?1 repo id, ?2 from, ?3 end_at,
 * ?4 repo name, ?5/?6 the activity window, ?7 the truth window and ?8 the
 * intent window (seconds).
 */
#include "export/export.h"
#include "util/alloc.h"
#include "util/progress.h"
#include "export/table.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAR_PAST (-(INT64_C(1) << 50))
#define FAR_FUTURE (INT64_C(1) << 50)

/* The PRs of the export, and the "active at the cutoff" rule of history/asof.c. */
#define COHORT                                                                                  \
    "WITH p AS (SELECT pr.id, pr.number, pr.created_at, pr.user_id, pr.issue_id, pr.merged_at,"  \
    " pr.closed_at, pr.files_truncated FROM pull_requests pr WHERE pr.repo_id = ?1"             \
    " AND pr.created_at >= ?2 AND pr.created_at < ?3)"
#define AT_CUTOFF(table, col, owner)                                                            \
    "(SELECT i." col " FROM " table " i WHERE i." owner " AND i.start_at <= p.created_at"        \
    " AND (i.end_at IS NULL OR p.created_at < i.end_at) ORDER BY i.start_at DESC, i.id DESC LIMIT 1)"
#define HEAD_AT(col) AT_CUTOFF("pull_request_head_intervals", col, "pull_request_id = p.id")
#define BASE_AT(col) AT_CUTOFF("pull_request_base_intervals", col, "pull_request_id = p.id")

static const char SQL_PRS[] =
    COHORT ", h AS (SELECT p.*, " HEAD_AT("head_sha") " AS head_sha, " HEAD_AT("head_ref")
    " AS head_ref, " BASE_AT("base_sha") " AS base_sha, " BASE_AT("base_ref") " AS base_ref, "
    AT_CUTOFF("pull_request_draft_intervals", "is_draft", "pull_request_id = p.id") " AS draft FROM p)"
    " SELECT ?4, h.number, h.created_at, 'created_at', u.login, u.type, h.created_at, h.draft,"
    " h.base_ref, h.base_sha, h.head_ref, h.head_sha,"
    " (SELECT NULLIF(count(*), 0) FROM pull_request_files f WHERE f.repo_id = ?1"
    "  AND f.pull_request_id = h.id AND f.head_sha = h.head_sha),"
    " h.files_truncated, h.merged_at, h.closed_at"
    " FROM h LEFT JOIN users u ON u.id = h.user_id ORDER BY h.number";

static const char SQL_FILES[] =
    COHORT ", h AS (SELECT p.id, p.number, p.created_at, " HEAD_AT("head_sha") " AS head_sha FROM p)"
    " SELECT ?4, h.number, h.created_at, f.head_sha, f.path, f.status, f.additions, f.deletions,"
    " f.changes, f.previous_path,"
    " CASE WHEN instr(f.path, '/') > 0 THEN substr(f.path, 1, instr(f.path, '/') - 1) ELSE '__root__' END"
    " FROM h JOIN pull_request_files f ON f.repo_id = ?1 AND f.pull_request_id = h.id"
    " AND f.head_sha = h.head_sha ORDER BY h.number, f.path";

static const char SQL_ACTIVITY[] =
    "SELECT ?4, p.number, r.submitted_at, u.login, u.type, 'review_submitted' AS kind, NULL, r.state,"
    " r.id FROM reviews r JOIN pull_requests p ON p.id = r.pull_request_id"
    " LEFT JOIN users u ON u.id = r.user_id"
    " WHERE r.repo_id = ?1 AND r.submitted_at >= ?5 AND r.submitted_at < ?6"
    " UNION ALL"
    " SELECT ?4, p.number, c.created_at, u.login, u.type,"
    " CASE WHEN c.comment_type = 'review' THEN 'review_comment_created' ELSE 'comment_created' END,"
    " c.path, NULL, c.id FROM comments c JOIN pull_requests p ON p.id = c.pull_request_id"
    " LEFT JOIN users u ON u.id = c.user_id"
    " WHERE c.repo_id = ?1 AND c.created_at >= ?5 AND c.created_at < ?6"
    " ORDER BY 3, 2, 6, 9";

static const char SQL_TEXT[] =
    COHORT " SELECT ?4, p.number, p.created_at, c.title, c.body FROM p"
    " LEFT JOIN issue_content_intervals c ON c.id = "
    AT_CUTOFF("issue_content_intervals", "id", "issue_id = p.issue_id") " ORDER BY p.number";

#define FIRST_REVIEW(col)                                                                       \
    "(SELECT " col " FROM reviews r LEFT JOIN users u ON u.id = r.user_id"                       \
    " WHERE r.pull_request_id = p.id AND r.submitted_at >= p.created_at"                         \
    " AND r.submitted_at < p.created_at + ?7 AND r.user_id IS NOT p.user_id"                     \
    " AND COALESCE(u.type, 'User') <> 'Bot' ORDER BY r.submitted_at, r.id LIMIT 1)"

static const char SQL_TRUTH_BEHAVIOR[] =
    COHORT " SELECT ?4, p.number, p.created_at, " FIRST_REVIEW("u.login") ", "
    FIRST_REVIEW("r.submitted_at") ", p.created_at + ?7 FROM p ORDER BY p.number";

static const char SQL_TRUTH_INTENT[] =
    COHORT " SELECT ?4, p.number, p.created_at, i.start_at, i.reviewer_type, COALESCE(u.login, t.slug)"
    " FROM p JOIN pull_request_review_request_intervals i ON i.pull_request_id = p.id"
    " AND i.start_at >= p.created_at AND i.start_at < p.created_at + ?8"
    " LEFT JOIN users u ON i.reviewer_type = 'user' AND u.id = i.reviewer_id"
    " LEFT JOIN teams t ON i.reviewer_type = 'team' AND t.id = i.reviewer_id"
    " ORDER BY p.number, i.start_at, i.reviewer_type, 6";

typedef struct {
    attn_pq_col col;
    const char *as_of;   /* what a consumer filters on to stay leakage-safe */
} col_spec;

#define K_REPO {{"repo", ATTN_PQ_STRING, 0}, "constant"}
#define K_PR {{"pr_number", ATTN_PQ_INT64, 0}, "immutable"}
#define K_CUTOFF {{"cutoff", ATTN_PQ_TIMESTAMP, 1}, "the PR's cutoff (created_at); every as_of_cutoff column is the state at this instant"}
#define AS_OF "as_of_cutoff"

static const col_spec PRS_COLS[] = {
    K_REPO, K_PR, K_CUTOFF,
    {{"cutoff_policy", ATTN_PQ_STRING, 0}, "constant"},
    {{"author_login", ATTN_PQ_STRING, 1}, "immutable (the PR's author)"},
    {{"author_type", ATTN_PQ_STRING, 1}, "immutable"},
    {{"created_at", ATTN_PQ_TIMESTAMP, 1}, "immutable"},
    {{"is_draft", ATTN_PQ_BOOL, 1}, AS_OF},
    {{"base_ref", ATTN_PQ_STRING, 1}, AS_OF},
    {{"base_sha", ATTN_PQ_STRING, 1}, AS_OF},
    {{"head_ref", ATTN_PQ_STRING, 1}, AS_OF},
    {{"head_sha", ATTN_PQ_STRING, 1}, AS_OF " (NULL when no head interval covers the cutoff)"},
    {{"n_changed_files", ATTN_PQ_INT64, 1}, AS_OF " (files stored for head_sha; NULL when none are stored for that head)"},
    {{"files_truncated", ATTN_PQ_BOOL, 1}, "observed at ingestion (the API's 3,000-file cap)"},
    {{"merged_at", ATTN_PQ_TIMESTAMP, 1}, "outcome: known only from merged_at on; treat as NULL when merged_at > your cutoff"},
    {{"closed_at", ATTN_PQ_TIMESTAMP, 1}, "outcome: known only from closed_at on; treat as NULL when closed_at > your cutoff"},
};
static const col_spec FILES_COLS[] = {
    K_REPO, K_PR, K_CUTOFF,
    {{"head_sha", ATTN_PQ_STRING, 0}, AS_OF " (the head active at the cutoff; a PR whose files are stored only for later heads has no rows)"},
    {{"path", ATTN_PQ_STRING, 0}, AS_OF},
    {{"status", ATTN_PQ_STRING, 1}, AS_OF},
    {{"additions", ATTN_PQ_INT64, 1}, AS_OF},
    {{"deletions", ATTN_PQ_INT64, 1}, AS_OF},
    {{"changes", ATTN_PQ_INT64, 1}, AS_OF},
    {{"previous_path", ATTN_PQ_STRING, 1}, AS_OF},
    {{"default_area", ATTN_PQ_STRING, 0}, "derived from path (first segment, __root__ for top-level files)"},
};
static const col_spec ACTIVITY_COLS[] = {
    K_REPO, K_PR,
    {{"occurred_at", ATTN_PQ_TIMESTAMP, 1}, "event time: keep rows with occurred_at < your cutoff"},
    {{"actor_login", ATTN_PQ_STRING, 1}, "immutable"},
    {{"actor_type", ATTN_PQ_STRING, 1}, "immutable"},
    {{"kind", ATTN_PQ_STRING, 0}, "immutable (review_submitted, review_comment_created, comment_created)"},
    {{"path", ATTN_PQ_STRING, 1}, "immutable (review comments)"},
    {{"review_state", ATTN_PQ_STRING, 1}, "last observed (a later dismissal shows as DISMISSED)"},
    {{"source_id", ATTN_PQ_INT64, 0}, "immutable (review or comment id)"},
};
static const col_spec TEXT_COLS[] = {
    K_REPO, K_PR, K_CUTOFF,
    {{"title", ATTN_PQ_STRING, 1}, AS_OF},
    {{"body", ATTN_PQ_STRING, 1}, AS_OF " (a body first seen at ingestion may include later edits)"},
};
static const col_spec BEHAVIOR_COLS[] = {
    K_REPO, K_PR, K_CUTOFF,
    {{"first_reviewer_login", ATTN_PQ_STRING, 1}, "label: after the cutoff, never a feature"},
    {{"first_reviewed_at", ATTN_PQ_TIMESTAMP, 1}, "label: after the cutoff, never a feature"},
    {{"window_end", ATTN_PQ_TIMESTAMP, 1}, "the end of the truth window (cutoff + truth_window_days)"},
};
static const col_spec INTENT_COLS[] = {
    K_REPO, K_PR, K_CUTOFF,
    {{"requested_at", ATTN_PQ_TIMESTAMP, 0}, "label: after the cutoff, never a feature"},
    {{"target_type", ATTN_PQ_STRING, 0}, "label"},
    {{"target_name", ATTN_PQ_STRING, 1}, "label"},
};

typedef struct {
    const char *name;
    const char *sql;
    const col_spec *cols;
    size_t ncols;
    int needs;   /* 0 always, 1 --include-text, 2 --include-truth */
} table_spec;

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const table_spec TABLES[] = {
    {"prs", SQL_PRS, PRS_COLS, N(PRS_COLS), 0},
    {"pr_files", SQL_FILES, FILES_COLS, N(FILES_COLS), 0},
    {"pr_activity", SQL_ACTIVITY, ACTIVITY_COLS, N(ACTIVITY_COLS), 0},
    {"prs_text", SQL_TEXT, TEXT_COLS, N(TEXT_COLS), 1},
    {"truth_behavior", SQL_TRUTH_BEHAVIOR, BEHAVIOR_COLS, N(BEHAVIOR_COLS), 2},
    {"truth_intent", SQL_TRUTH_INTENT, INTENT_COLS, N(INTENT_COLS), 2},
};

void attn_export_opts_default(attn_export_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->from = o->end_at = ATTN_NULL_I64;
    o->activity_lookback_days = 180;
    o->truth_window_days = 30;
    o->intent_window_minutes = 60;
    attn_pq_opts_default(&o->pq);
}

static const char *type_name(attn_pq_type t)
{
    switch (t) {
    case ATTN_PQ_TIMESTAMP: return "timestamp[us, UTC]";
    case ATTN_PQ_DOUBLE: return "double";
    case ATTN_PQ_STRING: return "string";
    case ATTN_PQ_BOOL: return "bool";
    default: return "int64";
    }
}

json_t *attn_export_schema_json(const attn_pq_col *cols, const char *const *as_of, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_pack("{s:s, s:s, s:b}", "name", cols[i].name, "type",
                              type_name(cols[i].type), "nullable", cols[i].nullable);
        if (as_of && as_of[i])
            json_object_set_new(c, "as_of", json_string(as_of[i]));
        json_array_append_new(a, c);
    }
    return a;
}

/* The progress line of one table's export (a live line or periodic lines). */
typedef struct {
    attn_progress p;
    const char *table;
} table_progress;

static void progress(void *ctx, int64_t rows)
{
    table_progress *tp = ctx;
    attn_progress_show(&tp->p, 0, "export: %s: %lld rows, %.0f rows/s", tp->table,
                       (long long)rows, rows / (attn_progress_elapsed(&tp->p) + 1e-9));
}

/* One table: run its statement into dir/<name>.parquet; its manifest entry into tables. */
static int export_table(sqlite3 *db, const table_spec *t, const int64_t *params, const char *repo,
                        const char *dir, const attn_export_opts *o, json_t *tables, attn_error *err)
{
    attn_pq_col cols[32];
    const char *as_of[32];
    char path[4600], hex[65];
    sqlite3_stmt *st = NULL;
    attn_sink *sink = NULL;
    int64_t rows = 0, bytes = 0;
    int rc;

    for (size_t i = 0; i < t->ncols; i++)
        cols[i] = t->cols[i].col, as_of[i] = t->cols[i].as_of;
    if (sqlite3_prepare_v2(db, t->sql, -1, &st, NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "export %s: %s", t->name, sqlite3_errmsg(db));
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
        if (i == 4)
            sqlite3_bind_text(st, i, repo, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, i, params[i - 1]);
    }
    snprintf(path, sizeof(path), "%s/%s.parquet", dir, t->name);
    rc = attn_sink_open(path, ATTN_SINK_PARQUET, cols, t->ncols, &o->pq, &sink, err);
    if (!rc) {
        table_progress tp;
        attn_progress_init(&tp.p, o->quiet ? ATTN_PROGRESS_OFF : o->progress);
        tp.table = t->name;
        rc = attn_sink_from_stmt(sink, st, tp.p.mode ? progress : NULL, &tp, err);
        attn_progress_break(&tp.p);
    }
    sqlite3_finalize(st);
    if (rc) {
        attn_sink_abort(sink);
        return attn_error_wrap(err, "export %s", t->name);
    }
    if ((rc = attn_sink_close(sink, &rows, err)) || (rc = attn_export_hash_file(path, hex, &bytes, err)))
        return rc;
    json_object_set_new(tables, t->name,
                        json_pack("{s:s, s:I, s:I, s:s, s:o}", "file", strrchr(path, '/') + 1,
                                  "rows", (json_int_t)rows, "bytes", (json_int_t)bytes, "sha256", hex,
                                  "columns", attn_export_schema_json(cols, as_of, t->ncols)));
    if (!o->quiet)
        fprintf(stderr, "export: %s.parquet: %lld rows\n", t->name, (long long)rows);
    return 0;
}

static json_t *manifest_head(const attn_export_opts *o)
{
    char a[ATTN_TIME_BUFSZ], b[ATTN_TIME_BUFSZ];
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:I, s:I, s:I, s:s}",
                     "contract_version", ATTN_EXPORT_CONTRACT, "repo", o->repo, "export_run_id",
                     o->export_run_id, "cutoff_policy", "created_at", "from",
                     o->from == ATTN_NULL_I64 ? json_null() : json_string(attn_time_format(o->from, a)),
                     "end_at",
                     o->end_at == ATTN_NULL_I64 ? json_null() : json_string(attn_time_format(o->end_at, b)),
                     "include_text", o->include_text, "include_truth", o->include_truth,
                     "activity_lookback_days", (json_int_t)o->activity_lookback_days,
                     "truth_window_days", (json_int_t)o->truth_window_days, "intent_window_minutes",
                     (json_int_t)o->intent_window_minutes, "time_unit",
                     "timestamps are UTC microseconds; cutoffs and windows are [start, end)");
}

static int export_all(attn_store *s, const attn_export_opts *o, const char *dir, json_t *m,
                      attn_error *err)
{
    int64_t repo_id, params[8];
    int64_t from = o->from == ATTN_NULL_I64 ? FAR_PAST : o->from;
    int64_t end = o->end_at == ATTN_NULL_I64 ? FAR_FUTURE : o->end_at;
    json_t *tables = json_object();
    int rc;

    json_object_set_new(m, "tables", tables);
    if ((rc = attn_store_repo_id(s, o->repo, &repo_id, err)))
        return rc;
    params[0] = repo_id, params[1] = from, params[2] = end, params[3] = 0;
    params[4] = from == FAR_PAST ? FAR_PAST : from - o->activity_lookback_days * 86400;
    params[5] = end == FAR_FUTURE ? FAR_FUTURE : end + o->truth_window_days * 86400;
    params[6] = o->truth_window_days * 86400;
    params[7] = o->intent_window_minutes * 60;
    for (size_t i = 0; i < N(TABLES); i++) {
        const table_spec *t = &TABLES[i];
        if ((t->needs == 1 && !o->include_text) || (t->needs == 2 && !o->include_truth))
            continue;
        if ((rc = export_table(attn_store_db(s), t, params, o->repo, dir, o, tables, err)))
            return rc;
    }
    return 0;
}

int attn_export_parquet(const attn_export_opts *o, json_t **manifest, attn_error *err)
{
    char owner[ATTN_NAME_MAX + 1], name[ATTN_NAME_MAX + 1], parent[4200], dir[4400], tmp[4400],
        db[4200];
    attn_store *s = NULL;
    attn_buf text = ATTN_BUF_INIT;
    json_t *m;
    int rc;

    if (manifest)
        *manifest = NULL;
    if ((rc = attn_path_parse_repo(o->repo, owner, name, err)) ||
        (rc = attn_path_check_id(o->export_run_id, "--export-run-id", err)))
        return rc;
    if (o->from != ATTN_NULL_I64 && o->end_at != ATTN_NULL_I64 && o->end_at <= o->from)
        return attn_error_set(err, ATTN_EINVAL, "--end-at must be after --from");
    snprintf(parent, sizeof(parent), "%s/exports/%s/%s", o->data_dir, owner, name);
    snprintf(dir, sizeof(dir), "%s/%s", parent, o->export_run_id);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", parent, o->export_run_id, (long)getpid());
    if (attn_fs_exists(dir))
        return attn_error_set(err, ATTN_ECONFLICT,
                              "export %s already exists; choose another --export-run-id or remove it", dir);
    if ((rc = attn_path_repo_dir(o->data_dir, o->repo, db, sizeof(db), err)))
        return rc;
    strncat(db, "/history.sqlite", sizeof(db) - strlen(db) - 1);
    if (!attn_fs_exists(db))
        return attn_error_set(err, ATTN_ENOTFOUND, "no history store for %s at %s; run 'attn init' and load or ingest first",
                              o->repo, db);
    if ((rc = attn_store_open_readonly(db, &s, err)))
        return rc;
    if ((rc = attn_fs_remove_tree(tmp, err)) || (rc = attn_fs_mkdirs(tmp, err))) {
        attn_store_close(s);
        return rc;
    }
    m = manifest_head(o);
    rc = export_all(s, o, tmp, m, err);
    attn_store_close(s);
    if (!rc) {
        attn_json_dump_pretty(m, &text);
        char mp[4500];
        snprintf(mp, sizeof(mp), "%s/export_manifest.json", tmp);
        rc = attn_fs_write_atomic(mp, text.ptr, text.len, err);
    }
    if (!rc && rename(tmp, dir) != 0)
        rc = attn_error_set(err, ATTN_EIO, "cannot rename %s to %s", tmp, dir);
    attn_buf_free(&text);
    if (rc) {
        attn_error scratch;
        attn_fs_remove_tree(tmp, &scratch);
        json_decref(m);
        return rc;
    }
    if (manifest)
        *manifest = m;
    else
        json_decref(m);
    return 0;
}
