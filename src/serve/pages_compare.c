/*
 * pages_compare.c - the compare page (summary deltas with paired-bootstrap
 * intervals, overlaid histograms, the sortable per-PR delta table, flips
 * with both routes' evidence, config and prompt diffs) and the PR
 * drill-down (snapshot at the cutoff with its leak_risk, each router's
 * candidates and evidence, the truth; optionally beside a second run).
 */
#include "serve/internal.h"
#include "serve/html.h"
#include "serve/pages.h"
#include "exp/compare.h"
#include "util/alloc.h"
#include "util/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DELTA_ROWS 50

typedef struct {
    int64_t pr;
    int rank_a, rank_b;
    double d;
} pr_delta;

static int by_pr(const void *x, const void *y)
{
    const pr_delta *a = x, *b = y;
    return (a->pr > b->pr) - (a->pr < b->pr);
}
static int by_gain(const void *x, const void *y)
{
    const pr_delta *a = x, *b = y;
    return a->d < b->d ? 1 : a->d > b->d ? -1 : by_pr(x, y);
}
static int by_loss(const void *x, const void *y)
{
    return by_gain(y, x);
}

/* Per-PR deltas of rr (B - A) for the first router pair over the PRs of
 * both runs, from the flat ranks the comparison read (a jansson tree of two
 * 10,000-line per_pr.jsonl files cost more than the comparison itself). */
static pr_delta *deltas(const attn_compare_ranks *rk, size_t *n)
{
    const int64_t *num_a = rk->num[0], *num_b = rk->num[1];
    const int *rank_a = rk->rank[0], *rank_b = rk->rank[1];
    size_t na = rk->n[0], nb = rk->n[1], i, k = 0;
    pr_delta *bs = NULL, *out = NULL, key;
    *n = 0;
    if (!rk->ok)
        return NULL;
    bs = attn_xcalloc(nb + 1, sizeof(*bs));
    out = attn_xcalloc(na + 1, sizeof(*out));
    for (i = 0; i < nb; i++) {
        bs[i].pr = num_b[i];
        bs[i].rank_b = rank_b[i];
    }
    qsort(bs, nb, sizeof(*bs), by_pr);
    for (i = 0; i < na; i++) {
        pr_delta *hit;
        key.pr = num_a[i];
        if (!nb || !(hit = bsearch(&key, bs, nb, sizeof(*bs), by_pr)))
            continue;
        out[k].pr = key.pr;
        out[k].rank_a = rank_a[i];
        out[k].rank_b = hit->rank_b;
        out[k].d = (out[k].rank_b ? 1.0 / out[k].rank_b : 0) - (out[k].rank_a ? 1.0 / out[k].rank_a : 0);
        k++;
    }
    *n = k;
    free(bs);
    return out;
}

static void summary(attn_buf *b, const json_t *cmp)
{
    json_t *p, *sl;
    const char *sname;
    size_t i;
    int k = (int)attn_json_i64(cmp, "k", 5);
    attn_buf_printf(b, "<h2>Summary deltas (B − A, paired bootstrap 95%%)</h2><table><tr>"
                       "<th>pair A → B</th><th>slice</th><th>n</th><th>MRR A</th><th>MRR B</th>"
                       "<th>Δ MRR [95%%]</th><th>Δ hit@1 [95%%]</th><th>Δ hit@%d [95%%]</th></tr>", k);
    json_array_foreach(json_object_get(cmp, "pairs"), i, p) {
        json_object_foreach(json_object_get(p, "slices"), sname, sl) {
            json_t *m = json_object_get(sl, "mrr"), *h1 = json_object_get(sl, "hit_at_1");
            char hk[32];
            snprintf(hk, sizeof(hk), "hit_at_%d", k);
            json_t *hkv = json_object_get(sl, hk);
            attn_buf_puts(b, "<tr><td>");
            attn_html_esc(b, attn_json_str(p, "a_router"));
            attn_buf_puts(b, " → ");
            attn_html_esc(b, attn_json_str(p, "b_router"));
            attn_buf_puts(b, "</td><td>");
            attn_html_esc(b, sname);
            attn_buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">",
                            (long long)attn_json_i64(sl, "n", 0));
            attn_html_num(b, json_object_get(m, "a"));
            attn_buf_puts(b, "</td><td class=\"n\">");
            attn_html_num(b, json_object_get(m, "b"));
            attn_buf_puts(b, "</td><td class=\"n\">");
            attn_html_delta(b, json_number_value(json_object_get(m, "diff")));
            attn_html_ci(b, json_object_get(m, "ci95"));
            attn_buf_puts(b, "</td><td class=\"n\">");
            attn_html_delta(b, json_number_value(json_object_get(h1, "diff")));
            attn_html_ci(b, json_object_get(h1, "ci95"));
            attn_buf_puts(b, "</td><td class=\"n\">");
            attn_html_delta(b, json_number_value(json_object_get(hkv, "diff")));
            attn_html_ci(b, json_object_get(hkv, "ci95"));
            attn_buf_puts(b, "</td></tr>");
        }
    }
    attn_buf_puts(b, "</table>");
}

static void histograms(attn_buf *b, const json_t *cmp)
{
    const char *router;
    json_t *h;
    attn_buf_puts(b, "<h2>Top-1 score histograms (A blue, B pink)</h2><div>");
    json_object_foreach(json_object_get(cmp, "histograms"), router, h) {
        attn_svg_hist(b, router, json_object_get(h, "edges"),
                      json_object_get(json_object_get(h, "a"), "counts"),
                      json_object_get(json_object_get(h, "b"), "counts"));
    }
    attn_buf_puts(b, "</div>");
}

static void delta_table(attn_buf *b, const attn_req *q, const char *repo, const json_t *cmp,
                        const attn_compare_ranks *ranks, const json_t *ra, const json_t *rb)
{
    json_t *pair = json_array_get(json_object_get(cmp, "pairs"), 0);
    const char *sort = attn_req_query(q, "sort");
    const char *a = attn_json_str(ra, "run_id"), *bid = attn_json_str(rb, "run_id");
    pr_delta *d;
    size_t n, i;
    char num[32];
    if (!pair || !attn_json_str(ra, "run_dir") || !attn_json_str(rb, "run_dir") ||
        !attn_json_str(pair, "a_router") || !attn_json_str(pair, "b_router") ||
        !(d = deltas(ranks, &n)))
        return;
    sort = sort ? sort : "gain";
    qsort(d, n, sizeof(*d), !strcmp(sort, "loss") ? by_loss : !strcmp(sort, "pr") ? by_pr : by_gain);
    attn_buf_puts(b, "<h2>Per-PR deltas: ");
    attn_html_esc(b, attn_json_str(pair, "a_router"));
    attn_buf_puts(b, " → ");
    attn_html_esc(b, attn_json_str(pair, "b_router"));
    attn_buf_printf(b, " (reciprocal rank, first %d of %zu)</h2><p>sort: ", DELTA_ROWS, n);
    for (int k = 0; k < 3; k++) {
        static const char *const keys[] = {"gain", "loss", "pr"};
        static const char *const labels[] = {"largest gains", "largest regressions", "PR"};
        attn_buf_puts(b, "<a href=\"");
        attn_page_link(b, "compare", repo, "run_a", a, "run_b", bid);
        attn_buf_printf(b, "&amp;sort=%s\">%s</a> ", keys[k], labels[k]);
    }
    attn_buf_puts(b, "</p><table><tr><th>PR</th><th>rank A</th><th>rank B</th><th>movement</th>"
                     "<th>Δ rr</th></tr>");
    for (i = 0; i < n && i < DELTA_ROWS; i++) {
        snprintf(num, sizeof(num), "%lld", (long long)d[i].pr);
        attn_buf_puts(b, "<tr><td><a href=\"");
        attn_page_link(b, "pr", repo, "run", a, "pr", num);
        attn_buf_puts(b, "&amp;vs=");
        attn_html_url(b, bid);
        attn_buf_printf(b, "\">#%s</a></td>", num);
        for (int side = 0; side < 2; side++) {
            int rk = side ? d[i].rank_b : d[i].rank_a;
            if (rk)
                attn_buf_printf(b, "<td class=\"n\">%d</td>", rk);
            else
                attn_buf_puts(b, "<td class=\"muted n\">miss</td>");
        }
        if (d[i].rank_a && d[i].rank_b)
            attn_buf_printf(b, "<td class=\"n\">%+d</td><td class=\"n\">", d[i].rank_a - d[i].rank_b);
        else
            attn_buf_printf(b, "<td class=\"n\">%s</td><td class=\"n\">",
                            d[i].rank_a == d[i].rank_b ? "0" : d[i].rank_b ? "found" : "lost");
        attn_html_delta(b, d[i].d);
        attn_buf_puts(b, "</td></tr>");
    }
    attn_buf_puts(b, "</table>");
    free(d);
}

static void top_cands(attn_buf *b, const json_t *side)
{
    json_t *c;
    size_t i;
    attn_buf_printf(b, "<b>");
    attn_html_esc(b, attn_json_str(side, "router"));
    attn_buf_printf(b, "</b> rank %lld<ol>", (long long)attn_json_i64(side, "rank", 0));
    json_array_foreach(json_object_get(side, "top"), i, c) {
        json_t *ev;
        size_t j;
        attn_buf_puts(b, "<li>");
        attn_html_esc(b, attn_json_str(json_object_get(c, "target"), "name"));
        attn_buf_printf(b, " <span class=\"muted\">%.3f", json_number_value(json_object_get(c, "score")));
        json_array_foreach(json_object_get(c, "evidence"), j, ev) {
            attn_buf_puts(b, " · ");
            attn_html_esc(b, attn_json_str(ev, "kind"));
        }
        attn_buf_puts(b, "</span></li>");
    }
    attn_buf_puts(b, "</ol>");
}

static void flips(attn_buf *b, const char *repo, const json_t *cmp, const char *a, const char *bid)
{
    json_t *p;
    size_t i;
    attn_buf_puts(b, "<h2>Flips at hit@1</h2>");
    json_array_foreach(json_object_get(cmp, "pairs"), i, p) {
        json_t *f = json_object_get(json_object_get(p, "flips"), "hit_at_1");
        for (int dir = 0; dir < 2; dir++) {
            json_t *grp = json_object_get(f, dir ? "hit_to_miss" : "miss_to_hit"), *it;
            size_t j;
            attn_buf_puts(b, "<h3>");
            attn_html_esc(b, attn_json_str(p, "a_router"));
            attn_buf_puts(b, " → ");
            attn_html_esc(b, attn_json_str(p, "b_router"));
            attn_buf_printf(b, ": %s (%lld)</h3>", dir ? "hit → miss" : "miss → hit",
                            (long long)attn_json_i64(grp, "total", 0));
            if (!json_array_size(json_object_get(grp, "items")))
                continue;
            attn_buf_puts(b, "<table><tr><th>PR</th><th>truth</th><th>A</th><th>B</th></tr>");
            json_array_foreach(json_object_get(grp, "items"), j, it) {
                char num[32];
                json_t *t;
                size_t k;
                if (j >= 10)
                    break;
                snprintf(num, sizeof(num), "%lld", (long long)attn_json_i64(it, "pr_number", 0));
                attn_buf_puts(b, "<tr><td><a class=\"flip\" href=\"");
                attn_page_link(b, "pr", repo, "run", a, "pr", num);
                attn_buf_puts(b, "&amp;vs=");
                attn_html_url(b, bid);
                attn_buf_printf(b, "\">#%s</a></td><td>", num);
                json_array_foreach(json_object_get(it, "truth_targets"), k, t) {
                    attn_html_esc(b, json_is_string(t) ? json_string_value(t)
                                                       : attn_json_str(t, "name"));
                    attn_buf_puts(b, " ");
                }
                attn_buf_puts(b, "</td><td>");
                top_cands(b, json_object_get(it, "a"));
                attn_buf_puts(b, "</td><td>");
                top_cands(b, json_object_get(it, "b"));
                attn_buf_puts(b, "</td></tr>");
            }
            attn_buf_puts(b, "</table>");
        }
    }
}

static void diffs(attn_buf *b, const json_t *cmp, const json_t *ra, const json_t *rb)
{
    attn_buf txt = ATTN_BUF_INIT;
    json_t *ma = NULL, *mb = NULL, *pd, *rt, *f, *line;
    const char *router, *field;
    attn_error err;
    size_t i;
    attn_json_dump_pretty(json_object_get(cmp, "config_diff"), &txt);
    attn_buf_puts(b, "<h2>Config diff</h2><pre>");
    attn_html_esc(b, attn_buf_cstr(&txt));
    attn_buf_puts(b, "</pre>");
    attn_buf_free(&txt);
    if (attn_serve_run_file(ra, "manifest.json", &ma, &err) ||
        attn_serve_run_file(rb, "manifest.json", &mb, &err))
        goto out;
    pd = attn_serve_prompt_diff(ma, mb);
    json_object_foreach(pd, router, rt) {
        if (!json_is_true(json_object_get(rt, "differs")))
            continue;
        attn_buf_puts(b, "<h2>Prompt diff: ");
        attn_html_esc(b, router);
        attn_buf_puts(b, "</h2>");
        json_object_foreach(json_object_get(rt, "fields"), field, f) {
            if (!json_is_true(json_object_get(f, "differs")))
                continue;
            attn_buf_puts(b, "<h3>");
            attn_html_esc(b, field);
            attn_buf_puts(b, "</h3><pre>");
            if (json_object_get(f, "diff"))
                json_array_foreach(json_object_get(f, "diff"), i, line) {
                    attn_html_esc(b, attn_json_str(line, "op"));
                    attn_buf_putc(b, ' ');
                    attn_html_esc(b, attn_json_str(line, "line"));
                    attn_buf_putc(b, '\n');
                }
            else {
                char *ta = json_dumps(json_object_get(f, "a"), JSON_ENCODE_ANY);
                char *tb = json_dumps(json_object_get(f, "b"), JSON_ENCODE_ANY);
                attn_buf_puts(b, "- ");
                attn_html_esc(b, ta ? ta : "(none)");
                attn_buf_puts(b, "\n+ ");
                attn_html_esc(b, tb ? tb : "(none)");
                free(ta);
                free(tb);
            }
            attn_buf_puts(b, "</pre>");
        }
    }
    json_decref(pd);
out:
    json_decref(ma);
    json_decref(mb);
}

void attn_page_compare(attn_server *s, const attn_req *q, attn_resp *r)
{
    const char *repo = NULL, *a, *bid;
    json_t *repos = NULL, *ra = NULL, *rb = NULL, *cmp = NULL, *w;
    attn_compare_ranks rk = {{NULL, NULL}, {NULL, NULL}, {0, 0}, 0};
    attn_error err;
    attn_buf *b = &r->body;
    size_t i;
    attn_error_clear(&err);
    if (attn_page_run_row(s, q, "run_a", &repo, &repos, &ra, r) ||
        attn_page_run_row(s, q, "run_b", &repo, &repos, &rb, r))
        goto out;
    a = attn_json_str(ra, "run_id");
    bid = attn_json_str(rb, "run_id");
    if (attn_serve_compare(s, repo, a, bid, &cmp, &rk, &err)) {
        attn_page_error(r, err.code == ATTN_ENOTFOUND ? 404 : 400, repo, err.msg);
        goto out;
    }
    r->status = 200;
    r->type = "text/html; charset=utf-8";
    attn_html_head(b, "compare", repo);
    attn_buf_puts(b, "<h1>Compare <a href=\"");
    attn_page_link(b, "run", repo, "id", a, NULL, NULL);
    attn_buf_puts(b, "\">");
    attn_html_esc(b, a);
    attn_buf_puts(b, "</a> (A) with <a href=\"");
    attn_page_link(b, "run", repo, "id", bid, NULL, NULL);
    attn_buf_puts(b, "\">");
    attn_html_esc(b, bid);
    attn_buf_printf(b, "</a> (B)</h1><p>%lld common PRs, primary truth ",
                    (long long)attn_json_i64(cmp, "n_common", 0));
    attn_html_esc(b, attn_json_str(cmp, "primary_policy"));
    attn_buf_puts(b, "</p>");
    json_array_foreach(json_object_get(cmp, "warnings"), i, w) {
        attn_buf_puts(b, "<p class=\"warn\">");
        attn_html_esc(b, json_string_value(w));
        attn_buf_puts(b, "</p>");
    }
    summary(b, cmp);
    histograms(b, cmp);
    delta_table(b, q, repo, cmp, &rk, ra, rb);
    flips(b, repo, cmp, a, bid);
    diffs(b, cmp, ra, rb);
    attn_html_foot(b);
out:
    attn_compare_ranks_free(&rk);
    json_decref(cmp);
    json_decref(ra);
    json_decref(rb);
    json_decref(repos);
}
