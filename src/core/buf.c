#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

void mrd_buf_init(struct mrd_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void mrd_buf_release(struct mrd_buf *b)
{
    mrd_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void mrd_buf_reset(struct mrd_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

enum mrd_code mrd_buf_reserve(struct mrd_buf *b, size_t n, struct mrd_err *err)
{
    size_t want, cap;
    char *p;

    if (n > b->max || b->len > b->max - n)
        return mrd_err_set(err, MRD_E_TOOBIG, "buffer limit of %zu bytes exceeded", b->max);
    want = b->len + n + 1;
    if (want <= b->cap)
        return MRD_OK;
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < want)
        cap = cap > ((size_t)-1) / 2 ? want : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    p = mrd_realloc(b->data, cap);
    if (p == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory growing buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return MRD_OK;
}

enum mrd_code mrd_buf_append(struct mrd_buf *b, const void *p, size_t n, struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_reserve(b, n, err);

    if (rc != MRD_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return MRD_OK;
}

enum mrd_code mrd_buf_insert(struct mrd_buf *b, size_t at, const void *p, size_t n,
                             struct mrd_err *err)
{
    enum mrd_code rc;

    if (at > b->len)
        return mrd_err_set(err, MRD_E_INVAL, "buffer insert at %zu past the end (%zu)", at, b->len);
    rc = mrd_buf_reserve(b, n, err);
    if (rc != MRD_OK || n == 0)
        return rc;
    memmove(b->data + at + n, b->data + at, b->len - at);
    memcpy(b->data + at, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return MRD_OK;
}

enum mrd_code mrd_buf_puts(struct mrd_buf *b, const char *s, struct mrd_err *err)
{
    return mrd_buf_append(b, s, strlen(s), err);
}

enum mrd_code mrd_buf_putc(struct mrd_buf *b, char c, struct mrd_err *err)
{
    if (b->len + 1 < b->cap && b->len < b->max) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return MRD_OK;
    }
    return mrd_buf_append(b, &c, 1, err);
}

enum mrd_code mrd_buf_vprintf(struct mrd_buf *b, struct mrd_err *err, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    enum mrd_code rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return mrd_err_set(err, MRD_E_INVAL, "bad format string");
    rc = mrd_buf_reserve(b, (size_t)n, err);
    if (rc != MRD_OK)
        return rc;
    (void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return MRD_OK;
}

enum mrd_code mrd_buf_printf(struct mrd_buf *b, struct mrd_err *err, const char *fmt, ...)
{
    va_list ap;
    enum mrd_code rc;

    va_start(ap, fmt);
    rc = mrd_buf_vprintf(b, err, fmt, ap);
    va_end(ap);
    return rc;
}

char *mrd_buf_take(struct mrd_buf *b, size_t *ret_len)
{
    char *p = b->data;

    if (p == NULL) {
        p = mrd_strndup("", 0);
        if (p == NULL)
            return NULL;
    }
    if (ret_len != NULL)
        *ret_len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

enum mrd_code mrd_buf_read_fd(struct mrd_buf *b, int fd, const char *name, struct mrd_err *err)
{
    char chunk[65536];
    struct stat sb;
    enum mrd_code rc;

    /* A regular file's size is known: make room once and read straight
     * into the buffer (no copy through chunk, no regrowth). The size is a
     * hint: the loop below still reads to the end and enforces max. */
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 && b->len <= b->max)
        (void)mrd_buf_reserve(
            b, (uint64_t)sb.st_size < b->max - b->len ? (size_t)sb.st_size : b->max - b->len, NULL);
    for (;;) {
        size_t room = b->data != NULL ? b->cap - b->len - 1 : 0; /* cap <= max + 1 */
        bool direct = room >= sizeof(chunk);
        ssize_t r = read(fd, direct ? b->data + b->len : chunk, direct ? room : sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "%s: read", name);
        if (r == 0)
            break;
        if (direct) {
            b->len += (size_t)r;
            b->data[b->len] = '\0';
            continue;
        }
        rc = mrd_buf_append(b, chunk, (size_t)r, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "%s", name);
            return rc;
        }
    }
    return b->data == NULL ? mrd_buf_reserve(b, 0, err) : MRD_OK; /* "" for an empty file */
}

enum mrd_code mrd_buf_read_file(struct mrd_buf *b, const char *path, struct mrd_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    enum mrd_code rc;

    if (fd < 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
    rc = mrd_buf_read_fd(b, fd, path, err);
    (void)close(fd);
    return rc;
}
