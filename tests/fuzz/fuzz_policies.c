/* fuzz_policies.c - libFuzzer target: the truth policy and cutoff policy
 * spec parsers ("first_response:window=48h", "created_at+30m"). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "eval/cutoff.h"
#include "eval/truth.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_text(data, size);
    attn_truth_policy tp;
    attn_cutoff_policy cp;
    attn_error err;
    if (!s)
        return 0;
    (void)attn_truth_policy_parse(s, &tp, &err);
    (void)attn_cutoff_policy_parse(s, &cp, &err);
    free(s);
    return 0;
}
