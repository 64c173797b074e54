/*
 * fuzz_classify_config.c - libFuzzer target for the classification config
 * parser (classify/config.c, process.c): any bytes must give a config or one
 * error line, never a crash, leak or hang. A config that loads is then run on
 * a few ids and its steps on one row, so composed regexes and steps are
 * exercised too.
 *
 * Build and run: `make fuzz-classify` (clang, -fsanitize=fuzzer,address,
 * undefined; FUZZ_TIME seconds, default 60). Self-contained: it compiles only
 * the sources it needs and does not touch the normal build.
 */
#include "classify/classify.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {
        "250912-172812_match_150M_c4_finetune_100Mtx1_DD-d17-530M-6250-2", "abc",
        "2025_08_19-08_01_22_dpo_tune_cache_DD-dolma1_7-4M_main_default", "main_default", ""};
    attn_classify_cfg *c = NULL;
    attn_classify_matcher *m = NULL;
    attn_error err;
    attn_error_clear(&err);
    if (attn_classify_cfg_parse((const char *)data, size, "fuzz", &c, &err) < 0) {
        if (!err.msg[0] || strchr(err.msg, '\n'))
            __builtin_trap(); /* every failure is one non-empty line */
        return 0;
    }
    if (attn_classify_matcher_new(c, &m, &err) == 0) {
        json_t *rows = json_array();
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            json_t *rec = attn_classify_record(m, ids[i], strlen(ids[i]));
            json_t *row = json_object();
            json_object_update(row, json_object_get(rec, "fields"));
            json_object_set_new(row, "run_id", json_string(ids[i]));
            json_object_set_new(row, "_config", json_pack("{s:f, s:i}", "learning_rate", 5e-6, "seed", 8));
            json_object_set_new(row, "_summary", json_pack("{s:i}", "total_tokens", 123));
            json_array_append_new(rows, row);
            json_decref(rec);
        }
        attn_classify_process(c, "matched", rows, &err);
        json_decref(rows);
    }
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
    return 0;
}
