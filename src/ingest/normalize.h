/*
 * normalize.h - GitHub REST v3 objects into entity rows and events (SPEC §4).
 *
 * Owns: the mapping from one API object (PR, issue, issue event, review,
 * comment, file list, user, team, label, milestone, repo) to store upserts and
 * events, and the event keys. Every embedded user is upserted before the row
 * that points at it (foreign keys are on); a null user (ghost / deleted
 * account) becomes a NULL id.
 *
 * Must never: read the clock (event times come from the objects), invent a
 * value the API did not give without marking it "observed": true, or build an
 * event key from anything but the source's own identity. Event keys:
 *   pr:<pr id>:opened | :draft.initial | :head.initial | :base.initial | :merged
 *   issue:<issue id>:opened | :content.set | :closed:<closed_at epoch>  (synthesized)
 *   issue_event:<event id>                     (one fact per GitHub issue event,
 *                                               except "merged": pr:<id>:merged)
 *   review:<id>:submitted
 *   comment:<id>:created | comment:<id>:edited:<updated_at epoch>
 *   review_comment:<id>:created | review_comment:<id>:edited:<updated_at epoch>
 * Re-ingesting produces the same keys (so no duplicates); two facts never
 * share one.
 *
 * The initial-state problem (what a PR looked like at created_at) is solved
 * by normalizing a PR together with its issue events: attn_normalize_pull takes
 * the PR object, its issue object and the list of its issue events, and derives
 * the title (the `from` of the earliest rename), draft flag (earliest draft
 * event), head (unknown after a force push) and base from them. Values the API
 * cannot prove as of creation carry "observed": true. Callers that only have a
 * PR without events (a webhook) pass events = NULL and get the conservative
 * answer: everything observed.
 *
 * Closed state: an issue's issue.closed / issue.reopened events come from the
 * issue events (keyed by event id); a close is synthesized from closed_at only
 * when the events given contain no "closed" event for the issue.
 */
#ifndef ATTN_INGEST_NORMALIZE_H
#define ATTN_INGEST_NORMALIZE_H

#include <stdint.h>
#include <jansson.h>
#include "store/store.h"
#include "util/error.h"

typedef struct {
    int64_t users, teams, labels, milestones;
    int64_t prs, issues, reviews, comments, files;
    int64_t issue_events;                      /* issue event objects normalized */
    int64_t events_inserted, events_duplicate;
    int64_t events_corrected;                  /* healing: rows fixed or dropped */
    int64_t skipped;                           /* objects ignored (e.g. pending reviews,
                                                  events naming an unknown PR or label) */
} attn_norm_stats;

typedef struct attn_norm_map attn_norm_map;   /* number -> ids, names -> ids */

typedef struct {
    attn_store *store;
    int64_t repo_id;
    int64_t observed_at;   /* when the objects were fetched (team membership); may be NULL */
    attn_norm_stats stats;
    attn_norm_map *map;    /* private lookup caches, owned by the ctx */
    int heal;              /* 1: correct stored events that differ from the source
                              (after an ingestion gap; store.h attn_store_correct_event) */
    char heal_key[64];     /* healing: the issue event being normalized, and */
    int heal_key_seen;     /* whether an event was emitted under its own key */
    int first_load;        /* 1: the store held no event when this load began (the
                              bulk path: events indexes are built after it) */
} attn_norm_ctx;

int attn_norm_ctx_init(attn_norm_ctx *ctx, attn_store *store, int64_t repo_id,
                       attn_error *err);
void attn_norm_ctx_free(attn_norm_ctx *ctx);

/* Ids of issue / PR number n (from objects already normalized, else the store).
 * Missing ids are ATTN_NULL_I64; returns 0 either way unless the store fails. */
int attn_norm_lookup_number(attn_norm_ctx *ctx, int64_t number, int64_t *issue_id,
                            int64_t *pull_request_id, attn_error *err);

/* Entities. attn_normalize_user writes the id (ATTN_NULL_I64 for a null user)
 * to *id_out (may be NULL). */
int attn_normalize_repo(attn_norm_ctx *ctx, const json_t *repo, attn_error *err);
int attn_normalize_user(attn_norm_ctx *ctx, const json_t *user, int64_t *id_out,
                        attn_error *err);
int attn_normalize_team(attn_norm_ctx *ctx, const json_t *team, attn_error *err);
int attn_normalize_label(attn_norm_ctx *ctx, const json_t *label, attn_error *err);
int attn_normalize_milestone(attn_norm_ctx *ctx, const json_t *ms, attn_error *err);

/* An issue (or the issue half of a PR) with its issue events (array or NULL). */
int attn_normalize_issue(attn_norm_ctx *ctx, const json_t *issue, const json_t *events,
                         attn_error *err);
/* A PR and what it must be normalized with. Only pr is required. */
typedef struct {
    const json_t *pr;       /* GET /pulls item */
    const json_t *issue;    /* its issue object (GET /issues item with "pull_request") */
    const json_t *events;   /* its issue events, any order */
    const json_t *reviews;  /* GET /pulls/N/reviews items */
    const json_t *files;    /* GET /pulls/N/files items, at the PR's current head */
} attn_pull_group;

/* Normalizes, in foreign-key order: embedded users/teams/labels, the issue,
 * the PR row, the initial-state events, the issue events, reviews, files. */
int attn_normalize_pull(attn_norm_ctx *ctx, const attn_pull_group *g, attn_error *err);
/* One issue event (its "issue" names the number). The PR and issue must be
 * normalized first; an event for an unknown number is skipped and counted. */
int attn_normalize_issue_event(attn_norm_ctx *ctx, const json_t *ev, attn_error *err);
/* A review of PR number `number`; `events` (may be NULL) are the PR's issue
 * events, used to recover the state of a dismissed review. */
int attn_normalize_review(attn_norm_ctx *ctx, int64_t number, const json_t *review,
                          const json_t *events, attn_error *err);
int attn_normalize_issue_comment(attn_norm_ctx *ctx, const json_t *c, attn_error *err);
int attn_normalize_review_comment(attn_norm_ctx *ctx, const json_t *c, attn_error *err);
/* The file list of PR `number` at its current head (GET /pulls/N/files).
 * The PR's files_truncated flag is set by attn_normalize_pull from the group. */
int attn_normalize_files(attn_norm_ctx *ctx, int64_t number, const json_t *files,
                         attn_error *err);

/* Number at the end of an API URL (".../issues/12" -> 12), or -1. */
int64_t attn_norm_url_number(const char *url);

#endif
