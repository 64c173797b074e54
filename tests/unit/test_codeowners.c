/*
 * test_codeowners.c - ownership/codeowners: the data-driven cases in
 * tests/data/codeowners/cases.txt, then the parser's failure paths, owner
 * types, the single-pattern API, deep paths (the index fallback), and an
 * index-versus-linear cross-check on generated rules; and ownership/area
 * (default areas, override files in both shapes, first match wins).
 *
 * cases.txt format (see its header): "## codeowners [crlf]" starts a file,
 * "## expect" ends it; then "PATH => @a @b (line N)", "PATH => unowned
 * (line N)", "PATH => none", "invalid N: REASON-SUBSTRING", "rules N". Every
 * block must list all of its invalid lines. Failures name the cases.txt line.
 */
#include "testutil.h"

#include <unistd.h>

#include "ownership/area.h"
#include "ownership/codeowners.h"
#include "util/buf.h"
#include "util/error.h"

/* Read the whole cases file into memory as lines. */
struct lines {
    char **v;
    size_t n;
};

static struct lines read_lines(const char *path)
{
    struct lines L = {NULL, 0};
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    while ((got = getline(&line, &lcap, f)) >= 0) {
        if (got > 0 && line[got - 1] == '\n')
            line[--got] = '\0';
        if (L.n == cap) {
            cap = cap ? cap * 2 : 256;
            L.v = realloc(L.v, cap * sizeof(*L.v));
            assert_non_null(L.v);
        }
        L.v[L.n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return L;
}

static void free_lines(struct lines *L)
{
    for (size_t i = 0; i < L->n; i++)
        free(L->v[i]);
    free(L->v);
}

/* Describe a match result the way cases.txt writes it. */
static void describe(const attn_codeowners_rule *r, attn_buf *out)
{
    attn_buf_clear(out);
    if (!r) {
        attn_buf_puts(out, "none");
        return;
    }
    if (!r->n_owners)
        attn_buf_puts(out, "unowned");
    for (size_t i = 0; i < r->n_owners; i++)
        attn_buf_printf(out, "%s%s", i ? " " : "", r->owners[i].name);
    attn_buf_printf(out, " (line %d)", r->line);
}

static int run_cases = 0;

/* Check one block: file text in `text`, expectations in lines [from, to). */
static void check_block(const struct lines *L, size_t header, attn_buf *text, size_t from,
                        size_t to)
{
    attn_codeowners *co = NULL;
    attn_error err;
    attn_buf got = ATTN_BUF_INIT;
    size_t want_invalid = 0;
    int rc;

    attn_error_clear(&err);
    rc = attn_codeowners_parse(text->ptr ? text->ptr : "", text->len, &co, &err);
    if (rc)
        fail_msg("cases.txt:%zu: parse failed: %s", header + 1, err.msg);
    for (size_t i = from; i < to; i++) {
        const char *ln = L->v[i];
        const char *arrow;
        if (!ln[0] || ln[0] == '#')
            continue;
        run_cases++;
        if (!strncmp(ln, "invalid ", 8)) {
            char *colon;
            long want_line = strtol(ln + 8, &colon, 10);
            int found = 0;
            if (*colon != ':')
                fail_msg("cases.txt:%zu: malformed invalid line", i + 1);
            while (*++colon == ' ')
                ;
            for (size_t k = 0; k < attn_codeowners_invalid_count(co); k++) {
                const attn_codeowners_invalid *iv = attn_codeowners_invalid_at(co, k);
                if (iv->line == want_line) {
                    found = 1;
                    if (!strstr(iv->reason, colon))
                        fail_msg("cases.txt:%zu: invalid line %ld: reason '%s' lacks '%s'", i + 1,
                                 want_line, iv->reason, colon);
                }
            }
            if (!found)
                fail_msg("cases.txt:%zu: line %ld was not reported invalid", i + 1, want_line);
            want_invalid++;
            continue;
        }
        if (!strncmp(ln, "rules ", 6)) {
            size_t want = (size_t)strtoul(ln + 6, NULL, 10);
            if (attn_codeowners_rule_count(co) != want)
                fail_msg("cases.txt:%zu: want %zu rules, got %zu", i + 1, want,
                         attn_codeowners_rule_count(co));
            continue;
        }
        arrow = strstr(ln, " => ");
        if (!arrow)
            fail_msg("cases.txt:%zu: no ' => ' in expectation", i + 1);
        {
            char *path = strndup(ln, (size_t)(arrow - ln));
            const attn_codeowners_rule *r = (const void *)1;
            int m = attn_codeowners_match(co, path, &r);
            describe(r, &got);
            if ((m != 0) != (r != NULL))
                fail_msg("cases.txt:%zu: return %d disagrees with rule %p", i + 1, m,
                         (const void *)r);
            if (strcmp(attn_buf_cstr(&got), arrow + 4))
                fail_msg("cases.txt:%zu: '%s': want '%s', got '%s'", i + 1, path, arrow + 4,
                         attn_buf_cstr(&got));
            free(path);
        }
    }
    if (attn_codeowners_invalid_count(co) != want_invalid) {
        const attn_codeowners_invalid *iv = attn_codeowners_invalid_at(co, 0);
        fail_msg("cases.txt:%zu: block has %zu invalid lines, cases list %zu (first: line %d: %s)",
                 header + 1, attn_codeowners_invalid_count(co), want_invalid, iv ? iv->line : 0,
                 iv ? iv->reason : "-");
    }
    attn_buf_free(&got);
    attn_codeowners_free(co);
}

static void test_cases_file(void **state)
{
    char path[1024];
    struct lines L;
    size_t i = 0, blocks = 0;
    (void)state;
    test_data_path("codeowners/cases.txt", path, sizeof(path));
    L = read_lines(path);
    while (i < L.n) {
        attn_buf text = ATTN_BUF_INIT;
        size_t header, from;
        int crlf;
        if (strncmp(L.v[i], "## codeowners", 13)) {
            i++;
            continue;
        }
        header = i;
        crlf = strstr(L.v[i], " crlf") != NULL;
        for (i++; i < L.n && strcmp(L.v[i], "## expect"); i++) {
            attn_buf_puts(&text, L.v[i]);
            attn_buf_puts(&text, crlf ? "\r\n" : "\n");
        }
        if (i == L.n)
            fail_msg("cases.txt:%zu: block has no '## expect'", header + 1);
        from = ++i;
        while (i < L.n && strncmp(L.v[i], "## codeowners", 13))
            i++;
        check_block(&L, header, &text, from, i);
        attn_buf_free(&text);
        blocks++;
    }
    free_lines(&L);
    print_message("# %d data-driven cases in %zu blocks\n", run_cases, blocks);
    assert_true(run_cases >= 200);
}

/* ---- failure paths and API details ---- */

static attn_codeowners *parse_ok(const char *text)
{
    attn_codeowners *co = NULL;
    attn_error err;
    attn_error_clear(&err);
    if (attn_codeowners_parse(text, strlen(text), &co, &err))
        fail_msg("parse: %s", err.msg);
    return co;
}

static void test_parse_failures(void **state)
{
    attn_codeowners *co = (void *)1;
    attn_error err;
    char *big;
    (void)state;

    attn_error_clear(&err);
    assert_int_equal(attn_codeowners_parse(NULL, 5, &co, &err), ATTN_EINVAL);
    assert_null(co);
    assert_int_equal(attn_codeowners_parse("x", 1, NULL, &err), ATTN_EINVAL);

    /* GitHub ignores files that are not under 3 MB: exactly 3 MB fails, one
     * byte less parses. */
    big = malloc(ATTN_CODEOWNERS_MAX_BYTES);
    assert_non_null(big);
    memset(big, '\n', ATTN_CODEOWNERS_MAX_BYTES);
    memcpy(big, "* @a\n", 5);
    attn_error_clear(&err);
    assert_int_equal(attn_codeowners_parse(big, ATTN_CODEOWNERS_MAX_BYTES, &co, &err),
                     ATTN_EINVAL);
    assert_null(co);
    assert_non_null(strstr(err.msg, "3 MB"));
    assert_int_equal(attn_codeowners_parse(big, ATTN_CODEOWNERS_MAX_BYTES - 1, &co, &err), 0);
    assert_int_equal(attn_codeowners_rule_count(co), 1);
    attn_codeowners_free(co);
    free(big);

    /* An empty text and a NULL text of length 0 are fine: no rules. */
    assert_int_equal(attn_codeowners_parse(NULL, 0, &co, &err), 0);
    assert_int_equal(attn_codeowners_rule_count(co), 0);
    assert_int_equal(attn_codeowners_match(co, "a", NULL), 0);
    attn_codeowners_free(co);
    attn_codeowners_free(NULL);
}

static void test_nul_and_bom(void **state)
{
    static const char text[] = "\xEF\xBB\xBF* @a\nx\0y @b\n/z @c";
    attn_codeowners *co = NULL;
    const attn_codeowners_rule *r;
    attn_error err;
    (void)state;
    assert_int_equal(attn_codeowners_parse(text, sizeof(text) - 1, &co, &err), 0);
    assert_int_equal(attn_codeowners_rule_count(co), 2);
    assert_int_equal(attn_codeowners_invalid_count(co), 1);
    assert_int_equal(attn_codeowners_invalid_at(co, 0)->line, 2);
    assert_non_null(strstr(attn_codeowners_invalid_at(co, 0)->reason, "NUL"));
    /* the BOM is not part of the first pattern: '*' still matches */
    assert_int_equal(attn_codeowners_match(co, "q", &r), 1);
    assert_int_equal(r->line, 1);
    /* the last line has no newline and still counts */
    assert_int_equal(attn_codeowners_match(co, "z", &r), 1);
    assert_int_equal(r->line, 3);
    assert_null(attn_codeowners_rule_at(co, 2));
    assert_null(attn_codeowners_invalid_at(co, 1));
    attn_codeowners_free(co);
}

static void test_owner_types(void **state)
{
    attn_codeowners *co = parse_ok("* @octocat @octo-org/core-team docs@example.com @OctoCat\n");
    const attn_codeowners_rule *r;
    (void)state;
    assert_int_equal(attn_codeowners_match(co, "README", &r), 1);
    assert_int_equal(r->n_owners, 3);   /* @OctoCat is @octocat again */
    assert_int_equal(r->owners[0].type, ATTN_CODEOWNERS_USER);
    assert_string_equal(r->owners[0].name, "@octocat");
    assert_int_equal(r->owners[1].type, ATTN_CODEOWNERS_TEAM);
    assert_string_equal(r->owners[1].name, "@octo-org/core-team");
    assert_int_equal(r->owners[2].type, ATTN_CODEOWNERS_EMAIL);
    assert_string_equal(r->owners[2].name, "docs@example.com");
    assert_string_equal(r->pattern, "*");
    assert_string_equal(attn_codeowners_owner_type_name(ATTN_CODEOWNERS_USER), "user");
    assert_string_equal(attn_codeowners_owner_type_name(ATTN_CODEOWNERS_TEAM), "team");
    assert_string_equal(attn_codeowners_owner_type_name(ATTN_CODEOWNERS_EMAIL), "email");
    attn_codeowners_free(co);
}

/* A parsed file must not point into the text it was parsed from: callers
 * free the text right after parsing (attn owners does). */
static void test_text_not_retained(void **state)
{
    static const char src[] = "*.js @js\n/src/*/x?.c @c\nlib/ @lib\n!bad @x\n";
    char *text = strdup(src);
    attn_codeowners *co = NULL;
    const attn_codeowners_rule *r;
    attn_error err;
    (void)state;
    assert_int_equal(attn_codeowners_parse(text, strlen(text), &co, &err), 0);
    memset(text, '#', strlen(text));
    free(text);
    assert_int_equal(attn_codeowners_match(co, "b.js", &r), 1);
    assert_string_equal(r->pattern, "*.js");
    assert_string_equal(r->owners[0].name, "@js");
    assert_int_equal(attn_codeowners_match(co, "src/a/x1.c", &r), 1);
    assert_int_equal(r->line, 2);
    assert_int_equal(attn_codeowners_match(co, "a/lib/z", &r), 1);
    assert_int_equal(r->line, 3);
    assert_string_equal(attn_codeowners_invalid_at(co, 0)->text, "!bad @x");
    attn_codeowners_free(co);
}

static void test_invalid_text_kept(void **state)
{
    attn_codeowners *co = parse_ok("ok @a\r\n!neg @b\r\n");
    const attn_codeowners_invalid *iv;
    (void)state;
    assert_int_equal(attn_codeowners_invalid_count(co), 1);
    iv = attn_codeowners_invalid_at(co, 0);
    assert_int_equal(iv->line, 2);
    assert_string_equal(iv->text, "!neg @b");   /* CR removed */
    attn_codeowners_free(co);
}

static void test_single_pattern(void **state)
{
    attn_codeowners_pattern *p = NULL;
    attn_error err;
    (void)state;
    assert_int_equal(attn_codeowners_pattern_compile("src/**/test/", &p, &err), 0);
    assert_true(attn_codeowners_pattern_match(p, "src/test/a.c"));
    assert_true(attn_codeowners_pattern_match(p, "src/x/y/test/a.c"));
    assert_false(attn_codeowners_pattern_match(p, "src/x/test"));
    assert_false(attn_codeowners_pattern_match(p, ""));
    assert_false(attn_codeowners_pattern_match(NULL, "a"));
    attn_codeowners_pattern_free(p);

    attn_error_clear(&err);
    /* brackets are literal, as on GitHub (issue 19) */
    assert_int_equal(attn_codeowners_pattern_compile("/apps/[param]/file.ts", &p, &err), 0);
    assert_true(attn_codeowners_pattern_match(p, "apps/[param]/file.ts"));
    assert_false(attn_codeowners_pattern_match(p, "apps/p/file.ts"));
    attn_codeowners_pattern_free(p);
    assert_int_equal(attn_codeowners_pattern_compile("!*.log", &p, &err), ATTN_EINVAL);
    assert_null(p);
    assert_non_null(strstr(err.msg, "!*.log"));
    assert_non_null(strstr(err.msg, "negation"));
    assert_int_equal(attn_codeowners_pattern_compile("", &p, &err), ATTN_EINVAL);
    assert_int_equal(attn_codeowners_pattern_compile(NULL, &p, &err), ATTN_EINVAL);
    attn_codeowners_pattern_free(NULL);
}

/* Paths deeper than the lookup's cursor array take the linear fallback; the
 * answer must not change. */
static void test_deep_paths(void **state)
{
    attn_buf text = ATTN_BUF_INIT, path = ATTN_BUF_INIT;
    attn_codeowners *co = NULL;
    const attn_codeowners_rule *r;
    attn_error err;
    (void)state;
    attn_buf_puts(&text, "* @root\n");
    for (int i = 0; i < 100; i++)
        attn_buf_printf(&text, "s%d/ @o%d\n", i, i);
    for (int i = 99; i >= 0; i--)
        attn_buf_printf(&path, "s%d/", i);
    attn_buf_puts(&path, "file.c");
    assert_int_equal(attn_codeowners_parse(text.ptr, text.len, &co, &err), 0);
    assert_int_equal(attn_codeowners_match(co, path.ptr, &r), 1);
    assert_string_equal(r->owners[0].name, "@o99");   /* last line wins, not deepest */
    assert_int_equal(r->line, 101);
    attn_buf_clear(&path);
    for (int i = 0; i < 2000; i++)
        attn_buf_puts(&path, "zz/");
    attn_buf_puts(&path, "s5/x");
    assert_int_equal(attn_codeowners_match(co, path.ptr, &r), 1);
    assert_string_equal(r->owners[0].name, "@o5");
    attn_codeowners_free(co);
    attn_buf_free(&text);
    attn_buf_free(&path);
}

/* The index must give exactly what a plain last-to-first scan gives. Rules
 * and paths are generated from a fixed seed over a small alphabet so that
 * many rules collide with many paths. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_index_matches_linear(void **state)
{
    static const char *const parts[] = {"a", "b", "src", "*", "**", "*.c", "?", "x.c", "lib",
                                        "t*", "*.h", ".d"};
    const size_t np = sizeof(parts) / sizeof(parts[0]);
    attn_buf text = ATTN_BUF_INIT, path = ATTN_BUF_INIT;
    attn_codeowners *co = NULL;
    attn_codeowners_pattern **pats;
    attn_error err;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    size_t nrules = 300;
    (void)state;

    pats = calloc(nrules, sizeof(*pats));
    assert_non_null(pats);
    for (size_t i = 0; i < nrules; i++) {
        attn_buf one = ATTN_BUF_INIT;
        int nseg = 1 + (int)(rng_next(&seed) % 3);
        if (rng_next(&seed) % 3 == 0)
            attn_buf_putc(&one, '/');
        for (int k = 0; k < nseg; k++)
            attn_buf_printf(&one, "%s%s", k ? "/" : "", parts[rng_next(&seed) % np]);
        if (rng_next(&seed) % 4 == 0)
            attn_buf_putc(&one, '/');
        assert_int_equal(attn_codeowners_pattern_compile(one.ptr, &pats[i], &err), 0);
        attn_buf_printf(&text, "%s @u%zu\n", one.ptr, i);
        attn_buf_free(&one);
    }
    assert_int_equal(attn_codeowners_parse(text.ptr, text.len, &co, &err), 0);
    assert_int_equal(attn_codeowners_rule_count(co), nrules);
    static const char *const names[] = {"a", "b", "src", "x.c", "lib", "t1", "y.h", ".d", "q",
                                        "z.c"};
    for (int n = 0; n < 20000; n++) {
        const attn_codeowners_rule *r;
        size_t want = SIZE_MAX;
        int depth = 1 + (int)(rng_next(&seed) % 5);
        attn_buf_clear(&path);
        for (int k = 0; k < depth; k++)
            attn_buf_printf(&path, "%s%s", k ? "/" : "", names[rng_next(&seed) % 10]);
        for (size_t i = nrules; i-- > 0;)
            if (attn_codeowners_pattern_match(pats[i], path.ptr)) {
                want = i;
                break;
            }
        attn_codeowners_match(co, path.ptr, &r);
        if (want == SIZE_MAX ? r != NULL : (!r || r->line != (int)want + 1))
            fail_msg("path '%s': linear scan says rule %zu, index says line %d", path.ptr,
                     want + 1, r ? r->line : -1);
    }
    for (size_t i = 0; i < nrules; i++)
        attn_codeowners_pattern_free(pats[i]);
    free(pats);
    attn_codeowners_free(co);
    attn_buf_free(&text);
    attn_buf_free(&path);
}

/* ---- ownership/area ---- */

static void expect_area(const attn_area_map *m, const char *path, const char *want, int from_override)
{
    attn_buf out = ATTN_BUF_INIT;
    int rc = attn_area_of(m, path, &out);
    if (rc != from_override || strcmp(attn_buf_cstr(&out), want))
        fail_msg("area of '%s': want '%s' (override %d), got '%s' (rc %d)", path, want,
                 from_override, attn_buf_cstr(&out), rc);
    attn_buf_free(&out);
}

static void test_area_default(void **state)
{
    (void)state;
    expect_area(NULL, "README.md", "__root__", 0);
    expect_area(NULL, ".gitignore", "__root__", 0);
    expect_area(NULL, "src/main.c", "src", 0);
    expect_area(NULL, "src/a/b/c.c", "src", 0);
    expect_area(NULL, "/docs/x.md", "docs", 0);
    expect_area(NULL, "", "__root__", 0);
    expect_area(NULL, "/", "__root__", 0);
}

static attn_area_map *area_from(const char *json)
{
    json_t *v = json_loads(json, 0, NULL);
    attn_area_map *m = NULL;
    attn_error err;
    assert_non_null(v);
    if (attn_area_map_from_json(v, &m, &err))
        fail_msg("area map: %s", err.msg);
    json_decref(v);
    return m;
}

static void test_area_overrides(void **state)
{
    attn_area_map *m;
    (void)state;
    /* object form, first match wins in the order written */
    m = area_from("{\"src/core/\": \"core\", \"src/\": \"platform\", \"*.md\": \"docs\","
                  " \"/tools/*\": \"tooling\", \"**/test/\": \"tests\"}");
    assert_int_equal(attn_area_map_count(m), 5);
    expect_area(m, "src/core/engine.c", "core", 1);
    expect_area(m, "src/core/README.md", "core", 1);   /* earlier entry wins */
    expect_area(m, "src/util.c", "platform", 1);
    expect_area(m, "README.md", "docs", 1);
    expect_area(m, "lib/deep/notes.md", "docs", 1);
    expect_area(m, "tools/gen.py", "tooling", 1);
    expect_area(m, "tools/sub/gen.py", "tools", 0);   /* `*` stays in one segment */
    expect_area(m, "pkg/a/test/x_test.go", "tests", 1);
    expect_area(m, "pkg/a/x.go", "pkg", 0);
    expect_area(m, "Makefile", "__root__", 0);
    expect_area(m, "SRC/x.c", "SRC", 0);   /* case-sensitive */
    attn_area_map_free(m);

    /* list form */
    m = area_from("[{\"pattern\": \"/web/\", \"area\": \"frontend\"},"
                  " {\"pattern\": \"*.go\", \"area\": \"backend\"}]");
    assert_int_equal(attn_area_map_count(m), 2);
    expect_area(m, "web/app.go", "frontend", 1);
    expect_area(m, "api/app.go", "backend", 1);
    expect_area(m, "api/app.py", "api", 0);
    attn_area_map_free(m);

    m = area_from("{}");
    assert_int_equal(attn_area_map_count(m), 0);
    expect_area(m, "a/b", "a", 0);
    attn_area_map_free(m);
}

static void area_fails(const char *json, const char *want)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    attn_area_map *m = (void *)1;
    attn_error err;
    attn_error_clear(&err);
    assert_non_null(v);
    assert_int_equal(attn_area_map_from_json(v, &m, &err), ATTN_EINVAL);
    assert_null(m);
    if (!strstr(err.msg, want))
        fail_msg("area map %s: want error with '%s', got '%s'", json, want, err.msg);
    json_decref(v);
}

static void test_area_errors(void **state)
{
    char dir[64], path[128];
    attn_area_map *m = NULL;
    attn_error err;
    FILE *f;
    (void)state;
    area_fails("42", "expected an object");
    area_fails("{\"src/\": 3}", "key 'src/'");
    area_fails("{\"src/\": \"\"}", "non-empty string area");
    area_fails("{\"!*.[ch]\": \"c\"}", "negation");
    area_fails("{\"ok/\": \"a\", \"!neg\": \"b\"}", "key '!neg'");
    area_fails("[{\"area\": \"a\"}]", "entry 1 has no string \"pattern\"");
    area_fails("[{\"pattern\": \"a/\", \"area\": \"a\"}, \"x\"]", "entry 2 is not an object");

    /* files: a missing one is ENOTFOUND, a good one loads, a bad one names the file */
    snprintf(dir, sizeof(dir), "%s", "/tmp/attn-area-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/area_overrides.json", dir);
    assert_int_equal(attn_area_map_load(path, &m, &err), ATTN_ENOTFOUND);
    assert_null(m);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"docs/\": \"documentation\"}\n", f);
    fclose(f);
    assert_int_equal(attn_area_map_load(path, &m, &err), 0);
    expect_area(m, "x/docs/y.md", "documentation", 1);
    attn_area_map_free(m);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"!x\": \"y\"}\n", f);
    fclose(f);
    assert_int_equal(attn_area_map_load(path, &m, &err), ATTN_EINVAL);
    assert_non_null(strstr(err.msg, path));
    remove(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_file),
        cmocka_unit_test(test_parse_failures),
        cmocka_unit_test(test_nul_and_bom),
        cmocka_unit_test(test_owner_types),
        cmocka_unit_test(test_text_not_retained),
        cmocka_unit_test(test_invalid_text_kept),
        cmocka_unit_test(test_single_pattern),
        cmocka_unit_test(test_deep_paths),
        cmocka_unit_test(test_index_matches_linear),
        cmocka_unit_test(test_area_default),
        cmocka_unit_test(test_area_overrides),
        cmocka_unit_test(test_area_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
