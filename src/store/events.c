/*
 * events.c - the append-only event log.
 *
 * Owns inserting events, de-duplicated by event_key (the source's own
 * identity: re-ingesting a page never duplicates a fact, and two distinct
 * facts never share a key). Nothing here may update or delete an event: the
 * log is the ground truth intervals are rebuilt from. The one exception is
 * healing after an ingestion gap (store.h): an event derived from an
 * incomplete source is corrected from the complete one, and a synthesized
 * close is dropped once the real close is stored, so that a healed store
 * equals one that never had the gap.
 */
#include "store/store_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A bulk load's insert has no unique index to conflict with (insert_bulk). */
#define INSERT_EVENT                                                                           \
    "INSERT INTO events (repo_id, occurred_at, actor_id, subject_type, subject_id, event_type," \
    " object_type, object_id, commit_sha, payload_json, event_key)"                            \
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
static const char SQL_INSERT_EVENT[] = INSERT_EVENT " ON CONFLICT (event_key) DO NOTHING";
static const char SQL_INSERT_EVENT_BULK[] = INSERT_EVENT;

static const char SQL_EVENT_ID_BY_KEY[] = "SELECT id FROM events WHERE event_key = ?1";

static const char SQL_EVENT_KEY_BY_ID[] = "SELECT event_key FROM events WHERE id = ?1";

/* The eleven columns of an event, bound as ?1..?11 in the order of
 * SQL_INSERT_EVENT (SQL_CORRECT_EVENT uses the same numbering, so an event
 * is inserted and corrected from one binding). */
static void bind_event(sqlite3_stmt *st, const attn_event_row *e)
{
    attn_store_bind_i64(st, 1, e->repo_id);
    sqlite3_bind_int64(st, 2, e->occurred_at);
    attn_store_bind_i64(st, 3, e->actor_id);
    attn_store_bind_text(st, 4, e->subject_type);
    attn_store_bind_i64(st, 5, e->subject_id);
    attn_store_bind_text(st, 6, e->event_type);
    attn_store_bind_text(st, 7, e->object_type);
    attn_store_bind_i64(st, 8, e->object_id);
    attn_store_bind_text(st, 9, e->commit_sha);
    attn_store_bind_text(st, 10, e->payload_json);
    attn_store_bind_text(st, 11, e->event_key);
}

typedef struct {
    attn_store *s;
    const char *key;
    int failed;
} key_probe;

/* Is row `id` the event keyed probe->key? (A 64-bit hash match almost
 * always means yes; the text decides.) */
static int key_eq(const void *ctx, size_t id)
{
    key_probe *p = (key_probe *)ctx;
    sqlite3_stmt *st;
    attn_error err;
    int eq = 0, rc;
    if (attn_store_stmt(p->s, ST_EVENT_KEY_BY_ID, SQL_EVENT_KEY_BY_ID, &st, &err)) {
        p->failed = 1;
        return 0;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        eq = !strcmp((const char *)sqlite3_column_text(st, 0), p->key);
    else if (rc != SQLITE_DONE)   /* DONE: a row dropped since (a synthesized close) */
        p->failed = 1;
    sqlite3_reset(st);
    return eq;
}

/* attn_store_insert_event during a bulk load: event_key stays unique by the
 * in-memory key table instead of its index, which is built once at the end
 * (maintaining it row by row was 40% of a first load's inserts). */
static int insert_bulk(attn_store *s, const attn_event_row *e, int *inserted, int64_t *event_id,
                       attn_error *err)
{
    sqlite3_stmt *st;
    char what[256];
    uint64_t h = attn_hash_bytes(e->event_key, strlen(e->event_key));
    key_probe p = {s, e->event_key, 0};
    size_t id = attn_imap_find(&s->bulk_keys, h, key_eq, &p);
    int rc;

    if (p.failed)
        goto fail;
    if (id != ATTN_IMAP_NONE) {
        if (event_id)
            *event_id = (int64_t)id;
        return 0;
    }
    if ((rc = attn_store_stmt(s, ST_INSERT_EVENT_BULK, SQL_INSERT_EVENT_BULK, &st, err)))
        return rc;
    bind_event(st, e);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto fail;
    attn_imap_add(&s->bulk_keys, h, (size_t)sqlite3_last_insert_rowid(s->db));
    if (inserted)
        *inserted = 1;
    if (event_id)
        *event_id = sqlite3_last_insert_rowid(s->db);
    return 0;
fail:
    snprintf(what, sizeof(what), "storing event '%.200s'", e->event_key);
    return attn_store_db_error(s, err, what);
}

int attn_store_insert_event(attn_store *s, const attn_event_row *e, int *inserted,
                            int64_t *event_id, attn_error *err)
{
    sqlite3_stmt *st;
    int rc;
    char what[256];

    if (inserted)
        *inserted = 0;
    if (!e->event_key || !*e->event_key || !e->subject_type || !e->event_type)
        return attn_error_set(err, ATTN_EINVAL,
                              "event '%.100s' lacks an event_key, subject_type or event_type",
                              e->event_type ? e->event_type : "(null)");
    if (e->occurred_at == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_EINVAL, "event '%.200s' has no occurred_at",
                              e->event_key);
    if (s->bulk)
        return insert_bulk(s, e, inserted, event_id, err);
    if ((rc = attn_store_stmt(s, ST_INSERT_EVENT, SQL_INSERT_EVENT, &st, err)))
        return rc;
    bind_event(st, e);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        snprintf(what, sizeof(what), "storing event '%.200s'", e->event_key);
        return attn_store_db_error(s, err, what);
    }
    if (sqlite3_changes(s->db) == 1) {
        if (inserted)
            *inserted = 1;
        if (event_id)
            *event_id = sqlite3_last_insert_rowid(s->db);
        return 0;
    }
    if (!event_id)
        return 0;
    /* Already stored: hand back the existing row's id so callers can link to it. */
    if ((rc = attn_store_stmt(s, ST_EVENT_ID_BY_KEY, SQL_EVENT_ID_BY_KEY, &st, err)))
        return rc;
    attn_store_bind_text(st, 1, e->event_key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *event_id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    snprintf(what, sizeof(what), "looking up event '%.200s'", e->event_key);
    return attn_store_db_error(s, err, what);
}

static const char SQL_CORRECT_EVENT[] =
    "UPDATE events SET occurred_at = ?2, actor_id = ?3, subject_type = ?4, subject_id = ?5,"
    " event_type = ?6, object_type = ?7, object_id = ?8, commit_sha = ?9, payload_json = ?10"
    " WHERE event_key = ?11 AND repo_id = ?1 AND (occurred_at IS NOT ?2 OR actor_id IS NOT ?3"
    " OR subject_type IS NOT ?4 OR subject_id IS NOT ?5 OR event_type IS NOT ?6"
    " OR object_type IS NOT ?7 OR object_id IS NOT ?8 OR commit_sha IS NOT ?9"
    " OR payload_json IS NOT ?10)";

int attn_store_correct_event(attn_store *s, const attn_event_row *e, int *corrected,
                             attn_error *err)
{
    sqlite3_stmt *st;
    char what[256];
    int rc;
    *corrected = 0;
    if ((rc = attn_store_stmt(s, ST_CORRECT_EVENT, SQL_CORRECT_EVENT, &st, err)))
        return rc;
    bind_event(st, e);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        snprintf(what, sizeof(what), "correcting event '%.200s'", e->event_key);
        return attn_store_db_error(s, err, what);
    }
    *corrected = sqlite3_changes(s->db) > 0;
    return 0;
}

static const char SQL_SYNTH_EVENTS[] =
    "SELECT id FROM events WHERE subject_type = ?1 AND subject_id = ?2 AND event_type = ?3"
    " AND json_extract(payload_json, '$.synthesized') = 1";

/* Every table whose rows point at events (intervals.c rebuilds them). */
static const char *const INTERVAL_TABLES[] = {
    "issue_state_intervals", "issue_content_intervals", "issue_label_intervals",
    "issue_assignee_intervals", "issue_milestone_intervals", "pull_request_draft_intervals",
    "pull_request_head_intervals", "pull_request_base_intervals",
    "pull_request_review_request_intervals", "comment_content_intervals",
    "review_content_intervals"};

static int drop_event(attn_store *s, int64_t id, attn_error *err)
{
    char sql[200];
    for (size_t i = 0; i < sizeof(INTERVAL_TABLES) / sizeof(INTERVAL_TABLES[0]); i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE start_event_id = %lld OR end_event_id = %lld",
                 INTERVAL_TABLES[i], (long long)id, (long long)id);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return attn_store_db_error(s, err, "dropping the intervals of a synthesized event");
    }
    snprintf(sql, sizeof(sql), "DELETE FROM events WHERE id = %lld", (long long)id);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return attn_store_db_error(s, err, "dropping a synthesized event");
    return 0;
}

int attn_store_drop_synthesized(attn_store *s, const char *subject_type, int64_t subject_id,
                                const char *event_type, int64_t *dropped, attn_error *err)
{
    sqlite3_stmt *st;
    int64_t ids[16];
    size_t n = 0;
    int rc, step;
    *dropped = 0;
    if ((rc = attn_store_stmt(s, ST_SYNTH_EVENTS, SQL_SYNTH_EVENTS, &st, err)))
        return rc;
    attn_store_bind_text(st, 1, subject_type);
    sqlite3_bind_int64(st, 2, subject_id);
    attn_store_bind_text(st, 3, event_type);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && n < sizeof(ids) / sizeof(ids[0]))
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return attn_store_db_error(s, err, "looking up synthesized events");
    for (size_t i = 0; i < n; i++)
        if ((rc = drop_event(s, ids[i], err)))
            return rc;
    *dropped = (int64_t)n;
    return 0;
}

int attn_store_drop_event_key(attn_store *s, const char *key, int64_t *dropped,
                              attn_error *err)
{
    sqlite3_stmt *st;
    int64_t id = ATTN_NULL_I64;
    int rc;
    *dropped = 0;
    if ((rc = attn_store_stmt(s, ST_EVENT_ID_BY_KEY, SQL_EVENT_ID_BY_KEY, &st, err)))
        return rc;
    attn_store_bind_text(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return attn_store_db_error(s, err, "looking up an event to drop");
    if (id == ATTN_NULL_I64)
        return 0;
    if ((rc = drop_event(s, id, err)))
        return rc;
    *dropped = 1;
    return 0;
}

/* The events table's indexes, as schema.c creates them (the contract check
 * verifies their presence and shape after a bulk load). */
static const char SQL_DROP_EVENT_INDEXES[] =
    "DROP INDEX IF EXISTS ux_events_event_key; DROP INDEX IF EXISTS ix_events_subject;"
    " DROP INDEX IF EXISTS ix_events_repo_time;";
static const char SQL_CREATE_EVENT_INDEXES[] =
    "CREATE UNIQUE INDEX IF NOT EXISTS ux_events_event_key ON events(event_key);"
    "CREATE INDEX IF NOT EXISTS ix_events_subject ON events(subject_type, subject_id,"
    " occurred_at);"
    "CREATE INDEX IF NOT EXISTS ix_events_repo_time ON events(repo_id, occurred_at, id);";

int attn_store_bulk_begin(attn_store *s, int *bulk, attn_error *err)
{
    sqlite3_stmt *st;
    int empty = 0;
    *bulk = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT NOT EXISTS (SELECT 1 FROM events)", -1, &st, NULL) !=
        SQLITE_OK)
        return attn_store_db_error(s, err, "checking for a first load");
    if (sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (!empty)
        return 0;
    if (sqlite3_exec(s->db, SQL_DROP_EVENT_INDEXES, NULL, NULL, NULL) != SQLITE_OK)
        return attn_store_db_error(s, err, "dropping the events indexes for a bulk load");
    attn_store_bulk_reset(s);
    s->bulk = *bulk = 1;
    return 0;
}

void attn_store_bulk_reset(attn_store *s)
{
    attn_imap_free(&s->bulk_keys);   /* leaves it empty, ready for reuse */
    s->bulk = 0;
}

int attn_store_bulk_end(attn_store *s, attn_error *err)
{
    char sql[160];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    sqlite3_stmt *st;
    sqlite3_int64 cache = -65536;
    int rc = 0;
    attn_store_bulk_reset(s);
    if (sqlite3_prepare_v2(s->db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        cache = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    /* SQLite sorts an index's keys on worker threads, in runs of at most
     * cache_size bytes, when its temporary files are files (temp_store=FILE,
     * as attn_store_load_settings sets): small runs for the build, the
     * connection's cache after (three indexes of 1M events: 2.4 s -> 1.6 s
     * on 2 cores). */
    snprintf(sql, sizeof(sql), "PRAGMA threads=%ld; PRAGMA cache_size=-1024;",
             cores < 1 ? 1 : cores > 8 ? 8 : cores);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);   /* a hint: the build works without */
    if (sqlite3_exec(s->db, SQL_CREATE_EVENT_INDEXES, NULL, NULL, NULL) != SQLITE_OK)
        rc = attn_store_db_error(s, err, "building the events indexes after a bulk load");
    snprintf(sql, sizeof(sql), "PRAGMA threads=0; PRAGMA cache_size=%lld;", (long long)cache);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc;
}

void attn_store_load_settings(attn_store *s)
{
    /* Memory must not grow with the bundle. The rebuild reads back every
     * event the load wrote: through the store's memory map those pages would
     * count as this process's, so plain reads through the bounded cache. The
     * index builds and the rebuild's sorts spill to temporary files, not to
     * memory (temp_store=MEMORY suits the small sorts of the other commands).
     * A 16 MB cache instead of 64 costs about 9% of CPU on a 10,000-PR
     * bundle and saves 50 MB of peak memory. */
    sqlite3_exec(s->db, "PRAGMA mmap_size=0; PRAGMA temp_store=FILE; PRAGMA cache_size=-16384",
                 NULL, NULL, NULL);
}
