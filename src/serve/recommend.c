/*
 * recommend.c - live recommendations: when a delivery opens a PR or marks it
 * ready for review, route it with the routers and configs of the
 * repository's newest completed baseline run (registry + its manifest), as
 * of the PR's created_at (the cutoff the evaluation uses), and keep the answer as DATA/github/<o>/<r>/live/<n>.json
 * (atomic write; a later delivery for the same PR replaces it). Served by
 * GET /api/recommendations?repo=[&pr=] and the /live page.
 *
 * Must never: fail the delivery (an error is kept as the recommendation's
 * "error"), write into the history store or a run directory, or post
 * anything to GitHub.
 */
#include "serve/recommend.h"
#include "serve/html.h"
#include "serve/pages.h"
#include "exp/registry.h"
#include "history/asof.h"
#include "route/context.h"
#include "route/router.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOP_K 5

/* The newest completed, non-deleted baseline row of repo (NULL when none). */
static json_t *baseline_row(attn_server *s, const char *repo, attn_error *err)
{
    attn_registry *reg = NULL;
    attn_run_filter f;
    json_t *rows = NULL, *best = NULL;
    char path[4400];
    if (attn_serve_repo_path(s, repo, "runs.sqlite", path, sizeof(path), err) ||
        !attn_fs_exists(path) || attn_registry_open(path, &reg, err))
        return NULL;
    memset(&f, 0, sizeof(f));
    f.kind = "baseline";
    f.status = "completed";
    f.lifecycle = "active";
    if (!attn_registry_list(reg, &f, &rows, err) && json_array_size(rows))
        best = json_incref(json_array_get(rows, json_array_size(rows) - 1));
    json_decref(rows);
    attn_registry_close(reg);
    return best;
}

static int route_all(attn_server *s, const char *repo, int64_t number, const json_t *manifest,
                     json_t *routes, attn_error *err)
{
    char db[4400], dir[4400];
    attn_store *st = NULL;
    attn_route_env *env = NULL;
    json_t *snap = NULL, *r;
    int64_t as_of;
    size_t i;
    int rc;
    if ((rc = attn_serve_repo_path(s, repo, "history.sqlite", db, sizeof(db), err)) ||
        (rc = attn_path_repo_dir(s->data_dir, repo, dir, sizeof(dir), err)) ||
        (rc = attn_store_open_readonly(db, &st, err)) ||
        (rc = attn_route_env_open(st, repo, dir, &env, err)))
        goto out;
    {
        const attn_route_ctx *ctx = attn_route_env_ctx(env);
        /* The cutoff evaluation uses (created_at), so a live answer is what
         * the baseline run would have said for this PR. */
        if ((rc = attn_asof_reader_pr_created_at(ctx->reader, ctx->repo_id, number, &as_of, err)))
            goto out;
        if ((rc = attn_asof_reader_pr_snapshot(ctx->reader, ctx->repo_id, number, as_of, &snap,
                                               err)))
            goto out;
        json_array_foreach(json_object_get(manifest, "routers"), i, r) {
            const attn_router_def *d;
            attn_router *ro = NULL;
            attn_route_query q = {number, as_of, TOP_K, snap};
            json_t *res = NULL;
            const char *name = attn_json_str(r, "name");
            if (!name || (rc = attn_router_find(name, &d, err)) ||
                (rc = attn_router_new(d, json_object_get(r, "config"), "the baseline run", ctx,
                                      &ro, err)) ||
                (rc = attn_router_route(ro, ctx, &q, &res, err))) {
                attn_router_free(ro);
                goto out;
            }
            json_object_set_new(routes, name, res);
            attn_router_free(ro);
        }
    }
out:
    json_decref(snap);
    attn_route_env_free(env);
    attn_store_close(st);
    return rc;
}

void attn_serve_recommend_pr(attn_server *s, const char *repo, int64_t number,
                             const char *delivery)
{
    attn_error err;
    json_t *row, *man = NULL, *rec, *routes = json_object();
    char path[4400], rel[64], at[32];
    attn_buf text = ATTN_BUF_INIT;
    attn_error_clear(&err);
    attn_time_format((int64_t)time(NULL), at);
    rec = json_pack("{s:s, s:I, s:s, s:s}", "repo", repo, "pr", (json_int_t)number, "delivery",
                    delivery, "routed_at", at);
    if (!(row = baseline_row(s, repo, &err)))
        json_object_set_new(rec, "error", json_string(err.msg[0] ? err.msg
                                                                 : "no completed baseline run"));
    else if (attn_serve_run_file(row, "manifest.json", &man, &err) ||
             route_all(s, repo, number, man, routes, &err))
        json_object_set_new(rec, "error", json_string(err.msg));
    if (row)
        json_object_set(rec, "baseline_run", json_object_get(row, "run_id"));
    json_object_set_new(rec, "routes", routes);
    snprintf(rel, sizeof(rel), "live/%lld.json", (long long)number);
    if (!attn_serve_repo_path(s, repo, "live", path, sizeof(path), &err) &&
        !attn_fs_mkdirs(path, &err) &&
        !attn_serve_repo_path(s, repo, rel, path, sizeof(path), &err) &&
        !attn_json_dump_pretty(rec, &text))
        attn_fs_write_atomic(path, text.ptr, text.len, &err);
    attn_buf_free(&text);
    json_decref(rec);
    json_decref(man);
    json_decref(row);
}

/* Every kept recommendation of repo, by PR number. */
static json_t *list_recs(attn_server *s, const char *repo)
{
    char dir[4400], path[4700];
    json_t *out = json_array(), *v;
    attn_error err;
    DIR *d;
    struct dirent *e;
    if (attn_serve_repo_path(s, repo, "live", dir, sizeof(dir), &err) || !(d = opendir(dir)))
        return out;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || !strstr(e->d_name, ".json"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (!attn_json_load_file(path, &v, &err))
            json_array_append_new(out, v);
    }
    closedir(d);
    /* by PR number */
    for (size_t i = 1; i < json_array_size(out); i++)
        for (size_t j = i; j > 0 && attn_json_i64(json_array_get(out, j - 1), "pr", 0) >
                                        attn_json_i64(json_array_get(out, j), "pr", 0); j--) {
            json_t *a = json_incref(json_array_get(out, j - 1));
            json_array_set(out, j - 1, json_array_get(out, j));
            json_array_set_new(out, j, a);
        }
    return out;
}

void attn_serve_recommendations_api(attn_server *s, const attn_req *q, const char *repo,
                                    attn_resp *r)
{
    const char *prs = attn_req_query(q, "pr");
    json_t *all = list_recs(s, repo), *v;
    attn_error err;
    int64_t pr;
    size_t i;
    if (prs) {
        if (attn_serve_parse_pr(prs, &pr, &err)) {
            json_decref(all);
            attn_resp_error(r, 400, "bad_request", "%s", err.msg);
            return;
        }
        json_array_foreach(all, i, v) if (attn_json_i64(v, "pr", 0) == pr) {
            attn_resp_json(r, 200, json_incref(v));
            json_decref(all);
            return;
        }
        json_decref(all);
        attn_resp_error(r, 404, "not_found", "no recommendation for PR %lld of %s yet",
                        (long long)pr, repo);
        return;
    }
    attn_resp_json(r, 200, json_pack("{s:s, s:o}", "repo", repo, "recommendations", all));
}

static void live_row(attn_buf *b, const json_t *v)
{
    const char *router;
    json_t *res, *c;
    size_t i;
    attn_buf_printf(b, "<tr><td>#%lld</td><td>", (long long)attn_json_i64(v, "pr", 0));
    attn_html_esc(b, attn_json_str(v, "routed_at"));
    attn_buf_puts(b, "</td><td>");
    attn_html_esc(b, attn_json_str(v, "baseline_run"));
    attn_buf_puts(b, "</td><td>");
    if (attn_json_str(v, "error")) {
        attn_buf_puts(b, "<span class=\"warn\">");
        attn_html_esc(b, attn_json_str(v, "error"));
        attn_buf_puts(b, "</span>");
    }
    json_object_foreach(json_object_get(v, "routes"), router, res) {
        attn_buf_puts(b, "<b>");
        attn_html_esc(b, router);
        attn_buf_puts(b, "</b>: ");
        json_array_foreach(json_object_get(res, "candidates"), i, c) {
            attn_html_esc(b, attn_json_str(json_object_get(c, "target"), "name"));
            attn_buf_puts(b, " ");
        }
        attn_buf_puts(b, "<br>");
    }
    attn_buf_puts(b, "</td></tr>");
}

void attn_page_live(attn_server *s, const attn_req *q, attn_resp *r)
{
    const char *repo = NULL;
    json_t *repos = NULL, *all, *v;
    attn_error err;
    size_t i;
    attn_error_clear(&err);
    if (attn_serve_repo(s, q, &repo, &repos, &err)) {
        json_decref(repos);
        attn_page_error(r, err.code == ATTN_ENOTFOUND ? 404 : 400, NULL, err.msg);
        return;
    }
    all = list_recs(s, repo);
    r->status = 200;
    r->type = "text/html; charset=utf-8";
    attn_html_head(&r->body, "Live", repo);
    attn_buf_printf(&r->body, "<h1>Live recommendations</h1><p class=\"muted\">PRs opened or marked "
                              "ready through webhooks, routed with the baseline run's routers "
                              "(%zu)</p><table><tr><th>PR</th><th>routed at</th><th>baseline run</th>"
                              "<th>top candidates</th></tr>",
                    json_array_size(all));
    json_array_foreach(all, i, v) live_row(&r->body, v);
    attn_buf_puts(&r->body, "</table>");
    attn_html_foot(&r->body);
    json_decref(all);
    json_decref(repos);
}
