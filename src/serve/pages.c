/*
 * pages.c - the dashboard's runs list and run detail pages (server-rendered
 * HTML, charts as inline SVG; readable with JavaScript off). The compare,
 * drill-down and live pages are in pages_compare.c.
 *
 * The only script is the controls' few lines: they call the same JSON API
 * (POST /api/runs/...) with the bearer token the person types in, because a
 * plain form cannot send an Authorization header. Must never: show a value
 * without escaping it, or change anything on GET.
 */
#include "serve/internal.h"
#include "serve/html.h"
#include "serve/pages.h"
#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RUNS_PAGE 100

void attn_page_link(attn_buf *b, const char *page, const char *repo, const char *k1,
                    const char *v1, const char *k2, const char *v2)
{
    attn_buf_printf(b, "/%s?repo=", page);
    attn_html_url(b, repo);
    if (k1) {
        attn_buf_printf(b, "&amp;%s=", k1);
        attn_html_url(b, v1);
    }
    if (k2) {
        attn_buf_printf(b, "&amp;%s=", k2);
        attn_html_url(b, v2);
    }
}

void attn_page_error(attn_resp *r, int status, const char *repo, const char *msg)
{
    r->status = status;
    r->type = "text/html; charset=utf-8";
    attn_buf_clear(&r->body);
    attn_html_head(&r->body, "error", repo);
    attn_buf_puts(&r->body, "<h1>Not shown</h1><p class=\"warn\">");
    attn_html_esc(&r->body, msg);
    attn_buf_puts(&r->body, "</p>");
    attn_html_foot(&r->body);
}

static void filter_select(attn_buf *b, const attn_req *q, const char *key, const char *const *vals)
{
    const char *cur = attn_req_query(q, key);
    attn_buf_printf(b, "<label>%s <select name=\"%s\"><option value=\"\">any</option>", key, key);
    for (; *vals; vals++) {
        attn_buf_printf(b, "<option%s>", cur && !strcmp(cur, *vals) ? " selected" : "");
        attn_html_esc(b, *vals);
        attn_buf_puts(b, "</option>");
    }
    attn_buf_puts(b, "</select></label> ");
}

static void filter_form(attn_buf *b, const attn_req *q, const json_t *repos)
{
    static const char *const kinds[] = {"baseline", "experimental", "ab_control", "ab_treatment",
                                        NULL};
    static const char *const lifes[] = {"active", "archived", "deleted", NULL};
    const char *cur = attn_req_query(q, "repo"), *t;
    size_t i;
    json_t *v;
    attn_buf_puts(b, "<form method=\"get\" action=\"/runs\"><label>repo <select name=\"repo\">"
                     "<option value=\"\">all</option>");
    json_array_foreach(repos, i, v) {
        attn_buf_printf(b, "<option%s>",
                        cur && !strcmp(cur, json_string_value(v)) ? " selected" : "");
        attn_html_esc(b, json_string_value(v));
        attn_buf_puts(b, "</option>");
    }
    attn_buf_puts(b, "</select></label> ");
    filter_select(b, q, "kind", kinds);
    filter_select(b, q, "lifecycle", lifes);
    attn_buf_puts(b, "<label>tag <input name=\"tag\" size=\"10\" value=\"");
    attn_html_esc(b, (t = attn_req_query(q, "tag")) ? t : "");
    attn_buf_puts(b, "\"></label> <label>experiment_id <input name=\"experiment_id\" size=\"14\" "
                     "value=\"");
    attn_html_esc(b, (t = attn_req_query(q, "experiment_id")) ? t : "");
    attn_buf_puts(b, "\"></label> <button>Filter</button></form>");
}

static void headline_cell(attn_buf *b, const json_t *row)
{
    const char *name;
    json_t *h;
    json_object_foreach(json_object_get(row, "headline"), name, h) {
        attn_html_esc(b, name);
        attn_buf_puts(b, ": MRR ");
        attn_html_num(b, json_object_get(h, "mrr"));
        attn_buf_puts(b, ", hit@1 ");
        attn_html_num(b, json_object_get(h, "hit_at_1"));
        attn_buf_puts(b, "<br>");
    }
}

static void run_row(attn_buf *b, const json_t *row, const char *baseline)
{
    const char *repo = attn_json_str(row, "repo"), *id = attn_json_str(row, "run_id");
    size_t i;
    json_t *t;
    attn_buf_puts(b, "<tr><td><a href=\"");
    attn_page_link(b, "run", repo, "id", id, NULL, NULL);
    attn_buf_puts(b, "\">");
    attn_html_esc(b, id);
    attn_buf_puts(b, "</a></td><td>");
    attn_html_esc(b, repo);
    attn_buf_printf(b, "</td><td>%s</td><td>%s</td><td>%s</td><td>", attn_json_str(row, "kind"),
                    attn_json_str(row, "status"), attn_json_str(row, "lifecycle"));
    json_array_foreach(json_object_get(row, "tags"), i, t) {
        attn_buf_puts(b, "<span class=\"tag\">");
        attn_html_esc(b, json_string_value(t));
        attn_buf_puts(b, "</span>");
    }
    attn_buf_puts(b, "</td><td>");
    headline_cell(b, row);
    attn_buf_printf(b, "</td><td class=\"n\">%lld</td><td>", (long long)attn_json_i64(row, "n_prs", 0));
    attn_html_esc(b, attn_json_str(row, "started_at"));
    attn_buf_printf(b, "</td><td class=\"n\">%.1f s</td><td class=\"muted\">—</td><td>",
                    (double)attn_json_i64(row, "duration_ms", 0) / 1000.0);
    if (baseline && strcmp(baseline, id)) {
        attn_buf_puts(b, "<a href=\"");
        attn_page_link(b, "compare", repo, "run_a", baseline, "run_b", id);
        attn_buf_puts(b, "\">vs baseline</a>");
    }
    attn_buf_puts(b, "</td></tr>");
}

/* The newest completed, non-deleted baseline run of repo in rows. */
static const char *baseline_of(const json_t *rows, const char *repo)
{
    const char *best = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) if (!strcmp(attn_json_str(r, "repo"), repo) &&
                                       !strcmp(attn_json_str(r, "kind"), "baseline") &&
                                       !strcmp(attn_json_str(r, "status"), "completed") &&
                                       strcmp(attn_json_str(r, "lifecycle"), "deleted"))
        best = attn_json_str(r, "run_id");
    return best;
}

static void compare_form(attn_buf *b, const json_t *rows, const char *repo)
{
    size_t i, side;
    json_t *r;
    if (!repo)
        return;
    attn_buf_puts(b, "<form method=\"get\" action=\"/compare\"><input type=\"hidden\" name=\"repo\" "
                     "value=\"");
    attn_html_esc(b, repo);
    attn_buf_puts(b, "\">Compare ");
    for (side = 0; side < 2; side++) {
        attn_buf_printf(b, "<select name=\"%s\">", side ? "run_b" : "run_a");
        json_array_foreach(rows, i, r) {
            if (!strcmp(attn_json_str(r, "lifecycle"), "deleted"))
                continue;
            attn_buf_printf(b, "<option%s>",
                            side && i + 1 == json_array_size(rows) ? " selected" : "");
            attn_html_esc(b, attn_json_str(r, "run_id"));
            attn_buf_puts(b, "</option>");
        }
        attn_buf_puts(b, side ? "</select> " : "</select> with ");
    }
    attn_buf_puts(b, "<button>Compare</button></form>");
}

static void runs_page(attn_server *s, const attn_req *q, attn_resp *r)
{
    const char *rq = attn_req_query(q, "repo"), *repo = NULL;
    json_t *repos = NULL, *rows = NULL, *row;
    attn_error err;
    attn_buf *b = &r->body;
    size_t i;
    attn_error_clear(&err);
    if (rq && *rq && attn_serve_repo(s, q, &repo, &repos, &err)) {
        attn_page_error(r, err.code == ATTN_ENOTFOUND ? 404 : 400, NULL, err.msg);
        json_decref(repos);
        return;
    }
    if (!repos)
        repos = attn_serve_repos(s);
    if (!repo && json_array_size(repos) == 1)
        repo = json_string_value(json_array_get(repos, 0));
    if (attn_serve_list_runs(s, q, repo, &rows, &err)) {
        attn_page_error(r, 500, repo, err.msg);
        json_decref(repos);
        return;
    }
    r->status = 200;
    r->type = "text/html; charset=utf-8";
    attn_html_head(b, "Runs", repo);
    attn_buf_printf(b, "<h1>Runs</h1>");
    filter_form(b, q, repos);
    compare_form(b, rows, repo);
    size_t total = json_array_size(rows), first, last;
    const char *ps = attn_req_query(q, "page");
    long page = ps ? strtol(ps, NULL, 10) : 0, pages = (long)((total + RUNS_PAGE - 1) / RUNS_PAGE);
    if (page < 0 || page >= pages)
        page = 0;
    /* newest first: page 0 holds the last RUNS_PAGE rows of the registry order */
    last = total - (size_t)page * RUNS_PAGE;
    first = last > RUNS_PAGE ? last - RUNS_PAGE : 0;
    attn_buf_printf(b, "<p class=\"muted\">%zu run(s)", total);
    if (pages > 1) {
        attn_buf_printf(b, ", page %ld of %ld:", page + 1, pages);
        for (long k = 0; k < pages; k++) {
            attn_buf_printf(b, " <a href=\"/runs?page=%ld", k);
            for (int f = 0; f < 5; f++) {
                static const char *const keys[] = {"repo", "kind", "lifecycle", "tag", "experiment_id"};
                const char *v = attn_req_query(q, keys[f]);
                if (v && *v) {
                    attn_buf_printf(b, "&amp;%s=", keys[f]);
                    attn_html_url(b, v);
                }
            }
            attn_buf_printf(b, "\">%ld</a>", k + 1);
        }
    }
    attn_buf_puts(b, "</p><table><tr><th>run</th><th>repo</th>"
                       "<th>kind</th><th>status</th><th>lifecycle</th><th>tags</th>"
                       "<th>headline (MRR, hit@1 per router)</th><th>n</th><th>started</th>"
                       "<th>duration</th><th>cost</th><th>compare</th></tr>");
    for (i = last; i-- > first;) { /* newest first */
        row = json_array_get(rows, i);
        run_row(b, row, baseline_of(rows, attn_json_str(row, "repo")));
    }
    attn_buf_puts(b, "</table>");
    attn_html_foot(b);
    json_decref(rows);
    json_decref(repos);
}

void attn_serve_page(attn_server *s, const attn_req *q, attn_resp *r)
{
    if (strcmp(q->method, "GET") && strcmp(q->method, "HEAD")) {
        attn_page_error(r, 405, NULL, "pages are read with GET; changes go through /api/");
        return;
    }
    if (!strcmp(q->path, "/") || !strcmp(q->path, "/runs"))
        runs_page(s, q, r);
    else if (!strcmp(q->path, "/run"))
        attn_page_run(s, q, r);
    else if (!strcmp(q->path, "/compare"))
        attn_page_compare(s, q, r);
    else if (!strcmp(q->path, "/pr"))
        attn_page_pr(s, q, r);
    else if (!strcmp(q->path, "/live"))
        attn_page_live(s, q, r);
    else
        attn_page_error(r, 404, NULL, "no such page");
}
