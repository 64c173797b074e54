/*
 * runlock.c - the per-run-id lock of experiment runs (see runlock.h).
 *
 * Owns: DATA/github/<o>/<r>/locks/run-<id>.lock. Built on the store's
 * writer lock (store/lock.h), which names the holder's pid and command.
 */
#include "exp/runlock.h"
#include "util/fs.h"
#include "util/json.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int lock_base(const char *repo_dir, const char *run_id, char *out, size_t cap,
                     attn_error *err)
{
    char dir[4300];
    if ((size_t)snprintf(dir, sizeof(dir), "%s/locks", repo_dir) >= sizeof(dir) ||
        (size_t)snprintf(out, cap, "%s/run-%s", dir, run_id) >= cap)
        return attn_error_set(err, ATTN_EINVAL, "run lock path too long for run %s", run_id);
    return attn_fs_mkdirs(dir, err);
}

int attn_runlock_acquire(const char *repo_dir, const char *run_id, attn_store_lock **out,
                         attn_error *err)
{
    char base[4500];
    int rc;
    *out = NULL;
    if ((rc = lock_base(repo_dir, run_id, base, sizeof(base), err)))
        return rc;
    rc = attn_store_lock_acquire(base, "attn experiment run", 0, out, err);
    if (rc == ATTN_ECONFLICT) {
        /* "store X is being written by pid P (CMD); ..." -> name the run */
        const char *by = strstr(err->msg, " by ");
        char holder[200] = "another process";
        if (by)
            snprintf(holder, sizeof(holder), "%.*s", (int)strcspn(by + 4, ";"), by + 4);
        return attn_error_set(err, ATTN_ECONFLICT,
                              "run %s is already being run by %s; wait for it to finish, or "
                              "give another --run-id",
                              run_id, holder);
    }
    return rc;
}

/* 1 when a live process holds run_id's lock. */
static int held(const char *repo_dir, const char *run_id)
{
    attn_store_lock *l = NULL;
    attn_error e;
    char base[4500];
    attn_error_clear(&e);
    if (lock_base(repo_dir, run_id, base, sizeof(base), &e))
        return 1;                  /* cannot tell: leave the row alone */
    int rc = attn_store_lock_acquire(base, "attn runs (probe)", 0, &l, &e);
    attn_store_lock_release(l);
    return rc != 0;                /* held, or cannot tell: leave the row alone */
}

int attn_runlock_reap(attn_registry *reg, const char *repo_dir, int64_t now, int *reaped,
                      attn_error *err)
{
    attn_run_filter f;
    json_t *rows = NULL, *row;
    size_t i;
    int rc, n = 0;
    memset(&f, 0, sizeof(f));
    f.status = "running";
    if ((rc = attn_registry_list(reg, &f, &rows, err)))
        return rc;
    json_array_foreach(rows, i, row) {
        const char *id = attn_json_str(row, "run_id");
        if (!id || held(repo_dir, id))
            continue;
        if ((rc = attn_registry_fail(reg, id,
                                     "the run's process died before it finished (killed?); "
                                     "marked failed by attn",
                                     now, 0, err)))
            break;
        n++;
    }
    json_decref(rows);
    if (reaped)
        *reaped = n;
    return rc;
}
