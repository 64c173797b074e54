/*
 * pages_pr.c - the PR drill-down: the snapshot at the cutoff with its
 * leak_risk, each router's candidates with evidence, and the truth; with
 * ?vs=RUN the second run's routes sit beside the first's (a flip's view).
 */
#include "serve/internal.h"
#include "serve/html.h"
#include "serve/pages.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

static void snapshot_panel(attn_buf *b, const json_t *snap)
{
    json_t *v;
    size_t i;
    attn_buf_puts(b, "<h2>Snapshot at the cutoff</h2><div class=\"panel\">");
    static const char *const keys[] = {"title", "author", "as_of", "state", "base_ref", "base_sha",
                                       "head_sha", NULL};
    for (int k = 0; keys[k]; k++) {
        attn_buf_printf(b, "<b>%s</b><span>", keys[k]);
        attn_html_esc(b, attn_json_str(snap, keys[k]) ? attn_json_str(snap, keys[k]) : "—");
        attn_buf_puts(b, "</span>");
    }
    attn_buf_printf(b, "<b>changed files</b><span>%zu</span><b>review requests</b><span>",
                    json_array_size(json_object_get(snap, "changed_files")));
    json_array_foreach(json_object_get(snap, "review_requests"), i, v) {
        attn_html_esc(b, json_is_string(v) ? json_string_value(v)
                                           : attn_json_str(v, "login") ? attn_json_str(v, "login")
                                                                       : attn_json_str(v, "name"));
        attn_buf_puts(b, " ");
    }
    attn_buf_puts(b, "</span><b>leak_risk</b><span>");
    if (!json_array_size(json_object_get(snap, "leak_risk")))
        attn_buf_puts(b, "none");
    json_array_foreach(json_object_get(snap, "leak_risk"), i, v) {
        attn_buf_puts(b, "<span class=\"tag\">");
        attn_html_esc(b, json_string_value(v));
        attn_buf_puts(b, "</span>");
    }
    attn_buf_puts(b, "</span></div>");
}

static void truth_panel(attn_buf *b, const json_t *truth)
{
    const char *pol;
    json_t *t, *v;
    size_t i;
    attn_buf_puts(b, "<h2>Truth</h2><table><tr><th>policy</th><th>status</th><th>targets</th>"
                     "</tr>");
    json_object_foreach((json_t *)truth, pol, t) {
        attn_buf_puts(b, "<tr><td>");
        attn_html_esc(b, pol);
        attn_buf_puts(b, "</td><td>");
        attn_html_esc(b, attn_json_str(t, "status"));
        attn_buf_puts(b, "</td><td>");
        json_array_foreach(json_object_get(t, "targets"), i, v) {
            attn_html_esc(b, json_is_string(v) ? json_string_value(v) : attn_json_str(v, "name"));
            attn_buf_puts(b, " ");
        }
        attn_buf_puts(b, "</td></tr>");
    }
    attn_buf_puts(b, "</table>");
}

static void route_table(attn_buf *b, const char *router, const json_t *route)
{
    json_t *c, *ev;
    size_t i, j;
    attn_buf_puts(b, "<h3>");
    attn_html_esc(b, router);
    attn_buf_puts(b, " <span class=\"muted\">confidence ");
    attn_html_esc(b, attn_json_str(route, "confidence"));
    attn_buf_puts(b, ", risk ");
    attn_html_esc(b, attn_json_str(route, "risk"));
    attn_buf_puts(b, "</span></h3><table><tr><th>#</th><th>candidate</th><th>score</th>"
                     "<th>evidence</th></tr>");
    json_array_foreach(json_object_get(route, "candidates"), i, c) {
        if (i >= 10)
            break;
        attn_buf_printf(b, "<tr><td>%zu</td><td>", i + 1);
        attn_html_esc(b, attn_json_str(json_object_get(c, "target"), "name"));
        attn_buf_printf(b, "</td><td class=\"n\">%.3f</td><td>",
                        json_number_value(json_object_get(c, "score")));
        json_array_foreach(json_object_get(c, "evidence"), j, ev) {
            char *d = json_dumps(json_object_get(ev, "data"), JSON_COMPACT | JSON_SORT_KEYS);
            attn_buf_puts(b, "<b>");
            attn_html_esc(b, attn_json_str(ev, "kind"));
            attn_buf_puts(b, "</b> <code>");
            if (d && strlen(d) > 300)
                d[300] = 0;
            attn_html_esc(b, d);
            attn_buf_puts(b, "</code><br>");
            free(d);
        }
        attn_buf_puts(b, "</td></tr>");
    }
    if (!json_array_size(json_object_get(route, "candidates")))
        attn_buf_puts(b, "<tr><td colspan=\"4\" class=\"muted\">no candidate</td></tr>");
    attn_buf_puts(b, "</table>");
}

static void routes_col(attn_buf *b, const char *title, const json_t *d)
{
    const char *router;
    json_t *route;
    attn_buf_puts(b, "<div style=\"flex:1;min-width:420px\"><h2>Routes of ");
    attn_html_esc(b, title);
    attn_buf_puts(b, "</h2>");
    json_object_foreach(json_object_get(d, "routes"), router, route) route_table(b, router, route);
    attn_buf_puts(b, "</div>");
}

void attn_page_pr(attn_server *s, const attn_req *q, attn_resp *r)
{
    const char *repo = NULL, *vs = attn_req_query(q, "vs");
    json_t *repos = NULL, *row = NULL, *row_b = NULL, *d = NULL, *d_b = NULL;
    attn_error err;
    attn_buf *b = &r->body;
    int64_t pr;
    attn_error_clear(&err);
    if (attn_page_run_row(s, q, "run", &repo, &repos, &row, r))
        goto out;
    if (attn_serve_parse_pr(attn_req_query(q, "pr"), &pr, &err) ||
        attn_serve_pr_detail(row, pr, &d, &err) ||
        (vs && *vs && (attn_serve_run_row(s, repo, vs, &row_b, &err) ||
                       attn_serve_pr_detail(row_b, pr, &d_b, &err)))) {
        attn_page_error(r, err.code == ATTN_ENOTFOUND ? 404 : 400, repo, err.msg);
        goto out;
    }
    r->status = 200;
    r->type = "text/html; charset=utf-8";
    attn_html_head(b, "PR drill-down", repo);
    attn_buf_printf(b, "<h1>PR #%lld: ", (long long)pr);
    attn_html_esc(b, attn_json_str(json_object_get(d, "snapshot"), "title"));
    attn_buf_puts(b, "</h1><p>run <a href=\"");
    attn_page_link(b, "run", repo, "id", attn_json_str(row, "run_id"), NULL, NULL);
    attn_buf_puts(b, "\">");
    attn_html_esc(b, attn_json_str(row, "run_id"));
    attn_buf_puts(b, "</a>");
    if (d_b) {
        attn_buf_puts(b, " beside <a href=\"");
        attn_page_link(b, "run", repo, "id", vs, NULL, NULL);
        attn_buf_puts(b, "\">");
        attn_html_esc(b, vs);
        attn_buf_puts(b, "</a>");
    }
    attn_buf_puts(b, "</p>");
    snapshot_panel(b, json_object_get(d, "snapshot"));
    truth_panel(b, json_object_get(d, "truth"));
    attn_buf_puts(b, "<div style=\"display:flex;gap:16px;flex-wrap:wrap\">");
    routes_col(b, attn_json_str(row, "run_id"), d);
    if (d_b)
        routes_col(b, vs, d_b);
    attn_buf_puts(b, "</div>");
    attn_html_foot(b);
out:
    json_decref(d);
    json_decref(d_b);
    json_decref(row);
    json_decref(row_b);
    json_decref(repos);
}
