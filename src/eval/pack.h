/*
 * pack.h - read a run's per-PR entries, wherever the run keeps them.
 *
 * A run directory holds per-PR entries: "snapshot", "inputs", "truth",
 * "routes/<router>", and optional "features/<router>" (the learned ranker's
 * feature values) and "llm/<router>/<step>" (an LLM request and its answer,
 * or its cache key). Every reader (compare, quality gates, index-all, the
 * service, exports) goes through this API and never opens prs/<n>/... itself,
 * so the on-disk layout can change without touching them.
 *
 * Writers: eval run writes every entry as attn_rundir_write_json(dir,
 * "prs/<n>/<entry>.json", ...); the run directory decides where it lands.
 * A router adds optional entries by putting an object "_artifacts"
 * {entry: json} in its result (see run.c); it never reaches routes/<router>.
 */
#ifndef ATTN_EVAL_PACK_H
#define ATTN_EVAL_PACK_H

#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

/* Entry `entry` of PR pr in run directory run_dir; *out is a new reference.
 * ATTN_ENOTFOUND (naming the run, PR and entry) when the run has no such entry. */
int attn_pack_get(const char *run_dir, int64_t pr, const char *entry, json_t **out,
                  attn_error *err);

/* The entry names of PR pr, sorted bytewise: a new JSON array of strings
 * (empty when the run holds nothing for that PR). */
int attn_pack_list(const char *run_dir, int64_t pr, json_t **out, attn_error *err);

#endif
