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
#endif
