/*
 * bench_classify.c - classification speed of the built-in datadecide
 * registry: 1,000,000 run ids in the shapes of the W&B corpus (every run
 * type, varied timestamps, recipes, sizes, steps, seeds and learning rates,
 * plus non-matching ids), generated from a fixed seed; every pattern is
 * tried on every id (all matches are reported, not only the first).
 *
 * Target (issue 14): 1,000,000 ids in under 2 s on one core. Prints the
 * time, ids/s, per-type counts as a checksum, and exits 1 over the target.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/classify.h"

#define N_IDS 1000000
#define TARGET_S 2.0

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const RECIPES[] = {"d17", "dolma1_7", "dclm_25_d17_75", "dclm_qc10p", "c4"};
static const char *const DASH_RECIPES[] = {"dclm-baseline", "dclm-baseline-qc-fw-3p", "d17"};
static const char *const SIZES[] = {"4M", "20M", "60M", "150M", "300M", "530M", "1B"};
static const char *const LRS[] = {"5e-05", "5e-06", "1e-05", "2e-07", "0.0001"};

static void gen(char *out, size_t cap)
{
    char ts8[32], ts6[32];
    snprintf(ts8, sizeof ts8, "2025_%02u_%02u-%02u_%02u_%02u", 1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60));
    snprintf(ts6, sizeof ts6, "25%02u%02u-%02u%02u%02u", 1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60));
    const char *rec = RECIPES[rnd(5)], *size = SIZES[rnd(7)], *csize = SIZES[rnd(7)], *lr = LRS[rnd(5)];
    unsigned steps = 1000u * (1 + rnd(40)), seed = rnd(5), tok = 1u + rnd(100), ep = 1 + rnd(3);
    switch (rnd(14)) {
    case 0: snprintf(out, cap, "%s_test_finetune_DD-%s-%s_main_%uMtx%u_--learning_rate=%s", ts8, rec, size, tok, ep, lr); break;
    case 1: snprintf(out, cap, "%s_test_finetune_DD-%s-%s_main_%uM_toks_--learning_rate=%s", ts8, rec, size, tok, lr); break;
    case 2: snprintf(out, cap, "%s_test_finetune_DD-%s-%s_Ft_--learning_rate=%s", ts8, rec, size, lr); break;
    case 3: snprintf(out, cap, "%s_test_finetune_DD-%s-%s_Ft_learning_rate=%s", ts6, DASH_RECIPES[rnd(3)], size, lr); break;
    case 4: snprintf(out, cap, "%s_test_match_%s_finetune_%uMtx%u_DD-%s-%s-%u-%u_lr=%s", ts6, csize, tok, ep, rec, size, steps, seed, lr); break;
    case 5: snprintf(out, cap, "%s_test_finetune_Ft_DD-%s-%s-%u-%u_lr=%s", ts6, rec, size, steps, seed, lr); break;
    case 6: snprintf(out, cap, "%s_match_%s_c4_finetune_%uMtx%u_DD-%s-%s-%u-%u", ts6, csize, tok, ep, rec, size, steps, seed); break;
    case 7: snprintf(out, cap, "%s_match_%s_finetune_Ft_DD-%s-%s-%u-%u", ts6, csize, rec, size, steps, seed); break;
    case 8: snprintf(out, cap, "%s_match_DD-%s-%s_Ft_DD-%s-%s-%u-%u_lr=%s", ts6, DASH_RECIPES[rnd(3)], csize, rec, size, steps, seed, lr); break;
    case 9: snprintf(out, cap, "%s_test_data_rep_finetune_DD-%s-%s_main_default_--max_train_samples=%u_--reduce_loss=mean", ts8, rec, size, tok * 512); break;
    case 10: snprintf(out, cap, "%s_dpo_tune_cache_DD-%s-%s_main_default", ts8, rec, size); break;
    case 11: snprintf(out, cap, "%s_test_dpo_tune_cache_dd__%s-%s__main__%uMt_lr=%s_default_--learning_rate=%s", ts8, rec, size, tok, lr, lr); break;
    case 12: snprintf(out, cap, "%s_allenai--DataDecide-%s-%s_main_default", ts8, rec, size); break;
    default: snprintf(out, cap, "%s_test_finetune_DD-%s-%s_%uMtx%u_--learning_rate=%s", ts8, rec, size, tok, ep, lr); break;
    }
}

int main(void)
{
    attn_classify_cfg *c = NULL;
    attn_classify_matcher *m = NULL;
    attn_error err;
    if (attn_classify_cfg_load("datadecide", &c, &err) || attn_classify_matcher_new(c, &m, &err)) {
        fprintf(stderr, "bench_classify: %s\n", err.msg);
        return 1;
    }
    char *ids = malloc((size_t)N_IDS * 160);
    uint32_t *lens = malloc(N_IDS * sizeof *lens);
    if (!ids || !lens)
        return 1;
    for (size_t i = 0; i < N_IDS; i++) {
        gen(ids + i * 160, 160);
        lens[i] = (uint32_t)strlen(ids + i * 160);
    }
    const char *types[16] = {0};
    size_t counts[16] = {0}, n_types = 0, multi = 0, matches = 0;
    attn_classify_result r;
    double t0 = cpu_now();
    for (size_t i = 0; i < N_IDS; i++) {
        attn_classify_id(m, ids + i * 160, lens[i], &r);
        matches += r.n_matches;
        multi += r.n_matches > 1;
        size_t t = 0;
        while (t < n_types && strcmp(types[t], r.run_type))
            t++;
        if (t == n_types && n_types < 16)
            types[n_types++] = r.run_type;
        counts[t < 16 ? t : 15]++;
    }
    double dt = cpu_now() - t0;
    printf("classify.datadecide: %d ids x %zu patterns in %.3f s CPU = %.0f ids/s (target < %.1f s)\n",
           N_IDS, attn_classify_cfg_npatterns(c), dt, N_IDS / dt, TARGET_S);
    printf("classify.types:");
    for (size_t t = 0; t < n_types; t++)
        printf(" %s=%zu", types[t], counts[t]);
    printf("; matches %zu, ids with more than one match %zu\n", matches, multi);
    free(ids);
    free(lens);
    attn_classify_matcher_free(m);
    attn_classify_cfg_free(c);
    if (dt >= TARGET_S) {
        fprintf(stderr, "bench_classify: %.3f s is over the %.1f s target\n", dt, TARGET_S);
        return 1;
    }
    return 0;
}
