/*
 * route_fixture.h - small hand-built histories for router tests, and the
 * leakage check every router must pass (routes before and after deleting
 * everything later than the cutoff must be byte-identical).
 *
 *   repo 1 "octo/demo"; users are added by the test (rfx_user)
 *   rfx_pr: a PR row, its head (a pull_request.head.set event at created_at)
 *           and the files of that head
 *   rfx_review / rfx_comment: activity rows (what the activity index reads)
 *   rfx_build: rebuild intervals, build the activity index, fill rfx.ctx
 */
#ifndef ATTN_ROUTE_FIXTURE_H
#define ATTN_ROUTE_FIXTURE_H

#include "testutil.h"
#include "history/activity.h"
#include "history/asof.h"
#include "ingest/bundle.h"
#include "route/router.h"
#include "store/store.h"
#include "synth/synth.h"
#include "util/json.h"

#define RFX_DAY 86400
#define RFX_T0 1700000000LL   /* 2023-11-14T22:13:20Z */

typedef struct {
    char *dir;
    attn_store *s;
    attn_activity *act;
    attn_area_map *areas;
    attn_route_ctx ctx;
} rfx;

static inline void rfx_exec(attn_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(attn_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static inline void rfx_open(rfx *f)
{
    char path[512];
    attn_error err;
    attn_repo_row repo = {1, 900, "octo", "demo", "octo/demo", NULL, "main", 0, 0, 0,
                          1000, 2000, 3000};
    memset(f, 0, sizeof(*f));
    f->dir = test_tmpdir();
    snprintf(path, sizeof(path), "%s/history.sqlite", f->dir);
    if (attn_store_open(path, &f->s, &err))
        fail_msg("open: %s", err.msg);
    assert_int_equal(attn_store_upsert_repo(f->s, &repo, &err), 0);
}

static inline void rfx_user(rfx *f, int64_t id, const char *login, const char *type)
{
    attn_error err;
    attn_user_row u = {id, login, type ? type : "User", 0, NULL};
    assert_int_equal(attn_store_upsert_user(f->s, &u, &err), 0);
}

/* files: NULL-terminated list of paths of the PR's head "h<number>". */
static inline void rfx_pr(rfx *f, int64_t id, int64_t number, int64_t author, int64_t created,
                          const char *const *files)
{
    attn_error err;
    attn_pull_request_row p;
    char sha[32], key[64];
    int inserted;
    memset(&p, 0, sizeof(p));
    snprintf(sha, sizeof(sha), "h%lld", (long long)number);
    p.id = id; p.repo_id = 1; p.number = number; p.issue_id = ATTN_NULL_I64; p.user_id = author;
    p.title = "t"; p.state = "open"; p.draft = 0; p.merged = 0; p.head_sha = sha;
    p.created_at = created; p.updated_at = created; p.closed_at = ATTN_NULL_I64;
    p.merged_at = ATTN_NULL_I64;
    assert_int_equal(attn_store_upsert_pull_request(f->s, &p, &err), 0);
    snprintf(key, sizeof(key), "head:%lld", (long long)id);
    attn_event_row e = {1, created, author, "pull_request", id, "pull_request.head.set", NULL,
                        ATTN_NULL_I64, sha, NULL, key};
    if (attn_store_insert_event(f->s, &e, &inserted, NULL, &err))
        fail_msg("event: %s", err.msg);
    for (size_t i = 0; files && files[i]; i++) {
        attn_pr_file_row r = {1, id, sha, files[i], "modified", NULL, 1, 1, 2};
        assert_int_equal(attn_store_upsert_pr_file(f->s, &r, &err), 0);
    }
}

static inline void rfx_review(rfx *f, int64_t id, int64_t pr_id, int64_t user, int64_t t,
                              const char *state)
{
    attn_error err;
    attn_review_row r = {id, 1, pr_id, user, state ? state : "COMMENTED", "b", "sha", t};
    assert_int_equal(attn_store_upsert_review(f->s, &r, &err), 0);
}

/* review_comment: a diff comment (comment_type "review"), else a comment in
 * the PR's conversation. */
static inline void rfx_comment(rfx *f, int64_t id, int64_t pr_id, int64_t user, int64_t t,
                               int review_comment)
{
    attn_error err;
    attn_comment_row c = {id, 1, ATTN_NULL_I64, pr_id, ATTN_NULL_I64, user, "b", t, t,
                          review_comment ? "a.c" : NULL, ATTN_NULL_I64, NULL, ATTN_NULL_I64,
                          review_comment ? "review" : "issue"};
    assert_int_equal(attn_store_upsert_comment(f->s, &c, &err), 0);
}

/* areas_json: routing/area_overrides.json content, or NULL for the default. */
static inline void rfx_build(rfx *f, const char *areas_json)
{
    attn_error err;
    attn_rebuild_stats st;
    if (attn_store_rebuild_intervals(f->s, 1, NULL, &st, &err))
        fail_msg("rebuild: %s", err.msg);
    if (areas_json) {
        json_t *v = json_loads(areas_json, 0, NULL);
        assert_non_null(v);
        if (attn_area_map_from_json(v, &f->areas, &err))
            fail_msg("areas: %s", err.msg);
        json_decref(v);
    }
    if (attn_activity_build(f->s, 1, f->areas, &f->act, &err))
        fail_msg("activity: %s", err.msg);
    f->ctx.store = f->s;
    f->ctx.repo_id = 1;
    f->ctx.repo = "octo/demo";
    f->ctx.repo_dir = f->dir;
    f->ctx.activity = f->act;
    f->ctx.areas = f->areas;
}

static inline void rfx_close(rfx *f)
{
    attn_activity_free(f->act);
    attn_area_map_free(f->areas);
    attn_store_close(f->s);
    if (f->dir) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f->dir);
    }
    memset(f, 0, sizeof(*f));
}

/* A snapshot with just what routers read: author, changed files, requests. */
static inline json_t *rfx_snapshot(const char *author, const char *const *files)
{
    json_t *s = json_pack("{s:s, s:[], s:[], s:[]}", "author", author, "changed_files",
                          "review_requests", "leak_risk");
    for (size_t i = 0; files && files[i]; i++)
        json_array_append_new(json_object_get(s, "changed_files"),
                              json_pack("{s:s, s:s, s:i, s:i, s:i}", "path", files[i], "status",
                                        "modified", "additions", 1, "deletions", 1, "changes", 2));
    return s;
}

/* Create a router from a config text (NULL: defaults); fails the test on error. */
static inline attn_router *rfx_router(const attn_router_def *def, const char *config,
                                      const attn_route_ctx *ctx)
{
    attn_router *r = NULL;
    attn_error err;
    json_t *cfg = config ? json_loads(config, 0, NULL) : NULL;
    if (config)
        assert_non_null(cfg);
    if (attn_router_new(def, cfg, NULL, ctx, &r, &err))
        fail_msg("router %s: %s", def->name, err.msg);
    json_decref(cfg);
    return r;
}

/* The error message of creating a router with config (which must fail). */
static inline const char *rfx_config_error(const attn_router_def *def, const char *config,
                                           const attn_route_ctx *ctx, attn_error *err)
{
    attn_router *r = NULL;
    json_t *cfg = json_loads(config, 0, NULL);
    assert_non_null(cfg);
    attn_error_clear(err);
    assert_int_not_equal(attn_router_new(def, cfg, NULL, ctx, &r, err), 0);
    assert_null(r);
    json_decref(cfg);
    return err->msg;
}

static inline json_t *rfx_route(attn_router *r, const attn_route_ctx *ctx, int64_t pr_number,
                                int64_t as_of, int top_k, const json_t *snapshot)
{
    attn_route_query q = {pr_number, as_of, top_k, snapshot};
    attn_error err;
    json_t *out = NULL;
    if (attn_router_route(r, ctx, &q, &out, &err))
        fail_msg("route #%lld: %s", (long long)pr_number, err.msg);
    return out;
}

static inline const json_t *rfx_cand(const json_t *res, size_t i)
{
    return json_array_get(json_object_get(res, "candidates"), i);
}

static inline const char *rfx_cand_name(const json_t *res, size_t i)
{
    return attn_json_str(json_object_get(rfx_cand(res, i), "target"), "name");
}

static inline double rfx_cand_score(const json_t *res, size_t i)
{
    return json_number_value(json_object_get(rfx_cand(res, i), "score"));
}

static inline size_t rfx_ncands(const json_t *res)
{
    return json_array_size(json_object_get(res, "candidates"));
}

static inline int rfx_has_note(const json_t *res, const char *substr)
{
    const json_t *n;
    size_t i;
    json_array_foreach(json_object_get(res, "notes"), i, n)
        if (strstr(json_string_value(n), substr))
            return 1;
    return 0;
}

static inline char *rfx_canonical(const json_t *v)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_error err;
    if (attn_json_canonical(v, &b, &err))
        fail_msg("canonical: %s", err.msg);
    return attn_buf_detach(&b);
}

/* ---- a synthetic repository and the leakage check ----------------------------- */

typedef struct {
    char *dir;
    char db[600];
    attn_store *s;
    attn_asof_reader *reader;
    attn_activity *act;
    attn_route_ctx ctx;
} rfx_synth;

static inline void rfx_synth_ctx(rfx_synth *y)
{
    attn_error err;
    int64_t repo_id = 0;
    if (attn_store_repo_id(y->s, "synth/leak", &repo_id, &err) ||
        attn_asof_reader_open(y->s, &y->reader, &err) ||
        attn_activity_build(y->s, repo_id, NULL, &y->act, &err))
        fail_msg("synth ctx: %s", err.msg);
    memset(&y->ctx, 0, sizeof(y->ctx));
    y->ctx.store = y->s;
    y->ctx.repo = "synth/leak";
    y->ctx.repo_dir = y->dir;
    y->ctx.reader = y->reader;
    y->ctx.activity = y->act;
    y->ctx.repo_id = repo_id;
}

/* `attn synth --prs N --seed S` loaded into a fresh store (library calls). */
static inline void rfx_synth_open(rfx_synth *y, int64_t prs, uint64_t seed)
{
    attn_synth_opts o;
    attn_error err;
    attn_bundle_stats st;
    json_t *bundle = NULL;
    char path[600];
    memset(y, 0, sizeof(*y));
    y->dir = test_tmpdir();
    attn_synth_opts_init(&o);
    o.prs = prs;
    o.seed = seed;
    snprintf(o.owner, sizeof(o.owner), "synth");
    snprintf(o.name, sizeof(o.name), "leak");
    snprintf(path, sizeof(path), "%s/bundle.json", y->dir);
    if (attn_synth_write_file(&o, path, &err) || attn_bundle_read(path, "synth/leak", &bundle, &err))
        fail_msg("synth: %s", err.msg);
    snprintf(y->db, sizeof(y->db), "%s/history.sqlite", y->dir);
    if (attn_store_open(y->db, &y->s, &err) || attn_bundle_apply(y->s, bundle, &st, &err))
        fail_msg("load: %s", err.msg);
    json_decref(bundle);
    rfx_synth_ctx(y);
}

static inline void rfx_synth_close(rfx_synth *y, int remove_dir)
{
    attn_activity_free(y->act);
    attn_asof_reader_free(y->reader);
    attn_store_close(y->s);
    if (remove_dir && y->dir) {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", y->dir);
        assert_int_equal(system(cmd), 0);
    }
    if (remove_dir)
        free(y->dir);
    y->act = NULL;
    y->reader = NULL;
    y->s = NULL;
}

/* A copy of y's store holding only what existed at T: events after T and
 * their intervals, reviews and comments after T, and PRs (with their files
 * and issues) created after T are gone. */
static inline void rfx_synth_truncated(const rfx_synth *y, int64_t t, rfx_synth *out)
{
    char sql[1400];
    attn_error err;
    attn_rebuild_stats st;
    memset(out, 0, sizeof(*out));
    out->dir = NULL;
    snprintf(out->db, sizeof(out->db), "%s/cut-%lld.sqlite", y->dir, (long long)t);
    remove(out->db);
    snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", out->db);
    rfx_exec(y->s, sql);
    if (attn_store_open(out->db, &out->s, &err))
        fail_msg("open copy: %s", err.msg);
    /* Dangling references to deleted rows are what a crawl at T would not
     * have either; the checks are off while cutting. */
    rfx_exec(out->s, "PRAGMA foreign_keys = OFF");
    snprintf(sql, sizeof(sql),
             "BEGIN;"
             "DELETE FROM events WHERE occurred_at > %lld;"
             "DELETE FROM comments WHERE created_at > %lld;"
             "DELETE FROM reviews WHERE submitted_at > %lld;"
             "DELETE FROM pull_request_files WHERE pull_request_id IN"
             " (SELECT id FROM pull_requests WHERE created_at > %lld);"
             "DELETE FROM pull_requests WHERE created_at > %lld;"
             "DELETE FROM issues WHERE created_at > %lld;"
             "COMMIT;",
             (long long)t, (long long)t, (long long)t, (long long)t, (long long)t, (long long)t);
    rfx_exec(out->s, sql);
    if (attn_store_rebuild_intervals(out->s, y->ctx.repo_id, NULL, &st, &err))
        fail_msg("rebuild copy: %s", err.msg);
    rfx_exec(out->s, "PRAGMA foreign_keys = ON");
    out->dir = y->dir;
    rfx_synth_ctx(out);
}

/* Route PR number at t with a router made by make(ctx) on both stores. */
typedef attn_router *(*rfx_make_router)(const attn_route_ctx *ctx);

static inline json_t *rfx_synth_route_k(rfx_synth *y, attn_router *r, int64_t number, int64_t t,
                                        int top_k)
{
    attn_error err;
    json_t *snap = NULL, *out;
    if (attn_asof_reader_pr_snapshot(y->reader, y->ctx.repo_id, number, t, &snap, &err))
        fail_msg("snapshot #%lld: %s", (long long)number, err.msg);
    out = rfx_route(r, &y->ctx, number, t, top_k, snap);
    json_decref(snap);
    return out;
}

static inline json_t *rfx_synth_route(rfx_synth *y, attn_router *r, int64_t number, int64_t t)
{
    return rfx_synth_route_k(y, r, number, t, 10);
}

/* The n-th PR (0-based) in created order, with its created_at. */
static inline void rfx_synth_pr(rfx_synth *y, size_t nth, int64_t *number, int64_t *created)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(y->s),
                                        "SELECT number, created_at FROM pull_requests"
                                        " ORDER BY created_at, number LIMIT 1 OFFSET ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)nth);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *number = sqlite3_column_int64(st, 0);
    *created = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
}

/*
 * Routers may hand router.c only the candidates it can need (route/
 * shortlist.h): a top_k route must equal the first top_k of an unlimited
 * route (top_k 0), candidates and confidence alike. PRs first .. first+n-1
 * in created order, routed at created_at + offset. Returns how many routes
 * had more candidates than top_k (so the check was not vacuous).
 */
static inline size_t rfx_shortlist_check(rfx_synth *y, attn_router *r, size_t first, size_t n,
                                         int64_t offset, int top_k)
{
    size_t trimmed = 0;
    for (size_t i = first; i < first + n; i++) {
        int64_t number, created;
        json_t *a, *b, *cut;
        char *ca, *cb;
        rfx_synth_pr(y, i, &number, &created);
        a = rfx_synth_route_k(y, r, number, created + offset, top_k);
        b = rfx_synth_route_k(y, r, number, created + offset, 0);
        cut = json_array();
        for (size_t k = 0; k < (size_t)top_k && k < rfx_ncands(b); k++)
            json_array_append(cut, json_array_get(json_object_get(b, "candidates"), k));
        trimmed += rfx_ncands(b) > (size_t)top_k;
        ca = rfx_canonical(json_object_get(a, "candidates"));
        cb = rfx_canonical(cut);
        if (strcmp(ca, cb))
            fail_msg("shortlist changed #%lld:\ntop_k: %s\nall:   %s", (long long)number, ca, cb);
        assert_string_equal(attn_json_str(a, "confidence"), attn_json_str(b, "confidence"));
        assert_string_equal(attn_json_str(a, "risk"), attn_json_str(b, "risk"));
        free(ca);
        free(cb);
        json_decref(cut);
        json_decref(a);
        json_decref(b);
    }
    return trimmed;
}

/*
 * For n_prs PRs spread over the history and cutoffs created_at + offsets[k],
 * routes on the full store must equal routes on a store cut at the cutoff.
 * Returns how many routes had candidates (so a test can insist the check
 * was not vacuous).
 */
static inline size_t rfx_leakage_check(rfx_synth *y, rfx_make_router make, size_t n_prs,
                                       const int64_t *offsets, size_t n_offsets)
{
    sqlite3_stmt *st;
    int64_t total = 0;
    size_t nonempty = 0;
    attn_router *full = make(&y->ctx);
    assert_int_equal(sqlite3_prepare_v2(attn_store_db(y->s),
                                        "SELECT count(*) FROM pull_requests", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    assert_true(total > (int64_t)n_prs);
    for (size_t i = 0; i < n_prs; i++) {
        /* PRs from the later part of the history, so there is a past. */
        int64_t number = 0, created = 0;
        size_t pick = (size_t)total / 3 + i * ((size_t)total * 2 / 3) / n_prs;
        rfx_synth_pr(y, pick, &number, &created);
        for (size_t k = 0; k < n_offsets; k++) {
            int64_t t = created + offsets[k];
            rfx_synth cut;
            attn_router *rc;
            json_t *a = rfx_synth_route(y, full, number, t), *b;
            char *ca, *cb;
            rfx_synth_truncated(y, t, &cut);
            rc = make(&cut.ctx);
            b = rfx_synth_route(&cut, rc, number, t);
            ca = rfx_canonical(a);
            cb = rfx_canonical(b);
            if (strcmp(ca, cb))
                fail_msg("leak at #%lld cutoff %lld:\nfull: %s\ncut:  %s", (long long)number,
                         (long long)t, ca, cb);
            nonempty += rfx_ncands(a) > 0;
            free(ca);
            free(cb);
            json_decref(a);
            json_decref(b);
            attn_router_free(rc);
            rfx_synth_close(&cut, 0);
            remove(cut.db);
        }
    }
    attn_router_free(full);
    return nonempty;
}

#endif
