/*
 * normalize_user.c - users and teams (with their members).
 *
 * Owns: the stored user type (a bot by the one rule of util/user.h is "Bot";
 * "Organization" stays; anything else is a User) and team membership rows
 * (source "api"). Must never: invent a user for a null (ghost/deleted)
 * account — that is a NULL id — or lower-case logins (GitHub logins keep their
 * spelling; comparisons elsewhere decide case rules).
 */
#include "ingest/normalize_internal.h"

#include <string.h>

#include "util/user.h"

static const char *user_type(const char *login, const char *type)
{
    if (attn_is_bot(login, type))
        return "Bot";
    if (type && !strcmp(type, "Organization"))
        return "Organization";
    return "User";
}

int attn_normalize_user(attn_norm_ctx *ctx, const json_t *user, int64_t *id_out,
                        attn_error *err)
{
    attn_user_row row;
    int64_t id;
    int seen, rc;

    if (id_out)
        *id_out = ATTN_NULL_I64;
    if (!user || json_is_null(user))
        return 0;                       /* ghost / deleted account */
    if (!json_is_object(user))
        return attn_error_set(err, ATTN_EINVAL, "user is not an object");
    if ((rc = norm_req_i64(user, "id", "user object", &id, err)))
        return rc;
    memset(&row, 0, sizeof(row));
    row.id = id;
    row.login = attn_json_str(user, "login");
    if (!row.login)
        return attn_error_set(err, ATTN_EINVAL, "user %lld has no 'login'", (long long)id);
    seen = norm_map_user_seen(ctx, id);
    if (!seen) {
        row.type = user_type(row.login, attn_json_str(user, "type"));
        row.site_admin = attn_json_bool(user, "site_admin", 0);
        row.avatar_url = attn_json_str(user, "avatar_url");
        if ((rc = attn_store_upsert_user(ctx->store, &row, err)))
            return attn_error_wrap(err, "user %s", row.login);
        ctx->stats.users++;
    }
    if (id_out)
        *id_out = id;
    return 0;
}

int attn_normalize_team(attn_norm_ctx *ctx, const json_t *team, attn_error *err)
{
    attn_team_row row;
    const json_t *members, *m;
    size_t i;
    int rc;

    if (!json_is_object(team))
        return attn_error_set(err, ATTN_EINVAL, "team is not an object");
    memset(&row, 0, sizeof(row));
    if ((rc = norm_req_i64(team, "id", "team object", &row.id, err)))
        return rc;
    row.slug = attn_json_str(team, "slug");
    row.name = attn_json_str(team, "name");
    if (!row.slug)
        return attn_error_set(err, ATTN_EINVAL, "team %lld has no 'slug'", (long long)row.id);
    if ((rc = attn_store_upsert_team(ctx->store, &row, err)))
        return attn_error_wrap(err, "team %s", row.slug);
    ctx->stats.teams++;
    members = json_object_get(team, "members");
    json_array_foreach(members, i, m) {
        attn_team_member_row tm;
        int64_t uid;
        if ((rc = attn_normalize_user(ctx, m, &uid, err)))
            return attn_error_wrap(err, "team %s member %zu", row.slug, i);
        if (uid == ATTN_NULL_I64)
            continue;
        tm.team_id = row.id;
        tm.user_id = uid;
        tm.source = "api";
        tm.observed_at = ctx->observed_at;
        if ((rc = attn_store_upsert_team_member(ctx->store, &tm, err)))
            return attn_error_wrap(err, "team %s member %lld", row.slug, (long long)uid);
    }
    return 0;
}
