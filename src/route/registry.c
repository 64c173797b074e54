/*
 * registry.c - the built-in routers, in name order. Adding a router is one
 * file in route/ and one line here (its def is declared in router.h).
 */
#include "route/router.h"
#include "util/buf.h"

#include <string.h>

static const attn_router_def *const BUILTINS[] = {
    &attn_router_codeowners,
    &attn_router_hybrid,
    &attn_router_llm_rerank,
    &attn_router_learned,
    &attn_router_mentions,
    &attn_router_path_similarity,
    &attn_router_popularity,
    &attn_router_review_requests,
    &attn_router_stewards,
    NULL /* end */
};

size_t attn_router_count(void) { return sizeof(BUILTINS) / sizeof(BUILTINS[0]) - 1; }

const attn_router_def *attn_router_at(size_t i)
{
    return i < attn_router_count() ? BUILTINS[i] : NULL;
}

int attn_router_find(const char *name, const attn_router_def **out, attn_error *err)
{
    attn_buf names = ATTN_BUF_INIT;
    for (size_t i = 0; i < attn_router_count(); i++)
        if (name && !strcmp(BUILTINS[i]->name, name)) {
            *out = BUILTINS[i];
            return 0;
        }
    for (size_t i = 0; i < attn_router_count(); i++)
        attn_buf_printf(&names, "%s%s", i ? ", " : "", BUILTINS[i]->name);
    attn_error_set(err, ATTN_EINVAL, "unknown router '%s'; the routers are: %s", name ? name : "",
                   attn_buf_cstr(&names));
    attn_buf_free(&names);
    return ATTN_EINVAL;
}
