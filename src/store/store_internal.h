/*
 * store_internal.h - what the store's own files (and its tests) share.
 *
 * Owns the layout of the attn_store handle, the prepared-statement cache and
 * the migration entry points. Nothing outside src/store/ and the store's unit
 * tests may include this file: other modules go through store.h only.
 */
#ifndef ATTN_STORE_INTERNAL_H
#define ATTN_STORE_INTERNAL_H

#include "store/store.h"
#include "util/hashmap.h"

/* The interval tables intervals.c rebuilds (its TABLES; checked there). */
#define ATTN_INTERVAL_TABLES 11

/* Every statement the store prepares once per handle and keeps until close. */
typedef enum {
    ST_UPSERT_REPO,
    ST_UPSERT_USER,
    ST_UPSERT_TEAM,
    ST_UPSERT_TEAM_MEMBER,
    ST_UPSERT_LABEL,
    ST_UPSERT_MILESTONE,
    ST_UPSERT_ISSUE,
    ST_UPSERT_PULL_REQUEST,
    ST_UPSERT_PR_FILE,
    ST_UPSERT_REVIEW,
    ST_UPSERT_COMMENT,
    ST_UPSERT_COMMIT,
    ST_UPSERT_REF,
    ST_UPSERT_RELEASE,
    ST_INSERT_EVENT,
    ST_INSERT_EVENT_BULK,
    ST_EVENT_KEY_BY_ID,
    ST_EVENT_ID_BY_KEY,
    ST_CORRECT_EVENT,
    ST_SYNTH_EVENTS,
    ST_REPO_ID_BY_NAME,
    /* intervals.c: the scoped rebuild runs once per webhook batch, and
     * compiling its ~30 statements each time cost more than running them. */
    ST_RB_SCOPE_CLEAR,
    ST_RB_SCOPE_ADD,
    ST_RB_SCOPE_CLOSE,                                   /* 4 statements */
    ST_RB_EVENTS_SCOPED = ST_RB_SCOPE_CLOSE + 4,
    ST_RB_DELETE,                                        /* one per interval table */
    ST_RB_INSERT = ST_RB_DELETE + ATTN_INTERVAL_TABLES,  /* one per interval table */
    ST_RB_EVENT_TEXT = ST_RB_INSERT + ATTN_INTERVAL_TABLES,
    ST_COUNT
} attn_store_stmt_id;

struct attn_store {
    sqlite3 *db;
    char *path;
    int readonly;
    sqlite3_stmt *stmts[ST_COUNT];
    /* A bulk load (attn_store_bulk_begin) keeps event_key unique itself:
     * the hash of each key inserted -> its row id. */
    int bulk;
    attn_imap bulk_keys;
};

/* Leave a bulk load's state (events.c): on commit, rollback and close. */
void attn_store_bulk_reset(attn_store *s);

/* One numbered migration: applied in its own transaction, then user_version = version. */
typedef struct {
    int version;
    const char *summary;
    const char *sql;
} attn_store_migration;

extern const attn_store_migration attn_store_migrations[];
extern const int attn_store_n_migrations;

/* Open (creating if needed) and migrate only up to schema version `version`
 * (1..attn_store_schema_version()). Tests use it to build old files. */
int attn_store_open_at_version(const char *path, int version, attn_store **out, attn_error *err);

/* The statement cached under `id`, prepared from `sql` on first use (each
 * module keeps its own SQL), reset and with bindings cleared. */
int attn_store_stmt(attn_store *s, attn_store_stmt_id id, const char *sql, sqlite3_stmt **out,
                    attn_error *err);

/* Fill err from the connection's last error: "<what> in 'PATH': <sqlite message>[ hint]". */
int attn_store_db_error(attn_store *s, attn_error *err, const char *what);

/* Bind helpers for the C conventions of store.h (ATTN_NULL_I64, -1, NULL -> SQL NULL). */
void attn_store_bind_i64(sqlite3_stmt *st, int idx, int64_t v);
void attn_store_bind_tri(sqlite3_stmt *st, int idx, int v);
void attn_store_bind_text(sqlite3_stmt *st, int idx, const char *v);

/* Execute a statement that returns no rows; err names `what`. */
int attn_store_exec(attn_store *s, const char *sql, const char *what, attn_error *err);

#endif
