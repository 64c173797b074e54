/* fuzz_normalize.c - libFuzzer target: the GitHub JSON normalizers, fast.
 * Each input is a partial bundle ({"repo": ..., "pulls": [...], ...}) applied
 * inside a transaction that is rolled back, so one store serves every run
 * (the harness's one static: libFuzzer calls back with no context pointer).
 * After a successful apply the interval rebuild must succeed too. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "ingest/bundle.h"
#include "ingest/normalize.h"
#include "store/store.h"

static attn_store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *part = json_loadb((const char *)data, size, 0, &je);
    attn_norm_ctx ctx;
    attn_rebuild_stats rs;
    attn_error err;
    int rc;
    if (!part)
        return 0;
    if (!store && attn_store_open(":memory:", &store, &err))
        abort();
    if (attn_store_begin(store, &err))
        abort();
    if (attn_norm_ctx_init(&ctx, store, 1, &err) == 0) {
        rc = attn_normalize_repo(&ctx, json_object_get(part, "repo"), &err);
        if (rc == 0)
            rc = attn_bundle_apply_part(&ctx, part, &err);
        if (rc == 0 && attn_store_rebuild_intervals(store, 1, NULL, &rs, &err) == ATTN_ENOMEM)
            abort();
        attn_norm_ctx_free(&ctx);
    }
    attn_store_rollback(store);
    json_decref(part);
    return 0;
}
