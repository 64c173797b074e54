/*
 * fact_index.c - per-user postings of activity facts (see fact_index.h).
 *
 * Every list is a bucket of positions built by one counting sort over the
 * entries in index order, so each bucket is sorted ascending and a count over
 * a window is two lower bounds.
 */
#include "route/fact_index.h"
#include "util/alloc.h"
#include "util/num.h"

#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define NONE UINT32_MAX

/* Positions grouped by key: bucket b holds pos[off[b] .. off[b + 1]). */
typedef struct {
    uint32_t *off, *pos;
} postings;

struct attn_fact_index {
    size_t n_users;
    uint32_t *rev_cum;       /* [n + 1]: reviews among entries [0, i) */
    postings user;           /* per user: every fact */
    uint32_t *newday;        /* [facts + 1] along user.pos: first facts of a UTC day, [0, k) */
    postings review;         /* per user: reviews */
    postings hour;           /* per user * 24 + UTC hour */
    postings wday;           /* per user * 7 + weekday */
    uint32_t *rv_prev;       /* per review (the m-th review is the m-th of rev_cum): the
                                same user's previous review's position, NONE when none */
    int64_t *authors;        /* distinct PR authors with facts "on" them, ascending */
    size_t n_authors;
    postings on_author;      /* per authors[] index */
    int32_t *on_user;        /* along on_author.pos: each entry's user (a scan of the
                                reviewers reads these in a row, not the entries) */
};

int attn_fact_hour(int64_t t) { return (int)(((t % DAY) + DAY) % DAY / 3600); }
int attn_fact_wday(int64_t t) { return (int)((((t / DAY) + 4) % 7 + 7) % 7); } /* 1970-01-01: Thu */

/* Counting sort of positions 0..n-1 into nb buckets by key[] (NONE: left out). */
static postings bucket(const uint32_t *key, size_t n, size_t nb)
{
    postings p;
    uint32_t *fill;
    p.off = attn_xcalloc(attn_st_add(nb, 1), sizeof(*p.off));
    for (size_t i = 0; i < n; i++)
        if (key[i] != NONE)
            p.off[key[i] + 1]++;
    for (size_t b = 0; b < nb; b++)
        p.off[b + 1] += p.off[b];
    p.pos = attn_xmalloc(attn_st_mult(p.off[nb] ? p.off[nb] : 1, sizeof(*p.pos)));
    fill = attn_xmalloc(attn_st_mult(nb ? nb : 1, sizeof(*fill)));
    if (nb)
        memcpy(fill, p.off, nb * sizeof(*fill));
    for (size_t i = 0; i < n; i++)
        if (key[i] != NONE)
            p.pos[fill[key[i]]++] = (uint32_t)i;
    free(fill);
    return p;
}

static void postings_free(postings *p)
{
    free(p->off);
    free(p->pos);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static long author_index(const attn_fact_index *x, int64_t author)
{
    const int64_t *hit = bsearch(&author, x->authors, x->n_authors, sizeof(author), cmp_i64);
    return hit ? (long)(hit - x->authors) : -1;
}

/* The distinct authors of the entries that are reviews "on" them. */
static void collect_authors(attn_fact_index *x, const uint8_t *on, const int64_t *entry_author,
                            size_t n)
{
    size_t m = 0;
    x->authors = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*x->authors)));
    for (size_t i = 0; i < n; i++)
        if (on[i])
            x->authors[m++] = entry_author[i];
    qsort(x->authors, m, sizeof(*x->authors), cmp_i64);
    x->n_authors = 0;
    for (size_t i = 0; i < m; i++)
        if (!x->n_authors || x->authors[x->n_authors - 1] != x->authors[i])
            x->authors[x->n_authors++] = x->authors[i];
}

static void build_reviews(attn_fact_index *x, const attn_act_entry *e, size_t n)
{
    uint32_t *last = attn_xmalloc(attn_st_mult(x->n_users ? x->n_users : 1, sizeof(*last)));
    for (size_t u = 0; u < x->n_users; u++)
        last[u] = NONE;
    x->rv_prev = attn_xmalloc(attn_st_mult(x->rev_cum[n] ? x->rev_cum[n] : 1, sizeof(*x->rv_prev)));
    for (size_t i = 0, m = 0; i < n; i++) {
        int in_users = e[i].user >= 0 && (size_t)e[i].user < x->n_users;
        if (e[i].kind != ATTN_ACT_REVIEW)
            continue;
        /* a review without a known user never counts as a reviewer: marked
         * as having a previous review at its own position */
        x->rv_prev[m++] = in_users ? last[e[i].user] : (uint32_t)i;
        if (in_users)
            last[e[i].user] = (uint32_t)i;
    }
    free(last);
}

int attn_fact_index_new(const attn_activity *act, const int64_t *entry_author,
                        attn_fact_index **out, attn_error *err)
{
    size_t n, nu = attn_activity_user_count(act);
    const attn_act_entry *e = attn_activity_entries(act, &n);
    attn_fact_index *x;
    uint32_t *key;
    uint8_t *on;
    *out = NULL;
    if (n >= NONE || nu >= NONE / 24)
        return attn_error_set(err, ATTN_EINVAL,
                              "%zu activity facts are more than the learned features can "
                              "index; evaluate a shorter history", n);
    x = attn_xcalloc(1, sizeof(*x));
    x->n_users = nu;
    x->rev_cum = attn_xmalloc(attn_st_mult(n + 1, sizeof(*x->rev_cum)));
    key = attn_xmalloc(attn_st_mult(n ? n : 1, sizeof(*key)));
    on = attn_xmalloc(n ? n : 1);
    x->rev_cum[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int in_users = e[i].user >= 0 && (size_t)e[i].user < nu;
        int review = e[i].kind == ATTN_ACT_REVIEW;
        x->rev_cum[i + 1] = x->rev_cum[i] + (uint32_t)review;
        on[i] = review && entry_author[i] != ATTN_NULL_I64 &&
                !(in_users && attn_activity_user_id(act, (size_t)e[i].user) == entry_author[i]);
        key[i] = in_users ? (uint32_t)e[i].user : NONE;
    }
    x->user = bucket(key, n, nu);
    for (size_t i = 0; i < n; i++)
        if (key[i] != NONE && e[i].kind != ATTN_ACT_REVIEW)
            key[i] = NONE;
    x->review = bucket(key, n, nu);
    for (size_t i = 0; i < n; i++)
        key[i] = e[i].user >= 0 && (size_t)e[i].user < nu
                     ? (uint32_t)((size_t)e[i].user * 24 + (size_t)attn_fact_hour(e[i].t))
                     : NONE;
    x->hour = bucket(key, n, attn_st_mult(nu, 24));
    for (size_t i = 0; i < n; i++)
        if (key[i] != NONE)
            key[i] = (uint32_t)((size_t)e[i].user * 7 + (size_t)attn_fact_wday(e[i].t));
    x->wday = bucket(key, n, attn_st_mult(nu, 7));
    collect_authors(x, on, entry_author, n);
    for (size_t i = 0; i < n; i++)
        key[i] = on[i] ? (uint32_t)author_index(x, entry_author[i]) : NONE;
    x->on_author = bucket(key, n, x->n_authors);
    {
        size_t m = x->on_author.off[x->n_authors];
        x->on_user = attn_xmalloc(attn_st_mult(m ? m : 1, sizeof(*x->on_user)));
        for (size_t k = 0; k < m; k++)
            x->on_user[k] = e[x->on_author.pos[k]].user;
    }
    /* newday[k]: facts among user.pos[0, k) that open a new UTC day in their user's list */
    {
        size_t m = x->user.off[nu];
        x->newday = attn_xmalloc(attn_st_mult(m + 1, sizeof(*x->newday)));
        x->newday[0] = 0;
        for (size_t u = 0; u < nu; u++)
            for (size_t k = x->user.off[u]; k < x->user.off[u + 1]; k++) {
                int fresh = k == x->user.off[u] ||
                            e[x->user.pos[k]].t / DAY != e[x->user.pos[k - 1]].t / DAY;
                x->newday[k + 1] = x->newday[k] + (uint32_t)fresh;
            }
    }
    build_reviews(x, e, n);
    free(key);
    free(on);
    *out = x;
    return 0;
}

void attn_fact_index_free(attn_fact_index *x)
{
    if (!x)
        return;
    free(x->rev_cum);
    postings_free(&x->user);
    free(x->newday);
    postings_free(&x->review);
    postings_free(&x->hour);
    postings_free(&x->wday);
    free(x->rv_prev);
    free(x->authors);
    postings_free(&x->on_author);
    free(x->on_user);
    free(x);
}

/* The part [*a, *b) of bucket k of p with positions in [from, to),
 * searched from hint[0] and hint[1] (fact_index.h) when given. */
static size_t range(const postings *p, size_t k, size_t from, size_t to, size_t *a, size_t *b,
                    uint32_t *hint)
{
    if (hint) {
        *a = attn_lower_u32_from(p->pos, p->off[k], p->off[k + 1], from, hint[0]);
        *b = attn_lower_u32_from(p->pos, *a, p->off[k + 1], to, hint[1]);
        hint[0] = (uint32_t)*a;
        hint[1] = (uint32_t)*b;
    } else {
        *a = attn_lower_u32(p->pos, p->off[k], p->off[k + 1], from);
        *b = attn_lower_u32(p->pos, *a, p->off[k + 1], to);
    }
    return *b - *a;
}

size_t attn_fact_reviews(const attn_fact_index *x, size_t from, size_t to)
{
    return to > from ? x->rev_cum[to] - x->rev_cum[from] : 0;
}

static size_t user_last(const postings *p, size_t u, size_t from, size_t to, size_t n_users,
                        size_t *last, uint32_t *hint)
{
    size_t a = 0, b = 0, c = u < n_users ? range(p, u, from, to, &a, &b, hint) : 0;
    *last = c ? p->pos[b - 1] : (size_t)-1;
    return c;
}

size_t attn_fact_user(const attn_fact_index *x, size_t u, size_t from, size_t to, size_t *last,
                      uint32_t *hint)
{
    return user_last(&x->user, u, from, to, x->n_users, last, hint);
}

size_t attn_fact_user_reviews(const attn_fact_index *x, size_t u, size_t from, size_t to,
                              size_t *last, uint32_t *hint)
{
    return user_last(&x->review, u, from, to, x->n_users, last, hint);
}

size_t attn_fact_user_days(const attn_fact_index *x, size_t u, size_t from, size_t to,
                           uint32_t *hint)
{
    size_t a, b;
    if (u >= x->n_users || !range(&x->user, u, from, to, &a, &b, hint))
        return 0;
    /* the first fact in the window opens a day; later ones do when their list says so */
    return 1 + x->newday[b] - x->newday[a + 1];
}

size_t attn_fact_user_hour(const attn_fact_index *x, size_t u, int h, size_t from, size_t to,
                           uint32_t *hint)
{
    size_t a, b;
    return u < x->n_users && h >= 0 && h < 24
               ? range(&x->hour, u * 24 + (size_t)h, from, to, &a, &b, hint)
               : 0;
}

size_t attn_fact_user_wday(const attn_fact_index *x, size_t u, int w, size_t from, size_t to,
                           uint32_t *hint)
{
    size_t a, b;
    return u < x->n_users && w >= 0 && w < 7
               ? range(&x->wday, u * 7 + (size_t)w, from, to, &a, &b, hint)
               : 0;
}

size_t attn_fact_reviewers(const attn_fact_index *x, size_t from, size_t to)
{
    size_t r0, r1, n = 0;
    if (to <= from)
        return 0;
    r0 = x->rev_cum[from];
    r1 = x->rev_cum[to];
    /* whichever is cheaper: a step per review in the window, or two binary
     * searches (some 40 steps) per user */
    if (r1 - r0 <= 32 * x->n_users) {
        /* a reviewer counts at their first review in the window */
        for (size_t m = r0; m < r1; m++)
            n += x->rv_prev[m] == NONE || x->rv_prev[m] < from;
        return n;
    }
    for (size_t u = 0; u < x->n_users; u++) {
        size_t a, b;
        n += range(&x->review, u, from, to, &a, &b, NULL) > 0;
    }
    return n;
}

size_t attn_fact_on_author(const attn_fact_index *x, int64_t author_id, size_t from, size_t to,
                           const int32_t **users)
{
    long k = author_id == ATTN_NULL_I64 ? -1 : author_index(x, author_id);
    size_t a, b;
    if (k < 0 || to <= from) {
        *users = NULL;
        return 0;
    }
    range(&x->on_author, (size_t)k, from, to, &a, &b, NULL);
    *users = x->on_user + a;
    return b - a;
}
