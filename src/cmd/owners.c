/*
 * owners.c - `attn owners --codeowners FILE PATH... [--json]`: who owns each
 * path under a CODEOWNERS file, by GitHub's rules (ownership/codeowners.h).
 *
 * A PATH of "-" reads more paths from stdin, one per line. Invalid CODEOWNERS
 * lines are reported, never applied: in the JSON as "invalid_lines", otherwise
 * on stderr. This command reads no store and needs no --repo.
 */
#include "cmd/cmd.h"
#include "util/alloc.h"
#include "util/safe.h"
#include "ownership/codeowners.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] = "attn owners --codeowners FILE [--json] [--quiet] PATH... "
                            "(PATH '-' reads paths from stdin)";

enum { OPT_CODEOWNERS = 300 };

struct paths {
    char **v;
    size_t n, cap;
};

static void paths_add(struct paths *p, const char *s, size_t n)
{
    ATTN_ALLOC_GROW(p->v, p->n + 1, p->cap);
    p->v[p->n++] = attn_xstrndup(s, n);
}

static void paths_free(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

/* One path per line; CR before LF and blank lines are dropped. */
static int read_stdin_paths(struct paths *p, attn_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n > 0)
            paths_add(p, line, (size_t)n);
    }
    free(line);
    if (ferror(stdin))
        return attn_error_set(err, ATTN_EIO, "error reading paths from stdin");
    return 0;
}

static json_t *owners_json(const attn_codeowners_rule *r)
{
    json_t *a = json_array();
    for (size_t i = 0; r && a && i < r->n_owners; i++)
        json_array_append_new(a, json_string(r->owners[i].name));
    return a;
}

static int print_json(const attn_codeowners *co, const struct paths *p, attn_error *err)
{
    json_t *root = attn_xcheck(json_object()), *arr = attn_xcheck(json_array());
    json_t *inv = attn_xcheck(json_array());
    attn_buf out = ATTN_BUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < p->n; i++) {
        const attn_codeowners_rule *r;
        attn_codeowners_match(co, p->v[i], &r);
        json_array_append_new(
            arr, json_pack("{s:s, s:b, s:o, s:o, s:o}", "path", p->v[i], "owned",
                           r && r->n_owners > 0, "line",
                           r ? json_integer(r->line) : json_null(), "pattern",
                           r ? json_string(r->pattern) : json_null(), "owners", owners_json(r)));
    }
    for (size_t i = 0; i < attn_codeowners_invalid_count(co); i++) {
        const attn_codeowners_invalid *iv = attn_codeowners_invalid_at(co, i);
        json_array_append_new(inv, json_pack("{s:i, s:s, s:s}", "line", iv->line, "text",
                                             iv->text, "reason", iv->reason));
    }
    json_object_set(root, "paths", arr);
    json_object_set(root, "invalid_lines", inv);
    if ((rc = attn_json_dump_pretty(root, &out))) {
        rc = attn_error_set(err, rc, "writing JSON");
        goto done;
    }
    fwrite(out.ptr, 1, out.len, stdout);
done:
    attn_buf_free(&out);
    json_decref(arr);
    json_decref(inv);
    json_decref(root);
    return rc;
}

/* PATH  OWNERS  RULE, columns padded to their widest cell. */
static int print_table(const attn_codeowners *co, const struct paths *p, attn_error *err)
{
    attn_buf *owners = attn_xcalloc(p->n ? p->n : 1, sizeof(*owners));
    const attn_codeowners_rule **rules = attn_xcalloc(p->n ? p->n : 1, sizeof(*rules));
    int wpath = 4, wown = 6;

    for (size_t i = 0; i < p->n; i++) {
        const attn_codeowners_rule *r;
        attn_codeowners_match(co, p->v[i], &r);
        rules[i] = r;
        if (!r)
            attn_buf_puts(&owners[i], "(no rule)");
        else if (!r->n_owners)
            attn_buf_puts(&owners[i], "(unowned)");
        for (size_t k = 0; r && k < r->n_owners; k++)
            attn_buf_printf(&owners[i], "%s%s", k ? " " : "", r->owners[k].name);
        if ((int)strlen(p->v[i]) > wpath)
            wpath = (int)strlen(p->v[i]);
        if ((int)owners[i].len > wown)
            wown = (int)owners[i].len;
    }
    printf("%-*s  %-*s  %s\n", wpath, "PATH", wown, "OWNERS", "RULE");
    for (size_t i = 0; i < p->n; i++) {
        if (rules[i])
            printf("%-*s  %-*s  line %d: %s\n", wpath, p->v[i], wown, attn_buf_cstr(&owners[i]),
                   rules[i]->line, rules[i]->pattern);
        else
            printf("%-*s  %-*s  -\n", wpath, p->v[i], wown, attn_buf_cstr(&owners[i]));
        attn_buf_free(&owners[i]);
    }
    free(owners);
    free(rules);
    return 0;
}

int cmd_owners(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"codeowners", required_argument, NULL, OPT_CODEOWNERS},
        {NULL, 0, NULL, 0}};
    attn_cli cli;
    attn_error err;
    attn_buf text = ATTN_BUF_INIT;
    attn_codeowners *co = NULL;
    struct paths paths = {NULL, 0, 0};
    const char *file = NULL;
    attn_cli_str_opt opts[] = {{OPT_CODEOWNERS, &file}, {0, NULL}};
    int rc = 0, stdin_used = 0, first;

    attn_error_clear(&err);
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, -1, &cli, attn_cli_str_opts, opts,
                             &first)) >= 0)
        return rc;
    rc = 0;
    if (!file)
        return attn_cli_usage(USAGE, "--codeowners FILE is required");
    if (first == argc)
        return attn_cli_usage(USAGE, "no paths given");

    if (attn_fs_read_file(file, &text, &err))
        return attn_cli_fail(&err);
    if (attn_codeowners_parse(text.ptr, text.len, &co, &err)) {
        attn_error_wrap(&err, "%s", file);
        attn_buf_free(&text);
        return attn_cli_fail(&err);
    }
    attn_buf_free(&text);

    for (int i = first; i < argc && !rc; i++) {
        if (!strcmp(argv[i], "-")) {
            if (!stdin_used++)
                rc = read_stdin_paths(&paths, &err);
        } else {
            paths_add(&paths, argv[i], strlen(argv[i]));
        }
    }
    if (!rc)
        rc = cli.json ? print_json(co, &paths, &err) : print_table(co, &paths, &err);
    if (!rc && !cli.json && !cli.quiet) {
        for (size_t i = 0; i < attn_codeowners_invalid_count(co); i++) {
            const attn_codeowners_invalid *iv = attn_codeowners_invalid_at(co, i);
            char ftext[1024], ltext[1024], rtext[1024];
            fprintf(stderr, "attn: %s:%d: skipped invalid line (%s): %s\n",
                    attn_safe_text(file, ftext, sizeof(ftext)), iv->line,
                    attn_safe_text(iv->reason, rtext, sizeof(rtext)),
                    attn_safe_text(iv->text, ltext, sizeof(ltext)));
        }
    }
    if (!rc && fflush(stdout) != 0)
        rc = attn_error_set(&err, ATTN_EIO, "cannot write to stdout");
    paths_free(&paths);
    attn_codeowners_free(co);
    return rc ? attn_cli_fail(&err) : 0;
}
