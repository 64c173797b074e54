/*
 * num.h - small numeric helpers: numbers rounded the way they are printed,
 * and the lower bound in a sorted list of 32-bit positions.
 *
 * Scores and evidence are rounded to a few significant digits before they
 * are compared or stored, so two summation orders of the same terms give the
 * same bytes. The rule is printf's: the value printf("%.<digits>g") then
 * strtod give.
 */
#ifndef ATTN_UTIL_NUM_H
#define ATTN_UTIL_NUM_H

/* v to `digits` (1..17) significant digits, exactly as printf then strtod
 * round it; 0 for a non-finite v, and a zero keeps its sign. */
double attn_round_sig(double v, int digits);

#include <stddef.h>
#include <stdint.h>

/* attn_round_sig, and the decimal it read back: when *mant >= 0 the result
 * is the double nearest to +-*mant * 10^-*k (at most digits + 1 digits in
 * *mant), which is then also its shortest round-trip form (a decimal of up
 * to 15 digits is the only one that reads back to its double) and can be
 * written without searching for it (attn_json_put_decimal). *mant is -1
 * for a zero, a non-finite v, the rare values printf decides, and digits
 * above 14. */
double attn_round_sig_parts(double v, int digits, int64_t *mant, int *k);

/* The first k in [lo, hi) with pos[k] >= v (hi when none), pos[lo, hi)
 * ascending: the posting-list search of the activity index and the learned
 * features' fact index (inline: both call it in their inner loops). */
static inline size_t attn_lower_u32(const uint32_t *pos, size_t lo, size_t hi, size_t v)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* attn_lower_u32 searched outwards from hint (clamped to [lo, hi]): about
 * 2 log2 d steps when the answer is d places from the hint, all near it,
 * where a bisection of a long list misses the cache at most of its steps.
 * For searches that follow each other with nearly the same v. */
static inline size_t attn_lower_u32_from(const uint32_t *pos, size_t lo, size_t hi, size_t v,
                                         size_t hint)
{
    size_t step = 1;
    if (hint < lo)
        hint = lo;
    if (hint > hi)
        hint = hi;
    if (hint < hi && pos[hint] < v) {
        /* the answer is past hint: probe hint + 1, + 2, + 4, ... */
        size_t a = hint + 1;
        for (;;) {
            size_t b = hi - a > step ? a + step : hi;
            if (b == hi || pos[b] >= v)
                return attn_lower_u32(pos, a, b, v);
            a = b + 1;
            step *= 2;
        }
    }
    if (hint > lo && pos[hint - 1] >= v) {
        /* the answer is before hint */
        size_t b = hint - 1;
        for (;;) {
            size_t a = b - lo > step ? b - step : lo;
            if (a == lo || pos[a - 1] < v)
                return attn_lower_u32(pos, a, b, v);
            b = a - 1;
            step *= 2;
        }
    }
    return hint;
}

#endif
