/*
 * shortlist.h - how many of its best user candidates a router must hand to
 * router.c so that the final top_k is exactly what it would be with all of
 * them.
 *
 * Routers that score every active user (stewards, path_similarity) would
 * otherwise build evidence for hundreds of candidates per PR, and router.c
 * would check and sort them all, to keep ten. The common rules
 * (candidates.h) only ever LOWER a candidate: the author and bots are
 * removed, availability multiplies by a factor <= 1, load moves a user below
 * everyone. So once a router has handed over top_k candidates that no rule
 * can touch ("safe"), every candidate after them in its own order would rank
 * below those and can be left out (at least two are handed over: the
 * confidence compares the top two). A candidate is judged safe conservatively
 * (a doubtful one simply does not count), so leaving candidates out never
 * changes the result.
 */
#ifndef ATTN_ROUTE_SHORTLIST_H
#define ATTN_ROUTE_SHORTLIST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "route/router.h"

/* The common rules' settings, read from a router's merged config. */
typedef struct {
    double inactive_days, factor;
    long max_open_requests;
} attn_shortlist_rules;

void attn_shortlist_rules_read(const json_t *config, attn_shortlist_rules *r);

/* One scored user of the activity index. */
typedef struct {
    uint32_t user;
    double score;
} attn_shortlist_row;

/* Sort rows into the final order for users: score desc, then user index
 * (the index's users are in the final order's name order). */
void attn_shortlist_sort(attn_shortlist_row *rows, size_t n);

/* How many safe candidates must be handed over: top_k, but at least 2
 * because router.c's confidence compares the top two; 0 (everything) when
 * q->top_k <= 0. */
size_t attn_shortlist_need(const attn_route_query *q);

/* No common rule can remove or lower user u at q's cutoff (judged
 * conservatively: the author, bots, and anyone availability or load might
 * touch are not safe). */
int attn_shortlist_safe(const attn_shortlist_rules *r, const attn_activity *a,
                        const attn_route_query *q, uint32_t u);

/* The same judgement for any target: teams are always safe (the rules touch
 * users only); a user is looked up in the index by login, and one the index
 * does not know is safe only when availability is off (router.c treats them
 * as never active). */
int attn_shortlist_safe_target(const attn_shortlist_rules *r, const attn_activity *a,
                               const attn_route_query *q, const char *type, const char *name);

/* How many of the sorted rows to hand over (all of them when q->top_k <= 0).
 * Rows with a score <= 0 are never needed (router.c drops them). */
size_t attn_shortlist_cut(const attn_shortlist_rules *r, const attn_activity *a,
                          const attn_route_query *q, const attn_shortlist_row *rows, size_t n);

/* The same cut over any ranking of n targets in the router's order (score
 * descending): score(arg, i) and safe(arg, i) (attn_shortlist_safe_target's
 * judgement) of the i-th. */
size_t attn_shortlist_cut_by(const attn_route_query *q, size_t n,
                             double (*score)(const void *arg, size_t i),
                             int (*safe)(const void *arg, size_t i), const void *arg);

#endif
