/*
 * schema.c - the history store's schema as numbered migrations (SPEC §3).
 *
 * Owns the SQL that creates and upgrades history.sqlite. Migrations are
 * append-only: a released migration is never edited, a change is a new entry
 * at the end of the array, and the contract check (contract.c) names every
 * table, column and index that must exist afterwards. Nothing here may touch
 * rows beyond what a migration needs to keep existing data valid.
 *
 * Conventions: instants are INTEGER epoch seconds (never text); booleans are
 * INTEGER 0/1 (NULL = unknown); GitHub ids are the INTEGER PRIMARY KEY (a
 * rowid alias, so lookups by id are a single b-tree search). Interval tables
 * copy their events' occurred_at into start_at/end_at so that "active at t"
 * is `start_at <= t AND (end_at IS NULL OR t < end_at)` without a join.
 */
#include "store/store_internal.h"

/* Migration 1: the base contract (seed 001 §5 plus SPEC §3 additions). */
static const char SQL_V1[] =
    "CREATE TABLE repos ("
    " id INTEGER PRIMARY KEY, owner_id INTEGER, owner_login TEXT NOT NULL, name TEXT NOT NULL,"
    " full_name TEXT NOT NULL UNIQUE, is_private INTEGER, description TEXT, default_branch TEXT,"
    " created_at INTEGER, updated_at INTEGER, pushed_at INTEGER, archived INTEGER, disabled INTEGER);"

    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY, login TEXT,"
    " type TEXT CHECK (type IS NULL OR type IN ('User','Bot','Organization')),"
    " site_admin INTEGER, avatar_url TEXT);"

    "CREATE TABLE teams (id INTEGER PRIMARY KEY, slug TEXT, name TEXT);"

    "CREATE TABLE team_members ("
    " team_id INTEGER NOT NULL REFERENCES teams(id), user_id INTEGER NOT NULL REFERENCES users(id),"
    " source TEXT NOT NULL, observed_at INTEGER, PRIMARY KEY (team_id, user_id, source));"
    "CREATE INDEX ix_team_members_user ON team_members(user_id);"

    "CREATE TABLE labels ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id), name TEXT NOT NULL,"
    " color TEXT, description TEXT, is_default INTEGER);"

    "CREATE TABLE milestones ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id), number INTEGER,"
    " title TEXT, state TEXT, description TEXT, due_on INTEGER, closed_at INTEGER,"
    " created_at INTEGER, updated_at INTEGER);"

    "CREATE TABLE issues ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id), number INTEGER NOT NULL,"
    " user_id INTEGER REFERENCES users(id), title TEXT, body TEXT, state TEXT,"
    " created_at INTEGER, updated_at INTEGER, closed_at INTEGER,"
    " is_pull_request INTEGER NOT NULL DEFAULT 0, locked INTEGER,"
    " CONSTRAINT uq_issue_number UNIQUE (repo_id, number));"

    "CREATE TABLE pull_requests ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id), number INTEGER NOT NULL,"
    " issue_id INTEGER REFERENCES issues(id), user_id INTEGER REFERENCES users(id),"
    " title TEXT, body TEXT, state TEXT, draft INTEGER, merged INTEGER, merge_commit_sha TEXT,"
    " head_sha TEXT, head_ref TEXT, base_sha TEXT, base_ref TEXT,"
    " created_at INTEGER, updated_at INTEGER, closed_at INTEGER, merged_at INTEGER,"
    " CONSTRAINT uq_pr_number UNIQUE (repo_id, number));"
    "CREATE INDEX ix_pull_requests_issue ON pull_requests(issue_id);"

    "CREATE TABLE pull_request_files ("
    " repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " pull_request_id INTEGER NOT NULL REFERENCES pull_requests(id),"
    " head_sha TEXT NOT NULL, path TEXT NOT NULL, status TEXT,"
    " additions INTEGER, deletions INTEGER, changes INTEGER,"
    " PRIMARY KEY (repo_id, pull_request_id, head_sha, path));"
    "CREATE INDEX ix_pr_files_repo_pr_head ON pull_request_files(repo_id, pull_request_id, head_sha);"
    "CREATE INDEX ix_pr_files_repo_path ON pull_request_files(repo_id, path);"

    "CREATE TABLE reviews ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " pull_request_id INTEGER NOT NULL REFERENCES pull_requests(id),"
    " user_id INTEGER REFERENCES users(id), state TEXT, body TEXT, submitted_at INTEGER,"
    " commit_id TEXT);"
    "CREATE INDEX ix_reviews_pr_submitted ON reviews(pull_request_id, submitted_at);"

    "CREATE TABLE comments ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " issue_id INTEGER REFERENCES issues(id), pull_request_id INTEGER REFERENCES pull_requests(id),"
    " review_id INTEGER REFERENCES reviews(id), user_id INTEGER REFERENCES users(id),"
    " body TEXT, created_at INTEGER, updated_at INTEGER, path TEXT, position INTEGER,"
    " commit_id TEXT, in_reply_to_id INTEGER,"
    " comment_type TEXT CHECK (comment_type IS NULL OR comment_type IN ('issue','review')));"
    "CREATE INDEX ix_comments_pr_created ON comments(pull_request_id, created_at);"
    "CREATE INDEX ix_comments_issue_created ON comments(issue_id, created_at);"

    /* The event log: append-only, one row per source fact (event_key). */
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " occurred_at INTEGER NOT NULL, actor_id INTEGER REFERENCES users(id),"
    " subject_type TEXT NOT NULL, subject_id INTEGER NOT NULL, event_type TEXT NOT NULL,"
    " object_type TEXT, object_id INTEGER, commit_sha TEXT, payload_json TEXT,"
    " event_key TEXT NOT NULL);"
    "CREATE UNIQUE INDEX ux_events_event_key ON events(event_key);"
    "CREATE INDEX ix_events_subject ON events(subject_type, subject_id, occurred_at);"
    "CREATE INDEX ix_events_repo_time ON events(repo_id, occurred_at, id);"

    "CREATE TABLE commits ("
    " repo_id INTEGER NOT NULL REFERENCES repos(id), sha TEXT NOT NULL,"
    " author_id INTEGER REFERENCES users(id), committer_id INTEGER REFERENCES users(id),"
    " author_name TEXT, author_email TEXT, committer_name TEXT, committer_email TEXT,"
    " message TEXT, authored_at INTEGER, committed_at INTEGER, PRIMARY KEY (repo_id, sha));"

    "CREATE TABLE refs ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " ref_type TEXT NOT NULL CHECK (ref_type IN ('branch','tag')), name TEXT NOT NULL,"
    " sha TEXT, is_protected INTEGER, CONSTRAINT uq_ref UNIQUE (repo_id, ref_type, name));"

    "CREATE TABLE releases ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " tag_name TEXT, name TEXT, draft INTEGER, prerelease INTEGER,"
    " created_at INTEGER, published_at INTEGER, author_id INTEGER REFERENCES users(id),"
    " body TEXT, target_commitish TEXT);"

    /* Operational tables (SPEC §4): watermarks carry the conditional-request
     * validators and the resume cursor; gaps can be tied to one PR and resolved. */
    "CREATE TABLE watermarks ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " resource TEXT NOT NULL, updated_at INTEGER, etag TEXT, last_modified TEXT, cursor TEXT,"
    " CONSTRAINT uq_watermark UNIQUE (repo_id, resource));"

    "CREATE TABLE ingestion_gaps ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " resource TEXT NOT NULL, url TEXT, page INTEGER, expected_page INTEGER, detail TEXT,"
    " detected_at INTEGER, pull_request_number INTEGER, resolved_at INTEGER);"
    "CREATE INDEX ix_ingestion_gaps_repo ON ingestion_gaps(repo_id, resource);"

    "CREATE TABLE ingestion_checkpoints ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " flow TEXT NOT NULL, stage TEXT NOT NULL, completed_at INTEGER, details_json TEXT,"
    " CONSTRAINT uq_ingest_checkpoint UNIQUE (repo_id, flow, stage));"

    "CREATE TABLE qa_reports ("
    " id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repos(id),"
    " created_at INTEGER, summary_json TEXT);"

    /* Raw archive: every API object as fetched, zstd-compressed (SPEC §4). */
    "CREATE TABLE object_snapshots ("
    " id INTEGER PRIMARY KEY, resource TEXT NOT NULL, source_id TEXT NOT NULL, etag TEXT,"
    " fetched_at INTEGER, codec TEXT NOT NULL DEFAULT 'zstd', raw_size INTEGER,"
    " payload BLOB NOT NULL, CONSTRAINT uq_object_snapshot UNIQUE (resource, source_id));"

    /* Interval tables: derived from events by rebuild (intervals.c). */
    "CREATE TABLE issue_state_intervals ("
    " id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL REFERENCES issues(id),"
    " state TEXT NOT NULL CHECK (state IN ('open','closed')),"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_issue_state_intervals_owner ON issue_state_intervals(issue_id, start_at);"

    "CREATE TABLE issue_content_intervals ("
    " id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL REFERENCES issues(id),"
    " title TEXT, body TEXT,"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_issue_content_intervals_owner ON issue_content_intervals(issue_id, start_at);"

    "CREATE TABLE issue_label_intervals ("
    " id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL REFERENCES issues(id),"
    " label_id INTEGER NOT NULL REFERENCES labels(id),"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_issue_label_intervals_owner ON issue_label_intervals(issue_id, start_at);"

    "CREATE TABLE issue_assignee_intervals ("
    " id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL REFERENCES issues(id),"
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_issue_assignee_intervals_owner ON issue_assignee_intervals(issue_id, start_at);"

    "CREATE TABLE issue_milestone_intervals ("
    " id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL REFERENCES issues(id),"
    " milestone_id INTEGER NOT NULL REFERENCES milestones(id),"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_issue_milestone_intervals_owner ON issue_milestone_intervals(issue_id, start_at);"

    "CREATE TABLE pull_request_draft_intervals ("
    " id INTEGER PRIMARY KEY, pull_request_id INTEGER NOT NULL REFERENCES pull_requests(id),"
    " is_draft INTEGER NOT NULL CHECK (is_draft IN (0,1)),"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_pull_request_draft_intervals_owner ON pull_request_draft_intervals(pull_request_id, start_at);"

    "CREATE TABLE pull_request_head_intervals ("
    " id INTEGER PRIMARY KEY, pull_request_id INTEGER NOT NULL REFERENCES pull_requests(id),"
    " head_sha TEXT, head_ref TEXT,"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_pull_request_head_intervals_owner ON pull_request_head_intervals(pull_request_id, start_at);"

    "CREATE TABLE pull_request_base_intervals ("
    " id INTEGER PRIMARY KEY, pull_request_id INTEGER NOT NULL REFERENCES pull_requests(id),"
    " base_sha TEXT, base_ref TEXT,"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_pull_request_base_intervals_owner ON pull_request_base_intervals(pull_request_id, start_at);"

    /* reviewer_id names a user or a team depending on reviewer_type, so it has no FK. */
    "CREATE TABLE pull_request_review_request_intervals ("
    " id INTEGER PRIMARY KEY, pull_request_id INTEGER NOT NULL REFERENCES pull_requests(id),"
    " reviewer_type TEXT NOT NULL CHECK (reviewer_type IN ('user','team')),"
    " reviewer_id INTEGER NOT NULL,"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_pull_request_review_request_intervals_owner"
    " ON pull_request_review_request_intervals(pull_request_id, start_at);"

    "CREATE TABLE comment_content_intervals ("
    " id INTEGER PRIMARY KEY, comment_id INTEGER NOT NULL REFERENCES comments(id), body TEXT,"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_comment_content_intervals_owner ON comment_content_intervals(comment_id, start_at);"

    "CREATE TABLE review_content_intervals ("
    " id INTEGER PRIMARY KEY, review_id INTEGER NOT NULL REFERENCES reviews(id),"
    " body TEXT, state TEXT,"
    " start_event_id INTEGER NOT NULL REFERENCES events(id), end_event_id INTEGER REFERENCES events(id),"
    " start_at INTEGER NOT NULL, end_at INTEGER);"
    "CREATE INDEX ix_review_content_intervals_owner ON review_content_intervals(review_id, start_at);";

/* Migration 2: record the 3,000-file cap of /pulls/N/files and renames
 * (status "renamed" carries previous_filename) - both needed so a file list
 * is never silently read as complete or as an add+delete pair. */
static const char SQL_V2[] =
    "ALTER TABLE pull_requests ADD COLUMN files_truncated INTEGER NOT NULL DEFAULT 0"
    " CHECK (files_truncated IN (0,1));"
    "ALTER TABLE pull_request_files ADD COLUMN previous_path TEXT;";

const attn_store_migration attn_store_migrations[] = {
    {1, "base schema (contract attn.contract.v1)", SQL_V1},
    {2, "pull_requests.files_truncated, pull_request_files.previous_path", SQL_V2},
};
const int attn_store_n_migrations =
    (int)(sizeof(attn_store_migrations) / sizeof(attn_store_migrations[0]));

int attn_store_schema_version(void)
{
    return attn_store_migrations[attn_store_n_migrations - 1].version;
}
