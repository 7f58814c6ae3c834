#include "core/alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

#define HUGE_PAGE ((uintptr_t)2 * 1024 * 1024)

static long fail_countdown = -1;

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0) {
        fail_countdown = -1;
        return 1;
    }
    fail_countdown--;
    return 0;
}

void mrd_alloc_fail_after(long n)
{
    fail_countdown = n;
}

/* A block of MRD_ALLOC_LARGE bytes or more: glibc maps it on its own
 * (the threshold is fixed here once, instead of glibc's, which rises to
 * the size of the last mapped block freed and would then carve large
 * blocks from the heap, where calloc writes every page), and it is advised
 * to use transparent huge pages before any page is touched: one fault and
 * one TLB entry per 2 MiB instead of per 4 KiB for the large hash tables
 * and arrays that are probed at random (a fifth of the CPU time of
 * `meridian bgp scan` on a virtual machine). Advice only: errors are
 * ignored, and THP set to "never" leaves 4 KiB pages. */
static void *large(void *p, size_t n)
{
#if defined(MADV_HUGEPAGE)
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);

    if (p != NULL && e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)n;
#endif
    return p;
}

static void large_threshold(void)
{
    static atomic_bool done;

    if (!atomic_load_explicit(&done, memory_order_relaxed) && !atomic_exchange(&done, true))
        (void)mallopt(M_MMAP_THRESHOLD, (int)MRD_ALLOC_LARGE);
}

void *mrd_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    if (n >= MRD_ALLOC_LARGE) {
        large_threshold();
        return large(malloc(n), n);
    }
    return malloc(n == 0 ? 1 : n);
}

void *mrd_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    if (size != 0 && count >= MRD_ALLOC_LARGE / size) {
        large_threshold();
        return large(calloc(count, size), count * size);
    }
    return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *mrd_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    if (n >= MRD_ALLOC_LARGE) {
        size_t old = p != NULL ? malloc_usable_size(p) : 0;
        void *q;
        large_threshold();
        if (old >= MRD_ALLOC_LARGE || old >= n)
            return large(realloc(p, n), n); /* mapped already: mremap keeps the advice */
        /* From the heap to a mapping: advised before the copy touches it. */
        q = large(malloc(n), n);
        if (q != NULL && p != NULL) {
            memcpy(q, p, old);
            free(p);
        }
        return q;
    }
    return realloc(p, n == 0 ? 1 : n);
}

enum mrd_code mrd_array_grow(void *pp, size_t n, size_t *cap, size_t elem, size_t first)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return MRD_OK;
    ncap = *cap == 0 ? first : *cap * 2;
    if (elem == 0 || ncap > SIZE_MAX / elem)
        return MRD_E_NOMEM;
    memcpy(&p, pp, sizeof(p)); /* the caller's pointer, whatever its element type */
    p = mrd_realloc(p, ncap * elem);
    if (p == NULL)
        return MRD_E_NOMEM;
    memcpy(pp, &p, sizeof(p));
    *cap = ncap;
    return MRD_OK;
}

void mrd_free(void *p)
{
    free(p);
}

char *mrd_strndup(const char *s, size_t n)
{
    char *d = mrd_malloc(n + 1);

    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *mrd_strdup(const char *s)
{
    return mrd_strndup(s, strlen(s));
}

void mrd_prefault(void *p, size_t n)
{
#if defined(MADV_POPULATE_WRITE)
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;

    if (e > a)
        (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}
