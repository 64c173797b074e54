/*
 * hashmap.h - the hash tables of the program (git's hashmap.h, Redis's dict).
 *
 * Two shapes cover every use in attn:
 *   - attn_map64: a uint64 key to a uint32 value (ids, packed pairs), open
 *     addressing with linear probing, kept at most half full;
 *   - attn_imap: an index over entries the caller keeps in its own array
 *     (any key type): the map stores (hash, entry index) and asks the caller's
 *     equality function, so composite keys need no boxing.
 * Both grow by doubling through util/alloc.h (exit on out-of-memory), and
 * neither removes entries: attn builds an index, queries it, frees it.
 */
#ifndef ATTN_UTIL_HASHMAP_H
#define ATTN_UTIL_HASHMAP_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* A well-mixed 64-bit hash of an integer (the splitmix64 finalizer). */
static inline uint64_t attn_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
/* FNV-1a over bytes / a NUL-terminated string. */
uint64_t attn_hash_bytes(const void *p, size_t n);
uint64_t attn_hash_str(const char *s);

#define ATTN_MAP64_NONE UINT32_MAX   /* "absent"; never store it as a value */

typedef struct {
    uint64_t *k;
    uint32_t *v;
    size_t cap, n;
} attn_map64;

#define ATTN_MAP64_INIT {NULL, NULL, 0, 0}
/* The value of key, or ATTN_MAP64_NONE. */
uint32_t attn_map64_get(const attn_map64 *m, uint64_t key);
/* Set key to val (val != ATTN_MAP64_NONE), replacing an older value. */
void attn_map64_put(attn_map64 *m, uint64_t key, uint32_t val);
void attn_map64_free(attn_map64 *m);

typedef struct {
    uint64_t *h;    /* the hash of each slot's entry */
    size_t *idx;    /* entry index + 1; 0 marks an empty slot */
    size_t cap, n;
} attn_imap;

#define ATTN_IMAP_INIT {NULL, NULL, 0, 0}
#define ATTN_IMAP_NONE SIZE_MAX
/* The index of an entry with this hash for which eq(ctx, index) is true, or
 * ATTN_IMAP_NONE. */
size_t attn_imap_find(const attn_imap *m, uint64_t hash, int (*eq)(const void *ctx, size_t index),
                      const void *ctx);
/* Index entry `index` under hash (the caller knows the key is absent). */
void attn_imap_add(attn_imap *m, uint64_t hash, size_t index);
void attn_imap_free(attn_imap *m);

/* Interned strings: each distinct string gets the next id (0, 1, ...) in the
 * order it was first added, and its text is copied (a PR's distinct paths
 * and areas, path_similarity's components and paths). Zero-initialised is
 * empty. */
typedef struct {
    attn_buf text;        /* the strings, each NUL-terminated */
    uint32_t *off;        /* id -> offset in text */
    size_t n, cap;
    attn_imap ix;         /* hash of a string -> its id */
} attn_strtab;

/* The id of s[0..len) (no NUL inside), added when absent and add; -1 when
 * absent and not add. */
long attn_strtab_id(attn_strtab *t, const char *s, size_t len, int add);
static inline const char *attn_strtab_at(const attn_strtab *t, size_t id)
{
    return t->text.ptr + t->off[id];
}
/* Empty again; the text and id arrays keep their memory for the next use. */
void attn_strtab_clear(attn_strtab *t);
void attn_strtab_free(attn_strtab *t);

#endif
