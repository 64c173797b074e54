/*
 * prng.h - attn's documented pseudo-random number generator.
 *
 * Everything attn draws at random (synthetic histories, cohort sampling,
 * bootstrap intervals) goes through this module, never libc rand(), so that a
 * seed means the same thing on every platform and in every language. The
 * algorithms are published ones and are written out here so another
 * implementation can reproduce attn's draws bit for bit:
 *
 * splitmix64 (Steele, Lea, Flood 2014; the seeder of Java's SplittableRandom).
 *   State x is one uint64. next: x += 0x9E3779B97F4A7C15;
 *   z = x; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *   z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31).
 *   All arithmetic is modulo 2^64.
 *
 * xoshiro256** 1.0 (Blackman, Vigna 2018). State s[0..3], four uint64.
 *   next: result = rotl(s[1] * 5, 7) * 9; t = s[1] << 17;
 *   s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t;
 *   s[3] = rotl(s[3], 45); return result.
 *
 * Seeding: attn_prng_seed(p, seed) sets the splitmix64 state x = seed and
 * fills s[0], s[1], s[2], s[3] with its first four outputs, in that order.
 * attn_prng_seed_stream(p, seed, stream) does the same from
 * x = seed XOR (stream * 0xD1B54A32D192ED03) (mod 2^64), which gives cheap,
 * independent-looking sub-streams (stream 0 is plain attn_prng_seed), e.g.
 * one stream per pull request so a PR's draws do not depend on the others.
 *
 * Derived draws (each consumes whole outputs of next, in order):
 * - attn_prng_double: (next >> 11) * 2^-53, a multiple of 2^-53 in [0, 1).
 * - attn_prng_below(n), n > 0: threshold = (2^64 - n) mod n; draw r until
 *   r >= threshold; return r mod n. Unbiased (the OpenBSD
 *   arc4random_uniform rule); usually one draw. n == 0 returns 0, no draw.
 * - attn_prng_range(lo, hi): lo + below(hi - lo + 1), inclusive.
 * - attn_prng_chance(p): double < p.
 * - attn_prng_exp(mean): -mean * log(1 - double)  (C99 log).
 * - attn_prng_geometric(p): failures before the first success with success
 *   probability p in (0, 1]: floor(log(1 - double) / log(1 - p)); 0 if p >= 1.
 * - attn_prng_normal(): Box-Muller with u1, u2 = two doubles in that order:
 *   sqrt(-2 log(1 - u1)) * cos(2 pi u2).
 * - attn_prng_weighted(w, n): total = sum of w[i] > 0 (negative weights count
 *   as 0); r = double * total; return the first i with r < w[0] + ... + w[i]
 *   and w[i] > 0; -1 (and no draw) when total is 0.
 * - attn_prng_shuffle(a, n): Fisher-Yates from the end: for i = n-1 down to
 *   1: j = below(i + 1); swap a[i], a[j].
 *
 * The draws that use log/cos/sqrt are reproducible across languages as long
 * as those functions are correctly rounded for the inputs involved (true of
 * glibc, musl and most language runtimes in practice).
 */
#ifndef ATTN_UTIL_PRNG_H
#define ATTN_UTIL_PRNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct attn_prng {
    uint64_t s[4];
} attn_prng;

/* One step of splitmix64 on *x (advances it); exposed for seeding and hashing. */
uint64_t attn_splitmix64(uint64_t *x);

void attn_prng_seed(attn_prng *p, uint64_t seed);
void attn_prng_seed_stream(attn_prng *p, uint64_t seed, uint64_t stream);
/* Set the raw xoshiro state (for known-answer tests); all-zero is invalid. */
void attn_prng_set_state(attn_prng *p, const uint64_t s[4]);

uint64_t attn_prng_next(attn_prng *p);
double attn_prng_double(attn_prng *p);
uint64_t attn_prng_below(attn_prng *p, uint64_t n);
/* out[0..count) = count successive attn_prng_below(n) draws (the same values;
 * the threshold is computed once, which halves the divisions). */
void attn_prng_fill_below(attn_prng *p, uint64_t n, size_t *out, size_t count);
int64_t attn_prng_range(attn_prng *p, int64_t lo, int64_t hi);
int attn_prng_chance(attn_prng *p, double prob);
double attn_prng_exp(attn_prng *p, double mean);
uint64_t attn_prng_geometric(attn_prng *p, double prob);
double attn_prng_normal(attn_prng *p);
int attn_prng_weighted(attn_prng *p, const double *w, size_t n);
void attn_prng_shuffle(attn_prng *p, int *a, size_t n);

#endif
