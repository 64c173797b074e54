/*
 * jalloc.c - per-thread free lists for jansson's small blocks (jalloc.h).
 *
 * Owns: the calling thread's cache (a free list per 16-byte class) and the
 * thread-exit hook that empties it. Must never: hand a block to a request
 * larger than the block's usable size, or keep more than ATTN_JALLOC_KEEP
 * blocks per class (a thread that only frees, such as the one merging the
 * workers' results, would otherwise grow without bound).
 */
#define _GNU_SOURCE /* malloc_usable_size */
#include "util/jalloc.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#define NCLASS (ATTN_JALLOC_MAX / 16 + 1)

typedef struct block {
    struct block *next;
} block;

typedef struct {
    block *head[NCLASS];
    unsigned n[NCLASS];
} cache;

/* The calling thread's cache, and the key whose destructor frees it when
 * the thread exits (set up once, by attn_jalloc_install or the first use). */
static __thread cache *tc;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void release(cache *c)
{
    for (size_t k = 0; k < NCLASS; k++)
        while (c->head[k]) {
            block *b = c->head[k];
            c->head[k] = b->next;
            free(b);
        }
    free(c);
}

static void on_exit_thread(void *p)
{
    if (p == tc)
        tc = NULL;
    release(p);
}

static void make_key(void)
{
    pthread_key_create(&exit_key, on_exit_thread);
}

static cache *thread_cache(void)
{
    if (tc)
        return tc;
    pthread_once(&exit_once, make_key);
    if (!(tc = calloc(1, sizeof(*tc))))
        return NULL;
    pthread_setspecific(exit_key, tc);
    return tc;
}

void *attn_jalloc_malloc(size_t n)
{
    /* a request of n bytes takes class ceil(n / 16); a block of usable size
     * u sits in class floor(u / 16), so every block of class k holds 16k */
    size_t k = (n + 15) / 16;
    cache *c;
    if (k < NCLASS && (c = thread_cache()) && c->head[k]) {
        block *b = c->head[k];
        c->head[k] = b->next;
        c->n[k]--;
        /* The next pop reads the new head's link, most often out of the
         * cache (freed a PR ago): ask for it now (profile: that load was
         * nearly all of this function). */
        if (c->head[k])
            __builtin_prefetch(c->head[k]);
        return b;
    }
    return malloc(k < NCLASS ? (k ? k * 16 : 16) : n);
}

void attn_jalloc_free(void *p)
{
    size_t k;
    cache *c;
    if (!p)
        return;
    k = malloc_usable_size(p) / 16;
    if (k && k < NCLASS && (c = thread_cache()) && c->n[k] < ATTN_JALLOC_KEEP) {
        block *b = p;
        b->next = c->head[k];
        c->head[k] = b;
        c->n[k]++;
        return;
    }
    free(p);
}

void attn_jalloc_install(void)
{
    pthread_once(&exit_once, make_key);
    json_set_alloc_funcs(attn_jalloc_malloc, attn_jalloc_free);
}

void attn_jalloc_thread_release(void)
{
    cache *c = tc;
    if (!c)
        return;
    tc = NULL;
    pthread_setspecific(exit_key, NULL);
    release(c);
}

size_t attn_jalloc_thread_kept(size_t size)
{
    size_t n = 0, k = (size + 15) / 16;
    if (size)
        return tc && k < NCLASS ? tc->n[k] : 0;
    for (k = 0; tc && k < NCLASS; k++)
        n += tc->n[k];
    return n;
}
