/*
 * lock.h - the one-writer rule of a history store (SPEC §13).
 *
 * Every command that writes a store (ingest, incremental, pull-requests,
 * renormalize, load, pin, the webhook writer) holds this lock while it
 * writes; readers never take it (SQLite WAL lets them read meanwhile). The
 * lock is an flock(2) on DB.lock beside the database, so it is released by
 * the kernel when the holder dies, even by SIGKILL. The holder writes its pid
 * and command into the file so that a second writer can name it.
 */
#ifndef ATTN_STORE_LOCK_H
#define ATTN_STORE_LOCK_H

#include "util/error.h"

typedef struct attn_store_lock attn_store_lock;

/*
 * Take the writer lock of the store at db_path. command names the holder in
 * messages ("attn ingest"). wait_ms: 0 fails at once, < 0 waits forever,
 * > 0 waits up to that many milliseconds. When another process holds it:
 * ATTN_ECONFLICT, "store DB is being written by pid P (COMMAND); wait for it
 * to finish or stop it".
 */
int attn_store_lock_acquire(const char *db_path, const char *command, int wait_ms,
                            attn_store_lock **out, attn_error *err);
/* Release and free (NULL is fine). */
void attn_store_lock_release(attn_store_lock *l);

#endif
