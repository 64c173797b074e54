/*
 * contract.c - `attn contract check`: does a history store satisfy
 * attn.contract.v1?
 *
 * Owns the list of what the contract requires (tables, columns, indexes,
 * schema version) and the invariant queries over interval tables: no two
 * intervals of one owner/key overlap, no interval ends before it starts,
 * every start/end event exists, belongs to the interval's owner and carries
 * the instant copied into start_at/end_at, and every foreign key resolves.
 * It only reads: it must never repair, and it must keep working on a damaged
 * file (a missing table is a finding, not an error).
 */
#include "store/store_internal.h"
#include "util/alloc.h"
#include "util/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FINDINGS 1000

/* ---- what the contract requires -------------------------------------------------- */

static const struct {
    const char *table, *columns;   /* space-separated */
} REQUIRED_TABLES[] = {
    {"repos", "id owner_id owner_login name full_name is_private description default_branch "
              "created_at updated_at pushed_at archived disabled"},
    {"users", "id login type site_admin avatar_url"},
    {"teams", "id slug name"},
    {"team_members", "team_id user_id source observed_at"},
    {"labels", "id repo_id name color description is_default"},
    {"milestones", "id repo_id number title state description due_on closed_at created_at "
                   "updated_at"},
    {"issues", "id repo_id number user_id title body state created_at updated_at closed_at "
               "is_pull_request locked"},
    {"pull_requests", "id repo_id number issue_id user_id title body state draft merged "
                      "merge_commit_sha head_sha head_ref base_sha base_ref created_at updated_at "
                      "closed_at merged_at files_truncated"},
    {"pull_request_files", "repo_id pull_request_id head_sha path status additions deletions "
                           "changes previous_path"},
    {"reviews", "id repo_id pull_request_id user_id state body submitted_at commit_id"},
    {"comments", "id repo_id issue_id pull_request_id review_id user_id body created_at "
                 "updated_at path position commit_id in_reply_to_id comment_type"},
    {"events", "id repo_id occurred_at actor_id subject_type subject_id event_type object_type "
               "object_id commit_sha payload_json event_key"},
    {"commits", "repo_id sha author_id committer_id author_name author_email committer_name "
                "committer_email message authored_at committed_at"},
    {"refs", "id repo_id ref_type name sha is_protected"},
    {"releases", "id repo_id tag_name name draft prerelease created_at published_at author_id "
                 "body target_commitish"},
    {"watermarks", "id repo_id resource updated_at etag last_modified cursor"},
    {"ingestion_gaps", "id repo_id resource url page expected_page detail detected_at"},
    {"ingestion_checkpoints", "id repo_id flow stage completed_at details_json"},
    {"qa_reports", "id repo_id created_at summary_json"},
    {"object_snapshots", "id resource source_id etag payload"},
    {"issue_state_intervals", "id issue_id state start_event_id end_event_id start_at end_at"},
    {"issue_content_intervals", "id issue_id title body start_event_id end_event_id start_at "
                                "end_at"},
    {"issue_label_intervals", "id issue_id label_id start_event_id end_event_id start_at end_at"},
    {"issue_assignee_intervals", "id issue_id user_id start_event_id end_event_id start_at "
                                 "end_at"},
    {"issue_milestone_intervals", "id issue_id milestone_id start_event_id end_event_id "
                                  "start_at end_at"},
    {"pull_request_draft_intervals", "id pull_request_id is_draft start_event_id end_event_id "
                                     "start_at end_at"},
    {"pull_request_head_intervals", "id pull_request_id head_sha head_ref start_event_id "
                                    "end_event_id start_at end_at"},
    {"pull_request_base_intervals", "id pull_request_id base_sha base_ref start_event_id "
                                    "end_event_id start_at end_at"},
    {"pull_request_review_request_intervals", "id pull_request_id reviewer_type reviewer_id "
                                              "start_event_id end_event_id start_at end_at"},
    {"comment_content_intervals", "id comment_id body start_event_id end_event_id start_at "
                                  "end_at"},
    {"review_content_intervals", "id review_id body state start_event_id end_event_id start_at "
                                 "end_at"},
};
#define N_TABLES ((int)(sizeof(REQUIRED_TABLES) / sizeof(REQUIRED_TABLES[0])))

static const struct {
    const char *table, *columns;   /* comma-separated, a prefix of the index's columns */
    int unique;
} REQUIRED_INDEXES[] = {
    {"events", "subject_type,subject_id,occurred_at", 0},
    {"events", "repo_id,occurred_at,id", 0},
    {"events", "event_key", 1},
    {"reviews", "pull_request_id,submitted_at", 0},
    {"comments", "pull_request_id,created_at", 0},
    {"comments", "issue_id,created_at", 0},
    {"pull_request_files", "repo_id,pull_request_id,head_sha", 0},
    {"pull_request_files", "repo_id,path", 0},
    {"issue_state_intervals", "issue_id,start_at", 0},
    {"issue_content_intervals", "issue_id,start_at", 0},
    {"issue_label_intervals", "issue_id,start_at", 0},
    {"issue_assignee_intervals", "issue_id,start_at", 0},
    {"issue_milestone_intervals", "issue_id,start_at", 0},
    {"pull_request_draft_intervals", "pull_request_id,start_at", 0},
    {"pull_request_head_intervals", "pull_request_id,start_at", 0},
    {"pull_request_base_intervals", "pull_request_id,start_at", 0},
    {"pull_request_review_request_intervals", "pull_request_id,start_at", 0},
    {"comment_content_intervals", "comment_id,start_at", 0},
    {"review_content_intervals", "review_id,start_at", 0},
};

/* Interval tables: the owner, the key that must not overlap (owner plus the
 * value for multi-valued tables), and the subject their events must name. */
static const struct {
    const char *table, *owner, *key, *subject;
} INTERVAL_TABLES[] = {
    {"issue_state_intervals", "issue_id", "issue_id", "issue"},
    {"issue_content_intervals", "issue_id", "issue_id", "issue"},
    {"issue_label_intervals", "issue_id", "issue_id, label_id", "issue"},
    {"issue_assignee_intervals", "issue_id", "issue_id, user_id", "issue"},
    {"issue_milestone_intervals", "issue_id", "issue_id", "issue"},
    {"pull_request_draft_intervals", "pull_request_id", "pull_request_id", "pull_request"},
    {"pull_request_head_intervals", "pull_request_id", "pull_request_id", "pull_request"},
    {"pull_request_base_intervals", "pull_request_id", "pull_request_id", "pull_request"},
    {"pull_request_review_request_intervals", "pull_request_id",
     "pull_request_id, reviewer_type, reviewer_id", "pull_request"},
    {"comment_content_intervals", "comment_id", "comment_id", "comment"},
    {"review_content_intervals", "review_id", "review_id", "review"},
};
#define N_INTERVAL_TABLES ((int)(sizeof(INTERVAL_TABLES) / sizeof(INTERVAL_TABLES[0])))

/* ---- findings ---------------------------------------------------------------------- */

typedef struct {
    attn_contract_report *rep;
    int64_t dropped;
    char *table_ok;    /* per REQUIRED_TABLES entry: all columns present */
} checker;

static void finding(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(checker *c, const char *fmt, ...)
{
    attn_contract_report *r = c->rep;
    char line[512];
    va_list ap;
    r->ok = 0;
    if (r->n_findings >= MAX_FINDINGS) {
        c->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    r->findings =
        attn_xrealloc(r->findings, attn_st_mult((size_t)r->n_findings + 2, sizeof(char *)));
    r->findings[r->n_findings++] = attn_xstrdup(line);
}

static int prep(attn_store *s, const char *sql, sqlite3_stmt **st, attn_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return attn_store_db_error(s, err, "preparing the contract check");
    return 0;
}

static int fail_step(attn_store *s, sqlite3_stmt *st, attn_error *err)
{
    sqlite3_finalize(st);
    return attn_store_db_error(s, err, "running the contract check");
}

static int table_ok(const checker *c, const char *table)
{
    for (int i = 0; i < N_TABLES; i++)
        if (!strcmp(REQUIRED_TABLES[i].table, table))
            return c->table_ok[i];
    return 0;
}

/* ---- schema ------------------------------------------------------------------------ */

static int check_tables(attn_store *s, checker *c, attn_error *err)
{
    sqlite3_stmt *tab, *col_st;
    int rc;
    if ((rc = prep(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", &tab,
                   err)))
        return rc;
    if ((rc = prep(s, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", &col_st, err))) {
        sqlite3_finalize(tab);
        return rc;
    }
    for (int i = 0; i < N_TABLES && !rc; i++) {
        const char *table = REQUIRED_TABLES[i].table, *cols = REQUIRED_TABLES[i].columns;
        char col[64];
        sqlite3_reset(tab);
        sqlite3_bind_text(tab, 1, table, -1, SQLITE_STATIC);
        rc = sqlite3_step(tab);
        c->table_ok[i] = rc == SQLITE_ROW;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            break;
        rc = 0;
        if (!c->table_ok[i]) {
            finding(c, "FAIL missing_table %s", table);
            continue;
        }
        while (*cols) {
            size_t n = strcspn(cols, " ");
            snprintf(col, sizeof(col), "%.*s", (int)n, cols);
            cols += n + (cols[n] == ' ');
            sqlite3_reset(col_st);
            sqlite3_bind_text(col_st, 1, table, -1, SQLITE_STATIC);
            sqlite3_bind_text(col_st, 2, col, -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(col_st);
            if (rc == SQLITE_DONE) {
                c->table_ok[i] = 0;   /* its invariant queries would fail: skip them */
                finding(c, "FAIL missing_column %s.%s", table, col);
            } else if (rc != SQLITE_ROW) {
                break;
            }
            rc = 0;
        }
    }
    sqlite3_finalize(tab);
    sqlite3_finalize(col_st);
    if (rc)
        return attn_store_db_error(s, err, "reading the schema for the contract check");
    c->rep->n_tables = N_TABLES;
    return 0;
}

static const char SQL_INDEXES[] =
    "SELECT name, uniq, group_concat(col, ',') FROM ("
    " SELECT il.name AS name, il.\"unique\" AS uniq, ii.name AS col"
    " FROM pragma_index_list(?1) il JOIN pragma_index_info(il.name) ii"
    " ORDER BY il.name, ii.seqno) GROUP BY name";

static int check_indexes(attn_store *s, checker *c, attn_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = prep(s, SQL_INDEXES, &st, err)))
        return rc;
    for (size_t i = 0; i < sizeof(REQUIRED_INDEXES) / sizeof(REQUIRED_INDEXES[0]); i++) {
        const char *want = REQUIRED_INDEXES[i].columns;
        size_t wn = strlen(want);
        int found = 0;
        if (!table_ok(c, REQUIRED_INDEXES[i].table))
            continue;   /* already reported */
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, REQUIRED_INDEXES[i].table, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *cols = (const char *)sqlite3_column_text(st, 2);
            int uniq = sqlite3_column_int(st, 1);
            if (!cols || strncmp(cols, want, wn) || (cols[wn] && cols[wn] != ','))
                continue;
            if (REQUIRED_INDEXES[i].unique && (!uniq || cols[wn]))
                continue;
            found = 1;
        }
        if (rc != SQLITE_DONE)
            return fail_step(s, st, err);
        if (!found)
            finding(c, "FAIL missing_index %s(%s)%s", REQUIRED_INDEXES[i].table, want,
                    REQUIRED_INDEXES[i].unique ? " unique" : "");
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---- interval invariants ----------------------------------------------------------- */

/* Run a query over one interval table; each row becomes a finding built by
 * `emit`. Table and column names come from INTERVAL_TABLES only. */
typedef void (*emit_fn)(checker *c, const char *table, sqlite3_stmt *row);

static int run_rows(attn_store *s, checker *c, const char *table, const char *sql, emit_fn emit,
                    attn_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = prep(s, sql, &st, err)))
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        emit(c, table, st);
    if (rc != SQLITE_DONE)
        return fail_step(s, st, err);
    sqlite3_finalize(st);
    return 0;
}

static void emit_overlap(checker *c, const char *table, sqlite3_stmt *r)
{
    finding(c, "FAIL overlap %s id=%lld overlaps id=%lld (%s, from %lld)", table,
            (long long)sqlite3_column_int64(r, 0), (long long)sqlite3_column_int64(r, 1),
            (const char *)sqlite3_column_text(r, 2), (long long)sqlite3_column_int64(r, 3));
}

static void emit_order(checker *c, const char *table, sqlite3_stmt *r)
{
    finding(c, "FAIL end_before_start %s id=%lld start_at=%lld end_at=%lld", table,
            (long long)sqlite3_column_int64(r, 0), (long long)sqlite3_column_int64(r, 1),
            (long long)sqlite3_column_int64(r, 2));
}

static void emit_open(checker *c, const char *table, sqlite3_stmt *r)
{
    finding(c, "FAIL end_mismatch %s id=%lld: end_event_id and end_at must be both set or "
               "both NULL", table, (long long)sqlite3_column_int64(r, 0));
}

/* Columns: id, which ('start'|'end'), event id, event exists, occurred_at, stored instant,
 * subject_type, subject_id, owner. */
static void emit_event(checker *c, const char *table, sqlite3_stmt *r)
{
    long long id = sqlite3_column_int64(r, 0), ev = sqlite3_column_int64(r, 2);
    const char *which = (const char *)sqlite3_column_text(r, 1);
    if (!sqlite3_column_int(r, 3))
        finding(c, "FAIL dangling_event %s id=%lld %s_event_id=%lld does not exist", table, id,
                which, ev);
    else if (sqlite3_column_type(r, 4) != SQLITE_INTEGER ||
             sqlite3_column_int64(r, 4) != sqlite3_column_int64(r, 5) ||
             sqlite3_column_type(r, 5) == SQLITE_NULL)
        finding(c, "FAIL event_time %s id=%lld %s_at=%lld but event %lld occurred_at=%lld",
                table, id, which, (long long)sqlite3_column_int64(r, 5), ev,
                (long long)sqlite3_column_int64(r, 4));
    else
        finding(c, "FAIL event_subject %s id=%lld %s event %lld is about %s %lld, not this "
                   "interval's owner %lld", table, id, which, ev,
                (const char *)sqlite3_column_text(r, 6), (long long)sqlite3_column_int64(r, 7),
                (long long)sqlite3_column_int64(r, 8));
}

static int check_interval_table(attn_store *s, checker *c, int i, attn_error *err)
{
    const char *t = INTERVAL_TABLES[i].table, *owner = INTERVAL_TABLES[i].owner;
    const char *key = INTERVAL_TABLES[i].key, *subject = INTERVAL_TABLES[i].subject;
    char sql[2048];
    sqlite3_stmt *st;
    int rc;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", t);
    if ((rc = prep(s, sql, &st, err)))
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW)
        return fail_step(s, st, err);
    c->rep->n_intervals += sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);

    /* Overlap: sorted by start, a positive-length interval that starts before
     * the previous one of the same key ends. Zero-length intervals are active
     * at no instant, so they cannot overlap anything and are left out; among
     * the rest, any overlap shows up between neighbours in this order. */
    {
        /* A readable key for the message, e.g. 'issue_id=1 label_id=2'. */
        char label[256] = "";
        const char *k = key;
        while (*k) {
            size_t n = strcspn(k, ",");
            char col[64];
            snprintf(col, sizeof(col), "%.*s", (int)n, k);
            snprintf(label + strlen(label), sizeof(label) - strlen(label), "%s'%s=' || %s",
                     label[0] ? " || ' ' || " : "", col, col);
            k += n;
            while (*k == ',' || *k == ' ')
                k++;
        }
        snprintf(sql, sizeof(sql),
                 "SELECT id, prev_id, key, start_at FROM ("
                 " SELECT id, start_at, %s AS key,"
                 "  LAG(id) OVER w AS prev_id, LAG(COALESCE(end_at, 9223372036854775807)) OVER w"
                 "  AS prev_end FROM %s WHERE end_at IS NULL OR end_at > start_at"
                 " WINDOW w AS (PARTITION BY %s ORDER BY start_at, id))"
                 " WHERE prev_id IS NOT NULL AND start_at < prev_end ORDER BY id",
                 label, t, key);
    }
    if ((rc = run_rows(s, c, t, sql, emit_overlap, err)))
        return rc;

    snprintf(sql, sizeof(sql),
             "SELECT id, start_at, end_at FROM %s WHERE end_at < start_at ORDER BY id", t);
    if ((rc = run_rows(s, c, t, sql, emit_order, err)))
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT id FROM %s WHERE (end_event_id IS NULL) <> (end_at IS NULL) ORDER BY id", t);
    if ((rc = run_rows(s, c, t, sql, emit_open, err)))
        return rc;

    for (int end = 0; end < 2; end++) {
        const char *which = end ? "end" : "start";
        snprintf(sql, sizeof(sql),
                 "SELECT t.id, '%s', t.%s_event_id, e.id IS NOT NULL, e.occurred_at, t.%s_at,"
                 " e.subject_type, e.subject_id, t.%s"
                 " FROM %s t LEFT JOIN events e ON e.id = t.%s_event_id"
                 " WHERE t.%s_event_id IS NOT NULL AND (e.id IS NULL"
                 "  OR e.occurred_at IS NOT t.%s_at OR e.subject_type IS NOT '%s'"
                 "  OR e.subject_id IS NOT t.%s) ORDER BY t.id",
                 which, which, which, owner, t, which, which, which, subject, owner);
        if ((rc = run_rows(s, c, t, sql, emit_event, err)))
            return rc;
    }
    return 0;
}

static void emit_fk(checker *c, const char *unused, sqlite3_stmt *r)
{
    finding(c, "FAIL foreign_key %s rowid=%lld refers to a missing %s row",
            (const char *)sqlite3_column_text(r, 0), (long long)sqlite3_column_int64(r, 1),
            (const char *)sqlite3_column_text(r, 2));
}

/* ---- unfinished ingestion runs -------------------------------------------------------- */

int attn_store_unfinished_ingest(attn_store *s, int64_t repo_id, int *found, char *msg,
                                 size_t cap, attn_error *err)
{
    sqlite3_stmt *st;
    int rc;
    *found = 0;
    if (cap)
        msg[0] = 0;
    if ((rc = prep(s, "SELECT flow, max(CASE WHEN stage = 'run' THEN"
                      " json_extract(details_json, '$.started_at') END)"
                      " FROM ingestion_checkpoints WHERE ?1 IS NULL OR repo_id = ?1"
                      " GROUP BY flow ORDER BY flow LIMIT 1", &st, err)))
        return rc;
    if (repo_id != ATTN_NULL_I64)
        sqlite3_bind_int64(st, 1, repo_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        char ts[ATTN_TIME_BUFSZ] = "an unknown time";
        const char *flow = (const char *)sqlite3_column_text(st, 0);
        if (sqlite3_column_type(st, 1) == SQLITE_INTEGER)
            attn_time_format(sqlite3_column_int64(st, 1), ts);
        snprintf(msg, cap,
                 "an 'attn %s' run started %s has not completed (killed, or still running), so "
                 "the store is partly written; rerun 'attn %s' to complete it",
                 flow ? flow : "ingest", ts, flow ? flow : "ingest");
        *found = 1;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return attn_store_db_error(s, err, "reading ingestion checkpoints");
    return 0;
}

/* ---- driver ------------------------------------------------------------------------ */

int attn_store_contract_check(attn_store *s, int64_t repo_id, attn_contract_report *out,
                              attn_error *err)
{
    checker c;
    sqlite3_stmt *st;
    int rc;
    char table_ok_buf[N_TABLES];

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    out->ok = 1;
    c.rep = out;
    c.table_ok = table_ok_buf;

    /* One read transaction, so every query sees the same snapshot. */
    if ((rc = attn_store_exec(s, "SAVEPOINT attn_contract", "starting the contract check", err)))
        return rc;
    if ((rc = prep(s, "PRAGMA user_version", &st, err)))
        goto done;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = fail_step(s, st, err);
        goto done;
    }
    out->schema_version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (out->schema_version != attn_store_schema_version())
        finding(&c, "FAIL schema_version %d (this attn writes %d; open it read-write once to "
                    "migrate)", out->schema_version, attn_store_schema_version());

    if ((rc = check_tables(s, &c, err)) || (rc = check_indexes(s, &c, err)))
        goto done;
    if (repo_id != ATTN_NULL_I64 && table_ok(&c, "repos")) {
        if ((rc = prep(s, "SELECT 1 FROM repos WHERE id = ?1", &st, err)))
            goto done;
        sqlite3_bind_int64(st, 1, repo_id);
        if (sqlite3_step(st) != SQLITE_ROW)
            finding(&c, "FAIL missing_repo repos has no row id=%lld", (long long)repo_id);
        sqlite3_finalize(st);
    }
    for (int i = 0; i < N_INTERVAL_TABLES; i++) {
        if (!table_ok(&c, INTERVAL_TABLES[i].table) || !table_ok(&c, "events"))
            continue;
        if ((rc = check_interval_table(s, &c, i, err)))
            goto done;
    }
    if ((rc = run_rows(s, &c, "", "PRAGMA foreign_key_check", emit_fk, err)))
        goto done;
    if (table_ok(&c, "ingestion_checkpoints")) {
        char msg[400];
        int found;
        if ((rc = attn_store_unfinished_ingest(s, repo_id, &found, msg, sizeof(msg), err)))
            goto done;
        if (found)
            finding(&c, "FAIL unfinished_ingestion %s", msg);
    }
    if (c.dropped) {
        /* Room for this line was reserved by finding()'s +2 allocation. */
        char line[128];
        snprintf(line, sizeof(line), "FAIL ... and %lld more findings", (long long)c.dropped);
        out->findings[out->n_findings++] = attn_xstrdup(line);
    }
done:
    sqlite3_exec(s->db, "RELEASE attn_contract", NULL, NULL, NULL);
    if (rc)
        attn_contract_report_free(out);
    return rc;
}

void attn_contract_report_free(attn_contract_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_findings; i++)
        free(r->findings[i]);
    free(r->findings);
    r->findings = NULL;
    r->n_findings = 0;
}
