/* fuzz_bundle.c - libFuzzer target: the bundle loaders (the parsed tree and
 * the streaming one of `attn load`) and, through them, every GitHub JSON
 * normalizer, into in-memory stores. Any input is loaded or refused with a
 * message. The two loaders must agree on whether a bundle loads and on what
 * it stores (their counts); a disagreement aborts. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "ingest/bundle.h"
#include "ingest/bundle_stream.h"
#include <string.h>
#include "store/store.h"

/* The streaming loader on the same bytes; its result code, stats in *st. */
static int load_streamed(const uint8_t *data, size_t size, attn_bundle_stats *st)
{
    attn_bundle_stream *bs = NULL;
    attn_store *s = NULL;
    attn_error err;
    int rc = attn_bundle_stream_open_mem(data, size, "fuzz input", &bs, &err);
    memset(st, 0, sizeof(*st));
    if (!rc && !(rc = attn_store_open(":memory:", &s, &err)))
        rc = attn_bundle_stream_apply(s, bs, st, &err);
    attn_store_close(s);
    attn_bundle_stream_free(bs);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *b = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    attn_store *s = NULL;
    attn_bundle_stats st, st2;
    attn_error err;
    int rc = -1, rc2 = load_streamed(data, size, &st2);
    memset(&st, 0, sizeof(st));
    if (b && attn_bundle_check(b, "fuzz input", NULL, &err) == 0 &&
        attn_store_open(":memory:", &s, &err) == 0) {
        rc = attn_bundle_apply(s, b, &st, &err);
        attn_store_close(s);
    }
    json_decref(b);
    /* Same verdict; when both load, the same counts (the tree parse is the
     * reference: the stream hands each element to the same jansson). */
    if ((rc == 0) != (rc2 == 0) || (!rc && memcmp(&st.norm, &st2.norm, sizeof(st.norm))))
        abort();
    return 0;
}
