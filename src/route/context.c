/*
 * context.c - the shared routing context (context.h).
 *
 * Owns: locating the routing/ JSON files under the repo directory and building the
 * read-only structures every router queries. The roster fallback reads the
 * team memberships ingestion stored (team_members), which carry no validity
 * dates, so they apply at every cutoff; a roster file with dates wins.
 */
#include "route/context.h"
#include "util/alloc.h"
#include "store/store.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct attn_route_env {
    attn_route_ctx ctx;
    char *repo, *repo_dir;
    attn_area_map *areas;
    attn_roster *roster;
    attn_activity *activity;
    attn_asof_reader *reader;
    const char *roster_source;
};

static const char SQL_TEAM_MEMBERS[] =
    "SELECT t.slug, u.login FROM team_members m JOIN teams t ON t.id = m.team_id"
    " JOIN users u ON u.id = m.user_id WHERE t.slug IS NOT NULL AND u.login IS NOT NULL"
    " ORDER BY t.slug, u.login";

static int roster_from_store(attn_route_env *env, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    json_t *obj = attn_xcheck(json_object());
    char owner[256];
    const char *slash = strchr(env->repo, '/');
    int rc;

    snprintf(owner, sizeof(owner), "%.*s", (int)(slash ? slash - env->repo : 0), env->repo);
    if (sqlite3_prepare_v2(attn_store_db(env->ctx.store), SQL_TEAM_MEMBERS, -1, &st, NULL) !=
        SQLITE_OK) {
        json_decref(obj);
        return attn_error_set(err, ATTN_EDB, "reading team members: %s",
                              sqlite3_errmsg(attn_store_db(env->ctx.store)));
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char team[512];
        json_t *arr;
        snprintf(team, sizeof(team), "%s/%s", owner, (const char *)sqlite3_column_text(st, 0));
        if (!(arr = json_object_get(obj, team))) {
            arr = json_array();
            json_object_set_new(obj, team, arr);
        }
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 1)));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(obj);
        return attn_error_set(err, ATTN_EDB, "reading team members failed");
    }
    rc = 0;
    if (json_object_size(obj)) {
        rc = attn_roster_from_json(obj, &env->roster, err);
        env->roster_source = "store";
    }
    json_decref(obj);
    return rc;
}

static int env_open(attn_store *store, attn_store *helper, const char *repo,
                    const char *repo_dir, const attn_route_env *base, attn_route_env **out,
                    attn_error *err)
{
    attn_route_env *env;
    char path[4200];
    int rc;

    *out = NULL;
    env = attn_xcalloc(1, sizeof(*env));
    env->repo = attn_xstrdup(repo);
    env->repo_dir = attn_xstrdup(repo_dir);
    env->roster_source = "none";
    env->ctx.store = store;
    env->ctx.repo = env->repo;
    env->ctx.repo_dir = env->repo_dir;
    if ((rc = attn_store_repo_id(store, repo, &env->ctx.repo_id, err)))
        goto fail;
    snprintf(path, sizeof(path), "%s/routing/area_overrides.json", repo_dir);
    rc = attn_area_map_load(path, &env->areas, err);
    if (rc && rc != ATTN_ENOTFOUND)
        goto fail;
    snprintf(path, sizeof(path), "%s/routing/team_roster.json", repo_dir);
    rc = attn_roster_load(path, &env->roster, err);
    if (!rc)
        env->roster_source = "file";
    else if (rc != ATTN_ENOTFOUND)
        goto fail;
    else if ((rc = roster_from_store(env, err)))
        goto fail;
    if ((rc = attn_asof_reader_open(store, &env->reader, err)))
        goto fail;
    if (base)
        env->activity = attn_activity_view(base->activity);
    else if ((rc = attn_activity_build_with(store, helper, env->ctx.repo_id, env->areas,
                                            &env->activity, err)))
        goto fail;
    env->ctx.areas = env->areas;
    env->ctx.roster = env->roster;
    env->ctx.reader = env->reader;
    env->ctx.activity = env->activity;
    attn_error_clear(err);
    *out = env;
    return 0;
fail:
    attn_route_env_free(env);
    return rc;
}

int attn_route_env_open(attn_store *store, const char *repo, const char *repo_dir,
                        attn_route_env **out, attn_error *err)
{
    return env_open(store, NULL, repo, repo_dir, NULL, out, err);
}

int attn_route_env_open_with(attn_store *store, attn_store *helper, const char *repo,
                             const char *repo_dir, attn_route_env **out, attn_error *err)
{
    return env_open(store, helper, repo, repo_dir, NULL, out, err);
}

int attn_route_env_open_view(attn_store *store, const attn_route_env *base,
                             attn_route_env **out, attn_error *err)
{
    return env_open(store, NULL, base->repo, base->repo_dir, base, out, err);
}

void attn_route_env_share(attn_route_env *env)
{
    attn_activity_share(env->activity);
}

void attn_route_env_free(attn_route_env *env)
{
    if (!env)
        return;
    attn_activity_free(env->activity);
    attn_asof_reader_free(env->reader);
    attn_roster_free(env->roster);
    attn_area_map_free(env->areas);
    free(env->repo);
    free(env->repo_dir);
    free(env);
}

const attn_route_ctx *attn_route_env_ctx(const attn_route_env *env) { return &env->ctx; }
const char *attn_route_env_roster_source(const attn_route_env *env) { return env->roster_source; }
