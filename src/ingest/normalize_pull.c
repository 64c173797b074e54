/*
 * normalize_pull.c - a pull request with its issue, issue events, reviews, files.
 *
 * Owns: the PR row and the PR's state at created_at, which the API does not
 * give directly and which this file derives from the PR's issue events:
 *   title   the `from` of the earliest "renamed", else the current title
 *           (issue.content.set, normalize_issue.c); body: current, observed
 *   draft   earliest draft event ready_for_review -> was draft; convert_to_draft
 *           -> was not; no such event -> current flag, observed
 *   head    current head sha, observed; unknown (NULL, sha_unknown) when the
 *           head was force-pushed, since the pre-push sha is not recoverable
 *   base    current base ref unless base_ref_changed says otherwise; the base
 *           sha moves with the base branch, so it is always observed
 *   merge   actor = the merger (merged event's actor, else merged_by); keyed
 *           pr:<id>:merged so the event and the payload give one fact
 * Must never: emit an initial-state value that a later event contradicts
 * without marking it, or use the PR author as the merger.
 */
#include "ingest/normalize_internal.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

/* An event about the PR at its creation, by its author. */
static void initial_event(norm_event *e, const attn_pull_request_row *row, int64_t author,
                          const char *type)
{
    norm_event_init(e);
    e->occurred_at = row->created_at;
    e->actor_id = author;
    e->subject_type = "pull_request";
    e->subject_id = row->id;
    e->event_type = type;
}

static int emit_initial(attn_norm_ctx *ctx, const attn_pull_group *g,
                        const attn_pull_request_row *row, int64_t author, attn_error *err)
{
    const json_t *head = json_object_get(g->pr, "head");
    const json_t *base = json_object_get(g->pr, "base");
    const json_t *ev, *first_draft = NULL, *first_base = NULL;
    size_t i;
    int any_force = 0, is_draft_after, rc;
    norm_event e;

    json_array_foreach(g->events, i, ev) {
        const char *n = attn_json_str(ev, "event");
        if (norm_is_draft_event(n, &is_draft_after) &&
            (!first_draft || norm_event_earlier(ev, first_draft)))
            first_draft = ev;
        if (n && !strcmp(n, "head_ref_force_pushed"))
            any_force = 1;
        if (n && !strcmp(n, "base_ref_changed")) {
            if (!first_base || norm_event_earlier(ev, first_base))
                first_base = ev;
        }
    }

    initial_event(&e, row, author, "pull_request.opened");
    snprintf(e.key, sizeof(e.key), "pr:%lld:opened", (long long)row->id);
    if ((rc = norm_emit(ctx, &e, err)))
        return rc;

    /* Draft at creation: the first draft event flips it, so it started as the
     * opposite; without one the current flag is all we know. */
    initial_event(&e, row, author, "pull_request.draft.set");
    if (first_draft) {
        norm_is_draft_event(attn_json_str(first_draft, "event"), &is_draft_after);
        e.payload = json_pack("{s:b, s:b}", "is_draft", !is_draft_after, "observed", 0);
    } else {
        e.payload = json_pack("{s:b, s:b}", "is_draft", row->draft > 0, "observed", 1);
    }
    snprintf(e.key, sizeof(e.key), "pr:%lld:draft.initial", (long long)row->id);
    if ((rc = norm_emit(ctx, &e, err)))
        return rc;

    /* Head at creation: plain pushes leave no issue event, so even the current
     * sha is only observed; after a force push the original sha is lost. */
    initial_event(&e, row, author, "pull_request.head.set");
    if (any_force) {
        e.payload = json_pack("{s:s?, s:b, s:b}", "head_ref", attn_json_str(head, "ref"),
                              "observed", 1, "sha_unknown", 1);
    } else {
        e.commit_sha = attn_json_str(head, "sha");
        e.payload = json_pack("{s:s?, s:b}", "head_ref", attn_json_str(head, "ref"),
                              "observed", 1);
    }
    snprintf(e.key, sizeof(e.key), "pr:%lld:head.initial", (long long)row->id);
    if ((rc = norm_emit(ctx, &e, err)))
        return rc;

    /* Base at creation. */
    initial_event(&e, row, author, "pull_request.base.set");
    if (!first_base) {
        e.commit_sha = attn_json_str(base, "sha");
        e.payload = json_pack("{s:s?, s:b}", "base_ref", attn_json_str(base, "ref"),
                              "observed", 1);
    } else {
        e.payload = json_pack("{s:s?, s:b, s:b}", "base_ref", attn_json_str(first_base, "from"),
                              "observed", 1, "sha_unknown", 1);
    }
    snprintf(e.key, sizeof(e.key), "pr:%lld:base.initial", (long long)row->id);
    if ((rc = norm_emit(ctx, &e, err)))
        return rc;

    /* Base changes: the REST event carries no ref, but the last change leads
     * to the current base. Emitted before the generic pass (same keys), so
     * these payloads win. */
    json_array_foreach(g->events, i, ev) {
        const char *n = attn_json_str(ev, "event");
        const json_t *other;
        size_t j;
        int later = 0;
        int64_t evid = attn_json_i64(ev, "id", ATTN_NULL_I64), at;
        if (!n || strcmp(n, "base_ref_changed") || evid == ATTN_NULL_I64)
            continue;
        json_array_foreach(g->events, j, other) {
            const char *on = attn_json_str(other, "event");
            if (on && !strcmp(on, "base_ref_changed") && norm_event_earlier(ev, other))
                later++;
        }
        if ((rc = norm_time(ev, "created_at", "base_ref_changed event", 1, &at, err)))
            return rc;
        norm_event_init(&e);
        e.occurred_at = at;
        if ((rc = norm_user_at(ctx, ev, "actor", &e.actor_id, err)))
            return rc;
        e.subject_type = "pull_request";
        e.subject_id = row->id;
        e.event_type = "pull_request.base.set";
        if (!later) {
            e.commit_sha = attn_json_str(base, "sha");
            e.payload = json_pack("{s:s?, s:b}", "base_ref", attn_json_str(base, "ref"),
                                  "observed", 1);
        } else {
            e.payload = json_pack("{s:s?, s:b}", "base_ref", attn_json_str(ev, "to"),
                                  "sha_unknown", 1);
        }
        snprintf(e.key, sizeof(e.key), "issue_event:%lld", (long long)evid);
        if ((rc = norm_emit(ctx, &e, err)))
            return rc;
    }
    return 0;
}

static int emit_merge(attn_norm_ctx *ctx, const attn_pull_group *g,
                      const attn_pull_request_row *row, int64_t merged_by, attn_error *err)
{
    const json_t *mev = norm_earliest_named(g->events, "merged");
    norm_event e;
    int rc;

    if (row->merged_at == ATTN_NULL_I64)
        return 0;
    norm_event_init(&e);
    e.occurred_at = row->merged_at;
    e.actor_id = merged_by;
    if (mev && (rc = norm_user_at(ctx, mev, "actor", &e.actor_id, err)))
        return rc;
    if (e.actor_id == ATTN_NULL_I64)
        e.actor_id = merged_by;
    e.subject_type = "pull_request";
    e.subject_id = row->id;
    e.event_type = "pull_request.merged";
    e.commit_sha = row->merge_commit_sha ? row->merge_commit_sha
                                         : attn_json_str(mev, "commit_id");
    snprintf(e.key, sizeof(e.key), "pr:%lld:merged", (long long)row->id);
    return norm_emit(ctx, &e, err);
}

/* The issue id of a PR whose issue object is missing: from its events. */
static int64_t issue_id_from_events(const json_t *events)
{
    const json_t *ev;
    size_t i;
    json_array_foreach(events, i, ev) {
        int64_t id = attn_json_i64(json_object_get(ev, "issue"), "id", ATTN_NULL_I64);
        if (id != ATTN_NULL_I64)
            return id;
    }
    return ATTN_NULL_I64;
}

/* Build a stand-in issue object from the PR's own fields (same number, text,
 * author, times) when the issue listing lacks it. */
static json_t *issue_from_pr(const json_t *pr, int64_t issue_id)
{
    static const char *const keys[] = {"number", "title", "body", "state", "user",
                                       "created_at", "updated_at", "closed_at", "locked"};
    json_t *o = attn_xcheck(json_object());
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(pr, keys[i]);
        if (v)
            attn_xcheck_rc(json_object_set(o, keys[i], v));
    }
    attn_xcheck_rc(json_object_set_new(o, "id", json_integer(issue_id)));
    attn_xcheck_rc(json_object_set_new(o, "pull_request", json_object()));
    return o;
}

int attn_normalize_pull(attn_norm_ctx *ctx, const attn_pull_group *g, attn_error *err)
{
    const json_t *pr = g ? g->pr : NULL, *head, *base, *v, *ev;
    attn_pull_request_row row;
    int64_t merged_by = ATTN_NULL_I64, author = ATTN_NULL_I64, map_issue;
    char what[64];
    size_t i;
    int rc;

    if (!json_is_object(pr))
        return attn_error_set(err, ATTN_EINVAL, "pull request is not an object");
    memset(&row, 0, sizeof(row));
    if ((rc = norm_req_i64(pr, "number", "pull request object", &row.number, err)))
        return rc;
    snprintf(what, sizeof(what), "pull request #%lld", (long long)row.number);
    if ((rc = norm_req_i64(pr, "id", what, &row.id, err)))
        return rc;
    if (g->events && !json_is_array(g->events))
        return attn_error_set(err, ATTN_EINVAL, "%s: events are not a list", what);
    row.repo_id = ctx->repo_id;
    row.title = attn_json_str(pr, "title");
    row.body = attn_json_str(pr, "body");
    row.state = attn_json_str(pr, "state");
    row.draft = attn_json_bool(pr, "draft", 0);
    row.merge_commit_sha = attn_json_str(pr, "merge_commit_sha");
    head = json_object_get(pr, "head");
    base = json_object_get(pr, "base");
    row.head_sha = attn_json_str(head, "sha");
    row.head_ref = attn_json_str(head, "ref");
    row.base_sha = attn_json_str(base, "sha");
    row.base_ref = attn_json_str(base, "ref");
    if ((rc = norm_time(pr, "created_at", what, 1, &row.created_at, err)) ||
        (rc = norm_time(pr, "updated_at", what, 0, &row.updated_at, err)) ||
        (rc = norm_time(pr, "closed_at", what, 0, &row.closed_at, err)) ||
        (rc = norm_time(pr, "merged_at", what, 0, &row.merged_at, err)))
        return rc;
    row.merged = row.merged_at != ATTN_NULL_I64 || attn_json_bool(pr, "merged", 0) == 1;
    row.files_truncated = json_array_size(g->files) >= 3000;

    /* Users and catalogue rows first: foreign keys are on. */
    if ((rc = norm_user_at(ctx, pr, "user", &author, err)) ||
        (rc = norm_user_at(ctx, pr, "merged_by", &merged_by, err)))
        return attn_error_wrap(err, "%s", what);
    row.user_id = author;
    json_array_foreach(json_object_get(pr, "requested_reviewers"), i, v) {
        if ((rc = attn_normalize_user(ctx, v, NULL, err)))
            return attn_error_wrap(err, "%s requested reviewer", what);
    }
    json_array_foreach(json_object_get(pr, "requested_teams"), i, v) {
        if ((rc = attn_normalize_team(ctx, v, err)))
            return attn_error_wrap(err, "%s requested team", what);
    }
    if ((rc = norm_embedded_catalogue(ctx, pr, what, err)))
        return rc;

    /* The issue half. */
    if (g->issue) {
        if (attn_json_i64(g->issue, "number", ATTN_NULL_I64) != row.number)
            return attn_error_set(err, ATTN_EINVAL, "%s: its issue object has another number",
                                  what);
        if ((rc = norm_issue_core(ctx, g->issue, g->events, err)))
            return rc;
        row.issue_id = attn_json_i64(g->issue, "id", ATTN_NULL_I64);
    } else {
        if ((rc = attn_norm_lookup_number(ctx, row.number, &map_issue, NULL, err)))
            return rc;
        row.issue_id = map_issue;
        if (row.issue_id == ATTN_NULL_I64 &&
            (row.issue_id = issue_id_from_events(g->events)) != ATTN_NULL_I64) {
            json_t *stand_in = issue_from_pr(pr, row.issue_id);
            rc = norm_issue_core(ctx, stand_in, g->events, err);
            json_decref(stand_in);
            if (rc)
                return rc;
        }
    }

    if ((rc = attn_store_upsert_pull_request(ctx->store, &row, err)))
        return attn_error_wrap(err, "%s", what);
    norm_map_note_number(ctx, row.number, row.issue_id, row.id, row.head_sha);
    norm_map_note_head_ref(ctx, row.number, row.head_ref);
    ctx->stats.prs++;

    if ((rc = emit_initial(ctx, g, &row, author, err)) ||
        (rc = emit_merge(ctx, g, &row, merged_by, err)))
        return attn_error_wrap(err, "%s", what);
    json_array_foreach(g->events, i, ev) {
        if ((rc = attn_normalize_issue_event(ctx, ev, err)))
            return attn_error_wrap(err, "%s", what);
    }
    json_array_foreach(g->reviews, i, v) {
        if ((rc = attn_normalize_review(ctx, row.number, v, g->events, err)))
            return attn_error_wrap(err, "%s", what);
    }
    if (g->files && (rc = attn_normalize_files(ctx, row.number, g->files, err)))
        return attn_error_wrap(err, "%s", what);
    return 0;
}
