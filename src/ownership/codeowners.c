/*
 * codeowners.c - CODEOWNERS parsing, pattern compilation and matching.
 *
 * Owns: the line syntax (pattern, owners, comments, escapes), the validity
 * rules that make a line invalid, the compiled pattern form, and the lookup
 * index. It must never apply an invalid line, and never let an earlier rule
 * win over a later matching one (original.md section 15, item 11: the Python
 * system unioned every match and let fnmatch's `*` cross `/`).
 *
 * Compiled form. A pattern becomes a list of elements over path segments:
 * LIT (segment equals a string), GLOB (segment matches `*`/`?` wildcards),
 * ANY (any one segment) and DSTAR (zero or more segments). The gitignore
 * rules reduce to element lists:
 *   floating `x`      -> DSTAR x DSTAR      (any depth; a directory owns its contents)
 *   anchored `/a/b`   -> a b DSTAR
 *   `a/`              -> DSTAR a ANY DSTAR  (a directory: something must lie beneath)
 *   `a/` + `*`        -> a ANY              (direct children only, GitHub's documented case)
 *   `a/` + `**`       -> a ANY DSTAR        (everything inside, not `a` itself)
 * A whole path then matches with the classic one-backtrack-point wildcard
 * algorithm (DSTAR playing `*`), which is linear per attempt and needs neither
 * recursion nor allocation.
 *
 * Index. Last match wins, so a lookup tests candidate rules from the highest
 * line down and stops at the first hit. Candidates come from a hash table
 * (util/hashmap.h) keyed by what a rule needs to see in the path: its literal first segment
 * (anchored rules), any literal segment, or the final ".ext" of a glob segment
 * (`*.js`); rules with no such key (`*`, `**`, `?x`) are always candidates.
 * Every bucket is sorted by rule index, so a k-way merge yields candidates in
 * descending order.
 */
#include "ownership/codeowners.h"

#include "util/alloc.h"
#include "util/hashmap.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------
 * Arena: every string and array of a parsed file lives in a few large blocks,
 * so pointers handed out stay valid until attn_codeowners_free, and freeing is
 * one walk over the blocks. */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct arena {
    struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->head;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!n)
        n = sizeof(max_align_t);
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = attn_xmalloc(attn_st_add(sizeof(*b), cap));
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* ---------------------------------------------------------------------------
 * Compiled patterns. */

enum el_kind { EL_LIT, EL_GLOB, EL_ANY, EL_DSTAR };

struct el {
    unsigned char kind;
    size_t len;
    const char *s;   /* LIT: unescaped text; GLOB: text with `\` escapes kept */
};

enum key_kind { KEY_NONE = 0, KEY_FIRST = 1, KEY_SEG = 2, KEY_EXT = 3 };

struct compiled {
    struct el *els;
    size_t n;
    unsigned char key_kind;   /* the index key: see the file comment */
    const char *key;
    size_t key_len;
};

struct attn_codeowners_pattern {
    struct arena arena;
    struct compiled c;
};

/* Result of compiling: 0 ok, 1 invalid (reason set). */
#define COMPILE_INVALID 1

/* memrchr is a GNU extension; this is the portable few lines. */
static const char *last_char(const char *s, char c, size_t n)
{
    while (n > 0)
        if (s[--n] == c)
            return s + n;
    return NULL;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Segment text [s, s+n) with escapes: does it contain an unescaped wildcard? */
static int seg_has_wildcard(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '*' || s[i] == '?')
            return 1;
    }
    return 0;
}

/* Is the segment one or more unescaped `*` only? ("**" is checked first.) */
static int seg_all_stars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '*')
            return 0;
    return n > 0;
}

static char *unescape(struct arena *a, const char *s, size_t n, size_t *out_len)
{
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        d[k++] = s[i];
    }
    d[k] = '\0';
    *out_len = k;
    return d;
}

/* The ".ext" a glob segment forces on the segment it matches: the literal text
 * after its last wildcard, from its last '.'; NULL when there is none. */
static const char *glob_ext_key(struct arena *a, const struct el *e, size_t *klen)
{
    size_t start = 0, n;
    const char *s = e->s;
    char *lit;
    for (size_t i = 0; i < e->len; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '*' || s[i] == '?')
            start = i + 1;
    }
    lit = unescape(a, s + start, e->len - start, &n);
    const char *dot = last_char(lit, '.', n);
    if (!dot)
        return NULL;
    *klen = n - (size_t)(dot - lit);
    return dot;
}

static int push_el(struct el *els, size_t *n, unsigned char kind, const char *s, size_t len)
{
    /* `**` next to `**` adds nothing and would only slow the matcher down. */
    if (kind == EL_DSTAR && *n > 0 && els[*n - 1].kind == EL_DSTAR)
        return 0;
    els[*n].kind = kind;
    els[*n].s = s;
    els[*n].len = len;
    (*n)++;
    return 0;
}

/* A pattern split on its unescaped '/': segments [first, last) name the path;
 * anchored and dir record a leading (or middle) and a trailing slash. */
struct split {
    struct { const char *s; size_t n; } *segs;
    size_t first, last;
    int anchored, dir, only_dstar;
};

static int is_dstar(const char *s, size_t n) { return n == 2 && s[0] == '*' && s[1] == '*'; }

static int split_pattern(const char *p, size_t len, struct split *sp, const char **reason)
{
    size_t nseg = 1, i;
    memset(sp, 0, sizeof(*sp));
    if (len == 0) {
        *reason = "empty pattern";
        return COMPILE_INVALID;
    }
    /* GitHub documents `!` as "does not work" in CODEOWNERS: such a line is
     * reported and skipped (escaped, `\!` is literal). `[ ]` ranges do not
     * work either, but GitHub then matches the brackets literally (a rule
     * `/apps/[param]/file.ts` owns `apps/[param]/file.ts`, a common layout in
     * web frameworks), so brackets are ordinary characters here. */
    if (p[0] == '!') {
        *reason = "negation (!) is not supported in CODEOWNERS";
        return COMPILE_INVALID;
    }
    for (i = 0; i < len; i++) {
        if (p[i] == '\\') {
            if (i + 1 == len) {
                *reason = "pattern ends with a lone backslash";
                return COMPILE_INVALID;
            }
            i++;
        } else if (p[i] == '/') {
            nseg++;
        }
    }
    sp->segs = attn_xmalloc(attn_st_mult(nseg, sizeof(*sp->segs)));
    nseg = 0;
    sp->segs[0].s = p;
    for (i = 0; i < len; i++) {
        if (p[i] == '\\') {
            i++;
        } else if (p[i] == '/') {
            sp->segs[nseg].n = (size_t)(p + i - sp->segs[nseg].s);
            nseg++;
            sp->segs[nseg].s = p + i + 1;
        }
    }
    sp->segs[nseg].n = (size_t)(p + len - sp->segs[nseg].s);
    nseg++;

    sp->last = nseg;
    if (nseg > 1 && sp->segs[0].n == 0) {   /* leading '/' */
        sp->anchored = 1;
        sp->first = 1;
    }
    if (sp->last - sp->first > 1 && sp->segs[sp->last - 1].n == 0) {   /* trailing '/' */
        sp->dir = 1;
        sp->last--;
    }
    if (sp->last == sp->first || (sp->last - sp->first == 1 && sp->segs[sp->first].n == 0)) {
        *reason = "pattern names no path";
        return COMPILE_INVALID;
    }
    sp->only_dstar = 1;
    for (i = sp->first; i < sp->last; i++) {
        if (sp->segs[i].n == 0) {
            *reason = "empty path segment (//) in pattern";
            return COMPILE_INVALID;
        }
        if (!is_dstar(sp->segs[i].s, sp->segs[i].n))
            sp->only_dstar = 0;
    }
    if (sp->last - sp->first > 1)   /* a middle slash anchors, like a leading one */
        sp->anchored = 1;
    return 0;
}

/* The elements of a split pattern into els (room for last - first + 3). */
static void build_elements(struct arena *a, const struct split *sp, struct el *els, size_t *nel)
{
    const char *ls = sp->segs[sp->last - 1].s;
    size_t ln = sp->segs[sp->last - 1].n;

    if (sp->only_dstar) {
        /* `**` alone: any path. `**` + `/`: anything inside some directory. */
        push_el(els, nel, EL_ANY, NULL, 0);
        push_el(els, nel, EL_DSTAR, NULL, 0);
        if (sp->dir) {
            push_el(els, nel, EL_ANY, NULL, 0);
            push_el(els, nel, EL_DSTAR, NULL, 0);
        }
        return;
    }
    if (!sp->anchored)
        push_el(els, nel, EL_DSTAR, NULL, 0);
    for (size_t i = sp->first; i < sp->last; i++) {
        const char *s = sp->segs[i].s;
        size_t n = sp->segs[i].n;
        if (is_dstar(s, n)) {
            push_el(els, nel, EL_DSTAR, NULL, 0);
        } else if (seg_all_stars(s, n)) {
            push_el(els, nel, EL_ANY, NULL, 0);
        } else if (seg_has_wildcard(s, n)) {
            /* copied: the caller's text may be gone before matching */
            char *g = arena_strndup(a, s, n);
            push_el(els, nel, EL_GLOB, g, n);
        } else {
            size_t ul;
            char *u = unescape(a, s, n, &ul);
            push_el(els, nel, EL_LIT, u, ul);
        }
    }
    if (!sp->dir && is_dstar(ls, ln)) {
        /* `x/` + `**`: everything inside x, but not a file named x. */
        (*nel)--;
        push_el(els, nel, EL_ANY, NULL, 0);
        push_el(els, nel, EL_DSTAR, NULL, 0);
    } else if (!sp->dir && seg_all_stars(ls, ln)) {
        /* final lone `*`: direct children only - nothing may follow */
    } else if (sp->dir) {
        push_el(els, nel, EL_ANY, NULL, 0);
        push_el(els, nel, EL_DSTAR, NULL, 0);
    } else {
        push_el(els, nel, EL_DSTAR, NULL, 0);   /* a directory owns its contents */
    }
}

/* Index key: the most selective thing the path must contain. */
static void choose_key(struct arena *a, struct compiled *c)
{
    const struct el *els = c->els;
    size_t nel = c->n, k;
    if (nel > 0 && els[0].kind == EL_LIT) {
        c->key_kind = KEY_FIRST;
        c->key = els[0].s;
        c->key_len = els[0].len;
        return;
    }
    for (k = 0; k < nel; k++) {
        if (els[k].kind == EL_LIT && (c->key_kind != KEY_SEG || els[k].len > c->key_len)) {
            c->key_kind = KEY_SEG;
            c->key = els[k].s;
            c->key_len = els[k].len;
        }
    }
    if (c->key_kind)
        return;
    for (k = 0; k < nel; k++) {
        size_t kl = 0;
        const char *key;
        if (els[k].kind != EL_GLOB)
            continue;
        key = glob_ext_key(a, &els[k], &kl);
        if (key && (c->key_kind != KEY_EXT || kl > c->key_len)) {
            c->key_kind = KEY_EXT;
            c->key = key;
            c->key_len = kl;
        }
    }
}

static int compile_pattern(struct arena *a, const char *p, size_t len, struct compiled *c,
                           const char **reason)
{
    struct split sp;
    struct el *els;
    size_t nel = 0;
    int rc;

    memset(c, 0, sizeof(*c));
    if ((rc = split_pattern(p, len, &sp, reason))) {
        free(sp.segs);
        return rc;
    }
    /* At most: leading DSTAR + one per segment + two for the tail. */
    els = arena_alloc(a, (sp.last - sp.first + 3) * sizeof(*els));
    build_elements(a, &sp, els, &nel);
    free(sp.segs);
    c->els = els;
    c->n = nel;
    choose_key(a, c);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Matching. */

/* `*` and `?` within one segment (s never contains '/'). One backtrack point
 * suffices because `*` is the only variable-length element. */
static int glob_match(const char *p, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            char c = p[pi];
            if (c == '*') {
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                pi++;
                si++;
                continue;
            }
            if (c == '\\') {
                if (p[pi + 1] == s[si]) {
                    pi += 2;
                    si++;
                    continue;
                }
            } else if (c == s[si]) {
                pi++;
                si++;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

static int el_match(const struct el *e, const char *s, size_t n)
{
    switch (e->kind) {
    case EL_LIT: return e->len == n && memcmp(e->s, s, n) == 0;
    case EL_GLOB: return glob_match(e->s, e->len, s, n);
    case EL_ANY: return 1;
    }
    return 0;
}

/* The same one-backtrack-point algorithm one level up: elements against path
 * segments, DSTAR being the star. pos > plen means the path is used up. */
static int els_match(const struct el *els, size_t n, const char *path, size_t plen)
{
    size_t pi = 0, pos = 0, star = SIZE_MAX, star_pos = 0;
    for (;;) {
        const char *seg, *slash;
        size_t sl;
        if (pi < n && els[pi].kind == EL_DSTAR) {
            if (pi + 1 == n)
                return 1;   /* a trailing ** takes whatever is left */
            star = pi++;
            star_pos = pos;
            continue;
        }
        if (pos > plen)
            return pi == n;
        seg = path + pos;
        slash = memchr(seg, '/', plen - pos);
        sl = slash ? (size_t)(slash - seg) : plen - pos;
        if (pi < n && el_match(&els[pi], seg, sl)) {
            pi++;
            pos += sl + 1;
            continue;
        }
        if (star == SIZE_MAX)
            return 0;
        /* Let the last ** swallow one more segment and retry what follows it.
         * If it would swallow everything, what follows (a non-** element,
         * since runs of ** are merged) has nothing left to match. */
        slash = memchr(path + star_pos, '/', plen - star_pos);
        if (!slash)
            return 0;
        star_pos = (size_t)(slash - path) + 1;
        pos = star_pos;
        pi = star + 1;
    }
}

/* Paths are repo-relative; tolerate "/x" and "x/" from callers. */
static const char *normalize(const char *path, size_t *len)
{
    size_t n;
    while (*path == '/')
        path++;
    n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    *len = n;
    return path;
}

/* ---------------------------------------------------------------------------
 * The parsed file and its index. */

struct bucket {
    unsigned char kind;   /* KEY_* */
    const char *key;
    size_t key_len;
    uint32_t *ids;        /* rule indexes, ascending */
    size_t n;
};

struct attn_codeowners {
    struct arena arena;
    attn_codeowners_rule *rules;
    struct compiled *pats;     /* parallel to rules */
    size_t n_rules, cap_rules;
    attn_codeowners_invalid *invalid;
    size_t n_invalid, cap_invalid;
    struct bucket *buckets;    /* one per distinct index key */
    size_t n_buckets, cap_buckets;
    attn_imap index;           /* key_hash -> bucket */
    uint32_t *always;          /* rules without an index key, ascending */
    size_t n_always;
};

static uint64_t key_hash(unsigned char kind, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ kind;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

typedef struct {
    const attn_codeowners *co;
    unsigned char kind;
    const char *s;
    size_t n;
} bucket_probe;

static int bucket_eq(const void *ctx, size_t i)
{
    const bucket_probe *p = ctx;
    const struct bucket *b = &p->co->buckets[i];
    return b->kind == p->kind && b->key_len == p->n && !memcmp(b->key, p->s, p->n);
}

static const struct bucket *find_bucket(const attn_codeowners *co, unsigned char kind,
                                        const char *s, size_t n)
{
    bucket_probe p = {co, kind, s, n};
    size_t i = attn_imap_find(&co->index, key_hash(kind, s, n), bucket_eq, &p);
    return i == ATTN_IMAP_NONE ? NULL : &co->buckets[i];
}

static struct bucket *insert_bucket(attn_codeowners *co, unsigned char kind, const char *s,
                                    size_t n)
{
    uint64_t h = key_hash(kind, s, n);
    bucket_probe p = {co, kind, s, n};
    size_t i = attn_imap_find(&co->index, h, bucket_eq, &p);
    if (i == ATTN_IMAP_NONE) {
        ATTN_ALLOC_GROW(co->buckets, co->n_buckets + 1, co->cap_buckets);
        co->buckets[co->n_buckets] = (struct bucket){kind, s, n, NULL, 0};
        attn_imap_add(&co->index, h, i = co->n_buckets++);
    }
    return &co->buckets[i];
}

/* Rule indexes are uint32_t: a file under 3 MB has far fewer than 2^32 lines. */
static void build_index(attn_codeowners *co)
{
    size_t i;
    /* Pass 1 counts, pass 2 fills: each bucket's ids are one arena array. */
    for (i = 0; i < co->n_rules; i++) {
        const struct compiled *c = &co->pats[i];
        if (c->key_kind)
            insert_bucket(co, c->key_kind, c->key, c->key_len)->n++;
        else
            co->n_always++;
    }
    for (i = 0; i < co->n_buckets; i++) {
        co->buckets[i].ids = arena_alloc(&co->arena, co->buckets[i].n * sizeof(uint32_t));
        co->buckets[i].n = 0;
    }
    co->always = arena_alloc(&co->arena, co->n_always * sizeof(uint32_t));
    co->n_always = 0;
    for (i = 0; i < co->n_rules; i++) {
        const struct compiled *c = &co->pats[i];
        if (c->key_kind) {
            struct bucket *b = insert_bucket(co, c->key_kind, c->key, c->key_len);
            b->ids[b->n++] = (uint32_t)i;
        } else {
            co->always[co->n_always++] = (uint32_t)i;
        }
    }
}

/* ---------------------------------------------------------------------------
 * Owners. */

/* GitHub logins are alphanumerics and hyphens; managed users add "_code".
 * Accept [A-Za-z0-9_-], starting with an alphanumeric, up to 100 chars. */
static int valid_login(const char *s, size_t n)
{
    if (n == 0 || n > 100 || !isalnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

static int valid_team_slug(const char *s, size_t n)
{
    if (n == 0 || n > 100 || !isalnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

/* local@domain: the local part from RFC 5322 atext and dots, the domain at
 * least two dot-separated labels of alphanumerics and hyphens. */
static int valid_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    size_t local, i, label = 0, labels = 0;
    if (!at || at == s)
        return 0;
    local = (size_t)(at - s);
    for (i = 0; i < local; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr(".!#$%&'*+/=?^_`{|}~-", s[i]))
            return 0;
    for (i = local + 1; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label == 0)
                return 0;
            labels++;
            label = 0;
        } else if (isalnum((unsigned char)s[i]) || s[i] == '-') {
            label++;
        } else {
            return 0;
        }
    }
    return labels >= 2;
}

/* 0 and *type set when tok is an owner; else 1. */
static int classify_owner(const char *s, size_t n, attn_codeowners_owner_type *type)
{
    if (n > 1 && s[0] == '@') {
        const char *slash = memchr(s + 1, '/', n - 1);
        if (!slash) {
            *type = ATTN_CODEOWNERS_USER;
            return valid_login(s + 1, n - 1) ? 0 : 1;
        }
        *type = ATTN_CODEOWNERS_TEAM;
        return valid_login(s + 1, (size_t)(slash - s - 1)) &&
                       valid_team_slug(slash + 1, (size_t)(s + n - slash - 1))
                   ? 0
                   : 1;
    }
    *type = ATTN_CODEOWNERS_EMAIL;
    return valid_email(s, n) ? 0 : 1;
}

const char *attn_codeowners_owner_type_name(attn_codeowners_owner_type t)
{
    switch (t) {
    case ATTN_CODEOWNERS_USER: return "user";
    case ATTN_CODEOWNERS_TEAM: return "team";
    case ATTN_CODEOWNERS_EMAIL: return "email";
    }
    return "unknown";
}

/* ---------------------------------------------------------------------------
 * Parsing. */

struct scratch {
    attn_codeowners_owner *owners;
    size_t cap;
};

static void add_invalid(attn_codeowners *co, int lineno, const char *line, size_t n,
                        const char *reason)
{
    attn_codeowners_invalid *iv;
    ATTN_ALLOC_GROW(co->invalid, co->n_invalid + 1, co->cap_invalid);
    iv = &co->invalid[co->n_invalid++];
    iv->line = lineno;
    iv->text = arena_strndup(&co->arena, line, n);
    iv->reason = arena_strndup(&co->arena, reason, strlen(reason));
}

/* One line without its '\n' (a trailing '\r' already removed). */
static void parse_line(attn_codeowners *co, struct scratch *sc, int lineno, const char *line,
                       size_t n)
{
    size_t i = 0, pstart, pend, n_owners = 0;
    char reason[256];
    const char *why = NULL;
    struct compiled c;

    while (i < n && is_blank(line[i]))
        i++;
    if (i == n || line[i] == '#')
        return;   /* blank or comment */
    if (memchr(line, '\0', n)) {
        add_invalid(co, lineno, line, n, "line contains a NUL byte");
        return;
    }

    /* The pattern runs to the first unescaped blank. `\#` at its start is how
     * SPEC section 6 spells a leading '#'; GitHub's page lists that escape as
     * unsupported, but the line does not start with '#', so it is no comment
     * either way, and the literal "#..." is the only useful reading. */
    pstart = i;
    while (i < n && !is_blank(line[i]))
        i += (line[i] == '\\' && i + 1 < n) ? 2 : 1;
    pend = i;
    if (compile_pattern(&co->arena, line + pstart, pend - pstart, &c, &why)) {
        add_invalid(co, lineno, line, n, why);
        return;
    }

    /* Owners, until the end or a word starting with '#' (an inline comment). */
    for (;;) {
        size_t ostart, olen, k;
        attn_codeowners_owner_type type;
        int dup = 0;
        while (i < n && is_blank(line[i]))
            i++;
        if (i == n || line[i] == '#')
            break;
        ostart = i;
        while (i < n && !is_blank(line[i]))
            i++;
        olen = i - ostart;
        if (classify_owner(line + ostart, olen, &type)) {
            snprintf(reason, sizeof(reason),
                     "invalid owner '%.*s%s': expected @user, @org/team or an e-mail address",
                     (int)(olen > 100 ? 100 : olen), line + ostart, olen > 100 ? "..." : "");
            add_invalid(co, lineno, line, n, reason);
            return;
        }
        /* GitHub logins and e-mail addresses are case-insensitive: keep the
         * first spelling of each owner so nobody is counted twice. */
        for (k = 0; k < n_owners && !dup; k++)
            dup = strlen(sc->owners[k].name) == olen &&
                  !strncasecmp(sc->owners[k].name, line + ostart, olen);
        if (dup)
            continue;
        ATTN_ALLOC_GROW(sc->owners, n_owners + 1, sc->cap);
        sc->owners[n_owners].type = type;
        sc->owners[n_owners++].name = arena_strndup(&co->arena, line + ostart, olen);
    }

    if (co->n_rules == co->cap_rules) {   /* rules and pats grow together */
        size_t cap = co->cap_rules;
        ATTN_ALLOC_GROW(co->rules, co->n_rules + 1, cap);
        co->pats = attn_xrealloc(co->pats, attn_st_mult(cap, sizeof(*co->pats)));
        co->cap_rules = cap;
    }
    {
        attn_codeowners_rule *rule = &co->rules[co->n_rules];
        attn_codeowners_owner *owners = NULL;
        if (n_owners) {
            owners = arena_alloc(&co->arena, n_owners * sizeof(*owners));
            memcpy(owners, sc->owners, n_owners * sizeof(*owners));
        }
        rule->line = lineno;
        rule->pattern = arena_strndup(&co->arena, line + pstart, pend - pstart);
        rule->n_owners = n_owners;
        rule->owners = owners;
        co->pats[co->n_rules] = c;
        co->n_rules++;
    }
}

int attn_codeowners_parse(const char *text, size_t len, attn_codeowners **out, attn_error *err)
{
    attn_codeowners *co;
    struct scratch sc = {NULL, 0};
    size_t pos = 0;
    int lineno = 0;

    if (out)
        *out = NULL;
    if (!out || (!text && len))
        return attn_error_set(err, ATTN_EINVAL, "attn_codeowners_parse: no text or no result");
    if (len >= ATTN_CODEOWNERS_MAX_BYTES)
        return attn_error_set(err, ATTN_EINVAL,
                              "CODEOWNERS is %zu bytes; GitHub ignores CODEOWNERS files of 3 MB "
                              "(%zu bytes) or more",
                              len, ATTN_CODEOWNERS_MAX_BYTES);
    co = attn_xcalloc(1, sizeof(*co));
    /* Editors on Windows may prepend a byte-order mark; it is not a pattern. */
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        pos = 3;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        parse_line(co, &sc, lineno, line, n);
    }
    free(sc.owners);
    build_index(co);
    *out = co;
    return 0;
}

void attn_codeowners_free(attn_codeowners *co)
{
    if (!co)
        return;
    arena_free(&co->arena);
    free(co->rules);
    free(co->pats);
    free(co->invalid);
    free(co->buckets);
    attn_imap_free(&co->index);
    free(co);
}

/* ---------------------------------------------------------------------------
 * Lookup. */

#define MAX_CURSORS 64

struct cursor {
    const uint32_t *ids;
    size_t n;   /* ids[0..n) not yet taken; the next is ids[n-1] */
};

static void add_cursor(struct cursor *cur, size_t *nc, int *overflow, const struct bucket *b)
{
    if (!b || !b->n)
        return;
    if (*nc == MAX_CURSORS) {
        *overflow = 1;
        return;
    }
    cur[*nc].ids = b->ids;
    cur[*nc].n = b->n;
    (*nc)++;
}

int attn_codeowners_match(const attn_codeowners *co, const char *path,
                          const attn_codeowners_rule **rule)
{
    struct cursor cur[MAX_CURSORS];
    size_t nc = 0, plen, pos = 0;
    int overflow = 0;
    uint32_t last_tested = UINT32_MAX;
    const char *p;

    if (rule)
        *rule = NULL;
    if (!co || !path || !co->n_rules)
        return 0;
    p = normalize(path, &plen);
    if (!plen)
        return 0;

    if (co->n_always) {
        cur[0].ids = co->always;
        cur[0].n = co->n_always;
        nc = 1;
    }
    while (pos <= plen) {
        const char *seg = p + pos;
        const char *slash = memchr(seg, '/', plen - pos);
        size_t sl = slash ? (size_t)(slash - seg) : plen - pos;
        const char *dot = last_char(seg, '.', sl);
        if (pos == 0)
            add_cursor(cur, &nc, &overflow, find_bucket(co, KEY_FIRST, seg, sl));
        add_cursor(cur, &nc, &overflow, find_bucket(co, KEY_SEG, seg, sl));
        if (dot)
            add_cursor(cur, &nc, &overflow,
                       find_bucket(co, KEY_EXT, dot, sl - (size_t)(dot - seg)));
        pos += sl + 1;
    }

    if (overflow) {
        /* A path deeper than the cursor array: scan every rule, last first. */
        for (size_t i = co->n_rules; i-- > 0;) {
            if (els_match(co->pats[i].els, co->pats[i].n, p, plen)) {
                if (rule)
                    *rule = &co->rules[i];
                return 1;
            }
        }
        return 0;
    }

    /* Candidates in descending rule order; the first that matches wins. A
     * bucket found twice (a repeated segment) yields each id twice in a row. */
    for (;;) {
        size_t best = SIZE_MAX;
        uint32_t id;
        for (size_t k = 0; k < nc; k++)
            if (cur[k].n && (best == SIZE_MAX || cur[k].ids[cur[k].n - 1] >
                                                     cur[best].ids[cur[best].n - 1]))
                best = k;
        if (best == SIZE_MAX)
            return 0;
        id = cur[best].ids[--cur[best].n];
        if (id == last_tested)
            continue;
        last_tested = id;
        if (els_match(co->pats[id].els, co->pats[id].n, p, plen)) {
            if (rule)
                *rule = &co->rules[id];
            return 1;
        }
    }
}

size_t attn_codeowners_rule_count(const attn_codeowners *co)
{
    return co ? co->n_rules : 0;
}

const attn_codeowners_rule *attn_codeowners_rule_at(const attn_codeowners *co, size_t i)
{
    return co && i < co->n_rules ? &co->rules[i] : NULL;
}

size_t attn_codeowners_invalid_count(const attn_codeowners *co)
{
    return co ? co->n_invalid : 0;
}

const attn_codeowners_invalid *attn_codeowners_invalid_at(const attn_codeowners *co, size_t i)
{
    return co && i < co->n_invalid ? &co->invalid[i] : NULL;
}

/* ---------------------------------------------------------------------------
 * Single patterns. */

int attn_codeowners_pattern_compile(const char *pattern, attn_codeowners_pattern **out,
                                    attn_error *err)
{
    attn_codeowners_pattern *p;
    const char *why = NULL;
    int rc;

    if (out)
        *out = NULL;
    if (!pattern || !out)
        return attn_error_set(err, ATTN_EINVAL, "attn_codeowners_pattern_compile: no pattern");
    p = attn_xcalloc(1, sizeof(*p));
    rc = compile_pattern(&p->arena, pattern, strlen(pattern), &p->c, &why);
    if (rc) {
        attn_codeowners_pattern_free(p);
        return attn_error_set(err, ATTN_EINVAL, "invalid pattern '%s': %s", pattern, why);
    }
    *out = p;
    return 0;
}

int attn_codeowners_pattern_match(const attn_codeowners_pattern *p, const char *path)
{
    size_t plen;
    const char *s;
    if (!p || !path)
        return 0;
    s = normalize(path, &plen);
    return plen ? els_match(p->c.els, p->c.n, s, plen) : 0;
}

void attn_codeowners_pattern_free(attn_codeowners_pattern *p)
{
    if (!p)
        return;
    arena_free(&p->arena);
    free(p);
}
