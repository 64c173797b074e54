/*
 * cache.c - rendered GET responses of the dashboard and the read API, kept
 * while the data they were built from is unchanged.
 *
 * Everything a cached page shows comes from the run registries (rows,
 * lifecycle) and from completed run directories, which never change once
 * written (a deleted run's directory goes with a registry write). So an entry
 * is valid while every repository's runs.sqlite and runs.sqlite-wal keep
 * their (size, mtime, inode): one readdir and a few stat calls per request
 * instead of re-reading 1,000 rows or re-running a comparison.
 * Must never: serve an entry built before a registry change, cache a
 * non-200 answer, or grow past its byte bound (oldest entries go first).
 */
#include "serve/internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_BYTES (64u << 20)

struct attn_serve_centry {
    char *key, *body;
    const char *type; /* a string literal of the handler (never freed) */
    size_t len;
    unsigned long long validator;
    struct attn_serve_centry *next; /* newest first */
};

static unsigned long long mix(unsigned long long h, unsigned long long v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static unsigned long long stat_mix(unsigned long long h, const char *path)
{
    struct stat st;
    if (stat(path, &st))
        return mix(h, 1);
    h = mix(h, (unsigned long long)st.st_size);
    h = mix(h, (unsigned long long)st.st_ino);
    h = mix(h, (unsigned long long)st.st_mtim.tv_sec);
    return mix(h, (unsigned long long)st.st_mtim.tv_nsec);
}

unsigned long long attn_serve_cache_validator(const attn_server *s)
{
    char dir[4200], sub[4500], p[4800];
    unsigned long long h = 7;
    DIR *d, *d2;
    struct dirent *e, *e2;
    snprintf(dir, sizeof(dir), "%s/github", s->data_dir);
    if (!(d = opendir(dir)))
        return h;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        if (!(d2 = opendir(sub)))
            continue;
        while ((e2 = readdir(d2))) {
            if (e2->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s/runs.sqlite", sub, e2->d_name);
            h = stat_mix(h, p);
            snprintf(p, sizeof(p), "%s/%s/runs.sqlite-wal", sub, e2->d_name);
            h = stat_mix(h, p);
        }
        closedir(d2);
    }
    closedir(d);
    return h;
}

static void centry_free(struct attn_serve_centry *e)
{
    free(e->key);
    free(e->body);
    free(e);
}

int attn_serve_cache_get(attn_server *s, const char *key, unsigned long long v, attn_resp *r)
{
    struct attn_serve_centry *e;
    int hit = 0;
    pthread_mutex_lock(&s->cache_mu);
    for (e = s->cache; e; e = e->next)
        if (!strcmp(e->key, key)) {
            if (e->validator == v) {
                r->status = 200;
                r->type = e->type;
                attn_buf_clear(&r->body);
                attn_buf_put(&r->body, e->body, e->len);
                hit = 1;
            }
            break;
        }
    pthread_mutex_unlock(&s->cache_mu);
    return hit;
}

void attn_serve_cache_put(attn_server *s, const char *key, unsigned long long v,
                          const attn_resp *r)
{
    struct attn_serve_centry *e, **pp;
    size_t total = 0;
    if (r->status != 200 || r->body.len > CACHE_BYTES / 4 || !r->type)
        return;
    if (!(e = calloc(1, sizeof(*e))) || !(e->key = strdup(key)) ||
        !(e->body = malloc(r->body.len + 1))) {
        if (e)
            centry_free(e);
        return;
    }
    memcpy(e->body, r->body.ptr ? r->body.ptr : "", r->body.len);
    e->len = r->body.len;
    e->type = r->type;
    e->validator = v;
    pthread_mutex_lock(&s->cache_mu);
    /* Drop the old entry of this key and every stale one; keep the bound. */
    for (pp = &s->cache; *pp;) {
        struct attn_serve_centry *x = *pp;
        if (!strcmp(x->key, key) || x->validator != v) {
            *pp = x->next;
            centry_free(x);
            continue;
        }
        pp = &x->next;
    }
    e->next = s->cache;
    s->cache = e;
    for (pp = &s->cache; *pp; pp = &(*pp)->next) {
        total += (*pp)->len;
        if (total > CACHE_BYTES) {
            struct attn_serve_centry *rest = *pp;
            *pp = NULL;
            while (rest) {
                struct attn_serve_centry *n = rest->next;
                centry_free(rest);
                rest = n;
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->cache_mu);
}

void attn_serve_cache_free(attn_server *s)
{
    while (s->cache) {
        struct attn_serve_centry *n = s->cache->next;
        centry_free(s->cache);
        s->cache = n;
    }
}
