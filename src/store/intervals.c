/*
 * intervals.c - derived as-of state: rebuilding interval tables from events.
 *
 * Owns the eleven interval tables (SPEC §3, seed 001 §5.6 plus
 * pull_request_base_intervals) and the rules that turn the event log into
 * them. Everything here is derived: a rebuild deletes the rows in scope and
 * replays the events in (occurred_at, id) order, so running it twice gives
 * the same rows. It must never write entities or events, and never read the
 * mutable "latest" columns of entity tables to decide an interval.
 *
 * Boundaries: an interval is active at t when start_at <= t and (end_at IS
 * NULL or t < end_at) - start-inclusive, end-exclusive. Events at the same
 * instant are applied in id order, so an add and a remove in the same second
 * leave a zero-length interval (start_at == end_at). It is kept, because it
 * records that the fact existed, but by the predicate above it is active at
 * no t at all.
 *
 * Rules (the corrections to reference/original.md §4.3 are marked *):
 *  - single-valued tables (state, content, draft, head, base, milestone):
 *    a "set" closes the open interval at this event and opens a new one here.
 *  - issue.content.edit, comment.edited, review.edited, pull_request.head.set
 *    and .base.set carry forward fields absent from the payload*; .content.set
 *    and review.submitted replace the whole value (absent = NULL).
 *  - multi-valued tables (label, assignee, review request): an add for a key
 *    that is already open is ignored* (the first interval stays open), a
 *    remove closes that key only - review requests are keyed by
 *    (reviewer_type, reviewer_id)* - and a remove with nothing open is ignored.
 *  - issue.milestone.clear closes the open milestone only if it names that
 *    milestone (or names none), so a quick change A->B is not lost*.
 *  - comment.deleted closes*; review.dismissed reopens with state DISMISSED*.
 *  - pull_request.base.set drives pull_request_base_intervals*.
 */
#include "store/store_internal.h"
#include "util/alloc.h"
#include "util/hashmap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- tables ----------------------------------------------------------------- */

enum { T_STATE, T_CONTENT, T_LABEL, T_ASSIGNEE, T_MILESTONE, T_DRAFT, T_HEAD, T_BASE,
       T_REVIEW_REQUEST, T_COMMENT, T_REVIEW, T_N };

_Static_assert(T_N == ATTN_INTERVAL_TABLES, "store_internal.h sizes the statement cache");

/* Payload shape of a table: which of (i1, s1, s2) it stores. */
enum { P_STATE, P_INT, P_TEXT2, P_TEXT1, P_REVIEWER };

static const struct itable {
    const char *name, *owner_col, *subject_type;
    int payload;
    const char *insert_sql;
} TABLES[T_N] = {
    {"issue_state_intervals", "issue_id", "issue", P_STATE,
     "INSERT INTO issue_state_intervals (issue_id, state, start_event_id, end_event_id,"
     " start_at, end_at) VALUES (?1,?2,?5,?6,?7,?8)"},
    {"issue_content_intervals", "issue_id", "issue", P_TEXT2,
     "INSERT INTO issue_content_intervals (issue_id, title, body, start_event_id,"
     " end_event_id, start_at, end_at) VALUES (?1,?3,?4,?5,?6,?7,?8)"},
    {"issue_label_intervals", "issue_id", "issue", P_INT,
     "INSERT INTO issue_label_intervals (issue_id, label_id, start_event_id, end_event_id,"
     " start_at, end_at) VALUES (?1,?2,?5,?6,?7,?8)"},
    {"issue_assignee_intervals", "issue_id", "issue", P_INT,
     "INSERT INTO issue_assignee_intervals (issue_id, user_id, start_event_id, end_event_id,"
     " start_at, end_at) VALUES (?1,?2,?5,?6,?7,?8)"},
    {"issue_milestone_intervals", "issue_id", "issue", P_INT,
     "INSERT INTO issue_milestone_intervals (issue_id, milestone_id, start_event_id,"
     " end_event_id, start_at, end_at) VALUES (?1,?2,?5,?6,?7,?8)"},
    {"pull_request_draft_intervals", "pull_request_id", "pull_request", P_INT,
     "INSERT INTO pull_request_draft_intervals (pull_request_id, is_draft, start_event_id,"
     " end_event_id, start_at, end_at) VALUES (?1,?2,?5,?6,?7,?8)"},
    {"pull_request_head_intervals", "pull_request_id", "pull_request", P_TEXT2,
     "INSERT INTO pull_request_head_intervals (pull_request_id, head_sha, head_ref,"
     " start_event_id, end_event_id, start_at, end_at) VALUES (?1,?3,?4,?5,?6,?7,?8)"},
    {"pull_request_base_intervals", "pull_request_id", "pull_request", P_TEXT2,
     "INSERT INTO pull_request_base_intervals (pull_request_id, base_sha, base_ref,"
     " start_event_id, end_event_id, start_at, end_at) VALUES (?1,?3,?4,?5,?6,?7,?8)"},
    {"pull_request_review_request_intervals", "pull_request_id", "pull_request", P_REVIEWER,
     "INSERT INTO pull_request_review_request_intervals (pull_request_id, reviewer_type,"
     " reviewer_id, start_event_id, end_event_id, start_at, end_at)"
     " VALUES (?1,?3,?2,?5,?6,?7,?8)"},
    {"comment_content_intervals", "comment_id", "comment", P_TEXT1,
     "INSERT INTO comment_content_intervals (comment_id, body, start_event_id, end_event_id,"
     " start_at, end_at) VALUES (?1,?3,?5,?6,?7,?8)"},
    {"review_content_intervals", "review_id", "review", P_TEXT2,
     "INSERT INTO review_content_intervals (review_id, body, state, start_event_id,"
     " end_event_id, start_at, end_at) VALUES (?1,?3,?4,?5,?6,?7,?8)"},
};

/* The payload members the text columns (s1, s2 of write_row) come from;
 * NULL where the column is not payload text (the head/base sha is the
 * event's commit_sha). */
static const char *const TEXT_KEY[T_N][2] = {
    [T_CONTENT] = {"title", "body"},
    [T_HEAD] = {NULL, "head_ref"},
    [T_BASE] = {NULL, "base_ref"},
    [T_COMMENT] = {"body", NULL},
    [T_REVIEW] = {"body", "state"},
};

/* ---- open intervals: entries indexed by key ------------------------------------ */

/* Where an open interval's text column comes from. The text itself is not
 * kept: a full rebuild holds the latest title, body, comment and review of
 * every subject open until the end, so kept text would grow with the
 * repository, and with the size of its bodies (issue 16). It is read back
 * from the event when the row is written; the rebuild never writes events,
 * so the read gives the text the event had when it was applied. */
enum {
    TX_NULL,        /* SQL NULL */
    TX_PAYLOAD,     /* string member TEXT_KEY[kind][f] of the event's payload */
    TX_SHA,         /* the event's commit_sha */
    TX_DISMISSED    /* the literal "DISMISSED" (review.dismissed) */
};

typedef struct {
    int64_t ev;             /* the event holding the text (TX_PAYLOAD, TX_SHA) */
    int how;                /* TX_* */
} txt_ref;

static const txt_ref TXT_NULL = {0, TX_NULL};

/* One interval key and, while open, its interval. Key: (kind, owner, k1, k2);
 * k1/k2 are 0 for single-valued tables, the label/user id for label/assignee,
 * and (reviewer_id, 0 user | 1 team) for review requests. */
typedef struct {
    int64_t owner, k1;
    int64_t start_event_id, start_at;
    int64_t i1;             /* label/user/milestone id, is_draft, state (1 open), reviewer id */
    int64_t src[2];         /* txt_ref.ev of s1, s2: title/body, head sha/ref, base sha/ref, */
    unsigned char how[2];   /* body/state, body (txt_ref.how) */
    unsigned char open, kind, k2;
} open_iv;

/* Every key seen, in a dense array: a closed key stays (open = 0) and is
 * reused when it opens again, so nothing is ever removed from the index.
 * A full rebuild of 50,000 PRs holds ~800,000 keys; the array (64 bytes a
 * key) and attn_imap's index (16 bytes a slot, at most half full) take about
 * half what the earlier half-empty table of 64-byte slots did (issue 16). */
typedef struct {
    open_iv *ent;
    size_t n, alloc;
    attn_imap index;
} iv_map;

typedef struct {
    const iv_map *m;
    int64_t owner, k1;
    int kind, k2;
} iv_key;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t key_hash(const iv_key *k)
{
    uint64_t h = mix((uint64_t)k->owner * 31u + (uint64_t)k->kind);
    return mix(h ^ ((uint64_t)k->k1 * 2654435761u) ^ ((uint64_t)k->k2 << 56));
}

static int key_eq(const void *ctx, size_t index)
{
    const iv_key *k = ctx;
    const open_iv *e = &k->m->ent[index];
    return e->kind == k->kind && e->owner == k->owner && e->k1 == k->k1 && e->k2 == k->k2;
}

/* The entry of a key, open or not; NULL if never seen. */
static open_iv *map_lookup(const iv_map *m, int kind, int64_t owner, int64_t k1, int k2)
{
    iv_key k = {m, owner, k1, kind, k2};
    size_t i = attn_imap_find(&m->index, key_hash(&k), key_eq, &k);
    return i == ATTN_IMAP_NONE ? NULL : &m->ent[i];
}

/* The open interval of a key, or NULL. */
static open_iv *map_find(iv_map *m, int kind, int64_t owner, int64_t k1, int k2)
{
    open_iv *e = map_lookup(m, kind, owner, k1, k2);
    return e && e->open ? e : NULL;
}

/* Open a key known not to be open. May move the entries: pointers from
 * earlier map_find calls are stale afterwards. */
static open_iv *map_add(iv_map *m, int kind, int64_t owner, int64_t k1, int k2)
{
    open_iv *e = map_lookup(m, kind, owner, k1, k2);
    if (!e) {
        iv_key k = {m, owner, k1, kind, k2};
        ATTN_ALLOC_GROW(m->ent, m->n + 1, m->alloc);
        e = &m->ent[m->n];
        attn_imap_add(&m->index, key_hash(&k), m->n++);
    }
    memset(e, 0, sizeof(*e));
    e->open = 1;
    e->kind = (unsigned char)kind;
    e->owner = owner;
    e->k1 = k1;
    e->k2 = (unsigned char)k2;
    return e;
}

static void map_del(open_iv *e)
{
    e->open = 0;
}

static void map_free(iv_map *m)
{
    free(m->ent);
    attn_imap_free(&m->index);
    memset(m, 0, sizeof(*m));
}

/* ---- the rebuild pass ---------------------------------------------------------- */

typedef struct {
    int64_t id, at;
} ev_ref;

typedef struct {
    attn_store *s;
    sqlite3_stmt *ins[T_N];
    sqlite3_stmt *text_q;   /* SQL_EVENT_TEXT */
    iv_map open;
    attn_rebuild_stats stats;
    attn_error *err;
} rebuild;

static const char SQL_EVENT_TEXT[] = "SELECT commit_sha, payload_json FROM events WHERE id = ?1";

/* Read event `id` back: its commit_sha (copied) and its payload if that is a
 * JSON object, as apply() parsed it. */
static int load_event(rebuild *r, int64_t id, char **sha, json_t **doc)
{
    sqlite3_stmt *q = r->text_q;
    int rc = 0;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, id);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(q, 0);
        *sha = c ? attn_xstrdup(c) : NULL;
        if (sqlite3_column_type(q, 1) != SQLITE_NULL)
            *doc = json_loads((const char *)sqlite3_column_text(q, 1), 0, NULL);
    } else if (step == SQLITE_DONE) {
        rc = attn_error_set(r->err, ATTN_ECORRUPT,
                            "event %lld went missing during the interval rebuild of '%s'",
                            (long long)id, r->s->path);
    } else {
        rc = attn_store_db_error(r->s, r->err, "reading an event for the interval rebuild");
    }
    sqlite3_reset(q);
    return rc;
}

/* The text columns of an open interval (text tables only), read back from
 * the events they came from; both usually name the same event, read once. */
static int fetch_text(rebuild *r, const open_iv *e, char *out[2])
{
    int64_t loaded = 0;
    char *sha = NULL;
    json_t *doc = NULL;
    int rc = 0;
    for (int f = 0; f < 2 && !rc; f++) {
        if (e->how[f] == TX_DISMISSED)
            out[f] = attn_xstrdup("DISMISSED");
        if (e->how[f] != TX_PAYLOAD && e->how[f] != TX_SHA)
            continue;
        if (e->src[f] != loaded) {
            free(sha);
            json_decref(doc);
            sha = NULL;
            doc = NULL;
            if ((rc = load_event(r, e->src[f], &sha, &doc)))
                break;
            loaded = e->src[f];
        }
        json_t *v = json_object_get(doc, TEXT_KEY[e->kind][f]);
        if (e->how[f] == TX_SHA ? !sha : !json_is_string(v))
            rc = attn_error_set(r->err, ATTN_ECORRUPT,
                                "event %lld changed during the interval rebuild of '%s'",
                                (long long)e->src[f], r->s->path);
        else
            out[f] = attn_xstrdup(e->how[f] == TX_SHA ? sha : json_string_value(v));
    }
    free(sha);
    json_decref(doc);
    return rc;
}

static int write_row(rebuild *r, const open_iv *e, const ev_ref *end)
{
    sqlite3_stmt *st = r->ins[e->kind];
    const struct itable *t = &TABLES[e->kind];
    char *text[2] = {NULL, NULL};
    int rc;
    if ((t->payload == P_TEXT1 || t->payload == P_TEXT2) && (rc = fetch_text(r, e, text))) {
        free(text[0]);
        free(text[1]);
        return rc;
    }
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, e->owner);
    switch (t->payload) {
    case P_STATE:
        sqlite3_bind_text(st, 2, e->i1 ? "open" : "closed", -1, SQLITE_STATIC);
        break;
    case P_INT:
        sqlite3_bind_int64(st, 2, e->i1);
        break;
    case P_REVIEWER:
        sqlite3_bind_int64(st, 2, e->k1);
        sqlite3_bind_text(st, 3, e->k2 ? "team" : "user", -1, SQLITE_STATIC);
        break;
    case P_TEXT2:
        attn_store_bind_text(st, 4, text[1]);
        /* fall through */
    case P_TEXT1:
        attn_store_bind_text(st, 3, text[0]);
        break;
    }
    sqlite3_bind_int64(st, 5, e->start_event_id);
    sqlite3_bind_int64(st, 7, e->start_at);
    if (end) {
        sqlite3_bind_int64(st, 6, end->id);
        sqlite3_bind_int64(st, 8, end->at);
    } else {
        sqlite3_bind_null(st, 6);
        sqlite3_bind_null(st, 8);
    }
    rc = 0;
    if (sqlite3_step(st) != SQLITE_DONE) {
        char what[256];
        snprintf(what, sizeof(what), "writing %s row for %s %lld (started by event %lld)",
                 t->name, t->owner_col, (long long)e->owner, (long long)e->start_event_id);
        rc = attn_store_db_error(r->s, r->err, what);
    }
    sqlite3_reset(st);  /* before the text it borrowed (SQLITE_STATIC) is freed */
    free(text[0]);
    free(text[1]);
    if (!rc)
        r->stats.intervals_written++;
    return rc;
}

/* Close an open interval at event `at`: write it, forget it. */
static int close_iv(rebuild *r, open_iv *e, const ev_ref *at)
{
    int rc = write_row(r, e, at);
    map_del(e);
    return rc;
}

/* Open a new interval at event `at` (the key must not be open). */
static int open_new(rebuild *r, int kind, int64_t owner, int64_t k1, int k2, const ev_ref *at,
                    int64_t i1, txt_ref s1, txt_ref s2)
{
    open_iv *e = map_add(&r->open, kind, owner, k1, k2);
    e->start_event_id = at->id;
    e->start_at = at->at;
    e->i1 = i1;
    e->src[0] = s1.ev;
    e->how[0] = (unsigned char)s1.how;
    e->src[1] = s2.ev;
    e->how[1] = (unsigned char)s2.how;
    return 0;
}

/* Choose text field f of a new `kind` interval: the payload's member when
 * present (a string, or an explicit null or other value, which sets NULL),
 * else (if carrying) the open interval's value, else NULL. */
static txt_ref pick(json_t *p, int kind, int f, int carry, const open_iv *cur, const ev_ref *at)
{
    json_t *v = p ? json_object_get(p, TEXT_KEY[kind][f]) : NULL;
    if (v)
        return json_is_string(v) ? (txt_ref){at->id, TX_PAYLOAD} : TXT_NULL;
    if (carry && cur)
        return (txt_ref){cur->src[f], cur->how[f]};
    return TXT_NULL;
}

/* Single-valued set: close what is open for the owner, open the new value. */
static int set_single(rebuild *r, int kind, int64_t owner, const ev_ref *at, int64_t i1,
                      txt_ref s1, txt_ref s2)
{
    open_iv *cur = map_find(&r->open, kind, owner, 0, 0);
    int rc;
    if (cur && (rc = close_iv(r, cur, at)))
        return rc;
    return open_new(r, kind, owner, 0, 0, at, i1, s1, s2);
}

static int multi_add(rebuild *r, int kind, int64_t owner, int64_t key, int k2, const ev_ref *at)
{
    /* An add for a key already open keeps the first interval: GitHub repeats
     * "labeled" events, and a second row would overlap the first. */
    if (map_find(&r->open, kind, owner, key, k2))
        return 0;
    return open_new(r, kind, owner, key, k2, at, key, TXT_NULL, TXT_NULL);
}

static int multi_remove(rebuild *r, int kind, int64_t owner, int64_t key, int k2,
                        const ev_ref *at)
{
    open_iv *cur = map_find(&r->open, kind, owner, key, k2);
    return cur ? close_iv(r, cur, at) : 0;   /* nothing open: ignored */
}

/* Reviewer type in the one stored spelling; -1 for anything else. */
static int reviewer_kind(const char *object_type)
{
    if (!object_type)
        return -1;
    if (!strcasecmp(object_type, "user"))
        return 0;
    if (!strcasecmp(object_type, "team"))
        return 1;
    return -1;
}

/* Event types the rebuild understands (store.h documents the vocabulary). */
enum {
    E_IGNORE, E_ISSUE_OPEN, E_ISSUE_CLOSE, E_CONTENT_SET, E_CONTENT_EDIT, E_LABEL_ADD,
    E_LABEL_REMOVE, E_ASSIGNEE_ADD, E_ASSIGNEE_REMOVE, E_MILESTONE_SET, E_MILESTONE_CLEAR,
    E_DRAFT_SET, E_HEAD_SET, E_BASE_SET, E_RR_ADD, E_RR_REMOVE, E_COMMENT_CREATED,
    E_COMMENT_EDITED, E_COMMENT_DELETED, E_REVIEW_SUBMITTED, E_REVIEW_EDITED,
    E_REVIEW_DISMISSED
};

static const struct {
    const char *type, *subject;
    int action;
} VOCAB[] = {
    {"issue.opened", "issue", E_ISSUE_OPEN},
    {"issue.reopened", "issue", E_ISSUE_OPEN},
    {"issue.closed", "issue", E_ISSUE_CLOSE},
    {"issue.content.set", "issue", E_CONTENT_SET},
    {"issue.content.edit", "issue", E_CONTENT_EDIT},
    {"issue.label.add", "issue", E_LABEL_ADD},
    {"issue.label.remove", "issue", E_LABEL_REMOVE},
    {"issue.assignee.add", "issue", E_ASSIGNEE_ADD},
    {"issue.assignee.remove", "issue", E_ASSIGNEE_REMOVE},
    {"issue.milestone.set", "issue", E_MILESTONE_SET},
    {"issue.milestone.clear", "issue", E_MILESTONE_CLEAR},
    {"pull_request.draft.set", "pull_request", E_DRAFT_SET},
    {"pull_request.head.set", "pull_request", E_HEAD_SET},
    {"pull_request.base.set", "pull_request", E_BASE_SET},
    {"pull_request.review_request.add", "pull_request", E_RR_ADD},
    {"pull_request.review_request.remove", "pull_request", E_RR_REMOVE},
    {"comment.created", "comment", E_COMMENT_CREATED},
    {"comment.edited", "comment", E_COMMENT_EDITED},
    {"comment.deleted", "comment", E_COMMENT_DELETED},
    {"review.submitted", "review", E_REVIEW_SUBMITTED},
    {"review.edited", "review", E_REVIEW_EDITED},
    {"review.dismissed", "review", E_REVIEW_DISMISSED},
};

static int classify(const char *type, const char *subject)
{
    if (!type || !subject)
        return E_IGNORE;
    for (size_t i = 0; i < sizeof(VOCAB) / sizeof(VOCAB[0]); i++)
        if (type[0] == VOCAB[i].type[0] && !strcmp(type, VOCAB[i].type))
            /* An event filed under another subject would put an interval on
             * the wrong owner; the contract check rejects such rows. */
            return strcmp(subject, VOCAB[i].subject) ? E_IGNORE : VOCAB[i].action;
    return E_IGNORE;
}

static int needs_payload(int action)
{
    switch (action) {
    case E_CONTENT_SET: case E_CONTENT_EDIT: case E_DRAFT_SET: case E_HEAD_SET:
    case E_BASE_SET: case E_COMMENT_CREATED: case E_COMMENT_EDITED:
    case E_REVIEW_SUBMITTED: case E_REVIEW_EDITED: case E_REVIEW_DISMISSED:
        return 1;
    }
    return 0;
}

/* Apply one event. Columns: id, occurred_at, subject_type, subject_id,
 * event_type, object_type, object_id, commit_sha, payload_json. */
static int apply(rebuild *r, sqlite3_stmt *q)
{
    const char *subject = (const char *)sqlite3_column_text(q, 2);
    const char *type = (const char *)sqlite3_column_text(q, 4);
    int action = classify(type, subject), rc = 0, k2;
    ev_ref at = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1)};
    int64_t owner = sqlite3_column_int64(q, 3);
    int has_object = sqlite3_column_type(q, 6) != SQLITE_NULL;
    int64_t object = sqlite3_column_int64(q, 6);
    json_t *p = NULL;
    open_iv *cur;

    if (action == E_IGNORE)
        return 0;
    if (needs_payload(action) && sqlite3_column_type(q, 8) != SQLITE_NULL) {
        /* A malformed payload is treated as empty: the event still marks the
         * instant of the change, and the log itself is never rewritten. */
        p = json_loads((const char *)sqlite3_column_text(q, 8), 0, NULL);
        if (p && !json_is_object(p)) {
            json_decref(p);
            p = NULL;
        }
    }
    switch (action) {
    case E_ISSUE_OPEN:
    case E_ISSUE_CLOSE:
        rc = set_single(r, T_STATE, owner, &at, action == E_ISSUE_OPEN, TXT_NULL, TXT_NULL);
        break;
    case E_CONTENT_SET:
    case E_CONTENT_EDIT: {
        int carry = action == E_CONTENT_EDIT;
        cur = map_find(&r->open, T_CONTENT, owner, 0, 0);
        rc = set_single(r, T_CONTENT, owner, &at, 0, pick(p, T_CONTENT, 0, carry, cur, &at),
                        pick(p, T_CONTENT, 1, carry, cur, &at));
        break;
    }
    case E_LABEL_ADD:
    case E_ASSIGNEE_ADD:
        if (has_object)
            rc = multi_add(r, action == E_LABEL_ADD ? T_LABEL : T_ASSIGNEE, owner, object, 0, &at);
        break;
    case E_LABEL_REMOVE:
    case E_ASSIGNEE_REMOVE:
        if (has_object)
            rc = multi_remove(r, action == E_LABEL_REMOVE ? T_LABEL : T_ASSIGNEE, owner, object,
                              0, &at);
        break;
    case E_MILESTONE_SET:
        if (has_object)
            rc = set_single(r, T_MILESTONE, owner, &at, object, TXT_NULL, TXT_NULL);
        break;
    case E_MILESTONE_CLEAR:
        cur = map_find(&r->open, T_MILESTONE, owner, 0, 0);
        if (cur && (!has_object || cur->i1 == object))
            rc = close_iv(r, cur, &at);
        break;
    case E_DRAFT_SET:
        rc = set_single(r, T_DRAFT, owner, &at, json_is_true(json_object_get(p, "is_draft")),
                        TXT_NULL, TXT_NULL);
        break;
    case E_HEAD_SET:
    case E_BASE_SET: {
        /* The sha is the event's own: a new head or base invalidates the old
         * sha even when the event cannot name the new one. The ref carries. */
        int kind = action == E_HEAD_SET ? T_HEAD : T_BASE;
        txt_ref sha = sqlite3_column_text(q, 7) ? (txt_ref){at.id, TX_SHA} : TXT_NULL;
        cur = map_find(&r->open, kind, owner, 0, 0);
        rc = set_single(r, kind, owner, &at, 0, sha, pick(p, kind, 1, 1, cur, &at));
        break;
    }
    case E_RR_ADD:
    case E_RR_REMOVE:
        k2 = reviewer_kind((const char *)sqlite3_column_text(q, 5));
        if (k2 < 0 || !has_object)
            break;
        rc = action == E_RR_ADD ? multi_add(r, T_REVIEW_REQUEST, owner, object, k2, &at)
                                : multi_remove(r, T_REVIEW_REQUEST, owner, object, k2, &at);
        break;
    case E_COMMENT_CREATED:
    case E_COMMENT_EDITED:
        cur = map_find(&r->open, T_COMMENT, owner, 0, 0);
        rc = set_single(r, T_COMMENT, owner, &at, 0,
                        pick(p, T_COMMENT, 0, action == E_COMMENT_EDITED, cur, &at), TXT_NULL);
        break;
    case E_COMMENT_DELETED:
        cur = map_find(&r->open, T_COMMENT, owner, 0, 0);
        if (cur)
            rc = close_iv(r, cur, &at);
        break;
    case E_REVIEW_SUBMITTED:
    case E_REVIEW_EDITED:
    case E_REVIEW_DISMISSED: {
        int carry = action != E_REVIEW_SUBMITTED;
        cur = map_find(&r->open, T_REVIEW, owner, 0, 0);
        txt_ref state = action == E_REVIEW_DISMISSED ? (txt_ref){0, TX_DISMISSED}
                                                     : pick(p, T_REVIEW, 1, carry, cur, &at);
        rc = set_single(r, T_REVIEW, owner, &at, 0, pick(p, T_REVIEW, 0, carry, cur, &at), state);
        break;
    }
    }
    json_decref(p);
    return rc;
}

/* Write still-open intervals in start order, so row order does not depend on
 * the order keys were first seen. */
static int cmp_open(const void *a, const void *b)
{
    const open_iv *x = *(const open_iv *const *)a, *y = *(const open_iv *const *)b;
    if (x->start_event_id != y->start_event_id)
        return x->start_event_id < y->start_event_id ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    return (int)x->k2 - (int)y->k2;
}

static int flush_open(rebuild *r)
{
    open_iv **list;
    size_t n = 0;
    int rc = 0;
    if (!r->open.n)
        return 0;
    list = attn_xmalloc(attn_st_mult(r->open.n, sizeof(*list)));
    for (size_t i = 0; i < r->open.n; i++)
        if (r->open.ent[i].open)
            list[n++] = &r->open.ent[i];
    qsort(list, n, sizeof(*list), cmp_open);
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_row(r, list[i], NULL);
    free(list);
    return rc;
}

/* ---- scope and driver ---------------------------------------------------------- */

static const char SQL_SCOPE_CREATE[] =
    "CREATE TEMP TABLE IF NOT EXISTS attn_rebuild_scope ("
    " subject_type TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (subject_type, id))"
    " WITHOUT ROWID";

static const char SQL_SCOPE_CLEAR[] = "DELETE FROM temp.attn_rebuild_scope";

static const char SQL_SCOPE_ADD[] =
    "INSERT OR IGNORE INTO temp.attn_rebuild_scope (subject_type, id) VALUES (?1, ?2)";

/* Close the scope over the links between rows: a PR and its issue share
 * content and labels, and a PR's or issue's reviews and comments belong to it. */
static const char *const SQL_SCOPE_CLOSE[4] = {
    "INSERT OR IGNORE INTO temp.attn_rebuild_scope"
    " SELECT 'issue', issue_id FROM pull_requests WHERE issue_id IS NOT NULL AND id IN"
    "  (SELECT id FROM temp.attn_rebuild_scope WHERE subject_type = 'pull_request')",
    "INSERT OR IGNORE INTO temp.attn_rebuild_scope"
    " SELECT 'pull_request', id FROM pull_requests WHERE issue_id IN"
    "  (SELECT id FROM temp.attn_rebuild_scope WHERE subject_type = 'issue')",
    "INSERT OR IGNORE INTO temp.attn_rebuild_scope"
    " SELECT 'review', id FROM reviews WHERE pull_request_id IN"
    "  (SELECT id FROM temp.attn_rebuild_scope WHERE subject_type = 'pull_request')",
    "INSERT OR IGNORE INTO temp.attn_rebuild_scope"
    " SELECT 'comment', id FROM comments WHERE pull_request_id IN"
    "  (SELECT id FROM temp.attn_rebuild_scope WHERE subject_type = 'pull_request')"
    "  OR issue_id IN (SELECT id FROM temp.attn_rebuild_scope WHERE subject_type = 'issue')",
};

static const char SQL_EVENTS_ALL[] =
    "SELECT id, occurred_at, subject_type, subject_id, event_type, object_type, object_id,"
    " commit_sha, payload_json FROM events WHERE repo_id = ?1 ORDER BY occurred_at, id";

/* CROSS JOIN pins the loop order: scope first, then ix_events_subject, then a
 * sort of the few rows found. With a plain JOIN the planner (no statistics
 * on the temp table) walked every event of the repository in time order and
 * probed the scope, so one webhook delivery cost O(all events). */
static const char SQL_EVENTS_SCOPED[] =
    "SELECT e.id, e.occurred_at, e.subject_type, e.subject_id, e.event_type, e.object_type,"
    " e.object_id, e.commit_sha, e.payload_json"
    " FROM temp.attn_rebuild_scope sc"
    " CROSS JOIN events e ON e.subject_type = sc.subject_type AND e.subject_id = sc.id"
    " WHERE e.repo_id = ?1 ORDER BY e.occurred_at, e.id";

static const char SQL_OTHER_REPOS[] = "SELECT count(*) FROM repos WHERE id <> ?1";

static int prepare(attn_store *s, const char *sql, sqlite3_stmt **st, attn_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return attn_store_db_error(s, err, "preparing the interval rebuild");
    return 0;
}

/* Run a cached statement that returns no rows (statements of the scoped
 * rebuild, prepared once per handle, attn_store_stmt). */
static int step_cached(attn_store *s, attn_store_stmt_id id, const char *sql, const char *what,
                       attn_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = attn_store_stmt(s, id, sql, &st, err)))
        return rc;
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : attn_store_db_error(s, err, what);
    sqlite3_reset(st);
    return rc;
}

static int fill_scope(attn_store *s, const attn_rebuild_scope *scope, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0; /* the two ifs below leave it unset when the cached clear succeeds */
    /* The temp table lives as long as the connection, so it is created
     * before the first statement naming it is prepared, and again if a
     * rolled-back transaction took it away. */
    if (!s->stmts[ST_RB_SCOPE_CLEAR] &&
        (rc = attn_store_exec(s, SQL_SCOPE_CREATE, "preparing the rebuild scope", err)))
        return rc;
    if (step_cached(s, ST_RB_SCOPE_CLEAR, SQL_SCOPE_CLEAR, "clearing the rebuild scope", err) &&
        ((rc = attn_store_exec(s, SQL_SCOPE_CREATE, "preparing the rebuild scope", err)) ||
         (rc = step_cached(s, ST_RB_SCOPE_CLEAR, SQL_SCOPE_CLEAR, "clearing the rebuild scope",
                           err))))
        return rc;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        const int64_t *ids = pass ? scope->pull_request_ids : scope->issue_ids;
        size_t n = pass ? scope->n_pull_request_ids : scope->n_issue_ids;
        for (size_t i = 0; ids && i < n; i++) {
            if ((rc = attn_store_stmt(s, ST_RB_SCOPE_ADD, SQL_SCOPE_ADD, &st, err)))
                return rc;
            sqlite3_bind_text(st, 1, pass ? "pull_request" : "issue", -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, ids[i]);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = attn_store_db_error(s, err, "filling the rebuild scope");
            sqlite3_reset(st);
            if (rc)
                return rc;
        }
    }
    for (int i = 0; i < 4 && !rc; i++)
        rc = step_cached(s, (attn_store_stmt_id)(ST_RB_SCOPE_CLOSE + i), SQL_SCOPE_CLOSE[i],
                         "filling the rebuild scope", err);
    return rc;
}

/* Delete the interval rows the rebuild will recreate. Table and column
 * names come from TABLES, never from input. */
static int delete_scope(attn_store *s, int64_t repo_id, int scoped, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    int64_t others = 0;
    int rc = 0;
    char sql[512];

    if (!scoped) {
        if ((rc = prepare(s, SQL_OTHER_REPOS, &st, err)))
            return rc;
        sqlite3_bind_int64(st, 1, repo_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            others = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    for (int t = 0; t < T_N && !rc; t++) {
        const struct itable *it = &TABLES[t];
        if (scoped) {
            snprintf(sql, sizeof(sql),
                     "DELETE FROM %s WHERE %s IN (SELECT id FROM temp.attn_rebuild_scope"
                     " WHERE subject_type = '%s')",
                     it->name, it->owner_col, it->subject_type);
            rc = step_cached(s, (attn_store_stmt_id)(ST_RB_DELETE + t), sql,
                             "deleting old intervals", err);
            continue;
        }
        if (others)
            snprintf(sql, sizeof(sql),
                     "DELETE FROM %s WHERE start_event_id IN (SELECT id FROM events"
                     " WHERE repo_id = ?1)",
                     it->name);
        else    /* the usual one-repository file: let SQLite truncate */
            snprintf(sql, sizeof(sql), "DELETE FROM %s", it->name);
        if ((rc = prepare(s, sql, &st, err)))
            return rc;
        if (sqlite3_bind_parameter_count(st) > 0)
            sqlite3_bind_int64(st, 1, repo_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = attn_store_db_error(s, err, "deleting old intervals");
        sqlite3_finalize(st);
    }
    return rc;
}

static int run_rebuild(attn_store *s, int64_t repo_id, const attn_rebuild_scope *scope,
                       rebuild *r, attn_error *err)
{
    sqlite3_stmt *q = NULL;
    int rc, step;

    if (scope && (rc = fill_scope(s, scope, err)))
        return rc;
    if ((rc = delete_scope(s, repo_id, scope != NULL, err)))
        return rc;
    for (int t = 0; t < T_N; t++)
        if ((rc = attn_store_stmt(s, (attn_store_stmt_id)(ST_RB_INSERT + t), TABLES[t].insert_sql,
                                  &r->ins[t], err)))
            return rc;
    if ((rc = attn_store_stmt(s, ST_RB_EVENT_TEXT, SQL_EVENT_TEXT, &r->text_q, err)))
        return rc;
    if ((rc = scope ? attn_store_stmt(s, ST_RB_EVENTS_SCOPED, SQL_EVENTS_SCOPED, &q, err)
                    : prepare(s, SQL_EVENTS_ALL, &q, err)))
        return rc;
    sqlite3_bind_int64(q, 1, repo_id);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        r->stats.events_read++;
        if ((rc = apply(r, q)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = attn_store_db_error(s, err, "reading events for the interval rebuild");
    if (scope)
        sqlite3_reset(q); /* cached (attn_store_stmt) */
    else
        sqlite3_finalize(q);
    if (!rc)
        rc = flush_open(r);
    return rc;
}

int attn_store_rebuild_intervals(attn_store *s, int64_t repo_id, const attn_rebuild_scope *scope,
                                 attn_rebuild_stats *stats, attn_error *err)
{
    rebuild r;
    int rc, own_tx = sqlite3_get_autocommit(s->db);

    memset(&r, 0, sizeof(r));
    r.s = s;
    r.err = err;
    if (s->readonly)
        return attn_error_set(err, ATTN_EINVAL, "'%s' is open read-only; cannot rebuild intervals",
                              s->path);
    /* Own transaction when none is open; a savepoint inside the caller's, so a
     * failed rebuild never leaves half the intervals deleted either way. */
    if ((rc = attn_store_exec(s, own_tx ? "BEGIN IMMEDIATE" : "SAVEPOINT attn_rebuild",
                              "starting the interval rebuild", err)))
        return rc;
    rc = run_rebuild(s, repo_id, scope, &r, err);
    for (int t = 0; t < T_N; t++) /* cached by the store (attn_store_stmt) */
        if (r.ins[t])
            sqlite3_reset(r.ins[t]);
    if (r.text_q)
        sqlite3_reset(r.text_q);
    map_free(&r.open);
    if (rc) {
        if (own_tx)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        else
            sqlite3_exec(s->db, "ROLLBACK TO attn_rebuild; RELEASE attn_rebuild", NULL, NULL,
                         NULL);
        return rc;
    }
    if ((rc = attn_store_exec(s, own_tx ? "COMMIT" : "RELEASE attn_rebuild",
                              "committing the interval rebuild", err))) {
        if (own_tx)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (stats)
        *stats = r.stats;
    return 0;
}

/* ---- as-of helper ---------------------------------------------------------------- */

/* The boundary predicate, in the one place the store itself evaluates it. */
static const char SQL_LABEL_ACTIVE_AT[] =
    "SELECT EXISTS (SELECT 1 FROM issue_label_intervals WHERE issue_id = ?1 AND label_id = ?2"
    " AND start_at <= ?3 AND (end_at IS NULL OR ?3 < end_at))";

int attn_store_label_active_at(attn_store *s, int64_t issue_id, int64_t label_id, int64_t t,
                               int *active, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = prepare(s, SQL_LABEL_ACTIVE_AT, &st, err)))
        return rc;
    sqlite3_bind_int64(st, 1, issue_id);
    sqlite3_bind_int64(st, 2, label_id);
    sqlite3_bind_int64(st, 3, t);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = attn_store_db_error(s, err, "reading label intervals");
    } else {
        *active = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return rc;
}
