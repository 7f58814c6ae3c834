#include "core/alloc.h"

#include <stdint.h>
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

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

void *mrd_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n == 0 ? 1 : n);
}

void *mrd_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *mrd_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
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
