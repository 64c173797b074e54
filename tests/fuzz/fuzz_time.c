/* fuzz_time.c - libFuzzer target: ISO-8601 instants and durations. A parsed
 * instant formats and parses back to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "fuzz_text.h"
#include "util/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_text(data, size), buf[64];
    int64_t t, back, d;
    attn_error err;
    if (!s)
        return 0;
    if (attn_time_parse(s, &t, &err) == 0 && t > -62135596800LL && t < 253402300800LL) {
        attn_time_format(t, buf);
        if (attn_time_parse(buf, &back, &err) || back != t)
            abort();
    }
    (void)attn_duration_parse(s, &d, &err);
    free(s);
    return 0;
}
