/*
 * ingest.c - live ingestion: fetch into the raw archive (phase 1), then
 * normalize what changed (phase 2, ingest_normalize.c); see ingest.h for the
 * design, the request plan and the durability rules.
 *
 * Every database write of phase 1 happens inside a page transaction that
 * also moves the cursor; the only exception is the first repository fetch,
 * which must create the repos row before any watermark can point at it.
 */
#include "ingest/ingest_internal.h"
#include "github/client.h"
#include "ingest/archive.h"
#include "ingest/bundle.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/progress.h"
#include "util/time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- SQL, prepared once per run ------------------------------------------------ */

enum {
    Q_WM_GET, Q_WM_CURSOR, Q_WM_FINISH, Q_CP_GET, Q_CP_SET, Q_CP_CLEAR, Q_GAP, Q_QA,
    Q_PR_UPDATED, Q_GAP_PRS, Q_GAP_RESOLVE_PR, Q_GAP_RESOLVE_LIST, Q_GAPS_OPEN, N_Q
};
static const char *const SQL[N_Q] = {
    [Q_WM_GET] = "SELECT updated_at, etag, last_modified, cursor FROM watermarks"
                 " WHERE repo_id = ?1 AND resource = ?2",
    [Q_WM_CURSOR] = "INSERT INTO watermarks (repo_id, resource, cursor) VALUES (?1, ?2, ?3)"
                    " ON CONFLICT (repo_id, resource) DO UPDATE SET cursor = excluded.cursor",
    /* ?3 NULL keeps the old high-water mark (a walk with a gap must not move it). */
    [Q_WM_FINISH] = "INSERT INTO watermarks (repo_id, resource, updated_at, etag, last_modified,"
                    " cursor) VALUES (?1, ?2, ?3, ?4, ?5, NULL)"
                    " ON CONFLICT (repo_id, resource) DO UPDATE SET"
                    " updated_at = max(coalesce(excluded.updated_at, watermarks.updated_at),"
                    "                  coalesce(watermarks.updated_at, excluded.updated_at)),"
                    " etag = excluded.etag, last_modified = excluded.last_modified, cursor = NULL",
    [Q_CP_GET] = "SELECT completed_at, details_json FROM ingestion_checkpoints"
                 " WHERE repo_id = ?1 AND flow = ?2 AND stage = ?3",
    [Q_CP_SET] = "INSERT INTO ingestion_checkpoints (repo_id, flow, stage, completed_at,"
                 " details_json) VALUES (?1, ?2, ?3, ?4, ?5)"
                 " ON CONFLICT (repo_id, flow, stage) DO UPDATE SET"
                 " completed_at = excluded.completed_at, details_json = excluded.details_json",
    [Q_CP_CLEAR] = "DELETE FROM ingestion_checkpoints WHERE repo_id = ?1 AND flow = ?2",
    [Q_GAP] = "INSERT INTO ingestion_gaps (repo_id, resource, url, page, detail, detected_at,"
              " pull_request_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_QA] = "INSERT INTO qa_reports (repo_id, created_at, summary_json) VALUES (?1, ?2, ?3)",
    [Q_PR_UPDATED] = "SELECT updated_at FROM pull_requests WHERE repo_id = ?1 AND number = ?2",
    /* Healing (ingest.h "Gaps heal"). */
    [Q_GAP_PRS] = "SELECT DISTINCT pull_request_number FROM ingestion_gaps WHERE repo_id = ?1"
                  " AND pull_request_number IS NOT NULL AND resolved_at IS NULL ORDER BY 1",
    [Q_GAP_RESOLVE_PR] = "UPDATE ingestion_gaps SET resolved_at = ?4 WHERE repo_id = ?1"
                         " AND pull_request_number = ?2 AND resource = ?3 AND resolved_at IS NULL",
    [Q_GAP_RESOLVE_LIST] = "UPDATE ingestion_gaps SET resolved_at = ?3 WHERE repo_id = ?1"
                           " AND resource = ?2 AND pull_request_number IS NULL"
                           " AND resolved_at IS NULL",
    [Q_GAPS_OPEN] = "SELECT count(*) FROM ingestion_gaps WHERE repo_id = ?1"
                    " AND (resolved_at IS NULL OR resolved_at >= ?2)",
};

/* Per-stage counters for the QA report. */
enum { R_REPO, R_LABELS, R_MILESTONES, R_PULLS, R_ISSUES, R_ISSUE_COMMENTS, R_REVIEW_COMMENTS,
       R_ISSUE_EVENTS, R_REVIEWS, R_FILES, N_R };
static const char *const R_NAME[N_R] = {"repo", "labels", "milestones", "pulls", "issues",
                                        "issue_comments", "review_comments", "issue_events",
                                        "reviews", "files"};

typedef struct {
    attn_store *s;
    sqlite3 *db;
    sqlite3_stmt *q[N_Q];
    attn_archive *ar;
    attn_gh_client *gh;
    const attn_ingest_options *o;
    attn_ingest_report *rep;
    attn_ingest_flow flow;
    const char *flow_name;
    int64_t repo_id, run_started, first_remaining;
    char base[256];             /* /repos/o/r */
    int64_t counts[N_R];
    int tty_progress;           /* a live line is drawn (the client's countdown too) */
    attn_progress prog;         /* the progress line: live, periodic or off */
    int heal;                   /* the store had open gaps when this run started */
    /* Per-PR stage progress, for the ETA on the progress line. */
    int64_t prs_total, prs_done, prs_done_at_start;
    double prs_started;
} fetcher;

typedef struct {
    const char *resource, *url;
    int64_t page, pr_number;
    char detail[1100];
} gap_info;

static int64_t wall_now(void) { return (int64_t)time(NULL); }

double ingest_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- statement helpers ------------------------------------------------------------ */

/* Bind by a type string: 'i' int64 (ATTN_NULL_I64 = NULL), 't' text (NULL = NULL). */
static sqlite3_stmt *bindv(fetcher *f, int which, const char *types, va_list ap)
{
    sqlite3_stmt *st = f->q[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 'i') {
            int64_t v = va_arg(ap, int64_t);
            if (v == ATTN_NULL_I64)
                sqlite3_bind_null(st, i + 1);
            else
                sqlite3_bind_int64(st, i + 1, v);
        } else {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, i + 1);
        }
    }
    return st;
}

static int exec_q(fetcher *f, attn_error *err, int which, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = bindv(f, which, types, ap);
    va_end(ap);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "%s: %s", attn_store_path(f->s),
                              sqlite3_errmsg(f->db));
    return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

typedef struct {
    int64_t updated_at;
    char *etag, *last_modified, *cursor;
} watermark;

static void wm_free(watermark *w)
{
    free(w->etag);
    free(w->last_modified);
    free(w->cursor);
    memset(w, 0, sizeof(*w));
}

static int wm_get(fetcher *f, const char *resource, watermark *w, attn_error *err)
{
    va_list none;
    memset(w, 0, sizeof(*w));
    w->updated_at = ATTN_NULL_I64;
    sqlite3_stmt *st = f->q[Q_WM_GET];
    (void)none;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, f->repo_id);
    sqlite3_bind_text(st, 2, resource, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            w->updated_at = sqlite3_column_int64(st, 0);
        w->etag = col_dup(st, 1);
        w->last_modified = col_dup(st, 2);
        w->cursor = col_dup(st, 3);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "watermarks: %s", sqlite3_errmsg(f->db));
    return 0;
}

/* Checkpoint row of this flow: *completed (may be NULL) is 1 when done; *details
 * (may be NULL) receives the parsed details_json or NULL. */
static int cp_get(fetcher *f, const char *stage, int *completed, json_t **details,
                  attn_error *err)
{
    sqlite3_stmt *st = f->q[Q_CP_GET];
    if (completed)
        *completed = 0;
    if (details)
        *details = NULL;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, f->repo_id);
    sqlite3_bind_text(st, 2, f->flow_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, stage, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (completed)
            *completed = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (details && sqlite3_column_type(st, 1) != SQLITE_NULL)
            *details = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "ingestion_checkpoints: %s", sqlite3_errmsg(f->db));
    return 0;
}

static int cp_set(fetcher *f, const char *stage, int completed, const json_t *details,
                  attn_error *err)
{
    char *text = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = exec_q(f, err, Q_CP_SET, "ittit", f->repo_id, f->flow_name, stage,
                    completed ? wall_now() : ATTN_NULL_I64, text);
    free(text);
    return rc;
}

static int gap_insert(fetcher *f, const gap_info *g, attn_error *err)
{
    f->rep->gaps++;
    if (!f->o->quiet) {
        attn_progress_break(&f->prog);
        if (g->pr_number != ATTN_NULL_I64)
            fprintf(stderr, "attn: warning: gap in %s of PR #%lld (%s): %s\n", g->resource,
                    (long long)g->pr_number, g->url, g->detail);
        else
            fprintf(stderr, "attn: warning: gap in %s page %lld (%s): %s\n", g->resource,
                    (long long)g->page, g->url, g->detail);
    }
    return exec_q(f, err, Q_GAP, "ittitii", f->repo_id, g->resource, g->url, g->page, g->detail,
                  wall_now(), g->pr_number);
}

/* A list walked to its end without a gap: its earlier gaps are healed. */
static int gaps_resolve_list(fetcher *f, const char *stage, attn_error *err)
{
    int rc = exec_q(f, err, Q_GAP_RESOLVE_LIST, "iti", f->repo_id, stage, wall_now());
    if (!rc)
        f->rep->gaps_resolved += sqlite3_changes(f->db);
    return rc;
}

/* ---- HTTP ------------------------------------------------------------------------- */

static void progress(fetcher *f)
{
    if (f->prog.mode == ATTN_PROGRESS_OFF)
        return;
    const attn_gh_stats *st = attn_gh_client_stats(f->gh);
    char eta[96] = "";
    /* The per-PR stage dominates a backfill; its rate so far gives the ETA. */
    if (f->prs_total > 0) {
        int64_t did = f->prs_done - f->prs_done_at_start;
        double el = ingest_mono_now() - f->prs_started;
        int n = snprintf(eta, sizeof(eta), ", PR %lld/%lld", (long long)f->prs_done,
                         (long long)f->prs_total);
        if (did > 0 && el > 0 && n > 0 && (size_t)n < sizeof(eta))
            snprintf(eta + n, sizeof(eta) - (size_t)n, ", ETA %.0f s",
                     el / (double)did * (double)(f->prs_total - f->prs_done));
    }
    attn_progress_show(&f->prog, 0,
                       "%s: %lld pages, %lld items, %lld requests (%lld 304), rate left %lld%s",
                       f->flow_name, (long long)f->rep->pages, (long long)f->rep->objects,
                       (long long)st->requests, (long long)st->not_modified,
                       (long long)st->rate_remaining, eta);
}

static int gh_get(fetcher *f, const char *url, const char *etag, const char *lm,
                  attn_gh_response *r, attn_error *err)
{
    memset(r, 0, sizeof(*r));
    int rc = attn_gh_get(f->gh, url, etag, lm, r, err);
    if (!rc) {
        f->rep->pages++;
        if (r->rate_remaining >= 0 && f->first_remaining < 0)
            f->first_remaining = r->rate_remaining;
    }
    progress(f);
    return rc;
}

/* Parse a 2xx body as a JSON array (or object when want_array is 0). */
static int parse_body(const attn_gh_response *r, int want_array, json_t **out, char *why,
                      size_t cap)
{
    json_error_t je;
    *out = json_loadb(r->body.ptr ? r->body.ptr : "", r->body.len, 0, &je);
    if (!*out) {
        snprintf(why, cap, "malformed JSON body (line %d column %d: %s)", je.line, je.column,
                 je.text);
        return -1;
    }
    if (want_array ? !json_is_array(*out) : !json_is_object(*out)) {
        snprintf(why, cap, "body is not a JSON %s", want_array ? "array" : "object");
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* page=N of a URL, or -1. */
static int64_t url_page(const char *url)
{
    const char *p = strstr(url, "?page=");
    if (!p)
        p = strstr(url, "&page=");
    return p ? strtoll(p + 6, NULL, 10) : -1;
}

/* url with its page parameter set to page, into out. */
static void url_with_page(const char *url, int64_t page, char *out, size_t cap)
{
    const char *p = strstr(url, "?page=");
    if (!p)
        p = strstr(url, "&page=");
    if (!p) {
        snprintf(out, cap, "%.1900s%cpage=%lld", url, strchr(url, '?') ? '&' : '?', (long long)page);
        return;
    }
    const char *rest = p + 6;
    while (*rest >= '0' && *rest <= '9')
        rest++;
    snprintf(out, cap, "%.*s%lld%s", (int)(p + 6 - url), url, (long long)page, rest);
}

static void http_date(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- archive keys ----------------------------------------------------------------- */

static int64_t item_number(const char *kind, const json_t *v)
{
    if (!strcmp(kind, "issue_event")) {
        int64_t n = attn_json_i64(json_object_get(v, "issue"), "number", ATTN_NULL_I64);
        return n != ATTN_NULL_I64 ? n : attn_norm_url_number(attn_json_str(v, "issue_url"));
    }
    if (!strcmp(kind, "issue_comment"))
        return attn_norm_url_number(attn_json_str(v, "issue_url"));
    if (!strcmp(kind, "review_comment"))
        return attn_norm_url_number(attn_json_str(v, "pull_request_url"));
    return attn_json_i64(v, "number", -1);
}

static void item_source_id(const char *kind, const json_t *v, char *out, size_t cap)
{
    int64_t id = attn_json_i64(v, "id", -1);
    if (!strcmp(kind, "label") || !strcmp(kind, "milestone") || !strcmp(kind, "repo")) {
        snprintf(out, cap, "%lld", (long long)id);
        return;
    }
    int64_t n = item_number(kind, v);
    if (n < 0)
        n = 0;
    if (!strcmp(kind, "pull") || !strcmp(kind, "issue"))
        attn_archive_num_id(out, cap, n);
    else
        attn_archive_num_sub_id(out, cap, n, id);
}

int ingest_item_time(const json_t *v, const char *key, int64_t *t)
{
    attn_error e;
    if (attn_json_time(v, key, t, &e))
        *t = ATTN_NULL_I64;
    return *t != ATTN_NULL_I64;
}

/* ---- list walks ------------------------------------------------------------------- */

enum { STOP_NONE, STOP_OLDER, STOP_WINDOW };

typedef struct {
    const char *stage;      /* checkpoint stage and watermark resource */
    const char *kind;       /* archive resource of the items */
    int counter;            /* R_* */
    char url[1024];         /* first page */
    int cond;               /* 0 none, 1 ETag, 2 If-Modified-Since from the high-water mark */
    int stop;               /* STOP_* */
    int64_t stop_at;        /* STOP_OLDER: items with time < stop_at end the walk */
    const char *time_key;   /* high-water field */
    int collect_prs;        /* pulls: queue changed PRs for per-PR fetches */
} walk;

static void todo_add(json_t *todo, int64_t number)
{
    size_t i;
    json_t *v;
    json_array_foreach(todo, i, v) {
        if (json_integer_value(v) == number)
            return;
    }
    attn_xcheck_rc(json_array_append_new(todo, json_integer(number)));
}

/* A page URL relative to the API base ("/repos/o/r/pulls?page=3"): resume
 * cursors are stored so, and an absolute one (older stores, or a Link to
 * another origin) is rebased, so a rerun with another --api-url asks the
 * current server, never the old one (issue 18 D8). */
static void url_rel(const fetcher *f, const char *url, char *out, size_t cap)
{
    const char *api = f->o->api_url ? f->o->api_url : "https://api.github.com";
    const char *p = strstr(url, "://"), *bp = strstr(api, "://");
    size_t blen;
    if (!p || strchr(url, '/') < p) {
        snprintf(out, cap, "%s", url);
        return;
    }
    p = strchr(p + 3, '/');
    if (!p)
        p = "/";
    /* the API base's own path (enterprise: /api/v3) is the client's prefix */
    bp = bp ? strchr(bp + 3, '/') : NULL;
    blen = bp ? strlen(bp) : 0;
    while (blen && bp[blen - 1] == '/')
        blen--;
    if (blen && !strncmp(p, bp, blen) && (p[blen] == '/' || p[blen] == '?'))
        p += blen;
    snprintf(out, cap, "%s", p);
}

static json_t *cursor_json(const char *next, int64_t page, int64_t hw, const char *etag,
                           const char *lm, int gap, int64_t last)
{
    json_t *c = json_object();
    json_object_set_new(c, "next", json_string(next));
    json_object_set_new(c, "page", json_integer(page));
    json_object_set_new(c, "hw", hw == ATTN_NULL_I64 ? json_null() : json_integer(hw));
    json_object_set_new(c, "etag", json_string(etag ? etag : ""));
    json_object_set_new(c, "lm", json_string(lm ? lm : ""));
    json_object_set_new(c, "gap", json_integer(gap));
    json_object_set_new(c, "last", json_integer(last));
    return c;
}

/* A listed PR whose object changed needs its reviews and files again only
 * when its updated_at moved: a body that differs in something irrelevant
 * (the host in its URLs) must not cost two requests per PR (issue 18 D11). */
static int pr_moved(fetcher *f, const json_t *pr, int64_t updated)
{
    sqlite3_stmt *st = f->q[Q_PR_UPDATED];
    int moved = 1;
    if (updated == ATTN_NULL_I64)
        return 1;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, f->repo_id);
    sqlite3_bind_int64(st, 2, attn_json_i64(pr, "number", -1));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
        moved = sqlite3_column_int64(st, 0) != updated;
    sqlite3_reset(st);
    return moved;
}

/* Where a walk stands: the page to fetch next and what the walk has seen so
 * far, saved as the watermark's cursor between pages (and runs). */
typedef struct {
    char next[2048], etag[256], lm[64];
    int64_t page, hw, last;
    int gap;
} walk_pos;

/* Resume from a saved cursor, else start at the walk's first page. */
static void walk_resume(fetcher *f, const walk *w, const watermark *wm, walk_pos *p)
{
    memset(p, 0, sizeof(*p));
    p->page = 1;
    p->hw = ATTN_NULL_I64;
    p->last = -1;
    snprintf(p->next, sizeof(p->next), "%s", w->url);
    if (wm->cursor) {
        json_t *c = json_loads(wm->cursor, 0, NULL);
        if (c && attn_json_str(c, "next")) {
            url_rel(f, attn_json_str(c, "next"), p->next, sizeof(p->next));
            p->page = attn_json_i64(c, "page", 1);
            p->hw = attn_json_i64(c, "hw", ATTN_NULL_I64);
            p->gap = (int)attn_json_i64(c, "gap", 0);
            p->last = attn_json_i64(c, "last", -1);
            snprintf(p->etag, sizeof(p->etag), "%s",
                     attn_json_str(c, "etag") ? attn_json_str(c, "etag") : "");
            snprintf(p->lm, sizeof(p->lm), "%s",
                     attn_json_str(c, "lm") ? attn_json_str(c, "lm") : "");
        }
        json_decref(c);
    }
}

/* 304 on the first page: unchanged since the last complete walk, so nothing
 * to store; the list is complete. */
static int walk_unchanged(fetcher *f, const walk *w, attn_error *err)
{
    int rc;
    if ((rc = attn_store_begin(f->s, err)))
        return rc;
    if ((rc = exec_q(f, err, Q_WM_CURSOR, "itt", f->repo_id, w->stage, (char *)NULL)) ||
        (rc = gaps_resolve_list(f, w->stage, err)) || (rc = cp_set(f, w->stage, 1, NULL, err)) ||
        (rc = attn_store_commit(f->s, err)))
        attn_store_rollback(f->s);
    return rc;
}

/* Archive one page's items (inside the page's transaction); *stop when the
 * walk has gone past what it needs. */
static int walk_store_items(fetcher *f, const walk *w, const attn_gh_response *r,
                            json_t *items, json_t *todo, walk_pos *p, int *stop,
                            attn_error *err)
{
    size_t i;
    json_t *v;
    int rc = 0;
    json_array_foreach(items, i, v) {
        char sid[96];
        int64_t t = ATTN_NULL_I64;
        int changed = 0;
        ingest_item_time(v, w->time_key, &t);
        if (w->stop == STOP_WINDOW) {
            int64_t c = ATTN_NULL_I64;
            ingest_item_time(v, "created_at", &c);
            if (c != ATTN_NULL_I64 && c >= f->o->end_at)
                continue;
            if (c != ATTN_NULL_I64 && c < f->o->from) {
                *stop = 1;
                break;
            }
        }
        item_source_id(w->kind, v, sid, sizeof(sid));
        if ((rc = attn_archive_put(f->ar, w->kind, sid, r->etag, wall_now(), v, &changed, err)))
            break;
        f->rep->objects++;
        f->counts[w->counter]++;
        if (changed)
            f->rep->objects_changed++;
        if (t != ATTN_NULL_I64 && (p->hw == ATTN_NULL_I64 || t > p->hw))
            p->hw = t;
        if (w->collect_prs) {
            f->rep->prs_listed++;
            if (f->flow == ATTN_INGEST_WINDOW || (changed && pr_moved(f, v, t)))
                todo_add(todo, attn_json_i64(v, "number", -1));
        }
        if (w->stop == STOP_OLDER && t != ATTN_NULL_I64 && w->stop_at != ATTN_NULL_I64 &&
            t < w->stop_at)
            *stop = 1;
    }
    return rc;
}

/* After a page: save the cursor at `follow`, or, when the walk is finished,
 * move the high-water mark and keep the validators (unless a page was lost,
 * in which case the next run must ask again). */
static int walk_save(fetcher *f, const walk *w, const walk_pos *p, const char *follow,
                     int finished, attn_error *err)
{
    char hwlm[64] = "";
    int rc;
    if (!finished) {
        char rel[2048];
        url_rel(f, follow, rel, sizeof(rel));
        json_t *c = cursor_json(rel, p->page + 1, p->hw, p->etag, p->lm, p->gap, p->last);
        char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
        rc = exec_q(f, err, Q_WM_CURSOR, "itt", f->repo_id, w->stage, text);
        free(text);
        json_decref(c);
        return rc;
    }
    if (p->hw != ATTN_NULL_I64)
        http_date(p->hw, hwlm, sizeof(hwlm));
    rc = exec_q(f, err, Q_WM_FINISH, "ititt", f->repo_id, w->stage,
                p->gap ? ATTN_NULL_I64 : p->hw, p->gap || !p->etag[0] ? NULL : p->etag,
                p->gap ? NULL
                       : (w->cond == 2 ? (p->hw != ATTN_NULL_I64 ? hwlm : NULL)
                                       : (p->lm[0] ? p->lm : NULL)));
    if (!rc && !p->gap)
        rc = gaps_resolve_list(f, w->stage, err);
    if (!rc)
        rc = cp_set(f, w->stage, 1, NULL, err);
    return rc;
}

/* One page in one transaction: the gap it left (why), its items, the pr
 * todo list and the cursor or the finished watermark. */
static int walk_commit_page(fetcher *f, const walk *w, const attn_gh_response *r,
                            json_t *items, json_t *todo, walk_pos *p, const char *why,
                            const char *follow, int *finished, attn_error *err)
{
    int stop = 0, rc;
    if ((rc = attn_store_begin(f->s, err)))
        return rc;
    if (why[0]) {
        gap_info g = {w->stage, p->next, p->page, ATTN_NULL_I64, ""};
        snprintf(g.detail, sizeof(g.detail), "%s", why);
        rc = gap_insert(f, &g, err);
    }
    if (!rc)
        rc = walk_store_items(f, w, r, items, todo, p, &stop, err);
    *finished = stop || !follow[0];
    if (!rc && w->collect_prs)
        rc = cp_set(f, "pr_todo", 0, todo, err);
    if (!rc)
        rc = walk_save(f, w, p, follow, *finished, err);
    if (!rc)
        rc = attn_store_commit(f->s, err);
    else
        attn_store_rollback(f->s);
    return rc;
}

/* The conditional headers of a walk's first page (none on later pages or
 * when resuming from a cursor). */
static void walk_validators(const walk *w, const watermark *wm, const walk_pos *p, char *ims,
                            size_t cap, const char **etag, const char **lm)
{
    *etag = *lm = NULL;
    if (p->page == 1 && w->cond == 1 && wm->etag && !wm->cursor)
        *etag = wm->etag, *lm = wm->last_modified;
    if (p->page == 1 && w->cond == 2 && wm->updated_at != ATTN_NULL_I64 && wm->last_modified &&
        !wm->cursor) {
        http_date(wm->updated_at, ims, cap);
        *lm = ims;
    }
}

static int run_walk(fetcher *f, const walk *w, json_t *todo, attn_error *err)
{
    watermark wm;
    walk_pos p;
    int rc, done;

    if ((rc = cp_get(f, w->stage, &done, NULL, err)) || done)
        return rc;
    if ((rc = wm_get(f, w->stage, &wm, err)))
        return rc;
    walk_resume(f, w, &wm, &p);

    for (;;) {
        attn_gh_response r;
        const char *send_etag, *send_lm;
        char ims[64], why[1100] = "", follow[2048] = "";
        json_t *items = NULL;
        int finished = 0;

        walk_validators(w, &wm, &p, ims, sizeof(ims), &send_etag, &send_lm);
        rc = gh_get(f, p.next, send_etag, send_lm, &r, err);
        if (rc) {
            if (attn_gh_error_stops_run(&r, err)) {
                attn_gh_response_free(&r);
                break;
            }
            snprintf(why, sizeof(why), "%s", err->msg);
            attn_error_clear(err);
            rc = 0;
        } else if (r.status == 304) {
            attn_gh_response_free(&r);
            rc = walk_unchanged(f, w, err);
            break;
        } else if (parse_body(&r, 1, &items, why, sizeof(why))) {
            /* why is set */
        } else if (json_array_size(items) == 0 && r.next_url[0]) {
            snprintf(why, sizeof(why), "empty page with next link");
        }
        if (p.page == 1 && !why[0]) {
            snprintf(p.etag, sizeof(p.etag), "%s", r.etag);
            snprintf(p.lm, sizeof(p.lm), "%s", r.last_modified);
            if (r.last_url[0])
                p.last = url_page(r.last_url);
        }

        if (why[0]) {
            /* A page lost for good: note it and go on at the next page when the
             * URL says which that is, else end this list here. */
            p.gap = 1;
            if (r.next_url[0])
                snprintf(follow, sizeof(follow), "%s", r.next_url);
            else if (url_page(p.next) > 0 && url_page(p.next) < p.last)
                url_with_page(p.next, url_page(p.next) + 1, follow, sizeof(follow));
        } else if (r.next_url[0]) {
            snprintf(follow, sizeof(follow), "%s", r.next_url);
        }

        rc = walk_commit_page(f, w, &r, items, todo, &p, why, follow, &finished, err);
        json_decref(items);
        attn_gh_response_free(&r);
        if (rc || finished)
            break;
        url_rel(f, follow, p.next, sizeof(p.next));
        p.page++;
    }
    wm_free(&wm);
    return rc;
}

/* ---- per-PR fetches --------------------------------------------------------------- */

/* All pages of a per-PR list into *out (a new array). A lost page becomes a gap
 * in gaps[] and *out = NULL (partial lists are never stored: a short review
 * list would read as "no review"). Returns nonzero only for fatal errors. */
static int fetch_all(fetcher *f, const char *resource, const char *url, int64_t number,
                     json_t **out, gap_info *gaps, int *n_gaps, attn_error *err)
{
    char next[2048];
    int64_t page = 1;
    *out = json_array();
    snprintf(next, sizeof(next), "%s", url);
    while (next[0]) {
        attn_gh_response r;
        json_t *items = NULL;
        char why[1100] = "";
        int rc = gh_get(f, next, NULL, NULL, &r, err);
        if (rc) {
            if (attn_gh_error_stops_run(&r, err)) {
                attn_gh_response_free(&r);
                json_decref(*out);
                *out = NULL;
                return rc;
            }
            snprintf(why, sizeof(why), "%s", err->msg);
            attn_error_clear(err);
        } else if (!parse_body(&r, 1, &items, why, sizeof(why)) && json_array_size(items) == 0 &&
                   r.next_url[0]) {
            snprintf(why, sizeof(why), "empty page with next link");
        }
        if (why[0]) {
            gap_info *g = &gaps[(*n_gaps)++];
            g->resource = resource;
            g->url = strdup(next);
            g->page = page;
            g->pr_number = number;
            snprintf(g->detail, sizeof(g->detail), "%s", why);
            json_decref(items);
            json_decref(*out);
            *out = NULL;
            attn_gh_response_free(&r);
            return 0;
        }
        json_array_extend(*out, items);
        json_decref(items);
        snprintf(next, sizeof(next), "%s", r.next_url);
        attn_gh_response_free(&r);
        page++;
    }
    return 0;
}

static int put_items(fetcher *f, const char *kind, int counter, const json_t *items,
                     attn_error *err)
{
    size_t i;
    json_t *v;
    int rc = 0, changed;
    json_array_foreach(items, i, v) {
        char sid[96];
        item_source_id(kind, v, sid, sizeof(sid));
        if ((rc = attn_archive_put(f->ar, kind, sid, NULL, wall_now(), v, &changed, err)))
            return rc;
        f->rep->objects++;
        f->counts[counter]++;
        f->rep->objects_changed += changed;
    }
    return 0;
}

static int run_pr_details(fetcher *f, attn_error *err)
{
    json_t *todo = NULL, *state = NULL;
    int done, rc;
    size_t k;

    /* A completed stage still carries its details: free them (a resumed
     * run after a kill between this stage and the next leaked them). */
    if ((rc = cp_get(f, "pr_details", &done, &state, err)) || done) {
        json_decref(state);
        return rc;
    }
    if ((rc = cp_get(f, "pr_todo", NULL, &todo, err)))
        goto out;
    k = (size_t)attn_json_i64(state, "done", 0);
    f->prs_total = todo ? (int64_t)json_array_size(todo) : 0;
    f->prs_done = f->prs_done_at_start = (int64_t)k;
    f->prs_started = ingest_mono_now();
    for (; todo && k < json_array_size(todo); k++) {
        int64_t n = json_integer_value(json_array_get(todo, k));
        struct { const char *resource, *path, *kind; int counter, whole; } plan[] = {
            {"reviews", "pulls/%lld/reviews", "pull_reviews", R_REVIEWS, 1},
            {"files", "pulls/%lld/files", "pull_files", R_FILES, 1},
            {"issue_events", "issues/%lld/events", "issue_event", R_ISSUE_EVENTS, 0},
            {"issue_comments", "issues/%lld/comments", "issue_comment", R_ISSUE_COMMENTS, 0},
            {"review_comments", "pulls/%lld/comments", "review_comment", R_REVIEW_COMMENTS, 0},
        };
        size_t n_plan = 2;
        json_t *got[5] = {NULL};
        gap_info gaps[5];
        int n_gaps = 0;
        if (f->flow == ATTN_INGEST_WINDOW)
            n_plan = f->o->with_truth ? 5 : 0;
        for (size_t p = 0; p < n_plan && !rc; p++) {
            char path[96], url[512];
            snprintf(path, sizeof(path), plan[p].path, (long long)n);
            snprintf(url, sizeof(url), "%s/%s?per_page=100", f->base, path);
            rc = fetch_all(f, plan[p].resource, url, n, &got[p], gaps, &n_gaps, err);
        }
        if (f->flow == ATTN_INGEST_WINDOW && !f->o->with_truth && !rc) {
            char url[512];
            snprintf(url, sizeof(url), "%s/pulls/%lld/files?per_page=100", f->base, (long long)n);
            rc = fetch_all(f, "files", url, n, &got[1], gaps, &n_gaps, err);
        }
        if (!rc && !(rc = attn_store_begin(f->s, err))) {
            for (size_t p = 0; p < 5 && !rc; p++) {
                char sid[32];
                int changed;
                if (!got[p])
                    continue;
                if (plan[p].whole) {
                    attn_archive_num_id(sid, sizeof(sid), n);
                    rc = attn_archive_put(f->ar, plan[p].kind, sid, NULL, wall_now(), got[p],
                                          &changed, err);
                    f->counts[plan[p].counter] += (int64_t)json_array_size(got[p]);
                    f->rep->objects += (int64_t)json_array_size(got[p]);
                    f->rep->objects_changed += changed;
                } else {
                    rc = put_items(f, plan[p].kind, plan[p].counter, got[p], err);
                }
            }
            /* A per-PR list fetched whole heals that PR's earlier gap in it. */
            for (size_t p = 0; p < 5 && !rc; p++) {
                if (!got[p])
                    continue;
                rc = exec_q(f, err, Q_GAP_RESOLVE_PR, "iiti", f->repo_id, n, plan[p].resource,
                            wall_now());
                if (!rc)
                    f->rep->gaps_resolved += sqlite3_changes(f->db);
            }
            for (int g = 0; g < n_gaps && !rc; g++)
                rc = gap_insert(f, &gaps[g], err);
            if (!rc) {
                json_t *st = json_pack("{s:I}", "done", (json_int_t)(k + 1));
                rc = cp_set(f, "pr_details", k + 1 == json_array_size(todo), st, err);
                json_decref(st);
            }
            if (!rc)
                rc = attn_store_commit(f->s, err);
            else
                attn_store_rollback(f->s);
        }
        for (int g = 0; g < n_gaps; g++)
            free((char *)gaps[g].url);
        for (size_t p = 0; p < 5; p++)
            json_decref(got[p]);
        if (rc)
            goto out;
        f->rep->prs_fetched++;
        f->prs_done = (int64_t)k + 1;
    }
    if (!todo || json_array_size(todo) == 0)
        rc = cp_set(f, "pr_details", 1, NULL, err);
out:
    json_decref(todo);
    json_decref(state);
    return rc;
}

/* ---- the repository ----------------------------------------------------------------- */

static int fetch_repo(fetcher *f, attn_error *err)
{
    attn_gh_response r;
    json_t *repo = NULL;
    char why[1100] = "";
    const char *name;
    int64_t id;
    int rc, changed;
    attn_norm_ctx ctx;

    watermark wm = {ATTN_NULL_I64, NULL, NULL, NULL};
    /* incremental: an unchanged repository answers 304 and costs nothing */
    if (f->flow == ATTN_INGEST_INCREMENTAL && f->repo_id != ATTN_NULL_I64 &&
        (rc = wm_get(f, "repo", &wm, err)))
        return rc;
    rc = gh_get(f, f->base, wm.etag, NULL, &r, err);
    wm_free(&wm);
    if (!rc && r.status == 304) {
        attn_gh_response_free(&r);
        return 0;
    }
    if (rc) {
        attn_gh_error_stops_run(&r, err);
        if (err->code == ATTN_ENOTFOUND || err->code == ATTN_EINVAL)
            err->code = ATTN_EHTTP;
        attn_gh_response_free(&r);
        return rc;
    }
    if (parse_body(&r, 0, &repo, why, sizeof(why))) {
        attn_gh_response_free(&r);
        return attn_error_set(err, ATTN_EHTTP, "GET %s: %s", f->base, why);
    }
    name = attn_json_str(repo, "full_name");
    id = attn_json_i64(repo, "id", ATTN_NULL_I64);
    if (!name || strcmp(name, f->o->repo) || id == ATTN_NULL_I64) {
        rc = attn_error_set(err, ATTN_EINVAL, "the API reports repository '%s', not '%s' given by --repo",
                            name ? name : "(none)", f->o->repo);
        goto out;
    }
    f->repo_id = id;
    f->counts[R_REPO]++;
    if ((rc = attn_store_begin(f->s, err)))
        goto out;
    /* The repos row comes first: every watermark and checkpoint points at it. */
    if (!(rc = attn_norm_ctx_init(&ctx, f->s, id, err))) {
        rc = attn_normalize_repo(&ctx, repo, err);
        attn_norm_ctx_free(&ctx);
    }
    if (!rc)
        rc = attn_archive_put(f->ar, "repo", "repo", r.etag, wall_now(), repo, &changed, err);
    if (!rc)
        rc = exec_q(f, err, Q_WM_FINISH, "ititt", f->repo_id, "repo", ATTN_NULL_I64,
                    r.etag[0] ? r.etag : NULL, r.last_modified[0] ? r.last_modified : NULL);
    if (!rc)
        rc = attn_store_commit(f->s, err);
    else
        attn_store_rollback(f->s);
out:
    json_decref(repo);
    attn_gh_response_free(&r);
    return rc;
}

/* ---- the run ---------------------------------------------------------------------- */

static int write_qa(fetcher *f, attn_error *err)
{
    const attn_gh_stats *st = attn_gh_client_stats(f->gh);
    json_t *counts = attn_xcheck(json_object()), *sum;
    for (int i = 0; i < N_R; i++)
        json_object_set_new(counts, R_NAME[i], json_integer(f->counts[i]));
    int64_t used = st->requests - st->not_modified;
    if (f->first_remaining >= 0 && st->rate_remaining >= 0 && f->first_remaining >= st->rate_remaining)
        used = f->first_remaining - st->rate_remaining + 1;
    sum = json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I}", "flow",
                    f->flow_name, "counts", counts, "gaps", (json_int_t)f->rep->gaps, "requests",
                    (json_int_t)st->requests, "not_modified", (json_int_t)st->not_modified,
                    "rate_limit_used", (json_int_t)used, "rate_remaining",
                    (json_int_t)st->rate_remaining, "prs_fetched",
                    (json_int_t)f->rep->prs_fetched, "events_inserted",
                    (json_int_t)f->rep->norm.events_inserted, "objects_changed",
                    (json_int_t)f->rep->objects_changed, "duration_s", f->rep->duration_s,
                    /* the run's start, kept across resumes by the "run" checkpoint */
                    "started_at", (json_int_t)f->run_started);
    char *text = attn_xcheck(json_dumps(attn_xcheck(sum), JSON_COMPACT | JSON_SORT_KEYS));
    int rc = exec_q(f, err, Q_QA, "iit", f->repo_id, wall_now(), text);
    free(text);
    json_decref(sum);
    return rc;
}

static int todo_add_gap_prs(fetcher *f, json_t *todo, attn_error *err)
{
    sqlite3_stmt *st = f->q[Q_GAP_PRS];
    int step;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, f->repo_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        todo_add(todo, sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "ingestion_gaps: %s", sqlite3_errmsg(f->db));
    return 0;
}

/* Gaps open, or healed by this run (so far, across resumes). */
static int count_open_gaps(fetcher *f, int64_t *n, attn_error *err)
{
    sqlite3_stmt *st = f->q[Q_GAPS_OPEN];
    int step;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, f->repo_id);
    sqlite3_bind_int64(st, 2, f->run_started);
    step = sqlite3_step(st);
    *n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return attn_error_set(err, ATTN_EDB, "ingestion_gaps: %s", sqlite3_errmsg(f->db));
    return 0;
}

static int run_stages(fetcher *f, attn_error *err)
{
    json_t *run = NULL, *todo = NULL;
    watermark wm;
    int rc, done;
    int64_t since = ATTN_NULL_I64;
    char sincebuf[ATTN_TIME_BUFSZ], sinceq[80] = "";
    int incr = f->flow == ATTN_INGEST_INCREMENTAL, resumed;

    if ((rc = cp_get(f, "run", NULL, &run, err)))
        return rc;
    resumed = run != NULL;
    if (!run) {
        run = json_pack("{s:I}", "started_at", (json_int_t)f->run_started);
        if (f->o->since != ATTN_NULL_I64)
            json_object_set_new(run, "since", json_integer(f->o->since));
        if ((rc = cp_set(f, "run", 0, run, err)))
            goto out;
    }
    f->run_started = attn_json_i64(run, "started_at", f->run_started);
    since = attn_json_i64(run, "since", ATTN_NULL_I64);
    if ((rc = cp_get(f, "pr_todo", NULL, &todo, err)))
        goto out;
    if (!todo) {
        todo = json_array();
        /* PRs whose per-PR lists were lost earlier are fetched again. */
        if (f->flow != ATTN_INGEST_WINDOW && (rc = todo_add_gap_prs(f, todo, err)))
            goto out;
        if ((rc = cp_set(f, "pr_todo", 0, todo, err)))
            goto out;
    }

    if (f->flow == ATTN_INGEST_WINDOW) {
        walk w[2] = {
            {"window_pulls", "pull", R_PULLS, "", 0, STOP_WINDOW, ATTN_NULL_I64, "created_at", 1},
            {"window_issues", "issue", R_ISSUES, "", 0, STOP_WINDOW, ATTN_NULL_I64, "created_at", 0},
        };
        snprintf(w[0].url, sizeof(w[0].url),
                 "%s/pulls?state=all&sort=created&direction=desc&per_page=100", f->base);
        snprintf(w[1].url, sizeof(w[1].url),
                 "%s/issues?state=all&sort=created&direction=desc&per_page=100", f->base);
        for (int i = 0; i < 2 && !rc; i++)
            rc = run_walk(f, &w[i], todo, err);
    } else {
        walk w[7] = {
            {"labels", "label", R_LABELS, "", incr, STOP_NONE, ATTN_NULL_I64, "", 0},
            {"milestones", "milestone", R_MILESTONES, "", incr, STOP_NONE, ATTN_NULL_I64,
             "updated_at", 0},
            {"pulls", "pull", R_PULLS, "", incr, STOP_NONE, ATTN_NULL_I64, "updated_at", 1},
            {"issues", "issue", R_ISSUES, "", incr ? 2 : 0, STOP_NONE, ATTN_NULL_I64,
             "updated_at", 0},
            {"issue_comments", "issue_comment", R_ISSUE_COMMENTS, "", incr ? 2 : 0, STOP_NONE,
             ATTN_NULL_I64, "updated_at", 0},
            {"review_comments", "review_comment", R_REVIEW_COMMENTS, "", incr ? 2 : 0, STOP_NONE,
             ATTN_NULL_I64, "updated_at", 0},
            {"issue_events", "issue_event", R_ISSUE_EVENTS, "", incr, STOP_OLDER, ATTN_NULL_I64,
             "created_at", 0},
        };
        snprintf(w[0].url, sizeof(w[0].url), "%s/labels?per_page=100", f->base);
        snprintf(w[1].url, sizeof(w[1].url), "%s/milestones?state=all&per_page=100", f->base);
        snprintf(w[2].url, sizeof(w[2].url),
                 "%s/pulls?state=all&sort=updated&direction=desc&per_page=100", f->base);
        for (int i = 2; i < 7 && !rc; i++) {
            /* incremental: since / stop from each list's own high-water mark */
            if ((rc = wm_get(f, w[i].stage, &wm, err)))
                break;
            int64_t s = incr ? wm.updated_at : since;
            sinceq[0] = 0;
            if (s != ATTN_NULL_I64)
                snprintf(sinceq, sizeof(sinceq), "since=%s&", attn_time_format(s, sincebuf));
            if (i == 2 || i == 6) {
                if (incr) {
                    w[i].stop = STOP_OLDER;
                    w[i].stop_at = wm.updated_at;
                }
            }
            if (i == 3)
                snprintf(w[i].url, sizeof(w[i].url),
                         "%s/issues?state=all&%ssort=updated&direction=asc&per_page=100", f->base,
                         sinceq);
            if (i == 4)
                snprintf(w[i].url, sizeof(w[i].url), "%s/issues/comments?%sper_page=100", f->base,
                         sinceq);
            if (i == 5)
                snprintf(w[i].url, sizeof(w[i].url), "%s/pulls/comments?%sper_page=100", f->base,
                         sinceq);
            if (i == 6)
                snprintf(w[i].url, sizeof(w[i].url), "%s/issues/events?per_page=100", f->base);
            wm_free(&wm);
        }
        for (int i = 0; i < 7 && !rc; i++)
            rc = run_walk(f, &w[i], todo, err);
    }
    if (!rc)
        rc = run_pr_details(f, err);
    /* A resumed run listed its PRs before the interruption: the summary
     * counts the PRs of the whole run (its to-do list), not "0 PRs". */
    if (!rc && resumed && f->flow == ATTN_INGEST_FULL &&
        (int64_t)json_array_size(todo) > f->rep->prs_listed)
        f->rep->prs_listed = (int64_t)json_array_size(todo);
    (void)done;
out:
    json_decref(run);
    json_decref(todo);
    return rc;
}

int attn_ingest_run(attn_store *s, attn_ingest_flow flow, const attn_ingest_options *o,
                    attn_ingest_report *rep, attn_error *err)
{
    static const char *const names[] = {"ingest", "incremental", "pull-requests"};
    fetcher f;
    attn_gh_options go;
    double t0 = ingest_mono_now();
    int rc = 0, done = 0;
    int64_t *nums = NULL;
    size_t n = 0;

    memset(rep, 0, sizeof(*rep));
    memset(&f, 0, sizeof(f));
    f.s = s;
    f.db = attn_store_db(s);
    f.o = o;
    f.rep = rep;
    f.flow = flow;
    f.flow_name = names[flow];
    f.run_started = wall_now();
    f.first_remaining = -1;
    attn_progress_init(&f.prog, o->quiet ? ATTN_PROGRESS_OFF : o->progress);
    f.tty_progress = f.prog.mode == ATTN_PROGRESS_LIVE;
    snprintf(f.base, sizeof(f.base), "/repos/%s", o->repo);
    for (int i = 0; i < N_Q; i++) {
        if (sqlite3_prepare_v2(f.db, SQL[i], -1, &f.q[i], NULL)) {
            rc = attn_error_set(err, ATTN_EDB, "%s: %s", attn_store_path(s), sqlite3_errmsg(f.db));
            goto out;
        }
    }
    if ((rc = attn_archive_open(s, &f.ar, err)))
        goto out;
    attn_gh_options_init(&go);
    if (o->api_url)
        go.api_url = o->api_url;
    go.token = o->token;
    go.progress = f.tty_progress;
    go.verbose = o->verbose;
    if (o->max_wait_s >= 0)
        go.max_wait_s = o->max_wait_s;
    if (o->deadline_s > 0)
        go.deadline_s = (long)o->deadline_s;
    if ((rc = attn_gh_client_new(&go, &f.gh, err)))
        goto out;

    /* The repository: its row must exist before any checkpoint, and a resumed
     * run whose repo stage is done does not ask again. */
    if ((rc = attn_store_repo_id(s, o->repo, &f.repo_id, err))) {
        if (rc != ATTN_ENOTFOUND)
            goto out;
        attn_error_clear(err);
        rc = 0;
        f.repo_id = ATTN_NULL_I64;
    }
    if (f.repo_id != ATTN_NULL_I64 && (rc = cp_get(&f, "repo", &done, NULL, err)))
        goto out;
    if (!done) {
        if ((rc = fetch_repo(&f, err)) || (rc = cp_set(&f, "repo", 1, NULL, err)))
            goto out;
    }
    if ((rc = run_stages(&f, err)))
        goto out;
    {
        /* A store that had gaps: phase 2 corrects what was derived without them. */
        int64_t open_gaps = 0;
        if ((rc = count_open_gaps(&f, &open_gaps, err)))
            goto out;
        f.heal = open_gaps > 0;
    }
    attn_progress_break(&f.prog);

    /* Phase 2: what this run changed (or everything, for a first backfill). */
    if ((rc = ingest_dirty_numbers(s, f.run_started, &nums, &n, err)) ||
        (rc = ingest_normalize_numbers(s, f.ar, f.repo_id, nums, n, flow == ATTN_INGEST_FULL, f.heal,
                                rep, err)))
        goto out;
    rep->duration_s = ingest_mono_now() - t0;
    if ((rc = attn_store_begin(s, err)))
        goto out;
    if ((rc = write_qa(&f, err)) ||
        (rc = exec_q(&f, err, Q_CP_CLEAR, "it", f.repo_id, f.flow_name)) ||
        (rc = attn_store_commit(s, err)))
        attn_store_rollback(s);

out:
    if (f.gh) {
        const attn_gh_stats *st = attn_gh_client_stats(f.gh);
        rep->requests = st->requests;
        rep->not_modified = st->not_modified;
        rep->rate_remaining = st->rate_remaining;
    }
    rep->duration_s = ingest_mono_now() - t0;
    free(nums);
    attn_gh_client_free(f.gh);
    attn_archive_close(f.ar);
    for (int i = 0; i < N_Q; i++)
        sqlite3_finalize(f.q[i]);
    return rc;
}
