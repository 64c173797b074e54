/*
 * prng.c - splitmix64 seeding and xoshiro256** draws (see prng.h for the
 * exact algorithms; any change here changes every synthetic bundle and
 * cohort, so the known-answer tests in test_synth.c pin the outputs).
 */
#include "util/prng.h"

#include <math.h>

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t attn_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void attn_prng_seed(attn_prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = attn_splitmix64(&x);
}

void attn_prng_seed_stream(attn_prng *p, uint64_t seed, uint64_t stream)
{
    attn_prng_seed(p, seed ^ (stream * UINT64_C(0xD1B54A32D192ED03)));
}

void attn_prng_set_state(attn_prng *p, const uint64_t s[4])
{
    for (int i = 0; i < 4; i++)
        p->s[i] = s[i];
}

uint64_t attn_prng_next(attn_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double attn_prng_double(attn_prng *p)
{
    return (double)(attn_prng_next(p) >> 11) * 0x1.0p-53;
}

uint64_t attn_prng_below(attn_prng *p, uint64_t n)
{
    uint64_t threshold, r;
    if (n == 0)
        return 0;
    /* (2^64 - n) mod n, computed in 64 bits: -n wraps to 2^64 - n. */
    threshold = (0 - n) % n;
    do
        r = attn_prng_next(p);
    while (r < threshold);
    return r % n;
}

__extension__ typedef unsigned __int128 u128;

/* a % d without a division, for the d that m = fastmod_m(d) was made for:
 * Lemire, Kaser and Kurz, "Faster remainder by direct computation" (2019),
 * with a 128-bit fraction, which is exact for every 64-bit a and d. */
static inline u128 fastmod_m(uint64_t d)
{
    return ~(u128)0 / d + 1;   /* ceil(2^128 / d); wraps to 0 for d = 1, which works */
}

static inline uint64_t fastmod(uint64_t a, u128 m, uint64_t d)
{
    u128 low = m * a;   /* the fraction part of a / d, mod 2^128 */
    u128 bottom = ((low & UINT64_MAX) * (u128)d) >> 64, top = (low >> 64) * (u128)d;
    return (uint64_t)((bottom + top) >> 64);
}

void attn_prng_fill_below(attn_prng *p, uint64_t n, size_t *out, size_t count)
{
    uint64_t threshold, r;
    u128 m;
    if (n == 0) {
        for (size_t i = 0; i < count; i++)
            out[i] = 0;
        return;
    }
    /* the bootstrap draws millions: one division here instead of one per
     * draw (profile: the divisions were a quarter of a report's bootstrap) */
    m = fastmod_m(n);
    threshold = fastmod(0 - n, m, n);
    for (size_t i = 0; i < count; i++) {
        do
            r = attn_prng_next(p);
        while (r < threshold);
        out[i] = (size_t)fastmod(r, m, n);
    }
}

int64_t attn_prng_range(attn_prng *p, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)attn_prng_below(p, (uint64_t)(hi - lo) + 1);
}

int attn_prng_chance(attn_prng *p, double prob)
{
    return attn_prng_double(p) < prob;
}

double attn_prng_exp(attn_prng *p, double mean)
{
    return -mean * log(1.0 - attn_prng_double(p));
}

uint64_t attn_prng_geometric(attn_prng *p, double prob)
{
    double u;
    if (prob >= 1.0)
        return 0;
    if (prob <= 0.0)
        prob = 1e-12;
    u = attn_prng_double(p);
    return (uint64_t)floor(log(1.0 - u) / log(1.0 - prob));
}

double attn_prng_normal(attn_prng *p)
{
    double u1 = attn_prng_double(p);
    double u2 = attn_prng_double(p);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

int attn_prng_weighted(attn_prng *p, const double *w, size_t n)
{
    double total = 0, r, cum = 0;
    int last = -1;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0)
            total += w[i];
    if (!(total > 0))
        return -1;
    r = attn_prng_double(p) * total;
    for (size_t i = 0; i < n; i++) {
        if (!(w[i] > 0))
            continue;
        cum += w[i];
        last = (int)i;
        if (r < cum)
            return (int)i;
    }
    return last;   /* rounding left r == total: the last positive weight */
}

void attn_prng_shuffle(attn_prng *p, int *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)attn_prng_below(p, i);
        int tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}
