/*
 * store.h - the per-repository SQLite history store (SPEC §3).
 *
 * One file per repository (DATA/github/<owner>/<repo>/history.sqlite), WAL,
 * foreign keys on, schema version in PRAGMA user_version with numbered
 * migrations. Entities are upserted (last write wins: they are a cache of the
 * latest API view); the events table is append-only and de-duplicated by
 * event_key; interval tables are derived from events and can always be
 * rebuilt. Readers that answer "as of t" use events and intervals only.
 *
 * Conventions for the C structs below: int64 fields use ATTN_NULL_I64 for
 * SQL NULL (instants are epoch seconds), tri-state booleans use -1 for NULL,
 * and NULL string pointers are SQL NULL. Strings are borrowed for the call.
 */
#ifndef ATTN_STORE_STORE_H
#define ATTN_STORE_STORE_H

#include <stdint.h>
#include <sqlite3.h>
#include "util/error.h"
#include "util/time.h"

#define ATTN_CONTRACT_VERSION "attn.contract.v2"

typedef struct attn_store attn_store;

/* ---- opening and transactions ------------------------------------------ */

/* Open (creating if needed) and migrate to the current schema version.
 * A file that is not a SQLite database, or one from a newer attn, is refused
 * with a message naming the path. */
int attn_store_open(const char *path, attn_store **out, attn_error *err);
/* Open without creating or migrating (readers; fails on a missing file). */
int attn_store_open_readonly(const char *path, attn_store **out, attn_error *err);
void attn_store_close(attn_store *s);
/*
 * Begin a read transaction on each of n connections to one store file, all
 * seeing the same committed state (each must be in autocommit mode). SQLite's
 * snapshot API is not in Debian's build, so the state is held still instead:
 * a write lock taken on a connection of our own (BEGIN IMMEDIATE) keeps other
 * writers from committing while each connection begins and makes its first
 * read; a writer meanwhile waits (busy timeout) and does not fail. When the
 * lock cannot be had (a read-only file or directory, or a writer holding it
 * for over a second), the transactions are begun back to back and *held
 * is 0: a commit could then fall between two of them. ATTN_EDB when a
 * transaction cannot begin.
 */
int attn_store_begin_read_group(attn_store *const *s, size_t n, int *held, attn_error *err);
sqlite3 *attn_store_db(attn_store *s);
/* The file the store was opened from (for messages). */
const char *attn_store_path(const attn_store *s);

/* Current schema version this build writes. */
int attn_store_schema_version(void);

int attn_store_begin(attn_store *s, attn_error *err);
int attn_store_commit(attn_store *s, attn_error *err);
int attn_store_rollback(attn_store *s);

/* ---- entities ------------------------------------------------------------- */

typedef struct {
    int64_t id, owner_id;
    const char *owner_login, *name, *full_name, *description, *default_branch;
    int is_private, archived, disabled;        /* -1 = NULL */
    int64_t created_at, updated_at, pushed_at;
} attn_repo_row;

typedef struct {
    int64_t id;
    const char *login, *type;                  /* type: User | Bot | Organization */
    int site_admin;
    const char *avatar_url;
} attn_user_row;

typedef struct {
    int64_t id;
    const char *slug, *name;
} attn_team_row;

typedef struct {
    int64_t team_id, user_id;
    const char *source;                        /* e.g. "api", "roster" */
    int64_t observed_at;
} attn_team_member_row;

typedef struct {
    int64_t id, repo_id;
    const char *name, *color, *description;
    int is_default;
} attn_label_row;

typedef struct {
    int64_t id, repo_id, number;
    const char *title, *state, *description;
    int64_t due_on, closed_at, created_at, updated_at;
} attn_milestone_row;

typedef struct {
    int64_t id, repo_id, number, user_id;
    const char *title, *body, *state;
    int64_t created_at, updated_at, closed_at;
    int is_pull_request, locked;
} attn_issue_row;

typedef struct {
    int64_t id, repo_id, number, issue_id, user_id;
    const char *title, *body, *state;
    int draft, merged;
    const char *merge_commit_sha, *head_sha, *head_ref, *base_sha, *base_ref;
    int64_t created_at, updated_at, closed_at, merged_at;
    int files_truncated;                       /* 1 when the 3,000-file cap was hit */
} attn_pull_request_row;

typedef struct {
    int64_t repo_id, pull_request_id;
    const char *head_sha, *path, *status, *previous_path;
    int64_t additions, deletions, changes;
} attn_pr_file_row;

typedef struct {
    int64_t id, repo_id, pull_request_id, user_id;
    const char *state, *body, *commit_id;
    int64_t submitted_at;
} attn_review_row;

typedef struct {
    int64_t id, repo_id, issue_id, pull_request_id, review_id, user_id;
    const char *body;
    int64_t created_at, updated_at;
    const char *path;
    int64_t position;
    const char *commit_id;
    int64_t in_reply_to_id;
    const char *comment_type;                  /* issue | review */
} attn_comment_row;

typedef struct {
    int64_t repo_id;
    const char *sha;
    int64_t author_id, committer_id;
    const char *author_name, *author_email, *committer_name, *committer_email, *message;
    int64_t authored_at, committed_at;
} attn_commit_row;

typedef struct {
    int64_t repo_id;
    const char *ref_type, *name, *sha;         /* ref_type: branch | tag */
    int is_protected;
} attn_ref_row;

typedef struct {
    int64_t id, repo_id;
    const char *tag_name, *name;
    int draft, prerelease;
    int64_t created_at, published_at, author_id;
    const char *body, *target_commitish;
} attn_release_row;

int attn_store_upsert_repo(attn_store *s, const attn_repo_row *r, attn_error *err);
int attn_store_upsert_user(attn_store *s, const attn_user_row *r, attn_error *err);
int attn_store_upsert_team(attn_store *s, const attn_team_row *r, attn_error *err);
int attn_store_upsert_team_member(attn_store *s, const attn_team_member_row *r, attn_error *err);
int attn_store_upsert_label(attn_store *s, const attn_label_row *r, attn_error *err);
int attn_store_upsert_milestone(attn_store *s, const attn_milestone_row *r, attn_error *err);
int attn_store_upsert_issue(attn_store *s, const attn_issue_row *r, attn_error *err);
int attn_store_upsert_pull_request(attn_store *s, const attn_pull_request_row *r, attn_error *err);
int attn_store_upsert_pr_file(attn_store *s, const attn_pr_file_row *r, attn_error *err);
int attn_store_upsert_review(attn_store *s, const attn_review_row *r, attn_error *err);
int attn_store_upsert_comment(attn_store *s, const attn_comment_row *r, attn_error *err);
int attn_store_upsert_commit(attn_store *s, const attn_commit_row *r, attn_error *err);
int attn_store_upsert_ref(attn_store *s, const attn_ref_row *r, attn_error *err);
int attn_store_upsert_release(attn_store *s, const attn_release_row *r, attn_error *err);

/* ---- events ----------------------------------------------------------------
 *
 * Event types (subject_type in brackets), the vocabulary interval rebuild
 * understands:
 *   issue.opened, issue.reopened, issue.closed                      [issue]
 *   issue.content.set, issue.content.edit   payload {title?, body?}  [issue]
 *   issue.label.add / issue.label.remove     object label            [issue]
 *   issue.assignee.add / issue.assignee.remove  object user          [issue]
 *   issue.milestone.set / issue.milestone.clear object milestone     [issue]
 *   pull_request.opened, pull_request.closed, pull_request.reopened,
 *   pull_request.merged (actor = merger, commit_sha = merge sha)     [pull_request]
 *   pull_request.draft.set                   payload {is_draft}      [pull_request]
 *   pull_request.head.set                    commit_sha, payload {head_ref}
 *   pull_request.base.set                    commit_sha?, payload {base_ref}
 *   pull_request.review_request.add / .remove  object user|team      [pull_request]
 *   comment.created, comment.edited, comment.deleted  payload {body} [comment]
 *   review.submitted, review.edited, review.dismissed payload {body, state} [review]
 *   anything else is stored and ignored by the rebuild.
 *
 * Payload keys "observed": true mark values the API could only tell as of
 * ingestion (SPEC §4), so snapshots can report them in leak_risk.
 */
typedef struct {
    int64_t repo_id, occurred_at, actor_id;    /* actor_id may be ATTN_NULL_I64 */
    const char *subject_type;
    int64_t subject_id;
    const char *event_type, *object_type;      /* object_type may be NULL */
    int64_t object_id;                         /* ATTN_NULL_I64 when none */
    const char *commit_sha, *payload_json;     /* payload: compact JSON object or NULL */
    const char *event_key;                     /* source identity, unique */
} attn_event_row;

/* Bulk path for a first backfill: when the store holds no event yet, drop
 * the events table's indexes (*bulk = 1), so inserts maintain none: the
 * handle keeps event_key unique with an in-memory table of key hashes
 * (about 32 bytes per event). attn_store_bulk_end builds the indexes once,
 * after the load and before anything reads events by key, subject or time
 * (the interval rebuild). Call both inside the load's transaction, so a
 * failed load rolls the indexes back with it (attn_store_rollback also
 * ends the bulk state). Otherwise *bulk = 0 and nothing changes. */
int attn_store_bulk_begin(attn_store *s, int *bulk, attn_error *err);
int attn_store_bulk_end(attn_store *s, attn_error *err);
/* The connection settings of a load whose memory must not grow with its
 * size (a streamed bundle): no memory map, a 16 MB page cache, sorts in
 * temporary files (which also lets the bulk index build sort on threads).
 * Call outside a transaction. */
void attn_store_load_settings(attn_store *s);
/* Insert unless event_key exists. *inserted (may be NULL) is 1 if a row was added.
 * *event_id (may be NULL) receives the id of the new or existing row. */
int attn_store_insert_event(attn_store *s, const attn_event_row *e, int *inserted,
                            int64_t *event_id, attn_error *err);

/*
 * Healing after an ingestion gap (SPEC §13, issue 18): an event derived while
 * part of its source was missing (a review comment without its review, a PR's
 * issue event stored before the PR was known) is corrected in place from the
 * complete source; *corrected is 1 when the stored row differed. Only
 * normalization of a store that had gaps, or `attn renormalize`, calls this.
 */
int attn_store_correct_event(attn_store *s, const attn_event_row *e, int *corrected,
                             attn_error *err);
/*
 * Drop the events of subject (type, id) and event_type whose payload says
 * "synthesized" (a close taken from closed_at while the events list was
 * missing), once the real events are stored, with the interval rows built on
 * them (the caller rebuilds that subject's intervals). *dropped: rows removed.
 */
int attn_store_drop_synthesized(attn_store *s, const char *subject_type, int64_t subject_id,
                                const char *event_type, int64_t *dropped, attn_error *err);
/* Healing: drop the event with this key (and the intervals built on it), when
 * the complete source no longer derives one. *dropped: 0 or 1. */
int attn_store_drop_event_key(attn_store *s, const char *key, int64_t *dropped,
                              attn_error *err);

/* ---- intervals ------------------------------------------------------------ */

/* Scope of a rebuild: NULL arrays mean "everything in the repo". The sets name
 * issue ids and pull request ids; their comments and reviews are included. */
typedef struct {
    const int64_t *issue_ids;
    size_t n_issue_ids;
    const int64_t *pull_request_ids;
    size_t n_pull_request_ids;
} attn_rebuild_scope;

typedef struct {
    int64_t events_read, intervals_written;
} attn_rebuild_stats;

/* Delete and rebuild interval rows from events ordered by (occurred_at, id).
 * scope NULL = full rebuild. Runs in its own transaction unless one is open. */
int attn_store_rebuild_intervals(attn_store *s, int64_t repo_id, const attn_rebuild_scope *scope,
                                 attn_rebuild_stats *stats, attn_error *err);

/* Is label_id on issue_id at instant t? Uses the contract's boundary rule:
 * active when start_at <= t and (end_at IS NULL or t < end_at), so a
 * zero-length interval (start_at == end_at) is active at no t. */
int attn_store_label_active_at(attn_store *s, int64_t issue_id, int64_t label_id, int64_t t,
                               int *active, attn_error *err);

/* ---- operational ---------------------------------------------------------- */

int attn_store_repo_id(attn_store *s, const char *full_name, int64_t *out, attn_error *err);

/* ---- contract check ------------------------------------------------------- */

typedef struct {
    int ok;                 /* 1 when no invariant failed */
    int n_findings;
    char **findings;        /* one line each, e.g. "FAIL overlap issue_label_intervals ..." */
    int n_tables;           /* required tables checked */
    int64_t n_intervals;    /* interval rows checked */
    int schema_version;     /* the file's user_version */
} attn_contract_report;

/* Check schema (tables, columns, indexes, user_version) and interval
 * invariants. repo_id may be ATTN_NULL_I64 (a store with no repository row
 * yet, e.g. just after `attn init`). Returns 0 when the check ran (see
 * out->ok), negative only when it could not run. Free with
 * attn_contract_report_free. At most 1,000 findings are listed; a last line
 * says how many more there were. */
int attn_store_contract_check(attn_store *s, int64_t repo_id, attn_contract_report *out,
                              attn_error *err);
void attn_contract_report_free(attn_contract_report *r);

/*
 * An ingestion run of repo_id (ATTN_NULL_I64: any) that started and has not
 * completed (its checkpoints are still there: killed, or still running), so
 * the store is partly written (SPEC §13, issue 18). *found is 1 and msg (cap
 * bytes) says which run and how to complete it; 0 otherwise.
 */
int attn_store_unfinished_ingest(attn_store *s, int64_t repo_id, int *found, char *msg,
                                 size_t cap, attn_error *err);

#endif
