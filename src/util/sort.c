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

/* Binary insertion sort of b[0, n): fewer comparisons than the heap for
 * the short lists most calls get (a route's candidates: some 20), where a
 * comparison through the pointer is most of the cost. */
#define SMALL_N 32
static void insertion_sort(char *b, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    char t[128];
    for (size_t i = 1; i < n; i++) {
        size_t lo = 0, hi = i;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cmp(b + mid * sz, b + i * sz) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == i)
            continue;
        memcpy(t, b + i * sz, sz);
        memmove(b + (lo + 1) * sz, b + lo * sz, (i - lo) * sz);
        memcpy(b + lo * sz, t, sz);
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
    if (n <= SMALL_N && sz <= 128) {
        insertion_sort(b, n, sz, cmp);
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
