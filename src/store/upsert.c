/*
 * upsert.c - last-write-wins upserts of entity rows (the latest API view).
 *
 * Owns one INSERT ... ON CONFLICT DO UPDATE per entity, prepared once per
 * handle and rebound per call. Entity rows are a cache of the newest state
 * GitHub reported; nothing here may be used to answer "as of t" questions
 * (that is what events and intervals are for), and nothing here may write
 * events or intervals.
 */
#include "store/store_internal.h"

#include <stdio.h>

static const char SQL_UPSERT_REPO[] =
    "INSERT INTO repos (id, owner_id, owner_login, name, full_name, is_private, description,"
    " default_branch, created_at, updated_at, pushed_at, archived, disabled)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
    " ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, owner_login ="
    " excluded.owner_login, name = excluded.name, full_name = excluded.full_name, is_private"
    " = excluded.is_private, description = excluded.description, default_branch ="
    " excluded.default_branch, created_at = excluded.created_at, updated_at ="
    " excluded.updated_at, pushed_at = excluded.pushed_at, archived = excluded.archived,"
    " disabled = excluded.disabled";

static const char SQL_UPSERT_USER[] =
    "INSERT INTO users (id, login, type, site_admin, avatar_url)"
    " VALUES (?1,?2,?3,?4,?5)"
    " ON CONFLICT (id) DO UPDATE SET login = excluded.login, type = excluded.type, site_admin"
    " = excluded.site_admin, avatar_url = excluded.avatar_url";

static const char SQL_UPSERT_TEAM[] =
    "INSERT INTO teams (id, slug, name)"
    " VALUES (?1,?2,?3)"
    " ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name";

static const char SQL_UPSERT_TEAM_MEMBER[] =
    "INSERT INTO team_members (team_id, user_id, source, observed_at)"
    " VALUES (?1,?2,?3,?4)"
    " ON CONFLICT (team_id, user_id, source) DO UPDATE SET observed_at = excluded.observed_at";

static const char SQL_UPSERT_LABEL[] =
    "INSERT INTO labels (id, repo_id, name, color, description, is_default)"
    " VALUES (?1,?2,?3,?4,?5,?6)"
    " ON CONFLICT (id) DO UPDATE SET repo_id = excluded.repo_id, name = excluded.name, color ="
    " excluded.color, description = excluded.description, is_default = excluded.is_default";

static const char SQL_UPSERT_MILESTONE[] =
    "INSERT INTO milestones (id, repo_id, number, title, state, description, due_on,"
    " closed_at, created_at, updated_at)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
    " ON CONFLICT (id) DO UPDATE SET repo_id = excluded.repo_id, number = excluded.number,"
    " title = excluded.title, state = excluded.state, description = excluded.description,"
    " due_on = excluded.due_on, closed_at = excluded.closed_at, created_at ="
    " excluded.created_at, updated_at = excluded.updated_at";

static const char SQL_UPSERT_ISSUE[] =
    "INSERT INTO issues (id, repo_id, number, user_id, title, body, state, created_at,"
    " updated_at, closed_at, is_pull_request, locked)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"
    " ON CONFLICT (id) DO UPDATE SET repo_id = excluded.repo_id, number = excluded.number,"
    " user_id = excluded.user_id, title = excluded.title, body = excluded.body, state ="
    " excluded.state, created_at = excluded.created_at, updated_at = excluded.updated_at,"
    " closed_at = excluded.closed_at, is_pull_request = excluded.is_pull_request, locked ="
    " excluded.locked";

static const char SQL_UPSERT_PULL_REQUEST[] =
    "INSERT INTO pull_requests (id, repo_id, number, issue_id, user_id, title, body, state,"
    " draft, merged, merge_commit_sha, head_sha, head_ref, base_sha, base_ref, created_at,"
    " updated_at, closed_at, merged_at, files_truncated)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)"
    " ON CONFLICT (id) DO UPDATE SET repo_id = excluded.repo_id, number = excluded.number,"
    " issue_id = excluded.issue_id, user_id = excluded.user_id, title = excluded.title, body"
    " = excluded.body, state = excluded.state, draft = excluded.draft, merged ="
    " excluded.merged, merge_commit_sha = excluded.merge_commit_sha, head_sha ="
    " excluded.head_sha, head_ref = excluded.head_ref, base_sha = excluded.base_sha, base_ref"
    " = excluded.base_ref, created_at = excluded.created_at, updated_at ="
    " excluded.updated_at, closed_at = excluded.closed_at, merged_at = excluded.merged_at,"
    " files_truncated = excluded.files_truncated";

static const char SQL_UPSERT_PR_FILE[] =
    "INSERT INTO pull_request_files (repo_id, pull_request_id, head_sha, path, status,"
    " previous_path, additions, deletions, changes)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"
    " ON CONFLICT (repo_id, pull_request_id, head_sha, path) DO UPDATE SET status ="
    " excluded.status, previous_path = excluded.previous_path, additions ="
    " excluded.additions, deletions = excluded.deletions, changes = excluded.changes";

static const char SQL_UPSERT_REVIEW[] =
    "INSERT INTO reviews (id, repo_id, pull_request_id, user_id, state, body, commit_id,"
    " submitted_at)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"
    " ON CONFLICT (id) DO UPDATE SET repo_id = excluded.repo_id, pull_request_id ="
    " excluded.pull_request_id, user_id = excluded.user_id, state = excluded.state, body ="
    " excluded.body, commit_id = excluded.commit_id, submitted_at = excluded.submitted_at";

static const char SQL_UPSERT_COMMENT[] =
    "INSERT INTO comments (id, repo_id, issue_id, pull_request_id, review_id, user_id, body,"
    " created_at, updated_at, path, position, commit_id, in_reply_to_id, comment_type)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
    " ON CONFLICT (id) DO UPDATE SET repo_id = excluded.repo_id, issue_id = excluded.issue_id,"
    " pull_request_id = excluded.pull_request_id, review_id = excluded.review_id, user_id ="
    " excluded.user_id, body = excluded.body, created_at = excluded.created_at, updated_at ="
    " excluded.updated_at, path = excluded.path, position = excluded.position, commit_id ="
    " excluded.commit_id, in_reply_to_id = excluded.in_reply_to_id, comment_type ="
    " excluded.comment_type";

static const char SQL_UPSERT_COMMIT[] =
    "INSERT INTO commits (repo_id, sha, author_id, committer_id, author_name, author_email,"
    " committer_name, committer_email, message, authored_at, committed_at)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
    " ON CONFLICT (repo_id, sha) DO UPDATE SET author_id = excluded.author_id, committer_id ="
    " excluded.committer_id, author_name = excluded.author_name, author_email ="
    " excluded.author_email, committer_name = excluded.committer_name, committer_email ="
    " excluded.committer_email, message = excluded.message, authored_at ="
    " excluded.authored_at, committed_at = excluded.committed_at";

static const char SQL_UPSERT_REF[] =
    "INSERT INTO refs (repo_id, ref_type, name, sha, is_protected)"
    " VALUES (?1,?2,?3,?4,?5)"
    " ON CONFLICT (repo_id, ref_type, name) DO UPDATE SET sha = excluded.sha, is_protected ="
    " excluded.is_protected";

static const char SQL_UPSERT_RELEASE[] =
    "INSERT INTO releases (id, repo_id, tag_name, name, draft, prerelease, created_at,"
    " published_at, author_id, body, target_commitish)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
    " ON CONFLICT (id) DO UPDATE SET repo_id = excluded.repo_id, tag_name = excluded.tag_name,"
    " name = excluded.name, draft = excluded.draft, prerelease = excluded.prerelease,"
    " created_at = excluded.created_at, published_at = excluded.published_at, author_id ="
    " excluded.author_id, body = excluded.body, target_commitish = excluded.target_commitish";

#define I64 attn_store_bind_i64
#define TRI attn_store_bind_tri
#define TXT attn_store_bind_text

/* Step a bound upsert; on failure the message names the entity and its key. */
static int finish(attn_store *s, sqlite3_stmt *st, const char *what, attn_error *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        char buf[600];
        snprintf(buf, sizeof(buf), "storing %.500s", what);
        rc = attn_store_db_error(s, err, buf);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return 0;
}

static int finish_id(attn_store *s, sqlite3_stmt *st, const char *kind, int64_t id,
                     attn_error *err)
{
    char what[96];
    snprintf(what, sizeof(what), "%s %lld", kind, (long long)id);
    return finish(s, st, what, err);
}

int attn_store_upsert_repo(attn_store *s, const attn_repo_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_REPO, SQL_UPSERT_REPO, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->owner_id); TXT(st, 3, r->owner_login); TXT(st, 4, r->name);
    TXT(st, 5, r->full_name); TRI(st, 6, r->is_private); TXT(st, 7, r->description);
    TXT(st, 8, r->default_branch); I64(st, 9, r->created_at); I64(st, 10, r->updated_at);
    I64(st, 11, r->pushed_at); TRI(st, 12, r->archived); TRI(st, 13, r->disabled);
    return finish_id(s, st, "repo", r->id, err);
}

int attn_store_upsert_user(attn_store *s, const attn_user_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_USER, SQL_UPSERT_USER, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); TXT(st, 2, r->login); TXT(st, 3, r->type); TRI(st, 4, r->site_admin);
    TXT(st, 5, r->avatar_url);
    return finish_id(s, st, "user", r->id, err);
}

int attn_store_upsert_team(attn_store *s, const attn_team_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_TEAM, SQL_UPSERT_TEAM, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); TXT(st, 2, r->slug); TXT(st, 3, r->name);
    return finish_id(s, st, "team", r->id, err);
}

int attn_store_upsert_team_member(attn_store *s, const attn_team_member_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    char what[128];
    int rc = attn_store_stmt(s, ST_UPSERT_TEAM_MEMBER, SQL_UPSERT_TEAM_MEMBER, &st, err);
    if (rc)
        return rc;
    /* source is part of the key (API and roster memberships coexist); a
     * missing source means the API. */
    I64(st, 1, r->team_id); I64(st, 2, r->user_id); TXT(st, 3, r->source ? r->source : "api");
    I64(st, 4, r->observed_at);
    snprintf(what, sizeof(what), "membership of user %lld in team %lld", (long long)r->user_id,
             (long long)r->team_id);
    return finish(s, st, what, err);
}

int attn_store_upsert_label(attn_store *s, const attn_label_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_LABEL, SQL_UPSERT_LABEL, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->repo_id); TXT(st, 3, r->name); TXT(st, 4, r->color);
    TXT(st, 5, r->description); TRI(st, 6, r->is_default);
    return finish_id(s, st, "label", r->id, err);
}

int attn_store_upsert_milestone(attn_store *s, const attn_milestone_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_MILESTONE, SQL_UPSERT_MILESTONE, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->repo_id); I64(st, 3, r->number); TXT(st, 4, r->title);
    TXT(st, 5, r->state); TXT(st, 6, r->description); I64(st, 7, r->due_on);
    I64(st, 8, r->closed_at); I64(st, 9, r->created_at); I64(st, 10, r->updated_at);
    return finish_id(s, st, "milestone", r->id, err);
}

int attn_store_upsert_issue(attn_store *s, const attn_issue_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_ISSUE, SQL_UPSERT_ISSUE, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->repo_id); I64(st, 3, r->number); I64(st, 4, r->user_id);
    TXT(st, 5, r->title); TXT(st, 6, r->body); TXT(st, 7, r->state); I64(st, 8, r->created_at);
    I64(st, 9, r->updated_at); I64(st, 10, r->closed_at);
    sqlite3_bind_int(st, 11, r->is_pull_request > 0);   /* NOT NULL, default false */
    TRI(st, 12, r->locked);
    return finish_id(s, st, "issue", r->id, err);
}

int attn_store_upsert_pull_request(attn_store *s, const attn_pull_request_row *r,
                                   attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_PULL_REQUEST, SQL_UPSERT_PULL_REQUEST, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->repo_id); I64(st, 3, r->number); I64(st, 4, r->issue_id);
    I64(st, 5, r->user_id); TXT(st, 6, r->title); TXT(st, 7, r->body); TXT(st, 8, r->state);
    TRI(st, 9, r->draft); TRI(st, 10, r->merged); TXT(st, 11, r->merge_commit_sha);
    TXT(st, 12, r->head_sha); TXT(st, 13, r->head_ref); TXT(st, 14, r->base_sha);
    TXT(st, 15, r->base_ref); I64(st, 16, r->created_at); I64(st, 17, r->updated_at);
    I64(st, 18, r->closed_at); I64(st, 19, r->merged_at);
    sqlite3_bind_int(st, 20, r->files_truncated > 0);   /* NOT NULL, default false */
    return finish_id(s, st, "pull request", r->id, err);
}

int attn_store_upsert_pr_file(attn_store *s, const attn_pr_file_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    char what[512];
    int rc = attn_store_stmt(s, ST_UPSERT_PR_FILE, SQL_UPSERT_PR_FILE, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->repo_id); I64(st, 2, r->pull_request_id); TXT(st, 3, r->head_sha);
    TXT(st, 4, r->path); TXT(st, 5, r->status); TXT(st, 6, r->previous_path);
    I64(st, 7, r->additions); I64(st, 8, r->deletions); I64(st, 9, r->changes);
    snprintf(what, sizeof(what), "file '%.200s' of pull request %lld at %.64s",
             r->path ? r->path : "(null)", (long long)r->pull_request_id,
             r->head_sha ? r->head_sha : "(null)");
    return finish(s, st, what, err);
}

int attn_store_upsert_review(attn_store *s, const attn_review_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_REVIEW, SQL_UPSERT_REVIEW, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->repo_id); I64(st, 3, r->pull_request_id);
    I64(st, 4, r->user_id); TXT(st, 5, r->state); TXT(st, 6, r->body); TXT(st, 7, r->commit_id);
    I64(st, 8, r->submitted_at);
    return finish_id(s, st, "review", r->id, err);
}

int attn_store_upsert_comment(attn_store *s, const attn_comment_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_COMMENT, SQL_UPSERT_COMMENT, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->repo_id); I64(st, 3, r->issue_id);
    I64(st, 4, r->pull_request_id); I64(st, 5, r->review_id); I64(st, 6, r->user_id);
    TXT(st, 7, r->body); I64(st, 8, r->created_at); I64(st, 9, r->updated_at);
    TXT(st, 10, r->path); I64(st, 11, r->position); TXT(st, 12, r->commit_id);
    I64(st, 13, r->in_reply_to_id); TXT(st, 14, r->comment_type);
    return finish_id(s, st, "comment", r->id, err);
}

int attn_store_upsert_commit(attn_store *s, const attn_commit_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    char what[128];
    int rc = attn_store_stmt(s, ST_UPSERT_COMMIT, SQL_UPSERT_COMMIT, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->repo_id); TXT(st, 2, r->sha); I64(st, 3, r->author_id);
    I64(st, 4, r->committer_id); TXT(st, 5, r->author_name); TXT(st, 6, r->author_email);
    TXT(st, 7, r->committer_name); TXT(st, 8, r->committer_email); TXT(st, 9, r->message);
    I64(st, 10, r->authored_at); I64(st, 11, r->committed_at);
    snprintf(what, sizeof(what), "commit %.64s", r->sha ? r->sha : "(null)");
    return finish(s, st, what, err);
}

int attn_store_upsert_ref(attn_store *s, const attn_ref_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    char what[256];
    int rc = attn_store_stmt(s, ST_UPSERT_REF, SQL_UPSERT_REF, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->repo_id); TXT(st, 2, r->ref_type); TXT(st, 3, r->name); TXT(st, 4, r->sha);
    TRI(st, 5, r->is_protected);
    snprintf(what, sizeof(what), "%.16s ref '%.200s'", r->ref_type ? r->ref_type : "(null)",
             r->name ? r->name : "(null)");
    return finish(s, st, what, err);
}

int attn_store_upsert_release(attn_store *s, const attn_release_row *r, attn_error *err)
{
    sqlite3_stmt *st;
    int rc = attn_store_stmt(s, ST_UPSERT_RELEASE, SQL_UPSERT_RELEASE, &st, err);
    if (rc)
        return rc;
    I64(st, 1, r->id); I64(st, 2, r->repo_id); TXT(st, 3, r->tag_name); TXT(st, 4, r->name);
    TRI(st, 5, r->draft); TRI(st, 6, r->prerelease); I64(st, 7, r->created_at);
    I64(st, 8, r->published_at); I64(st, 9, r->author_id); TXT(st, 10, r->body);
    TXT(st, 11, r->target_commitish);
    return finish_id(s, st, "release", r->id, err);
}
