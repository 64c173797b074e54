/*
 * asof.c - PR snapshot as of a cutoff, from events and intervals (see asof.h).
 *
 * Nothing here may read rows after the cutoff: every interval query carries
 * the active predicate below, every event query `occurred_at <= t`, and the
 * only entity columns read are immutable (ids, number, author, created_at) or
 * names that render ids. File rows carry no time; they are trusted only for
 * the head sha active at t, and flagged otherwise.
 */
#include "history/asof.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

/*
 * The one definition of "active at t" (?2 = t): start-inclusive,
 * end-exclusive, so at the exact instant of a change the new value is seen
 * and the old one is not.
 */
#define ACTIVE(p) " " p "start_at <= ?2 AND (" p "end_at IS NULL OR ?2 < " p "end_at) "

static const char *SQL_PR =
    "SELECT p.id, p.issue_id, p.created_at, u.login, r.full_name, p.user_id"
    " FROM pull_requests p JOIN repos r ON r.id = p.repo_id"
    " LEFT JOIN users u ON u.id = p.user_id"
    " WHERE p.repo_id = ?1 AND p.number = ?2";
static const char *SQL_STATE =
    "SELECT state FROM issue_state_intervals WHERE issue_id = ?1 AND" ACTIVE("")
    "ORDER BY start_at DESC, id DESC LIMIT 1";
static const char *SQL_MERGED =
    "SELECT 1 FROM events WHERE subject_type = 'pull_request' AND subject_id = ?1"
    " AND event_type = 'pull_request.merged' AND occurred_at <= ?2 LIMIT 1";
static const char *SQL_CONTENT =
    "SELECT title, body FROM issue_content_intervals WHERE issue_id = ?1 AND" ACTIVE("")
    "ORDER BY start_at DESC, id DESC LIMIT 1";
/* Where the body in force came from: the latest content event <= t that set it. */
static const char *SQL_CONTENT_EVENTS =
    "SELECT payload_json FROM events WHERE subject_type = 'issue' AND subject_id = ?1"
    " AND event_type IN ('issue.content.set', 'issue.content.edit') AND occurred_at <= ?2"
    " ORDER BY occurred_at DESC, id DESC";
static const char *SQL_DRAFT =
    "SELECT i.is_draft, e.payload_json FROM pull_request_draft_intervals i"
    " JOIN events e ON e.id = i.start_event_id"
    " WHERE i.pull_request_id = ?1 AND" ACTIVE("i.")
    " ORDER BY i.start_at DESC, i.id DESC LIMIT 1";
static const char *SQL_HEAD =
    "SELECT i.head_sha, i.head_ref, e.payload_json FROM pull_request_head_intervals i"
    " JOIN events e ON e.id = i.start_event_id"
    " WHERE i.pull_request_id = ?1 AND" ACTIVE("i.")
    " ORDER BY i.start_at DESC, i.id DESC LIMIT 1";
static const char *SQL_BASE =
    "SELECT i.base_sha, i.base_ref, e.payload_json FROM pull_request_base_intervals i"
    " JOIN events e ON e.id = i.start_event_id"
    " WHERE i.pull_request_id = ?1 AND" ACTIVE("i.")
    " ORDER BY i.start_at DESC, i.id DESC LIMIT 1";
static const char *SQL_LABELS =
    "SELECT DISTINCT l.name FROM issue_label_intervals i JOIN labels l ON l.id = i.label_id"
    " WHERE i.issue_id = ?1 AND" ACTIVE("i.")
    " ORDER BY l.name";
static const char *SQL_ASSIGNEES =
    "SELECT DISTINCT u.login FROM issue_assignee_intervals i JOIN users u ON u.id = i.user_id"
    " WHERE i.issue_id = ?1 AND" ACTIVE("i.")
    " ORDER BY u.login";
static const char *SQL_MILESTONE =
    "SELECT m.title FROM issue_milestone_intervals i JOIN milestones m ON m.id = i.milestone_id"
    " WHERE i.issue_id = ?1 AND" ACTIVE("i.")
    " ORDER BY i.start_at DESC, i.id DESC LIMIT 1";
static const char *SQL_REQUESTS =
    "SELECT i.reviewer_type, COALESCE(u.login, t.slug) AS name"
    " FROM pull_request_review_request_intervals i"
    " LEFT JOIN users u ON i.reviewer_type = 'user' AND u.id = i.reviewer_id"
    " LEFT JOIN teams t ON i.reviewer_type = 'team' AND t.id = i.reviewer_id"
    " WHERE i.pull_request_id = ?1 AND" ACTIVE("i.")
    " ORDER BY i.reviewer_type, name";
static const char *SQL_FILES =
    "SELECT path, status, additions, deletions, changes FROM pull_request_files"
    " WHERE repo_id = (SELECT repo_id FROM pull_requests WHERE id = ?1)" /* the index leads with it */
    " AND pull_request_id = ?1 AND head_sha = ?2 ORDER BY path";
/* File rows carry no time: when none match the active head, the lists that
 * exist were fetched at another (later) head. Chosen without reading any
 * interval, so rows after the cutoff cannot change the pick. */
static const char *SQL_OTHER_HEAD =
    "SELECT head_sha FROM pull_request_files"
    " WHERE repo_id = (SELECT repo_id FROM pull_requests WHERE id = ?1) AND pull_request_id = ?1"
    " GROUP BY head_sha ORDER BY head_sha LIMIT 1";

#define ASOF_MAX_STMTS 16

/* Statements are prepared once per reader and reset after each use. */
struct attn_asof_reader {
    attn_store *s;
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[ASOF_MAX_STMTS];
    int n;
    int later_files;   /* attn_asof_reader_allow_later_files */
};

typedef struct {
    attn_asof_reader *rdr;
    sqlite3 *db;
    attn_error *err;
} rd;

int attn_asof_reader_open(attn_store *s, attn_asof_reader **out, attn_error *err)
{
    *out = attn_xcalloc(1, sizeof(**out));
    (*out)->s = s;
    (*out)->db = attn_store_db(s);
    return 0;
}

void attn_asof_reader_allow_later_files(attn_asof_reader *r, int allow)
{
    r->later_files = allow;
}

void attn_asof_reader_free(attn_asof_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++)
        sqlite3_finalize(r->cache[i].st);
    free(r);
}

/* The cached statement for sql (by identity: every query is a static string
 * above), reset, with ?1 = a and ?2 = t bound. */
static int prep(rd *r, const char *sql, int64_t a, int64_t t, sqlite3_stmt **st)
{
    attn_asof_reader *c = r->rdr;
    int i;
    for (i = 0; i < c->n && c->cache[i].sql != sql; i++)
        ;
    if (i == c->n) {
        if (c->n == ASOF_MAX_STMTS)
            return attn_error_set(r->err, ATTN_ECORRUPT, "snapshot: statement cache full");
        if (sqlite3_prepare_v2(r->db, sql, -1, &c->cache[i].st, NULL) != SQLITE_OK)
            return attn_error_set(r->err, ATTN_EDB, "snapshot query: %s",
                                  sqlite3_errmsg(r->db));
        c->cache[i].sql = sql;
        c->n++;
    }
    *st = c->cache[i].st;
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    sqlite3_bind_int64(*st, 1, a);
    sqlite3_bind_int64(*st, 2, t);
    return 0;
}

/* Done with a cached statement: release its read snapshot, keep it prepared. */
static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
}

static int step(rd *r, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    attn_error_set(r->err, ATTN_EDB, "snapshot query: %s", sqlite3_errmsg(r->db));
    return -1;
}

static json_t *col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? json_string((const char *)v) : json_null();
}

/* The payload of an event row says "observed": true. */
static int payload_flag(sqlite3_stmt *st, int col, const char *key)
{
    const unsigned char *txt = sqlite3_column_text(st, col);
    json_t *p;
    int v;
    if (!txt)
        return 0;
    p = json_loads((const char *)txt, 0, NULL);
    v = json_is_true(json_object_get(p, key));
    json_decref(p);
    return v;
}

static int add_leak(json_t *leaks, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(leaks, i, v)
        if (!strcmp(json_string_value(v), name))
            return 0;
    return json_array_append_new(leaks, json_string(name));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static json_t *sorted_strings(json_t *arr)
{
    size_t n = json_array_size(arr), i;
    json_t **v = n ? attn_xmalloc(n * sizeof(*v)) : NULL, *out = json_array();
    for (i = 0; i < n && v; i++)
        v[i] = json_array_get(arr, i);
    if (v)
        qsort(v, n, sizeof(*v), cmp_str);
    for (i = 0; i < n && v; i++)
        json_array_append(out, v[i]);
    free(v);
    json_decref(arr);
    return out;
}

/* A list of strings from a one-column query. */
static int string_list(rd *r, const char *sql, int64_t a, int64_t t, json_t *out)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = prep(r, sql, a, t, &st)))
        return rc;
    while ((rc = step(r, st)) == SQLITE_ROW)
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            json_array_append_new(out, col_str(st, 0));
    done(st);
    return rc < 0 ? ATTN_EDB : 0;
}

int attn_asof_reader_pr_created_at(attn_asof_reader *reader, int64_t repo_id,
                                   int64_t pr_number, int64_t *created_at, attn_error *err)
{
    rd r = {reader, reader->db, err};
    sqlite3_stmt *st;
    int rc;
    if ((rc = prep(&r, SQL_PR, repo_id, pr_number, &st)))
        return rc;
    rc = step(&r, st);
    if (rc == SQLITE_ROW)
        *created_at = sqlite3_column_int64(st, 2);
    done(st);
    if (rc < 0)
        return ATTN_EDB;
    if (rc != SQLITE_ROW)
        return attn_error_set(err, ATTN_ENOTFOUND, "no pull request #%lld in this repository",
                              (long long)pr_number);
    return 0;
}

static int read_state(rd *r, int64_t issue_id, int64_t pr_id, int64_t t, json_t *snap)
{
    sqlite3_stmt *st;
    const char *state = NULL;
    char buf[16];
    int rc, merged = 0;

    if (issue_id != ATTN_NULL_I64) {
        if ((rc = prep(r, SQL_STATE, issue_id, t, &st)))
            return rc;
        if ((rc = step(r, st)) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(st, 0));
            state = buf;
        }
        done(st);
        if (rc < 0)
            return ATTN_EDB;
    }
    if ((rc = prep(r, SQL_MERGED, pr_id, t, &st)))
        return rc;
    merged = (rc = step(r, st)) == SQLITE_ROW;
    done(st);
    if (rc < 0)
        return ATTN_EDB;
    if (merged)
        state = "merged";
    json_object_set_new(snap, "state", state ? json_string(state) : json_null());
    return 0;
}

static int read_content(rd *r, int64_t issue_id, int64_t t, json_t *snap, json_t *leaks)
{
    sqlite3_stmt *st;
    int rc, found = 0;

    json_object_set_new(snap, "title", json_null());
    json_object_set_new(snap, "body", json_null());
    if (issue_id == ATTN_NULL_I64)
        return add_leak(leaks, ATTN_LEAK_CONTENT_MISSING);
    if ((rc = prep(r, SQL_CONTENT, issue_id, t, &st)))
        return rc;
    if ((rc = step(r, st)) == SQLITE_ROW) {
        found = 1;
        json_object_set_new(snap, "title", col_str(st, 0));
        json_object_set_new(snap, "body", col_str(st, 1));
    }
    done(st);
    if (rc < 0)
        return ATTN_EDB;
    if (!found)
        return add_leak(leaks, ATTN_LEAK_CONTENT_MISSING);
    /* The body may have been carried forward through title-only edits: its
     * provenance is the latest event <= t whose payload names a body. */
    if ((rc = prep(r, SQL_CONTENT_EVENTS, issue_id, t, &st)))
        return rc;
    while ((rc = step(r, st)) == SQLITE_ROW) {
        const unsigned char *txt = sqlite3_column_text(st, 0);
        json_t *p = txt ? json_loads((const char *)txt, 0, NULL) : NULL;
        int has_body = json_object_get(p, "body") != NULL;
        int observed = json_is_true(json_object_get(p, "observed"));
        json_decref(p);
        if (has_body) {
            if (observed)
                add_leak(leaks, ATTN_LEAK_BODY_OBSERVED);
            break;
        }
    }
    done(st);
    return rc < 0 ? ATTN_EDB : 0;
}

static int read_draft(rd *r, int64_t pr_id, int64_t t, json_t *snap, json_t *leaks)
{
    sqlite3_stmt *st;
    int rc;
    json_object_set_new(snap, "draft", json_null());
    if ((rc = prep(r, SQL_DRAFT, pr_id, t, &st)))
        return rc;
    if ((rc = step(r, st)) == SQLITE_ROW) {
        json_object_set_new(snap, "draft", json_boolean(sqlite3_column_int(st, 0)));
        if (payload_flag(st, 1, "observed"))
            add_leak(leaks, ATTN_LEAK_DRAFT_OBSERVED);
    }
    done(st);
    return rc < 0 ? ATTN_EDB : 0;
}

/* Head or base: sha, ref and their provenance. *sha_out gets a copy of the sha. */
static int read_ref(rd *r, const char *sql, const char *sha_key, const char *ref_key,
                    const char *leak_observed, const char *leak_unknown, int64_t pr_id,
                    int64_t t, json_t *snap, json_t *leaks, char **sha_out, int *observed)
{
    sqlite3_stmt *st;
    int rc;
    json_object_set_new(snap, sha_key, json_null());
    json_object_set_new(snap, ref_key, json_null());
    if (sha_out)
        *sha_out = NULL;
    *observed = 0;
    if ((rc = prep(r, sql, pr_id, t, &st)))
        return rc;
    if ((rc = step(r, st)) == SQLITE_ROW) {
        const unsigned char *sha = sqlite3_column_text(st, 0);
        json_object_set_new(snap, sha_key, col_str(st, 0));
        json_object_set_new(snap, ref_key, col_str(st, 1));
        if (!sha)
            add_leak(leaks, leak_unknown);
        else if (payload_flag(st, 2, "observed")) {
            add_leak(leaks, leak_observed);
            *observed = 1;
        }
        if (sha && sha_out)
            *sha_out = strdup((const char *)sha);
    } else if (rc == SQLITE_DONE) {
        add_leak(leaks, leak_unknown);
    }
    done(st);
    return rc < 0 ? ATTN_EDB : 0;
}

static int read_files_at(rd *r, int64_t pr_id, const char *head, json_t *files)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = prep(r, SQL_FILES, pr_id, 0, &st)))
        return rc;
    sqlite3_bind_text(st, 2, head, -1, SQLITE_TRANSIENT);
    while ((rc = step(r, st)) == SQLITE_ROW) {
        json_t *f = json_object();
        json_object_set_new(f, "path", col_str(st, 0));
        json_object_set_new(f, "status", col_str(st, 1));
        json_object_set_new(f, "additions", json_integer(sqlite3_column_int64(st, 2)));
        json_object_set_new(f, "deletions", json_integer(sqlite3_column_int64(st, 3)));
        json_object_set_new(f, "changes", json_integer(sqlite3_column_int64(st, 4)));
        json_array_append_new(files, f);
    }
    done(st);
    return rc < 0 ? ATTN_EDB : 0;
}

static int read_files(rd *r, int64_t pr_id, const char *head, int head_observed, json_t *snap,
                      json_t *leaks)
{
    json_t *files = json_array();
    sqlite3_stmt *st;
    char *other = NULL;
    int rc = 0;

    json_object_set_new(snap, "changed_files", files);
    if (head && (rc = read_files_at(r, pr_id, head, files)))
        return rc;
    if (json_array_size(files)) {
        if (head_observed)
            add_leak(leaks, ATTN_LEAK_FILES_OBSERVED);
        return 0;
    }
    /* No list for the head at the cutoff. Stored lists of later heads were
     * fetched after the cutoff: handing one to a router would leak, and even
     * whether one exists is a later fact, so by default the list is empty
     * and flagged the same way in every case. */
    if (!r->rdr->later_files) {
        add_leak(leaks, ATTN_LEAK_FILES_UNKNOWN);
        return 0;
    }
    if ((rc = prep(r, SQL_OTHER_HEAD, pr_id, 0, &st)))
        return rc;
    if ((rc = step(r, st)) == SQLITE_ROW && sqlite3_column_text(st, 0))
        other = attn_xstrdup((const char *)sqlite3_column_text(st, 0));
    done(st);
    if (rc < 0) {
        free(other);
        return ATTN_EDB;
    }
    if (!other)
        return 0;                      /* no file list at all */
    rc = read_files_at(r, pr_id, other, files);
    free(other);
    if (!rc)
        add_leak(leaks, ATTN_LEAK_FILES_LATER);
    return rc;
}

static int read_requests(rd *r, int64_t pr_id, int64_t t, json_t *snap)
{
    json_t *arr = json_array();
    sqlite3_stmt *st;
    int rc;
    json_object_set_new(snap, "review_requests", arr);
    if ((rc = prep(r, SQL_REQUESTS, pr_id, t, &st)))
        return rc;
    while ((rc = step(r, st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            continue;                  /* reviewer row missing: nothing to name */
        json_array_append_new(arr, json_pack("{s:o, s:o}", "type", col_str(st, 0), "name",
                                             col_str(st, 1)));
    }
    done(st);
    return rc < 0 ? ATTN_EDB : 0;
}

int attn_asof_reader_pr_snapshot(attn_asof_reader *reader, int64_t repo_id, int64_t pr_number,
                                 int64_t as_of, json_t **out, attn_error *err)
{
    rd r = {reader, reader->db, err};
    sqlite3_stmt *st;
    json_t *snap = NULL, *leaks = NULL, *list;
    int64_t pr_id, issue_id, created;
    char tbuf[ATTN_TIME_BUFSZ], cbuf[ATTN_TIME_BUFSZ], *head = NULL, *base = NULL;
    int rc, head_observed = 0, base_observed = 0;

    *out = NULL;
    if ((rc = prep(&r, SQL_PR, repo_id, pr_number, &st)))
        return rc;
    if ((rc = step(&r, st)) != SQLITE_ROW) {
        done(st);
        return rc < 0 ? ATTN_EDB
                      : attn_error_set(err, ATTN_ENOTFOUND,
                                       "no pull request #%lld in this repository",
                                       (long long)pr_number);
    }
    pr_id = sqlite3_column_int64(st, 0);
    issue_id = sqlite3_column_type(st, 1) == SQLITE_NULL ? ATTN_NULL_I64
                                                         : sqlite3_column_int64(st, 1);
    created = sqlite3_column_int64(st, 2);
    if (created > as_of) {
        done(st);
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "pull request #%lld did not exist yet at %s (created %s)",
                              (long long)pr_number, attn_time_format(as_of, tbuf),
                              attn_time_format(created, cbuf));
    }
    snap = json_object();
    leaks = json_array();
    json_object_set_new(snap, "repo", col_str(st, 4));
    json_object_set_new(snap, "author", col_str(st, 3));
    json_object_set_new(snap, "author_id", sqlite3_column_type(st, 5) == SQLITE_NULL
                                               ? json_null()
                                               : json_integer(sqlite3_column_int64(st, 5)));
    done(st);
    json_object_set_new(snap, "number", json_integer(pr_number));
    json_object_set_new(snap, "pull_request_id", json_integer(pr_id));
    json_object_set_new(snap, "issue_id",
                        issue_id == ATTN_NULL_I64 ? json_null() : json_integer(issue_id));
    json_object_set_new(snap, "created_at", json_string(attn_time_format(created, cbuf)));
    json_object_set_new(snap, "as_of", json_string(attn_time_format(as_of, tbuf)));

    if ((rc = read_state(&r, issue_id, pr_id, as_of, snap)) ||
        (rc = read_content(&r, issue_id, as_of, snap, leaks)) ||
        (rc = read_draft(&r, pr_id, as_of, snap, leaks)) ||
        (rc = read_ref(&r, SQL_HEAD, "head_sha", "head_ref", ATTN_LEAK_HEAD_OBSERVED,
                       ATTN_LEAK_HEAD_UNKNOWN, pr_id, as_of, snap, leaks, &head,
                       &head_observed)) ||
        (rc = read_ref(&r, SQL_BASE, "base_sha", "base_ref", ATTN_LEAK_BASE_OBSERVED,
                       ATTN_LEAK_BASE_UNKNOWN, pr_id, as_of, snap, leaks, &base,
                       &base_observed)) ||
        (rc = read_files(&r, pr_id, head, head_observed, snap, leaks)) ||
        (rc = read_requests(&r, pr_id, as_of, snap)))
        goto fail;

    list = json_array();
    if (issue_id != ATTN_NULL_I64 && (rc = string_list(&r, SQL_LABELS, issue_id, as_of, list))) {
        json_decref(list);
        goto fail;
    }
    json_object_set_new(snap, "labels", list);
    list = json_array();
    if (issue_id != ATTN_NULL_I64 &&
        (rc = string_list(&r, SQL_ASSIGNEES, issue_id, as_of, list))) {
        json_decref(list);
        goto fail;
    }
    json_object_set_new(snap, "assignees", list);
    list = json_array();
    if (issue_id != ATTN_NULL_I64 &&
        (rc = string_list(&r, SQL_MILESTONE, issue_id, as_of, list))) {
        json_decref(list);
        goto fail;
    }
    json_object_set_new(snap, "milestone",
                        json_array_size(list) ? json_incref(json_array_get(list, 0))
                                              : json_null());
    json_decref(list);
    json_object_set_new(snap, "leak_risk", sorted_strings(leaks));
    leaks = NULL;
    free(head);
    free(base);
    *out = snap;
    return 0;

fail:
    free(head);
    free(base);
    json_decref(leaks);
    json_decref(snap);
    return rc;
}

int attn_asof_pr_created_at(attn_store *s, int64_t repo_id, int64_t pr_number,
                            int64_t *created_at, attn_error *err)
{
    attn_asof_reader *r;
    int rc = attn_asof_reader_open(s, &r, err);
    if (!rc)
        rc = attn_asof_reader_pr_created_at(r, repo_id, pr_number, created_at, err);
    attn_asof_reader_free(r);
    return rc;
}

int attn_asof_pr_snapshot(attn_store *s, int64_t repo_id, int64_t pr_number, int64_t as_of,
                          json_t **out, attn_error *err)
{
    attn_asof_reader *r;
    int rc = attn_asof_reader_open(s, &r, err);
    *out = NULL;
    if (!rc)
        rc = attn_asof_reader_pr_snapshot(r, repo_id, pr_number, as_of, out, err);
    attn_asof_reader_free(r);
    return rc;
}
