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
 *
 * Storage: a run keeps its entries in one packed file, ATTN_PACK_FILE, a
 * SQLite database with a table entries (pr, entry, json) keyed by (pr, entry)
 * holding each entry's canonical JSON. Runs written before the pack (contract
 * v1) keep the tree prs/<n>/<entry>.json; this API reads either.
 * `attn artifacts show|unpack` print or rebuild the tree.
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

#define ATTN_PACK_FILE "artifacts.sqlite"
#define ATTN_PACK_FORMAT "attn.pack.v1"

/* An open run, for many reads (the one-shot calls above open and close it
 * each time). ATTN_ENOTFOUND when run_dir is not a directory. */
typedef struct attn_pack attn_pack;
int attn_pack_open(const char *run_dir, attn_pack **out, attn_error *err);
int attn_pack_read(attn_pack *p, int64_t pr, const char *entry, json_t **out, attn_error *err);
int attn_pack_entries(attn_pack *p, int64_t pr, json_t **out, attn_error *err);
/* The PR numbers with at least one entry, ascending: a new JSON array. */
int attn_pack_prs(attn_pack *p, json_t **out, attn_error *err);
/* Entry `entry` of every PR that has one, in one pass over the packed file
 * (for readers that want one entry of all PRs, such as compare, without a
 * query per PR): fn gets each PR number and the entry's canonical JSON text.
 * ATTN_ENOTFOUND when the run is an old tree, ATTN_ECORRUPT when the file is
 * not ATTN_PACK_FORMAT or cannot be read; the caller then reads entry by
 * entry. */
typedef void (*attn_pack_scan_fn)(void *ctx, int64_t pr, const char *json, size_t len);
int attn_pack_scan(attn_pack *p, const char *entry, attn_pack_scan_fn fn, void *ctx,
                   attn_error *err);
/* 1 when the run keeps a packed file, 0 when it is an old tree. */
int attn_pack_is_packed(const attn_pack *p);
void attn_pack_close(attn_pack *p);

#endif
