/*
 * prompt.c - prompt bundles: load, canonicalize, hash, snapshot, label
 * registry and section diff (prompt.h). Owns the canonical form; must never
 * let whitespace that the canonical form drops change a hash, nor let any
 * other change keep it.
 */
#include "llm/prompt.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void attn_prompt_free(attn_prompt *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->version);
    json_decref(p->sections);
    json_decref(p->source_paths);
    free(p);
}

void attn_prompt_canon_text(const char *s, size_t n, attn_buf *out)
{
    size_t start = out->len, i = 0;
    while (i < n) {
        size_t e = i, end;
        while (e < n && s[e] != '\n' && s[e] != '\r')
            e++;
        end = e;
        while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\f' ||
                           s[end - 1] == '\v'))
            end--;
        attn_buf_put(out, s + i, end - i);
        if (e < n) {
            attn_buf_putc(out, '\n');
            if (s[e] == '\r' && e + 1 < n && s[e + 1] == '\n')
                e++;
            e++;
        }
        i = e;
    }
    while (out->len > start && out->ptr[out->len - 1] == '\n')
        out->len--;
    attn_buf_cstr(out);
    if (out->ptr)
        out->ptr[out->len] = '\0';
}

static int valid_label(const char *v)
{
    int parts = 0;
    const char *s = v;
    if (!v || !*v)
        return 0;
    while (*s) {
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
        parts++;
        if (*s == '.')
            s++;
        else if (*s)
            return 0;
    }
    return parts == 3 && s[-1] != '.';
}

static int valid_name(const char *n)
{
    if (!n || !*n || strlen(n) > 64)
        return 0;
    for (; *n; n++)
        if (!isalnum((unsigned char)*n) && *n != '-' && *n != '_' && *n != '.')
            return 0;
    return 1;
}

static int compute_hash(attn_prompt *p, attn_error *err)
{
    json_t *c = attn_xcheck(json_pack("{s:s, s:O}", "name", p->name, "sections", p->sections));
    int rc = attn_json_hash(c, p->hash, err);
    json_decref(c);
    return rc;
}

static int check_meta(const char *name, const char *version, const json_t *sections,
                      const char *what, attn_error *err)
{
    if (!valid_name(name))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: \"name\" must be 1-64 letters, digits, '-', '_' or '.'", what);
    if (!valid_label(version))
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: \"version\" '%s' must be a label major.minor.patch (e.g. 1.0.0)",
                              what, version ? version : "");
    if (!json_is_object(sections) || !json_object_size(sections))
        return attn_error_set(err, ATTN_EINVAL, "%s: \"sections\" must be a non-empty object",
                              what);
    return 0;
}

static int load_section(attn_prompt *p, const char *dir, const char *sec, const char *file,
                        attn_error *err)
{
    char path[4200];
    attn_buf raw = ATTN_BUF_INIT, canon = ATTN_BUF_INIT;
    size_t fl = strlen(file);
    json_t *v = NULL;
    int rc;
    if (strstr(file, "..") || file[0] == '/')
        return attn_error_set(err, ATTN_EINVAL,
                              "%s/bundle.json: section '%s' file '%s' must be inside the bundle",
                              dir, sec, file);
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((rc = attn_fs_read_file(path, &raw, err)))
        return attn_error_wrap(err, "prompt bundle %s, section '%s'", dir, sec);
    if (fl > 5 && !strcmp(file + fl - 5, ".json")) {
        rc = attn_json_parse(raw.ptr ? raw.ptr : "", raw.len, path, &v, err);
    } else {
        attn_prompt_canon_text(raw.ptr ? raw.ptr : "", raw.len, &canon);
        v = json_stringn(canon.ptr ? canon.ptr : "", canon.len);
        if (!v)
            rc = attn_error_set(err, ATTN_EINVAL, "%s: section '%s' is not valid UTF-8", path, sec);
    }
    if (!rc) {
        json_object_set_new(p->sections, sec, v);
        json_object_set_new(p->source_paths, sec, json_string(path));
    }
    attn_buf_free(&raw);
    attn_buf_free(&canon);
    return rc;
}

static int load_dir(const char *dir, attn_prompt **out, attn_error *err)
{
    char path[4200];
    json_t *b = NULL, *secs, *f;
    const char *sec;
    attn_prompt *p;
    int rc;
    snprintf(path, sizeof(path), "%s/bundle.json", dir);
    if (!attn_fs_exists(path))
        return attn_error_set(err, ATTN_ENOTFOUND,
                              "%s is not a prompt bundle (no bundle.json; see prompts/triage/)",
                              dir);
    if ((rc = attn_json_load_file(path, &b, err)))
        return rc;
    secs = json_object_get(b, "sections");
    if ((rc = check_meta(attn_json_str(b, "name"), attn_json_str(b, "version"), secs, path, err))) {
        json_decref(b);
        return rc;
    }
    p = attn_xcalloc(1, sizeof(*p));
    p->name = attn_xstrdup(attn_json_str(b, "name"));
    p->version = attn_xstrdup(attn_json_str(b, "version"));
    p->sections = attn_xcheck(json_object());
    p->source_paths = attn_xcheck(json_object());
    json_object_set_new(p->source_paths, "bundle", json_string(path));
    json_object_foreach(secs, sec, f) {
        if (!json_is_string(f)) {
            rc = attn_error_set(err, ATTN_EINVAL, "%s: section '%s' must name a file", path, sec);
            break;
        }
        if ((rc = load_section(p, dir, sec, json_string_value(f), err)))
            break;
    }
    if (!rc) {
        const char *kk;
        json_t *vv;
        json_object_foreach(b, kk, vv)
            if (strcmp(kk, "name") && strcmp(kk, "version") && strcmp(kk, "sections")) {
                rc = attn_error_set(err, ATTN_EINVAL,
                                    "%s: unknown key '%s' (known: name, version, sections)",
                                    path, kk);
                break;
            }
    }
    json_decref(b);
    if (!rc)
        rc = compute_hash(p, err);
    if (rc) {
        attn_prompt_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int attn_prompt_from_snapshot(const json_t *snap, const char *what, attn_prompt **out,
                              attn_error *err)
{
    const json_t *secs = json_object_get(snap, "sections");
    const char *want = attn_json_str(snap, "prompt_hash");
    attn_prompt *p;
    int rc;
    if ((rc = check_meta(attn_json_str(snap, "name"), attn_json_str(snap, "version"), secs, what,
                         err)))
        return rc;
    p = attn_xcalloc(1, sizeof(*p));
    p->name = attn_xstrdup(attn_json_str(snap, "name"));
    p->version = attn_xstrdup(attn_json_str(snap, "version"));
    p->sections = attn_xcheck(json_deep_copy(secs));
    p->source_paths = attn_xcheck(json_is_object(json_object_get(snap, "source_paths"))
                                      ? json_deep_copy(json_object_get(snap, "source_paths"))
                                      : json_object());
    if ((rc = compute_hash(p, err)) == 0 && want && strcmp(want, p->hash))
        rc = attn_error_set(err, ATTN_ECORRUPT,
                            "%s: recorded prompt_hash %s does not match its content (%s)", what,
                            want, p->hash);
    if (rc) {
        attn_prompt_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int attn_prompt_load(const char *path, attn_prompt **out, attn_error *err)
{
    size_t n = strlen(path);
    *out = NULL;
    if (n > 5 && !strcmp(path + n - 5, ".json")) {
        json_t *s = NULL;
        int rc = attn_json_load_file(path, &s, err);
        if (!rc)
            rc = attn_prompt_from_snapshot(s, path, out, err);
        json_decref(s);
        return rc;
    }
    return load_dir(path, out, err);
}

json_t *attn_prompt_snapshot(const attn_prompt *p)
{
    return attn_xcheck(json_pack("{s:s, s:s, s:s, s:O, s:O}", "name", p->name, "version",
                                 p->version, "prompt_hash", p->hash, "sections", p->sections,
                                 "source_paths", p->source_paths));
}

int attn_prompt_section_text(const attn_prompt *p, const char *section, attn_buf *out,
                             attn_error *err)
{
    const json_t *v = json_object_get(p->sections, section);
    if (!v)
        return 0;
    if (json_is_string(v))
        return attn_buf_put(out, json_string_value(v), json_string_length(v));
    return attn_json_canonical(v, out, err);
}

/* ---- label registry ---------------------------------------------------------- */

int attn_prompt_register(const char *data_dir, const attn_prompt *p, int check_only,
                         attn_error *err)
{
    char path[4400];
    json_t *old = NULL, *snap;
    attn_buf b = ATTN_BUF_INIT;
    int rc = 0;
    snprintf(path, sizeof(path), "%s/prompts/%s/%s.json", data_dir, p->name, p->version);
    if (attn_fs_exists(path)) {
        if ((rc = attn_json_load_file(path, &old, err)))
            return rc;
        if (attn_json_str(old, "prompt_hash") && strcmp(attn_json_str(old, "prompt_hash"), p->hash))
            rc = attn_error_set(err, ATTN_ECONFLICT,
                                "prompt %s label %s already names content %s; this bundle hashes "
                                "to %s: give it a new version label",
                                p->name, p->version, attn_json_str(old, "prompt_hash"), p->hash);
        json_decref(old);
        return rc;
    }
    if (check_only)
        return 0;
    snap = attn_prompt_snapshot(p);
    /* The registry keeps content, not where it came from. */
    json_object_del(snap, "source_paths");
    /* appending cannot fail for memory (buf.h); only a value JSON cannot hold */
    if (attn_json_dump_pretty(snap, &b))
        rc = attn_error_set(err, ATTN_EINVAL, "prompt %s: the snapshot cannot be written as JSON",
                            p->name);
    else
        rc = attn_fs_write_atomic(path, b.ptr, b.len, err);
    json_decref(snap);
    attn_buf_free(&b);
    return rc;
}

int attn_prompt_resolve(const char *data_dir, const char *ref, attn_prompt **out,
                        attn_error *err)
{
    const char *at = strchr(ref, '@');
    char path[4400];
    if (at && !strchr(ref, '/')) {
        snprintf(path, sizeof(path), "%s/prompts/%.*s/%s.json", data_dir, (int)(at - ref), ref,
                 at + 1);
        if (!attn_fs_exists(path))
            return attn_error_set(err, ATTN_ENOTFOUND,
                                  "prompt %s is not in the label registry (%s); a run or `attn "
                                  "prompt hash --register DIR` records it",
                                  ref, path);
        return attn_prompt_load(path, out, err);
    }
    return attn_prompt_load(ref, out, err);
}

/* ---- diff ------------------------------------------------------------------- */

typedef struct {
    const char **s;
    size_t *len;
    size_t n;
} lines;

static void split_lines(const char *t, lines *l)
{
    size_t cap = 16;
    l->n = 0;
    l->s = attn_xmalloc(cap * sizeof(*l->s));
    l->len = attn_xmalloc(cap * sizeof(*l->len));
    while (t && *t) {
        const char *e = strchr(t, '\n');
        if (l->n == cap) {
            cap = attn_st_mult(cap, 2);
            l->s = attn_xrealloc(l->s, attn_st_mult(cap, sizeof(*l->s)));
            l->len = attn_xrealloc(l->len, attn_st_mult(cap, sizeof(*l->len)));
        }
        l->s[l->n] = t;
        l->len[l->n++] = e ? (size_t)(e - t) : strlen(t);
        t = e ? e + 1 : NULL;
    }
}

static int line_eq(const lines *a, size_t i, const lines *b, size_t j)
{
    return a->len[i] == b->len[j] && !memcmp(a->s[i], b->s[j], a->len[i]);
}

static void add_line(json_t *out, char tag, const char *s, size_t n)
{
    attn_buf b = ATTN_BUF_INIT;
    attn_buf_putc(&b, tag);
    attn_buf_put(&b, s, n);
    json_array_append_new(out, json_stringn(attn_buf_cstr(&b), b.len));
    attn_buf_free(&b);
}

/* Longest-common-subsequence line diff; prompts are small (bounded below). */
static json_t *line_diff(const char *ta, const char *tb)
{
    lines a, b;
    json_t *out = json_array();
    size_t *t = NULL;
    split_lines(ta, &a);
    split_lines(tb, &b);
    if (a.s && b.s && a.len && b.len && a.n < 4000 && b.n < 4000)
        t = attn_xcalloc((a.n + 1) * (b.n + 1), sizeof(*t));
    if (t) {
        size_t i, j, W = b.n + 1;
        for (i = a.n; i-- > 0;)
            for (j = b.n; j-- > 0;)
                t[i * W + j] = line_eq(&a, i, &b, j)
                                   ? t[(i + 1) * W + j + 1] + 1
                                   : (t[(i + 1) * W + j] > t[i * W + j + 1] ? t[(i + 1) * W + j]
                                                                            : t[i * W + j + 1]);
        i = j = 0;
        while (i < a.n || j < b.n) {
            if (i < a.n && j < b.n && line_eq(&a, i, &b, j)) {
                add_line(out, ' ', a.s[i], a.len[i]);
                i++, j++;
            } else if (i < a.n && (j == b.n || t[(i + 1) * W + j] >= t[i * W + j + 1])) {
                add_line(out, '-', a.s[i], a.len[i]);
                i++;
            } else {
                add_line(out, '+', b.s[j], b.len[j]);
                j++;
            }
        }
    } else {
        for (size_t i = 0; a.s && a.len && i < a.n; i++)
            add_line(out, '-', a.s[i], a.len[i]);
        for (size_t j = 0; b.s && b.len && j < b.n; j++)
            add_line(out, '+', b.s[j], b.len[j]);
    }
    free(t);
    free(a.s);
    free(a.len);
    free(b.s);
    free(b.len);
    return out;
}

static char *section_str(const json_t *v)
{
    attn_buf b = ATTN_BUF_INIT;
    if (json_is_string(v))
        return attn_xstrdup(json_string_value(v));
    /* JSON sections diff in their pretty form, line by line. */
    if (attn_json_dump_pretty(v, &b) < 0)
        return attn_xstrdup("");
    while (b.len && b.ptr[b.len - 1] == '\n')
        b.ptr[--b.len] = '\0';
    return attn_buf_detach(&b);
}

static json_t *side(const json_t *snap)
{
    return json_pack("{s:s?, s:s?, s:s?}", "name", attn_json_str(snap, "name"), "version",
                     attn_json_str(snap, "version"), "prompt_hash",
                     attn_json_str(snap, "prompt_hash"));
}

json_t *attn_prompt_diff_snapshots(const json_t *a, const json_t *b)
{
    json_t *sa = json_object_get(a, "sections"), *sb = json_object_get(b, "sections");
    json_t *secs = json_object(), *changed = json_array(), *keys = json_array(), *v;
    const char *k;
    size_t i;
    json_object_foreach(sa, k, v) json_array_append_new(keys, json_string(k));
    json_object_foreach(sb, k, v) if (!json_object_get(sa, k))
        json_array_append_new(keys, json_string(k));
    /* Sections in name order, so the diff is deterministic. */
    for (size_t x = 1; x < json_array_size(keys); x++)
        for (size_t y = x; y > 0 && strcmp(json_string_value(json_array_get(keys, y - 1)),
                                           json_string_value(json_array_get(keys, y))) > 0;
             y--) {
            json_t *t = json_incref(json_array_get(keys, y));
            json_array_set(keys, y, json_array_get(keys, y - 1));
            json_array_set_new(keys, y - 1, t);
        }
    json_array_foreach(keys, i, v) {
        const char *s = json_string_value(v);
        json_t *x = json_object_get(sa, s), *y = json_object_get(sb, s);
        char *ta, *tb;
        if (x && y && json_equal(x, y))
            continue;
        ta = x ? section_str(x) : attn_xstrdup("");
        tb = y ? section_str(y) : attn_xstrdup("");
        json_object_set_new(secs, s,
                            json_pack("{s:s, s:o}", "status",
                                      !x ? "added" : !y ? "removed" : "changed", "lines",
                                      line_diff(ta, tb)));
        json_array_append_new(changed, json_string(s));
        free(ta);
        free(tb);
    }
    json_decref(keys);
    return json_pack("{s:b, s:o, s:o, s:o, s:o}", "same",
                     !json_array_size(changed) &&
                         !strcmp(attn_json_str(a, "name") ? attn_json_str(a, "name") : "",
                                 attn_json_str(b, "name") ? attn_json_str(b, "name") : ""),
                     "a", side(a), "b", side(b), "changed_sections", changed, "sections", secs);
}

json_t *attn_prompt_diff(const attn_prompt *a, const attn_prompt *b)
{
    json_t *sa = attn_prompt_snapshot(a), *sb = attn_prompt_snapshot(b);
    json_t *d = sa && sb ? attn_prompt_diff_snapshots(sa, sb) : NULL;
    json_decref(sa);
    json_decref(sb);
    return d;
}
