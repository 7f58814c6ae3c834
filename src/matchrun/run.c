/*
 * run.c: files in, hits/summary/sightings out (matchrun.h).
 *
 * Regular files are mapped and cut into chunks at line boundaries; one
 * worker per core takes chunks from an atomic counter and scans them with
 * match_scan(). Hits are kept per chunk (value as a file offset, line as an
 * offset in the chunk) because a chunk's first line number is only known
 * once every chunk before it has been counted; they are written in file
 * order at the end. Scanned pages are dropped with MADV_DONTNEED so a 2 GB
 * log does not become 2 GB of resident memory.
 * Pipes, stdin and --follow are read as streams by one thread, and hits are
 * written as they are found.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "matchrun/matchrun_int.h"

#define CHUNK_SIZE ((size_t)4 << 20) /* small enough that the last ones balance the cores */
#define DETECT_BYTES ((size_t)64 << 10)
#define MAX_FIELDS 512                    /* distinct field names in hit output */
#define MAX_HIT_RECORDS ((size_t)8 << 20) /* hits kept for --hits; more are counted */
#define STREAM_BLOCK ((size_t)1 << 20)
#define READ_BLOCK ((size_t)256 << 10) /* parsed while in L2 */
#define FOLLOW_POLL_USEC 200000

/* ---- the indicator set ---- */

void matchrun_set_init(struct matchrun_set *s)
{
    memset(s, 0, sizeof(*s));
}

void matchrun_set_release(struct matchrun_set *s)
{
    matchrun_set_free_progs(s);
    match_index_free(s->idx);
    mrd_free(s->idbuf);
    mrd_free(s->idoff);
    memset(s, 0, sizeof(*s));
}

enum mrd_code matchrun_set_begin(struct matchrun_set *s, struct mrd_err *err)
{
    return match_index_new(&s->idx, err);
}

enum mrd_code matchrun_set_add_id(struct matchrun_set *s, const char *id, size_t n, uint32_t *ret,
                                  struct mrd_err *err)
{
    if (s->n >= MATCH_MAX_INDICATORS)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %u indicators", MATCH_MAX_INDICATORS);
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4096;
        uint64_t *no = mrd_realloc(s->idoff, nc * sizeof(*no));
        if (no == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        s->idoff = no;
        s->cap = nc;
    }
    if (s->idlen + n + 1 > s->idcap) {
        size_t nc = s->idcap ? s->idcap * 2 : 65536;
        char *nb;
        while (nc < s->idlen + n + 1)
            nc *= 2;
        nb = mrd_realloc(s->idbuf, nc);
        if (nb == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        s->idbuf = nb;
        s->idcap = nc;
    }
    memcpy(s->idbuf + s->idlen, id, n);
    s->idbuf[s->idlen + n] = '\0';
    s->idoff[s->n] = (uint64_t)s->idlen << 8 | (uint64_t)n;
    s->idlen += n + 1;
    *ret = (uint32_t)s->n;
    s->n++;
    return MRD_OK;
}

enum mrd_code matchrun_set_reserve(struct matchrun_set *s, size_t n, struct mrd_err *err)
{
    if (n > s->cap) {
        uint64_t *no = mrd_realloc(s->idoff, n * sizeof(*no));
        if (no == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        s->idoff = no;
        s->cap = n;
        mrd_prefault(s->idoff + s->n, (n - s->n) * sizeof(*no));
    }
    if (n * 48 > s->idcap) {
        char *nb = mrd_realloc(s->idbuf, n * 48);
        if (nb == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        s->idbuf = nb;
        s->idcap = n * 48;
        mrd_prefault(s->idbuf + s->idlen, s->idcap - s->idlen);
    }
    return match_index_reserve(s->idx, n, err);
}

void matchrun_set_drop_last(struct matchrun_set *s)
{
    if (s->n == 0)
        return;
    s->n--;
    s->idlen = (size_t)(s->idoff[s->n] >> 8);
}

const char *matchrun_set_id(const struct matchrun_set *s, uint32_t i)
{
    return s->idbuf + (s->idoff[i] >> 8);
}

/* ---- shared run state ---- */

/* One indicator's hits; count 0 marks a free entry of a struct sums. */
struct summary {
    uint64_t count;
    int64_t first, last; /* valid when timed */
    uint32_t ind;
    uint32_t file; /* the input's index; 0 in the per-indicator totals */
    bool timed;
};

/* Summaries of the indicators that were hit, in an open-addressing table
 * keyed by indicator number. An array with an entry for each of a million
 * indicators would cost a page fault on the first hit of each page, and
 * fresh pages are what a scan that is otherwise done in L2 pays most for. */
struct sums {
    struct summary *tab;
    size_t mask; /* slots - 1; tab is NULL until the first hit */
    size_t n;
    bool nomem; /* a hit could not be counted */
};

struct hitrec {
    uint64_t value_off; /* in the chunk's vals */
    int64_t time;
    uint32_t line; /* within the chunk */
    uint32_t ind;
    uint32_t value_len;
    uint16_t field;
};

struct chunk {
    size_t off, len;
    struct match_stats st;
    struct hitrec *hits;
    size_t nhits, cap;
    char *vals; /* the hit values, copied while their piece is in the buffer */
    size_t vlen, vcap;
};

struct run {
    const struct matchrun_set *set;
    const struct matchrun_opts *o;
    FILE *hits_out;
    struct sums sums;            /* per indicator (file 0), for the summary and sightings */
    struct sums files;           /* per (indicator, input), merged from the workers */
    struct matchrun_head *heads; /* the first bytes of each input, for reports */
    pthread_mutex_t lock;
    const char *fields[MAX_FIELDS];
    size_t nfields;
    atomic_size_t records;
    uint64_t dropped_records;
    struct match_stats total;
    uint64_t bytes;
    bool failed;
};

#define say matchrun__say

/* The summary, when the caller wants one. */
static void summary(const struct matchrun_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void summary(const struct matchrun_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (o->out == NULL)
        return;
    va_start(ap, fmt);
    (void)vfprintf(o->out, fmt, ap);
    va_end(ap);
}

static bool stopped(const struct matchrun_opts *o)
{
    return o->stop != NULL && *o->stop != 0;
}

/* Field names are few; hits carry a small number instead of a pointer into
 * a reader that a worker owns. */
static uint16_t field_id(struct run *r, const char *name)
{
    uint16_t id = 0;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nfields; i++) {
        if (strcmp(r->fields[i], name) == 0) {
            id = (uint16_t)i;
            goto out;
        }
    }
    if (r->nfields < MAX_FIELDS) {
        char *copy = mrd_strdup(name);
        if (copy != NULL) {
            r->fields[r->nfields] = copy;
            id = (uint16_t)r->nfields++;
        }
    }
out:
    pthread_mutex_unlock(&r->lock);
    return id;
}

static inline size_t sum_slot(const struct sums *ss, uint32_t ind, uint32_t file)
{
    return (size_t)((((uint64_t)file << 32 | ind) * 0x9E3779B97F4A7C15ull) >> 32) & ss->mask;
}

/* The entry of (ind, file), added when missing; NULL when out of memory. */
static struct summary *sum_get(struct sums *ss, uint32_t ind, uint32_t file)
{
    size_t j;

    if (ss->tab == NULL || (ss->n + 1) * 2 > ss->mask + 1) {
        size_t nslots = ss->tab == NULL ? 256 : (ss->mask + 1) * 2;
        struct sums ns = {mrd_calloc(nslots, sizeof(struct summary)), nslots - 1, 0, false};
        if (ns.tab == NULL)
            return NULL;
        for (size_t i = 0; ss->tab != NULL && i <= ss->mask; i++) {
            if (ss->tab[i].count == 0)
                continue;
            j = sum_slot(&ns, ss->tab[i].ind, ss->tab[i].file);
            while (ns.tab[j].count != 0)
                j = (j + 1) & ns.mask;
            ns.tab[j] = ss->tab[i];
        }
        mrd_free(ss->tab);
        ss->tab = ns.tab;
        ss->mask = ns.mask;
    }
    j = sum_slot(ss, ind, file);
    while (ss->tab[j].count != 0 && (ss->tab[j].ind != ind || ss->tab[j].file != file))
        j = (j + 1) & ss->mask;
    if (ss->tab[j].count == 0) {
        ss->tab[j].ind = ind;
        ss->tab[j].file = file;
        ss->n++;
    }
    return &ss->tab[j];
}

static void sum_add(struct sums *ss, uint32_t ind, uint32_t file, int64_t t)
{
    struct summary *s = sum_get(ss, ind, file);

    if (s == NULL) {
        ss->nomem = true;
        return;
    }
    s->count++;
    if (t != INT64_MIN) {
        if (!s->timed || t < s->first)
            s->first = t;
        if (!s->timed || t > s->last)
            s->last = t;
        s->timed = true;
    }
}

static void sum_merge(struct summary *into, const struct summary *from)
{
    if (from->count == 0)
        return;
    into->count += from->count;
    if (from->timed) {
        if (!into->timed || from->first < into->first)
            into->first = from->first;
        if (!into->timed || from->last > into->last)
            into->last = from->last;
        into->timed = true;
    }
}

/* JSON string body: escapes, and U+FFFD for bytes that are not UTF-8.
 * Controls (C0, DEL, C1) and bidi controls become \u escapes too, so that
 * no value from a log reaches a terminal raw (core/str.h). */
static void json_str(FILE *f, const char *s, size_t n)
{
    size_t i = 0;

    fputc('"', f);
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc(c, f);
            i++;
        } else {
            size_t ok = mrd_utf8_check(s + i, n - i > 4 ? 4 : n - i);
            size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (ok >= len && c >= 0xc2 && c <= 0xf4 && mrd_str_needs_escape(s + i, len)) {
                /* Only C1 and bidi controls (two or three bytes) get here. */
                unsigned cp = len == 2
                                  ? (c & 0x1fu) << 6 | ((unsigned char)s[i + 1] & 0x3fu)
                                  : (c & 0x0fu) << 12 | ((unsigned char)s[i + 1] & 0x3fu) << 6 |
                                        ((unsigned char)s[i + 2] & 0x3fu);
                fprintf(f, "\\u%04x", cp);
                i += len;
            } else if (ok >= len && c >= 0xc2 && c <= 0xf4) {
                fwrite(s + i, 1, len, f);
                i += len;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    fputc('"', f);
}

static void write_hit(struct run *r, const char *file, uint64_t line, uint32_t ind, const char *v,
                      size_t vn, const char *field)
{
    FILE *f = r->hits_out;

    fputs("{\"file\":", f);
    json_str(f, file, strlen(file));
    fprintf(f, ",\"line\":%" PRIu64 ",\"indicator\":", line);
    json_str(f, matchrun_set_id(r->set, ind), strlen(matchrun_set_id(r->set, ind)));
    fputs(",\"value\":", f);
    json_str(f, v, vn);
    fputs(",\"field\":", f);
    json_str(f, field, strlen(field));
    fputs("}\n", f);
}

static void put_str(char *out, size_t max, size_t *len, const char *s)
{
    int n = snprintf(out + *len, max - *len, "%s", s);

    if (n > 0)
        *len = *len + (size_t)n < max ? *len + (size_t)n : max - 1;
}

/* "  columns: src as ip, file_sha256 as hash (by its values), ...; not
 * scanned: action, bytes": which column of a Zeek/CSV file was read as
 * which kind, so a column that was not scanned is never a silent miss. */
static void print_columns(const struct matchrun_opts *o, const struct match_reader *rd)
{
    char line[8192];
    size_t len = 0, n_read = 0, n_skip = 0;

    if ((rd->fmt != MATCH_FMT_CSV && rd->fmt != MATCH_FMT_ZEEK) || !rd->have_header)
        return;
    line[0] = '\0';
    put_str(line, sizeof(line), &len, "  columns:");
    for (unsigned c = 0; c < rd->ncols; c++) {
        enum match_obs obs = (enum match_obs)rd->col_obs[c];

        if (obs == MATCH_O_NONE)
            continue;
        put_str(line, sizeof(line), &len, n_read++ == 0 ? " " : ", ");
        put_str(line, sizeof(line), &len, MRD_ESC(match_reader_column(rd, c)));
        put_str(line, sizeof(line), &len, " as ");
        put_str(line, sizeof(line), &len, match_obs_name(obs));
        if (rd->col_how[c] == MATCH_COL_SNIFFED)
            put_str(line, sizeof(line), &len, " (by its values)");
        else if (rd->col_how[c] == MATCH_COL_MAPPED)
            put_str(line, sizeof(line), &len, " (--map)");
    }
    if (n_read == 0)
        put_str(line, sizeof(line), &len, " none read");
    for (unsigned c = 0; c < rd->ncols; c++) {
        if (rd->col_obs[c] != MATCH_O_NONE)
            continue;
        put_str(line, sizeof(line), &len, n_skip++ == 0 ? "; not scanned: " : ", ");
        put_str(line, sizeof(line), &len, MRD_ESC(match_reader_column(rd, c)));
    }
    summary(o, "%s\n", line);
}

/* ---- parallel scan of one mapped file ---- */

struct job {
    struct run *r;
    const char *map;
    struct chunk *chunks;
    size_t nchunks;
    atomic_size_t next;
    const struct match_reader *reader; /* after the header lines */
    int fd;
    uint32_t file; /* the input's index */
};

/* Reads n bytes at off; false on error or short file (then the caller
 * falls back to the mapping). */
static bool pread_full(int fd, char *buf, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t got = pread(fd, buf, n, off);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            return false;
        }
        buf += got;
        n -= (size_t)got;
        off += got;
    }
    return true;
}

struct worker {
    struct job *job;
    char *buf;          /* READ_BLOCK bytes: the chunk is read into it piece by piece */
    uint64_t line_base; /* lines of the chunk before the piece being scanned */
    struct chunk *cur;
    struct sums *sums;
    void *eval_scratch;   /* pattern evaluator memory, when patterns need it */
    const char *scan_buf; /* the piece being scanned (hit offsets are relative to it) */
    pthread_t tid;
    bool started;
};

static bool on_chunk_hit(void *vctx, const struct match_hit *h)
{
    struct worker *w = vctx;
    struct chunk *c = w->cur;
    struct run *r = w->job->r;

    sum_add(w->sums, h->ind, w->job->file, h->time_usec);
    if (r->hits_out == NULL)
        return true;
    if (atomic_fetch_add(&r->records, 1) >= MAX_HIT_RECORDS)
        return true;
    if (c->nhits == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        struct hitrec *nh = mrd_realloc(c->hits, nc * sizeof(*nh));
        if (nh == NULL)
            return true; /* counted in the summary; the hit line is lost */
        c->hits = nh;
        c->cap = nc;
    }
    if (c->vlen + h->value_len > c->vcap) {
        size_t nc = c->vcap ? c->vcap * 2 : 4096;
        char *nv;
        while (nc < c->vlen + h->value_len)
            nc *= 2;
        nv = mrd_realloc(c->vals, nc);
        if (nv == NULL)
            return true;
        c->vals = nv;
        c->vcap = nc;
    }
    /* A copy, not a file offset: reading the value back from the mapping
     * at the end would fault its page in again. */
    memcpy(c->vals + c->vlen, w->scan_buf + h->value_off, h->value_len);
    c->hits[c->nhits].value_off = c->vlen;
    c->hits[c->nhits].value_len = (uint32_t)h->value_len;
    c->vlen += h->value_len;
    c->hits[c->nhits].line = (uint32_t)(w->line_base + h->line);
    c->hits[c->nhits].ind = h->ind;
    c->hits[c->nhits].time = h->time_usec;
    c->hits[c->nhits].field = field_id(r, h->field);
    c->nhits++;
    return true;
}

/* A parsed line: evaluate the patterns the index cannot express. Their
 * hits are reported like index hits, with the line's first field as the
 * value and "pattern" as the field. */
static bool eval_line(const struct matchrun_set *set, void **scratch, const struct match_hit *line,
                      const struct match_field *f, size_t nf, match_hit_fn cb, void *ctx,
                      const char *buf, uint64_t *hits)
{
    uint32_t out[MATCH_MAX_LINE_HITS];
    size_t n;

    if (*scratch == NULL)
        *scratch = matchrun_eval_scratch_new();
    if (*scratch == NULL)
        return true;
    n = matchrun_eval_line(set, *scratch, f, nf, line->time_usec, out, MATCH_MAX_LINE_HITS);
    for (size_t i = 0; i < n; i++) {
        struct match_hit h = *line;
        h.ind = out[i];
        h.value_off = (size_t)(f[0].v - buf);
        h.value_len = f[0].n;
        h.field = "pattern";
        (*hits)++;
        if (!cb(ctx, &h))
            return false;
    }
    return true;
}

static bool on_chunk_line(void *vctx, const struct match_hit *line, const struct match_field *f,
                          size_t nf);

static void stats_add(struct match_stats *to, const struct match_stats *from)
{
    to->lines += from->lines;
    to->header += from->header;
    to->malformed += from->malformed;
    to->too_long += from->too_long;
    to->hits += from->hits;
    to->lookups += from->lookups;
}

/* Scans one chunk in READ_BLOCK pieces read into the worker's buffer: the
 * piece being parsed stays in L2, where a first touch of mapped page-cache
 * memory costs a trip to DRAM per cache line. A piece ends at its last
 * newline; a line longer than a piece is scanned from the mapping. */
static void scan_chunk(struct worker *w, struct chunk *c, struct match_reader *rd)
{
    const struct job *j = w->job;
    size_t done = 0;

    w->line_base = 0;
    while (done < c->len) {
        struct match_stats st = {0};
        size_t n = c->len - done, upto = n;
        const char *p = NULL;

        if (n > READ_BLOCK)
            n = READ_BLOCK;
        if (w->buf != NULL && pread_full(j->fd, w->buf, n, (off_t)(c->off + done))) {
            upto = n;
            if (done + n < c->len) {
                const char *nl = memrchr(w->buf, '\n', n);
                upto = nl != NULL ? (size_t)(nl - w->buf) + 1 : 0;
            }
            if (upto > 0)
                p = w->buf;
        }
        if (p == NULL) {
            p = j->map + c->off + done;
            upto = c->len - done;
        }
        w->scan_buf = p;
        match_scan_ex(j->r->set->idx, rd, p, upto, j->r->o->flags, on_chunk_hit, w,
                      j->r->set->nprogs > 0 ? on_chunk_line : NULL, w, &st);
        stats_add(&c->st, &st);
        w->line_base += st.lines;
        done += upto;
    }
}

static bool on_chunk_line(void *vctx, const struct match_hit *line, const struct match_field *f,
                          size_t nf)
{
    struct worker *w = vctx;
    return eval_line(w->job->r->set, &w->eval_scratch, line, f, nf, on_chunk_hit, w, w->scan_buf,
                     &w->cur->st.hits);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct job *j = w->job;
    long page = sysconf(_SC_PAGESIZE);

    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        struct match_reader rd;
        struct chunk *c;
        uintptr_t a0, a1;

        if (i >= j->nchunks)
            break;
        c = &j->chunks[i];
        w->cur = c;
        rd = *j->reader;
        scan_chunk(w, c, &rd);
        /* Done with these pages: drop them from our resident set. */
        a0 = ((uintptr_t)(j->map + c->off) + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
        a1 = (uintptr_t)(j->map + c->off + c->len) & ~((uintptr_t)page - 1);
        if (a1 > a0)
            (void)madvise((void *)a0, a1 - a0, MADV_DONTNEED);
    }
    return NULL;
}

/* The offset just after the first newline at or after off (or size).
 * Read with pread: looking in the mapping would fault a page in per
 * chunk, before the workers start. */
static size_t line_end(int fd, const char *map, size_t size, size_t off)
{
    char buf[4096];

    while (off < size) {
        size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);
        const char *nl;
        if (!pread_full(fd, buf, n, (off_t)off)) {
            nl = memchr(map + off, '\n', size - off);
            return nl ? (size_t)(nl - map) + 1 : size;
        }
        nl = memchr(buf, '\n', n);
        if (nl != NULL)
            return off + (size_t)(nl - buf) + 1;
        off += n;
    }
    return size;
}

/* Where the header lines end: Zeek '#' lines, CSV comments + header row. */
static size_t header_end(const char *map, size_t size, enum match_format fmt)
{
    size_t p = 0;
    bool csv_header_done = false;

    if (fmt != MATCH_FMT_ZEEK && fmt != MATCH_FMT_CSV)
        return 0;
    while (p < size && p < DETECT_BYTES * 16) {
        const char *nl = memchr(map + p, '\n', size - p);
        size_t next = nl ? (size_t)(nl - map) + 1 : size;
        if (map[p] != '#' && map[p] != '\n' && map[p] != '\r') {
            if (fmt == MATCH_FMT_ZEEK || csv_header_done)
                return p;
            csv_header_done = true;
        }
        p = next;
    }
    return p;
}

static bool keep_going(void *ctx, const struct match_hit *h)
{
    (void)ctx;
    (void)h;
    return true;
}

static enum mrd_code scan_mapped(struct run *r, const char *path, int fd, size_t size,
                                 uint32_t file, struct sums *wsum, unsigned nthreads)
{
    const struct matchrun_opts *o = r->o;
    char *map = NULL;
    struct job job;
    struct worker *workers = NULL;
    struct match_reader reader;
    struct match_stats hst = {0};
    size_t hdr, nchunks, p;
    uint64_t base;
    enum mrd_code rc = MRD_OK;
    enum match_format fmt = o->fmt;

    memset(&job, 0, sizeof(job));
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        say(&r->o->log, "%s: mmap: %s", path, strerror(errno));
        return MRD_E_IO;
    }
    (void)madvise(map, size, MADV_SEQUENTIAL);
    if (fmt == MATCH_FMT_AUTO)
        fmt = match_format_detect(map, size < DETECT_BYTES ? size : DETECT_BYTES);
    if (fmt == MATCH_FMT_AUTO) {
        say(&r->o->log, "%s: cannot detect the log format; use --format", path);
        rc = MRD_E_IO;
        goto out;
    }
    reader = o->maps;
    reader.fmt = fmt;
    reader.sep = fmt == MATCH_FMT_ZEEK ? '\t' : ',';
    reader.time_col = -1;
    hdr = header_end(map, size, fmt);
    match_scan(r->set->idx, &reader, map, hdr, o->flags, keep_going, NULL, &hst);
    if (fmt == MATCH_FMT_CSV && reader.have_header) {
        /* Unnamed columns are decided once, from the first rows, before the
         * reader is copied to the workers. */
        size_t w = size - hdr < DETECT_BYTES ? size - hdr : DETECT_BYTES;

        if (hdr + w < size) {
            const char *nl = memrchr(map + hdr, '\n', w);

            w = nl != NULL ? (size_t)(nl - (map + hdr)) + 1 : 0;
        }
        match_reader_sniff(&reader, map + hdr, w);
    }

    nchunks = (size - hdr + CHUNK_SIZE - 1) / CHUNK_SIZE + 1;
    job.chunks = mrd_calloc(nchunks, sizeof(struct chunk));
    workers = mrd_calloc(nthreads, sizeof(struct worker));
    if (job.chunks == NULL || workers == NULL) {
        say(&r->o->log, "out of memory");
        rc = MRD_E_IO;
        goto out;
    }
    /* Chunks end right after a newline (the last one at the end). */
    nchunks = 0;
    p = hdr;
    while (p < size) {
        size_t e = p + CHUNK_SIZE;
        if (e >= size) {
            e = size;
        } else {
            e = line_end(fd, map, size, e);
        }
        job.chunks[nchunks].off = p;
        job.chunks[nchunks].len = e - p;
        nchunks++;
        p = e;
    }
    job.r = r;
    job.map = map;
    job.nchunks = nchunks;
    job.reader = &reader;
    job.fd = fd;
    job.file = file;
    atomic_init(&job.next, 0);
    if (nthreads > nchunks)
        nthreads = nchunks ? (unsigned)nchunks : 1;
    for (unsigned t = 0; t < nthreads; t++) {
        workers[t].job = &job;
        workers[t].buf = mrd_malloc(READ_BLOCK);
        workers[t].sums = &wsum[t];
        if (t == 0)
            continue;
        if (pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]) == 0)
            workers[t].started = true;
    }
    worker_main(&workers[0]);
    for (unsigned t = 1; t < nthreads; t++)
        if (workers[t].started)
            pthread_join(workers[t].tid, NULL);

    /* Line numbers: header lines, then every chunk's lines in order. */
    base = hst.lines;
    r->total.lines += hst.lines;
    r->total.header += hst.header;
    {
        struct match_stats fst = hst;
        for (size_t i = 0; i < nchunks; i++) {
            struct chunk *c = &job.chunks[i];
            if (r->hits_out != NULL) {
                for (size_t k = 0; k < c->nhits; k++) {
                    const struct hitrec *h = &c->hits[k];
                    write_hit(r, path, base + h->line + 1, h->ind, c->vals + h->value_off,
                              h->value_len, r->fields[h->field]);
                }
            }
            base += c->st.lines;
            fst.lines += c->st.lines;
            fst.header += c->st.header;
            fst.malformed += c->st.malformed;
            fst.too_long += c->st.too_long;
            fst.hits += c->st.hits;
            fst.lookups += c->st.lookups;
        }
        r->total.lines += fst.lines - hst.lines;
        r->total.header += fst.header - hst.header;
        r->total.malformed += fst.malformed;
        r->total.too_long += fst.too_long;
        r->total.hits += fst.hits;
        r->total.lookups += fst.lookups;
        r->bytes += size;
        if (!o->quiet)
            summary(o,
                    "file %s: %s, %" PRIu64 " lines (%" PRIu64 " header/comment, %" PRIu64
                    " malformed, %" PRIu64 " too long), %" PRIu64 " hits\n",
                    MRD_ESC(path), match_format_name(fmt), fst.lines, fst.header, fst.malformed,
                    fst.too_long, fst.hits);
        if (!o->quiet)
            print_columns(o, &reader);
    }
out:
    if (job.chunks != NULL)
        for (size_t i = 0; i < job.nchunks; i++) {
            mrd_free(job.chunks[i].hits);
            mrd_free(job.chunks[i].vals);
        }
    for (unsigned t = 0; workers != NULL && t < nthreads; t++) {
        mrd_free(workers[t].buf);
        matchrun_eval_scratch_free(workers[t].eval_scratch);
    }
    mrd_free(job.chunks);
    mrd_free(workers);
    munmap(map, size);
    return rc;
}

/* ---- streams: stdin, pipes, --follow ---- */

struct stream {
    const char *path; /* "-" for stdin */
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off; /* bytes read from this file */
    char *buf;
    size_t len, cap;
    bool skipping; /* inside a line over MATCH_MAX_LINE */
    bool fmt_known;
    bool eof;
    bool dead;
    struct match_reader reader;
    uint64_t lineno; /* lines already scanned */
    struct match_stats st;
    struct sums *sums;
    struct run *r;
    const char *cur_buf;
    void *eval_scratch;
    uint32_t file; /* the input's index */
};

static bool on_stream_hit(void *vctx, const struct match_hit *h)
{
    struct stream *s = vctx;
    struct run *r = s->r;

    sum_add(s->sums, h->ind, s->file, h->time_usec);
    if (r->hits_out != NULL) {
        write_hit(r, s->path, s->lineno + h->line + 1, h->ind, s->cur_buf + h->value_off,
                  h->value_len, h->field);
        if (r->o->follow)
            fflush(r->hits_out);
    }
    if (r->o->follow && !r->o->quiet) {
        /* The value comes from the log: escaped (core/str.h). */
        summary(r->o, "hit %s:%" PRIu64 " %s %s\n", MRD_ESC(s->path), s->lineno + h->line + 1,
                MRD_ESC(matchrun_set_id(r->set, h->ind)),
                MRD_ESCN(s->cur_buf + h->value_off, h->value_len > 200 ? 200 : h->value_len));
        if (r->o->out != NULL)
            fflush(r->o->out);
    }
    return true;
}

static bool on_stream_line(void *vctx, const struct match_hit *line, const struct match_field *f,
                           size_t nf)
{
    struct stream *s = vctx;
    return eval_line(s->r->set, &s->eval_scratch, line, f, nf, on_stream_hit, s, s->cur_buf,
                     &s->st.hits);
}

static void stream_scan(struct stream *s, const char *p, size_t n)
{
    struct match_stats st = {0};

    if (!s->fmt_known) {
        enum match_format fmt = s->r->o->fmt;
        if (fmt == MATCH_FMT_AUTO)
            fmt = match_format_detect(p, n);
        if (fmt == MATCH_FMT_AUTO) {
            say(&s->r->o->log, "%s: cannot detect the log format; use --format", s->path);
            s->dead = true;
            s->r->failed = true;
            return;
        }
        s->reader = s->r->o->maps;
        s->reader.fmt = fmt;
        s->reader.sep = fmt == MATCH_FMT_ZEEK ? '\t' : ',';
        s->reader.time_col = -1;
        s->fmt_known = true;
    }
    s->cur_buf = p;
    match_scan_ex(s->r->set->idx, &s->reader, p, n, s->r->o->flags, on_stream_hit, s,
                  s->r->set->nprogs > 0 ? on_stream_line : NULL, s, &st);
    s->lineno += st.lines;
    s->st.lines += st.lines;
    s->st.header += st.header;
    s->st.malformed += st.malformed;
    s->st.too_long += st.too_long;
    s->st.hits += st.hits;
    s->st.lookups += st.lookups;
}

/* Scans the complete lines in the buffer; at_eof also scans a final line
 * without a newline. */
static void stream_drain(struct stream *s, bool at_eof)
{
    char *nl;
    size_t upto;

    if (s->len == 0)
        return;
    if (s->skipping) {
        nl = memchr(s->buf, '\n', s->len);
        if (nl == NULL) {
            s->len = 0;
            return;
        }
        /* the tail of an over-long line: one line, skipped */
        s->skipping = false;
        s->lineno++;
        s->st.lines++;
        s->st.too_long++;
        upto = (size_t)(nl - s->buf) + 1;
        memmove(s->buf, s->buf + upto, s->len - upto);
        s->len -= upto;
    }
    nl = memrchr(s->buf, '\n', s->len);
    upto = nl ? (size_t)(nl - s->buf) + 1 : 0;
    if (at_eof)
        upto = s->len;
    if (upto > 0) {
        stream_scan(s, s->buf, upto);
        memmove(s->buf, s->buf + upto, s->len - upto);
        s->len -= upto;
    }
}

/* Reads what is there; returns bytes read (0 at EOF or error). */
static size_t stream_read(struct stream *s)
{
    size_t total = 0;

    for (;;) {
        ssize_t got;
        if (s->len == s->cap) {
            if (s->cap < MATCH_MAX_LINE + 1) {
                size_t nc = s->cap ? s->cap * 2 : STREAM_BLOCK;
                char *nb = mrd_realloc(s->buf, nc);
                if (nb == NULL) {
                    say(&s->r->o->log, "%s: out of memory", s->path);
                    s->dead = true;
                    return total;
                }
                s->buf = nb;
                s->cap = nc;
            } else {
                /* A line longer than MATCH_MAX_LINE: drop what we hold. */
                s->skipping = true;
                s->len = 0;
            }
        }
        got = read(s->fd, s->buf + s->len, s->cap - s->len);
        if (got < 0 && errno == EINTR) {
            if (stopped(s->r->o))
                return total;
            continue;
        }
        if (got <= 0) {
            if (got < 0) {
                say(&s->r->o->log, "%s: read: %s", s->path, strerror(errno));
                s->r->failed = true;
                s->dead = true;
            }
            return total;
        }
        if (s->r->heads != NULL && s->off < (off_t)MATCHRUN_HEAD_MAX) {
            struct matchrun_head *h = &s->r->heads[s->file];
            size_t take = MATCHRUN_HEAD_MAX - (size_t)s->off;

            if (take > (size_t)got)
                take = (size_t)got;
            memcpy(h->bytes + s->off, s->buf + s->len, take);
            h->len = (size_t)s->off + take;
        }
        s->len += (size_t)got;
        s->off += got;
        total += (size_t)got;
        stream_drain(s, false);
        if (total >= ((size_t)64 << 20))
            return total;
    }
}

static int stream_open(struct stream *s)
{
    struct stat st;

    if (strcmp(s->path, "-") == 0) {
        s->fd = STDIN_FILENO;
    } else {
        s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0)
            return -1;
    }
    if (fstat(s->fd, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    s->off = 0;
    s->lineno = 0;
    s->len = 0;
    s->skipping = false;
    if (s->fmt_known) {
        /* A rotated log keeps its format; its header (Zeek #fields, the
         * CSV header row) is read again from the new file. */
        enum match_format fmt = s->reader.fmt;
        s->reader = s->r->o->maps;
        s->reader.fmt = fmt;
        s->reader.sep = fmt == MATCH_FMT_ZEEK ? '\t' : ',';
        s->reader.time_col = -1;
    }
    return 0;
}

/* --follow: the path now names another file, or ours shrank. */
static bool stream_rotated(struct stream *s)
{
    struct stat st;

    if (strcmp(s->path, "-") == 0)
        return false;
    if (stat(s->path, &st) != 0)
        return false; /* gone for now: keep the old one until a new one appears */
    return st.st_dev != s->dev || st.st_ino != s->ino || st.st_size < s->off;
}

static enum mrd_code scan_streams(struct run *r, const char **paths, size_t n, uint32_t first_file,
                                  struct sums *sums)
{
    struct stream *ss = mrd_calloc(n, sizeof(*ss));
    enum mrd_code rc = MRD_OK;
    bool follow = r->o->follow;

    if (ss == NULL) {
        say(&r->o->log, "out of memory");
        return MRD_E_IO;
    }
    for (size_t i = 0; i < n; i++) {
        ss[i].path = paths[i];
        ss[i].r = r;
        ss[i].sums = sums;
        ss[i].file = first_file + (uint32_t)i;
        if (stream_open(&ss[i]) != 0) {
            say(&r->o->log, "%s: %s", paths[i], strerror(errno));
            ss[i].dead = true;
            ss[i].fd = -1;
            r->failed = true;
        }
    }
    for (;;) {
        bool any = false, progress = false;
        for (size_t i = 0; i < n; i++) {
            struct stream *s = &ss[i];
            if (s->dead)
                continue;
            any = true;
            if (!follow) {
                while (!s->dead && stream_read(s) > 0)
                    ;
                if (s->dead)
                    continue;
                stream_drain(s, true);
                s->dead = true;
                continue;
            }
            if (stream_read(s) > 0)
                progress = true;
            if (s->dead)
                continue;
            if (stream_rotated(s)) {
                /* Finish the old file (writers may have appended before
                 * rotating), then start on the new one from line 1. */
                while (stream_read(s) > 0)
                    ;
                stream_drain(s, true);
                if (s->fd > STDIN_FILENO)
                    close(s->fd);
                if (!r->o->quiet)
                    say(&r->o->log, "%s: rotated after %" PRIu64 " lines", s->path, s->lineno);
                if (stream_open(s) != 0) {
                    s->fd = -1;
                    s->dead = true;
                }
                progress = true;
            }
        }
        if (!any || stopped(r->o))
            break;
        if (follow && !progress)
            usleep(FOLLOW_POLL_USEC);
    }
    for (size_t i = 0; i < n; i++) {
        struct stream *s = &ss[i];
        if (s->fd >= 0 && follow && !s->dead)
            stream_drain(s, true);
        r->total.lines += s->st.lines;
        r->total.header += s->st.header;
        r->total.malformed += s->st.malformed;
        r->total.too_long += s->st.too_long;
        r->total.hits += s->st.hits;
        r->total.lookups += s->st.lookups;
        r->bytes += (uint64_t)s->off;
        if (!r->o->quiet)
            summary(r->o,
                    "file %s: %s, %" PRIu64 " lines (%" PRIu64 " header/comment, %" PRIu64
                    " malformed, %" PRIu64 " too long), %" PRIu64 " hits\n",
                    MRD_ESC(s->path), match_format_name(s->reader.fmt), s->st.lines, s->st.header,
                    s->st.malformed, s->st.too_long, s->st.hits);
        if (!r->o->quiet)
            print_columns(r->o, &s->reader);
        if (s->fd > STDIN_FILENO)
            close(s->fd);
        mrd_free(s->buf);
        matchrun_eval_scratch_free(s->eval_scratch);
    }
    mrd_free(ss);
    return rc;
}

/* ---- summary and sightings ---- */

/* Most hits first, then by indicator number. */
static int cmp_ranked(const void *a, const void *b)
{
    const struct summary *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->ind < y->ind ? -1 : x->ind > y->ind;
}

static void fmt_time(bool timed, int64_t t, char out[MRD_TIME_STIX_MS_LEN + 1])
{
    if (!timed)
        mrd_strlcpy(out, "-", MRD_TIME_STIX_MS_LEN + 1);
    else
        mrd_time_format_stix_ms(t, out);
}

static void uuid4(char out[37])
{
    uint8_t b[16];
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* getrandom cannot fail for 16 bytes once the pool is ready; mix
         * the clock in rather than abort if it somehow does. */
        int64_t t = mrd_time_now_usec();
        for (int i = 0; i < 16; i++)
            b[i] ^= (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)(i * 37);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

static enum mrd_code write_sightings(struct run *r, const struct summary *rk, size_t nrk)
{
    const struct matchrun_opts *o = r->o;
    FILE *f = fopen(o->sightings_path, "w");
    char now[MRD_TIME_STIX_MS_LEN + 1], uuid[37], ident[64];
    bool first = true;

    if (f == NULL) {
        say(&r->o->log, "%s: %s", o->sightings_path, strerror(errno));
        return MRD_E_IO;
    }
    mrd_time_format_stix_ms(mrd_time_now_usec(), now);
    uuid4(uuid);
    fprintf(f, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
    if (o->identity != NULL) {
        mrd_strlcpy(ident, o->identity, sizeof(ident));
    } else {
        uuid4(uuid);
        snprintf(ident, sizeof(ident), "identity--%s", uuid);
        fprintf(f,
                "\n{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                "\"created\":\"%s\",\"modified\":\"%s\",\"name\":",
                ident, now, now);
        json_str(f, o->org ? o->org : "local", strlen(o->org ? o->org : "local"));
        fputs(",\"identity_class\":\"organization\"}", f);
        first = false;
    }
    for (size_t i = 0; i < nrk; i++) {
        const struct summary *s = &rk[i];
        char t0[MRD_TIME_STIX_MS_LEN + 1], t1[MRD_TIME_STIX_MS_LEN + 1];
        uuid4(uuid);
        fprintf(f,
                "%s\n{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--%s\","
                "\"created\":\"%s\",\"modified\":\"%s\",\"sighting_of_ref\":\"%s\","
                "\"count\":%" PRIu64,
                first ? "" : ",", uuid, now, now, matchrun_set_id(r->set, rk[i].ind),
                s->count > 999999999 ? (uint64_t)999999999 : s->count);
        if (s->timed) {
            mrd_time_format_stix_ms(s->first, t0);
            mrd_time_format_stix_ms(s->last, t1);
            fprintf(f, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\"", t0, t1);
        }
        fprintf(f, ",\"where_sighted_refs\":[\"%s\"]}", ident);
        first = false;
    }
    fputs("\n]}\n", f);
    if (fclose(f) != 0) {
        say(&r->o->log, "%s: %s", o->sightings_path, strerror(errno));
        return MRD_E_IO;
    }
    return MRD_OK;
}

/* The first bytes of a mapped input (pread: its pages stay untouched). */
static void head_read(int fd, size_t size, struct matchrun_head *h)
{
    size_t n = size < MATCHRUN_HEAD_MAX ? size : MATCHRUN_HEAD_MAX;

    h->len = pread_full(fd, (char *)h->bytes, n, 0) ? n : 0;
}

/* Hands the per-(indicator, input) sums and the inputs' heads over. */
static enum mrd_code result_fill(struct run *r, size_t ninputs, struct matchrun_result *res,
                                 const struct matchrun_log *log)
{
    size_t k = 0;

    memset(res, 0, sizeof(*res));
    res->sums = mrd_calloc(r->files.n ? r->files.n : 1, sizeof(*res->sums));
    if (res->sums == NULL) {
        say(log, "out of memory");
        return MRD_E_IO;
    }
    for (size_t i = 0; r->files.tab != NULL && i <= r->files.mask; i++) {
        const struct summary *f = &r->files.tab[i];

        if (f->count == 0)
            continue;
        res->sums[k++] = (struct matchrun_sum){.ind = f->ind,
                                               .file = f->file,
                                               .count = f->count,
                                               .first = f->first,
                                               .last = f->last,
                                               .timed = f->timed};
    }
    res->nsums = k;
    res->heads = r->heads;
    res->nfiles = ninputs;
    r->heads = NULL;
    return MRD_OK;
}

void matchrun_result_release(struct matchrun_result *res)
{
    if (res == NULL)
        return;
    mrd_free(res->sums);
    mrd_free(res->heads);
    memset(res, 0, sizeof(*res));
}

enum mrd_code matchrun_run(const struct matchrun_set *set, const struct matchrun_opts *o,
                           struct mrd_err *err)
{
    struct run r;
    struct sums *wsum = NULL;
    struct summary *rk = NULL;
    unsigned nthreads = o->threads;
    size_t nrk = 0;
    enum mrd_code rc = MRD_OK;
    const char *stdin_only[] = {"-"};
    const char **inputs = o->ninputs ? o->inputs : stdin_only;
    size_t ninputs = o->ninputs ? o->ninputs : 1;
    int64_t t0 = mrd_time_now_usec(), t1;

    memset(&r, 0, sizeof(r));
    r.set = set;
    r.o = o;
    pthread_mutex_init(&r.lock, NULL);
    atomic_init(&r.records, 0);
    if (nthreads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = cpus > 0 ? (unsigned)(cpus > 64 ? 64 : cpus) : 1;
    }
    wsum = mrd_calloc(nthreads, sizeof(*wsum));
    if (wsum == NULL) {
        say(&o->log, "out of memory");
        rc = MRD_E_IO;
        goto out;
    }
    if (o->result != NULL) {
        r.heads = mrd_calloc(ninputs, sizeof(*r.heads));
        if (r.heads == NULL) {
            say(&o->log, "out of memory");
            rc = MRD_E_IO;
            goto out;
        }
    }
    if (o->hits_path != NULL) {
        r.hits_out = strcmp(o->hits_path, "-") == 0 ? stdout : fopen(o->hits_path, "w");
        if (r.hits_out == NULL) {
            say(&o->log, "%s: %s", o->hits_path, strerror(errno));
            rc = MRD_E_IO;
            goto out;
        }
    }
    if (o->follow) {
        if (scan_streams(&r, inputs, ninputs, 0, wsum) != MRD_OK)
            rc = MRD_E_IO;
    } else {
        for (size_t i = 0; i < ninputs; i++) {
            struct stat st;
            int fd = -1;
            if (strcmp(inputs[i], "-") != 0) {
                fd = open(inputs[i], O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                    say(&o->log, "%s: %s", inputs[i], strerror(errno));
                    r.failed = true;
                    continue;
                }
            }
            if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
                if (r.heads != NULL)
                    head_read(fd, (size_t)st.st_size, &r.heads[i]);
                if (scan_mapped(&r, inputs[i], fd, (size_t)st.st_size, (uint32_t)i, wsum,
                                nthreads) != MRD_OK)
                    r.failed = true;
                close(fd);
            } else {
                if (fd >= 0)
                    close(fd);
                scan_streams(&r, &inputs[i], 1, (uint32_t)i, wsum);
            }
        }
    }
    for (unsigned t = 0; t < nthreads; t++) {
        r.sums.nomem |= wsum[t].nomem;
        for (size_t i = 0; wsum[t].tab != NULL && i <= wsum[t].mask; i++) {
            const struct summary *from = &wsum[t].tab[i];
            struct summary *into;
            if (from->count == 0)
                continue;
            into = sum_get(&r.files, from->ind, from->file);
            if (into == NULL)
                r.sums.nomem = true;
            else
                sum_merge(into, from);
        }
    }
    /* the per-indicator totals, over every input */
    for (size_t i = 0; r.files.tab != NULL && i <= r.files.mask; i++) {
        const struct summary *from = &r.files.tab[i];
        struct summary *into;

        if (from->count == 0)
            continue;
        into = sum_get(&r.sums, from->ind, 0);
        if (into == NULL)
            r.sums.nomem = true;
        else
            sum_merge(into, from);
    }
    r.sums.nomem |= r.files.nomem;
    t1 = mrd_time_now_usec();
    if (r.sums.nomem) {
        say(&o->log, "out of memory counting hits");
        rc = MRD_E_IO;
        goto out;
    }

    rk = mrd_calloc(r.sums.n ? r.sums.n : 1, sizeof(*rk));
    if (rk == NULL) {
        say(&o->log, "out of memory");
        rc = MRD_E_IO;
        goto out;
    }
    for (size_t i = 0; r.sums.tab != NULL && i <= r.sums.mask; i++)
        if (r.sums.tab[i].count > 0)
            rk[nrk++] = r.sums.tab[i];
    qsort(rk, nrk, sizeof(*rk), cmp_ranked);
    if (!o->quiet) {
        double secs = (double)(t1 - t0) / 1e6;
        summary(o,
                "total: %" PRIu64 " lines, %" PRIu64 " malformed, %" PRIu64 " too long, %.1f MB"
                " in %.3f s (%.0f MB/s), %" PRIu64 " hits on %zu indicators\n",
                r.total.lines, r.total.malformed, r.total.too_long, (double)r.bytes / 1e6, secs,
                secs > 0 ? (double)r.bytes / 1e6 / secs : 0.0, r.total.hits, nrk);
        if (nrk > 0)
            summary(o, "%-50s %10s %-24s %-24s\n", "indicator", "count", "first_seen", "last_seen");
        for (size_t i = 0; i < nrk; i++) {
            char a[MRD_TIME_STIX_MS_LEN + 1], b[MRD_TIME_STIX_MS_LEN + 1];
            const struct summary *s = &rk[i];
            fmt_time(s->timed, s->first, a);
            fmt_time(s->timed, s->last, b);
            summary(o, "%-50s %10" PRIu64 " %-24s %-24s\n",
                    MRD_ESC(matchrun_set_id(set, rk[i].ind)), s->count, a, b);
        }
    }
    if (atomic_load(&r.records) > MAX_HIT_RECORDS)
        say(&o->log, "more than %zu hits: --hits holds the first %zu per run", MAX_HIT_RECORDS,
            MAX_HIT_RECORDS);
    if (o->sightings_path != NULL && write_sightings(&r, rk, nrk) != MRD_OK)
        rc = MRD_E_IO;
    if (r.failed)
        rc = MRD_E_IO;
    if (rc == MRD_OK && o->result != NULL)
        rc = result_fill(&r, ninputs, o->result, &o->log);
out:
    if (r.hits_out != NULL && r.hits_out != stdout) {
        if (fclose(r.hits_out) != 0) {
            say(&o->log, "%s: %s", o->hits_path, strerror(errno));
            rc = MRD_E_IO;
        }
    } else if (r.hits_out == stdout) {
        fflush(stdout);
    }
    for (size_t i = 0; i < r.nfields; i++)
        mrd_free((void *)(uintptr_t)r.fields[i]);
    pthread_mutex_destroy(&r.lock);
    mrd_free(rk);
    for (unsigned t = 0; wsum != NULL && t < nthreads; t++)
        mrd_free(wsum[t].tab);
    mrd_free(wsum);
    mrd_free(r.sums.tab);
    mrd_free(r.files.tab);
    mrd_free(r.heads);
    if (rc != MRD_OK)
        (void)mrd_err_set(err, rc, "the run had errors (reported through the log)");
    return rc;
}
