/*
 * boundary.h - the boundary (area) model as of T (seed 000): file -> area
 * memberships from the files of PRs merged at or before T and their
 * co-change. Writes boundary_model.json, memberships.parquet and
 * manifest.json into a folder (temp + rename).
 *
 * Leakage: a PR counts only if its merge event happened at or before T, and
 * its files are those of the head active at that merge (never a later
 * head's list), so nothing after T can change the model (the seed system
 * read every PR created before T under whatever head was stored, reference
 * §15.3). Reads the store read-only; never writes to it.
 */
#ifndef ATTN_EXPORT_BOUNDARY_H
#define ATTN_EXPORT_BOUNDARY_H

#include <jansson.h>
#include <stdint.h>
#include "util/error.h"

#define ATTN_BOUNDARY_CONTRACT "attn.boundary.v1"

/* Build the model of repo as of as_of from the store at db_path into
 * out_dir (replaced atomically). overrides: routing/area_overrides.json
 * path, or NULL / missing file for the default areas. *manifest (may be NULL)
 * is the manifest written. */
int attn_boundary_build(const char *db_path, const char *repo, int64_t as_of, const char *overrides,
                        const char *out_dir, json_t **manifest, attn_error *err);

#endif
