/*
 * boundary.c - the boundary model (see boundary.h). The SQL does the
 * counting; area(path) is a SQL function backed by ownership/area.c so
 * overrides apply exactly as routing applies them.
 *
 * membership weight of (file, area) = merged PRs touching the file and any
 * file of the area / merged PRs touching the file; is_primary marks the
 * file's own area.
 */
#include "export/boundary.h"
#include "util/alloc.h"
#include "export/export.h"
#include "export/table.h"
#include "ownership/area.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Merged PRs (merge event <= ?2) and the files of their head at the merge. */
#define PR_FILES                                                                               \
    "WITH m AS (SELECT e.subject_id AS pr_id, min(e.occurred_at) AS merged_at FROM events e"     \
    " WHERE e.repo_id = ?1 AND e.subject_type = 'pull_request' AND e.event_type ="               \
    " 'pull_request.merged' AND e.occurred_at <= ?2 GROUP BY e.subject_id),"                     \
    " h AS (SELECT m.pr_id, (SELECT i.head_sha FROM pull_request_head_intervals i"               \
    " WHERE i.pull_request_id = m.pr_id AND i.start_at <= m.merged_at AND (i.end_at IS NULL"     \
    " OR m.merged_at < i.end_at) ORDER BY i.start_at DESC, i.id DESC LIMIT 1) AS head_sha FROM m),"\
    " pf AS (SELECT DISTINCT h.pr_id, f.path FROM h JOIN pull_request_files f ON f.repo_id = ?1"  \
    " AND f.pull_request_id = h.pr_id AND f.head_sha = h.head_sha)"

static const char SQL_MEMBERS[] =
    PR_FILES ", pa AS (SELECT DISTINCT pr_id, attn_area(path) AS area FROM pf),"
    " fp AS (SELECT path, count(*) AS n FROM pf GROUP BY path)"
    " SELECT pf.path, pa.area, CAST(count(*) AS REAL) / fp.n, count(*), fp.n,"
    " attn_area(pf.path) = pa.area"
    " FROM pf JOIN pa ON pa.pr_id = pf.pr_id JOIN fp ON fp.path = pf.path"
    " GROUP BY pf.path, pa.area ORDER BY pf.path, pa.area";

static const char SQL_AREAS[] =
    PR_FILES " SELECT attn_area(path) AS a, count(DISTINCT path), count(DISTINCT pr_id) FROM pf"
    " GROUP BY a ORDER BY a";

static const char SQL_TOTALS[] = PR_FILES " SELECT count(DISTINCT pr_id), count(DISTINCT path) FROM pf";

static const attn_pq_col MEMBER_COLS[] = {
    {"file", ATTN_PQ_STRING, 0}, {"area", ATTN_PQ_STRING, 0}, {"weight", ATTN_PQ_DOUBLE, 0},
    {"co_change_prs", ATTN_PQ_INT64, 0}, {"file_prs", ATTN_PQ_INT64, 0}, {"is_primary", ATTN_PQ_BOOL, 0},
};

static void area_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const attn_area_map *m = sqlite3_user_data(ctx);
    const char *path = (const char *)sqlite3_value_text(argv[0]);
    attn_buf b = ATTN_BUF_INIT;
    (void)argc;
    if (!path) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    attn_area_of(m, path, &b);
    sqlite3_result_text(ctx, attn_buf_cstr(&b), -1, SQLITE_TRANSIENT);
    attn_buf_free(&b);
}

static int prepare(sqlite3 *db, const char *sql, int64_t repo_id, int64_t as_of, sqlite3_stmt **st,
                   attn_error *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "boundary: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(*st, 1, repo_id);
    sqlite3_bind_int64(*st, 2, as_of);
    return 0;
}

/* boundary_model.json: totals and per-area counts. */
static int model_json(sqlite3 *db, const char *repo, int64_t repo_id, int64_t as_of, int64_t members,
                      json_t **out, attn_error *err)
{
    sqlite3_stmt *st = NULL;
    char t[ATTN_TIME_BUFSZ];
    json_t *areas = json_object();
    int64_t prs = 0, files = 0;
    int rc;

    if ((rc = prepare(db, SQL_TOTALS, repo_id, as_of, &st, err)))
        goto fail;
    if (sqlite3_step(st) == SQLITE_ROW)
        prs = sqlite3_column_int64(st, 0), files = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if ((rc = prepare(db, SQL_AREAS, repo_id, as_of, &st, err)))
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_object_set_new(areas, (const char *)sqlite3_column_text(st, 0),
                            json_pack("{s:I, s:I}", "files", (json_int_t)sqlite3_column_int64(st, 1),
                                      "merged_prs", (json_int_t)sqlite3_column_int64(st, 2)));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        rc = attn_error_set(err, ATTN_EDB, "boundary: %s", sqlite3_errmsg(db));
        goto fail;
    }
    *out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:s}", "contract_version", ATTN_BOUNDARY_CONTRACT,
                     "repo", repo, "as_of", attn_time_format(as_of, t), "merged_prs", (json_int_t)prs,
                     "files", (json_int_t)files, "memberships", (json_int_t)members, "areas", areas,
                     "rule",
                     "PRs whose merge event is at or before as_of; files of the head active at the merge;"
                     " weight(file, area) = merged PRs touching the file and the area / merged PRs"
                     " touching the file");
    return 0;
fail:
    json_decref(areas);
    return rc;
}

static int write_json(const char *dir, const char *name, json_t *j, attn_error *err)
{
    attn_buf b = ATTN_BUF_INIT;
    char path[4600];
    int rc;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    attn_json_dump_pretty(j, &b);
    rc = attn_fs_write_atomic(path, b.ptr, b.len, err);
    attn_buf_free(&b);
    return rc;
}

static int build_into(attn_store *s, const char *repo, int64_t as_of, attn_area_map *areas,
                      const char *tmp, json_t **manifest, attn_error *err)
{
    sqlite3 *db = attn_store_db(s);
    sqlite3_stmt *st = NULL;
    attn_sink *sink = NULL;
    json_t *model = NULL;
    char path[4600], hex[65], hex2[65], t[ATTN_TIME_BUFSZ];
    int64_t repo_id, rows = 0;
    int rc;

    if ((rc = attn_store_repo_id(s, repo, &repo_id, err)))
        return rc;
    if (sqlite3_create_function(db, "attn_area", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, areas, area_fn,
                                NULL, NULL) != SQLITE_OK)
        return attn_error_set(err, ATTN_EDB, "boundary: %s", sqlite3_errmsg(db));
    snprintf(path, sizeof(path), "%s/memberships.parquet", tmp);
    if ((rc = prepare(db, SQL_MEMBERS, repo_id, as_of, &st, err)) ||
        (rc = attn_sink_open(path, ATTN_SINK_PARQUET, MEMBER_COLS, 6, NULL, &sink, err)) ||
        (rc = attn_sink_from_stmt(sink, st, NULL, NULL, err))) {
        sqlite3_finalize(st);
        attn_sink_abort(sink);
        return rc;
    }
    sqlite3_finalize(st);
    if ((rc = attn_sink_close(sink, &rows, err)) || (rc = model_json(db, repo, repo_id, as_of, rows, &model, err)) ||
        (rc = write_json(tmp, "boundary_model.json", model, err)) ||
        (rc = attn_export_hash_file(path, hex, NULL, err))) {
        json_decref(model);
        return rc;
    }
    snprintf(path, sizeof(path), "%s/boundary_model.json", tmp);
    if ((rc = attn_export_hash_file(path, hex2, NULL, err))) {
        json_decref(model);
        return rc;
    }
    *manifest = json_pack("{s:s, s:s, s:s, s:O, s:O, s:{s:{s:s, s:I}, s:{s:s}}, s:o}", "contract_version",
                          ATTN_BOUNDARY_CONTRACT, "repo", repo, "as_of", attn_time_format(as_of, t),
                          "merged_prs", json_object_get(model, "merged_prs"), "files_in_model",
                          json_object_get(model, "files"), "files", "memberships.parquet", "sha256", hex,
                          "rows", (json_int_t)rows, "boundary_model.json", "sha256", hex2, "columns",
                          attn_export_schema_json(MEMBER_COLS, NULL, 6));
    json_decref(model);
    return write_json(tmp, "manifest.json", *manifest, err);
}

int attn_boundary_build(const char *db_path, const char *repo, int64_t as_of, const char *overrides,
                        const char *out_dir, json_t **manifest, attn_error *err)
{
    attn_area_map *areas = NULL;
    attn_store *s = NULL;
    json_t *m = NULL;
    char tmp[4500];
    int rc;

    if (manifest)
        *manifest = NULL;
    if (overrides && attn_fs_exists(overrides) && (rc = attn_area_map_load(overrides, &areas, err)))
        return rc;
    if ((rc = attn_store_open_readonly(db_path, &s, err))) {
        attn_area_map_free(areas);
        return rc;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out_dir, (long)getpid());
    if (!(rc = attn_fs_remove_tree(tmp, err)) && !(rc = attn_fs_mkdirs(tmp, err)))
        rc = build_into(s, repo, as_of, areas, tmp, &m, err);
    attn_store_close(s);
    attn_area_map_free(areas);
    if (!rc && attn_fs_exists(out_dir))
        rc = attn_fs_remove_tree(out_dir, err); /* same T, same inputs: the same model */
    if (!rc && rename(tmp, out_dir) != 0)
        rc = attn_error_set(err, ATTN_EIO, "cannot rename %s to %s: %s", tmp, out_dir, strerror(errno));
    if (rc) {
        attn_error scratch;
        attn_fs_remove_tree(tmp, &scratch);
        json_decref(m);
        return rc;
    }
    if (manifest)
        *manifest = m;
    else
        json_decref(m);
    return 0;
}
