/*
 * normalize_repo.c - the repository row, labels and milestones.
 *
 * Owns: repo/label/milestone entity rows and the name -> id caches that issue
 * events need (GitHub's labeled/milestoned events name a label or milestone
 * but often carry no id). Must never: emit events (these are catalogue rows,
 * their history lives in issue events).
 */
#include "ingest/normalize_internal.h"

#include <string.h>

int attn_normalize_repo(attn_norm_ctx *ctx, const json_t *repo, attn_error *err)
{
    attn_repo_row row;
    const json_t *owner;
    int rc;

    if (!json_is_object(repo))
        return attn_error_set(err, ATTN_EINVAL, "repo is not an object");
    memset(&row, 0, sizeof(row));
    if ((rc = norm_req_i64(repo, "id", "repo object", &row.id, err)))
        return rc;
    row.full_name = attn_json_str(repo, "full_name");
    row.name = attn_json_str(repo, "name");
    if (!row.full_name)
        return attn_error_set(err, ATTN_EINVAL, "repo object has no 'full_name'");
    owner = json_object_get(repo, "owner");
    row.owner_id = attn_json_i64(owner, "id", ATTN_NULL_I64);
    row.owner_login = attn_json_str(owner, "login");
    row.description = attn_json_str(repo, "description");
    row.default_branch = attn_json_str(repo, "default_branch");
    row.is_private = attn_json_bool(repo, "private", -1);
    row.archived = attn_json_bool(repo, "archived", -1);
    row.disabled = attn_json_bool(repo, "disabled", -1);
    if ((rc = norm_time(repo, "created_at", "repo", 0, &row.created_at, err)) ||
        (rc = norm_time(repo, "updated_at", "repo", 0, &row.updated_at, err)) ||
        (rc = norm_time(repo, "pushed_at", "repo", 0, &row.pushed_at, err)))
        return rc;
    if ((rc = attn_store_upsert_repo(ctx->store, &row, err)))
        return attn_error_wrap(err, "repo %s", row.full_name);
    return 0;
}

int attn_normalize_label(attn_norm_ctx *ctx, const json_t *label, attn_error *err)
{
    attn_label_row row;
    int rc;

    if (!json_is_object(label))
        return attn_error_set(err, ATTN_EINVAL, "label is not an object");
    memset(&row, 0, sizeof(row));
    if ((rc = norm_req_i64(label, "id", "label object", &row.id, err)))
        return rc;
    row.repo_id = ctx->repo_id;
    row.name = attn_json_str(label, "name");
    if (!row.name)
        return attn_error_set(err, ATTN_EINVAL, "label %lld has no 'name'", (long long)row.id);
    row.color = attn_json_str(label, "color");
    row.description = attn_json_str(label, "description");
    row.is_default = attn_json_bool(label, "default", 0);
    if ((rc = attn_store_upsert_label(ctx->store, &row, err)))
        return attn_error_wrap(err, "label %s", row.name);
    norm_map_note_label(ctx, row.name, row.id);
    ctx->stats.labels++;
    return 0;
}

int attn_normalize_milestone(attn_norm_ctx *ctx, const json_t *ms, attn_error *err)
{
    attn_milestone_row row;
    char what[64];
    int rc;

    if (!json_is_object(ms))
        return attn_error_set(err, ATTN_EINVAL, "milestone is not an object");
    memset(&row, 0, sizeof(row));
    if ((rc = norm_req_i64(ms, "id", "milestone object", &row.id, err)))
        return rc;
    snprintf(what, sizeof(what), "milestone %lld", (long long)row.id);
    row.repo_id = ctx->repo_id;
    row.number = attn_json_i64(ms, "number", ATTN_NULL_I64);
    row.title = attn_json_str(ms, "title");
    row.state = attn_json_str(ms, "state");
    row.description = attn_json_str(ms, "description");
    if ((rc = norm_time(ms, "due_on", what, 0, &row.due_on, err)) ||
        (rc = norm_time(ms, "closed_at", what, 0, &row.closed_at, err)) ||
        (rc = norm_time(ms, "created_at", what, 0, &row.created_at, err)) ||
        (rc = norm_time(ms, "updated_at", what, 0, &row.updated_at, err)))
        return rc;
    /* The creator is embedded; keep the users table complete for joins. */
    if ((rc = norm_user_at(ctx, ms, "creator", NULL, err)))
        return attn_error_wrap(err, "%s creator", what);
    if ((rc = attn_store_upsert_milestone(ctx->store, &row, err)))
        return attn_error_wrap(err, "%s", what);
    if (row.title)
        norm_map_note_milestone(ctx, row.title, row.id);
    ctx->stats.milestones++;
    return 0;
}
