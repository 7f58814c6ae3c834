#include "core/arena.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

#define ARENA_CHUNK_MIN ((size_t)16 * 1024)
#define ARENA_ALIGN ((size_t)16)

struct mrd_arena_chunk {
    struct mrd_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t off;
    /* Keep the payload aligned: the header is padded to ARENA_ALIGN. */
    _Alignas(16) unsigned char data[];
};

void mrd_arena_init(struct mrd_arena *a, size_t max)
{
    a->head = NULL;
    a->used = 0;
    a->max = max;
}

void mrd_arena_release(struct mrd_arena *a)
{
    struct mrd_arena_chunk *c = a->head;

    while (c != NULL) {
        struct mrd_arena_chunk *next = c->next;
        mrd_free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *mrd_arena_alloc(struct mrd_arena *a, size_t n)
{
    struct mrd_arena_chunk *c = a->head;
    size_t need, size;
    void *p;

    if (n > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need > a->max || a->used > a->max - need)
        return NULL;
    if (c == NULL || c->size - c->off < need) {
        size = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;
        c = mrd_malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->off = 0;
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->off;
    c->off += need;
    a->used += need;
    return p;
}

void *mrd_arena_zalloc(struct mrd_arena *a, size_t n)
{
    void *p = mrd_arena_alloc(a, n);

    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *mrd_arena_strndup(struct mrd_arena *a, const char *s, size_t n)
{
    char *d = mrd_arena_alloc(a, n + 1);

    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
