/*
 * normalize_issue.c - issues and issue events.
 *
 * Owns: the issue row, its creation events (issue.opened, issue.content.set
 * with the title as of creation), the close synthesized from closed_at, and
 * the mapping of every GitHub issue event to the store vocabulary (store.h).
 * Must never: key an event by anything but the GitHub event id (except
 * "merged", keyed by PR id so the PR payload and the event agree), emit a
 * second state change for a close the events list already has, or guess a
 * label/milestone id (an unresolvable one is skipped and counted).
 */
#include "ingest/normalize_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers shared with normalize_pull.c --------------------------------- */

/* Time of an issue event (ATTN_NULL_I64 when missing or malformed). */
static int64_t ev_time(const json_t *ev)
{
    int64_t t;
    attn_error e;
    if (attn_json_time(ev, "created_at", &t, &e))
        return ATTN_NULL_I64;
    return t;
}

int norm_event_earlier(const json_t *a, const json_t *b)
{
    int64_t ta = ev_time(a), tb = ev_time(b);
    if (ta != tb)
        return ta < tb;
    return attn_json_i64(a, "id", 0) < attn_json_i64(b, "id", 0);
}

const json_t *norm_earliest_named(const json_t *events, const char *name)
{
    const json_t *best = NULL, *ev;
    size_t i;
    json_array_foreach(events, i, ev) {
        const char *n = attn_json_str(ev, "event");
        if (n && !strcmp(n, name) && (!best || norm_event_earlier(ev, best)))
            best = ev;
    }
    return best;
}

/* ---- issues ---------------------------------------------------------------- */

int norm_embedded_catalogue(attn_norm_ctx *ctx, const json_t *obj, const char *what,
                              attn_error *err)
{
    const json_t *v, *ms;
    size_t i;
    int rc;

    json_array_foreach(json_object_get(obj, "labels"), i, v) {
        if (json_is_object(v) && attn_json_i64(v, "id", ATTN_NULL_I64) != ATTN_NULL_I64 &&
            (rc = attn_normalize_label(ctx, v, err)))
            return attn_error_wrap(err, "%s", what);
    }
    json_array_foreach(json_object_get(obj, "assignees"), i, v) {
        if ((rc = attn_normalize_user(ctx, v, NULL, err)))
            return attn_error_wrap(err, "%s assignee", what);
    }
    if ((rc = norm_user_at(ctx, obj, "assignee", NULL, err)))
        return attn_error_wrap(err, "%s assignee", what);
    ms = json_object_get(obj, "milestone");
    if (json_is_object(ms) && (rc = attn_normalize_milestone(ctx, ms, err)))
        return attn_error_wrap(err, "%s", what);
    return 0;
}

int norm_issue_core(attn_norm_ctx *ctx, const json_t *issue, const json_t *events,
                    attn_error *err)
{
    attn_issue_row row;
    const json_t *ren;
    const char *title;
    char what[64];
    int64_t closed_by = ATTN_NULL_I64;
    norm_event e;
    int rc;

    if (!json_is_object(issue))
        return attn_error_set(err, ATTN_EINVAL, "issue is not an object");
    memset(&row, 0, sizeof(row));
    if ((rc = norm_req_i64(issue, "number", "issue object", &row.number, err)))
        return rc;
    snprintf(what, sizeof(what), "issue #%lld", (long long)row.number);
    if ((rc = norm_req_i64(issue, "id", what, &row.id, err)))
        return rc;
    row.repo_id = ctx->repo_id;
    row.title = attn_json_str(issue, "title");
    row.body = attn_json_str(issue, "body");
    row.state = attn_json_str(issue, "state");
    row.is_pull_request = json_object_get(issue, "pull_request") != NULL;
    row.locked = attn_json_bool(issue, "locked", 0);
    if ((rc = norm_time(issue, "created_at", what, 1, &row.created_at, err)) ||
        (rc = norm_time(issue, "updated_at", what, 0, &row.updated_at, err)) ||
        (rc = norm_time(issue, "closed_at", what, 0, &row.closed_at, err)))
        return rc;
    if ((rc = norm_user_at(ctx, issue, "user", &row.user_id, err)) ||
        (rc = norm_user_at(ctx, issue, "closed_by", &closed_by, err)))
        return attn_error_wrap(err, "%s", what);
    if ((rc = norm_embedded_catalogue(ctx, issue, what, err)))
        return rc;
    if ((rc = attn_store_upsert_issue(ctx->store, &row, err)))
        return attn_error_wrap(err, "%s", what);
    norm_map_note_number(ctx, row.number, row.id, ATTN_NULL_I64, NULL);
    if (!row.is_pull_request)
        ctx->stats.issues++;

    norm_event_init(&e);
    e.occurred_at = row.created_at;
    e.actor_id = row.user_id;
    e.subject_type = "issue";
    e.subject_id = row.id;
    e.event_type = "issue.opened";
    snprintf(e.key, sizeof(e.key), "issue:%lld:opened", (long long)row.id);
    if ((rc = norm_emit(ctx, &e, err)))
        return attn_error_wrap(err, "%s", what);

    /* Title as of creation: a rename's `from` is authoritative; with no rename
     * the current title is the original. The body is the current body: the API
     * keeps no history of it, so it is marked observed at ingestion. */
    ren = norm_earliest_named(events, "renamed");
    title = row.title;
    if (ren && attn_json_str(json_object_get(ren, "rename"), "from"))
        title = attn_json_str(json_object_get(ren, "rename"), "from");
    norm_event_init(&e);
    e.occurred_at = row.created_at;
    e.actor_id = row.user_id;
    e.subject_type = "issue";
    e.subject_id = row.id;
    e.event_type = "issue.content.set";
    e.payload = json_pack("{s:s?, s:s?, s:b}", "title", title, "body", row.body,
                          "observed", 1);
    snprintf(e.key, sizeof(e.key), "issue:%lld:content.set", (long long)row.id);
    if ((rc = norm_emit(ctx, &e, err)))
        return attn_error_wrap(err, "%s", what);

    /* A close the events list does not show (e.g. events not fetched): take it
     * from closed_at. When the list has any "closed" event, those events (keyed
     * by their own ids) are the state changes and nothing is synthesized. */
    if (row.closed_at != ATTN_NULL_I64 && row.state && !strcmp(row.state, "closed") &&
        !norm_earliest_named(events, "closed")) {
        norm_event_init(&e);
        e.occurred_at = row.closed_at;
        e.actor_id = closed_by;
        e.subject_type = "issue";
        e.subject_id = row.id;
        e.event_type = "issue.closed";
        e.payload = json_pack("{s:b}", "synthesized", 1);
        snprintf(e.key, sizeof(e.key), "issue:%lld:closed:%lld", (long long)row.id,
                 (long long)row.closed_at);
        if ((rc = norm_emit(ctx, &e, err)))
            return attn_error_wrap(err, "%s", what);
        norm_map_note_synth_close(ctx, row.id);
    } else if (row.closed_at != ATTN_NULL_I64 && norm_earliest_named(events, "closed") &&
               norm_map_may_have_synth_close(ctx, row.id)) {
        /* The real close arrived (an events page lost earlier was fetched):
         * the close synthesized meanwhile goes. */
        int64_t dropped = 0;
        if ((rc = attn_store_drop_synthesized(ctx->store, "issue", row.id, "issue.closed",
                                              &dropped, err)))
            return attn_error_wrap(err, "%s", what);
        ctx->stats.events_corrected += dropped;
    }
    return 0;
}

int attn_normalize_issue(attn_norm_ctx *ctx, const json_t *issue, const json_t *events,
                         attn_error *err)
{
    const json_t *ev;
    size_t i;
    int rc;

    if ((rc = norm_issue_core(ctx, issue, events, err)))
        return rc;
    json_array_foreach(events, i, ev) {
        if ((rc = attn_normalize_issue_event(ctx, ev, err)))
            return rc;
    }
    return 0;
}

/* ---- issue events ------------------------------------------------------------ */

typedef struct {
    attn_norm_ctx *ctx;
    const json_t *ev;
    const char *name;
    int64_t id, number, issue_id, pr_id, actor_id, at;
    char what[96];
} ev_in;

static void ev_base(ev_in *in, norm_event *e, const char *subject_type, const char *type)
{
    norm_event_init(e);
    e->occurred_at = in->at;
    e->actor_id = in->actor_id;
    e->subject_type = subject_type;
    e->subject_id = !strcmp(subject_type, "issue") ? in->issue_id : in->pr_id;
    e->event_type = type;
    e->commit_sha = attn_json_str(in->ev, "commit_id");
    snprintf(e->key, sizeof(e->key), "issue_event:%lld", (long long)in->id);
}

static int ev_skip(ev_in *in)
{
    in->ctx->stats.skipped++;
    return 0;
}

/* Label, assignee and milestone events need the issue row to hang on. */
#define NEED_ISSUE(in) do { if ((in)->issue_id == ATTN_NULL_I64) return ev_skip(in); } while (0)

static int ev_label(ev_in *in, int add, attn_error *err)
{
    const json_t *label = json_object_get(in->ev, "label");
    const char *name = attn_json_str(label, "name");
    int64_t id = attn_json_i64(label, "id", ATTN_NULL_I64);
    norm_event e;
    int rc;

    NEED_ISSUE(in);
    /* A label with an id may be gone from the repo's label list: keep its row
     * so the interval has something to point at. */
    if (id != ATTN_NULL_I64 && name && (rc = attn_normalize_label(in->ctx, label, err)))
        return rc;
    if (id == ATTN_NULL_I64 && name && (rc = norm_map_label_id(in->ctx, name, &id, err)))
        return rc;
    if (id == ATTN_NULL_I64)
        return ev_skip(in);          /* a deleted label: nothing to point at */
    ev_base(in, &e, "issue", add ? "issue.label.add" : "issue.label.remove");
    e.object_type = "label";
    e.object_id = id;
    e.payload = json_pack("{s:s?}", "name", name);
    return norm_emit(in->ctx, &e, err);
}

static int ev_assignee(ev_in *in, int add, attn_error *err)
{
    int64_t uid;
    norm_event e;
    int rc;

    NEED_ISSUE(in);
    if ((rc = norm_user_at(in->ctx, in->ev, "assignee", &uid, err)))
        return rc;
    if (uid == ATTN_NULL_I64)
        return ev_skip(in);
    ev_base(in, &e, "issue", add ? "issue.assignee.add" : "issue.assignee.remove");
    e.object_type = "user";
    e.object_id = uid;
    return norm_emit(in->ctx, &e, err);
}

static int ev_milestone(ev_in *in, int set, attn_error *err)
{
    const json_t *ms = json_object_get(in->ev, "milestone");
    const char *title = attn_json_str(ms, "title");
    int64_t id = attn_json_i64(ms, "id", ATTN_NULL_I64);
    norm_event e;
    int rc;

    NEED_ISSUE(in);
    if (id != ATTN_NULL_I64 && (rc = attn_normalize_milestone(in->ctx, ms, err)))
        return rc;
    if (id == ATTN_NULL_I64 && title && (rc = norm_map_milestone_id(in->ctx, title, &id, err)))
        return rc;
    if (id == ATTN_NULL_I64)
        return ev_skip(in);
    ev_base(in, &e, "issue", set ? "issue.milestone.set" : "issue.milestone.clear");
    e.object_type = "milestone";
    e.object_id = id;
    e.payload = json_pack("{s:s?}", "title", title);
    return norm_emit(in->ctx, &e, err);
}

static int ev_review_request(ev_in *in, int add, attn_error *err)
{
    const json_t *user = json_object_get(in->ev, "requested_reviewer");
    const json_t *team = json_object_get(in->ev, "requested_team");
    const char *type, *name;
    int64_t oid;
    norm_event e;
    int rc;

    if ((rc = norm_user_at(in->ctx, in->ev, "review_requester", NULL, err)))
        return rc;
    if (json_is_object(user)) {
        if ((rc = attn_normalize_user(in->ctx, user, &oid, err)))
            return rc;
        type = "user";
        name = attn_json_str(user, "login");
    } else if (json_is_object(team)) {
        if ((rc = attn_normalize_team(in->ctx, team, err)))
            return rc;
        oid = attn_json_i64(team, "id", ATTN_NULL_I64);
        type = "team";
        name = attn_json_str(team, "slug");
    } else {
        return ev_skip(in);          /* reviewer deleted */
    }
    ev_base(in, &e, "pull_request",
            add ? "pull_request.review_request.add" : "pull_request.review_request.remove");
    e.object_type = type;
    e.object_id = oid;
    e.payload = json_pack("{s:s?}", "name", name);
    return norm_emit(in->ctx, &e, err);
}

static int ev_merged(ev_in *in, attn_error *err)
{
    norm_event e;
    ev_base(in, &e, "pull_request", "pull_request.merged");
    /* The same key as the PR payload's merge: one fact, whoever reports it. */
    snprintf(e.key, sizeof(e.key), "pr:%lld:merged", (long long)in->pr_id);
    return norm_emit(in->ctx, &e, err);
}

static int ev_dismissed(ev_in *in, attn_error *err)
{
    const json_t *d = json_object_get(in->ev, "dismissed_review");
    int64_t rid = attn_json_i64(d, "review_id", ATTN_NULL_I64);
    norm_event e;

    if (rid == ATTN_NULL_I64)
        return ev_skip(in);
    ev_base(in, &e, "review", "review.dismissed");
    e.subject_id = rid;
    e.object_type = "pull_request";
    e.object_id = in->pr_id;
    e.payload = json_pack("{s:s, s:s?}", "state", "DISMISSED", "dismissal_message",
                          attn_json_str(d, "dismissal_message"));
    return norm_emit(in->ctx, &e, err);
}

int attn_normalize_issue_event(attn_norm_ctx *ctx, const json_t *ev, attn_error *err)
{
    ev_in in;
    const json_t *issue;
    norm_event e;
    int is_pr, is_draft, rc;

    memset(&in, 0, sizeof(in));
    in.ctx = ctx;
    in.ev = ev;
    if (!json_is_object(ev))
        return attn_error_set(err, ATTN_EINVAL, "issue event is not an object");
    if ((rc = norm_req_i64(ev, "id", "issue event", &in.id, err)))
        return rc;
    snprintf(in.what, sizeof(in.what), "issue event %lld", (long long)in.id);
    if (!(in.name = attn_json_str(ev, "event")))
        return attn_error_set(err, ATTN_EINVAL, "%s has no 'event' name", in.what);
    if ((rc = norm_time(ev, "created_at", in.what, 1, &in.at, err)))
        return rc;
    issue = json_object_get(ev, "issue");
    in.number = attn_json_i64(issue, "number", ATTN_NULL_I64);
    if (in.number == ATTN_NULL_I64)
        in.number = attn_norm_url_number(attn_json_str(ev, "issue_url"));
    if (in.number < 0)
        return attn_error_set(err, ATTN_EINVAL, "%s names no issue number", in.what);
    if ((rc = attn_norm_lookup_number(ctx, in.number, &in.issue_id, &in.pr_id, err)))
        return rc;
    is_pr = in.pr_id != ATTN_NULL_I64;
    /* An issue this store has never seen is skipped and counted: taking the
     * id embedded in the event would leave interval rows pointing at a
     * missing issue (its list page lost as a gap), and the interval rebuild
     * of the whole repository would then fail (found by fuzz_normalize). The
     * event is normalized again once the issue arrives. */
    if (in.issue_id == ATTN_NULL_I64 && !is_pr)
        return ev_skip(&in);
    if ((rc = norm_user_at(ctx, ev, "actor", &in.actor_id, err)))
        return attn_error_wrap(err, "%s", in.what);
    ctx->stats.issue_events++;
    snprintf(ctx->heal_key, sizeof(ctx->heal_key), "issue_event:%lld", (long long)in.id);
    ctx->heal_key_seen = 0;

    rc = 0;
    if (!strcmp(in.name, "labeled") || !strcmp(in.name, "unlabeled"))
        rc = ev_label(&in, in.name[0] == 'l', err);
    else if (!strcmp(in.name, "assigned") || !strcmp(in.name, "unassigned"))
        rc = ev_assignee(&in, in.name[0] == 'a', err);
    else if (!strcmp(in.name, "milestoned") || !strcmp(in.name, "demilestoned"))
        rc = ev_milestone(&in, in.name[0] == 'm', err);
    else if (!strcmp(in.name, "closed") || !strcmp(in.name, "reopened")) {
        if (in.issue_id == ATTN_NULL_I64)
            return ev_skip(&in);
        ev_base(&in, &e, "issue", in.name[0] == 'c' ? "issue.closed" : "issue.reopened");
        rc = norm_emit(ctx, &e, err);
    } else if (!strcmp(in.name, "renamed")) {
        const json_t *r = json_object_get(ev, "rename");
        if (in.issue_id == ATTN_NULL_I64 || !attn_json_str(r, "to"))
            return ev_skip(&in);
        ev_base(&in, &e, "issue", "issue.content.edit");
        e.payload = json_pack("{s:s, s:s?}", "title", attn_json_str(r, "to"), "from",
                              attn_json_str(r, "from"));
        rc = norm_emit(ctx, &e, err);
    } else if (!is_pr) {
        /* Everything below concerns PRs; on a plain issue keep it as a raw fact. */
        char type[96];
        snprintf(type, sizeof(type), "issue.event.%s", in.name);
        ev_base(&in, &e, "issue", type);
        rc = norm_emit(ctx, &e, err);
    } else if (!strcmp(in.name, "review_requested") ||
               !strcmp(in.name, "review_request_removed"))
        rc = ev_review_request(&in, !strcmp(in.name, "review_requested"), err);
    else if (norm_is_draft_event(in.name, &is_draft)) {
        ev_base(&in, &e, "pull_request", "pull_request.draft.set");
        e.commit_sha = NULL;
        e.payload = json_pack("{s:b, s:b}", "is_draft", is_draft, "observed", 0);
        rc = norm_emit(ctx, &e, err);
    } else if (!strcmp(in.name, "head_ref_force_pushed")) {
        const char *sha = attn_json_str(ev, "commit_id");
        ev_base(&in, &e, "pull_request", "pull_request.head.set");
        e.payload = sha ? json_pack("{s:s?, s:b}", "head_ref",
                                    norm_map_head_ref(ctx, in.number), "observed", 0)
                        : json_pack("{s:s?, s:b, s:b}", "head_ref",
                                    norm_map_head_ref(ctx, in.number), "observed", 0,
                                    "sha_unknown", 1);
        rc = norm_emit(ctx, &e, err);
    } else if (!strcmp(in.name, "base_ref_changed")) {
        /* The REST event does not say the new base; attn_normalize_pull emits
         * this event first with the ref it can infer. Alone, the ref is unknown. */
        ev_base(&in, &e, "pull_request", "pull_request.base.set");
        e.commit_sha = NULL;
        e.payload = json_pack("{s:s?, s:b}", "base_ref", attn_json_str(ev, "to"),
                              "sha_unknown", 1);
        rc = norm_emit(ctx, &e, err);
    } else if (!strcmp(in.name, "merged"))
        rc = ev_merged(&in, err);
    else if (!strcmp(in.name, "review_dismissed"))
        rc = ev_dismissed(&in, err);
    else {
        char type[96];
        snprintf(type, sizeof(type), "pull_request.event.%s", in.name);
        ev_base(&in, &e, "pull_request", type);
        rc = norm_emit(ctx, &e, err);
    }
    if (rc)
        return attn_error_wrap(err, "%s (%s)", in.what, in.name);
    if (ctx->heal && !ctx->heal_key_seen) {
        /* No event under its own key now that the PR is known (a merge is the
         * PR's "pr:N:merged"): what was stored for it while the PR was
         * missing goes. */
        int64_t dropped = 0;
        if ((rc = attn_store_drop_event_key(ctx->store, ctx->heal_key, &dropped, err)))
            return attn_error_wrap(err, "%s", in.what);
        ctx->stats.events_corrected += dropped;
    }
    return 0;
}
