/*
 * rundir.h - a run directory that is either absent or complete (SPEC §8).
 *
 * Artifacts are written into PARENT/.tmp-<run_id>-<pid>/; commit makes the
 * whole tree durable (syncfs) and renames it to PARENT/<run_id>, replacing a
 * previous run of the same id (the old tree is renamed aside first and
 * removed after, so a crash leaves either the old or the new run, never a
 * mix and never an appended one). Begin removes temporary trees left by
 * processes that no longer exist.
 *
 * Per-PR entries ("prs/<n>/<entry>.json") are not files: they go into the
 * run's packed file (pack.h), read back with attn_pack_get.
 */
#ifndef ATTN_EVAL_RUNDIR_H
#define ATTN_EVAL_RUNDIR_H

#include <stddef.h>
#include <jansson.h>
#include "util/buf.h"
#include "util/error.h"

typedef struct attn_rundir attn_rundir;

int attn_rundir_begin(const char *parent, const char *run_id, attn_rundir **out, attn_error *err);
/* Sorted keys: a per-PR entry (prs/<n>/<entry>.json) in canonical form, into
 * the pack; any other file pretty, with a trailing newline, its parent dirs
 * created. */
int attn_rundir_write_json(attn_rundir *d, const char *rel, const json_t *v, attn_error *err);
/* The same for a per-PR entry (ATTN_EINVAL otherwise), and the SHA-256 of its
 * canonical text, the text written, in hex. */
int attn_rundir_write_json_sha(attn_rundir *d, const char *rel, const json_t *v, char sha[65],
                               attn_error *err);
int attn_rundir_write(attn_rundir *d, const char *rel, const void *data, size_t len,
                      attn_error *err);
/* Absolute path of rel inside the temporary tree (valid until commit/abort). */
const char *attn_rundir_tmp(const attn_rundir *d);
/* Final path PARENT/<run_id>. */
const char *attn_rundir_final(const attn_rundir *d);
/* The per-PR entries are complete: the pack is finished, so readers of the
 * temporary tree (pack.h) see it. No per-PR entry may be written after. */
int attn_rundir_entries_done(attn_rundir *d, attn_error *err);
/* Rename into place; frees d whatever happens. */
int attn_rundir_commit(attn_rundir *d, attn_error *err);
/* Remove the temporary tree; frees d. */
void attn_rundir_abort(attn_rundir *d);

/* A run directory that keeps its writes in memory (a worker thread's): flush
 * replays them, in the order written, into d and empties buf, which can then
 * take another PR's writes. Free buf with attn_rundir_abort. */
int attn_rundir_buffer_new(attn_rundir **out, attn_error *err);
int attn_rundir_buffer_flush(attn_rundir *buf, attn_rundir *d, attn_error *err);

#endif
