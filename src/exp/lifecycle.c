/*
 * lifecycle.c - run deletion and cleanup across the registry and the run
 * directories (lifecycle.h).
 *
 * Owns: removing run directories. Must never: remove a directory before the
 * registry has recorded the deletion.
 */
#include "exp/lifecycle.h"
#include "util/fs.h"
#include "util/json.h"

#include <string.h>

/* row: a registry row or a retention action (both carry run_id, run_dir). */
static int delete_run(attn_registry *reg, const json_t *row, int64_t now, const char *detail,
                      attn_error *err)
{
    const char *id = attn_json_str(row, "run_id"), *dir = attn_json_str(row, "run_dir");
    int rc;
    if ((rc = attn_registry_set_lifecycle(reg, id, "deleted", now, detail, err)))
        return rc;
    return dir ? attn_fs_remove_tree(dir, err) : 0;
}

int attn_lifecycle_delete(attn_registry *reg, const char *run_id, int force,
                          const char *force_hint, int64_t now, attn_error *err)
{
    json_t *row = NULL;
    int rc;
    if ((rc = attn_registry_get(reg, run_id, &row, err)))
        return rc;
    if (!strcmp(attn_json_str(row, "kind"), "baseline") && !force)
        rc = attn_error_set(err, ATTN_ECONFLICT,
                            "run %s is a baseline run and is protected; pass %s to delete it",
                            run_id, force_hint);
    else if (!strcmp(attn_json_str(row, "status"), "running") && !force)
        rc = attn_error_set(err, ATTN_ECONFLICT,
                            "run %s is still running; pass %s to delete it", run_id, force_hint);
    else
        rc = delete_run(reg, row, now, force ? "forced" : NULL, err);
    json_decref(row);
    return rc;
}

int attn_lifecycle_apply(attn_registry *reg, const json_t *action, int64_t now, attn_error *err)
{
    if (!strcmp(attn_json_str(action, "action"), "archive"))
        return attn_registry_set_lifecycle(reg, attn_json_str(action, "run_id"), "archived", now,
                                           "cleanup", err);
    return delete_run(reg, action, now, "cleanup", err);
}
