/*
 * examples_index.c - rebuild examples_index.sqlite from the run directories
 * (see examples_index.h). Reads run artifacts only; writes one file through
 * a temporary name and a rename.
 */
#include "exp/examples_index.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char SCHEMA[] =
    "CREATE TABLE runs (run_id TEXT PRIMARY KEY, inputs_hash TEXT, cohort_hash TEXT,"
    " pr_cutoffs_hash TEXT, n INTEGER NOT NULL, routers TEXT NOT NULL, primary_policy TEXT,"
    " cutoff_policy TEXT, top_k INTEGER, horizon INTEGER, extra TEXT);"
    "CREATE TABLE examples (run_id TEXT NOT NULL REFERENCES runs(run_id),"
    " pr_number INTEGER NOT NULL, cutoff INTEGER, router TEXT NOT NULL, rank INTEGER,"
    " hit1 INTEGER NOT NULL, rr REAL NOT NULL, truth_status TEXT, top1 TEXT,"
    " PRIMARY KEY (run_id, pr_number, router));"
    "CREATE INDEX ix_examples_pr ON examples(pr_number, router);"
    "CREATE INDEX ix_examples_router ON examples(router, run_id);"
    "CREATE INDEX ix_runs_cohort ON runs(cohort_hash);";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int db_fail(sqlite3 *db, const char *what, attn_error *err)
{
    return attn_error_set(err, ATTN_EDB, "examples index: %s: %s", what, sqlite3_errmsg(db));
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int64_t time_or_null(const char *s)
{
    int64_t t;
    attn_error e;
    if (!s || attn_time_parse(s, &t, &e))
        return ATTN_NULL_I64;
    return t;
}

static void bind_time(sqlite3_stmt *st, int i, const char *s)
{
    int64_t t = time_or_null(s);
    if (t == ATTN_NULL_I64)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, t);
}

/* Index one run directory. Returns 1 when it is not a run (skipped). */
static int index_run(sqlite3 *db, sqlite3_stmt *ins_run, sqlite3_stmt *ins_ex, const char *dir,
                     const char *run_id, size_t *examples, attn_error *err)
{
    char path[4800], hash[65];
    json_t *m = NULL, *nul = json_null();
    attn_buf text = ATTN_BUF_INIT, routers = ATTN_BUF_INIT, extra = ATTN_BUF_INIT;
    const json_t *x, *cohort;
    const char *primary;
    size_t i, n = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if (!attn_fs_exists(path))
        return 1;
    snprintf(path, sizeof(path), "%s/per_pr.jsonl", dir);
    if (!attn_fs_exists(path))
        return 1;
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if ((rc = attn_json_load_file(path, &m, err)))
        goto out;
    primary = attn_json_str(json_object_get(m, "truth"), "primary");
    cohort = json_object_get(m, "cohort");
    x = json_object_get(cohort, "pr_cutoffs");
    if ((rc = attn_json_hash(x ? x : nul, hash, err)))
        goto out;
    json_array_foreach(json_object_get(m, "routers"), i, x)
        attn_buf_printf(&routers, "%s%s", i ? "," : "", attn_json_str(x, "name"));
    if ((x = json_object_get(m, "extra")) && !json_is_null(x) &&
        (rc = attn_json_canonical(x, &extra, err)))
        goto out;

    snprintf(path, sizeof(path), "%s/per_pr.jsonl", dir);
    if ((rc = attn_fs_read_file(path, &text, err)))
        goto out;
    for (char *line = text.ptr, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        json_t *row;
        nl = strchr(line, '\n');
        if (nl == line)
            continue;
        if ((rc = attn_json_parse(line, nl ? (size_t)(nl - line) : strlen(line), path, &row, err)))
            goto out;
        n++;
        json_array_foreach(json_object_get(m, "routers"), i, x) {
            const char *name = attn_json_str(x, "name");
            const json_t *r = json_object_get(json_object_get(row, "routers"), name);
            const json_t *rk = json_object_get(json_object_get(r, "rank"), primary ? primary : "");
            int64_t rank = json_is_integer(rk) ? json_integer_value(rk) : 0;
            sqlite3_reset(ins_ex);
            sqlite3_bind_text(ins_ex, 1, run_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins_ex, 2, attn_json_i64(row, "pr_number", 0));
            bind_time(ins_ex, 3, attn_json_str(row, "cutoff"));
            bind_text_or_null(ins_ex, 4, name);
            if (rank > 0)
                sqlite3_bind_int64(ins_ex, 5, rank);
            else
                sqlite3_bind_null(ins_ex, 5);
            sqlite3_bind_int(ins_ex, 6, rank == 1);
            sqlite3_bind_double(ins_ex, 7, rank > 0 ? 1.0 / (double)rank : 0.0);
            bind_text_or_null(ins_ex, 8,
                              attn_json_str(json_object_get(json_object_get(row, "truth"),
                                                            primary ? primary : ""),
                                            "status"));
            bind_text_or_null(ins_ex, 9,
                              json_string_value(json_array_get(json_object_get(r, "candidates"), 0)));
            if (sqlite3_step(ins_ex) != SQLITE_DONE) {
                rc = db_fail(db, run_id, err);
                json_decref(row);
                goto out;
            }
            (*examples)++;
        }
        json_decref(row);
    }
    sqlite3_reset(ins_run);
    sqlite3_bind_text(ins_run, 1, run_id, -1, SQLITE_TRANSIENT);
    bind_text_or_null(ins_run, 2, attn_json_str(m, "inputs_hash"));
    bind_text_or_null(ins_run, 3, attn_json_str(cohort, "hash"));
    sqlite3_bind_text(ins_run, 4, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins_run, 5, (sqlite3_int64)n);
    sqlite3_bind_text(ins_run, 6, attn_buf_cstr(&routers), -1, SQLITE_TRANSIENT);
    bind_text_or_null(ins_run, 7, primary);
    bind_text_or_null(ins_run, 8, attn_json_str(json_object_get(m, "cutoff_policy"), "id"));
    sqlite3_bind_int64(ins_run, 9, attn_json_i64(m, "top_k", 0));
    bind_time(ins_run, 10, attn_json_str(json_object_get(m, "store"), "horizon"));
    bind_text_or_null(ins_run, 11, extra.len ? extra.ptr : NULL);
    if (sqlite3_step(ins_run) != SQLITE_DONE)
        rc = db_fail(db, run_id, err);
out:
    json_decref(m);
    json_decref(nul);
    attn_buf_free(&text);
    attn_buf_free(&routers);
    attn_buf_free(&extra);
    return rc;
}

int attn_examples_index_build(const char *repo_dir, attn_examples_index_stats *st,
                              attn_error *err)
{
    char eval_dir[4300], tmp[4300];
    char **names = NULL;
    size_t n_names = 0, cap = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins_run = NULL, *ins_ex = NULL;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    memset(st, 0, sizeof(*st));
    snprintf(st->path, sizeof(st->path), "%s/examples_index.sqlite", repo_dir);
    snprintf(eval_dir, sizeof(eval_dir), "%s/eval", repo_dir);
    snprintf(tmp, sizeof(tmp), "%s/.examples_index.sqlite.tmp-%ld", repo_dir, (long)getpid());
    if ((rc = attn_fs_mkdirs(repo_dir, err)))
        return rc;
    if ((d = opendir(eval_dir))) {
        while ((e = readdir(d))) {
            char p[4600];
            struct stat sb;
            if (e->d_name[0] == '.' || e->d_name[0] == '_')
                continue;
            snprintf(p, sizeof(p), "%s/%s", eval_dir, e->d_name);
            if (stat(p, &sb) || !S_ISDIR(sb.st_mode))
                continue;
            ATTN_ALLOC_GROW(names, n_names + 1, cap);
            names[n_names++] = attn_xstrdup(e->d_name);
        }
        closedir(d);
        if (rc)
            goto out;
    }
    if (n_names)
        qsort(names, n_names, sizeof(*names), cmp_str);

    unlink(tmp);
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = attn_error_set(err, ATTN_EDB, "cannot create %s: %s", tmp,
                            db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)", -1, &ins_run,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO examples VALUES (?,?,?,?,?,?,?,?,?)", -1, &ins_ex,
                           NULL) != SQLITE_OK) {
        rc = db_fail(db, "schema", err);
        goto out;
    }
    for (size_t i = 0; i < n_names; i++) {
        char dir[4700];
        snprintf(dir, sizeof(dir), "%s/%s", eval_dir, names[i]);
        rc = index_run(db, ins_run, ins_ex, dir, names[i], &st->examples, err);
        if (rc < 0) {
            attn_error_wrap(err, "indexing run %s", names[i]);
            goto out;
        }
        if (rc == 1)
            st->skipped++;
        else
            st->runs++;
        rc = 0;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(db, "commit", err);
        goto out;
    }
    sqlite3_finalize(ins_run);
    sqlite3_finalize(ins_ex);
    ins_run = ins_ex = NULL;
    if (sqlite3_close(db) != SQLITE_OK) {
        rc = attn_error_set(err, ATTN_EDB, "closing %s failed", tmp);
        db = NULL;
        goto out;
    }
    db = NULL;
    if (rename(tmp, st->path)) {
        rc = attn_error_set(err, ATTN_EIO, "cannot rename %s to %s", tmp, st->path);
        goto out;
    }
out:
    sqlite3_finalize(ins_run);
    sqlite3_finalize(ins_ex);
    if (db)
        sqlite3_close(db);
    if (rc)
        unlink(tmp);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    return rc;
}
