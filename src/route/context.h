/*
 * context.h - build the shared routing context for one repository: the
 * store, the as-of reader, the activity index, routing/area_overrides.json
 * and the team roster (routing/team_roster.json, else the team memberships
 * ingestion stored). Used by `attn route` and by evaluations.
 */
#ifndef ATTN_ROUTE_CONTEXT_H
#define ATTN_ROUTE_CONTEXT_H

#include "route/router.h"

typedef struct attn_route_env attn_route_env;

/* store is borrowed (kept open by the caller); repo is "owner/name";
 * repo_dir is DATA/github/<o>/<r>. Bad override or roster files are errors
 * (ATTN_EINVAL naming the file); missing ones are not. */
int attn_route_env_open(attn_store *store, const char *repo, const char *repo_dir,
                        attn_route_env **out, attn_error *err);
/* The same, the activity index read partly through helper on a thread of
 * its own (attn_activity_build_with: helper reads the same state as store). */
int attn_route_env_open_with(attn_store *store, attn_store *helper, const char *repo,
                             const char *repo_dir, attn_route_env **out, attn_error *err);
void attn_route_env_free(attn_route_env *env);
/* Another thread's context on the same repository: its own store connection
 * (store, the same file), as-of reader, overrides and roster, and a view of
 * base's activity index instead of a second build (activity.h). Call
 * attn_route_env_share(base) first, before other threads start; free every
 * such env before base. */
int attn_route_env_open_view(attn_store *store, const attn_route_env *base,
                             attn_route_env **out, attn_error *err);
void attn_route_env_share(attn_route_env *env);
const attn_route_ctx *attn_route_env_ctx(const attn_route_env *env);
/* Where the roster came from: "file", "store" or "none". */
const char *attn_route_env_roster_source(const attn_route_env *env);

#endif
