/*
 * load.c: indicators into a matchrun_set, from STIX files or the store.
 *
 * Each file is mapped and walked with match_stix_each() (no DOM: a million
 * indicators fit in about a second and a few hundred MB), while a second
 * thread touches its pages just ahead of the parser; the active
 * indicators' simple patterns go into one match_index, the others to the
 * pattern evaluator. The store is read the same way (store.c), so activity
 * (revoked, valid_from, valid_until) and pattern handling are identical.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"
#include "matchrun/matchrun_int.h"

#define DROP_EVERY ((size_t)32 << 20)  /* loaded bytes between MADV_DONTNEED calls */
#define BYTES_PER_INDICATOR 300        /* for sizing the index before loading */
#define TOUCH_AHEAD ((size_t)32 << 20) /* how far the page toucher runs ahead of the parser */
#define TOUCH_STEP ((size_t)4 << 20)

void matchrun__say(const struct matchrun_log *log, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (log == NULL || log->fn == NULL)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log->fn(log->ctx, line);
}

#define say matchrun__say

/* ---- indicator loading ---- */

struct load_ctx {
    struct matchrun_set *set;
    int64_t now;
    const char *file;
    const struct matchrun_log *log;
    char scratch[MATCH_MAX_PATTERN];
    char pscratch[MATCH_MAX_PATTERN];
    uint32_t cur;
    bool cur_added;
    const char *map; /* the file being loaded, and how much of it was dropped */
    size_t dropped;
    atomic_size_t parsed; /* offset of the last indicator seen, for the toucher */
};

/* Touches the pages of the mapped indicator file just ahead of the parser,
 * on the other core. The first touch of a mapped page costs microseconds
 * on a virtual machine (0.3 s for a 350 MB bundle), and the parser would
 * pay it on the critical path. The toucher only reads, stays at most
 * TOUCH_AHEAD bytes ahead (pages behind the parser are dropped, so RSS
 * stays bounded) and never goes back to pages the parser has passed. */
struct toucher {
    const char *map;
    size_t size;
    atomic_size_t *parsed;
    atomic_bool stop;
    pthread_t tid;
    bool started;
};

static void *touch_main(void *arg)
{
    struct toucher *t = arg;
    const volatile char *map = t->map;
    size_t off = 0;
    unsigned sum = 0;

    while (off < t->size && !atomic_load(&t->stop)) {
        size_t parsed = atomic_load(t->parsed), n;
        if (off < parsed)
            off = parsed & ~(size_t)4095;
        if (off >= parsed + TOUCH_AHEAD) {
            usleep(1000); /* the parser needs ~0.1 s for the window */
            continue;
        }
        n = t->size - off < TOUCH_STEP ? t->size - off : TOUCH_STEP;
#if defined(MADV_POPULATE_READ)
        (void)madvise((void *)(uintptr_t)(t->map + off), n, MADV_POPULATE_READ);
#endif
        for (size_t i = 0; i < n; i += 4096)
            sum += (unsigned char)map[off + i];
        off += n;
    }
    return (void *)(uintptr_t)sum;
}

static enum mrd_code add_pair(void *vctx, enum match_type type, const char *v, size_t n,
                              struct mrd_err *err)
{
    struct load_ctx *lc = vctx;
    struct mrd_err e = {0};
    enum mrd_code rc = match_index_add(lc->set->idx, type, v, n, lc->cur, &e);

    if (rc == MRD_E_INVAL) {
        /* One bad value does not sink the indicator's other values. */
        if (lc->set->stats.bad_values++ < MATCHRUN_MAX_WARNINGS)
            say(lc->log, "%s: skipping value of %s: %s", lc->file,
                matchrun_set_id(lc->set, lc->cur), e.msg);
        return MRD_OK;
    }
    if (rc != MRD_OK) {
        *err = e;
        return rc;
    }
    lc->cur_added = true;
    return MRD_OK;
}

/* The indicator's own id, once it is kept: an EVE alert of an exported
 * Suricata rule, or a Zeek intel.log line, names it (docs/interop.md). */
static enum mrd_code add_own_id(struct load_ctx *lc, const struct match_stix_ind *ind,
                                struct mrd_err *err)
{
    struct mrd_err e = {0};
    enum mrd_code rc = match_index_add(lc->set->idx, MATCH_T_ID, ind->id, ind->id_len, lc->cur, &e);

    if (rc == MRD_E_INVAL)
        return MRD_OK; /* an id without '-' names nothing a tool could report */
    if (rc != MRD_OK)
        *err = e;
    return rc;
}

static enum mrd_code on_indicator(void *vctx, const struct match_stix_ind *ind, struct mrd_err *err)
{
    struct load_ctx *lc = vctx;
    struct mrd_err e = {0};
    enum mrd_code rc;

    atomic_store_explicit(&lc->parsed, ind->offset, memory_order_relaxed);
    if (lc->map != NULL && ind->offset >= lc->dropped + DROP_EVERY) {
        /* Pages behind us are done: keep a 350 MB bundle from becoming
         * 350 MB of resident memory. */
        size_t upto = (ind->offset - 65536) & ~(size_t)4095;
        if (upto > lc->dropped) {
            (void)madvise((void *)(uintptr_t)(lc->map + lc->dropped), upto - lc->dropped,
                          MADV_DONTNEED);
            lc->dropped = upto;
        }
    }
    if (ind->revoked || ind->valid_from > lc->now || ind->valid_until <= lc->now) {
        lc->set->stats.inactive++;
        return MRD_OK;
    }
    if (ind->pattern_type != NULL &&
        !mrd_str_eq(ind->pattern_type, ind->pattern_type_len, "stix")) {
        lc->set->stats.not_stix++;
        return MRD_OK;
    }
    if (ind->id == NULL || ind->pattern == NULL || ind->id_len == 0 || ind->id_len > 100) {
        if (lc->set->stats.bad_values++ < MATCHRUN_MAX_WARNINGS)
            say(lc->log, "%s: offset %zu: indicator without id or pattern skipped", lc->file,
                ind->offset);
        return MRD_OK;
    }
    rc = matchrun_set_add_id(lc->set, ind->id, ind->id_len, &lc->cur, err);
    if (rc != MRD_OK)
        return rc;
    lc->cur_added = false;
    rc = match_pattern_pairs(ind->pattern, ind->pattern_len, lc->pscratch, add_pair, lc, &e);
    if (rc == MRD_E_UNSUPP || rc == MRD_E_PARSE) {
        /* Not expressible by the index: the pattern evaluator runs it on
         * every parsed line. One it rejects is named and skipped. */
        mrd_err_clear(&e);
        rc = matchrun_set_add_prog(lc->set, ind->pattern, ind->pattern_len, lc->cur, &e);
        if (rc == MRD_OK) {
            lc->set->stats.evaluated++;
            lc->set->stats.active++;
            return add_own_id(lc, ind, err);
        }
        if (rc == MRD_E_NOMEM) {
            *err = e;
            return rc;
        }
        if (lc->set->stats.unsupported++ < MATCHRUN_MAX_WARNINGS)
            say(lc->log, "%s: %.*s: %s", lc->file, (int)ind->id_len, ind->id, e.msg);
        matchrun_set_drop_last(lc->set);
        return MRD_OK;
    }
    if (rc != MRD_OK) {
        *err = e;
        return rc;
    }
    if (!lc->cur_added) {
        matchrun_set_drop_last(lc->set);
        return MRD_OK;
    }
    lc->set->stats.active++;
    return add_own_id(lc, ind, err);
}

static enum mrd_code load_file(struct load_ctx *lc, const char *path, struct mrd_err *err)
{
    int fd = -1;
    struct stat st;
    void *map = MAP_FAILED;
    struct toucher t;
    enum mrd_code rc;

    memset(&t, 0, sizeof(t));
    lc->file = path;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > MATCHRUN_MAX_INDICATOR_FILE) {
        rc = mrd_err_set(err, MRD_E_INVAL, "%s: not a regular file of at most 4 GiB", path);
        goto out;
    }
    if (st.st_size == 0) {
        rc = mrd_err_set(err, MRD_E_PARSE, "%s: empty file", path);
        goto out;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "%s: mmap", path);
        goto out;
    }
    (void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    lc->map = map;
    lc->dropped = 0;
    atomic_store(&lc->parsed, 0);
    t.map = map;
    t.size = (size_t)st.st_size;
    t.parsed = &lc->parsed;
    atomic_init(&t.stop, false);
    /* without the thread, the parser touches the pages itself */
    t.started = pthread_create(&t.tid, NULL, touch_main, &t) == 0;
    rc = matchrun_set_reserve(lc->set, lc->set->n + (size_t)st.st_size / BYTES_PER_INDICATOR, err);
    if (rc != MRD_OK)
        goto out;
    rc = match_stix_each(map, (size_t)st.st_size, lc->scratch, on_indicator, lc, err);
    if (rc != MRD_OK)
        mrd_err_prefix(err, "%s", path);
out:
    if (t.started) {
        atomic_store(&t.stop, true);
        pthread_join(t.tid, NULL);
    }
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Loads from a file (data_dir NULL) or from the store at data_dir. The
 * context is on the heap: its two pattern scratch buffers are 128 KiB. */
static enum mrd_code load(struct matchrun_set *s, const char *path, const char *data_dir,
                          const char *collection, int64_t now, const struct matchrun_log *log,
                          struct mrd_err *err)
{
    struct load_ctx *lc = mrd_calloc(1, sizeof(*lc));
    enum mrd_code rc;

    if (lc == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    lc->set = s;
    lc->now = now;
    lc->log = log;
    if (data_dir == NULL) {
        rc = load_file(lc, path, err);
    } else {
        lc->file = data_dir;
        rc = matchrun__store_each(data_dir, collection, lc->scratch, on_indicator, lc, err);
    }
    mrd_free(lc);
    return rc;
}

enum mrd_code matchrun_load_file(struct matchrun_set *s, const char *path, int64_t now,
                                 const struct matchrun_log *log, struct mrd_err *err)
{
    return load(s, path, NULL, NULL, now, log, err);
}

enum mrd_code matchrun_load_store(struct matchrun_set *s, const char *data_dir,
                                  const char *collection, int64_t now,
                                  const struct matchrun_log *log, struct mrd_err *err)
{
    return load(s, NULL, data_dir, collection, now, log, err);
}

enum mrd_code matchrun_set_build(struct matchrun_set *s, struct mrd_err *err)
{
    return match_index_build(s->idx, err);
}
