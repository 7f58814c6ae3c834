/*
 * arena: a bump allocator for memory that dies together (one HTTP request,
 * one parsed pattern, one log chunk).
 *
 * Allocations are 16-byte aligned and cannot be freed one by one; release
 * frees everything. The total is capped at the max given to init, so a
 * hostile input cannot make one request eat the machine.
 * Not thread-safe.
 */
#ifndef MRD_CORE_ARENA_H
#define MRD_CORE_ARENA_H

#include <stddef.h>

struct mrd_arena_chunk;

struct mrd_arena {
    struct mrd_arena_chunk *head;
    size_t used; /* bytes handed out, all chunks */
    size_t max;
};

void mrd_arena_init(struct mrd_arena *a, size_t max);
/* Frees every chunk; the arena is empty and reusable. */
void mrd_arena_release(struct mrd_arena *a);

/* n bytes, or NULL when out of memory or past the arena's max. */
void *mrd_arena_alloc(struct mrd_arena *a, size_t n);
void *mrd_arena_zalloc(struct mrd_arena *a, size_t n);
/* A NUL-terminated copy of (s, n). */
char *mrd_arena_strndup(struct mrd_arena *a, const char *s, size_t n);

#endif
