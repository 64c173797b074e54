/*
 * compare_md.c - the Markdown rendering of a comparison document (compare.h):
 * what `experiment compare` writes as compare.md. Reads only the document,
 * so the JSON and the Markdown can never disagree.
 */
#include "exp/compare.h"
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Markdown ----------------------------------------------------------------- */

/* A value for a Markdown line: canonical JSON, long values shortened. */
static void md_json(attn_buf *b, const json_t *v)
{
    attn_buf t = ATTN_BUF_INIT;
    attn_error e;
    if (!v)
        attn_buf_puts(b, "(absent)");
    else if (attn_json_canonical(v, &t, &e))
        attn_buf_puts(b, "?");
    else if (t.len > 120)
        attn_buf_printf(b, "`%.117s...`", t.ptr);
    else
        attn_buf_printf(b, "`%s`", t.ptr);
    attn_buf_free(&t);
}

static void md_num(attn_buf *b, const json_t *v, int sign)
{
    if (!json_is_number(v))
        attn_buf_puts(b, "-");
    else
        attn_buf_printf(b, sign ? "%+.3f" : "%.3f", json_number_value(v));
}

static void md_metric(attn_buf *b, const json_t *m)
{
    const json_t *ci = json_object_get(m, "ci95");
    md_num(b, json_object_get(m, "a"), 0);
    attn_buf_puts(b, " | ");
    md_num(b, json_object_get(m, "b"), 0);
    attn_buf_puts(b, " | ");
    md_num(b, json_object_get(m, "diff"), 1);
    if (json_is_array(ci)) {
        attn_buf_puts(b, " [");
        md_num(b, json_array_get(ci, 0), 1);
        attn_buf_puts(b, ", ");
        md_num(b, json_array_get(ci, 1), 1);
        attn_buf_puts(b, "]");
    }
}

static void md_side(attn_buf *b, const json_t *side)
{
    size_t i;
    const json_t *c;
    const json_t *rk = json_object_get(side, "rank");
    if (json_is_integer(rk))
        attn_buf_printf(b, "%s (rank %lld):", attn_json_str(side, "router"),
                        (long long)json_integer_value(rk));
    else
        attn_buf_printf(b, "%s (no match):", attn_json_str(side, "router"));
    json_array_foreach(json_object_get(side, "top"), i, c)
        attn_buf_printf(b, " %s%s (%.3g)", i ? ", " : "",
                        attn_json_str(json_object_get(c, "target"), "name"),
                        json_number_value(json_object_get(c, "score")));
}

void attn_compare_markdown(const json_t *cmp, attn_buf *b)
{
    const json_t *a = json_object_get(cmp, "a"), *bb = json_object_get(cmp, "b"), *x, *p;
    const json_t *cd = json_object_get(cmp, "config_diff");
    size_t i, j;
    int k = (int)attn_json_i64(cmp, "k", 5);
    char kname[32];
    const char *sn;

    snprintf(kname, sizeof(kname), "hit_at_%d", k);
    attn_buf_printf(b, "# Compare %s vs %s\n\n", attn_json_str(a, "run_id"),
                    attn_json_str(bb, "run_id"));
    attn_buf_printf(b, "Primary truth policy: `%s`; %lld common PRs (%lld only in A, %lld only "
                       "in B); bootstrap %lld resamples, seed %lld.\n\n",
                    attn_json_str(cmp, "primary_policy"),
                    (long long)attn_json_i64(cmp, "n_common", 0),
                    (long long)attn_json_i64(cmp, "only_in_a", 0),
                    (long long)attn_json_i64(cmp, "only_in_b", 0),
                    (long long)attn_json_i64(json_object_get(cmp, "bootstrap"), "resamples", 0),
                    (long long)attn_json_i64(json_object_get(cmp, "bootstrap"), "seed", 0));
    if (json_array_size(json_object_get(cmp, "warnings"))) {
        attn_buf_puts(b, "## Warnings\n\n");
        json_array_foreach(json_object_get(cmp, "warnings"), i, x)
            attn_buf_printf(b, "- %s\n", json_string_value(x));
        attn_buf_puts(b, "\n");
    }
    attn_buf_puts(b, "## Configuration\n\n");
    json_array_foreach(json_object_get(json_object_get(cd, "routers"), "added"), i, x)
        attn_buf_printf(b, "- router added: %s (%s)\n", attn_json_str(x, "name"),
                        attn_json_str(x, "version"));
    json_array_foreach(json_object_get(json_object_get(cd, "routers"), "removed"), i, x)
        attn_buf_printf(b, "- router removed: %s (%s)\n", attn_json_str(x, "name"),
                        attn_json_str(x, "version"));
    json_array_foreach(json_object_get(json_object_get(cd, "routers"), "changed"), i, x) {
        const json_t *kv;
        attn_buf_printf(b, "- router changed: %s\n", attn_json_str(x, "name"));
        json_array_foreach(json_object_get(x, "keys"), j, kv) {
            attn_buf_printf(b, "  - `%s`: ", attn_json_str(kv, "key"));
            md_json(b, json_object_get(kv, "a"));
            attn_buf_puts(b, " -> ");
            md_json(b, json_object_get(kv, "b"));
            attn_buf_puts(b, "\n");
        }
    }
    json_array_foreach(json_object_get(cd, "settings"), i, x) {
        attn_buf_printf(b, "- `%s`: ", attn_json_str(x, "key"));
        md_json(b, json_object_get(x, "a"));
        attn_buf_puts(b, " -> ");
        md_json(b, json_object_get(x, "b"));
        attn_buf_puts(b, "\n");
    }
    attn_buf_puts(b, "\n## Metric deltas (B - A, paired bootstrap 95% interval)\n\n");
    attn_buf_printf(b, "| pair | slice | n | MRR A | MRR B | delta | hit@1 A | hit@1 B | delta | "
                       "hit@%d A | hit@%d B | delta |\n",
                    k, k);
    attn_buf_puts(b, "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    json_array_foreach(json_object_get(cmp, "pairs"), i, p) {
        const json_t *sl;
        json_object_foreach((json_t *)json_object_get(p, "slices"), sn, sl) {
            attn_buf_printf(b, "| %s -> %s | %s | %lld | ", attn_json_str(p, "a_router"),
                            attn_json_str(p, "b_router"), sn, (long long)attn_json_i64(sl, "n", 0));
            md_metric(b, json_object_get(sl, "mrr"));
            attn_buf_puts(b, " | ");
            md_metric(b, json_object_get(sl, "hit_at_1"));
            attn_buf_puts(b, " | ");
            md_metric(b, json_object_get(sl, k == 1 ? "hit_at_1" : kname));
            attn_buf_puts(b, " |\n");
        }
    }
    attn_buf_puts(b, "\n## Flips\n");
    json_array_foreach(json_object_get(cmp, "pairs"), i, p) {
        const json_t *fl;
        json_object_foreach((json_t *)json_object_get(p, "flips"), sn, fl) {
            static const char *const dirs[2] = {"hit_to_miss", "miss_to_hit"};
            for (int d = 0; d < 2; d++) {
                const json_t *dd = json_object_get(fl, dirs[d]), *it;
                attn_buf_printf(b, "\n### %s -> %s, %s, %s: %lld\n\n", attn_json_str(p, "a_router"),
                                attn_json_str(p, "b_router"), sn, dirs[d],
                                (long long)attn_json_i64(dd, "total", 0));
                json_array_foreach(json_object_get(dd, "items"), j, it) {
                    attn_buf_printf(b, "- PR #%lld, truth ",
                                    (long long)attn_json_i64(it, "pr_number", 0));
                    md_json(b, json_object_get(it, "truth_targets"));
                    attn_buf_puts(b, "; A ");
                    md_side(b, json_object_get(it, "a"));
                    attn_buf_puts(b, "; B ");
                    md_side(b, json_object_get(it, "b"));
                    attn_buf_puts(b, "\n");
                }
            }
        }
    }
    attn_buf_puts(b, "\n## Top-1 score histograms\n\n");
    json_object_foreach((json_t *)json_object_get(cmp, "histograms"), sn, x) {
        attn_buf_printf(b, "- %s (max %.4g):", sn, json_number_value(json_object_get(x, "max")));
        for (int s = 0; s < 2; s++) {
            const json_t *h = json_object_get(x, s ? "b" : "a"), *c;
            attn_buf_printf(b, " %s ", s ? "B" : "A");
            if (!json_is_object(h)) {
                attn_buf_puts(b, "(absent)");
                continue;
            }
            attn_buf_puts(b, "[");
            json_array_foreach(json_object_get(h, "counts"), j, c)
                attn_buf_printf(b, "%s%lld", j ? " " : "", (long long)json_integer_value(c));
            attn_buf_printf(b, "] empty %lld", (long long)attn_json_i64(h, "empty", 0));
        }
        attn_buf_puts(b, "\n");
    }
}
