/*
 * lifecycle.h - deleting and cleaning up runs: the registry change, then the
 * run directory (registry.c never touches directories).
 *
 * One place for what `attn runs delete|cleanup` and the service's
 * DELETE /api/runs/ID and POST /api/runs/cleanup do, so the protection rule
 * and the order (row first: a crash leaves a "deleted" row whose directory
 * is still there, never a live row without its directory) stay one rule.
 */
#ifndef ATTN_EXP_LIFECYCLE_H
#define ATTN_EXP_LIFECYCLE_H

#include <stdint.h>
#include <jansson.h>
#include "exp/registry.h"
#include "util/error.h"

/* Delete run_id: refused (ATTN_ECONFLICT) for a baseline run or one still
 * running unless force is set; force_hint names the override in that message
 * ("--force" on the command line, "force" in the API). The row moves to
 * "deleted" (audit detail "forced" when force is set), then its run directory
 * is removed. */
int attn_lifecycle_delete(attn_registry *reg, const char *run_id, int force,
                          const char *force_hint, int64_t now, attn_error *err);

/* Carry out one action of attn_retention_plan ({"run_id", "action":
 * "archive"|"delete", "run_dir"}); audit detail "cleanup". */
int attn_lifecycle_apply(attn_registry *reg, const json_t *action, int64_t now, attn_error *err);

#endif
