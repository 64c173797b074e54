/*
 * shortlist.c - the shortest prefix of a router's ranking that router.c needs
 * (see shortlist.h for why it is exact). Owns nothing but that rule; must
 * stay in step with the common rules of candidates.h: if a rule is added that
 * can RAISE a candidate, routers using this must hand over everything.
 */
#include "route/shortlist.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void attn_shortlist_rules_read(const json_t *config, attn_shortlist_rules *r)
{
    const json_t *a = json_object_get(config, "availability"), *l = json_object_get(config, "load");
    r->inactive_days = json_number_value(json_object_get(a, "inactive_days"));
    r->factor = json_is_number(json_object_get(a, "factor"))
                    ? json_number_value(json_object_get(a, "factor"))
                    : 0;
    r->max_open_requests = (long)json_number_value(json_object_get(l, "max_open_requests"));
}

static int row_cmp(const void *pa, const void *pb)
{
    const attn_shortlist_row *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->user < b->user ? -1 : a->user > b->user;
}

void attn_shortlist_sort(attn_shortlist_row *rows, size_t n)
{
    if (n > 1)
        qsort(rows, n, sizeof(*rows), row_cmp);
}

size_t attn_shortlist_need(const attn_route_query *q)
{
    if (q->top_k <= 0)
        return 0;
    /* The confidence compares the top two, whatever top_k is. */
    return q->top_k < 2 ? 2 : (size_t)q->top_k;
}

int attn_shortlist_safe(const attn_shortlist_rules *r, const attn_activity *a,
                        const attn_route_query *q, uint32_t u)
{
    const char *author = attn_json_str(q->snapshot, "author");
    const char *login = attn_activity_user_login(a, u);
    if (!login || (author && !strcasecmp(author, login)) || attn_is_bot(login, NULL) ||
        attn_activity_user_is_bot(a, u))
        return 0;
    if (r->inactive_days > 0 && r->factor < 1) {
        int64_t last = attn_activity_user_last_at(a, u, q->as_of);
        if (last == ATTN_NULL_I64 || (double)(q->as_of - last) > r->inactive_days * 86400.0)
            return 0;
    }
    /* Counting every open request (even one on this PR) over-counts, which
     * only makes the judgement more cautious. */
    if (r->max_open_requests > 0 &&
        (long)attn_activity_user_open_requests(a, u, q->as_of) >= r->max_open_requests)
        return 0;
    return 1;
}

int attn_shortlist_safe_target(const attn_shortlist_rules *r, const attn_activity *a,
                               const attn_route_query *q, const char *type, const char *name)
{
    const char *author = attn_json_str(q->snapshot, "author");
    long u;
    if (!strcmp(type, "team"))
        return 1;
    if (!a || (u = attn_activity_find_login(a, name)) < 0)
        return !(author && !strcasecmp(author, name)) && !attn_is_bot(name, NULL) &&
               !(r->inactive_days > 0 && r->factor < 1);
    return attn_shortlist_safe(r, a, q, (uint32_t)u);
}

size_t attn_shortlist_cut_by(const attn_route_query *q, size_t n,
                             double (*score)(const void *arg, size_t i),
                             int (*safe)(const void *arg, size_t i), const void *arg)
{
    size_t i, n_safe = 0, need = attn_shortlist_need(q);
    double bound;

    if (!need)
        return n;
    for (i = 0; i < n && score(arg, i) > 0; i++)
        if (safe(arg, i) && ++n_safe == need)
            break;
    if (i >= n || !(score(arg, i) > 0))
        return i;
    /* router.c compares scores rounded to 12 significant digits, so a row
     * whose score differs from the last safe one in the last bits may tie
     * with it and win on its name: keep those too. */
    bound = score(arg, i) * (1 - 1e-9);
    for (i++; i < n && score(arg, i) > 0 && score(arg, i) >= bound; i++)
        ;
    return i;
}

typedef struct {
    const attn_shortlist_rules *r;
    const attn_activity *a;
    const attn_route_query *q;
    const attn_shortlist_row *rows;
} row_arg;

static double row_score(const void *arg, size_t i)
{
    return ((const row_arg *)arg)->rows[i].score;
}

static int row_safe(const void *arg, size_t i)
{
    const row_arg *x = arg;
    return attn_shortlist_safe(x->r, x->a, x->q, x->rows[i].user);
}

size_t attn_shortlist_cut(const attn_shortlist_rules *r, const attn_activity *a,
                          const attn_route_query *q, const attn_shortlist_row *rows, size_t n)
{
    row_arg x = {r, a, q, rows};
    return attn_shortlist_cut_by(q, n, row_score, row_safe, &x);
}
