/*
 * api.c - the JSON API under /api/ (issue 11): repos, runs, one run, its
 * PRs (paged), one PR, compare, prompt diffs, recommendations, and the
 * authenticated mutations (archive, restore, tag, kind, delete, cleanup).
 *
 * Mutations make the same registry calls as `attn runs` (delete marks the
 * row deleted, then removes the run directory; cleanup applies exactly the
 * plan its dry run shows). Every error is {"error": CODE, "message": ...}
 * with a stable CODE. Must never: mutate without a valid bearer token, or
 * act on an id attn_path_check_id refuses.
 */
#include "serve/internal.h"
#include "serve/recommend.h"
#include "exp/lifecycle.h"
#include "exp/registry.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SEGS 8

/* Split path into at most MAX_SEGS segments (copies into buf). */
static int split(const char *path, char *buf, size_t cap, char **segs)
{
    int n = 0;
    char *p, *save = NULL;
    snprintf(buf, cap, "%s", path);
    for (p = strtok_r(buf, "/", &save); p && n < MAX_SEGS; p = strtok_r(NULL, "/", &save))
        segs[n++] = p;
    return p ? -1 : n;
}

static long qnum(const attn_req *q, const char *key, long dflt, long max)
{
    const char *v = attn_req_query(q, key);
    char *end;
    long n;
    if (!v || !*v)
        return dflt;
    n = strtol(v, &end, 10);
    if (*end || n < 0)
        return -1;
    return n > max ? max : n;
}

int attn_serve_authorized(attn_server *s, const attn_req *q, attn_resp *r)
{
    const char *h = attn_req_header(q, "Authorization");
    if (!s->push_secret[0]) {
        attn_resp_error(r, 403, "auth_not_configured",
                        "mutations are disabled: start attn serve with ATTN_PUSH_SECRET set");
        return 0;
    }
    if (!h || strncmp(h, "Bearer ", 7) || !attn_serve_secret_equal(h + 7, strlen(h + 7),
                                                                   s->push_secret)) {
        attn_resp_error(r, 401, "unauthorized",
                        "give Authorization: Bearer <ATTN_PUSH_SECRET> to change runs");
        return 0;
    }
    return 1;
}

static int body_json(const attn_req *q, attn_resp *r, json_t **out)
{
    json_error_t je;
    *out = NULL;
    if (!q->body_len) {
        *out = json_object();
        return 1;
    }
    if (!(*out = json_loadb(q->body, q->body_len, 0, &je)) || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        attn_resp_error(r, 400, "invalid_json", "the request body must be a JSON object (%s)",
                        je.text[0] ? je.text : "not an object");
        return 0;
    }
    return 1;
}

static void run_get(attn_server *s, const char *repo, const char *id, attn_resp *r)
{
    attn_error err;
    json_t *row = NULL, *rep = NULL, *man = NULL, *out;
    attn_error_clear(&err);
    if (attn_serve_run_row(s, repo, id, &row, &err)) {
        attn_resp_from_err(r, &err);
        return;
    }
    attn_serve_run_file(row, "report.json", &rep, &err);
    attn_serve_run_file(row, "manifest.json", &man, &err);
    out = json_pack("{s:o, s:o, s:o}", "run", row, "report", rep ? rep : json_null(), "manifest",
                    man ? man : json_null());
    attn_resp_json(r, 200, out);
}

static void run_prs(attn_server *s, const attn_req *q, const char *repo, const char *id,
                    attn_resp *r)
{
    attn_error err;
    json_t *row = NULL, *all = NULL, *page;
    long off = qnum(q, "offset", 0, 1L << 30), lim = qnum(q, "limit", 50, 1000);
    size_t i;
    attn_error_clear(&err);
    if (off < 0 || lim < 0) {
        attn_resp_error(r, 400, "bad_request", "offset and limit are whole numbers");
        return;
    }
    if (attn_serve_run_row(s, repo, id, &row, &err) || attn_serve_per_pr(row, &all, &err)) {
        json_decref(row);
        attn_resp_from_err(r, &err);
        return;
    }
    page = json_array();
    for (i = (size_t)off; i < json_array_size(all) && i < (size_t)(off + lim); i++)
        json_array_append(page, json_array_get(all, i));
    attn_resp_json(r, 200, json_pack("{s:s, s:I, s:I, s:I, s:o}", "run_id", id, "total",
                                     (json_int_t)json_array_size(all), "offset", (json_int_t)off,
                                     "limit", (json_int_t)lim, "prs", page));
    json_decref(all);
    json_decref(row);
}

static void run_pr(attn_server *s, const char *repo, const char *id, const char *prs,
                   attn_resp *r)
{
    attn_error err;
    json_t *row = NULL, *d = NULL;
    int64_t pr;
    attn_error_clear(&err);
    if (attn_serve_parse_pr(prs, &pr, &err) || attn_serve_run_row(s, repo, id, &row, &err) ||
        attn_serve_pr_detail(row, pr, &d, &err)) {
        json_decref(row);
        attn_resp_from_err(r, &err);
        return;
    }
    json_decref(row);
    attn_resp_json(r, 200, d);
}

static void compare(attn_server *s, const attn_req *q, const char *repo, int prompts_only,
                    attn_resp *r)
{
    attn_error err;
    json_t *cmp = NULL, *ra = NULL, *rb = NULL, *ma = NULL, *mb = NULL;
    const char *a = attn_req_query(q, "run_a"), *b = attn_req_query(q, "run_b");
    attn_error_clear(&err);
    if (!prompts_only) {
        if (attn_serve_compare(s, repo, a, b, &cmp, NULL, &err))
            attn_resp_from_err(r, &err);
        else
            attn_resp_json(r, 200, cmp);
        return;
    }
    if (!a || !b) {
        attn_resp_error(r, 400, "bad_request", "give ?run_a=RUN_ID&run_b=RUN_ID");
        return;
    }
    if (attn_serve_run_row(s, repo, a, &ra, &err) || attn_serve_run_row(s, repo, b, &rb, &err) ||
        attn_serve_run_file(ra, "manifest.json", &ma, &err) ||
        attn_serve_run_file(rb, "manifest.json", &mb, &err))
        attn_resp_from_err(r, &err);
    else
        attn_resp_json(r, 200, json_pack("{s:s, s:s, s:o}", "run_a", a, "run_b", b, "routers",
                                         attn_serve_prompt_diff(ma, mb)));
    json_decref(ra);
    json_decref(rb);
    json_decref(ma);
    json_decref(mb);
}

static int mutate_run(attn_registry *reg, const char *id, const char *action, const char *method,
                      const json_t *body, const attn_req *q, int64_t now, attn_error *err)
{
    const char *force = attn_req_query(q, "force");
    int forced = (force && !strcmp(force, "1")) || attn_json_bool(body, "force", 0) == 1;
    if (!action && !strcmp(method, "DELETE"))
        return attn_lifecycle_delete(reg, id, forced, "force", now, err);
    if (!action || strcmp(method, "POST"))
        return attn_error_set(err, ATTN_EINVAL, "use POST /api/runs/ID/(archive|restore|tag|kind) "
                                                "or DELETE /api/runs/ID");
    if (!strcmp(action, "archive") || !strcmp(action, "restore"))
        return attn_registry_set_lifecycle(reg, id, *action == 'a' ? "archived" : "active", now,
                                           NULL, err);
    if (!strcmp(action, "tag")) {
        const char *add = attn_json_str(body, "add"), *rm = attn_json_str(body, "remove");
        if (!add == !rm)
            return attn_error_set(err, ATTN_EINVAL, "tag takes a body {\"add\": T} or "
                                                    "{\"remove\": T}");
        return attn_registry_tag(reg, id, add ? add : rm, !!add, now, err);
    }
    if (!strcmp(action, "kind"))
        return attn_registry_set_kind(reg, id, attn_json_str(body, "kind"), now, err);
    return attn_error_set(err, ATTN_ENOTFOUND, "no action '%s' on a run", action);
}

static int cleanup(attn_server *s, const char *repo, attn_registry *reg, const json_t *body,
                   int64_t now, json_t **out, attn_error *err)
{
    attn_retention pol;
    attn_run_filter f;
    json_t *rows = NULL, *plan = NULL, *a, *dry = json_object_get(body, "dry_run");
    char path[4400];
    size_t i;
    int rc;
    attn_retention_init(&pol);
    if ((rc = attn_serve_repo_path(s, repo, "routing/retention.json", path, sizeof(path), err)))
        return rc;
    if (attn_fs_exists(path)) {
        json_t *pj = NULL;
        if ((rc = attn_json_load_file(path, &pj, err)))
            return rc;
        rc = attn_retention_from_json(pj, path, &pol, err);
        json_decref(pj);
        if (rc)
            return rc;
    }
    if (dry && !json_is_boolean(dry))
        return attn_error_set(err, ATTN_EINVAL, "dry_run must be true or false");
    if (json_object_get(body, "policy") &&
        (rc = attn_retention_from_json(json_object_get(body, "policy"), "policy", &pol, err)))
        return rc;
    memset(&f, 0, sizeof(f));
    if ((rc = attn_registry_list(reg, &f, &rows, err)) ||
        (rc = attn_retention_plan(rows, &pol, now, &plan, err)))
        goto out;
    if (!json_is_true(dry))
        json_array_foreach(plan, i, a)
            if ((rc = attn_lifecycle_apply(reg, a, now, err)))
                goto out;
    *out = json_pack("{s:b, s:O}", "dry_run", json_is_true(dry), "actions", plan);
out:
    json_decref(rows);
    json_decref(plan);
    return rc;
}

static void mutation(attn_server *s, const attn_req *q, const char *repo, const char *id,
                     const char *action, attn_resp *r)
{
    attn_registry *reg = NULL;
    attn_error err;
    json_t *body = NULL, *out = NULL;
    int64_t now;
    int rc;
    attn_error_clear(&err);
    if (!attn_serve_authorized(s, q, r) || !body_json(q, r, &body))
        return;
    if (id && attn_path_check_id(id, "run id", &err)) {
        json_decref(body);
        attn_resp_error(r, 400, "invalid_id", "%s", err.msg);
        return;
    }
    if ((rc = attn_registry_now(&now, &err)) || (rc = attn_serve_open_registry(s, repo, &reg, &err)))
        goto out;
    if (!id)
        rc = cleanup(s, repo, reg, body, now, &out, &err);
    else if (!(rc = mutate_run(reg, id, action, q->method, body, q, now, &err))) {
        json_t *ev = NULL;
        if (!(rc = attn_registry_get(reg, id, &out, &err)) &&
            !(rc = attn_registry_events(reg, id, &ev, &err)))
            json_object_set_new(out, "events", ev);
    }
out:
    attn_registry_close(reg);
    json_decref(body);
    if (rc)
        attn_resp_from_err(r, &err);
    else
        attn_resp_json(r, 200, out);
}

static void runs_routes(attn_server *s, const attn_req *q, const char *repo, char **seg, int n,
                        attn_resp *r)
{
    int get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");
    attn_error err;
    attn_error_clear(&err);
    if (n >= 3 && attn_path_check_id(seg[2], "run id", &err)) {
        attn_resp_error(r, 400, "invalid_id", "%s", err.msg);
        return;
    }
    if (n == 3 && !strcmp(seg[2], "cleanup") && !strcmp(q->method, "POST"))
        mutation(s, q, repo, NULL, NULL, r);
    else if (n == 3 && get)
        run_get(s, repo, seg[2], r);
    else if (n == 3 && !strcmp(q->method, "DELETE"))
        mutation(s, q, repo, seg[2], NULL, r);
    else if (n == 4 && get && !strcmp(seg[3], "prs"))
        run_prs(s, q, repo, seg[2], r);
    else if (n == 5 && get && !strcmp(seg[3], "prs"))
        run_pr(s, repo, seg[2], seg[4], r);
    else if (n == 4 && !strcmp(q->method, "POST"))
        mutation(s, q, repo, seg[2], seg[3], r);
    else if (n >= 3 && n <= 5)
        attn_resp_error(r, 405, "method_not_allowed", "%s is not allowed on %s", q->method,
                        q->path);
    else
        attn_resp_error(r, 404, "not_found", "no API endpoint %s", q->path);
}

void attn_serve_api(attn_server *s, const attn_req *q, attn_resp *r)
{
    char buf[2048], *seg[MAX_SEGS];
    const char *repo = NULL;
    json_t *repos = NULL;
    attn_error err;
    int n = split(q->path, buf, sizeof(buf), seg);
    int get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");
    attn_error_clear(&err);
    if (n < 2) {
        attn_resp_error(r, 404, "not_found", "no API endpoint %s", q->path);
        return;
    }
    if (n == 2 && !strcmp(seg[1], "repos")) {
        if (get)
            attn_resp_json(r, 200, json_pack("{s:o}", "repos", attn_serve_repos(s)));
        else
            attn_resp_error(r, 405, "method_not_allowed", "use GET");
        return;
    }
    if (n == 2 && !strcmp(seg[1], "runs") && get) {
        const char *rq = attn_req_query(q, "repo");
        json_t *rows = NULL;
        if (rq && *rq && attn_serve_repo(s, q, &repo, &repos, &err))
            attn_resp_from_err(r, &err);
        else if (attn_serve_list_runs(s, q, repo, &rows, &err))
            attn_resp_from_err(r, &err);
        else {
            /* Paged (registry order) so a list of thousands of runs stays
             * small: ?offset= (default 0) and ?limit= (default 200, max 5000). */
            long off = qnum(q, "offset", 0, 1L << 30), lim = qnum(q, "limit", 200, 5000);
            json_t *page = json_array();
            size_t i, total = json_array_size(rows);
            if (off < 0 || lim < 0) {
                json_decref(rows);
                json_decref(page);
                json_decref(repos);
                attn_resp_error(r, 400, "bad_request", "offset and limit are whole numbers");
                return;
            }
            for (i = (size_t)off; i < total && i < (size_t)(off + lim); i++)
                json_array_append(page, json_array_get(rows, i));
            json_decref(rows);
            attn_resp_json(r, 200, json_pack("{s:o, s:I, s:I, s:I}", "runs", page, "total",
                                             (json_int_t)total, "offset", (json_int_t)off, "limit",
                                             (json_int_t)lim));
        }
        json_decref(repos);
        return;
    }
    if (attn_serve_repo(s, q, &repo, &repos, &err)) {
        json_decref(repos);
        if (err.code == ATTN_EINVAL)
            attn_resp_error(r, 400, "repo_required", "%s", err.msg);
        else
            attn_resp_error(r, 404, "repo_not_found", "%s", err.msg);
        return;
    }
    if (!strcmp(seg[1], "runs") && n >= 3)
        runs_routes(s, q, repo, seg, n, r);
    else if (n == 2 && !strcmp(seg[1], "compare") && get)
        compare(s, q, repo, 0, r);
    else if (n == 3 && !strcmp(seg[1], "prompts") && !strcmp(seg[2], "diff") && get)
        compare(s, q, repo, 1, r);
    else if (n == 2 && !strcmp(seg[1], "recommendations") && get)
        attn_serve_recommendations_api(s, q, repo, r);
    else if (n == 2 && (!strcmp(seg[1], "compare") || !strcmp(seg[1], "recommendations") ||
                        !strcmp(seg[1], "runs")))
        attn_resp_error(r, 405, "method_not_allowed", "use GET");
    else
        attn_resp_error(r, 404, "not_found", "no API endpoint %s", q->path);
    json_decref(repos);
}
