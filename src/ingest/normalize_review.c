/*
 * normalize_review.c - pull request reviews.
 *
 * Owns: the review row and review.submitted (actor = reviewer, payload
 * {body, state}). A review that was later dismissed shows state DISMISSED in
 * the API; its state at submission is recovered from the review_dismissed
 * issue event (dismissed_review.state) when the PR's events are given, else
 * kept as DISMISSED with "observed": true. Must never: emit an event for a
 * pending review (no submitted_at: not a fact yet).
 */
#include "ingest/normalize_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* State at submission of dismissed review `id`, upper-cased into buf, or NULL. */
static const char *state_before_dismissal(const json_t *events, int64_t id, char *buf,
                                          size_t cap)
{
    const json_t *ev;
    size_t i;
    json_array_foreach(events, i, ev) {
        const json_t *d = json_object_get(ev, "dismissed_review");
        const char *n = attn_json_str(ev, "event"), *st = attn_json_str(d, "state");
        size_t k;
        if (!n || strcmp(n, "review_dismissed") || !st ||
            attn_json_i64(d, "review_id", ATTN_NULL_I64) != id)
            continue;
        for (k = 0; st[k] && k + 1 < cap; k++)
            buf[k] = (char)toupper((unsigned char)st[k]);
        buf[k] = '\0';
        return buf;
    }
    return NULL;
}

int attn_normalize_review(attn_norm_ctx *ctx, int64_t number, const json_t *review,
                          const json_t *events, attn_error *err)
{
    attn_review_row row;
    char what[96], before[32];
    const char *state;
    norm_event e;
    int observed = 0, rc;

    if (!json_is_object(review))
        return attn_error_set(err, ATTN_EINVAL, "review of #%lld is not an object",
                              (long long)number);
    memset(&row, 0, sizeof(row));
    if ((rc = norm_req_i64(review, "id", "review object", &row.id, err)))
        return rc;
    snprintf(what, sizeof(what), "review %lld of #%lld", (long long)row.id, (long long)number);
    if ((rc = attn_norm_lookup_number(ctx, number, NULL, &row.pull_request_id, err)))
        return rc;
    if (row.pull_request_id == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_EINVAL, "%s: no pull request #%lld is loaded", what,
                              (long long)number);
    if ((rc = norm_time(review, "submitted_at", what, 0, &row.submitted_at, err)))
        return rc;
    if (row.submitted_at == ATTN_NULL_I64) {
        ctx->stats.skipped++;        /* pending */
        return 0;
    }
    if ((rc = norm_user_at(ctx, review, "user", &row.user_id, err)))
        return attn_error_wrap(err, "%s", what);
    row.repo_id = ctx->repo_id;
    row.state = attn_json_str(review, "state");
    row.body = attn_json_str(review, "body");
    row.commit_id = attn_json_str(review, "commit_id");
    if ((rc = attn_store_upsert_review(ctx->store, &row, err)))
        return attn_error_wrap(err, "%s", what);
    ctx->stats.reviews++;

    state = row.state;
    if (state && !strcmp(state, "DISMISSED")) {
        const char *b = state_before_dismissal(events, row.id, before, sizeof(before));
        if (b)
            state = b;
        else
            observed = 1;
    }
    norm_event_init(&e);
    e.occurred_at = row.submitted_at;
    e.actor_id = row.user_id;
    e.subject_type = "review";
    e.subject_id = row.id;
    e.event_type = "review.submitted";
    e.object_type = "pull_request";
    e.object_id = row.pull_request_id;
    e.commit_sha = row.commit_id;
    e.payload = observed ? json_pack("{s:s?, s:s?, s:b}", "body", row.body, "state", state,
                                     "observed", 1)
                         : json_pack("{s:s?, s:s?}", "body", row.body, "state", state);
    snprintf(e.key, sizeof(e.key), "review:%lld:submitted", (long long)row.id);
    if ((rc = norm_emit(ctx, &e, err)))
        return attn_error_wrap(err, "%s", what);
    return 0;
}
