/*
 * num.c - numbers rounded the way they are printed (num.h).
 */
#include "util/num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The value printf("%.<digits>g") then strtod give, the slow way. */
static double round_printf(double v, int digits)
{
    char b[48];
    snprintf(b, sizeof(b), "%.*g", digits, v);
    return strtod(b, NULL);
}

/*
 * Mostly without printf: every route rounds about a thousand scores,
 * feature values and contributions, and printf was most of the cost. With
 * v's decimal exponent e, the digits are r = the nearest integer to
 * v * 10^(digits - 1 - e), and the result r / 10^k (or r * 10^-k)
 * is one correctly rounded operation on exact doubles (r < 2^53, powers of
 * ten up to 10^22 are exact), which is what strtod returns for the printed
 * decimal. The product carries one rounding error (relative 2^-53, so below
 * 10^digits * 1e-14 absolute); when it lies that close to a tie or to the
 * ends of the digit range, printf decides. test_util compares the two on
 * random values.
 */
double attn_round_sig(double v, int digits)
{
    int64_t mant;
    int k;
    return attn_round_sig_parts(v, digits, &mant, &k);
}

double attn_round_sig_parts(double v, int digits, int64_t *mant, int *k_out)
{
    static const double P10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double a = fabs(v), lo = P10[digits - 1], hi = P10[digits], tol = hi * 1e-14, scaled, fl,
           frac;
    int k;
    *mant = -1;
    *k_out = 0;
    if (!isfinite(v))
        return 0;
    if (v == 0)
        return v;
    if (a < hi && v == floor(v)) {
        *mant = digits <= 14 ? (int64_t)a : -1;
        return v;                       /* an integer of at most `digits` digits */
    }
    k = digits - 1 - (int)floor(log10(a));
    if (k < -22 || k > 22)
        return round_printf(v, digits);
    scaled = k >= 0 ? a * P10[k] : a / P10[-k];
    if (!(scaled >= lo + tol && scaled < hi - tol))
        return round_printf(v, digits); /* the exponent is off by one near a power of ten */
    fl = floor(scaled);
    frac = scaled - fl;
    if (fabs(frac - 0.5) < tol)
        return round_printf(v, digits); /* too near a tie to trust the product */
    fl += frac > 0.5;
    a = k >= 0 ? fl / P10[k] : fl * P10[-k];
    if (digits <= 14) {                 /* the decimal is then the only one */
        *mant = (int64_t)fl;
        *k_out = k;
    }
    return v < 0 ? -a : a;
}

