/*
 * bench_codeowners.c - CODEOWNERS lookup speed: a deterministic 1,000-rule
 * file in the shapes real files use (anchored directories, nested overrides,
 * extensions, floating directories, `**`, `?`, direct-children `*`, unowned
 * lines) matched against 100,000 generated paths, several rounds.
 *
 * Target (SPEC section 12 / the ownership brief): >= 1M lookups/s on one core.
 * Prints parse time, lookups/s, a checksum of the winning line numbers (the
 * same on every run: the inputs are generated from a fixed seed) and peak RSS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ownership/codeowners.h"
#include "util/buf.h"

#define N_RULES 1000
#define N_PATHS 100000
#define ROUNDS 10

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const EXT[] = {"c", "h", "go", "js", "ts", "tsx", "py", "rb", "rs", "md",
                                  "json", "yml", "java", "kt", "swift", "sql", "proto", "sh",
                                  "css", "html"};
static const char *const DIRS[] = {"src", "lib", "test", "tests", "docs", "internal", "pkg",
                                   "api", "cmd", "tools", "scripts", "config", "vendor",
                                   "generated", "migrations", "fixtures", "assets", "v1", "v2",
                                   "core"};
#define NEXT (sizeof(EXT) / sizeof(EXT[0]))
#define NDIRS (sizeof(DIRS) / sizeof(DIRS[0]))
#define NSVC 400

static void gen_rules(attn_buf *b)
{
    attn_buf_puts(b, "# generated benchmark CODEOWNERS\n* @org/default\n");
    for (int i = 1; i < N_RULES; i++) {
        uint32_t svc = rnd(NSVC), k = rnd(100);
        const char *d = DIRS[rnd(NDIRS)], *e = EXT[rnd(NEXT)];
        if (k < 30)
            attn_buf_printf(b, "/svc%u/ @org/team-%u\n", svc, svc % 97);
        else if (k < 45)
            attn_buf_printf(b, "/svc%u/%s/ @user%u @org/team-%u\n", svc, d, rnd(500), svc % 97);
        else if (k < 55)
            attn_buf_printf(b, "*.%s @lang-%s\n", e, e);
        else if (k < 63)
            attn_buf_printf(b, "%s/ @owner-%s\n", d, d);
        else if (k < 73)
            attn_buf_printf(b, "**/%s/*.%s @user%u\n", d, e, rnd(500));
        else if (k < 80)
            attn_buf_printf(b, "/svc%u/* @user%u\n", svc, rnd(500));
        else if (k < 86)
            attn_buf_printf(b, "/svc%u/**/%s/ owner%u@example.com\n", svc, d, rnd(500));
        else if (k < 90)
            attn_buf_printf(b, "/svc%u/v?/ @org/api-%u\n", svc, rnd(50));
        else if (k < 94)
            attn_buf_printf(b, "/svc%u/%s/*.%s @user%u\n", svc, d, e, rnd(500));
        else if (k < 97)
            attn_buf_printf(b, "/svc%u/%s/\n", svc, DIRS[13]);   /* unowned generated code */
        else
            attn_buf_printf(b, "/svc%u/%s/file%u.%s @user%u\n", svc, d, rnd(20), e, rnd(500));
    }
}

static char **gen_paths(void)
{
    char **paths = malloc(N_PATHS * sizeof(*paths));
    attn_buf p = ATTN_BUF_INIT;
    for (int i = 0; paths && i < N_PATHS; i++) {
        int depth = 1 + (int)rnd(6);
        attn_buf_clear(&p);
        if (depth > 1)
            attn_buf_printf(&p, "svc%u/", rnd(NSVC + 50));
        for (int k = 2; k < depth; k++)
            attn_buf_printf(&p, "%s/", DIRS[rnd(NDIRS)]);
        attn_buf_printf(&p, "file%u.%s", rnd(40), EXT[rnd(NEXT)]);
        paths[i] = strdup(p.ptr);
    }
    attn_buf_free(&p);
    return paths;
}

int main(void)
{
    attn_buf text = ATTN_BUF_INIT;
    attn_codeowners *co = NULL;
    attn_error err;
    char **paths;
    double t0, t1, parse_s, match_s;
    uint64_t checksum = 0, owned = 0, unowned = 0, none = 0;
    struct rusage ru;

    gen_rules(&text);
    paths = gen_paths();
    if (!paths || !text.ptr) {
        fprintf(stderr, "bench_codeowners: out of memory\n");
        return 1;
    }
    t0 = now();
    if (attn_codeowners_parse(text.ptr, text.len, &co, &err)) {
        fprintf(stderr, "bench_codeowners: %s\n", err.msg);
        return 1;
    }
    parse_s = now() - t0;
    if (attn_codeowners_rule_count(co) != N_RULES || attn_codeowners_invalid_count(co)) {
        fprintf(stderr, "bench_codeowners: want %d valid rules, got %zu (%zu invalid)\n",
                N_RULES, attn_codeowners_rule_count(co), attn_codeowners_invalid_count(co));
        return 1;
    }

    t0 = now();
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N_PATHS; i++) {
            const attn_codeowners_rule *rule;
            attn_codeowners_match(co, paths[i], &rule);
            if (r)
                continue;
            if (!rule)
                none++;
            else if (rule->n_owners)
                owned++;
            else
                unowned++;
            checksum = checksum * 31 + (rule ? (uint64_t)rule->line : 0);
        }
    }
    t1 = now();
    match_s = t1 - t0;

    printf("codeowners.parse: %d rules (%zu bytes) in %.4f s\n", N_RULES, text.len, parse_s);
    printf("codeowners.match: %d lookups in %.3f s = %.0f lookups/s\n", N_PATHS * ROUNDS, match_s,
           (double)N_PATHS * ROUNDS / match_s);
    printf("codeowners.match: per path %llu owned, %llu unowned, %llu no rule; checksum %016llx\n",
           (unsigned long long)owned, (unsigned long long)unowned, (unsigned long long)none,
           (unsigned long long)checksum);

    /* Baseline: the same rules as single patterns scanned last-to-first, on
     * the first 10,000 paths; it must agree with the index on every path. */
    {
        attn_codeowners_pattern **pats = calloc(N_RULES, sizeof(*pats));
        int n_base = 10000;
        for (size_t i = 0; pats && i < N_RULES; i++)
            if (attn_codeowners_pattern_compile(attn_codeowners_rule_at(co, i)->pattern, &pats[i],
                                                &err)) {
                fprintf(stderr, "bench_codeowners: %s\n", err.msg);
                return 1;
            }
        t0 = now();
        for (int i = 0; pats && i < n_base; i++) {
            const attn_codeowners_rule *rule, *want = NULL;
            for (size_t k = N_RULES; k-- > 0;)
                if (attn_codeowners_pattern_match(pats[k], paths[i])) {
                    want = attn_codeowners_rule_at(co, k);
                    break;
                }
            attn_codeowners_match(co, paths[i], &rule);
            if (rule != want) {
                fprintf(stderr, "bench_codeowners: '%s': index says line %d, scan says %d\n",
                        paths[i], rule ? rule->line : 0, want ? want->line : 0);
                return 1;
            }
        }
        t1 = now();
        printf("codeowners.linear_scan_baseline: %d lookups in %.3f s = %.0f lookups/s "
               "(agrees with the index)\n",
               n_base, t1 - t0, n_base / (t1 - t0));
        for (size_t i = 0; pats && i < N_RULES; i++)
            attn_codeowners_pattern_free(pats[i]);
        free(pats);
    }

    getrusage(RUSAGE_SELF, &ru);
    printf("codeowners.peak_rss: %ld KiB\n", ru.ru_maxrss);

    for (int i = 0; i < N_PATHS; i++)
        free(paths[i]);
    free(paths);
    attn_codeowners_free(co);
    attn_buf_free(&text);
    return 0;
}
