/*
 * buf: a growable byte buffer with a hard maximum.
 *
 * Every buffer fed from network, file or database is created with a named
 * maximum; growing past it fails with MRD_E_TOOBIG and leaves the contents
 * as they were. The data is always NUL-terminated (the NUL is not counted
 * in len and not in max), so text can be handed to C APIs directly.
 * Not thread-safe; owns its memory until mrd_buf_take().
 */
#ifndef MRD_CORE_BUF_H
#define MRD_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

struct mrd_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* largest len allowed */
};

/* Prepares an empty buffer that may hold up to max bytes. */
void mrd_buf_init(struct mrd_buf *b, size_t max);

/* Frees the memory; the buffer is empty and reusable afterwards. */
void mrd_buf_release(struct mrd_buf *b);

/* Empties the buffer but keeps its memory. */
void mrd_buf_reset(struct mrd_buf *b);

/* Makes room for n more bytes. */
enum mrd_code mrd_buf_reserve(struct mrd_buf *b, size_t n, struct mrd_err *err);

enum mrd_code mrd_buf_append(struct mrd_buf *b, const void *p, size_t n, struct mrd_err *err);
/* Inserts n bytes at offset at (at most len), moving what follows. */
enum mrd_code mrd_buf_insert(struct mrd_buf *b, size_t at, const void *p, size_t n,
                             struct mrd_err *err);
enum mrd_code mrd_buf_puts(struct mrd_buf *b, const char *s, struct mrd_err *err);
enum mrd_code mrd_buf_putc(struct mrd_buf *b, char c, struct mrd_err *err);
enum mrd_code mrd_buf_printf(struct mrd_buf *b, struct mrd_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum mrd_code mrd_buf_vprintf(struct mrd_buf *b, struct mrd_err *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Hands the data out (NUL-terminated, never NULL on success) and empties the
 * buffer. Returns NULL only when allocating an empty string fails. */
char *mrd_buf_take(struct mrd_buf *b, size_t *ret_len);

/* Appends everything readable from fd (to EOF) to b; name is for
 * messages ("NAME: read: ..."). Past b's maximum: MRD_E_TOOBIG naming
 * NAME. The data stays NUL-terminated, also for an empty file. */
enum mrd_code mrd_buf_read_fd(struct mrd_buf *b, int fd, const char *name, struct mrd_err *err);

/* mrd_buf_read_fd on the file at path (opened O_CLOEXEC, closed after). */
enum mrd_code mrd_buf_read_file(struct mrd_buf *b, const char *path, struct mrd_err *err);

#endif
