/*
 * sort.h - in-place sorts for small per-PR arrays (a heap, and binary
 * insertion for the shortest).
 *
 * glibc's qsort mallocs a buffer for arrays over 1 KB, and after a route's
 * JSON churn that malloc consolidated the heap every time; these never
 * allocate. With a total order (every caller's) the result is the one any
 * sort gives.
 */
#ifndef ATTN_UTIL_SORT_H
#define ATTN_UTIL_SORT_H

#include <stddef.h>

/* base[0, k) gets the first k elements of cmp's order, sorted; the others
 * end in base[k, n) in no particular order (k > n counts as n). About
 * n + k log k comparisons when few of the rest belong in the first k: a
 * top_k of hundreds of candidates needs no full sort. For up to 32
 * elements, or k up to 32, the first k are kept in order by binary
 * insertion instead of a heap (elements of up to 128 bytes). */
void attn_heap_top(void *base, size_t n, size_t k, size_t size,
                   int (*cmp)(const void *, const void *));
/* All of base[0, n) sorted: attn_heap_top with k = n. */
void attn_heap_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
