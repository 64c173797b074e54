/* fuzz_mentions.c - libFuzzer target: the @mention scanner in its three
 * modes (body, title, raw); offsets and names stay inside the text. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "route/mentions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned modes[] = {ATTN_MENTIONS_BODY,
                                     ATTN_MENTIONS_INLINE | ATTN_MENTIONS_SKIP_CODE |
                                         ATTN_MENTIONS_SKIP_HTML,
                                     0};
    for (size_t m = 0; m < 3; m++) {
        json_t *list = json_array(), *x;
        attn_error err;
        size_t i;
        if (!list)
            return 0;
        if (attn_mentions_extract((const char *)data, size, modes[m], "body", list, &err) == 0)
            json_array_foreach(list, i, x) {
                json_int_t pos = json_integer_value(json_object_get(x, "position"));
                if (!json_string_value(json_object_get(x, "name")) || pos < 0)
                    abort();
            }
        json_decref(list);
    }
    return 0;
}
