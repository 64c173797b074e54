/*
 * pages_run.c - the run detail page: metadata panel, report with intervals,
 * truth coverage, slices, the paginated per-PR table, and the controls.
 */
#include "serve/internal.h"
#include "serve/html.h"
#include "serve/pages.h"
#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 50

int attn_page_run_row(attn_server *s, const attn_req *q, const char *key, const char **repo,
                      json_t **repos, json_t **row, attn_resp *r)
{
    attn_error err;
    attn_error_clear(&err);
    *row = NULL;
    if (attn_serve_repo(s, q, repo, repos, &err)) {
        attn_page_error(r, err.code == ATTN_ENOTFOUND ? 404 : 400, NULL, err.msg);
        return -1;
    }
    if (attn_serve_run_row(s, *repo, attn_req_query(q, key), row, &err)) {
        attn_page_error(r, err.code == ATTN_ENOTFOUND ? 404 : 400, *repo, err.msg);
        return -1;
    }
    return 0;
}

static void kv(attn_buf *b, const char *k, const char *v)
{
    attn_buf_printf(b, "<b>%s</b><span>", k);
    attn_html_esc(b, v ? v : "—");
    attn_buf_puts(b, "</span>");
}

/* Sum every number under keys named like "tokens"/"cost" in v. */
static void sum_usage(const json_t *v, double *tokens, double *cost, int *seen)
{
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_array(v))
        json_array_foreach(v, i, x) sum_usage(x, tokens, cost, seen);
    if (!json_is_object(v))
        return;
    json_object_foreach((json_t *)v, k, x) {
        if (json_is_number(x) && strstr(k, "tokens")) {
            *tokens += json_number_value(x);
            *seen = 1;
        } else if (json_is_number(x) && strstr(k, "cost")) {
            *cost += json_number_value(x);
            *seen = 1;
        } else
            sum_usage(x, tokens, cost, seen);
    }
}

static void meta_panel(attn_buf *b, const json_t *row, const json_t *man, const json_t *rep)
{
    char tmp[64];
    double tokens = 0, cost = 0;
    int seen = 0;
    attn_buf_puts(b, "<h2>Metadata</h2><div class=\"panel\">");
    kv(b, "run_id", attn_json_str(row, "run_id"));
    kv(b, "status", attn_json_str(row, "status"));
    kv(b, "kind", attn_json_str(row, "kind"));
    kv(b, "lifecycle", attn_json_str(row, "lifecycle"));
    kv(b, "experiment_id", attn_json_str(row, "experiment_id"));
    kv(b, "spec_hash", attn_json_str(row, "spec_hash"));
    kv(b, "cohort_hash", attn_json_str(row, "cohort_hash"));
    kv(b, "dataset (inputs_hash)", attn_json_str(row, "inputs_hash"));
    kv(b, "store horizon", attn_json_str(json_object_get(man, "store"), "horizon"));
    kv(b, "code_version", attn_json_str(row, "code_version"));
    kv(b, "started", attn_json_str(row, "started_at"));
    kv(b, "finished", attn_json_str(row, "finished_at"));
    snprintf(tmp, sizeof(tmp), "%.3f s", (double)attn_json_i64(row, "duration_ms", 0) / 1000.0);
    kv(b, "duration", tmp);
    snprintf(tmp, sizeof(tmp), "%lld", (long long)attn_json_i64(row, "n_prs", 0));
    kv(b, "PRs", tmp);
    sum_usage(json_object_get(rep, "llm"), &tokens, &cost, &seen);
    sum_usage(json_object_get(rep, "usage"), &tokens, &cost, &seen);
    if (seen)
        snprintf(tmp, sizeof(tmp), "%.0f tokens, $%.4f", tokens, cost);
    else
        snprintf(tmp, sizeof(tmp), "none recorded (no LLM router)");
    kv(b, "tokens / cost", tmp);
    if (attn_json_str(row, "error"))
        kv(b, "error", attn_json_str(row, "error"));
    attn_buf_puts(b, "</div>");
}

static void routers_table(attn_buf *b, const json_t *man)
{
    json_t *r, *empty = json_object(), *prompts = attn_serve_prompt_diff(man, empty);
    size_t i;
    attn_buf_puts(b, "<h2>Routers</h2><table><tr><th>router</th><th>version</th>"
                     "<th>config hash</th><th>prompt / model</th><th>config</th></tr>");
    json_array_foreach(json_object_get(man, "routers"), i, r) {
        const char *name = attn_json_str(r, "name"), *k;
        json_t *f, *fields = json_object_get(json_object_get(prompts, name ? name : ""), "fields");
        attn_buf *tmp;
        attn_buf cfg = ATTN_BUF_INIT;
        attn_buf_puts(b, "<tr><td>");
        attn_html_esc(b, name);
        attn_buf_puts(b, "</td><td>");
        attn_html_esc(b, attn_json_str(r, "version"));
        attn_buf_puts(b, "</td><td><code>");
        attn_html_esc(b, attn_json_str(r, "config_hash"));
        attn_buf_puts(b, "</code></td><td>");
        json_object_foreach(fields, k, f) {
            attn_html_esc(b, k);
            attn_buf_puts(b, ": <code>");
            if (json_is_string(json_object_get(f, "a")))
                attn_html_esc(b, json_string_value(json_object_get(f, "a")));
            attn_buf_puts(b, "</code><br>");
        }
        attn_json_dump_pretty(json_object_get(r, "config"), &cfg);
        tmp = &cfg;
        attn_buf_puts(b, "</td><td><details><summary>config</summary><pre>");
        attn_html_esc(b, attn_buf_cstr(tmp));
        attn_buf_puts(b, "</pre></details></td></tr>");
        attn_buf_free(&cfg);
    }
    attn_buf_puts(b, "</table>");
    json_decref(prompts);
    json_decref(empty);
}

static void metrics_section(attn_buf *b, const json_t *rep)
{
    const char *primary = attn_serve_primary(rep), *router, *slice;
    json_t *pol = json_object_get(json_object_get(rep, "metrics"), primary), *byr, *m;
    attn_bar bars[64];
    size_t nb = 0;
    attn_buf_puts(b, "<h2>Report (primary truth: ");
    attn_html_esc(b, primary);
    attn_buf_puts(b, ", headline slice: ");
    attn_html_esc(b, attn_json_str(rep, "headline_slice"));
    attn_buf_puts(b, ")</h2>");
    json_object_foreach(pol, router, byr) {
        json_t *h = json_object_get(byr, attn_json_str(rep, "headline_slice")
                                              ? attn_json_str(rep, "headline_slice") : "all");
        json_t *ci = json_object_get(json_object_get(h, "ci95"), "mrr");
        if (nb < 64) {
            bars[nb].label = router;
            bars[nb].value = json_number_value(json_object_get(h, "mrr"));
            bars[nb].lo = json_array_size(ci) == 2 ? json_number_value(json_array_get(ci, 0)) : NAN;
            bars[nb].hi = json_array_size(ci) == 2 ? json_number_value(json_array_get(ci, 1)) : NAN;
            nb++;
        }
    }
    attn_svg_bars(b, "MRR with 95% interval (headline slice)", bars, nb, 1.0);
    attn_buf_puts(b, "<table><tr><th>router</th><th>slice</th><th>n</th><th>MRR [95%]</th>"
                     "<th>hit@1 [95%]</th><th>hit@5 [95%]</th><th>coverage</th></tr>");
    json_object_foreach(pol, router, byr) {
        json_object_foreach(byr, slice, m) {
            json_t *ci = json_object_get(m, "ci95");
            attn_buf_puts(b, "<tr><td>");
            attn_html_esc(b, router);
            attn_buf_puts(b, "</td><td>");
            attn_html_esc(b, slice);
            attn_buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">",
                            (long long)attn_json_i64(m, "n", 0));
            attn_html_num(b, json_object_get(m, "mrr"));
            attn_html_ci(b, json_object_get(ci, "mrr"));
            attn_buf_puts(b, "</td><td class=\"n\">");
            attn_html_num(b, json_object_get(m, "hit_at_1"));
            attn_html_ci(b, json_object_get(ci, "hit_at_1"));
            attn_buf_puts(b, "</td><td class=\"n\">");
            attn_html_num(b, json_object_get(m, "hit_at_5"));
            attn_html_ci(b, json_object_get(ci, "hit_at_5"));
            attn_buf_puts(b, "</td><td class=\"n\">");
            attn_html_num(b, json_object_get(m, "coverage"));
            attn_buf_puts(b, "</td></tr>");
        }
    }
    attn_buf_puts(b, "</table>");
}

static void coverage_section(attn_buf *b, const json_t *rep)
{
    const char *pol, *st;
    json_t *c, *n;
    attn_buf_puts(b, "<h2>Truth coverage</h2><table><tr><th>policy</th><th>status</th>"
                     "<th>PRs</th></tr>");
    json_object_foreach(json_object_get(rep, "truth_coverage"), pol, c) {
        json_object_foreach(c, st, n) {
            attn_buf_puts(b, "<tr><td>");
            attn_html_esc(b, pol);
            attn_buf_puts(b, "</td><td>");
            attn_html_esc(b, st);
            attn_buf_printf(b, "</td><td class=\"n\">%lld</td></tr>",
                            (long long)json_integer_value(n));
        }
    }
    attn_buf_puts(b, "</table>");
}

static void per_pr_table(attn_buf *b, const attn_req *q, const char *repo, const json_t *row,
                         const json_t *rep)
{
    const char *primary = attn_serve_primary(rep), *id = attn_json_str(row, "run_id");
    const char *ps = attn_req_query(q, "page");
    json_t *all = NULL, *p, *routers = json_object_get(rep, "routers");
    attn_error err;
    long page = ps ? strtol(ps, NULL, 10) : 0, pages;
    size_t i, j;
    char num[32];
    if (attn_serve_per_pr(row, &all, &err))
        return;
    pages = ((long)json_array_size(all) + PAGE_SIZE - 1) / PAGE_SIZE;
    if (page < 0 || page >= pages)
        page = 0;
    attn_buf_printf(b, "<h2>Per-PR (page %ld of %ld, %zu PRs)</h2><table><tr><th>PR</th>"
                       "<th>cutoff</th><th>truth (%s)</th><th>merged</th>",
                    page + 1, pages ? pages : 1, json_array_size(all), primary);
    json_array_foreach(routers, j, p) {
        attn_buf_puts(b, "<th>rank: ");
        attn_html_esc(b, json_is_string(p) ? json_string_value(p) : attn_json_str(p, "name"));
        attn_buf_puts(b, "</th>");
    }
    attn_buf_puts(b, "</tr>");
    for (i = (size_t)page * PAGE_SIZE; i < json_array_size(all) && i < (size_t)(page + 1) * PAGE_SIZE;
         i++) {
        json_t *e = json_array_get(all, i), *t = json_object_get(json_object_get(e, "truth"), primary);
        snprintf(num, sizeof(num), "%lld", (long long)attn_json_i64(e, "pr_number", 0));
        attn_buf_puts(b, "<tr><td><a href=\"");
        attn_page_link(b, "pr", repo, "run", id, "pr", num);
        attn_buf_printf(b, "\">#%s</a></td><td>", num);
        attn_html_esc(b, attn_json_str(e, "cutoff"));
        attn_buf_puts(b, "</td><td>");
        attn_html_esc(b, attn_json_str(t, "status"));
        attn_buf_printf(b, "</td><td>%s</td>", attn_json_bool(e, "merged", 0) == 1 ? "yes" : "no");
        json_array_foreach(routers, j, p) {
            const char *rn = json_is_string(p) ? json_string_value(p) : attn_json_str(p, "name");
            json_t *rk = json_object_get(json_object_get(json_object_get(json_object_get(e, "routers"),
                                                                         rn ? rn : ""), "rank"), primary);
            if (json_is_integer(rk))
                attn_buf_printf(b, "<td class=\"n\">%lld</td>", (long long)json_integer_value(rk));
            else
                attn_buf_puts(b, "<td class=\"muted n\">miss</td>");
        }
        attn_buf_puts(b, "</tr>");
    }
    attn_buf_puts(b, "</table><p>");
    for (long k = 0; k < pages && pages > 1; k++) {
        snprintf(num, sizeof(num), "%ld", k);
        attn_buf_puts(b, "<a href=\"");
        attn_page_link(b, "run", repo, "id", id, "page", num);
        attn_buf_printf(b, "\">%s%ld%s</a> ", k == page ? "[" : "", k + 1, k == page ? "]" : "");
    }
    attn_buf_puts(b, "</p>");
    json_decref(all);
}

static const char CONTROLS_JS[] =
    "<script>function attnAct(m,u,body){var t=document.getElementById('tok').value;"
    "fetch(u,{method:m,headers:{'Authorization':'Bearer '+t,'Content-Type':'application/json'},"
    "body:body?JSON.stringify(body):undefined}).then(function(r){return r.json().then("
    "function(j){document.getElementById('out').textContent=r.ok?'done':(j.error+': '+j.message);"
    "if(r.ok)setTimeout(function(){location.reload()},300);});});return false;}</script>";

static void controls(attn_buf *b, const char *repo, const char *id)
{
    attn_buf base = ATTN_BUF_INIT;
    attn_buf_puts(&base, "/api/runs/");
    attn_html_url(&base, id);
    attn_buf_puts(&base, "/ACTION?repo=");
    attn_html_url(&base, repo);
    const char *u = attn_buf_cstr(&base);
    const char *slash = strstr(u, "/ACTION");
    int pre = (int)(slash - u);
    const char *post = slash + 7;
    attn_buf_puts(b, "<h2>Controls</h2><p class=\"muted\">Changes go through the JSON API and need "
                     "the push secret (ATTN_PUSH_SECRET).</p>");
    attn_buf_puts(b, CONTROLS_JS);
    attn_buf_puts(b, "<p><label>token <input id=\"tok\" type=\"password\" size=\"20\"></label> "
                     "<label>tag <input id=\"tagv\" size=\"10\"></label> ");
#define BTN(label, method, action, body)                                                            \
    attn_buf_printf(b, "<button onclick=\"return attnAct('%s','%.*s%s%s',%s)\">%s</button> ",       \
                    method, pre, u, action, post, body, label)
    BTN("Add tag", "POST", "/tag", "{add:document.getElementById('tagv').value}");
    BTN("Remove tag", "POST", "/tag", "{remove:document.getElementById('tagv').value}");
    BTN("Mark baseline", "POST", "/kind", "{kind:'baseline'}");
    BTN("Mark experimental", "POST", "/kind", "{kind:'experimental'}");
    BTN("Archive", "POST", "/archive", "null");
    BTN("Restore", "POST", "/restore", "null");
    BTN("Delete", "DELETE", "", "null");
#undef BTN
    attn_buf_puts(b, "<span id=\"out\" class=\"muted\"></span></p>");
    attn_buf_free(&base);
}

void attn_page_run(attn_server *s, const attn_req *q, attn_resp *r)
{
    const char *repo = NULL;
    json_t *repos = NULL, *row = NULL, *rep = NULL, *man = NULL;
    attn_error err;
    attn_buf *b = &r->body;
    if (attn_page_run_row(s, q, "id", &repo, &repos, &row, r)) {
        json_decref(repos);
        return;
    }
    attn_serve_run_file(row, "report.json", &rep, &err);
    attn_serve_run_file(row, "manifest.json", &man, &err);
    r->status = 200;
    r->type = "text/html; charset=utf-8";
    attn_html_head(b, attn_json_str(row, "run_id"), repo);
    attn_buf_puts(b, "<h1>Run ");
    attn_html_esc(b, attn_json_str(row, "run_id"));
    attn_buf_puts(b, "</h1>");
    meta_panel(b, row, man, rep);
    controls(b, repo, attn_json_str(row, "run_id"));
    if (man)
        routers_table(b, man);
    if (rep) {
        metrics_section(b, rep);
        coverage_section(b, rep);
        per_pr_table(b, q, repo, row, rep);
    } else {
        attn_buf_puts(b, "<p class=\"warn\">This run has no report (it failed, is running, or "
                         "was deleted).</p>");
    }
    attn_html_foot(b);
    json_decref(rep);
    json_decref(man);
    json_decref(row);
    json_decref(repos);
}
