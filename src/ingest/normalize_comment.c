/*
 * normalize_comment.c - issue comments and review (diff) comments.
 *
 * Owns: comment rows and comment.created / comment.edited. The API gives only
 * the current body, so when a comment was edited (updated_at > created_at)
 * both the created event's body and the edit's body are "observed": true and
 * the edit is dated updated_at (keyed by that instant, so a later edit is a new
 * fact). Must never: attach a comment to an issue or PR that is not loaded
 * (skipped and counted), or share keys between the two comment kinds (their
 * ids are separate GitHub sequences).
 */
#include "ingest/normalize_internal.h"

#include <stdio.h>
#include <string.h>

static int emit_comment(attn_norm_ctx *ctx, const char *prefix, const attn_comment_row *row,
                        const char *object_type, int64_t object_id, attn_error *err)
{
    int edited = row->updated_at != ATTN_NULL_I64 && row->updated_at > row->created_at;
    norm_event e;
    int rc;

    norm_event_init(&e);
    e.occurred_at = row->created_at;
    e.actor_id = row->user_id;
    e.subject_type = "comment";
    e.subject_id = row->id;
    e.event_type = "comment.created";
    e.object_type = object_type;
    e.object_id = object_id;
    e.payload = json_pack("{s:s?, s:b}", "body", row->body, "observed", edited);
    if (e.payload && row->review_id != ATTN_NULL_I64)
        json_object_set_new(e.payload, "review_id", json_integer(row->review_id));
    snprintf(e.key, sizeof(e.key), "%s:%lld:created", prefix, (long long)row->id);
    if ((rc = norm_emit(ctx, &e, err)) || !edited)
        return rc;
    norm_event_init(&e);
    e.occurred_at = row->updated_at;
    e.actor_id = row->user_id;
    e.subject_type = "comment";
    e.subject_id = row->id;
    e.event_type = "comment.edited";
    e.object_type = object_type;
    e.object_id = object_id;
    e.payload = json_pack("{s:s?, s:b}", "body", row->body, "observed", 1);
    snprintf(e.key, sizeof(e.key), "%s:%lld:edited:%lld", prefix, (long long)row->id,
             (long long)row->updated_at);
    return norm_emit(ctx, &e, err);
}

static int comment_common(attn_norm_ctx *ctx, const json_t *c, const char *kind,
                          attn_comment_row *row, char *what, size_t cap, attn_error *err)
{
    int rc;
    memset(row, 0, sizeof(*row));
    if (!json_is_object(c))
        return attn_error_set(err, ATTN_EINVAL, "%s is not an object", kind);
    if ((rc = norm_req_i64(c, "id", kind, &row->id, err)))
        return rc;
    snprintf(what, cap, "%s %lld", kind, (long long)row->id);
    row->repo_id = ctx->repo_id;
    row->issue_id = ATTN_NULL_I64;
    row->pull_request_id = ATTN_NULL_I64;
    row->review_id = ATTN_NULL_I64;
    row->position = ATTN_NULL_I64;
    row->in_reply_to_id = ATTN_NULL_I64;
    row->body = attn_json_str(c, "body");
    if ((rc = norm_time(c, "created_at", what, 1, &row->created_at, err)) ||
        (rc = norm_time(c, "updated_at", what, 0, &row->updated_at, err)))
        return rc;
    if ((rc = norm_user_at(ctx, c, "user", &row->user_id, err)))
        return attn_error_wrap(err, "%s", what);
    return 0;
}

int attn_normalize_issue_comment(attn_norm_ctx *ctx, const json_t *c, attn_error *err)
{
    attn_comment_row row;
    char what[64];
    int64_t number;
    int rc;

    if ((rc = comment_common(ctx, c, "issue comment", &row, what, sizeof(what), err)))
        return rc;
    number = attn_norm_url_number(attn_json_str(c, "issue_url"));
    if (number < 0)
        return attn_error_set(err, ATTN_EINVAL, "%s has no usable 'issue_url'", what);
    if ((rc = attn_norm_lookup_number(ctx, number, &row.issue_id, &row.pull_request_id, err)))
        return rc;
    if (row.issue_id == ATTN_NULL_I64) {
        ctx->stats.skipped++;
        return 0;
    }
    row.comment_type = "issue";
    if ((rc = attn_store_upsert_comment(ctx->store, &row, err)))
        return attn_error_wrap(err, "%s", what);
    ctx->stats.comments++;
    if ((rc = emit_comment(ctx, "comment", &row, "issue", row.issue_id, err)))
        return attn_error_wrap(err, "%s", what);
    return 0;
}

int attn_normalize_review_comment(attn_norm_ctx *ctx, const json_t *c, attn_error *err)
{
    attn_comment_row row;
    char what[64];
    int64_t number;
    int rc;

    if ((rc = comment_common(ctx, c, "review comment", &row, what, sizeof(what), err)))
        return rc;
    number = attn_norm_url_number(attn_json_str(c, "pull_request_url"));
    if (number < 0)
        return attn_error_set(err, ATTN_EINVAL, "%s has no usable 'pull_request_url'", what);
    if ((rc = attn_norm_lookup_number(ctx, number, &row.issue_id, &row.pull_request_id, err)))
        return rc;
    if (row.pull_request_id == ATTN_NULL_I64) {
        ctx->stats.skipped++;
        return 0;
    }
    row.comment_type = "review";
    row.review_id = attn_json_i64(c, "pull_request_review_id", ATTN_NULL_I64);
    row.path = attn_json_str(c, "path");
    row.position = attn_json_i64(c, "position", attn_json_i64(c, "original_position",
                                                               ATTN_NULL_I64));
    row.commit_id = attn_json_str(c, "commit_id");
    row.in_reply_to_id = attn_json_i64(c, "in_reply_to_id", ATTN_NULL_I64);
    if ((rc = attn_store_upsert_comment(ctx->store, &row, err)))
        return attn_error_wrap(err, "%s", what);
    ctx->stats.comments++;
    if ((rc = emit_comment(ctx, "review_comment", &row, "pull_request", row.pull_request_id,
                           err)))
        return attn_error_wrap(err, "%s", what);
    return 0;
}
