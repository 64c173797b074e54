/* fuzz_codeowners.c - libFuzzer target: the CODEOWNERS parser and matcher.
 * Any input parses or is refused with a message; matching never crashes. */
#include <stddef.h>
#include <stdint.h>
#include "ownership/codeowners.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attn_codeowners *co = NULL;
    attn_error err;
    const attn_codeowners_rule *rule;
    static const char *const paths[] = {"a", "src/a.c", "docs/x/y.md", "apps/[p]/f.ts", "#x", ""};
    if (attn_codeowners_parse((const char *)data, size, &co, &err))
        return 0;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        (void)attn_codeowners_match(co, paths[i], &rule);
    attn_codeowners_free(co);
    return 0;
}
