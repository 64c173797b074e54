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
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t number, issue_id, pr_id;
    char *head_sha, *head_ref;
    int used;
} num_slot;

typedef struct {
    char *name;
    int64_t id;
} name_slot;

typedef struct {
    name_slot *slots;
    size_t cap, n;
} name_table;

struct attn_norm_map {
    num_slot *nums;
    size_t ncap, nn;
    name_table labels, milestones;
    int64_t *users;          /* set of user ids upserted through this ctx (0 = empty) */
    size_t ucap, un;
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

static uint64_t hash_i64(int64_t k)
{
    uint64_t x = (uint64_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int attn_norm_ctx_init(attn_norm_ctx *ctx, attn_store *store, int64_t repo_id,
                       attn_error *err)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->store = store;
    ctx->repo_id = repo_id;
    ctx->observed_at = ATTN_NULL_I64;
    ctx->map = calloc(1, sizeof(*ctx->map));
    if (!ctx->map)
        return attn_error_set(err, ATTN_ENOMEM, "out of memory");
    return 0;
}

static void name_table_free(name_table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].name);
    free(t->slots);
}

void attn_norm_ctx_free(attn_norm_ctx *ctx)
{
    attn_norm_map *m = ctx ? ctx->map : NULL;
    if (!m)
        return;
    for (size_t i = 0; i < m->ncap; i++)
        free(m->nums[i].head_sha), free(m->nums[i].head_ref);
    free(m->nums);
    free(m->users);
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
    if (!m->ncap)
        return NULL;
    for (size_t i = hash_i64(number) & (m->ncap - 1);; i = (i + 1) & (m->ncap - 1)) {
        if (!m->nums[i].used)
            return NULL;
        if (m->nums[i].number == number)
            return &m->nums[i];
    }
}

static num_slot *num_insert(attn_norm_map *m, int64_t number)
{
    num_slot *s = num_find(m, number);
    if (s)
        return s;
    if ((m->nn + 1) * 2 > m->ncap) {
        size_t ncap = m->ncap ? m->ncap * 2 : 64;
        num_slot *nums = calloc(ncap, sizeof(*nums));
        if (!nums)
            return NULL;
        for (size_t i = 0; i < m->ncap; i++) {
            if (!m->nums[i].used)
                continue;
            size_t j = hash_i64(m->nums[i].number) & (ncap - 1);
            while (nums[j].used)
                j = (j + 1) & (ncap - 1);
            nums[j] = m->nums[i];
        }
        free(m->nums);
        m->nums = nums;
        m->ncap = ncap;
    }
    size_t j = hash_i64(number) & (m->ncap - 1);
    while (m->nums[j].used)
        j = (j + 1) & (m->ncap - 1);
    m->nums[j].used = 1;
    m->nums[j].number = number;
    m->nums[j].issue_id = ATTN_NULL_I64;
    m->nums[j].pr_id = ATTN_NULL_I64;
    m->nn++;
    return &m->nums[j];
}

static int set_str(char **slot, const char *v)
{
    char *c;
    if (!v)
        return 0;
    if (!(c = strdup(v)))
        return ATTN_ENOMEM;
    free(*slot);
    *slot = c;
    return 0;
}

int norm_map_note_head_ref(attn_norm_ctx *ctx, int64_t number, const char *head_ref)
{
    num_slot *s = num_insert(ctx->map, number);
    return s ? set_str(&s->head_ref, head_ref) : ATTN_ENOMEM;
}

const char *norm_map_head_ref(attn_norm_ctx *ctx, int64_t number)
{
    num_slot *s = num_find(ctx->map, number);
    return s ? s->head_ref : NULL;
}

int norm_map_note_number(attn_norm_ctx *ctx, int64_t number, int64_t issue_id,
                         int64_t pull_request_id, const char *head_sha)
{
    num_slot *s = num_insert(ctx->map, number);
    if (!s)
        return ATTN_ENOMEM;
    if (issue_id != ATTN_NULL_I64)
        s->issue_id = issue_id;
    if (pull_request_id != ATTN_NULL_I64)
        s->pr_id = pull_request_id;
    return set_str(&s->head_sha, head_sha);
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
        if (head && !(head_copy = strdup(head)))
            return attn_error_set(err, ATTN_ENOMEM, "out of memory");
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
    rc = norm_map_note_number(ctx, number, s && s->issue_id != ATTN_NULL_I64 ? ATTN_NULL_I64
                                                                              : issue_id,
                              s && s->pr_id != ATTN_NULL_I64 ? ATTN_NULL_I64 : pr_id,
                              s && s->head_sha ? NULL : head_copy);
    free(head_copy);
    if (rc)
        return attn_error_set(err, ATTN_ENOMEM, "out of memory");
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
    uint64_t key = (uint64_t)id + 1;   /* 0 marks an empty slot */
    if (m->ucap) {
        for (size_t i = hash_i64(id) & (m->ucap - 1); m->users[i];
             i = (i + 1) & (m->ucap - 1))
            if ((uint64_t)m->users[i] == key)
                return 1;
    }
    if ((m->un + 1) * 2 > m->ucap) {
        size_t ncap = m->ucap ? m->ucap * 2 : 256;
        int64_t *u = calloc(ncap, sizeof(*u));
        if (!u)
            return -1;
        for (size_t i = 0; i < m->ucap; i++) {
            if (!m->users[i])
                continue;
            size_t j = hash_i64((int64_t)((uint64_t)m->users[i] - 1)) & (ncap - 1);
            while (u[j])
                j = (j + 1) & (ncap - 1);
            u[j] = m->users[i];
        }
        free(m->users);
        m->users = u;
        m->ucap = ncap;
    }
    size_t j = hash_i64(id) & (m->ucap - 1);
    while (m->users[j])
        j = (j + 1) & (m->ucap - 1);
    m->users[j] = (int64_t)key;
    m->un++;
    return 0;
}

/* ---- name caches -------------------------------------------------------- */

static name_slot *name_find(name_table *t, const char *name)
{
    if (!t->cap)
        return NULL;
    for (size_t i = hash_str(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->slots[i].name)
            return NULL;
        if (!strcmp(t->slots[i].name, name))
            return &t->slots[i];
    }
}

static int name_put(name_table *t, const char *name, int64_t id)
{
    name_slot *s = name_find(t, name);
    if (s) {
        s->id = id;
        return 0;
    }
    if ((t->n + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 32;
        name_slot *slots = calloc(ncap, sizeof(*slots));
        if (!slots)
            return ATTN_ENOMEM;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].name)
                continue;
            size_t j = hash_str(t->slots[i].name) & (ncap - 1);
            while (slots[j].name)
                j = (j + 1) & (ncap - 1);
            slots[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = slots;
        t->cap = ncap;
    }
    size_t j = hash_str(name) & (t->cap - 1);
    while (t->slots[j].name)
        j = (j + 1) & (t->cap - 1);
    if (!(t->slots[j].name = strdup(name)))
        return ATTN_ENOMEM;
    t->slots[j].id = id;
    t->n++;
    return 0;
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
    if (*id != ATTN_NULL_I64 && name_put(t, name, *id))
        return attn_error_set(err, ATTN_ENOMEM, "out of memory");
    return 0;
}

int norm_map_note_label(attn_norm_ctx *ctx, const char *name, int64_t id)
{
    return name_put(&ctx->map->labels, name, id);
}

int norm_map_label_id(attn_norm_ctx *ctx, const char *name, int64_t *id, attn_error *err)
{
    return name_lookup(ctx, &ctx->map->labels, &ctx->map->q_label, SQL_LABEL_BY_NAME, name,
                       id, err);
}

int norm_map_note_milestone(attn_norm_ctx *ctx, const char *title, int64_t id)
{
    return name_put(&ctx->map->milestones, title, id);
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
        payload = json_dumps(e->payload, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(e->payload);
        e->payload = NULL;
        if (!payload)
            return attn_error_set(err, ATTN_ENOMEM, "out of memory encoding event %s", e->key);
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
