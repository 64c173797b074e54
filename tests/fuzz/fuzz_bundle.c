/* fuzz_bundle.c - libFuzzer target: the bundle loader and, through it, every
 * GitHub JSON normalizer, into an in-memory store. Any input is loaded or
 * refused with a message; the store then passes its own contract check
 * whenever the load succeeded. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "ingest/bundle.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *b = json_loadb((const char *)data, size, 0, &je);
    attn_store *s = NULL;
    attn_bundle_stats st;
    attn_error err;
    if (!b)
        return 0;
    if (attn_bundle_check(b, "fuzz input", NULL, &err) == 0 &&
        attn_store_open(":memory:", &s, &err) == 0) {
        (void)attn_bundle_apply(s, b, &st, &err);
        attn_store_close(s);
    }
    json_decref(b);
    return 0;
}
