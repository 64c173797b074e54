/*
 * run_export.c - `attn export run` (see run_export.h).
 */
#include "export/run_export.h"

int attn_run_export(const char *data_dir, const char *repo, const char *run_id, int csv,
                    const char *out_dir, int quiet, json_t **summary, attn_error *err)
{
    *summary = NULL;
    return attn_error_set(err, ATTN_EINVAL, "export run: not implemented yet");
}
