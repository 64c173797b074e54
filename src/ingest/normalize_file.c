/*
 * normalize_file.c - the file list of a pull request at its current head.
 *
 * Owns: pull_request_files rows, keyed by the head sha the list was fetched
 * at (the PR's current head). Must never: attach a file list to any other
 * head — the API only serves the current one, and the as-of reader relies on
 * the key to tell whether the list belongs to the head active at a cutoff.
 */
#include "ingest/normalize_internal.h"

#include <stdio.h>
#include <string.h>

int attn_normalize_files(attn_norm_ctx *ctx, int64_t number, const json_t *files,
                         attn_error *err)
{
    const char *head = NULL;
    const json_t *f;
    int64_t pr_id;
    size_t i;
    int rc;

    if (!json_is_array(files))
        return attn_error_set(err, ATTN_EINVAL, "files of #%lld are not a list",
                              (long long)number);
    if ((rc = attn_norm_lookup_number(ctx, number, NULL, &pr_id, err)) ||
        (rc = norm_map_pr_head(ctx, number, &head, err)))
        return rc;
    if (pr_id == ATTN_NULL_I64 || !head)
        return attn_error_set(err, ATTN_EINVAL,
                              "files of #%lld: the pull request (and its head sha) is not loaded",
                              (long long)number);
    json_array_foreach(files, i, f) {
        attn_pr_file_row row;
        memset(&row, 0, sizeof(row));
        row.repo_id = ctx->repo_id;
        row.pull_request_id = pr_id;
        row.head_sha = head;
        row.path = attn_json_str(f, "filename");
        if (!row.path)
            return attn_error_set(err, ATTN_EINVAL, "file %zu of #%lld has no 'filename'", i,
                                  (long long)number);
        row.status = attn_json_str(f, "status");
        row.previous_path = attn_json_str(f, "previous_filename");
        row.additions = attn_json_i64(f, "additions", 0);
        row.deletions = attn_json_i64(f, "deletions", 0);
        row.changes = attn_json_i64(f, "changes", row.additions + row.deletions);
        if ((rc = attn_store_upsert_pr_file(ctx->store, &row, err)))
            return attn_error_wrap(err, "file %s of #%lld", row.path, (long long)number);
        ctx->stats.files++;
    }
    return 0;
}
