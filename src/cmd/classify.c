/*
 * classify.c - `attn classify`: run ids -> run type + fields by a declarative
 * pattern registry (classify/classify.h, docs/classify.md).
 *
 *   attn classify --patterns NAME|FILE (--in FILE.jsonl | RUN_ID...) [--json]
 *                 [--group DIR] [--all-types]
 *   attn classify --patterns NAME|FILE --check CORPUS.jsonl [--json]
 *
 * Reads no store and needs no --repo. Output files (--group) are written
 * atomically and are byte-identical on rerun.
 */
#include "export/table.h"
#include "classify/classify.h"
#include "cmd/cmd.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char HELP[] =
    "attn classify --patterns NAME|FILE (--in FILE.jsonl | RUN_ID...) [--json] [--group DIR] "
    "[--all-types]\n"
    "       attn classify --patterns NAME|FILE --check CORPUS.jsonl [--json]\n"
    "  --patterns NAME|FILE  the pattern registry: a built-in name (datadecide) or a JSON config\n"
    "                        file (docs/classify.md); required\n"
    "  --in FILE.jsonl       runs to classify, one JSON object per line with \"run_id\" (a W&B\n"
    "                        export line; its config/summary feed --group); '-' is stdin;\n"
    "                        default: the RUN_ID arguments\n"
    "  --json                one line per run {run_id, run_type, pattern, fields, matches};\n"
    "                        default: a table\n"
    "  --group DIR           also write DIR/<run_type>.jsonl, .csv and .parquet after\n"
    "                        post-processing, and\n"
    "                        DIR/classification_log.jsonl (every id, type, pattern, matches);\n"
    "                        default: no files\n"
    "  --all-types           with --group, keep the config's drop_run_types (default: dropped)\n"
    "  --check CORPUS.jsonl  list shadowed patterns: ids that more than one pattern matches\n"
    "                        (an earlier pattern wins over a later one), and how many of them\n"
    "                        the corpus expects for the later one when its lines name a pattern\n"
    "                        (expected_pattern or expected_fields.pattern_name); exit 0\n"
    "  --quiet               no summary line on stderr\n"
    "example: attn classify --patterns datadecide 250912-172812_match_150M_c4_finetune_"
    "100Mtx1_DD-d17-530M-6250-2";

static const char USAGE[] = "attn classify --patterns NAME|FILE (--in FILE.jsonl | RUN_ID... | --check CORPUS.jsonl) [--json] [--group DIR] [--all-types] [--quiet] (--help: every flag)";

enum { OPT_PATTERNS = 300, OPT_IN, OPT_GROUP, OPT_CHECK, OPT_ALL_TYPES };

struct copts {
    const char *patterns, *in, *group, *check;
    int all_types;
};

static int copt(void *ctx, int opt, const char *arg)
{
    struct copts *o = ctx;
    switch (opt) {
    case OPT_PATTERNS: o->patterns = arg; return 0;
    case OPT_IN: o->in = arg; return 0;
    case OPT_GROUP: o->group = arg; return 0;
    case OPT_CHECK: o->check = arg; return 0;
    case OPT_ALL_TYPES: o->all_types = 1; return 0;
    }
    return -1;
}

static json_t *record(attn_classify_matcher *m, const char *id)
{
    return attn_classify_record(m, id, strlen(id));
}

static void print_table(attn_classify_matcher *m, const json_t *runs)
{
    size_t i, wid = 6, wtype = 8;
    json_t *r;
    json_array_foreach(runs, i, r) {
        size_t l = strlen(json_string_value(json_object_get(r, "run_id")));
        wid = l > wid ? l : wid;
    }
    json_t *recs = json_array();
    json_array_foreach(runs, i, r) {
        json_t *rec = record(m, json_string_value(json_object_get(r, "run_id")));
        size_t l = strlen(json_string_value(json_object_get(rec, "run_type")));
        wtype = l > wtype ? l : wtype;
        json_array_append_new(recs, rec);
    }
    printf("%-*s  %-*s  %-20s  %s\n", (int)wid, "RUN_ID", (int)wtype, "RUN_TYPE", "PATTERN",
           "ALSO_MATCHES");
    json_array_foreach(recs, i, r) {
        const char *pat = json_string_value(json_object_get(r, "pattern"));
        attn_buf also = ATTN_BUF_INIT;
        size_t j;
        json_t *mt;
        json_array_foreach(json_object_get(r, "matches"), j, mt) if (j > 0) {
            if (also.len)
                attn_buf_putc(&also, ',');
            attn_buf_puts(&also, json_string_value(mt));
        }
        printf("%-*s  %-*s  %-20s  %s\n", (int)wid, json_string_value(json_object_get(r, "run_id")),
               (int)wtype, json_string_value(json_object_get(r, "run_type")), pat ? pat : "-",
               also.len ? attn_buf_cstr(&also) : "-");
        attn_buf_free(&also);
    }
    json_decref(recs);
}

static int write_text(const char *dir, const char *name, const char *ext, const char *data,
                      size_t len, attn_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s%s", dir, name, ext) >= sizeof path)
        return attn_error_set(err, ATTN_EINVAL, "output path too long under '%s'", dir);
    return attn_fs_write_atomic(path, data, len, err);
}

static int append_jsonl(attn_buf *b, const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (!t)
        return -1;
    attn_buf_puts(b, t);
    attn_buf_putc(b, '\n');
    free(t);
    return 0;
}

/* The columns of a type's table: run_id first, then every key in first-seen
 * order; each typed by its values (all integers: INT64, all numbers: DOUBLE,
 * all booleans: BOOL, else STRING with objects and arrays as compact JSON). */
static size_t table_columns(const json_t *rows, json_t *names, attn_pq_type *types, size_t cap)
{
    size_t i, j, n;
    const char *k;
    json_t *r, *v;
    json_array_append_new(names, json_string("run_id"));
    json_array_foreach(rows, i, r) json_object_foreach((json_t *)r, k, v) {
        int seen = 0;
        for (j = 0; j < json_array_size(names) && !seen; j++)
            seen = !strcmp(json_string_value(json_array_get(names, j)), k);
        if (!seen && json_array_size(names) < cap)
            json_array_append_new(names, json_string(k));
    }
    n = json_array_size(names);
    for (j = 0; j < n; j++) {
        const char *name = json_string_value(json_array_get(names, j));
        int ints = 1, nums = 1, bools = 1, any = 0;
        json_array_foreach(rows, i, r) {
            v = json_object_get(r, name);
            if (!v || json_is_null(v))
                continue;
            any = 1;
            ints &= json_is_integer(v);
            nums &= json_is_number(v);
            bools &= json_is_boolean(v);
        }
        types[j] = !any ? ATTN_PQ_STRING : ints ? ATTN_PQ_INT64 : nums ? ATTN_PQ_DOUBLE
                 : bools ? ATTN_PQ_BOOL : ATTN_PQ_STRING;
    }
    return n;
}

/* DIR/<type>.parquet: the same rows as the CSV, typed (written to a temporary
 * name and renamed, like every artifact). */
static int write_parquet(const char *dir, const char *type, const json_t *rows, attn_error *err)
{
    enum { MAX_COLS = 256 };
    attn_pq_type types[MAX_COLS];
    attn_pq_col cols[MAX_COLS];
    json_t *names = json_array(), *r;
    char path[4096], tmp[4200];
    attn_sink *sink = NULL;
    int64_t nrows = 0;
    size_t n, i, j;
    int rc = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/%s.parquet", dir, type) >= sizeof path)
        return attn_error_set(err, ATTN_EINVAL, "output path too long under '%s'", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    n = table_columns(rows, names, types, MAX_COLS);
    for (j = 0; j < n; j++)
        cols[j] = (attn_pq_col){json_string_value(json_array_get(names, j)), types[j], j != 0};
    if ((rc = attn_sink_open(tmp, ATTN_SINK_PARQUET, cols, n, NULL, &sink, err))) {
        json_decref(names);
        return rc;
    }
    json_array_foreach(rows, i, r) {
        for (j = 0; j < n; j++) {
            const json_t *v = json_object_get(r, cols[j].name);
            if (!v || json_is_null(v))
                attn_sink_null(sink, j);
            else if (types[j] == ATTN_PQ_INT64)
                attn_sink_i64(sink, j, (int64_t)json_integer_value(v));
            else if (types[j] == ATTN_PQ_DOUBLE)
                attn_sink_f64(sink, j, json_number_value(v));
            else if (types[j] == ATTN_PQ_BOOL)
                attn_sink_bool(sink, j, json_is_true(v));
            else if (json_is_string(v))
                attn_sink_str(sink, j, json_string_value(v));
            else {
                char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                attn_sink_str(sink, j, t ? t : "");
                free(t);
            }
        }
        if ((rc = attn_sink_end_row(sink, err)))
            break;
    }
    json_decref(names);
    if (rc) {
        attn_sink_abort(sink);
        unlink(tmp);
        return rc;
    }
    if ((rc = attn_sink_close(sink, &nrows, err))) {
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path)) {
        unlink(tmp);
        return attn_error_set(err, ATTN_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* DIR/<type>.jsonl and .csv per kept type, and the classification log. */
static int write_groups(attn_classify_matcher *m, const attn_classify_cfg *c, const json_t *runs,
                        const struct copts *o, attn_error *err)
{
    json_t *groups = NULL;
    int rc = attn_fs_mkdirs(o->group, err);
    if (rc == 0)
        rc = attn_classify_group(m, c, runs, o->all_types, &groups, err);
    const char *type;
    json_t *rows;
    json_object_foreach(groups, type, rows) {
        attn_buf jl = ATTN_BUF_INIT;
        size_t i, len = 0;
        json_t *r;
        char *csv = NULL;
        json_array_foreach(rows, i, r) append_jsonl(&jl, r);
        if (rc == 0)
            rc = write_text(o->group, type, ".jsonl", attn_buf_cstr(&jl), jl.len, err);
        if (rc == 0)
            attn_classify_csv(rows, &csv, &len);
        if (rc == 0)
            rc = write_text(o->group, type, ".csv", csv, len, err);
        if (rc == 0)
            rc = write_parquet(o->group, type, rows, err);
        free(csv);
        attn_buf_free(&jl);
    }
    json_decref(groups);
    attn_buf log = ATTN_BUF_INIT;
    size_t i;
    json_t *r;
    json_array_foreach(runs, i, r) {
        json_t *rec = record(m, json_string_value(json_object_get(r, "run_id")));
        json_object_del(rec, "fields");
        append_jsonl(&log, rec);
        json_decref(rec);
    }
    if (rc == 0)
        rc = write_text(o->group, "classification_log", ".jsonl", attn_buf_cstr(&log), log.len, err);
    attn_buf_free(&log);
    return rc;
}

/* Every pair (winner, later pattern that also matched) over the corpus. */
static int check(attn_classify_matcher *m, const attn_classify_cfg *c, const json_t *runs,
                 const attn_cli *cli)
{
    size_t np = attn_classify_cfg_npatterns(c), n_ids = 0;
    size_t *count = calloc(np * np + 1, sizeof *count), *meant = calloc(np * np + 1, sizeof *meant);
    const char **example = calloc(np * np + 1, sizeof *example);
    size_t i;
    int labelled = 0;
    json_t *r;
    if (!count || !meant || !example) {
        free(count);
        free(meant);
        free(example);
        fprintf(stderr, "attn: out of memory\n");
        return 1;
    }
    json_array_foreach(runs, i, r) {
        const char *id = json_string_value(json_object_get(r, "run_id"));
        /* A corpus line may say which pattern the id is meant for. */
        const char *want = attn_json_str(r, "expected_pattern");
        if (!want)
            want = attn_json_str(json_object_get(r, "expected_fields"), "pattern_name");
        labelled |= want != NULL;
        attn_classify_result res;
        attn_classify_id(m, id, strlen(id), &res);
        n_ids += res.n_matches > 1;
        for (size_t k = 1; k < res.n_matches; k++) {
            size_t at = (size_t)res.matches[0] * np + res.matches[k];
            if (!count[at]++)
                example[at] = id;
            meant[at] += want && !strcmp(want, attn_classify_cfg_pattern_name(c, res.matches[k]));
        }
    }
    json_t *out = json_array();
    for (size_t a = 0; a < np; a++)
        for (size_t b = 0; b < np; b++)
            if (count[a * np + b]) {
                json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "pattern",
                    attn_classify_cfg_pattern_name(c, a), "shadows", attn_classify_cfg_pattern_name(c, b),
                    "ids", (int)count[a * np + b], "example", example[a * np + b]);
                if (labelled) /* ids the corpus says belong to the shadowed pattern */
                    json_object_set_new(o, "corpus_expects_shadowed", json_integer((json_int_t)meant[a * np + b]));
                json_array_append_new(out, o);
            }
    if (cli->json) {
        json_array_foreach(out, i, r) attn_cli_print_json(json_incref(r));
    } else {
        json_array_foreach(out, i, r) {
            const json_t *e = json_object_get(r, "corpus_expects_shadowed");
            printf("%s shadows %s on %d id(s)", json_string_value(json_object_get(r, "pattern")),
                   json_string_value(json_object_get(r, "shadows")),
                   (int)json_integer_value(json_object_get(r, "ids")));
            if (e)
                printf(" (the corpus expects %s on %d)", json_string_value(json_object_get(r, "shadows")),
                       (int)json_integer_value(e));
            printf(", e.g. %s\n", json_string_value(json_object_get(r, "example")));
        }
    }
    if (!cli->quiet)
        fprintf(stderr, "attn classify --check: %zu ids, %zu matched by more than one pattern, "
                        "%zu shadowed pair(s)\n", json_array_size(runs), n_ids, json_array_size(out));
    json_decref(out);
    free(count);
    free(meant);
    free(example);
    return 0;
}

static int args_as_runs(int argc, char **argv, int first, json_t **out, attn_error *err)
{
    json_t *arr = json_array();
    for (int i = first; i < argc; i++) {
        json_t *s = json_string(argv[i]);
        if (!s || !*argv[i]) {
            json_decref(arr);
            return attn_error_set(err, ATTN_EINVAL, "run id argument %d is empty or not UTF-8", i - first + 1);
        }
        json_array_append_new(arr, json_pack("{s:o}", "run_id", s));
    }
    *out = arr;
    return 0;
}

int cmd_classify(int argc, char **argv)
{
    static const struct option longopts[] = {
        ATTN_COMMON_LONGOPTS,
        {"patterns", required_argument, NULL, OPT_PATTERNS},
        {"in", required_argument, NULL, OPT_IN},
        {"group", required_argument, NULL, OPT_GROUP},
        {"check", required_argument, NULL, OPT_CHECK},
        {"all-types", no_argument, NULL, OPT_ALL_TYPES},
        {NULL, 0, NULL, 0}};
    struct copts o = {0};
    attn_cli cli;
    int first, rc;
    attn_error err;
    attn_error_clear(&err);
    if (attn_cli_wants_help(argc, argv)) { /* the full text, not the one-line USAGE */
        printf("usage: %s\n", HELP);
        return 0;
    }
    if ((rc = attn_cli_parse(argc, argv, longopts, USAGE, -1, &cli, copt, &o, &first)) >= 0)
        return rc;
    if (!o.patterns)
        return attn_cli_usage(USAGE, "--patterns NAME|FILE is required (built-in: datadecide)");
    int sources = (o.in != NULL) + (o.check != NULL) + (first < argc);
    if (sources != 1)
        return attn_cli_usage(USAGE, "give exactly one of --in FILE.jsonl, --check CORPUS.jsonl or RUN_ID arguments");
    if (o.check && o.group)
        return attn_cli_usage(USAGE, "--group does not combine with --check");
    attn_classify_cfg *c = NULL;
    attn_classify_matcher *m = NULL;
    json_t *runs = NULL;
    if ((rc = attn_classify_cfg_load(o.patterns, &c, &err)) < 0 ||
        (rc = attn_classify_matcher_new(c, &m, &err)) < 0)
        goto done;
    if (o.in || o.check)
        rc = attn_classify_read_runs(o.in ? o.in : o.check, &runs, &err);
    else
        rc = args_as_runs(argc, argv, first, &runs, &err);
    if (rc < 0)
        goto done;
    if (o.check) {
        rc = check(m, c, runs, &cli);
        goto done;
    }
    if (cli.json) {
        size_t i, failed = 0;
        json_t *r;
        json_array_foreach(runs, i, r) {
            json_t *rec = record(m, json_string_value(json_object_get(r, "run_id")));
            failed += json_object_get(rec, "failed_patterns") != NULL;
            attn_cli_print_json(rec);
        }
        if (failed)
            fprintf(stderr, "attn classify: warning: on %zu id(s) a pattern stopped at PCRE2's "
                            "match limit and counted as no match (see \"failed_patterns\"); "
                            "simplify its regex\n", failed);
    } else {
        print_table(m, runs);
    }
    if (o.group)
        rc = write_groups(m, c, runs, &o, &err);
done:
    json_decref(runs);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
    return rc < 0 ? attn_cli_fail(&err) : 0;
}
