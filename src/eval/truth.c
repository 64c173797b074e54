/*
 * truth.c - truth policies and per-PR labels (see truth.h for the rules).
 *
 * Every window test is done in SQL as `t > cutoff AND t <= window_end` on
 * INTEGER columns, never on text (reference §15.4), and the rows come back
 * in a total order (time, then id), so a label never depends on insertion
 * order. Nothing here writes to the store.
 */
#include "eval/truth.h"
#include "util/alloc.h"
#include "eval/duration.h"
#include "util/json.h"
#include "util/time.h"
#include "util/user.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- policies ---------------------------------------------------------------- */

static const struct {
    const char *id;
    int64_t window;
} POLICIES[ATTN_TRUTH_N_POLICIES] = {
    [ATTN_TRUTH_FIRST_RESPONSE] = {"first_response", 48 * 3600},
    [ATTN_TRUTH_FIRST_APPROVAL] = {"first_approval", 48 * 3600},
    [ATTN_TRUTH_MERGER] = {"merger", 48 * 3600},
    [ATTN_TRUTH_REVIEWERS_UNTIL_CLOSE] = {"reviewers_until_close", 30 * 86400},
    [ATTN_TRUTH_INTENT] = {"intent", 3600},
    [ATTN_TRUTH_HYBRID_OWNER] = {"hybrid_owner", 48 * 3600},
};

const char *attn_truth_policy_id(attn_truth_kind kind)
{
    return (unsigned)kind < ATTN_TRUTH_N_POLICIES ? POLICIES[kind].id : NULL;
}

int64_t attn_truth_default_window(attn_truth_kind kind)
{
    return (unsigned)kind < ATTN_TRUTH_N_POLICIES ? POLICIES[kind].window : 0;
}

json_t *attn_truth_policy_json(const attn_truth_policy *p)
{
    return json_pack("{s:s, s:{s:I}, s:s}", "id", attn_truth_policy_id(p->kind), "params",
                     "window_seconds", (json_int_t)p->window_seconds, "version",
                     ATTN_TRUTH_POLICY_VERSION);
}

/* Fill the canonical spec and the hash from kind and window. */
static int finish_policy(attn_truth_policy *p, attn_error *err)
{
    char w[ATTN_EVAL_DURATION_BUFSZ];
    json_t *v = attn_xcheck(attn_truth_policy_json(p));
    int rc;
    snprintf(p->spec, sizeof(p->spec), "%s:window=%s", attn_truth_policy_id(p->kind),
             attn_eval_duration_format(p->window_seconds, w));
    rc = attn_json_hash(v, p->hash, err);
    json_decref(v);
    return rc;
}

int attn_truth_policy_default(attn_truth_kind kind, attn_truth_policy *out, attn_error *err)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned)kind >= ATTN_TRUTH_N_POLICIES)
        return attn_error_set(err, ATTN_EINVAL, "truth policy kind %d does not exist", (int)kind);
    out->kind = kind;
    out->window_seconds = POLICIES[kind].window;
    return finish_policy(out, err);
}

static int unknown_policy(const char *text, size_t len, attn_error *err)
{
    char ids[256] = "";
    for (int k = 0; k < ATTN_TRUTH_N_POLICIES; k++)
        snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s", k ? ", " : "",
                 POLICIES[k].id);
    return attn_error_set(err, ATTN_EINVAL, "unknown truth policy '%.*s': use one of %s",
                          (int)len, text, ids);
}

int attn_truth_policy_parse(const char *text, attn_truth_policy *out, attn_error *err)
{
    const char *colon, *p;
    size_t idlen;
    int k, seen_window = 0;

    memset(out, 0, sizeof(*out));
    if (!text)
        text = "";
    colon = strchr(text, ':');
    idlen = colon ? (size_t)(colon - text) : strlen(text);
    for (k = 0; k < ATTN_TRUTH_N_POLICIES; k++)
        if (strlen(POLICIES[k].id) == idlen && !strncmp(POLICIES[k].id, text, idlen))
            break;
    if (k == ATTN_TRUTH_N_POLICIES)
        return unknown_policy(text, idlen, err);
    out->kind = (attn_truth_kind)k;
    out->window_seconds = POLICIES[k].window;

    /* Parameters: key=value, comma-separated; only "window" exists. */
    for (p = colon ? colon + 1 : NULL; p;) {
        const char *end = strchr(p, ','), *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char val[64];
        eq = memchr(p, '=', len);
        if (!eq || eq == p)
            return attn_error_set(err, ATTN_EINVAL,
                                  "truth policy '%s': parameter '%.*s' must be key=value "
                                  "(e.g. %s:window=24h)",
                                  text, (int)len, p, POLICIES[k].id);
        if ((size_t)(eq - p) != 6 || strncmp(p, "window", 6))
            return attn_error_set(err, ATTN_EINVAL,
                                  "truth policy '%s': unknown parameter '%.*s' (the only "
                                  "parameter is window)",
                                  text, (int)(eq - p), p);
        if (seen_window++)
            return attn_error_set(err, ATTN_EINVAL, "truth policy '%s': window given twice",
                                  text);
        if (len - (size_t)(eq + 1 - p) >= sizeof(val))
            return attn_error_set(err, ATTN_EINVAL, "truth policy '%s': window value too long",
                                  text);
        snprintf(val, sizeof(val), "%.*s", (int)(len - (size_t)(eq + 1 - p)), eq + 1);
        if (attn_eval_duration_parse(val, "window", &out->window_seconds, err))
            return attn_error_wrap(err, "truth policy '%s'", text);
        if (out->window_seconds <= 0)
            return attn_error_set(err, ATTN_EINVAL,
                                  "truth policy '%s': window must be longer than 0 seconds",
                                  text);
        p = end ? end + 1 : NULL;
    }
    return finish_policy(out, err);
}

/* ---- resources that gaps name ------------------------------------------------ */

/* Bit i is RES_NAMES[i]; the names are in byte order so walking the bits
 * yields a sorted list. */
static const char *const RES_NAMES[] = {"issue_comments", "issue_events", "issues",
                                        "pulls", "review_comments", "reviews"};
enum { RB_ISSUE_COMMENTS = 1, RB_ISSUE_EVENTS = 2, RB_ISSUES = 4, RB_PULLS = 8,
       RB_REVIEW_COMMENTS = 16, RB_REVIEWS = 32, N_RES = 6 };

static unsigned res_bit(const char *name)
{
    for (int i = 0; i < N_RES; i++)
        if (!strcmp(RES_NAMES[i], name))
            return 1u << i;
    return 0;
}

static const unsigned POLICY_RES[ATTN_TRUTH_N_POLICIES] = {
    [ATTN_TRUTH_FIRST_RESPONSE] = RB_REVIEWS | RB_REVIEW_COMMENTS | RB_ISSUE_COMMENTS,
    [ATTN_TRUTH_FIRST_APPROVAL] = RB_REVIEWS,
    [ATTN_TRUTH_MERGER] = RB_PULLS | RB_ISSUE_EVENTS,
    [ATTN_TRUTH_REVIEWERS_UNTIL_CLOSE] = RB_REVIEWS | RB_PULLS | RB_ISSUES | RB_ISSUE_EVENTS,
    [ATTN_TRUTH_INTENT] = RB_ISSUE_EVENTS,
    [ATTN_TRUTH_HYBRID_OWNER] = RB_REVIEWS | RB_REVIEW_COMMENTS | RB_ISSUE_COMMENTS | RB_PULLS |
                                RB_ISSUE_EVENTS,
};

static json_t *res_list(unsigned mask)
{
    json_t *a = json_array();
    for (int i = 0; i < N_RES; i++)
        if (mask & (1u << i))
            json_array_append_new(a, json_string(RES_NAMES[i]));
    return a;
}

/* ---- SQL ------------------------------------------------------------------------- */

/* Per-PR statements bind ?1 = pull request id, ?2 = window start (exclusive),
 * ?3 = window end (inclusive), ?4 = the PR's issue id (NULL when none), as
 * far as each uses them. */
enum { Q_PR, Q_REVIEWS, Q_COMMENTS, Q_MERGED, Q_CLOSE, Q_REQUESTS, Q_GAPS, Q_ACTIVITY, N_Q };
static const char *const SQL[N_Q] = {
    [Q_PR] = "SELECT id, issue_id, user_id FROM pull_requests WHERE repo_id = ?1 AND number = ?2",
    /* The state at submission is the review.submitted event's (an approval
     * dismissed later shows DISMISSED in reviews.state). */
    [Q_REVIEWS] =
        "SELECT r.id, r.submitted_at, r.user_id, u.login, u.type, upper(COALESCE("
        "  (SELECT CASE WHEN json_valid(e.payload_json)"
        "               THEN json_extract(e.payload_json, '$.state') END"
        "   FROM events e WHERE e.subject_type = 'review' AND e.subject_id = r.id"
        "   AND e.event_type = 'review.submitted' ORDER BY e.occurred_at, e.id LIMIT 1),"
        "  r.state, ''))"
        " FROM reviews r LEFT JOIN users u ON u.id = r.user_id"
        " WHERE r.pull_request_id = ?1 AND r.submitted_at > ?2 AND r.submitted_at <= ?3"
        " ORDER BY r.submitted_at, r.id",
    [Q_COMMENTS] =
        "SELECT c.id, c.created_at, c.user_id, u.login, u.type, c.comment_type = 'review'"
        " FROM comments c LEFT JOIN users u ON u.id = c.user_id"
        " WHERE (c.pull_request_id = ?1 OR c.issue_id = ?4)"
        " AND c.created_at > ?2 AND c.created_at <= ?3 ORDER BY c.created_at, c.id",
    [Q_MERGED] =
        "SELECT e.id, e.occurred_at, e.actor_id, u.login, u.type"
        " FROM events e LEFT JOIN users u ON u.id = e.actor_id"
        " WHERE e.subject_type = 'pull_request' AND e.subject_id = ?1"
        " AND e.event_type = 'pull_request.merged' AND e.occurred_at > ?2 AND e.occurred_at <= ?3"
        " ORDER BY e.occurred_at, e.id",
    [Q_CLOSE] =
        "SELECT min(occurred_at) FROM events WHERE occurred_at > ?2 AND occurred_at <= ?3 AND ("
        " (subject_type = 'pull_request' AND subject_id = ?1"
        "  AND event_type IN ('pull_request.closed', 'pull_request.merged'))"
        " OR (subject_type = 'issue' AND subject_id = ?4 AND event_type = 'issue.closed'))",
    [Q_REQUESTS] =
        "SELECT e.id, e.occurred_at, e.object_type, e.object_id, u.login, u.type, t.slug,"
        " CASE WHEN json_valid(e.payload_json) THEN json_extract(e.payload_json, '$.name') END"
        " FROM events e"
        " LEFT JOIN users u ON e.object_type = 'user' AND u.id = e.object_id"
        " LEFT JOIN teams t ON e.object_type = 'team' AND t.id = e.object_id"
        " WHERE e.subject_type = 'pull_request' AND e.subject_id = ?1"
        " AND e.event_type = 'pull_request.review_request.add'"
        " AND e.occurred_at > ?2 AND e.occurred_at <= ?3 ORDER BY e.occurred_at, e.id",
    /* ?1 = repo id, ?2 = PR number here. */
    [Q_GAPS] = "SELECT DISTINCT resource FROM ingestion_gaps WHERE repo_id = ?1"
               " AND pull_request_number = ?2 AND resolved_at IS NULL",
    /* Horizon term (b): the PR's own latest recorded activity. */
    [Q_ACTIVITY] =
        "SELECT max(t) FROM ("
        " SELECT max(occurred_at) AS t FROM events"
        "  WHERE subject_type = 'pull_request' AND subject_id = ?1"
        " UNION ALL SELECT max(occurred_at) FROM events"
        "  WHERE subject_type = 'issue' AND subject_id = ?4"
        " UNION ALL SELECT max(submitted_at) FROM reviews WHERE pull_request_id = ?1"
        " UNION ALL SELECT max(max(created_at, coalesce(updated_at, created_at))) FROM comments"
        "  WHERE pull_request_id = ?1 OR issue_id = ?4)",
};

/* Read once per context. */
static const char *SQL_OWNER = "SELECT owner_login FROM repos WHERE id = ?1";
static const char *SQL_RUNS = "SELECT created_at, summary_json FROM qa_reports WHERE repo_id = ?1"
                              " ORDER BY id";
static const char *SQL_META = "SELECT (SELECT count(*) FROM qa_reports WHERE repo_id = ?1)"
                              " + (SELECT count(*) FROM watermarks WHERE repo_id = ?1)";
static const char *SQL_BUNDLE =
    "SELECT max(t) FROM ("
    " SELECT max(occurred_at) AS t FROM events WHERE repo_id = ?1"
    " UNION ALL SELECT max(submitted_at) FROM reviews WHERE repo_id = ?1"
    " UNION ALL SELECT max(max(created_at, coalesce(updated_at, created_at))) FROM comments"
    "  WHERE repo_id = ?1)";
static const char *SQL_REPO_GAPS =
    "SELECT DISTINCT resource FROM ingestion_gaps WHERE repo_id = ?1"
    " AND pull_request_number IS NULL AND resolved_at IS NULL";

/* ---- context ----------------------------------------------------------------------- */

/* What a truth policy reads: reviews, comments, merges, requests (below). */
enum { K_REVIEW, K_REVIEW_COMMENT, K_COMMENT, K_MERGE, K_REQUEST };
static const char *const KIND_NAME[] = {"review", "review_comment", "comment", "merge",
                                        "review_request"};

typedef struct {
    int kind;
    int64_t at, id;
    int eligible;               /* actor eligible (teams: always) */
    int approved;               /* reviews: state at submission APPROVED */
    int team;                   /* target type team */
    char *name;                 /* login or org/slug; NULL when unknown */
} action;

typedef struct {
    action *v;
    size_t n, cap;
} actions;

static void actions_free(actions *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].name);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static action *actions_add(actions *a)
{
    ATTN_ALLOC_GROW(a->v, a->n + 1, a->cap);
    memset(&a->v[a->n], 0, sizeof(action));
    return &a->v[a->n++];
}

typedef struct {
    int64_t id, issue_id, author;
    unsigned gaps;              /* RB_* of unresolved gaps naming this PR */
    int64_t horizon;
    const char *horizon_source;
} pr_info;

struct attn_truth_ctx {
    attn_store *s;
    sqlite3 *db;
    int64_t repo_id;
    sqlite3_stmt *q[N_Q];
    char *owner;                /* repos.owner_login, for team names */
    int64_t run_horizon;        /* term (a), ATTN_NULL_I64 when none */
    int64_t bundle_horizon;     /* term (c), ATTN_NULL_I64 unless no metadata */
    int has_metadata;           /* qa_reports or watermarks rows exist */
    unsigned repo_gaps;         /* RB_* of unresolved repo-level gaps */
    /* The last PR load_pr read: an evaluation asks about one PR for each
     * policy and for its facts in a row (profile: three loads per PR). */
    int have_last;
    int64_t last_number;
    pr_info last;
    /* The last PR's reviews and comments after its cutoff (the policies'
     * windows and the facts each read a part of them: profile). */
    int have_resp;
    int64_t resp_pr, resp_cutoff;
    actions resp;               /* reviews, then comments, as the queries order them */
};

static int db_error(attn_truth_ctx *c, attn_error *err, const char *what)
{
    return attn_error_set(err, ATTN_EDB, "%s: truth %s: %s", attn_store_path(c->s), what,
                          sqlite3_errmsg(c->db));
}

/* A one-off statement with ?1 = repo id; fn sees each row. */
static int each_row(attn_truth_ctx *c, const char *sql, void (*fn)(attn_truth_ctx *, sqlite3_stmt *),
                    attn_error *err)
{
    sqlite3_stmt *st;
    int step;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(c, err, "setup");
    sqlite3_bind_int64(st, 1, c->repo_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        fn(c, st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : db_error(c, err, "setup");
}

static void row_owner(attn_truth_ctx *c, sqlite3_stmt *st)
{
    const char *o = (const char *)sqlite3_column_text(st, 0);
    free(c->owner);
    c->owner = attn_xstrdup(o ? o : "");
}

/* Term (a): the start of each completed whole-repository run. */
static void row_run(attn_truth_ctx *c, sqlite3_stmt *st)
{
    const char *text = (const char *)sqlite3_column_text(st, 1);
    json_t *sum;
    const char *flow;
    if (sqlite3_column_type(st, 0) == SQLITE_NULL || !text)
        return;
    sum = json_loads(text, 0, NULL);
    flow = attn_json_str(sum, "flow");
    if (flow && (!strcmp(flow, "ingest") || !strcmp(flow, "incremental"))) {
        json_t *d = json_object_get(sum, "duration_s");
        double dur = json_is_number(d) ? json_number_value(d) : 0.0;
        int64_t start = sqlite3_column_int64(st, 0);
        if (json_is_integer(json_object_get(sum, "started_at")))
            start = json_integer_value(json_object_get(sum, "started_at")); /* across resumes */
        else if (dur > 0 && dur < 1e12)
            start -= (int64_t)ceil(dur);
        if (c->run_horizon == ATTN_NULL_I64 || start > c->run_horizon)
            c->run_horizon = start;
    }
    json_decref(sum);
}

static void row_meta(attn_truth_ctx *c, sqlite3_stmt *st)
{
    c->has_metadata = sqlite3_column_int64(st, 0) > 0;
}

static void row_bundle(attn_truth_ctx *c, sqlite3_stmt *st)
{
    c->bundle_horizon = sqlite3_column_type(st, 0) == SQLITE_NULL ? ATTN_NULL_I64
                                                                  : sqlite3_column_int64(st, 0);
}

static void row_repo_gap(attn_truth_ctx *c, sqlite3_stmt *st)
{
    const char *r = (const char *)sqlite3_column_text(st, 0);
    if (r)
        c->repo_gaps |= res_bit(r);
}

int attn_truth_ctx_open(attn_store *s, int64_t repo_id, attn_truth_ctx **out, attn_error *err)
{
    attn_truth_ctx *c = attn_xcalloc(1, sizeof(*c));
    int rc = 0;
    *out = NULL;
    c->s = s;
    c->db = attn_store_db(s);
    c->repo_id = repo_id;
    c->run_horizon = ATTN_NULL_I64;
    c->bundle_horizon = ATTN_NULL_I64;
    for (int i = 0; i < N_Q && !rc; i++)
        if (sqlite3_prepare_v2(c->db, SQL[i], -1, &c->q[i], NULL) != SQLITE_OK)
            rc = db_error(c, err, "queries");
    if (!rc)
        rc = each_row(c, SQL_OWNER, row_owner, err);
    if (!rc && !c->owner)
        rc = attn_error_set(err, ATTN_ENOTFOUND, "%s: no repository with id %lld",
                            attn_store_path(s), (long long)repo_id);
    if (!rc)
        rc = each_row(c, SQL_RUNS, row_run, err);
    if (!rc)
        rc = each_row(c, SQL_META, row_meta, err);
    if (!rc && !c->has_metadata)
        rc = each_row(c, SQL_BUNDLE, row_bundle, err);
    if (!rc)
        rc = each_row(c, SQL_REPO_GAPS, row_repo_gap, err);
    if (rc) {
        attn_truth_ctx_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void attn_truth_ctx_free(attn_truth_ctx *c)
{
    if (!c)
        return;
    for (int i = 0; i < N_Q; i++)
        sqlite3_finalize(c->q[i]);
    actions_free(&c->resp);
    free(c->owner);
    free(c);
}

/* Reset st and bind ?1..?4 as far as it has them (NULL_I64 binds NULL). */
static sqlite3_stmt *bind4(attn_truth_ctx *c, int which, int64_t a, int64_t b, int64_t t,
                           int64_t d)
{
    sqlite3_stmt *st = c->q[which];
    int64_t v[4] = {a, b, t, d};
    int n = sqlite3_bind_parameter_count(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; i < 4 && i < n; i++) {
        if (v[i] == ATTN_NULL_I64)
            sqlite3_bind_null(st, i + 1);
        else
            sqlite3_bind_int64(st, i + 1, v[i]);
    }
    return st;
}

/* ---- actions ------------------------------------------------------------------------ */

/* The eligibility rule of truth.h (users only). */
static int user_eligible(sqlite3_stmt *st, int col_id, int col_login, int col_type,
                         int64_t author)
{
    const char *login = (const char *)sqlite3_column_text(st, col_login);
    const char *type = (const char *)sqlite3_column_text(st, col_type);
    if (sqlite3_column_type(st, col_id) == SQLITE_NULL || !login || !login[0])
        return 0;
    if (author != ATTN_NULL_I64 && sqlite3_column_int64(st, col_id) == author)
        return 0;
    if (attn_is_bot(login, type))
        return 0;
    return 1;
}

static void dup_name(action *x, const char *name)
{
    if (name)
        x->name = attn_xstrdup(name);
}

/* Reviews and comments in (lo, hi], sorted by (at, kind, id). */
static int query_responses(attn_truth_ctx *c, const pr_info *pr, int64_t lo, int64_t hi,
                           int with_comments, actions *out, attn_error *err)
{
    sqlite3_stmt *st = bind4(c, Q_REVIEWS, pr->id, lo, hi, pr->issue_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        action *x = actions_add(out);
        dup_name(x, (const char *)sqlite3_column_text(st, 3));
        x->kind = K_REVIEW;
        x->id = sqlite3_column_int64(st, 0);
        x->at = sqlite3_column_int64(st, 1);
        x->eligible = user_eligible(st, 2, 3, 4, pr->author);
        x->approved = !strcmp((const char *)sqlite3_column_text(st, 5), "APPROVED");
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return db_error(c, err, "reviews");
    if (!with_comments)
        return 0;
    st = bind4(c, Q_COMMENTS, pr->id, lo, hi, pr->issue_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        action *x = actions_add(out);
        dup_name(x, (const char *)sqlite3_column_text(st, 3));
        x->kind = sqlite3_column_int(st, 5) ? K_REVIEW_COMMENT : K_COMMENT;
        x->id = sqlite3_column_int64(st, 0);
        x->at = sqlite3_column_int64(st, 1);
        x->eligible = user_eligible(st, 2, 3, 4, pr->author);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return db_error(c, err, "comments");
    return 0;
}

/* The reviews (and, with_comments, the comments) in (lo, hi], as
 * query_responses gives them: the part of the PR's responses after lo that
 * is read once per PR and cutoff. Both queries order by time then id, so
 * those in the window are a subsequence in the same order. */
static int read_responses(attn_truth_ctx *c, const pr_info *pr, int64_t lo, int64_t hi,
                          int with_comments, actions *out, attn_error *err)
{
    int rc;
    if (!c->have_resp || c->resp_pr != pr->id || c->resp_cutoff != lo) {
        actions_free(&c->resp);
        c->have_resp = 0;
        if ((rc = query_responses(c, pr, lo, INT64_MAX, 1, &c->resp, err)))
            return rc;
        c->have_resp = 1;
        c->resp_pr = pr->id;
        c->resp_cutoff = lo;
    }
    for (size_t i = 0; i < c->resp.n; i++) {
        const action *x = &c->resp.v[i];
        action *y;
        if (x->at > hi || (!with_comments && x->kind != K_REVIEW))
            continue;
        y = actions_add(out);
        *y = *x;
        y->name = x->name ? attn_xstrdup(x->name) : NULL;
    }
    return 0;
}

static int cmp_action(const void *pa, const void *pb)
{
    const action *a = pa, *b = pb;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int read_merges(attn_truth_ctx *c, const pr_info *pr, int64_t lo, int64_t hi,
                       actions *out, attn_error *err)
{
    sqlite3_stmt *st = bind4(c, Q_MERGED, pr->id, lo, hi, pr->issue_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        action *x = actions_add(out);
        dup_name(x, (const char *)sqlite3_column_text(st, 3));
        x->kind = K_MERGE;
        x->id = sqlite3_column_int64(st, 0);
        x->at = sqlite3_column_int64(st, 1);
        x->eligible = user_eligible(st, 2, 3, 4, pr->author);
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : db_error(c, err, "merge events");
}

static int read_requests(attn_truth_ctx *c, const pr_info *pr, int64_t lo, int64_t hi,
                         actions *out, attn_error *err)
{
    sqlite3_stmt *st = bind4(c, Q_REQUESTS, pr->id, lo, hi, pr->issue_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *otype = (const char *)sqlite3_column_text(st, 2);
        const char *payload_name = (const char *)sqlite3_column_text(st, 7);
        action *x = actions_add(out);
        x->kind = K_REQUEST;
        x->id = sqlite3_column_int64(st, 0);
        x->at = sqlite3_column_int64(st, 1);
        if (otype && !strcmp(otype, "team")) {
            const char *slug = (const char *)sqlite3_column_text(st, 6);
            if (!slug)
                slug = payload_name;
            x->team = 1;
            x->eligible = slug && slug[0];
            if (x->eligible) {
                size_t n = strlen(c->owner) + strlen(slug) + 2;
                x->name = attn_xmalloc(n);
                snprintf(x->name, n, "%s/%s", c->owner, slug);
            }
        } else {
            const char *login = (const char *)sqlite3_column_text(st, 4);
            dup_name(x, login ? login : payload_name);
            /* A user missing from users is named by the payload; the rule
             * still needs a login and a non-author id. */
            x->eligible = x->name && x->name[0] && sqlite3_column_type(st, 3) != SQLITE_NULL &&
                          !(pr->author != ATTN_NULL_I64 &&
                            sqlite3_column_int64(st, 3) == pr->author) &&
                          !attn_is_bot(x->name, NULL);
            if (x->eligible && login) {
                const char *type = (const char *)sqlite3_column_text(st, 5);
                x->eligible = !(type && !strcmp(type, "Bot"));
            }
        }
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : db_error(c, err, "review requests");
}

/* ---- per-PR facts ------------------------------------------------------------------- */

/* A cutoff far from the int64 ends, so cutoff + window cannot overflow. */
static int check_cutoff(int64_t cutoff, attn_error *err)
{
    if (cutoff == ATTN_NULL_I64 || cutoff < -((int64_t)1 << 62) || cutoff > ((int64_t)1 << 62))
        return attn_error_set(err, ATTN_EINVAL, "truth: cutoff %lld is not a usable instant",
                              (long long)cutoff);
    return 0;
}

static int load_pr(attn_truth_ctx *c, int64_t pr_number, pr_info *pr, attn_error *err)
{
    sqlite3_stmt *st;
    int64_t act = ATTN_NULL_I64;
    int step;

    if (c->have_last && c->last_number == pr_number) {
        *pr = c->last;
        return 0;
    }
    c->have_last = 0;
    st = bind4(c, Q_PR, c->repo_id, pr_number, ATTN_NULL_I64, ATTN_NULL_I64);
    step = sqlite3_step(st);
    memset(pr, 0, sizeof(*pr));
    if (step == SQLITE_ROW) {
        pr->id = sqlite3_column_int64(st, 0);
        pr->issue_id = sqlite3_column_type(st, 1) == SQLITE_NULL ? ATTN_NULL_I64
                                                                 : sqlite3_column_int64(st, 1);
        pr->author = sqlite3_column_type(st, 2) == SQLITE_NULL ? ATTN_NULL_I64
                                                               : sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return attn_error_set(err, ATTN_ENOTFOUND, "no pull request #%lld in this repository",
                              (long long)pr_number);
    if (step != SQLITE_ROW)
        return db_error(c, err, "pull request");

    st = bind4(c, Q_GAPS, c->repo_id, pr_number, ATTN_NULL_I64, ATTN_NULL_I64);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r)
            pr->gaps |= res_bit(r);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return db_error(c, err, "gaps");

    st = bind4(c, Q_ACTIVITY, pr->id, ATTN_NULL_I64, ATTN_NULL_I64, pr->issue_id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        act = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return db_error(c, err, "activity horizon");

    /* H = max(a, b, c); ties name the first term. */
    pr->horizon = ATTN_NULL_I64;
    pr->horizon_source = NULL;
    if (c->run_horizon != ATTN_NULL_I64) {
        pr->horizon = c->run_horizon;
        pr->horizon_source = "run";
    }
    if (act != ATTN_NULL_I64 && (pr->horizon == ATTN_NULL_I64 || act > pr->horizon)) {
        pr->horizon = act;
        pr->horizon_source = "pr_activity";
    }
    if (c->bundle_horizon != ATTN_NULL_I64 &&
        (pr->horizon == ATTN_NULL_I64 || c->bundle_horizon > pr->horizon)) {
        pr->horizon = c->bundle_horizon;
        pr->horizon_source = "bundle";
    }
    c->last = *pr;
    c->last_number = pr_number;
    c->have_last = 1;
    return 0;
}

int attn_truth_pr_facts_get(attn_truth_ctx *c, int64_t pr_number, int64_t cutoff,
                            attn_truth_pr_facts *out, attn_error *err)
{
    pr_info pr;
    actions a = {0};
    int rc;

    out->first_response_at = out->first_review_at = out->merged_at = ATTN_NULL_I64;
    out->horizon = ATTN_NULL_I64;
    if ((rc = check_cutoff(cutoff, err)) || (rc = load_pr(c, pr_number, &pr, err)))
        return rc;
    out->horizon = pr.horizon;
    if ((rc = read_responses(c, &pr, cutoff, INT64_MAX, 1, &a, err)))
        goto out;
    if (a.n)
        qsort(a.v, a.n, sizeof(action), cmp_action);
    for (size_t i = 0; i < a.n; i++) {
        if (!a.v[i].eligible)
            continue;
        if (out->first_response_at == ATTN_NULL_I64)
            out->first_response_at = a.v[i].at;
        if (a.v[i].kind == K_REVIEW && out->first_review_at == ATTN_NULL_I64)
            out->first_review_at = a.v[i].at;
    }
    actions_free(&a);
    if ((rc = read_merges(c, &pr, INT64_MIN + 1, INT64_MAX, &a, err)))
        goto out;
    if (a.n)
        out->merged_at = a.v[0].at;
out:
    actions_free(&a);
    return rc;
}

/* ---- evaluation ----------------------------------------------------------------------- */

/* One policy's outcome before it becomes JSON. */
typedef struct {
    const char *status;
    int64_t window_end;
    int64_t scanned, eligible;
    unsigned gaps;
    actions picked;             /* qualifying actions, one per target, in order */
} outcome;

static int same_target(const action *a, const action *b)
{
    return a->team == b->team && !strcasecmp(a->name, b->name);
}

/* Move qualifying action i of src into o->picked unless its target is
 * already there. -1 when out of memory. */
static void pick(outcome *o, actions *src, size_t i)
{
    action *x;
    for (size_t j = 0; j < o->picked.n; j++)
        if (same_target(&o->picked.v[j], &src->v[i]))
            return;
    x = actions_add(&o->picked);
    *x = src->v[i];
    src->v[i].name = NULL;
}

static int evaluate(attn_truth_ctx *c, const pr_info *pr, attn_truth_kind kind, int64_t window,
                    int64_t cutoff, outcome *o, attn_error *err)
{
    actions a = {0};
    int set = 0, rc = 0;
    int64_t h = pr->horizon;

    memset(o, 0, sizeof(*o));
    o->window_end = cutoff + window;
    o->gaps = pr->gaps & POLICY_RES[kind];

    switch (kind) {
    case ATTN_TRUTH_FIRST_RESPONSE:
    case ATTN_TRUTH_FIRST_APPROVAL:
        rc = read_responses(c, pr, cutoff, o->window_end, kind == ATTN_TRUTH_FIRST_RESPONSE, &a,
                            err);
        break;
    case ATTN_TRUTH_MERGER:
        rc = read_merges(c, pr, cutoff, o->window_end, &a, err);
        break;
    case ATTN_TRUTH_REVIEWERS_UNTIL_CLOSE: {
        sqlite3_stmt *st = bind4(c, Q_CLOSE, pr->id, cutoff, o->window_end, pr->issue_id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            o->window_end = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (step != SQLITE_ROW)
            return db_error(c, err, "close events");
        set = 1;
        rc = read_responses(c, pr, cutoff, o->window_end, 0, &a, err);
        break;
    }
    case ATTN_TRUTH_INTENT:
        set = 1;
        rc = read_requests(c, pr, cutoff, o->window_end, &a, err);
        break;
    default:
        return attn_error_set(err, ATTN_EINVAL, "truth policy kind %d is not a single policy",
                              (int)kind);
    }
    if (rc)
        goto out;
    if (a.n)
        qsort(a.v, a.n, sizeof(action), cmp_action);
    o->scanned = (int64_t)a.n;
    for (size_t i = 0; i < a.n; i++) {
        if (!a.v[i].eligible || (kind == ATTN_TRUTH_FIRST_APPROVAL && !a.v[i].approved))
            continue;
        o->eligible++;
        if (set || o->picked.n == 0)
            pick(o, &a, i);
    }

    /* The status rules of truth.h. */
    if (o->gaps)
        o->status = ATTN_TRUTH_UNKNOWN;
    else if (set)
        o->status = h != ATTN_NULL_I64 && o->window_end <= h
                        ? (o->picked.n ? ATTN_TRUTH_OBSERVED : ATTN_TRUTH_NO_RESPONSE)
                        : ATTN_TRUTH_UNKNOWN;
    else if (o->picked.n && h != ATTN_NULL_I64 && (o->picked.v[0].at <= h || o->window_end <= h))
        o->status = ATTN_TRUTH_OBSERVED;
    else if (h != ATTN_NULL_I64 && o->window_end <= h)
        o->status = ATTN_TRUTH_NO_RESPONSE;
    else
        o->status = ATTN_TRUTH_UNKNOWN;
out:
    actions_free(&a);
    if (rc)
        actions_free(&o->picked);
    return rc;
}

static json_t *time_json(int64_t t)
{
    char buf[ATTN_TIME_BUFSZ];
    return t == ATTN_NULL_I64 ? json_null() : json_string(attn_time_format(t, buf));
}

static json_t *targets_json(const actions *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n; i++)
        json_array_append_new(arr, attn_json_obj("type", json_string(a->v[i].team ? "team" : "user"),
                                                 "name", json_string(a->v[i].name), NULL));
    return arr;
}

int attn_truth_eval(attn_truth_ctx *c, int64_t pr_number, int64_t cutoff,
                    const attn_truth_policy *policy, json_t **out, attn_error *err)
{
    static const attn_truth_kind CHAIN[] = {ATTN_TRUTH_FIRST_APPROVAL, ATTN_TRUTH_MERGER,
                                            ATTN_TRUTH_FIRST_RESPONSE};
    pr_info pr;
    outcome o, part;
    json_t *chain = json_array(), *diag, *res, *selected;
    int observed, rc;
    int64_t scanned = 0, eligible = 0;
    unsigned gaps = 0;

    *out = NULL;
    memset(&o, 0, sizeof(o));
    if ((unsigned)policy->kind >= ATTN_TRUTH_N_POLICIES || policy->window_seconds <= 0 ||
        policy->window_seconds > ATTN_EVAL_DURATION_MAX) {
        json_decref(chain);
        return attn_error_set(err, ATTN_EINVAL,
                              "truth policy kind %d with window %lld s is not valid (parse it "
                              "with attn_truth_policy_parse)",
                              (int)policy->kind, (long long)policy->window_seconds);
    }
    if ((rc = check_cutoff(cutoff, err))) {
        json_decref(chain);
        return rc;
    }
    if ((rc = load_pr(c, pr_number, &pr, err))) {
        json_decref(chain);
        return rc;
    }
    if (policy->kind != ATTN_TRUTH_HYBRID_OWNER) {
        rc = evaluate(c, &pr, policy->kind, policy->window_seconds, cutoff, &o, err);
        scanned = o.scanned;
        eligible = o.eligible;
        gaps = o.gaps;
    } else {
        /* Strict priority: stop at the first component that is not no_response. */
        for (size_t i = 0; i < sizeof(CHAIN) / sizeof(CHAIN[0]) && !rc; i++) {
            rc = evaluate(c, &pr, CHAIN[i], policy->window_seconds, cutoff, &part, err);
            if (rc)
                break;
            scanned += part.scanned;
            eligible += part.eligible;
            gaps |= part.gaps;
            json_array_append_new(chain, json_pack("{s:s, s:s}", "policy",
                                                   attn_truth_policy_id(CHAIN[i]), "status",
                                                   part.status));
            actions_free(&o.picked);
            o = part;
            if (strcmp(part.status, ATTN_TRUTH_NO_RESPONSE))
                break;
        }
    }
    if (rc) {
        actions_free(&o.picked);
        json_decref(chain);
        return rc;
    }

    observed = !strcmp(o.status, ATTN_TRUTH_OBSERVED);
    selected = observed && o.picked.n
                   ? attn_json_obj("kind", json_string(KIND_NAME[o.picked.v[0].kind]), "at",
                                   time_json(o.picked.v[0].at), "id",
                                   json_integer(o.picked.v[0].id), NULL)
                   : json_null();
    diag = attn_json_obj(
        "scanned", json_integer(scanned), "eligible", json_integer(eligible), "gap_resources",
        res_list(gaps), "repo_gap_resources", res_list(c->repo_gaps & POLICY_RES[policy->kind]),
        "horizon", time_json(pr.horizon), "horizon_source",
        pr.horizon_source ? json_string(pr.horizon_source) : json_null(), "partial_targets",
        observed ? json_array() : targets_json(&o.picked), "chain", chain, NULL);
    res = attn_json_obj(
        "policy", json_string(attn_truth_policy_id(policy->kind)), "policy_version",
        json_string(ATTN_TRUTH_POLICY_VERSION), "policy_spec", json_string(policy->spec),
        "policy_hash", json_string(policy->hash), "pr_number", json_integer(pr_number), "cutoff",
        time_json(cutoff), "window_end", time_json(o.window_end), "status",
        json_string(o.status), "targets", observed ? targets_json(&o.picked) : json_array(),
        "selected", selected, "diagnostics", diag, NULL);
    actions_free(&o.picked);
    *out = res;
    return 0;
}
