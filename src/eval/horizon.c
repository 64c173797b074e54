/*
 * horizon.c - the store horizon and the staleness rule (see horizon.h).
 *
 * Owns: what "stale" means. Must never: turn a failed query into a value.
 */
#include "eval/horizon.h"

#include <sqlite3.h>

int attn_eval_horizon(attn_store *s, int64_t repo_id, int64_t *out, attn_error *err)
{
    sqlite3 *db = attn_store_db(s);
    sqlite3_stmt *st = NULL;
    int rc;
    *out = ATTN_NULL_I64;
    if (sqlite3_prepare_v2(db, "SELECT max(occurred_at) FROM events WHERE repo_id = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "reading the store horizon: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, repo_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "reading the store horizon: %s", sqlite3_errmsg(db));
    return 0;
}

int attn_eval_cutoff_stale(int64_t horizon, int64_t cutoff)
{
    return horizon == ATTN_NULL_I64 || cutoff > horizon;
}
