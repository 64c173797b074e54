/*
 * hooks.c - the optional router hooks (router.h: attn_router_hooks), one line
 * per router that has them. Apart from registry.c so tests that provide
 * their own registry can still link.
 */
#include "route/router.h"

#include <stddef.h>

static const attn_router_hooks *const HOOKS[] = {
    &attn_router_llm_rerank_hooks,
    NULL /* end */
};

const attn_router_hooks *attn_router_hooks_of(const attn_router_def *def)
{
    for (size_t i = 0; HOOKS[i]; i++)
        if (HOOKS[i]->def == def)
            return HOOKS[i];
    return NULL;
}
