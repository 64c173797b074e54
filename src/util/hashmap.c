/*
 * hashmap.c - open-addressing hash tables (see hashmap.h).
 *
 * Owns: probing, load factor (at most 1/2) and growth. Must never: hand out
 * a pointer into its slots (they move on growth), or fail softly: allocation
 * goes through util/alloc.h.
 */
#include "util/hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

uint64_t attn_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

uint64_t attn_hash_str(const char *s)
{
    return attn_hash_bytes(s, strlen(s));
}

/* ---- attn_map64 ------------------------------------------------------------ */

uint32_t attn_map64_get(const attn_map64 *m, uint64_t key)
{
    if (!m->cap)
        return ATTN_MAP64_NONE;
    for (size_t i = attn_hash_u64(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->v[i] == ATTN_MAP64_NONE)
            return ATTN_MAP64_NONE;
        if (m->k[i] == key)
            return m->v[i];
    }
}

static void map64_grow(attn_map64 *m)
{
    size_t nc = m->cap ? attn_st_mult(m->cap, 2) : 64;
    uint64_t *nk = attn_xmalloc(attn_st_mult(nc, sizeof(*nk)));
    uint32_t *nv = attn_xmalloc(attn_st_mult(nc, sizeof(*nv)));
    memset(nv, 0xff, nc * sizeof(*nv));
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;
        if (m->v[i] == ATTN_MAP64_NONE)
            continue;
        for (j = attn_hash_u64(m->k[i]) & (nc - 1); nv[j] != ATTN_MAP64_NONE; j = (j + 1) & (nc - 1))
            ;
        nk[j] = m->k[i];
        nv[j] = m->v[i];
    }
    free(m->k);
    free(m->v);
    m->k = nk;
    m->v = nv;
    m->cap = nc;
}

void attn_map64_put(attn_map64 *m, uint64_t key, uint32_t val)
{
    size_t i;
    if ((m->n + 1) * 2 > m->cap)
        map64_grow(m);
    for (i = attn_hash_u64(key) & (m->cap - 1); m->v[i] != ATTN_MAP64_NONE && m->k[i] != key;
         i = (i + 1) & (m->cap - 1))
        ;
    if (m->v[i] == ATTN_MAP64_NONE)
        m->n++;
    m->k[i] = key;
    m->v[i] = val;
}

void attn_map64_free(attn_map64 *m)
{
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

/* ---- attn_imap ------------------------------------------------------------- */

size_t attn_imap_find(const attn_imap *m, uint64_t hash, int (*eq)(const void *ctx, size_t index),
                      const void *ctx)
{
    if (!m->cap)
        return ATTN_IMAP_NONE;
    for (size_t i = hash & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->idx[i])
            return ATTN_IMAP_NONE;
        if (m->h[i] == hash && eq(ctx, m->idx[i] - 1))
            return m->idx[i] - 1;
    }
}

static void imap_grow(attn_imap *m)
{
    size_t nc = m->cap ? attn_st_mult(m->cap, 2) : 64;
    uint64_t *nh = attn_xmalloc(attn_st_mult(nc, sizeof(*nh)));
    size_t *ni = attn_xcalloc(nc, sizeof(*ni));
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;
        if (!m->idx[i])
            continue;
        for (j = m->h[i] & (nc - 1); ni[j]; j = (j + 1) & (nc - 1))
            ;
        nh[j] = m->h[i];
        ni[j] = m->idx[i];
    }
    free(m->h);
    free(m->idx);
    m->h = nh;
    m->idx = ni;
    m->cap = nc;
}

void attn_imap_add(attn_imap *m, uint64_t hash, size_t index)
{
    size_t i;
    if ((m->n + 1) * 2 > m->cap)
        imap_grow(m);
    for (i = hash & (m->cap - 1); m->idx[i]; i = (i + 1) & (m->cap - 1))
        ;
    m->h[i] = hash;
    m->idx[i] = attn_st_add(index, 1);
    m->n++;
}

void attn_imap_free(attn_imap *m)
{
    free(m->h);
    free(m->idx);
    memset(m, 0, sizeof(*m));
}

/* ---- interned strings ------------------------------------------------------ */

typedef struct {
    const attn_strtab *t;
    const char *s;
    size_t len;
} strtab_probe;

static int strtab_eq(const void *ctx, size_t id)
{
    const strtab_probe *p = ctx;
    const char *x = attn_strtab_at(p->t, id);
    return strncmp(x, p->s, p->len) == 0 && x[p->len] == '\0';
}

long attn_strtab_id(attn_strtab *t, const char *s, size_t len, int add)
{
    uint64_t h = attn_hash_bytes(s, len);
    strtab_probe p = {t, s, len};
    size_t id = attn_imap_find(&t->ix, h, strtab_eq, &p);
    if (id != ATTN_IMAP_NONE)
        return (long)id;
    if (!add)
        return -1;
    /* Ids and offsets are 32-bit: a table that outgrows them is out of memory. */
    if (t->n >= UINT32_MAX - 1 || t->text.len > UINT32_MAX)
        attn_xcheck(NULL);
    ATTN_ALLOC_GROW(t->off, t->n + 1, t->cap);
    t->off[t->n] = (uint32_t)t->text.len;
    attn_buf_put(&t->text, s, len);
    attn_buf_putc(&t->text, '\0');
    attn_imap_add(&t->ix, h, t->n);
    return (long)t->n++;
}

void attn_strtab_clear(attn_strtab *t)
{
    attn_buf_clear(&t->text);
    t->n = 0;
    attn_imap_free(&t->ix);
}

void attn_strtab_free(attn_strtab *t)
{
    attn_buf_free(&t->text);
    free(t->off);
    attn_imap_free(&t->ix);
    memset(t, 0, sizeof(*t));
}
