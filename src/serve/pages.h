/*
 * pages.h - the dashboard pages shared between pages*.c.
 */
#ifndef ATTN_SERVE_PAGES_H
#define ATTN_SERVE_PAGES_H

#include "serve/internal.h"

/* href "/page?repo=R&k1=v1&k2=v2" (escaped for an attribute; k1/k2 may be NULL). */
void attn_page_link(attn_buf *b, const char *page, const char *repo, const char *k1,
                    const char *v1, const char *k2, const char *v2);
void attn_page_error(attn_resp *r, int status, const char *repo, const char *msg);
/* The repo and registry row named by ?repo= and ?<key>=; 0, or an error page. */
int attn_page_run_row(attn_server *s, const attn_req *q, const char *key, const char **repo,
                      json_t **repos, json_t **row, attn_resp *r);

void attn_page_run(attn_server *s, const attn_req *q, attn_resp *r);
void attn_page_compare(attn_server *s, const attn_req *q, attn_resp *r);
void attn_page_pr(attn_server *s, const attn_req *q, attn_resp *r);
void attn_page_live(attn_server *s, const attn_req *q, attn_resp *r);

#endif
