/* fuzz_link.c - libFuzzer target: the RFC 5988 Link header parser. An answer
 * always fits the buffer and is NUL-terminated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_text.h"
#include "github/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const rels[] = {"next", "last", "prev", ""};
    char *s = fuzz_text(data, size), out[64];
    if (!s)
        return 0;
    for (size_t i = 0; i < 4; i++) {
        memset(out, 'x', sizeof(out));
        if (attn_gh_link_find(s, rels[i], out, sizeof(out)) > 0 && !memchr(out, 0, sizeof(out)))
            abort();
    }
    free(s);
    return 0;
}
