/*
 * roster.h - routing/team_roster.json: which users a team target stands for.
 *
 * Format: an object mapping a team ("org/slug", or "@org/slug") to a list of
 * members, each a login string or {"login": L, "from": T, "until": T} with
 * ISO-8601 instants (from inclusive, until exclusive, either optional), e.g.
 *   {"acme/web": ["alice", {"login": "bob", "from": "2024-01-01T00:00:00Z"}]}
 * Team names compare case-insensitively; a leading '@' is ignored.
 * Errors (ATTN_EINVAL) name the team and member index.
 */
#ifndef ATTN_OWNERSHIP_ROSTER_H
#define ATTN_OWNERSHIP_ROSTER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "util/error.h"

typedef struct attn_roster attn_roster;

int attn_roster_from_json(const json_t *v, attn_roster **out, attn_error *err);
/* Missing file: ATTN_ENOTFOUND (callers fall back to no expansion). */
int attn_roster_load(const char *path, attn_roster **out, attn_error *err);
void attn_roster_free(attn_roster *r);

size_t attn_roster_team_count(const attn_roster *r);
/* Members of team valid at t, in login order, up to cap written to out
 * (borrowed strings); returns the total number valid (may exceed cap);
 * 0 for an unknown team. */
size_t attn_roster_members(const attn_roster *r, const char *team, int64_t t,
                           const char **out, size_t cap);

#endif
