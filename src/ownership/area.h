/*
 * area.h - the area (ownership boundary) of a file path.
 *
 * Owns the default area rule and routing/area_overrides.json. It never reads
 * the store. The default area is the path's first segment, or "__root__" for a
 * top-level file. Overrides map CODEOWNERS-syntax patterns (codeowners.h: `*`
 * stays within a segment, `**` crosses, a leading or middle `/` anchors) to
 * area names, as a JSON object {"pattern": "area", ...} or a list
 * [{"pattern": P, "area": A}, ...].
 *
 * Precedence: the FIRST matching override wins, in file order (object keys in
 * the order written). This keeps the meaning of override files written for the
 * original system, whose boundary overrides were first-match; only the pattern
 * syntax changed (its fnmatch `*` crossed `/`).
 */
#ifndef ATTN_OWNERSHIP_AREA_H
#define ATTN_OWNERSHIP_AREA_H

#include <stddef.h>
#include <jansson.h>
#include "util/buf.h"
#include "util/error.h"

#define ATTN_AREA_ROOT "__root__"

typedef struct attn_area_map attn_area_map;

/* Build a map from a parsed JSON value. Errors (ATTN_EINVAL) name the entry:
 * a wrong shape, an empty area, or a pattern CODEOWNERS would reject. */
int attn_area_map_from_json(const json_t *v, attn_area_map **out, attn_error *err);

/* Load routing/area_overrides.json; a missing file is ATTN_ENOTFOUND so the
 * caller can fall back to defaults deliberately. */
int attn_area_map_load(const char *path, attn_area_map **out, attn_error *err);

size_t attn_area_map_count(const attn_area_map *m);
void attn_area_map_free(attn_area_map *m);

/* Default area of path into out (replacing its contents). */
void attn_area_default(const char *path, attn_buf *out);

/* Area of path into out: the first matching override (returns 1) or the
 * default area (returns 0). m may be NULL. */
int attn_area_of(const attn_area_map *m, const char *path, attn_buf *out);

#endif
