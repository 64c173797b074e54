/*
 * recommend.h - live recommendations: when a webhook opens a PR (or marks
 * it ready for review), route it with the repository's baseline run's
 * router and config and keep the answer for GET /api/recommendations and
 * the live page.
 */
#ifndef ATTN_SERVE_RECOMMEND_H
#define ATTN_SERVE_RECOMMEND_H

#include "serve/internal.h"

void attn_serve_recommendations_api(attn_server *s, const attn_req *q, const char *repo,
                                    attn_resp *r);
/* Route PR number of repo with the baseline run's routers and keep the answer
 * (called after a delivery opened it or marked it ready). Failures are kept
 * as the recommendation's error, never raised: the delivery is applied. */
void attn_serve_recommend_pr(attn_server *s, const char *repo, int64_t number,
                             const char *delivery);

#endif
