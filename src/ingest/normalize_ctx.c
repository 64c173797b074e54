/*
 * normalize_ctx.c - the normalization context: lookup caches and event emission.
 *
 * Owns: number -> (issue id, PR id, head sha) and name -> id caches filled as
 * objects are normalized, with the store as the fallback (live ingestion sees
 * a PR's events pages after the PR); norm_emit, the one place events are
 * written and counted. Must never: cache anything across contexts (no
 * globals), or write an event without a key.
 */
#include "ingest/normalize_internal.h"
#include "util/alloc.h"
#include "util/hashmap.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t number, issue_id, pr_id;
    char *head_sha, *head_ref;
} num_slot;

typedef struct {
    char *name;
    int64_t id;
} name_slot;

/* name -> id: the entries, indexed by their names' hashes. */
typedef struct {
    name_slot *v;
    size_t n, cap;
    attn_imap index;
} name_table;

struct attn_norm_map {
    num_slot *nums;          /* one per number seen, indexed by number in by_number */
    size_t nn, ncap;
    attn_map64 by_number;
    name_table labels, milestones;
    attn_map64 users;        /* user ids upserted through this ctx */
    attn_map64 synth_closed; /* first load: issue ids given a synthesized close */
    sqlite3_stmt *q_pr, *q_issue, *q_label, *q_milestone;
};

static const char *SQL_PR_BY_NUMBER =
    "SELECT id, issue_id, head_sha FROM pull_requests WHERE repo_id = ?1 AND number = ?2";
static const char *SQL_ISSUE_BY_NUMBER =
    "SELECT id FROM issues WHERE repo_id = ?1 AND number = ?2";
static const char *SQL_LABEL_BY_NAME =
    "SELECT id FROM labels WHERE repo_id = ?1 AND name = ?2";
static const char *SQL_MILESTONE_BY_TITLE =
    "SELECT id FROM milestones WHERE repo_id = ?1 AND title = ?2";

int attn_norm_ctx_init(attn_norm_ctx *ctx, attn_store *store, int64_t repo_id,
                       attn_error *err)
{
    (void)err;
    memset(ctx, 0, sizeof(*ctx));
    ctx->store = store;
    ctx->repo_id = repo_id;
    ctx->observed_at = ATTN_NULL_I64;
    ctx->map = attn_xcalloc(1, sizeof(*ctx->map));
    return 0;
}

static void name_table_free(name_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    free(t->v);
    attn_imap_free(&t->index);
}

void attn_norm_ctx_free(attn_norm_ctx *ctx)
{
    attn_norm_map *m = ctx ? ctx->map : NULL;
    if (!m)
        return;
    for (size_t i = 0; i < m->nn; i++)
        free(m->nums[i].head_sha), free(m->nums[i].head_ref);
    free(m->nums);
    attn_map64_free(&m->by_number);
    attn_map64_free(&m->users);
    attn_map64_free(&m->synth_closed);
    name_table_free(&m->labels);
    name_table_free(&m->milestones);
    sqlite3_finalize(m->q_pr);
    sqlite3_finalize(m->q_issue);
    sqlite3_finalize(m->q_label);
    sqlite3_finalize(m->q_milestone);
    free(m);
    ctx->map = NULL;
}

/* ---- number cache ------------------------------------------------------- */

static num_slot *num_find(attn_norm_map *m, int64_t number)
{
    uint32_t i = attn_map64_get(&m->by_number, (uint64_t)number);
    return i == ATTN_MAP64_NONE ? NULL : &m->nums[i];
}

static num_slot *num_insert(attn_norm_map *m, int64_t number)
{
    num_slot *s = num_find(m, number);
    if (s)
        return s;
    if (m->nn >= ATTN_MAP64_NONE - 1)
        attn_st_mult(SIZE_MAX, 2);   /* dies with one line: more numbers than ids */
    ATTN_ALLOC_GROW(m->nums, m->nn + 1, m->ncap);
    s = &m->nums[m->nn];
    memset(s, 0, sizeof(*s));
    s->number = number;
    s->issue_id = ATTN_NULL_I64;
    s->pr_id = ATTN_NULL_I64;
    attn_map64_put(&m->by_number, (uint64_t)number, (uint32_t)m->nn++);
    return s;
}

static void set_str(char **slot, const char *v)
{
    if (!v)
        return;
    free(*slot);
    *slot = attn_xstrdup(v);
}

void norm_map_note_head_ref(attn_norm_ctx *ctx, int64_t number, const char *head_ref)
{
    set_str(&num_insert(ctx->map, number)->head_ref, head_ref);
}

const char *norm_map_head_ref(attn_norm_ctx *ctx, int64_t number)
{
    num_slot *s = num_find(ctx->map, number);
    return s ? s->head_ref : NULL;
}

void norm_map_note_number(attn_norm_ctx *ctx, int64_t number, int64_t issue_id,
                          int64_t pull_request_id, const char *head_sha)
{
    num_slot *s = num_insert(ctx->map, number);
    if (issue_id != ATTN_NULL_I64)
        s->issue_id = issue_id;
    if (pull_request_id != ATTN_NULL_I64)
        s->pr_id = pull_request_id;
    set_str(&s->head_sha, head_sha);
}

static int prep(attn_norm_ctx *ctx, sqlite3_stmt **st, const char *sql, attn_error *err)
{
    sqlite3 *db = attn_store_db(ctx->store);
    if (*st) {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
        return 0;
    }
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "normalize lookup: %s", sqlite3_errmsg(db));
    return 0;
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? ATTN_NULL_I64
                                                     : sqlite3_column_int64(st, i);
}

/* Fill the cache for number from the store when it is not known yet. */
static int num_resolve(attn_norm_ctx *ctx, int64_t number, num_slot **out, attn_error *err)
{
    attn_norm_map *m = ctx->map;
    num_slot *s = num_find(m, number);
    int rc;
    if (s && s->pr_id != ATTN_NULL_I64 && s->issue_id != ATTN_NULL_I64) {
        *out = s;
        return 0;
    }
    int64_t issue_id = ATTN_NULL_I64, pr_id = ATTN_NULL_I64;
    const char *head = NULL;
    char *head_copy = NULL;
    if ((rc = prep(ctx, &m->q_pr, SQL_PR_BY_NUMBER, err)))
        return rc;
    sqlite3_bind_int64(m->q_pr, 1, ctx->repo_id);
    sqlite3_bind_int64(m->q_pr, 2, number);
    if (sqlite3_step(m->q_pr) == SQLITE_ROW) {
        pr_id = col_i64(m->q_pr, 0);
        issue_id = col_i64(m->q_pr, 1);
        head = (const char *)sqlite3_column_text(m->q_pr, 2);
        if (head)
            head_copy = attn_xstrdup(head);
    }
    sqlite3_reset(m->q_pr);
    if (issue_id == ATTN_NULL_I64) {
        if ((rc = prep(ctx, &m->q_issue, SQL_ISSUE_BY_NUMBER, err))) {
            free(head_copy);
            return rc;
        }
        sqlite3_bind_int64(m->q_issue, 1, ctx->repo_id);
        sqlite3_bind_int64(m->q_issue, 2, number);
        if (sqlite3_step(m->q_issue) == SQLITE_ROW)
            issue_id = col_i64(m->q_issue, 0);
        sqlite3_reset(m->q_issue);
    }
    if (issue_id == ATTN_NULL_I64 && pr_id == ATTN_NULL_I64 && !s) {
        free(head_copy);
        *out = NULL;
        return 0;
    }
    norm_map_note_number(ctx, number, s && s->issue_id != ATTN_NULL_I64 ? ATTN_NULL_I64
                                                                         : issue_id,
                         s && s->pr_id != ATTN_NULL_I64 ? ATTN_NULL_I64 : pr_id,
                         s && s->head_sha ? NULL : head_copy);
    free(head_copy);
    *out = num_find(m, number);
    return 0;
}

int attn_norm_lookup_number(attn_norm_ctx *ctx, int64_t number, int64_t *issue_id,
                            int64_t *pull_request_id, attn_error *err)
{
    num_slot *s = NULL;
    int rc = num_resolve(ctx, number, &s, err);
    if (issue_id)
        *issue_id = s ? s->issue_id : ATTN_NULL_I64;
    if (pull_request_id)
        *pull_request_id = s ? s->pr_id : ATTN_NULL_I64;
    return rc;
}

int norm_map_pr_head(attn_norm_ctx *ctx, int64_t number, const char **head_sha,
                     attn_error *err)
{
    num_slot *s = NULL;
    int rc = num_resolve(ctx, number, &s, err);
    *head_sha = s ? s->head_sha : NULL;
    return rc;
}

/* ---- user set: embedded users repeat a lot; upsert each once per ctx ---- */

int norm_map_user_seen(attn_norm_ctx *ctx, int64_t id)
{
    attn_norm_map *m = ctx->map;
    if (attn_map64_get(&m->users, (uint64_t)id) != ATTN_MAP64_NONE)
        return 1;
    attn_map64_put(&m->users, (uint64_t)id, 1);
    return 0;
}

/* ---- synthesized closes of a first load ---------------------------------- */

void norm_map_note_synth_close(attn_norm_ctx *ctx, int64_t issue_id)
{
    if (ctx->first_load)
        attn_map64_put(&ctx->map->synth_closed, (uint64_t)issue_id, 1);
}

int norm_map_may_have_synth_close(attn_norm_ctx *ctx, int64_t issue_id)
{
    return !ctx->first_load ||
           attn_map64_get(&ctx->map->synth_closed, (uint64_t)issue_id) != ATTN_MAP64_NONE;
}

/* ---- name caches -------------------------------------------------------- */

typedef struct {
    const name_table *t;
    const char *name;
} name_key;

static int name_eq(const void *k, size_t i)
{
    const name_key *nk = k;
    return !strcmp(nk->t->v[i].name, nk->name);
}

static name_slot *name_find(name_table *t, const char *name)
{
    name_key k = {t, name};
    size_t i = attn_imap_find(&t->index, attn_hash_str(name), name_eq, &k);
    return i == ATTN_IMAP_NONE ? NULL : &t->v[i];
}

static void name_put(name_table *t, const char *name, int64_t id)
{
    name_slot *s = name_find(t, name);
    if (s) {
        s->id = id;
        return;
    }
    ATTN_ALLOC_GROW(t->v, t->n + 1, t->cap);
    t->v[t->n].name = attn_xstrdup(name);
    t->v[t->n].id = id;
    attn_imap_add(&t->index, attn_hash_str(name), t->n++);
}

static int name_lookup(attn_norm_ctx *ctx, name_table *t, sqlite3_stmt **st,
                       const char *sql, const char *name, int64_t *id, attn_error *err)
{
    name_slot *s = name_find(t, name);
    int rc;
    *id = ATTN_NULL_I64;
    if (s) {
        *id = s->id;
        return 0;
    }
    if ((rc = prep(ctx, st, sql, err)))
        return rc;
    sqlite3_bind_int64(*st, 1, ctx->repo_id);
    sqlite3_bind_text(*st, 2, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(*st) == SQLITE_ROW)
        *id = col_i64(*st, 0);
    sqlite3_reset(*st);
    if (*id != ATTN_NULL_I64)
        name_put(t, name, *id);
    return 0;
}

void norm_map_note_label(attn_norm_ctx *ctx, const char *name, int64_t id)
{
    name_put(&ctx->map->labels, name, id);
}

int norm_map_label_id(attn_norm_ctx *ctx, const char *name, int64_t *id, attn_error *err)
{
    return name_lookup(ctx, &ctx->map->labels, &ctx->map->q_label, SQL_LABEL_BY_NAME, name,
                       id, err);
}

void norm_map_note_milestone(attn_norm_ctx *ctx, const char *title, int64_t id)
{
    name_put(&ctx->map->milestones, title, id);
}

int norm_map_milestone_id(attn_norm_ctx *ctx, const char *title, int64_t *id,
                          attn_error *err)
{
    return name_lookup(ctx, &ctx->map->milestones, &ctx->map->q_milestone,
                       SQL_MILESTONE_BY_TITLE, title, id, err);
}

/* ---- emission and field helpers ----------------------------------------- */

void norm_event_init(norm_event *e)
{
    memset(e, 0, sizeof(*e));
    e->occurred_at = ATTN_NULL_I64;
    e->actor_id = ATTN_NULL_I64;
    e->subject_id = ATTN_NULL_I64;
    e->object_id = ATTN_NULL_I64;
}

int norm_emit(attn_norm_ctx *ctx, norm_event *e, attn_error *err)
{
    attn_event_row row;
    char *payload = NULL;
    int inserted = 0, rc;

    if (e->payload) {
        /* payloads are objects: only memory can fail */
        payload = attn_xcheck(json_dumps(e->payload, JSON_COMPACT | JSON_SORT_KEYS));
        json_decref(e->payload);
        e->payload = NULL;
    }
    if (!e->key[0] || e->occurred_at == ATTN_NULL_I64) {
        free(payload);
        return attn_error_set(err, ATTN_EINVAL, "event %s without %s", e->event_type,
                              e->key[0] ? "a time" : "a key");
    }
    memset(&row, 0, sizeof(row));
    row.repo_id = ctx->repo_id;
    row.occurred_at = e->occurred_at;
    row.actor_id = e->actor_id;
    row.subject_type = e->subject_type;
    row.subject_id = e->subject_id;
    row.event_type = e->event_type;
    row.object_type = e->object_type;
    row.object_id = e->object_id;
    row.commit_sha = e->commit_sha;
    row.payload_json = payload;
    row.event_key = e->key;
    if (ctx->heal && !strcmp(e->key, ctx->heal_key))
        ctx->heal_key_seen = 1;
    rc = attn_store_insert_event(ctx->store, &row, &inserted, NULL, err);
    if (!rc && inserted) {
        ctx->stats.events_inserted++;
    } else if (!rc) {
        int corrected = 0;
        ctx->stats.events_duplicate++;
        if (ctx->heal)
            rc = attn_store_correct_event(ctx->store, &row, &corrected, err);
        ctx->stats.events_corrected += corrected;
    }
    free(payload);
    return rc;
}

int norm_req_i64(const json_t *obj, const char *key, const char *what, int64_t *out,
                 attn_error *err)
{
    *out = attn_json_i64(obj, key, ATTN_NULL_I64);
    if (*out == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_EINVAL, "%s has no integer '%s'", what, key);
    return 0;
}

int norm_time(const json_t *obj, const char *key, const char *what, int required,
              int64_t *out, attn_error *err)
{
    if (attn_json_time(obj, key, out, err))
        return attn_error_wrap(err, "%s", what);
    if (required && *out == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_EINVAL, "%s has no '%s'", what, key);
    return 0;
}

int norm_user_at(attn_norm_ctx *ctx, const json_t *obj, const char *key, int64_t *id,
                 attn_error *err)
{
    return attn_normalize_user(ctx, obj ? json_object_get(obj, key) : NULL, id, err);
}

int norm_is_draft_event(const char *name, int *is_draft_after)
{
    if (!name)
        return 0;
    if (!strcmp(name, "ready_for_review")) {
        *is_draft_after = 0;
        return 1;
    }
    if (!strcmp(name, "convert_to_draft") || !strcmp(name, "converted_to_draft")) {
        *is_draft_after = 1;
        return 1;
    }
    return 0;
}

int64_t attn_norm_url_number(const char *url)
{
    const char *p;
    int64_t n = 0;
    if (!url || !*url)
        return -1;
    p = url + strlen(url);
    while (p > url && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (!*p || (p > url && p[-1] != '/') || strlen(p) > 15)
        return -1;
    for (; *p; p++)
        n = n * 10 + (*p - '0');
    return n;
}
