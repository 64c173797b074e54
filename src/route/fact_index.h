/*
 * fact_index.h - where each user's activity facts sit in the activity index's
 * entry array, for the learned router's per-PR counts (features.c).
 *
 * The features count, per candidate, facts in windows that end at the cutoff
 * (reviews in the last 7/30/180 days, facts by hour and weekday over a year,
 * distinct active days, ...). A pass over every fact of the year costs one
 * step per fact for every PR, and a busy repository has hundreds of
 * thousands of facts a year; with the facts listed per user (and per user and
 * hour, per user and weekday, per PR author) each count is two binary
 * searches, and every answer is the same number the pass gave.
 *
 * Positions are indices into attn_activity_entries(); windows are half-open
 * index ranges [from, to), usually from attn_activity_slice(). Read-only once
 * built, so threads may share one.
 */
#ifndef ATTN_ROUTE_FACT_INDEX_H
#define ATTN_ROUTE_FACT_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "history/activity.h"

typedef struct attn_fact_index attn_fact_index;

/* Build over act's entries. entry_author[i] is the users.id of the author of
 * entry i's PR, or ATTN_NULL_I64; an entry is "on the author" when it is a
 * review by someone other than that author (activity user id != author).
 * Fails only when the entries outnumber the 32-bit positions. */
int attn_fact_index_new(const attn_activity *act, const int64_t *entry_author,
                        attn_fact_index **out, attn_error *err);
void attn_fact_index_free(attn_fact_index *x);

/* Reviews (any user) among entries [from, to). */
size_t attn_fact_reviews(const attn_fact_index *x, size_t from, size_t to);
/*
 * The per-user counts take a hint: NULL, or ATTN_FACT_HINT positions the
 * caller keeps for one kind of window of one user (and hour or weekday),
 * zeroed at first and passed to every call for that window. The searches
 * start from where the last one for that window ended: the features are
 * computed PR after PR in time order, so the windows move little. Any
 * values give the same counts.
 */
#define ATTN_FACT_HINT 2

/* Facts of user u (any kind) in [from, to); *last: index of the latest, or
 * (size_t)-1 when there is none. */
size_t attn_fact_user(const attn_fact_index *x, size_t u, size_t from, size_t to, size_t *last,
                      uint32_t *hint);
/* Reviews of user u in [from, to); *last as above. */
size_t attn_fact_user_reviews(const attn_fact_index *x, size_t u, size_t from, size_t to,
                              size_t *last, uint32_t *hint);
/* Distinct UTC days (t / 86400, truncated) with a fact of user u in [from, to). */
size_t attn_fact_user_days(const attn_fact_index *x, size_t u, size_t from, size_t to,
                           uint32_t *hint);
/* The UTC hour (0..23) and weekday (0 = Sunday .. 6) of t, as the index
 * buckets facts: callers compute a PR's own with the same rule. */
int attn_fact_hour(int64_t t);
int attn_fact_wday(int64_t t);
/* Facts of user u in [from, to) at UTC hour h and at weekday w. */
size_t attn_fact_user_hour(const attn_fact_index *x, size_t u, int h, size_t from, size_t to,
                           uint32_t *hint);
size_t attn_fact_user_wday(const attn_fact_index *x, size_t u, int w, size_t from, size_t to,
                           uint32_t *hint);
/* Users (of the activity index) with at least one review in [from, to). */
size_t attn_fact_reviewers(const attn_fact_index *x, size_t from, size_t to);
/* The entries "on" author_id's PRs (see above) in [from, to), oldest first:
 * *users points into the index at their activity users (-1 for none); the
 * count is returned. */
size_t attn_fact_on_author(const attn_fact_index *x, int64_t author_id, size_t from, size_t to,
                           const int32_t **users);

#endif
