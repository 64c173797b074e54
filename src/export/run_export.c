/*
 * run_export.c - `attn export run` (see run_export.h).
 *
 * per_pr.jsonl is streamed one line at a time; each PR's router results come
 * from it (ranks, candidate names, truth) and the candidate scores from the
 * pack entry routes/<router>, so memory holds one PR at a time.
 */
#include "export/run_export.h"
#include "util/alloc.h"
#include "eval/pack.h"
#include "export/export.h"
#include "export/table.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/path.h"
#include "util/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { T_ROUTES, T_CANDS, T_TRUTH, T_N };

static const attn_pq_col ROUTES[] = {
    {"run_id", ATTN_PQ_STRING, 0}, {"repo", ATTN_PQ_STRING, 0}, {"pr_number", ATTN_PQ_INT64, 0},
    {"cutoff", ATTN_PQ_TIMESTAMP, 1}, {"router", ATTN_PQ_STRING, 0}, {"policy", ATTN_PQ_STRING, 0},
    {"truth_status", ATTN_PQ_STRING, 1}, {"n_truth_targets", ATTN_PQ_INT64, 0},
    {"first_hit_rank", ATTN_PQ_INT64, 1}, {"hit_at_1", ATTN_PQ_BOOL, 1}, {"hit_at_3", ATTN_PQ_BOOL, 1},
    {"hit_at_5", ATTN_PQ_BOOL, 1}, {"reciprocal_rank", ATTN_PQ_DOUBLE, 1}, {"top1", ATTN_PQ_STRING, 1},
    {"n_candidates", ATTN_PQ_INT64, 0}, {"confidence", ATTN_PQ_STRING, 1}, {"risk", ATTN_PQ_STRING, 1},
};
static const attn_pq_col CANDS[] = {
    {"run_id", ATTN_PQ_STRING, 0}, {"repo", ATTN_PQ_STRING, 0}, {"pr_number", ATTN_PQ_INT64, 0},
    {"cutoff", ATTN_PQ_TIMESTAMP, 1}, {"router", ATTN_PQ_STRING, 0}, {"rank", ATTN_PQ_INT64, 0},
    {"candidate", ATTN_PQ_STRING, 0}, {"candidate_type", ATTN_PQ_STRING, 1}, {"score", ATTN_PQ_DOUBLE, 1},
};
static const attn_pq_col TRUTH[] = {
    {"run_id", ATTN_PQ_STRING, 0}, {"repo", ATTN_PQ_STRING, 0}, {"pr_number", ATTN_PQ_INT64, 0},
    {"cutoff", ATTN_PQ_TIMESTAMP, 1}, {"policy", ATTN_PQ_STRING, 0}, {"truth_status", ATTN_PQ_STRING, 1},
    {"target", ATTN_PQ_STRING, 1},
};
static const struct {
    const char *name;
    const attn_pq_col *cols;
    size_t n;
} TABLES[T_N] = {
    {"run_routes", ROUTES, sizeof(ROUTES) / sizeof(ROUTES[0])},
    {"run_candidates", CANDS, sizeof(CANDS) / sizeof(CANDS[0])},
    {"run_truth", TRUTH, sizeof(TRUTH) / sizeof(TRUTH[0])},
};

typedef struct {
    const char *run_id, *repo, *run_dir;
    attn_sink *t[T_N];
    int64_t pr, cutoff_us;   /* the PR being written */
    int has_cutoff;
} rx_ctx;

static void put_keys(rx_ctx *c, attn_sink *s)
{
    attn_sink_str(s, 0, c->run_id);
    attn_sink_str(s, 1, c->repo);
    attn_sink_i64(s, 2, c->pr);
    if (c->has_cutoff)
        attn_sink_i64(s, 3, c->cutoff_us);
    else
        attn_sink_null(s, 3);
}

static void put_opt_str(attn_sink *s, size_t col, const json_t *v)
{
    attn_sink_str(s, col, json_is_string(v) ? json_string_value(v) : NULL);
}

static int write_truth(rx_ctx *c, const json_t *truth, attn_error *err)
{
    const char *policy;
    json_t *t;
    json_object_foreach((json_t *)truth, policy, t) {
        const json_t *targets = json_object_get(t, "targets");
        size_t n = json_array_size(targets);
        for (size_t i = 0; i < (n ? n : 1); i++) { /* no target: one row with NULL */
            attn_sink *s = c->t[T_TRUTH];
            put_keys(c, s);
            attn_sink_str(s, 4, policy);
            put_opt_str(s, 5, json_object_get(t, "status"));
            put_opt_str(s, 6, n ? json_array_get(targets, i) : NULL);
            if (attn_sink_end_row(s, err))
                return err->code;
        }
    }
    return 0;
}

/* The rows of one router's result r; calls fn per policy. */
static int each_policy(int64_t pr, int has_cutoff, int64_t cutoff, const char *router, const json_t *r,
                       const json_t *truth, attn_run_route_fn fn, void *ctx, attn_error *err)
{
    const json_t *cands = json_object_get(r, "candidates");
    const char *policy;
    json_t *rank;
    int rc;
    json_object_foreach(json_object_get(r, "rank"), policy, rank) {
        const json_t *tp = json_object_get(truth, policy);
        attn_run_route_row row;
        memset(&row, 0, sizeof(row));
        row.pr = pr, row.has_cutoff = has_cutoff, row.cutoff = cutoff;
        row.router = router, row.policy = policy;
        row.truth_status = json_string_value(json_object_get(tp, "status"));
        row.observed = row.truth_status && !strcmp(row.truth_status, "observed");
        row.n_truth_targets = (int64_t)json_array_size(json_object_get(tp, "targets"));
        row.first_hit_rank = json_is_integer(rank) && json_integer_value(rank) > 0 ? json_integer_value(rank) : 0;
        row.top1 = json_string_value(json_array_get(cands, 0));
        row.n_candidates = (int64_t)json_array_size(cands);
        row.confidence = json_string_value(json_object_get(r, "confidence"));
        row.risk = json_string_value(json_object_get(r, "risk"));
        if ((rc = fn(ctx, &row, err)))
            return rc;
    }
    return 0;
}

static int sink_route_row(void *vc, const attn_run_route_row *row, attn_error *err)
{
    rx_ctx *c = vc;
    attn_sink *s = c->t[T_ROUTES];
    static const int ks[3] = {1, 3, 5};
    int64_t k = row->first_hit_rank;
    put_keys(c, s);
    attn_sink_str(s, 4, row->router);
    attn_sink_str(s, 5, row->policy);
    attn_sink_str(s, 6, row->truth_status);
    attn_sink_i64(s, 7, row->n_truth_targets);
    if (k > 0)
        attn_sink_i64(s, 8, k);
    else
        attn_sink_null(s, 8);
    for (int j = 0; j < 3; j++) { /* hit@1/3/5: only meaningful where truth was observed */
        if (row->observed)
            attn_sink_bool(s, 9 + (size_t)j, k > 0 && k <= ks[j]);
        else
            attn_sink_null(s, 9 + (size_t)j);
    }
    if (row->observed)
        attn_sink_f64(s, 12, k > 0 ? 1.0 / (double)k : 0.0);
    else
        attn_sink_null(s, 12);
    attn_sink_str(s, 13, row->top1);
    attn_sink_i64(s, 14, row->n_candidates);
    attn_sink_str(s, 15, row->confidence);
    attn_sink_str(s, 16, row->risk);
    return attn_sink_end_row(s, err);
}

/* Candidates with scores from the pack entry; names only when the run kept no route entry. */
static int write_candidates(rx_ctx *c, const char *router, const json_t *r, attn_error *err)
{
    char entry[300];
    json_t *route = NULL, *list;
    attn_error e2;
    size_t i;
    json_t *v;
    int rc = 0;

    snprintf(entry, sizeof(entry), "routes/%s", router);
    attn_error_clear(&e2);
    if (attn_pack_get(c->run_dir, c->pr, entry, &route, &e2) && e2.code != ATTN_ENOTFOUND)
        return *err = e2, e2.code;
    list = route ? json_object_get(route, "candidates") : (json_t *)json_object_get(r, "candidates");
    json_array_foreach(list, i, v) {
        attn_sink *s = c->t[T_CANDS];
        const json_t *target = json_object_get(v, "target");
        const json_t *score = json_object_get(v, "score");
        const char *name = route ? json_string_value(json_object_get(target, "name")) : json_string_value(v);
        if (!name) {
            rc = attn_error_set(err, ATTN_ECORRUPT, "run %s: PR %lld router %s: candidate %zu has no name",
                                c->run_id, (long long)c->pr, router, i + 1);
            break;
        }
        put_keys(c, s);
        attn_sink_str(s, 4, router);
        attn_sink_i64(s, 5, (int64_t)i + 1);
        const char *type = json_string_value(json_object_get(target, "type"));
        if (route && type && !strcmp(type, "team")) {
            char full[600]; /* per_pr.jsonl and truth spell teams "team:<org>/<slug>" */
            snprintf(full, sizeof(full), "team:%s", name);
            attn_sink_str(s, 6, full);
        } else {
            attn_sink_str(s, 6, name);
        }
        put_opt_str(s, 7, json_object_get(target, "type"));
        if (json_is_number(score))
            attn_sink_f64(s, 8, json_number_value(score));
        else
            attn_sink_null(s, 8);
        if ((rc = attn_sink_end_row(s, err)))
            break;
    }
    json_decref(route);
    return rc;
}

static int write_pr(rx_ctx *c, const json_t *line, attn_error *err)
{
    const json_t *truth = json_object_get(line, "truth");
    const char *cutoff = json_string_value(json_object_get(line, "cutoff"));
    const char *router;
    json_t *r;
    int64_t t;
    int rc;

    if (!json_is_integer(json_object_get(line, "pr_number")))
        return attn_error_set(err, ATTN_ECORRUPT, "run %s: per_pr.jsonl line without pr_number", c->run_id);
    c->pr = json_integer_value(json_object_get(line, "pr_number"));
    c->has_cutoff = cutoff && attn_time_parse(cutoff, &t, err) == 0;
    if (cutoff && !c->has_cutoff)
        return attn_error_wrap(err, "run %s: PR %lld: cutoff", c->run_id, (long long)c->pr);
    if (!c->has_cutoff)
        t = 0;
    c->cutoff_us = t * 1000000;
    json_object_foreach(json_object_get(line, "routers"), router, r) {
        if ((rc = each_policy(c->pr, c->has_cutoff, t, router, r, truth, sink_route_row, c, err)) ||
            (rc = write_candidates(c, router, r, err)))
            return rc;
    }
    return write_truth(c, truth, err);
}

typedef int (*line_fn)(void *ctx, const json_t *line, attn_error *err);

static int stream_lines(const char *per_pr, const char *run_id, line_fn fn, void *ctx, attn_error *err)
{
    FILE *f = fopen(per_pr, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;

    if (!f)
        return attn_error_set(err, ATTN_ENOTFOUND, "run %s has no per_pr.jsonl (%s): %s", run_id,
                              per_pr, strerror(errno));
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        json_error_t je;
        json_t *j;
        lineno++;
        if (n <= 1)
            continue;
        if (!(j = json_loads(line, 0, &je))) {
            rc = attn_error_set(err, ATTN_ECORRUPT, "%s:%ld: %s", per_pr, lineno, je.text);
            break;
        }
        if ((rc = fn(ctx, j, err)))
            attn_error_wrap(err, "%s:%ld", per_pr, lineno);
        json_decref(j);
    }
    free(line);
    fclose(f);
    return rc;
}

static int write_pr_line(void *c, const json_t *line, attn_error *err)
{
    return write_pr(c, line, err);
}

static int stream_run(rx_ctx *c, const char *per_pr, attn_error *err)
{
    return stream_lines(per_pr, c->run_id, write_pr_line, c, err);
}

typedef struct {
    const char *run_id;
    attn_run_route_fn fn;
    void *ctx;
} each_ctx;

static int each_line(void *vc, const json_t *line, attn_error *err)
{
    each_ctx *e = vc;
    const json_t *pr = json_object_get(line, "pr_number");
    const char *cutoff = json_string_value(json_object_get(line, "cutoff"));
    const json_t *truth = json_object_get(line, "truth");
    const char *router;
    json_t *r;
    int64_t t = 0;
    int rc, has = 0;

    if (!json_is_integer(pr) || json_integer_value(pr) <= 0)
        return attn_error_set(err, ATTN_ECORRUPT, "run %s: a line without a valid pr_number", e->run_id);
    if (cutoff) {
        if (attn_time_parse(cutoff, &t, err))
            return attn_error_wrap(err, "cutoff");
        has = 1;
    }
    if (!json_is_object(json_object_get(line, "routers")))
        return attn_error_set(err, ATTN_ECORRUPT, "run %s: PR %lld has no routers object", e->run_id,
                              (long long)json_integer_value(pr));
    json_object_foreach(json_object_get(line, "routers"), router, r)
        if ((rc = each_policy(json_integer_value(pr), has, t, router, r, truth, e->fn, e->ctx, err)))
            return rc;
    return 0;
}

int attn_run_each_route(const char *run_dir, const char *run_id, attn_run_route_fn fn, void *ctx,
                        attn_error *err)
{
    char path[4600];
    each_ctx e = {run_id, fn, ctx};
    snprintf(path, sizeof(path), "%s/per_pr.jsonl", run_dir);
    return stream_lines(path, run_id, each_line, &e, err);
}

static int finish(rx_ctx *c, const char *tmp, const char *ext, json_t *tables, attn_error *err)
{
    int rc = 0;
    for (int i = 0; i < T_N; i++) {
        char path[4600], hex[65];
        int64_t rows = 0, bytes = 0;
        rc = attn_sink_close(c->t[i], &rows, err);
        c->t[i] = NULL;
        if (rc)
            break;
        snprintf(path, sizeof(path), "%s/%s.%s", tmp, TABLES[i].name, ext);
        if ((rc = attn_export_hash_file(path, hex, &bytes, err)))
            break;
        json_object_set_new(tables, TABLES[i].name,
                            json_pack("{s:s, s:I, s:I, s:s, s:o}", "file", strrchr(path, '/') + 1, "rows",
                                      (json_int_t)rows, "bytes", (json_int_t)bytes, "sha256", hex,
                                      "columns", attn_export_schema_json(TABLES[i].cols, NULL, TABLES[i].n)));
    }
    return rc;
}

int attn_run_export(const char *data_dir, const char *repo, const char *run_id, int csv,
                    const char *out_dir, int quiet, json_t **summary, attn_error *err)
{
    char owner[ATTN_NAME_MAX + 1], name[ATTN_NAME_MAX + 1], run_dir[4400], per_pr[4600], dir[4400],
        tmp[4500];
    const char *ext = csv ? "csv" : "parquet";
    rx_ctx c;
    json_t *m = NULL, *tables;
    attn_buf text = ATTN_BUF_INIT;
    int rc;

    *summary = NULL;
    memset(&c, 0, sizeof(c));
    if ((rc = attn_path_parse_repo(repo, owner, name, err)) || (rc = attn_path_check_id(run_id, "RUN_ID", err)))
        return rc;
    snprintf(run_dir, sizeof(run_dir), "%s/github/%s/%s/eval/%s", data_dir, owner, name, run_id);
    snprintf(per_pr, sizeof(per_pr), "%s/per_pr.jsonl", run_dir);
    if (!attn_fs_exists(run_dir))
        return attn_error_set(err, ATTN_ENOTFOUND, "no run %s for %s (%s); see 'attn runs list'", run_id,
                              repo, run_dir);
    if (out_dir)
        snprintf(dir, sizeof(dir), "%s", out_dir);
    else
        snprintf(dir, sizeof(dir), "%s/exports/%s/%s/run-%s-%s", data_dir, owner, name, run_id, ext);
    if (attn_fs_exists(dir))
        return attn_error_set(err, ATTN_ECONFLICT, "%s already exists; remove it or give another -o", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", dir, (long)getpid());
    if ((rc = attn_fs_remove_tree(tmp, err)) || (rc = attn_fs_mkdirs(tmp, err)))
        return rc;
    c.run_id = run_id, c.repo = repo, c.run_dir = run_dir;
    for (int i = 0; i < T_N && !rc; i++) {
        char path[4600];
        snprintf(path, sizeof(path), "%s/%s.%s", tmp, TABLES[i].name, ext);
        rc = attn_sink_open(path, csv ? ATTN_SINK_CSV : ATTN_SINK_PARQUET, TABLES[i].cols, TABLES[i].n,
                            NULL, &c.t[i], err);
    }
    if (!rc)
        rc = stream_run(&c, per_pr, err);
    m = json_pack("{s:s, s:s, s:s, s:s, s:o}", "contract_version", ATTN_EXPORT_CONTRACT, "repo", repo,
                  "run_id", run_id, "format", ext, "tables", tables = json_object());
    if (!rc)
        rc = finish(&c, tmp, ext, tables, err);
    for (int i = 0; i < T_N; i++)
        attn_sink_abort(c.t[i]);
    if (!rc) {
        attn_json_dump_pretty(m, &text);
        char mp[4600];
        snprintf(mp, sizeof(mp), "%s/export_manifest.json", tmp);
        rc = attn_fs_write_atomic(mp, text.ptr, text.len, err);
    }
    if (!rc && rename(tmp, dir) != 0)
        rc = attn_error_set(err, ATTN_EIO, "cannot rename %s to %s: %s", tmp, dir, strerror(errno));
    attn_buf_free(&text);
    if (rc) {
        attn_error scratch;
        attn_fs_remove_tree(tmp, &scratch);
        json_decref(m);
        return rc;
    }
    if (!quiet)
        fprintf(stderr, "export run: %s written\n", dir);
    json_object_set_new(m, "dir", json_string(dir));
    *summary = m;
    return 0;
}
