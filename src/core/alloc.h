/*
 * alloc: the allocation functions every Meridian module uses.
 *
 * They behave as malloc/calloc/realloc/free, but a test can make the n-th
 * allocation from now fail (mrd_alloc_fail_after) to prove that every
 * MRD_E_NOMEM path cleans up. The counter is process-global and not
 * thread-safe: use it only from single-threaded unit tests.
 *
 * Blocks of MRD_ALLOC_LARGE bytes or more are mapped apart from the heap
 * and advised to use transparent huge pages (madvise MADV_HUGEPAGE): large
 * hash tables probed at random then cost far fewer page faults and TLB
 * misses. The first such block fixes glibc's mmap threshold at that size
 * (mallopt M_MMAP_THRESHOLD) for the process.
 */
#ifndef MRD_CORE_ALLOC_H
#define MRD_CORE_ALLOC_H

#include <stddef.h>

#include "core/err.h"

#define MRD_ALLOC_LARGE ((size_t)4 * 1024 * 1024)

void *mrd_malloc(size_t n);
void *mrd_calloc(size_t count, size_t size);
void *mrd_realloc(void *p, size_t n);

/* Makes room for element n of a growable array: when n == *cap, doubles
 * *cap (first: the first capacity) and reallocates the array *pp (pp is
 * the address of the array pointer, of any element type). MRD_E_NOMEM
 * leaves the array and *cap as they were. */
enum mrd_code mrd_array_grow(void *pp, size_t n, size_t *cap, size_t elem, size_t first);
void mrd_free(void *p);
/* Copies n bytes and a NUL; NULL on failure. */
char *mrd_strndup(const char *s, size_t n);
char *mrd_strdup(const char *s);

/* Pre-faults n bytes at p that are about to be written, in one call rather
 * than a page fault per 4 KiB as they are first touched (each costs
 * microseconds on a virtual machine; a million indicators write 100 MB).
 * Advice only (MADV_POPULATE_WRITE, Linux 5.14+): errors are ignored. */
void mrd_prefault(void *p, size_t n);

/* The n-th allocation after this call fails (n = 0: the next one); a
 * negative n turns injection off. */
void mrd_alloc_fail_after(long n);

#endif
