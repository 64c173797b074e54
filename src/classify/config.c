/*
 * config.c - parse and validate a classification config, compose fragments
 * into anchored PCRE2 patterns (JIT-compiled), and match ids against them.
 *
 * Every message is one line naming the pattern, fragment or step at fault.
 * Never accepts a config partly: a config either loads whole or not at all.
 * Pattern order is the order of the "patterns" array, nothing else.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "classify/classify.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name, *run_type, *source;
    pcre2_code *re;
    int jit;                    /* JIT-compiled: matched with pcre2_jit_match */
    uint32_t n_groups;          /* named groups */
    char **group_names;
    uint32_t *group_nums;
} pattern;

struct attn_classify_cfg {
    char *name;
    pattern *pats;
    size_t n_pats;
    json_t *root;               /* owns legacy/steps/catalogue/drop lists */
    const char *legacy_type, *fallback;
    const json_t *contains, *not_contains, *drops, *steps, *catalogue;
};

struct attn_classify_matcher {
    const attn_classify_cfg *cfg;
    pcre2_match_data *md;
};

#define MAX_DEPTH 32
#define MAX_REGEX 65536 /* composed regex bytes: fragments can fan out exponentially */

static int check_keys(const json_t *o, const char *const *allowed, const char *where,
                      attn_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            ok |= !strcmp(k, allowed[i]);
        if (!ok)
            return attn_error_set(err, ATTN_EINVAL, "%s: unknown key '%s'", where, k);
    }
    return 0;
}

static int is_string_array(const json_t *a)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        return 0;
    json_array_foreach(a, i, v) if (!json_is_string(v)) return 0;
    return 1;
}

static void append_escaped(attn_buf *b, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\^$.|?*+()[]{}", *s))
            attn_buf_putc(b, '\\');
        attn_buf_putc(b, *s);
    }
}

/* Append the regex of one component to b. `where` names the pattern. */
static int compose(const json_t *frags, const char *comp, int depth, const char *where,
                   attn_buf *b, attn_error *err)
{
    if (!strncmp(comp, "literal:", 8)) {
        append_escaped(b, comp + 8);
        return 0;
    }
    if (!strncmp(comp, "regex:", 6))
        return attn_buf_puts(b, comp + 6);
    if (b->len > MAX_REGEX)
        return attn_error_set(err, ATTN_EINVAL, "%s: composed regex is longer than %d bytes",
                              where, MAX_REGEX);
    if (depth > MAX_DEPTH)
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: fragment '%s' nests more than %d deep (a cycle?)", where, comp,
                              MAX_DEPTH);
    const json_t *f = frags ? json_object_get(frags, comp) : NULL;
    if (!f)
        return attn_error_set(err, ATTN_EINVAL,
                              "%s: unknown fragment '%s' (define it under \"fragments\", or "
                              "write literal:TEXT or regex:SRC)", where, comp);
    if (json_is_string(f))
        return attn_buf_puts(b, json_string_value(f));
    size_t i;
    json_t *v;
    json_array_foreach(f, i, v) {
        int rc = compose(frags, json_string_value(v), depth + 1, where, b, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int check_fragments(const json_t *frags, attn_error *err)
{
    const char *k;
    json_t *v;
    if (!frags)
        return 0;
    if (!json_is_object(frags))
        return attn_error_set(err, ATTN_EINVAL, "\"fragments\" must be an object of NAME: regex or [components]");
    json_object_foreach((json_t *)frags, k, v) {
        if (!json_is_string(v) && !is_string_array(v))
            return attn_error_set(err, ATTN_EINVAL,
                                  "fragment '%s': must be a regex string or an array of component strings", k);
        if (!strncmp(k, "literal:", 8) || !strncmp(k, "regex:", 6) || !*k)
            return attn_error_set(err, ATTN_EINVAL, "fragment '%s': reserved name", k);
    }
    /* Expand each once so cycles and unknown names are found even in unused fragments. */
    json_object_foreach((json_t *)frags, k, v) {
        attn_buf b = ATTN_BUF_INIT;
        char where[300];
        snprintf(where, sizeof where, "fragment '%.200s'", k);
        int rc = compose(frags, k, 0, where, &b, err);
        attn_buf_free(&b);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int collect_groups(pattern *p, attn_error *err)
{
    uint32_t count = 0, entry = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(p->re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(p->re, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(p->re, PCRE2_INFO_NAMETABLE, &table);
    p->group_names = attn_xcalloc(count + 1, sizeof(char *));
    p->group_nums = attn_xcalloc(count + 1, sizeof(uint32_t));
    /* The name table is sorted by name; keep group-number order, the order
     * the fields appear in the id. */
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = table + (size_t)i * entry;
        uint32_t num = ((uint32_t)e[0] << 8) | e[1], at = p->n_groups;
        while (at > 0 && p->group_nums[at - 1] > num) {
            p->group_nums[at] = p->group_nums[at - 1];
            p->group_names[at] = p->group_names[at - 1];
            at--;
        }
        p->group_nums[at] = num;
        p->group_names[at] = attn_xstrdup((const char *)e + 2);
        p->n_groups++;
    }
    return 0;
}

static int compile_pattern(pattern *p, attn_error *err)
{
    int ec;
    PCRE2_SIZE off;
    p->re = pcre2_compile((PCRE2_SPTR)p->source, PCRE2_ZERO_TERMINATED,
                          PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &off, NULL);
    if (!p->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return attn_error_set(err, ATTN_EINVAL,
                              "pattern '%s': bad regex at offset %zu: %s (composed regex: %.300s)",
                              p->name, (size_t)off, (const char *)msg, p->source);
    }
    p->jit = pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0; /* else the interpreter */
    return collect_groups(p, err);
}

static int parse_pattern(const json_t *frags, const json_t *o, size_t i, pattern *p,
                         attn_error *err)
{
    static const char *const keys[] = {"name", "run_type", "components", "description", NULL};
    char where[300];
    snprintf(where, sizeof where, "pattern %zu", i + 1);
    if (!json_is_object(o))
        return attn_error_set(err, ATTN_EINVAL, "%s: must be an object {name, run_type, components}", where);
    const json_t *name = json_object_get(o, "name"), *type = json_object_get(o, "run_type"),
                 *comps = json_object_get(o, "components");
    if (!json_is_string(name) || !*json_string_value(name))
        return attn_error_set(err, ATTN_EINVAL, "%s: \"name\" must be a non-empty string", where);
    snprintf(where, sizeof where, "pattern '%.200s'", json_string_value(name));
    int rc = check_keys(o, keys, where, err);
    if (rc < 0)
        return rc;
    if (!json_is_string(type) || !*json_string_value(type))
        return attn_error_set(err, ATTN_EINVAL, "%s: \"run_type\" must be a non-empty string", where);
    if (!is_string_array(comps) || json_array_size(comps) == 0)
        return attn_error_set(err, ATTN_EINVAL, "%s: \"components\" must be a non-empty array of strings", where);
    attn_buf b = ATTN_BUF_INIT;
    size_t j;
    json_t *v;
    json_array_foreach(comps, j, v) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "ANCHOR_START") || !strcmp(s, "ANCHOR_END"))
            continue; /* the reference's anchors; every pattern is anchored anyway */
        if ((rc = compose(frags, s, 0, where, &b, err)) < 0) {
            attn_buf_free(&b);
            return rc;
        }
    }
    p->name = attn_xstrdup(json_string_value(name));
    p->run_type = attn_xstrdup(json_string_value(type));
    p->source = attn_buf_detach(&b);
    return compile_pattern(p, err);
}

static int parse_legacy(attn_classify_cfg *c, attn_error *err)
{
    static const char *const keys[] = {"run_type", "contains", "not_contains", NULL};
    const json_t *l = json_object_get(c->root, "legacy");
    if (!l)
        return 0;
    if (!json_is_object(l))
        return attn_error_set(err, ATTN_EINVAL, "\"legacy\" must be an object {run_type, contains, not_contains}");
    int rc = check_keys(l, keys, "legacy", err);
    if (rc < 0)
        return rc;
    const json_t *t = json_object_get(l, "run_type");
    c->contains = json_object_get(l, "contains");
    c->not_contains = json_object_get(l, "not_contains");
    if (!json_is_string(t) || !*json_string_value(t))
        return attn_error_set(err, ATTN_EINVAL, "legacy: \"run_type\" must be a non-empty string");
    if (!is_string_array(c->contains) || json_array_size(c->contains) == 0)
        return attn_error_set(err, ATTN_EINVAL, "legacy: \"contains\" must be a non-empty array of strings");
    if (c->not_contains && !is_string_array(c->not_contains))
        return attn_error_set(err, ATTN_EINVAL, "legacy: \"not_contains\" must be an array of strings");
    c->legacy_type = json_string_value(t);
    return 0;
}

static int parse_catalogue(attn_classify_cfg *c, attn_error *err)
{
    static const char *const keys[] = {"tasks", "metrics", NULL};
    c->catalogue = json_object_get(c->root, "catalogue");
    if (!c->catalogue)
        return 0;
    if (!json_is_object(c->catalogue))
        return attn_error_set(err, ATTN_EINVAL, "\"catalogue\" must be an object {tasks, metrics}");
    int rc = check_keys(c->catalogue, keys, "catalogue", err);
    if (rc < 0)
        return rc;
    if (!is_string_array(json_object_get(c->catalogue, "tasks")) ||
        !is_string_array(json_object_get(c->catalogue, "metrics")))
        return attn_error_set(err, ATTN_EINVAL, "catalogue: \"tasks\" and \"metrics\" must be arrays of strings");
    return 0;
}

static int parse_patterns(attn_classify_cfg *c, attn_error *err)
{
    const json_t *frags = json_object_get(c->root, "fragments"),
                 *pats = json_object_get(c->root, "patterns");
    int rc = check_fragments(frags, err);
    if (rc < 0)
        return rc;
    if (!json_is_array(pats))
        return attn_error_set(err, ATTN_EINVAL, "\"patterns\" must be an array (it may be empty)");
    if (json_array_size(pats) > ATTN_CLASSIFY_MAX_PATTERNS)
        return attn_error_set(err, ATTN_EINVAL, "%zu patterns; at most %d are supported",
                              json_array_size(pats), ATTN_CLASSIFY_MAX_PATTERNS);
    c->pats = attn_xcalloc(json_array_size(pats) + 1, sizeof(pattern));
    for (size_t i = 0; i < json_array_size(pats); i++) {
        if ((rc = parse_pattern(frags, json_array_get(pats, i), i, &c->pats[i], err)) < 0) {
            c->n_pats = i + 1;
            return rc;
        }
        c->n_pats = i + 1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->pats[j].name, c->pats[i].name))
                return attn_error_set(err, ATTN_EINVAL,
                                      "duplicate pattern name '%s' (patterns %zu and %zu)",
                                      c->pats[i].name, j + 1, i + 1);
    }
    return 0;
}

static int parse_steps(attn_classify_cfg *c, attn_error *err)
{
    c->steps = json_object_get(c->root, "steps");
    if (!c->steps)
        return 0;
    if (!json_is_array(c->steps))
        return attn_error_set(err, ATTN_EINVAL, "\"steps\" must be an array of step objects");
    for (size_t i = 0; i < json_array_size(c->steps); i++) {
        int rc = attn_classify_step_check(json_array_get(c->steps, i), i, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int parse_root(attn_classify_cfg *c, attn_error *err)
{
    static const char *const keys[] = {"name", "description", "fragments", "patterns", "legacy",
                                       "fallback", "drop_run_types", "catalogue", "steps", NULL};
    if (!json_is_object(c->root))
        return attn_error_set(err, ATTN_EINVAL, "the config must be a JSON object");
    int rc = check_keys(c->root, keys, "config", err);
    if (rc < 0)
        return rc;
    const json_t *name = json_object_get(c->root, "name"), *fb = json_object_get(c->root, "fallback");
    if (name && !json_is_string(name))
        return attn_error_set(err, ATTN_EINVAL, "\"name\" must be a string");
    if (fb && (!json_is_string(fb) || !*json_string_value(fb)))
        return attn_error_set(err, ATTN_EINVAL, "\"fallback\" must be a non-empty string");
    c->fallback = fb ? json_string_value(fb) : "other";
    c->drops = json_object_get(c->root, "drop_run_types");
    if (c->drops && !is_string_array(c->drops))
        return attn_error_set(err, ATTN_EINVAL, "\"drop_run_types\" must be an array of strings");
    c->name = attn_xstrdup(name ? json_string_value(name) : "");
    if ((rc = parse_patterns(c, err)) < 0 || (rc = parse_legacy(c, err)) < 0 ||
        (rc = parse_catalogue(c, err)) < 0 || (rc = parse_steps(c, err)) < 0)
        return rc;
    for (size_t i = 0; i < json_array_size(c->steps); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(c->steps, i), "step")),
                    "canonicalize_metric") && !c->catalogue)
            return attn_error_set(err, ATTN_EINVAL,
                                  "step %zu: canonicalize_metric needs a \"catalogue\"", i + 1);
    return 0;
}

int attn_classify_cfg_parse(const char *text, size_t len, const char *what,
                            attn_classify_cfg **out, attn_error *err)
{
    json_error_t je;
    attn_classify_cfg *c = attn_xcalloc(1, sizeof *c);
    *out = NULL;
    c->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!c->root) {
        free(c);
        return attn_error_set(err, ATTN_EINVAL, "%s: line %d column %d: %s", what, je.line,
                              je.column, je.text);
    }
    int rc = parse_root(c, err);
    if (rc < 0) {
        attn_error_wrap(err, "%s", what);
        attn_classify_cfg_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int attn_classify_cfg_load(const char *name_or_file, attn_classify_cfg **out, attn_error *err)
{
    const char *b = attn_classify_builtin(name_or_file);
    if (b)
        return attn_classify_cfg_parse(b, strlen(b), name_or_file, out, err);
    if (!strchr(name_or_file, '/') && !strchr(name_or_file, '.') && !attn_fs_exists(name_or_file))
        return attn_error_set(err, ATTN_EINVAL,
                              "unknown built-in patterns '%s' (built-in: datadecide; or give a "
                              "JSON file path)", name_or_file);
    attn_buf t = ATTN_BUF_INIT;
    int rc = attn_fs_read_file(name_or_file, &t, err);
    if (rc < 0) {
        attn_buf_free(&t);
        return attn_error_set(err, ATTN_EINVAL, "cannot read patterns file '%s'", name_or_file);
    }
    rc = attn_classify_cfg_parse(attn_buf_cstr(&t), t.len, name_or_file, out, err);
    attn_buf_free(&t);
    return rc;
}

void attn_classify_cfg_free(attn_classify_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_pats; i++) {
        pattern *p = &c->pats[i];
        free(p->name);
        free(p->run_type);
        free(p->source);
        pcre2_code_free(p->re);
        for (uint32_t g = 0; p->group_names && g < p->n_groups; g++)
            free(p->group_names[g]);
        free(p->group_names);
        free(p->group_nums);
    }
    free(c->pats);
    free(c->name);
    json_decref(c->root);
    free(c);
}

size_t attn_classify_cfg_npatterns(const attn_classify_cfg *c) { return c->n_pats; }
const char *attn_classify_cfg_pattern_name(const attn_classify_cfg *c, size_t i) { return c->pats[i].name; }
const char *attn_classify_cfg_pattern_type(const attn_classify_cfg *c, size_t i) { return c->pats[i].run_type; }
const char *attn_classify_cfg_pattern_source(const attn_classify_cfg *c, size_t i) { return c->pats[i].source; }
const char *attn_classify_cfg_name(const attn_classify_cfg *c) { return c->name; }
const json_t *attn_classify_cfg_steps(const attn_classify_cfg *c) { return c->steps; }
const json_t *attn_classify_cfg_catalogue(const attn_classify_cfg *c) { return c->catalogue; }

int attn_classify_cfg_drops(const attn_classify_cfg *c, const char *run_type)
{
    size_t i;
    json_t *v;
    json_array_foreach(c->drops, i, v) if (!strcmp(json_string_value(v), run_type)) return 1;
    return 0;
}

/* ---- matching ------------------------------------------------------------- */

int attn_classify_matcher_new(const attn_classify_cfg *c, attn_classify_matcher **out,
                              attn_error *err)
{
    attn_classify_matcher *m = attn_xcalloc(1, sizeof *m);
    uint32_t max = 1;
    for (size_t i = 0; i < c->n_pats; i++) {
        uint32_t n = 0;
        pcre2_pattern_info(c->pats[i].re, PCRE2_INFO_CAPTURECOUNT, &n);
        if (n + 1 > max)
            max = n + 1;
    }
    m->md = attn_xcheck(pcre2_match_data_create(max, NULL));
    m->cfg = c;
    *out = m;
    return 0;
}

void attn_classify_matcher_free(attn_classify_matcher *m)
{
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    free(m);
}

static int contains(const char *id, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i + n <= len; i++)
        if (!memcmp(id + i, needle, n))
            return 1;
    return 0;
}

static int legacy_applies(const attn_classify_cfg *c, const char *id, size_t len)
{
    size_t i;
    json_t *v;
    if (!c->legacy_type)
        return 0;
    json_array_foreach(c->contains, i, v) if (!contains(id, len, json_string_value(v))) return 0;
    json_array_foreach(c->not_contains, i, v) if (contains(id, len, json_string_value(v))) return 0;
    return 1;
}

void attn_classify_id(attn_classify_matcher *m, const char *id, size_t len,
                      attn_classify_result *r)
{
    const attn_classify_cfg *c = m->cfg;
    r->winner = -1;
    r->n_matches = 0;
    r->failed = 0;
    for (size_t i = 0; i < c->n_pats; i++) {
        const pattern *p = &c->pats[i];
        int rc = p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)id, len, 0, 0, m->md, NULL)
                        : pcre2_match(p->re, (PCRE2_SPTR)id, len, 0, 0, m->md, NULL);
        if (rc >= 0)
            r->matches[r->n_matches++] = (uint16_t)i;
        else if (rc != PCRE2_ERROR_NOMATCH)
            r->failed++;
    }
    if (r->n_matches) {
        r->winner = r->matches[0];
        r->run_type = c->pats[r->winner].run_type;
    } else {
        r->run_type = legacy_applies(c, id, len) ? c->legacy_type : c->fallback;
    }
}

json_t *attn_classify_fields(attn_classify_matcher *m, const char *id, size_t len,
                             const attn_classify_result *r)
{
    json_t *o = json_object();
    if (!o || r->winner < 0)
        return o;
    const pattern *p = &m->cfg->pats[r->winner];
    if (pcre2_match(p->re, (PCRE2_SPTR)id, len, 0, 0, m->md, NULL) < 0)
        return o;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    for (uint32_t g = 0; g < p->n_groups; g++) {
        uint32_t n = p->group_nums[g];
        if (ov[2 * n] == PCRE2_UNSET)
            continue;
        json_object_set_new(o, p->group_names[g],
                            json_stringn(id + ov[2 * n], ov[2 * n + 1] - ov[2 * n]));
    }
    return o;
}

json_t *attn_classify_record(attn_classify_matcher *m, const char *id, size_t len)
{
    attn_classify_result r;
    attn_classify_id(m, id, len, &r);
    json_t *matches = json_array();
    for (size_t i = 0; matches && i < r.n_matches; i++)
        json_array_append_new(matches, json_string(m->cfg->pats[r.matches[i]].name));
    json_t *rec = json_pack("{s:s%, s:s, s:o, s:o, s:o}", "run_id", id, len, "run_type", r.run_type,
                     "pattern", r.winner >= 0 ? json_string(m->cfg->pats[r.winner].name) : json_null(),
                     "fields", attn_classify_fields(m, id, len, &r), "matches", matches);
    if (rec && r.failed) /* only then: a pattern hit a PCRE2 limit and counted as no match */
        json_object_set_new(rec, "failed_patterns", json_integer(r.failed));
    return rec;
}

/* Built-in configs: text generated from patterns/<name>.json by the Makefile. */
extern const char attn_classify_builtin_datadecide[];

const char *attn_classify_builtin(const char *name)
{
    return !strcmp(name, "datadecide") ? attn_classify_builtin_datadecide : NULL;
}
