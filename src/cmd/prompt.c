/*
 * prompt.c - `attn prompt list|show|hash|diff`: prompt bundles (llm/prompt.h).
 *
 *   list [--dir D]        bundles under D (default ./prompts) and the labels
 *                         in the registry DATA/prompts/, with their hashes
 *   show REF              the canonical snapshot (pretty JSON)
 *   hash REF [--register] prompt_hash and label; checks the label registry
 *                         (exit 1 when the label names other content) and,
 *                         with --register, records the label
 *   diff A B              section-by-section line diff (exit 0 either way)
 *
 * REF is a bundle directory, a snapshot .json file, or NAME@VERSION from the
 * registry. Reads only, except hash --register (one file in DATA/prompts/).
 */
#include "cmd/cmd.h"
#include "llm/prompt.h"
#include "util/buf.h"
#include "util/json.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "attn prompt list [--dir DIR] | show REF | hash REF [--register] | diff A B  [--json] "
    "[--data-dir DIR]";
static const char HELP[] =
    "attn prompt list [--dir DIR] | show REF | hash REF [--register] | diff A B  [--json] "
    "[--data-dir DIR]\n"
    "  list         bundles under --dir (default ./prompts) and labels recorded under DATA/prompts\n"
    "  show REF     the canonical snapshot of a bundle (pretty JSON with sorted keys)\n"
    "  hash REF     its prompt_hash (SHA-256 of the canonical JSON) and label; fails when the\n"
    "               label is already recorded for other content, naming both hashes\n"
    "  diff A B     changed sections and their lines (-old, +new)\n"
    "  REF          a bundle directory, a snapshot .json, or NAME@VERSION from the registry\n"
    "  --dir DIR    where list looks for bundles (default ./prompts)\n"
    "  --register   hash: record the label in DATA/prompts/<name>/<version>.json (default off)\n"
    "  --json       one line of JSON (default: text)\n"
    "  --data-dir   data directory (default ./data, env ATTN_DATA_DIR)\n"
    "example: attn prompt hash prompts/triage && attn prompt diff triage@1.0.0 prompts/triage";

enum { OPT_DIR = 300, OPT_REGISTER };

struct popts {
    const char *dir;
    int reg;
};

static int popt(void *ctx, int opt, const char *arg)
{
    struct popts *o = ctx;
    if (opt == OPT_DIR)
        o->dir = arg;
    else if (opt == OPT_REGISTER)
        o->reg = 1;
    else
        return -1;
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of dir (NULL-terminated, malloc'd); NULL when absent. */
static char **dir_names(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!d)
        return NULL;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n + 1 >= cap) {
            char **g = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
            if (!g)
                break;
            v = g;
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (v)
        qsort(v, *n, sizeof(*v), str_cmp);
    return v;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static json_t *list_json(const char *dir, const char *data_dir)
{
    json_t *bundles = json_array(), *labels = json_array();
    char path[4400];
    size_t n, m;
    char **names = dir_names(dir, &n);
    for (size_t i = 0; i < n; i++) {
        attn_prompt *p = NULL;
        attn_error e;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (attn_prompt_load(path, &p, &e) == 0)
            json_array_append_new(bundles, json_pack("{s:s, s:s, s:s, s:s}", "path", path, "name",
                                                     p->name, "version", p->version,
                                                     "prompt_hash", p->hash));
        attn_prompt_free(p);
    }
    free_names(names, n);
    snprintf(path, sizeof(path), "%s/prompts", data_dir);
    names = dir_names(path, &n);
    for (size_t i = 0; i < n; i++) {
        char sub[4600];
        char **vers;
        snprintf(sub, sizeof(sub), "%s/%s", path, names[i]);
        vers = dir_names(sub, &m);
        for (size_t j = 0; j < m; j++) {
            char f[4800];
            json_t *s = NULL;
            attn_error e;
            snprintf(f, sizeof(f), "%s/%s", sub, vers[j]);
            if (attn_json_load_file(f, &s, &e) == 0)
                json_array_append_new(labels, json_pack("{s:s?, s:s?, s:s?}", "name",
                                                        attn_json_str(s, "name"), "version",
                                                        attn_json_str(s, "version"), "prompt_hash",
                                                        attn_json_str(s, "prompt_hash")));
            json_decref(s);
        }
        free_names(vers, m);
    }
    free_names(names, n);
    return json_pack("{s:o, s:o}", "bundles", bundles, "registered", labels);
}

static void print_list(const json_t *l)
{
    size_t i;
    json_t *x;
    printf("bundles:\n");
    json_array_foreach(json_object_get(l, "bundles"), i, x)
        printf("  %-24s %-10s %s  %s\n", attn_json_str(x, "name"), attn_json_str(x, "version"),
               attn_json_str(x, "prompt_hash"), attn_json_str(x, "path"));
    printf("registered labels:\n");
    json_array_foreach(json_object_get(l, "registered"), i, x)
        printf("  %-24s %-10s %s\n", attn_json_str(x, "name"), attn_json_str(x, "version"),
               attn_json_str(x, "prompt_hash"));
}

static void print_diff(const json_t *d)
{
    const json_t *a = json_object_get(d, "a"), *b = json_object_get(d, "b");
    const char *s;
    json_t *sec;
    printf("a: %s %s %s\nb: %s %s %s\n", attn_json_str(a, "name"), attn_json_str(a, "version"),
           attn_json_str(a, "prompt_hash"), attn_json_str(b, "name"), attn_json_str(b, "version"),
           attn_json_str(b, "prompt_hash"));
    if (json_is_true(json_object_get(d, "same"))) {
        printf("same content\n");
        return;
    }
    json_object_foreach(json_object_get(d, "sections"), s, sec) {
        size_t i;
        json_t *l;
        printf("@@ section %s (%s)\n", s, attn_json_str(sec, "status"));
        json_array_foreach(json_object_get(sec, "lines"), i, l)
            if (json_string_value(l)[0] != ' ')
                printf("%s\n", json_string_value(l));
    }
}

static int run_sub(const attn_cli *cli, const struct popts *o, int argc, char **argv, int first)
{
    const char *sub = argv[first];
    int nargs = argc - first - 1;
    attn_prompt *a = NULL, *b = NULL;
    attn_error err;
    int rc = 0;
    attn_error_clear(&err);
    if (!strcmp(sub, "list")) {
        json_t *l;
        if (nargs)
            return attn_cli_usage(USAGE, "list takes no arguments");
        l = list_json(o->dir ? o->dir : "prompts", cli->data_dir);
        if (cli->json)
            attn_cli_print_json(l);
        else {
            print_list(l);
            json_decref(l);
        }
        return 0;
    }
    if (strcmp(sub, "show") && strcmp(sub, "hash") && strcmp(sub, "diff"))
        return attn_cli_usage(USAGE, "unknown subcommand '%s'", sub);
    if (nargs != (!strcmp(sub, "diff") ? 2 : 1))
        return attn_cli_usage(USAGE, "%s takes %s", sub, !strcmp(sub, "diff") ? "A B" : "REF");
    if ((rc = attn_prompt_resolve(cli->data_dir, argv[first + 1], &a, &err)) ||
        (nargs == 2 && (rc = attn_prompt_resolve(cli->data_dir, argv[first + 2], &b, &err))))
        goto out;
    if (!strcmp(sub, "show")) {
        json_t *s = attn_prompt_snapshot(a);
        attn_buf t = ATTN_BUF_INIT;
        attn_json_dump_pretty(s, &t);
        fwrite(t.ptr, 1, t.len, stdout);
        attn_buf_free(&t);
        json_decref(s);
    } else if (!strcmp(sub, "hash")) {
        if ((rc = attn_prompt_register(cli->data_dir, a, !o->reg, &err)))
            goto out;
        if (cli->json)
            attn_cli_print_json(json_pack("{s:s, s:s, s:s, s:b}", "name", a->name, "version",
                                          a->version, "prompt_hash", a->hash, "registered",
                                          o->reg));
        else
            printf("%s %s@%s\n", a->hash, a->name, a->version);
    } else {
        json_t *d = attn_prompt_diff(a, b);
        if (cli->json)
            attn_cli_print_json(d);
        else {
            print_diff(d);
            json_decref(d);
        }
    }
out:
    attn_prompt_free(a);
    attn_prompt_free(b);
    return rc ? attn_cli_fail(&err) : 0;
}

int cmd_prompt(int argc, char **argv)
{
    static const struct option longopts[] = {ATTN_COMMON_LONGOPTS,
                                              {"dir", required_argument, NULL, OPT_DIR},
                                              {"register", no_argument, NULL, OPT_REGISTER},
                                              {NULL, 0, NULL, 0}};
    attn_cli cli;
    struct popts o = {NULL, 0};
    int rc, first;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s\n", HELP);
            return 0;
        }
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, 3, &cli, popt, &o, &first)) >= 0)
        return rc;
    if (first == argc)
        return attn_cli_usage(USAGE, "missing subcommand (list, show, hash or diff)");
    return run_sub(&cli, &o, argc, argv, first);
}
