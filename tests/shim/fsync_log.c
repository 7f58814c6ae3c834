/*
 * fsync_log: an LD_PRELOAD shim for tests (never linked into meridian).
 * It records every fsync(2), fdatasync(2) and pwrite(2)/write(2) to a file
 * whose path ends in one of the suffixes the test names, so a test can
 * prove that what the program acknowledges was synced first: that a
 * TAXII POST's commit fsyncs the store before the 202, and that a ledger
 * append fdatasyncs the log after its last write.
 *
 *   FSYNC_LOG=FILE        where records go (appended; required, else the
 *                         shim only passes calls through)
 *   FSYNC_LOG_WRITES=S1:S2  path suffixes whose writes are recorded too
 *
 * One record per line: "<CLOCK_MONOTONIC ns> <call> <path of the fd>".
 * Written with one write(2) on an O_APPEND descriptor, so lines from
 * several threads never interleave. The real functions come from
 * dlsym(RTLD_NEXT).
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define FSYNC_LOG_LINE (PATH_MAX + 64)

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_write)(int, const void *, size_t);

static int log_fd(void)
{
    static int fd = -2;

    if (fd == -2) {
        const char *p = getenv("FSYNC_LOG");
        fd = p != NULL ? open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
    }
    return fd;
}

static bool wanted_write(const char *path)
{
    const char *list = getenv("FSYNC_LOG_WRITES");
    size_t pl = strlen(path);

    while (list != NULL && *list != '\0') {
        const char *end = strchr(list, ':');
        size_t n = end != NULL ? (size_t)(end - list) : strlen(list);
        if (n > 0 && n <= pl && memcmp(path + pl - n, list, n) == 0)
            return true;
        list = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static void record(const char *call, int fd, bool is_write)
{
    char link[64], path[PATH_MAX], line[FSYNC_LOG_LINE];
    struct timespec ts;
    ssize_t n;
    int len, saved = errno, out = log_fd();

    if (out < 0 || fd == out)
        goto done;
    (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n < 0)
        goto done;
    path[n] = '\0';
    if (is_write && !wanted_write(path))
        goto done;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    len = snprintf(line, sizeof(line), "%lld %s %s\n",
                   (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, call, path);
    if (len > 0 && len < (int)sizeof(line) && real_write != NULL)
        (void)real_write(out, line, (size_t)len);
done:
    errno = saved;
}

/* dlsym returns an object pointer; POSIX guarantees it converts to a
 * function pointer, ISO C does not, so the bytes are copied. */
static void load(void *fn, const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);

    memcpy(fn, &p, sizeof(p));
}

static void resolve(void)
{
    if (real_write == NULL) {
        load(&real_fsync, "fsync");
        load(&real_fdatasync, "fdatasync");
        load(&real_pwrite, "pwrite");
        load(&real_pwrite64, "pwrite64");
        load(&real_write, "write");
    }
}

int fsync(int fd)
{
    resolve();
    record("fsync", fd, false);
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    resolve();
    record("fdatasync", fd, false);
    return real_fdatasync(fd);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    resolve();
    record("pwrite", fd, true);
    return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    resolve();
    record("pwrite", fd, true);
    return real_pwrite64(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    resolve();
    if (fd > 2)
        record("write", fd, true);
    return real_write(fd, buf, n);
}
