/*
 * sort.c - sorts that never allocate (sort.h).
 */
#include "util/sort.h"

#include <string.h>

static void swap_el(char *a, char *b, size_t sz)
{
    char t[128];
    while (sz) {
        size_t c = sz < sizeof(t) ? sz : sizeof(t);
        memcpy(t, a, c);
        memcpy(a, b, c);
        memcpy(b, t, c);
        a += c;
        b += c;
        sz -= c;
    }
}

/* Restore the heap order (each parent after its children in cmp's order)
 * below root, in b[0, n). */
static void sift(char *b, size_t root, size_t n, size_t sz,
                 int (*cmp)(const void *, const void *))
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && cmp(b + child * sz, b + (child + 1) * sz) < 0)
            child++;
        if (cmp(b + root * sz, b + child * sz) >= 0)
            return;
        swap_el(b + root * sz, b + child * sz, sz);
    }
}

/* Binary insertion: fewer comparisons than the heap for the short lists
 * and small k most calls have (a route's candidates: some 20; top_k 30),
 * where a comparison through the pointer is most of the cost. */
#define SMALL_N 32

/* The place in sorted b[0, n) for the element at x: after its equals. */
static size_t insert_at(const char *b, size_t n, const char *x, size_t sz,
                        int (*cmp)(const void *, const void *))
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(b + mid * sz, x) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* b[0, k) sorted with binary insertion; then each later element that comes
 * before the last of them takes its place in order, and the last moves to
 * where that element was (nothing is lost). */
static void insertion_top(char *b, size_t n, size_t k, size_t sz,
                          int (*cmp)(const void *, const void *))
{
    char t[128];
    for (size_t i = 1; i < n; i++) {
        size_t m = i < k ? i : k, at;
        if (i >= k && cmp(b + i * sz, b + (k - 1) * sz) >= 0)
            continue;
        at = insert_at(b, m, b + i * sz, sz, cmp);
        memcpy(t, b + i * sz, sz);
        if (i >= k) {   /* the last of the k leaves for i's slot */
            memcpy(b + i * sz, b + (k - 1) * sz, sz);
            m = k - 1;
        }
        memmove(b + (at + 1) * sz, b + at * sz, (m - at) * sz);
        memcpy(b + at * sz, t, sz);
    }
}

void attn_heap_top(void *base, size_t n, size_t k, size_t sz,
                   int (*cmp)(const void *, const void *))
{
    char *b = base;
    if (k > n)
        k = n;
    if (k == 0)
        return;
    if ((n <= SMALL_N || k <= SMALL_N) && sz <= 128) {
        insertion_top(b, n, k, sz, cmp);
        return;
    }
    for (size_t i = k / 2; i-- > 0;)
        sift(b, i, k, sz, cmp);
    /* the root is the last of the first k so far: one that comes before it
     * takes its place */
    for (size_t i = k; i < n; i++)
        if (cmp(b + i * sz, b) < 0) {
            swap_el(b, b + i * sz, sz);
            sift(b, 0, k, sz, cmp);
        }
    for (size_t end = k - 1; end > 0; end--) {
        swap_el(b, b + end * sz, sz);
        sift(b, 0, end, sz, cmp);
    }
}

void attn_heap_sort(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    attn_heap_top(base, n, n, sz, cmp);
}
