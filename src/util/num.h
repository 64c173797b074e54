/*
 * num.h - numbers rounded the way they are printed.
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

#endif
