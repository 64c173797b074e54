/*
 * recommend.c - the recommendations API and the live page.
 */
#include "serve/recommend.h"
#include "serve/html.h"
#include "serve/pages.h"

void attn_serve_recommendations_api(attn_server *s, const attn_req *q, const char *repo,
                                    attn_resp *r)
{
    attn_resp_json(r, 200, json_pack("{s:s, s:[]}", "repo", repo, "recommendations"));
}

void attn_page_live(attn_server *s, const attn_req *q, attn_resp *r)
{
    r->status = 200;
    r->type = "text/html; charset=utf-8";
    attn_html_head(&r->body, "Live", NULL);
    attn_buf_puts(&r->body, "<h1>Live recommendations</h1><p class=\"muted\">none yet</p>");
    attn_html_foot(&r->body);
}

void attn_serve_recommend_pr(attn_server *s, const char *repo, int64_t number,
                             const char *delivery)
{
}
