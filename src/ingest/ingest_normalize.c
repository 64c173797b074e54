/*
 * ingest_normalize.c - phase 2 of ingestion: the archived objects of the PRs
 * and issues that changed go through the normalizers into the tables, a part
 * at a time, each part one transaction; then the intervals of what changed
 * are rebuilt. Used by ingest, incremental, renormalize and the webhook
 * writer (attn_ingest_normalize_numbers).
 */
#include "ingest/ingest_internal.h"
#include "ingest/archive.h"
#include "ingest/bundle.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    json_t *list;
    const int64_t *numbers;
    size_t n;
    const char *kind;
    json_t *map;             /* pull_reviews / pull_files: number -> array */
} collect_ctx;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int collect_fn(void *vctx, const char *sid, json_t *obj, attn_error *err)
{
    collect_ctx *c = vctx;
    int64_t n = strtoll(sid, NULL, 10);
    if (!bsearch(&n, c->numbers, c->n, sizeof(int64_t), cmp_i64))
        return 0;
    if (c->map) {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)n);
        json_object_set(c->map, key, obj);
    } else {
        json_array_append(c->list, obj);
    }
    (void)err;
    return 0;
}

typedef struct {
    int64_t t, id;
    json_t *v;
} timed;

static int cmp_timed(const void *a, const void *b)
{
    const timed *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Bundle order for events and comments: created_at, then id (docs/bundle.md),
 * so rows get the same ids as an `attn load` of the same history. */
static void sort_by_created(json_t *arr)
{
    size_t n = json_array_size(arr), i;
    timed *t;
    if (n < 2 || !(t = calloc(n, sizeof(timed))))
        return;
    for (i = 0; i < n; i++) {
        t[i].v = json_incref(json_array_get(arr, i));
        ingest_item_time(t[i].v, "created_at", &t[i].t);
        t[i].id = attn_json_i64(t[i].v, "id", 0);
    }
    qsort(t, n, sizeof(timed), cmp_timed);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, t[i].v);
    free(t);
}

static int scan_all(attn_archive *ar, const char *kind, json_t *list, attn_error *err);

static int list_fn(void *vctx, const char *sid, json_t *obj, attn_error *err)
{
    (void)sid;
    (void)err;
    return json_array_append((json_t *)vctx, obj);
}

static int scan_all(attn_archive *ar, const char *kind, json_t *list, attn_error *err)
{
    return attn_archive_scan(ar, kind, NULL, NULL, list_fn, list, err);
}

/* A review comment whose review is not in the archive (its PR's review list
 * was lost as a gap) keeps the comment but not the link, which would break the
 * foreign key; the link returns once the reviews are fetched. */
static void unlink_missing_reviews(json_t *part)
{
    json_t *reviews = json_object_get(part, "reviews"), *v, *list;
    const char *key;
    size_t i, j;
    json_array_foreach(json_object_get(part, "review_comments"), i, v) {
        int64_t rid = attn_json_i64(v, "pull_request_review_id", ATTN_NULL_I64);
        int found = 0;
        if (rid == ATTN_NULL_I64)
            continue;
        json_object_foreach(reviews, key, list) {
            json_t *r;
            json_array_foreach(list, j, r) {
                if (attn_json_i64(r, "id", -1) == rid) {
                    found = 1;
                    break;
                }
            }
            if (found)
                break;
        }
        if (!found)
            json_object_set_new(v, "pull_request_review_id", json_null());
    }
}

static int apply_catalogue_only(attn_norm_ctx *ctx, const json_t *part, attn_error *err)
{
    size_t i;
    json_t *v;
    int rc = attn_normalize_repo(ctx, json_object_get(part, "repo"), err);
    json_array_foreach(json_object_get(part, "labels"), i, v) {
        if (rc || (rc = attn_normalize_label(ctx, v, err)))
            return rc;
    }
    json_array_foreach(json_object_get(part, "milestones"), i, v) {
        if (rc || (rc = attn_normalize_milestone(ctx, v, err)))
            return rc;
    }
    return rc;
}

#define PART_NUMBERS 100

/* Normalize the archived groups of `numbers` (sorted), PART_NUMBERS at a time,
 * each part in one transaction; collect their issue and PR ids for the rebuild. */
int ingest_normalize_numbers(attn_store *s, attn_archive *ar, int64_t repo_id,
                             const int64_t *numbers, size_t n, int full, int heal,
                             attn_ingest_report *rep, attn_error *err)
{
    static const struct { const char *kind, *key; int map; } kinds[] = {
        {"pull", "pulls", 0}, {"issue", "issues", 0}, {"issue_event", "issue_events", 0},
        {"issue_comment", "issue_comments", 0}, {"review_comment", "review_comments", 0},
        {"pull_reviews", "reviews", 1}, {"pull_files", "files", 1},
    };
    attn_norm_ctx ctx;
    json_t *repo = NULL, *labels = json_array(), *milestones = json_array(), *repos = json_array();
    int64_t *issue_ids = NULL, *pr_ids = NULL, t1, t2;
    size_t n_iss = 0, n_pr = 0;
    attn_error e;
    int rc;

    if ((rc = scan_all(ar, "repo", repos, err)) || (rc = scan_all(ar, "label", labels, err)) ||
        (rc = scan_all(ar, "milestone", milestones, err)))
        goto out0;
    if (!(repo = json_array_get(repos, 0))) {
        rc = attn_error_set(err, ATTN_ENOTFOUND, "the raw archive holds no repository object");
        goto out0;
    }
    if ((rc = attn_norm_ctx_init(&ctx, s, repo_id, err)))
        goto out0;
    ctx.heal = heal;
    /* Team memberships are stamped with the repository's last activity, as
     * `attn load` does, never the wall clock, so two runs give the same rows. */
    if (attn_json_time(repo, "pushed_at", &t1, &e))
        t1 = ATTN_NULL_I64;
    if (attn_json_time(repo, "updated_at", &t2, &e))
        t2 = ATTN_NULL_I64;
    ctx.observed_at = t1 > t2 ? t1 : t2;
    issue_ids = attn_xcalloc(n + 1, sizeof(int64_t));
    pr_ids = attn_xcalloc(n + 1, sizeof(int64_t));

    for (size_t start = 0; start < n || start == 0; start += PART_NUMBERS) {
        size_t cnt = n - start < PART_NUMBERS ? n - start : PART_NUMBERS;
        const int64_t *nums = numbers + start;
        json_t *part = json_object();
        json_object_set_new(part, "format", json_string(ATTN_BUNDLE_FORMAT));
        json_object_set(part, "repo", repo);
        if (start == 0) {
            json_object_set(part, "labels", labels);
            json_object_set(part, "milestones", milestones);
        }
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !rc && cnt; k++) {
            collect_ctx c = {NULL, nums, cnt, kinds[k].kind, NULL};
            json_t *holder = kinds[k].map ? json_object() : json_array();
            if (kinds[k].map)
                c.map = holder;
            else
                c.list = holder;
            /* A dense run of numbers is one range scan; scattered ones are
             * scanned one number at a time so a small incremental stays small. */
            if ((size_t)(nums[cnt - 1] - nums[0]) < 4 * cnt) {
                char lo[32], hi[32];
                attn_archive_num_id(lo, sizeof(lo), nums[0]);
                attn_archive_num_id(hi, sizeof(hi), nums[cnt - 1] + 1);
                rc = attn_archive_scan(ar, kinds[k].kind, lo, hi, collect_fn, &c, err);
            } else {
                for (size_t j = 0; j < cnt && !rc; j++) {
                    char lo[32], hi[32];
                    attn_archive_num_id(lo, sizeof(lo), nums[j]);
                    attn_archive_num_id(hi, sizeof(hi), nums[j] + 1);
                    rc = attn_archive_scan(ar, kinds[k].kind, lo, hi, collect_fn, &c, err);
                }
            }
            if (!kinds[k].map && k >= 2)
                sort_by_created(holder);
            json_object_set_new(part, kinds[k].key, holder);
        }
        if (!rc)
            unlink_missing_reviews(part);
        /* One transaction per part, or the caller's when one is open (the
         * webhook writer applies a delivery in a single transaction). */
        int own = sqlite3_get_autocommit(attn_store_db(s));
        if (!rc && (!own || !(rc = attn_store_begin(s, err)))) {
            /* No changed number: the catalogue alone (build_groups would be
             * handed an empty list). */
            rc = cnt ? attn_bundle_apply_part(&ctx, part, err)
                     : apply_catalogue_only(&ctx, part, err);
            if (own && (rc || (rc = attn_store_commit(s, err))))
                attn_store_rollback(s);
        }
        json_decref(part);
        if (rc)
            goto out;
        rep->numbers_normalized += (int64_t)cnt;
        if (n == 0)
            break;
    }
    if (!full) {
        for (size_t j = 0; j < n; j++) {
            int64_t iid, pid;
            if ((rc = attn_norm_lookup_number(&ctx, numbers[j], &iid, &pid, err)))
                goto out;
            if (iid != ATTN_NULL_I64)
                issue_ids[n_iss++] = iid;
            if (pid != ATTN_NULL_I64)
                pr_ids[n_pr++] = pid;
        }
    }
    if (full) {
        rc = attn_store_rebuild_intervals(s, repo_id, NULL, &rep->rebuild, err);
    } else if (n_iss || n_pr) {
        attn_rebuild_scope scope = {issue_ids, n_iss, pr_ids, n_pr};
        rc = attn_store_rebuild_intervals(s, repo_id, &scope, &rep->rebuild, err);
    }
out:
    rep->norm = ctx.stats;
    attn_norm_ctx_free(&ctx);
out0:
    free(issue_ids);
    free(pr_ids);
    json_decref(repos);
    json_decref(labels);
    json_decref(milestones);
    return rc;
}

static const char SQL_DIRTY[] =
    "SELECT DISTINCT CAST(substr(source_id, 1, 10) AS INTEGER) FROM object_snapshots"
    " WHERE resource IN ('pull', 'issue', 'issue_event', 'issue_comment',"
    " 'review_comment', 'pull_reviews', 'pull_files')"
    " AND (?1 IS NULL OR fetched_at >= ?1) ORDER BY 1";

/* Numbers whose archived objects changed at or after since (NULL = all). */
int ingest_dirty_numbers(attn_store *s, int64_t since, int64_t **out, size_t *n,
                         attn_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int step;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(attn_store_db(s), SQL_DIRTY, -1, &st, NULL))
        return attn_error_set(err, ATTN_EDB, "%s", sqlite3_errmsg(attn_store_db(s)));
    if (since != ATTN_NULL_I64)
        sqlite3_bind_int64(st, 1, since);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ATTN_ALLOC_GROW(*out, *n + 1, cap);
        (*out)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return attn_error_set(err, ATTN_EDB, "%s", sqlite3_errmsg(attn_store_db(s)));
    return 0;
}

int attn_ingest_renormalize(attn_store *s, const char *repo, attn_ingest_report *rep,
                            attn_error *err)
{
    attn_archive *ar = NULL;
    int64_t repo_id, *nums = NULL;
    size_t n = 0;
    double t0 = ingest_mono_now();
    int rc;
    memset(rep, 0, sizeof(*rep));
    if ((rc = attn_store_repo_id(s, repo, &repo_id, err)))
        return rc;
    if (repo_id == ATTN_NULL_I64)
        return attn_error_set(err, ATTN_ENOTFOUND, "no ingested repository '%s' in %s", repo,
                              attn_store_path(s));
    if ((rc = attn_archive_open(s, &ar, err)))
        return rc;
    if (!(rc = ingest_dirty_numbers(s, ATTN_NULL_I64, &nums, &n, err)))
        rc = ingest_normalize_numbers(s, ar, repo_id, nums, n, 1, 1, rep, err);
    free(nums);
    attn_archive_close(ar);
    rep->duration_s = ingest_mono_now() - t0;
    return rc;
}

int attn_ingest_normalize_numbers(attn_store *s, attn_archive *ar, int64_t repo_id,
                                  const int64_t *numbers, size_t n, attn_ingest_report *rep,
                                  attn_error *err)
{
    memset(rep, 0, sizeof(*rep));
    if (!n)
        return 0;
    return ingest_normalize_numbers(s, ar, repo_id, numbers, n, 0, 0, rep, err);
}
