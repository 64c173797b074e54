/*
 * store.c - opening, migrating and closing a history store; transactions;
 * the prepared-statement cache shared by the other store files.
 *
 * Owns the connection settings (WAL, foreign keys, busy timeout) and the rule
 * that a file is only ever opened if it is an attn store this build
 * understands: a non-SQLite file, a foreign SQLite file or one written by a
 * newer attn is refused before anything is written to it. It must never
 * format values into SQL; the only formatted statement is PRAGMA user_version
 * with an integer from the migration table.
 */
#include "store/store_internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 10000

void attn_store_bind_i64(sqlite3_stmt *st, int idx, int64_t v)
{
    if (v == ATTN_NULL_I64)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int64(st, idx, v);
}

void attn_store_bind_tri(sqlite3_stmt *st, int idx, int v)
{
    if (v < 0)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int(st, idx, v ? 1 : 0);
}

void attn_store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
    if (!v)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);  /* borrowed for the call */
}

int attn_store_db_error(attn_store *s, attn_error *err, const char *what)
{
    int xrc = sqlite3_extended_errcode(s->db);
    const char *hint = "";
    if (xrc == SQLITE_CONSTRAINT_FOREIGNKEY)
        hint = " (a row it refers to is missing: store the repo, users and parent rows first)";
    else if ((xrc & 0xff) == SQLITE_BUSY)
        hint = " (another attn process holds the database; retry when it finishes)";
    else if ((xrc & 0xff) == SQLITE_FULL)
        hint = " (the disk is full)";
    else if ((xrc & 0xff) == SQLITE_READONLY)
        hint = " (the database is read-only)";
    return attn_error_set(err, ATTN_EDB, "%s in '%s': %s%s", what, s->path,
                          sqlite3_errmsg(s->db), hint);
}

int attn_store_exec(attn_store *s, const char *sql, const char *what, attn_error *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return attn_store_db_error(s, err, what);
    return 0;
}

int attn_store_stmt(attn_store *s, attn_store_stmt_id id, const char *sql, sqlite3_stmt **out,
                    attn_error *err)
{
    sqlite3_stmt *st = s->stmts[id];
    if (!st) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
            return attn_store_db_error(s, err, "preparing a statement");
        s->stmts[id] = st;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    *out = st;
    return 0;
}

static int get_int_pragma(attn_store *s, const char *sql, int *out, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int code = sqlite3_errcode(s->db);
        sqlite3_finalize(st);
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
            return attn_error_set(err, ATTN_ECORRUPT,
                                  "'%s' is not an attn history database (%s); move it aside "
                                  "or choose another --data-dir",
                                  s->path, sqlite3_errmsg(s->db));
        return attn_store_db_error(s, err, "reading the schema version");
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Refuse files this build must not touch; *version receives user_version. */
static int check_identity(attn_store *s, int *version, attn_error *err)
{
    int v = 0, n_tables = 0, rc;
    if ((rc = get_int_pragma(s, "PRAGMA user_version", &v, err)))
        return rc;
    if (v > attn_store_schema_version())
        return attn_error_set(err, ATTN_ECONFLICT,
                              "'%s' has schema version %d but this attn only knows versions up "
                              "to %d; upgrade attn to read it",
                              s->path, v, attn_store_schema_version());
    if (v < 0)
        return attn_error_set(err, ATTN_ECORRUPT,
                              "'%s' is not an attn history database (schema version %d)", s->path, v);
    if (v == 0) {
        if ((rc = get_int_pragma(s, "SELECT count(*) FROM sqlite_master", &n_tables, err)))
            return rc;
        if (n_tables > 0)
            return attn_error_set(err, ATTN_ECORRUPT,
                                  "'%s' is not an attn history database (a SQLite file with %d "
                                  "schema objects but no attn schema version)",
                                  s->path, n_tables);
    }
    *version = v;
    return 0;
}

static int apply_migration(attn_store *s, const attn_store_migration *m, attn_error *err)
{
    char what[128], pragma[64];
    int rc;
    snprintf(what, sizeof(what), "applying schema migration %d (%s)", m->version, m->summary);
    if ((rc = attn_store_exec(s, "BEGIN IMMEDIATE", what, err)))
        return rc;
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
    if ((rc = attn_store_exec(s, m->sql, what, err)) || (rc = attn_store_exec(s, pragma, what, err))) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return attn_store_exec(s, "COMMIT", what, err);
}

static int store_alloc(const char *path, attn_store **out, attn_error *err)
{
    attn_store *s = attn_xcalloc(1, sizeof(*s));
    s->path = attn_xstrdup(path);
    *out = s;
    return 0;
}

static int open_common(const char *path, int readonly, int target, attn_store **out,
                       attn_error *err)
{
    attn_store *s = NULL;
    int rc, version = 0;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

    *out = NULL;
    if (readonly && !attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "history database '%s' does not exist; create it with `attn init` "
                              "or `attn load`",
                              path);
    if ((rc = store_alloc(path, &s, err)))
        return rc;
    s->readonly = readonly;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = attn_error_set(err, ATTN_EIO, "cannot open history database '%s': %s", path,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
        attn_store_close(s);
        return rc;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if ((rc = check_identity(s, &version, err)))
        goto fail;
    if (readonly && version == 0) {
        rc = attn_error_set(err, ATTN_ECORRUPT,
                            "'%s' is not an attn history database (empty file); create it with "
                            "`attn init`",
                            path);
        goto fail;
    }
    /* WAL lets readers (snapshot, serve) run while ingest writes; NORMAL
     * synchronous is durable across process crashes in WAL mode, which is
     * the failure SPEC §4 asks us to survive (kill -9). */
    if (!readonly && (rc = attn_store_exec(s, "PRAGMA journal_mode=WAL", "switching to WAL", err)))
        goto fail;
    if ((rc = attn_store_exec(s,
                              "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
                              "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
                              /* Checkpoint every ~64 MiB of WAL instead of 4 MiB:
                               * bulk loads rewrite the same index pages many times,
                               * and each checkpoint copies them into the file again
                               * (measured: 1M-event load 16.6 s -> ~10 s). */
                              "PRAGMA wal_autocheckpoint=16384;",
                              "configuring the connection", err)))
        goto fail;
    /* Readers map the file instead of copying each page through pread(2):
     * an evaluation reads the same pages from every worker thread. */
    if (readonly)
        sqlite3_exec(s->db, "PRAGMA mmap_size=1073741824", NULL, NULL, NULL); /* best effort */
    if (!readonly) {
        for (int i = 0; i < attn_store_n_migrations; i++) {
            const attn_store_migration *m = &attn_store_migrations[i];
            if (m->version <= version || m->version > target)
                continue;
            if ((rc = apply_migration(s, m, err)))
                goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    attn_store_close(s);
    return rc;
}

int attn_store_open(const char *path, attn_store **out, attn_error *err)
{
    return open_common(path, 0, attn_store_schema_version(), out, err);
}

int attn_store_open_at_version(const char *path, int version, attn_store **out, attn_error *err)
{
    if (version < 1 || version > attn_store_schema_version())
        return attn_error_set(err, ATTN_EINVAL, "no schema version %d (this attn knows 1..%d)",
                              version, attn_store_schema_version());
    return open_common(path, 0, version, out, err);
}

int attn_store_open_readonly(const char *path, attn_store **out, attn_error *err)
{
    return open_common(path, 1, attn_store_schema_version(), out, err);
}

void attn_store_close(attn_store *s)
{
    if (!s)
        return;
    attn_store_bulk_reset(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    if (s->db) {
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(s->db);
    }
    free(s->path);
    free(s);
}

int attn_store_begin_read_group(attn_store *const *s, size_t n, int *held, attn_error *err)
{
    sqlite3 *lock = NULL;
    int rc = 0;
    *held = 0;
    if (!n)
        return 0;
    if (sqlite3_open_v2(s[0]->path, &lock, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ==
        SQLITE_OK) {
        sqlite3_busy_timeout(lock, 1000);   /* a long load: fall back, do not wait it out */
        *held = sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_stmt *st = NULL;
        /* the first read, not BEGIN, fixes what a transaction sees */
        if (sqlite3_exec(s[i]->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(s[i]->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) !=
                SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW)
            rc = attn_error_set(err, ATTN_EDB, "beginning a read of '%s': %s", s[i]->path,
                                sqlite3_errmsg(s[i]->db));
        sqlite3_finalize(st);
    }
    if (lock) {
        if (*held)
            sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(lock);
    }
    return rc;
}

sqlite3 *attn_store_db(attn_store *s)
{
    return s->db;
}

const char *attn_store_path(const attn_store *s)
{
    return s->path;
}

int attn_store_begin(attn_store *s, attn_error *err)
{
    if (!sqlite3_get_autocommit(s->db))
        return attn_error_set(err, ATTN_ECONFLICT,
                              "a transaction is already open on '%s' (commit or roll it back first)",
                              s->path);
    /* IMMEDIATE takes the write lock now, so a busy database is waited for
     * here rather than failing half-way through a unit of work. */
    return attn_store_exec(s, "BEGIN IMMEDIATE", "starting a transaction", err);
}

int attn_store_commit(attn_store *s, attn_error *err)
{
    if (sqlite3_get_autocommit(s->db))
        return attn_error_set(err, ATTN_ECONFLICT, "no transaction is open on '%s' to commit",
                              s->path);
    return attn_store_exec(s, "COMMIT", "committing", err);
}

int attn_store_rollback(attn_store *s)
{
    if (!s)
        return 0;
    attn_store_bulk_reset(s);   /* the rollback brings the indexes back */
    if (sqlite3_get_autocommit(s->db))
        return 0;
    return sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK ? 0 : ATTN_EDB;
}

int attn_store_repo_id(attn_store *s, const char *full_name, int64_t *out, attn_error *err)
{
    static const char SQL[] = "SELECT id FROM repos WHERE full_name = ?1";
    sqlite3_stmt *st;
    int rc;
    if ((rc = attn_store_stmt(s, ST_REPO_ID_BY_NAME, SQL, &st, err)))
        return rc;
    attn_store_bind_text(st, 1, full_name);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return attn_store_db_error(s, err, "looking up a repository");
    return attn_error_set(err, ATTN_ENOTFOUND,
                          "repository '%s' is not in '%s'; load it first (`attn load` or "
                          "`attn ingest`)",
                          full_name, s->path);
}
