/* fuzz_canonical.c - libFuzzer target: the canonical JSON writer (attn's
 * hashing form). Any JSON jansson reads must come out as text that reads
 * back to an equal value and writes again to the same bytes (the pretty
 * form too); a difference aborts, which libFuzzer reports as a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/json.h"

static json_t *reread(const attn_buf *b)
{
    json_error_t je;
    json_t *v = json_loadb(b->ptr, b->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!v)
        abort();   /* the writer wrote something that is not JSON */
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    attn_buf a = ATTN_BUF_INIT, b = ATTN_BUF_INIT, p = ATTN_BUF_INIT;
    attn_error err;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                           &je);
    json_t *w, *x;
    if (!v)
        return 0;
    if (attn_json_canonical(v, &a, &err)) {   /* only NaN or infinity can fail */
        json_decref(v);
        attn_buf_free(&a);
        return 0;
    }
    if (strlen(a.ptr) != a.len)   /* one text, NUL-terminated, no NUL inside */
        abort();
    w = reread(&a);
    if (!json_equal(v, w) || attn_json_canonical(w, &b, &err) || a.len != b.len ||
        memcmp(a.ptr, b.ptr, a.len))
        abort();
    if (attn_json_dump_pretty(v, &p))
        abort();
    x = reread(&p);
    if (!json_equal(v, x))
        abort();
    json_decref(v);
    json_decref(w);
    json_decref(x);
    attn_buf_free(&a);
    attn_buf_free(&b);
    attn_buf_free(&p);
    return 0;
}
