/*
 * bundle.c - load a GitHub bundle through the normalizers (see bundle.h).
 *
 * Order of a load, chosen for foreign keys and for the initial-state rules:
 *   1. catalogue: repo, users, teams (+ members), labels, milestones
 *   2. per issue number, ascending: the PR group (issue, PR, its issue events,
 *      reviews, files) or the issue with its events; then its review comments
 *      and issue comments.
 *   3. issue events whose number has no issue or PR (counted as skipped)
 *   4. a full interval rebuild
 * The whole load, interval rebuild included, is one transaction: a bundle
 * that fails anywhere leaves the store as it was. A first load (no events
 * yet) takes the bulk path: events indexes built once, after the inserts.
 * Must never: normalize a PR without its events (the initial title, draft
 * and head depend on them), commit part of a bundle, or store a PR or issue
 * it cannot keep faithfully (a number <= 0, a duplicate id, a non-string
 * title): those are refused, naming the entry.
 */
#include "ingest/bundle_internal.h"
#include "ingest/normalize_internal.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

int attn_bundle_check(const json_t *bundle, const char *what, const char *repo,
                      attn_error *err)
{
    const char *fmt, *name;
    if (!json_is_object(bundle))
        return attn_error_set(err, ATTN_EINVAL, "%s: a bundle is a JSON object", what);
    fmt = attn_json_str(bundle, "format");
    if (!fmt || strcmp(fmt, ATTN_BUNDLE_FORMAT))
        return attn_error_set(err, ATTN_EINVAL, "%s: format is '%s', expected '%s'", what,
                              fmt ? fmt : "(missing)", ATTN_BUNDLE_FORMAT);
    name = attn_json_str(json_object_get(bundle, "repo"), "full_name");
    if (!name)
        return attn_error_set(err, ATTN_EINVAL, "%s: repo.full_name is missing", what);
    /* Exact spelling: the name becomes the data directory, and a second
     * spelling would split one repository's history in two. */
    if (repo && strcmp(name, repo))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s holds repository '%s', not '%s' given by --repo", what, name,
                              repo);
    return 0;
}

int attn_bundle_read(const char *path, const char *repo, json_t **out, attn_error *err)
{
    int rc;
    *out = NULL;
    if ((rc = attn_json_load_file(path, out, err)))
        return rc;
    if ((rc = attn_bundle_check(*out, path, repo, err))) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- grouping by number ------------------------------------------------------ */

typedef attn_bundle_group group;

typedef struct {
    group *g;
    size_t n;
} groups;

static int cmp_group(const void *a, const void *b)
{
    int64_t x = ((const group *)a)->number, y = ((const group *)b)->number;
    return x < y ? -1 : x > y;
}

static group *find_group(groups *gs, int64_t number)
{
    group key;
    if (!gs->n)   /* bsearch on a NULL array is undefined even for 0 items */
        return NULL;
    key.number = number;
    return bsearch(&key, gs->g, gs->n, sizeof(group), cmp_group);
}

static void groups_free(groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        json_decref(gs->g[i].events);
        json_decref(gs->g[i].review_comments);
        json_decref(gs->g[i].issue_comments);
    }
    free(gs->g);
}

static int list_of(const json_t *bundle, const char *key, const json_t **out, attn_error *err)
{
    const json_t *v = json_object_get(bundle, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return attn_error_set(err, ATTN_EINVAL, "bundle: '%s' is not a list", key);
    *out = v;
    return 0;
}

static int map_of(const json_t *bundle, const char *key, const json_t **out, attn_error *err)
{
    const json_t *v = json_object_get(bundle, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return attn_error_set(err, ATTN_EINVAL, "bundle: '%s' is not an object keyed by number",
                              key);
    *out = v;
    return 0;
}

int64_t attn_bundle_event_number(const json_t *ev)
{
    int64_t n = attn_json_i64(json_object_get(ev, "issue"), "number", ATTN_NULL_I64);
    return n != ATTN_NULL_I64 ? n : attn_norm_url_number(attn_json_str(ev, "issue_url"));
}

static void append(json_t **arr, json_t *v)
{
    if (!*arr)
        *arr = attn_xcheck(json_array());
    attn_xcheck_rc(json_array_append(*arr, v));   /* v is never NULL */
}

/* A PR or issue the normalizers can store faithfully (issue 18 defect 9):
 * a positive integer number and a string (or absent) title (a missing id is
 * the normalizer's error, naming the PR).
 * Anything else is refused by name before the store is touched, never
 * merged, dropped or stored as NULL. */
int attn_bundle_check_item(const json_t *v, const char *list, size_t i, int64_t *number,
                           attn_error *err)
{
    const json_t *n = json_object_get(v, "number"), *t = json_object_get(v, "title");
    if (!json_is_object(v))
        return attn_error_set(err, ATTN_EINVAL, "bundle: %s[%zu] is not an object", list, i);
    if (!json_is_integer(n))
        return attn_error_set(err, ATTN_EINVAL, "bundle: %s[%zu] has no integer 'number'", list,
                              i);
    *number = json_integer_value(n);
    if (*number <= 0)
        return attn_error_set(err, ATTN_EINVAL,
                              "bundle: %s[%zu] has number %lld; numbers are positive integers",
                              list, i, (long long)*number);
    if (t && !json_is_string(t) && !json_is_null(t))
        return attn_error_set(err, ATTN_EINVAL,
                              "bundle: %s[%zu] (#%lld) has a title that is not a string", list,
                              i, (long long)*number);
    return 0;
}

typedef struct {
    int64_t id;
    size_t at;
} id_at;

static int cmp_id_at(const void *a, const void *b)
{
    const id_at *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* Two entries of one list with the same id would be stored as one row. */
static int unique_ids(const json_t *list, const char *name, attn_error *err)
{
    size_t n = json_array_size(list), i;
    id_at *v;
    const json_t *x;
    int rc = 0;
    if (n < 2)
        return 0;
    v = attn_xmalloc(attn_st_mult(n, sizeof(*v)));
    n = 0;
    json_array_foreach(list, i, x) {
        if (!json_is_integer(json_object_get(x, "id")))
            continue;
        v[n].id = json_integer_value(json_object_get(x, "id"));
        v[n++].at = i;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_id_at);
    for (i = 1; i < n && !rc; i++)
        if (v[i].id == v[i - 1].id)
            rc = attn_error_set(err, ATTN_EINVAL,
                                "bundle: %s[%zu] and %s[%zu] have the same id %lld (#%lld and "
                                "#%lld)",
                                name, v[i - 1].at, name, v[i].at, (long long)v[i].id,
                                (long long)attn_json_i64(json_array_get(list, v[i - 1].at),
                                                         "number", 0),
                                (long long)attn_json_i64(json_array_get(list, v[i].at),
                                                         "number", 0));
    free(v);
    return rc;
}

static int build_groups(const json_t *bundle, groups *gs, attn_error *err)
{
    const json_t *pulls, *issues, *events, *rc_list, *ic_list, *reviews, *files, *v;
    size_t i, cap;
    int rc;

    memset(gs, 0, sizeof(*gs));
    if ((rc = list_of(bundle, "pulls", &pulls, err)) ||
        (rc = list_of(bundle, "issues", &issues, err)) ||
        (rc = list_of(bundle, "issue_events", &events, err)) ||
        (rc = list_of(bundle, "review_comments", &rc_list, err)) ||
        (rc = list_of(bundle, "issue_comments", &ic_list, err)) ||
        (rc = map_of(bundle, "reviews", &reviews, err)) ||
        (rc = map_of(bundle, "files", &files, err)))
        return rc;
    cap = json_array_size(pulls) + json_array_size(issues);
    if (cap)
        gs->g = attn_xcalloc(cap, sizeof(group));

    /* One group per number, from pulls and issues. */
    json_array_foreach(pulls, i, v) {
        int64_t n;
        if ((rc = attn_bundle_check_item(v, "pulls", i, &n, err)))
            return rc;
        gs->g[gs->n].number = n;
        gs->g[gs->n++].pr = v;
    }
    json_array_foreach(issues, i, v) {
        int64_t n;
        if ((rc = attn_bundle_check_item(v, "issues", i, &n, err)))
            return rc;
        gs->g[gs->n].number = n;
        gs->g[gs->n++].issue = v;
    }
    if ((rc = unique_ids(pulls, "pulls", err)) || (rc = unique_ids(issues, "issues", err)))
        return rc;
    if (gs->n > 1) /* qsort's pointer must not be NULL, even for zero items */
        qsort(gs->g, gs->n, sizeof(group), cmp_group);
    /* Merge the PR and issue entries of one number. */
    size_t w = 0;
    for (size_t r = 0; r < gs->n; r++) {
        if (w && gs->g[w - 1].number == gs->g[r].number) {
            group *d = &gs->g[w - 1], *s = &gs->g[r];
            if ((s->pr && d->pr) || (s->issue && d->issue))
                return attn_error_set(err, ATTN_EINVAL, "bundle: number %lld appears twice",
                                      (long long)s->number);
            if (s->pr)
                d->pr = s->pr;
            if (s->issue)
                d->issue = s->issue;
            continue;
        }
        gs->g[w++] = gs->g[r];
    }
    gs->n = w;

    json_array_foreach(events, i, v) {
        group *g = find_group(gs, attn_bundle_event_number(v));
        if (g)
            append(&g->events, (json_t *)v);
    }
    json_array_foreach(rc_list, i, v) {
        group *g = find_group(gs, attn_norm_url_number(attn_json_str(v, "pull_request_url")));
        if (g)
            append(&g->review_comments, (json_t *)v);
    }
    json_array_foreach(ic_list, i, v) {
        group *g = find_group(gs, attn_norm_url_number(attn_json_str(v, "issue_url")));
        if (g)
            append(&g->issue_comments, (json_t *)v);
    }
    for (i = 0; i < gs->n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)gs->g[i].number);
        gs->g[i].reviews = json_object_get(reviews, key);
        gs->g[i].files = json_object_get(files, key);
        if (gs->g[i].reviews && !json_is_array(gs->g[i].reviews))
            return attn_error_set(err, ATTN_EINVAL, "bundle: reviews[\"%s\"] is not a list", key);
        if (gs->g[i].files && !json_is_array(gs->g[i].files))
            return attn_error_set(err, ATTN_EINVAL, "bundle: files[\"%s\"] is not a list", key);
    }
    return 0;
}

/* Objects that are not in any group: comments or events for unknown numbers.
 * Fed through the normalizers anyway so they are counted as skipped. */
static int count_unplaced(attn_norm_ctx *ctx, const json_t *bundle, groups *gs,
                          attn_error *err)
{
    const json_t *v;
    size_t i;
    int rc;
    json_array_foreach(json_object_get(bundle, "issue_events"), i, v) {
        if (!find_group(gs, attn_bundle_event_number(v)) && (rc = attn_normalize_issue_event(ctx, v, err)))
            return rc;
    }
    json_array_foreach(json_object_get(bundle, "issue_comments"), i, v) {
        if (!find_group(gs, attn_norm_url_number(attn_json_str(v, "issue_url"))))
            ctx->stats.skipped++;
    }
    json_array_foreach(json_object_get(bundle, "review_comments"), i, v) {
        if (!find_group(gs, attn_norm_url_number(attn_json_str(v, "pull_request_url"))))
            ctx->stats.skipped++;
    }
    return 0;
}

static int apply_catalogue(attn_norm_ctx *ctx, const json_t *bundle, attn_error *err)
{
    const json_t *list, *v;
    size_t i;
    int rc;

    if ((rc = attn_normalize_repo(ctx, json_object_get(bundle, "repo"), err)))
        return rc;
    if ((rc = list_of(bundle, "users", &list, err)))
        return rc;
    json_array_foreach(list, i, v) {
        if ((rc = attn_normalize_user(ctx, v, NULL, err)))
            return attn_error_wrap(err, "bundle users[%zu]", i);
    }
    if ((rc = list_of(bundle, "teams", &list, err)))
        return rc;
    json_array_foreach(list, i, v) {
        if ((rc = attn_normalize_team(ctx, v, err)))
            return attn_error_wrap(err, "bundle teams[%zu]", i);
    }
    if ((rc = list_of(bundle, "labels", &list, err)))
        return rc;
    json_array_foreach(list, i, v) {
        if ((rc = attn_normalize_label(ctx, v, err)))
            return attn_error_wrap(err, "bundle labels[%zu]", i);
    }
    if ((rc = list_of(bundle, "milestones", &list, err)))
        return rc;
    json_array_foreach(list, i, v) {
        if ((rc = attn_normalize_milestone(ctx, v, err)))
            return attn_error_wrap(err, "bundle milestones[%zu]", i);
    }
    return 0;
}

int attn_bundle_apply_group(attn_norm_ctx *ctx, const group *g, attn_error *err)
{
    const json_t *v;
    size_t i;
    int rc;

    if (g->pr) {
        attn_pull_group pg = {g->pr, g->issue, g->events, g->reviews, g->files};
        rc = attn_normalize_pull(ctx, &pg, err);
    } else {
        rc = attn_normalize_issue(ctx, g->issue, g->events, err);
    }
    if (rc)
        return rc;
    json_array_foreach(g->review_comments, i, v) {
        if ((rc = attn_normalize_review_comment(ctx, v, err)))
            return rc;
    }
    json_array_foreach(g->issue_comments, i, v) {
        if ((rc = attn_normalize_issue_comment(ctx, v, err)))
            return rc;
    }
    return 0;
}

/* When team memberships were seen: the bundle's own stamp, else the repo's
 * last update (never the wall clock, so two loads give the same rows). */
int64_t attn_bundle_observed_at(const json_t *bundle)
{
    static const char *const keys[] = {"fetched_at", "generated_at"};
    const json_t *repo = json_object_get(bundle, "repo");
    const json_t *gen = json_object_get(bundle, "generator");
    int64_t t = ATTN_NULL_I64, u = ATTN_NULL_I64;
    attn_error e;
    for (size_t i = 0; i < 2 && t == ATTN_NULL_I64; i++)
        if (attn_json_time(bundle, keys[i], &t, &e) || (t == ATTN_NULL_I64 &&
                                                        attn_json_time(gen, keys[i], &t, &e)))
            t = ATTN_NULL_I64;
    if (t != ATTN_NULL_I64)
        return t;
    if (attn_json_time(repo, "pushed_at", &t, &e))
        t = ATTN_NULL_I64;
    if (attn_json_time(repo, "updated_at", &u, &e))
        u = ATTN_NULL_I64;
    return t > u ? t : u;
}

/* A part of a bundle into the caller's open transaction: its catalogue, then
 * its groups in number order, then its unplaced objects; no rebuild.
 * Ingestion (ingest.c) streams its raw archive through here in parts of
 * whole issue numbers, so a live fetch and `attn load` share one grouping. */
int attn_bundle_apply_part(attn_norm_ctx *ctx, const json_t *part, attn_error *err)
{
    groups gs;
    int rc;
    if ((rc = apply_catalogue(ctx, part, err)))
        return rc;
    if ((rc = build_groups(part, &gs, err))) {
        groups_free(&gs);
        return rc;
    }
    for (size_t i = 0; i < gs.n && !rc; i++)
        rc = attn_bundle_apply_group(ctx, &gs.g[i], err);
    if (!rc)
        rc = count_unplaced(ctx, part, &gs, err);
    groups_free(&gs);
    return rc;
}

int attn_bundle_load_tx(attn_store *s, attn_norm_ctx *ctx, attn_bundle_body body, void *arg,
                        attn_bundle_stats *stats, attn_error *err)
{
    int bulk = 0, rc;
    /* One transaction, intervals included: a bundle that fails anywhere
     * leaves the store exactly as it was (SPEC §13; issue 18 defect 8). */
    if ((rc = attn_store_begin(s, err)))
        return rc;
    if (!(rc = attn_store_bulk_begin(s, &bulk, err))) {
        ctx->first_load = bulk;
        if (!(rc = body(ctx, arg, err)) && !(bulk && (rc = attn_store_bulk_end(s, err))) &&
            !(rc = attn_store_rebuild_intervals(s, ctx->repo_id, NULL, &stats->rebuild, err)))
            rc = attn_store_commit(s, err);
    }
    if (rc) {
        attn_store_rollback(s);
        memset(&stats->rebuild, 0, sizeof(stats->rebuild));
    }
    return rc;
}

typedef struct {
    const json_t *bundle;
    groups *gs;
} tree_load;

static int tree_body(attn_norm_ctx *ctx, void *arg, attn_error *err)
{
    tree_load *t = arg;
    int rc;
    if ((rc = apply_catalogue(ctx, t->bundle, err)))
        return rc;
    for (size_t i = 0; i < t->gs->n; i++)
        if ((rc = attn_bundle_apply_group(ctx, &t->gs->g[i], err)))
            return rc;
    return count_unplaced(ctx, t->bundle, t->gs, err);
}

int attn_bundle_apply(attn_store *s, const json_t *bundle, attn_bundle_stats *stats,
                      attn_error *err)
{
    attn_norm_ctx ctx;
    groups gs;
    tree_load t = {bundle, &gs};
    int64_t repo_id;
    int rc;

    memset(stats, 0, sizeof(*stats));
    if ((rc = attn_bundle_check(bundle, "bundle", NULL, err)))
        return rc;
    if ((rc = norm_req_i64(json_object_get(bundle, "repo"), "id", "bundle repo", &repo_id,
                           err)))
        return rc;
    if ((rc = build_groups(bundle, &gs, err))) {
        groups_free(&gs);
        return rc;
    }
    attn_norm_ctx_init(&ctx, s, repo_id, err);
    ctx.observed_at = attn_bundle_observed_at(bundle);
    rc = attn_bundle_load_tx(s, &ctx, tree_body, &t, stats, err);
    stats->repo_id = repo_id;
    stats->norm = ctx.stats;
    attn_norm_ctx_free(&ctx);
    groups_free(&gs);
    return rc;
}
