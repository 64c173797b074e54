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

#endif
