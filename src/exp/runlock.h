/*
 * runlock.h - who is running an experiment run (issue 18 D6, D7).
 *
 * An `experiment run` holds an flock on DATA/.../locks/run-<id>.lock from
 * before its registry row says "running" until it has recorded the outcome.
 * A second run of the same id is refused while the first lives, and a row
 * that says "running" without a live holder belongs to a process that died
 * (SIGKILL, power loss): attn_runlock_reap marks it failed so cleanup and
 * delete treat it like any failed run. The kernel drops the flock when the
 * holder dies, so no pid or start time has to be trusted.
 * Must never: remove a lock file (another process may hold it open).
 */
#ifndef ATTN_EXP_RUNLOCK_H
#define ATTN_EXP_RUNLOCK_H

#include <stdint.h>
#include "exp/registry.h"
#include "store/lock.h"
#include "util/error.h"

/* Take the lock of run_id under repo_dir, failing at once with ATTN_ECONFLICT
 * ("run ID is already being run by pid P (COMMAND)") when it is held. */
int attn_runlock_acquire(const char *repo_dir, const char *run_id, attn_store_lock **out,
                         attn_error *err);

/* Mark failed every "running" row of reg whose run lock is not held; *reaped
 * (may be NULL) counts them. */
int attn_runlock_reap(attn_registry *reg, const char *repo_dir, int64_t now, int *reaped,
                      attn_error *err);

#endif
