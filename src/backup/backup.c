/*
 * backup.c: writing a backup archive (backup.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "backup/backup_int.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/pace.h"
#include "core/str.h"
#include "core/tar.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "ledger/ledger.h"
#include "ledger/sync.h"
#include "store/store.h"

#ifndef MERIDIAN_VERSION
#define MERIDIAN_VERSION "unknown"
#endif

/* ---- the archive writer ---- */

struct writer {
    int fd;
    struct mrd_pace pace; /* backup_opts.max_rate */
    uint8_t *buf;         /* BACKUP_IO_CHUNK bytes */
    struct backup_sha whole;
    uint64_t off;
    json_t *members; /* manifest entries */
};

static enum mrd_code w_raw(struct writer *w, const void *p, size_t n, struct mrd_err *err)
{
    const uint8_t *b = p;

    backup__sha_update(&w->whole, b, n);
    while (n > 0) {
        ssize_t k = pwrite(w->fd, b, n, (off_t)w->off);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "backup: write");
        b += k;
        n -= (size_t)k;
        w->off += (uint64_t)k;
    }
    return MRD_OK;
}

static enum mrd_code w_header(struct writer *w, const char *name, uint64_t size, unsigned mode,
                              struct mrd_err *err)
{
    uint8_t h[MRD_TAR_BLOCK];
    enum mrd_code rc = mrd_tar_header(h, name, size, mode, err);

    return rc == MRD_OK ? w_raw(w, h, sizeof(h), err) : rc;
}

static enum mrd_code w_pad(struct writer *w, uint64_t size, struct mrd_err *err)
{
    static const uint8_t zeros[MRD_TAR_BLOCK];
    size_t pad = mrd_tar_padding(size);

    return pad > 0 ? w_raw(w, zeros, pad, err) : MRD_OK;
}

static void member_json(struct writer *w, const char *name, uint64_t size, unsigned mode,
                        const uint8_t digest[MERKLE_HASH_LEN])
{
    char hex[MERKLE_HASH_LEN * 2 + 1];
    json_t *m = json_object();

    sodium_bin2hex(hex, sizeof(hex), digest, MERKLE_HASH_LEN);
    (void)json_object_set_new(m, "name", json_string(name));
    (void)json_object_set_new(m, "size", json_integer((json_int_t)size));
    (void)json_object_set_new(m, "mode", json_integer((json_int_t)mode));
    (void)json_object_set_new(m, "sha256", json_string(hex));
    (void)json_array_append_new(w->members, m);
}

/* The member's bytes: size bytes of fd from byte from on, hashed (the
 * member's SHA-256 and the whole file's). With copy they are appended to
 * the archive; without, they are the archive's own bytes from w->off on
 * (written there already, store_snapshot) and w->off moves past them. */
static enum mrd_code w_bytes(struct writer *w, int fd, uint64_t from, uint64_t size, bool copy,
                             const char *what, struct backup_sha *h, struct mrd_err *err)
{
    uint64_t done = 0;
    enum mrd_code rc = MRD_OK;

    while (rc == MRD_OK && done < size) {
        size_t want = size - done < BACKUP_IO_CHUNK ? (size_t)(size - done) : BACKUP_IO_CHUNK;
        ssize_t k = pread(fd, w->buf, want, (off_t)(from + done));

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = k < 0 ? mrd_err_sys(err, MRD_E_IO, errno, "backup: read %s", what)
                       : mrd_err_set(err, MRD_E_IO, "backup: %s shrank while being copied", what);
            break;
        }
        mrd_pace_add(&w->pace, (uint64_t)k);
        backup__sha_update(h, w->buf, (size_t)k);
        if (copy) {
            rc = w_raw(w, w->buf, (size_t)k, err);
        } else {
            backup__sha_update(&w->whole, w->buf, (size_t)k);
            w->off += (uint64_t)k;
        }
        done += (uint64_t)k;
    }
    return rc;
}

/* A member: its header, then its bytes (w_bytes), padding, manifest entry. */
static enum mrd_code w_member(struct writer *w, const char *name, int fd, uint64_t from,
                              uint64_t size, bool copy, unsigned mode, struct mrd_err *err)
{
    struct backup_sha h;
    uint8_t digest[MERKLE_HASH_LEN];
    enum mrd_code rc = backup__sha_init(&h, err);

    if (rc == MRD_OK)
        rc = w_header(w, name, size, mode, err);
    if (rc == MRD_OK)
        rc = w_bytes(w, fd, from, size, copy, name, &h, err);
    if (rc == MRD_OK)
        rc = w_pad(w, size, err);
    if (rc == MRD_OK) {
        backup__sha_final(&h, digest);
        member_json(w, name, size, mode, digest);
    }
    backup__sha_free(&h);
    return rc;
}

/* Copies the first size bytes of the file at path as member name. */
static enum mrd_code w_file(struct writer *w, const char *name, const char *path, uint64_t size,
                            unsigned mode, struct mrd_err *err)
{
    enum mrd_code rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "backup: %s", path);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rc = w_member(w, name, fd, 0, size, true, mode, err);
    (void)close(fd);
    return rc;
}

/* The store, written once: store_snapshot writes the copy straight into
 * the archive after the room left for its header; then the header goes
 * in front and the copy is read back (from the page cache) for the
 * hashes. */
static enum mrd_code w_store(struct writer *w, struct store *st, struct store_snapshot_info *si,
                             struct mrd_err *err)
{
    enum mrd_code rc = store_snapshot(st, w->fd, w->off + MRD_TAR_BLOCK,
                                      w->pace.rate > 0 ? &w->pace : NULL, si, err);

    if (rc != MRD_OK)
        return rc;
    return w_member(w, STORE_SQLITE_FILE, w->fd, w->off + MRD_TAR_BLOCK, si->bytes, false, 0600,
                    err);
}

static enum mrd_code w_mem(struct writer *w, const char *name, const void *data, size_t len,
                           struct mrd_err *err)
{
    uint8_t digest[MERKLE_HASH_LEN];
    enum mrd_code rc = w_header(w, name, len, 0600, err);

    if (rc == MRD_OK)
        rc = w_raw(w, data, len, err);
    if (rc == MRD_OK)
        rc = w_pad(w, len, err);
    if (rc == MRD_OK && strcmp(name, BACKUP_MANIFEST) != 0) {
        crypto_hash_sha256(digest, data, len);
        member_json(w, name, len, 0600, digest);
    }
    return rc;
}

/* ---- what goes in ---- */

/* Top-level files copied as they are: everything but the databases (and
 * their WAL files), temporary and lock files. */
static bool is_plain_member(const char *name)
{
    size_t n = strlen(name);

    if (name[0] == '.' || strncmp(name, STORE_SQLITE_FILE, strlen(STORE_SQLITE_FILE)) == 0 ||
        strncmp(name, FED_DB_FILE, strlen(FED_DB_FILE)) == 0 || mrd_str_has_suffix(name, n, ".tmp"))
        return false;
    return backup__name_ok(name);
}

/* out's own files when it is written inside the data directory. */
static bool is_output(const char *dir, const char *name, const char *out)
{
    char a[PATH_MAX], b[PATH_MAX];
    const char *base = strrchr(out, '/');
    size_t n;

    base = base != NULL ? base + 1 : out;
    n = strlen(base);
    if (strncmp(name, base, n) != 0 || (name[n] != '\0' && strncmp(name + n, ".partial", 8) != 0))
        return false;
    /* same directory? */
    if (realpath(dir, a) == NULL)
        return true;
    mrd_strlcpy(b, out, sizeof(b));
    if (base == out)
        mrd_strlcpy(b, ".", sizeof(b));
    else
        b[base - out - 1 > 0 ? base - out - 1 : 1] = '\0';
    {
        char c[PATH_MAX];

        return realpath(b, c) == NULL || strcmp(a, c) == 0;
    }
}

static enum mrd_code add_plain_files(struct writer *w, const char *dir, const char *out,
                                     struct backup_report *ret, struct mrd_err *err)
{
    char path[PATH_MAX];
    struct dirent **names = NULL;
    enum mrd_code rc = MRD_OK;
    int n = scandir(dir, &names, NULL, alphasort); /* sorted: same content, same archive */

    if (n < 0)
        return mrd_err_sys(err, MRD_E_IO, errno, "backup: %s", dir);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        struct stat sb;

        if (rc != MRD_OK || !is_plain_member(name) || is_output(dir, name, out))
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (lstat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode) && strcmp(name, LEDGER_DATA_SUBDIR) == 0)
            continue;
        if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > BACKUP_MAX_FILE) {
            if (ret->n_skipped < BACKUP_MAX_SKIPPED)
                mrd_strlcpy(ret->skipped[ret->n_skipped++], name, sizeof(ret->skipped[0]));
            continue;
        }
        rc = w_file(w, name, path, (uint64_t)sb.st_size, sb.st_mode & 0666, err);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* The node's metadata from the store, for the manifest. */
static void node_meta(struct store *st, struct backup_report *ret)
{
    char v[STORE_META_VAL_MAX + 1];

    if (store_meta_get(st, "node_id", v, sizeof(v), NULL) == MRD_OK)
        mrd_strlcpy(ret->node_id, v, sizeof(ret->node_id));
    if (store_meta_get(st, "own_org", v, sizeof(v), NULL) == MRD_OK)
        mrd_strlcpy(ret->own_org, v, sizeof(ret->own_org));
}

static enum mrd_code read_small(const char *path, struct mrd_buf *out, struct mrd_err *err)
{
    uint8_t chunk[4096];
    enum mrd_code rc = MRD_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? MRD_E_NOTFOUND : mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
    for (;;) {
        ssize_t k = read(fd, chunk, sizeof(chunk));

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = mrd_err_sys(err, MRD_E_IO, errno, "%s", path);
            break;
        }
        if (k == 0)
            break;
        rc = mrd_buf_append(out, chunk, (size_t)k, err);
        if (rc != MRD_OK)
            break;
    }
    (void)close(fd);
    return rc;
}

/* The manifest's JSON. */
static json_t *manifest(const struct backup_report *r, json_t *members)
{
    char ts[MRD_TIME_TAXII_LEN + 1],
        b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
    json_t *m = json_object(), *s = json_object(), *l = json_object(), *f = json_object();

    mrd_time_format_taxii(mrd_time_now_usec(), ts);
    sodium_bin2base64(b64, sizeof(b64), r->ledger_root, MERKLE_HASH_LEN,
                      sodium_base64_VARIANT_ORIGINAL);
    (void)json_object_set_new(m, "format", json_string(BACKUP_FORMAT));
    (void)json_object_set_new(m, "created", json_string(ts));
    (void)json_object_set_new(m, "meridian", json_string(MERIDIAN_VERSION));
    (void)json_object_set_new(m, "node_id", json_string(r->node_id));
    (void)json_object_set_new(m, "own_org", json_string(r->own_org));
    (void)json_object_set_new(s, "schema_version", json_integer(r->schema_version));
    (void)json_object_set_new(s, "objects", json_integer((json_int_t)r->objects));
    (void)json_object_set_new(s, "max_leaf", json_integer((json_int_t)r->max_leaf));
    (void)json_object_set_new(m, "store", s);
    (void)json_object_set_new(l, "size", json_integer((json_int_t)r->ledger_size));
    (void)json_object_set_new(l, "root", json_string(b64));
    (void)json_object_set_new(l, "checkpoint_size", json_integer((json_int_t)r->checkpoint_size));
    (void)json_object_set_new(m, "ledger", l);
    (void)json_object_set_new(f, "peers", json_integer(r->peers));
    (void)json_object_set_new(m, "federation", f);
    (void)json_object_set_new(m, "members", json_incref(members));
    return m;
}

static enum mrd_code fsync_dir_of(const char *path, struct mrd_err *err)
{
    char dir[PATH_MAX];
    char *slash;
    int fd;

    mrd_strlcpy(dir, path, sizeof(dir));
    slash = strrchr(dir, '/');
    if (slash == NULL)
        mrd_strlcpy(dir, ".", sizeof(dir));
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;

        if (fd >= 0)
            (void)close(fd);
        return mrd_err_sys(err, MRD_E_IO, e, "backup: fsync %s", dir);
    }
    (void)close(fd);
    return MRD_OK;
}

enum mrd_code backup_write(const char *data_dir, const char *out, const struct backup_opts *opts,
                           struct backup_report *ret, struct mrd_err *err)
{
    char tmp[PATH_MAX], fed_tmp[PATH_MAX], path[PATH_MAX];
    struct writer w = {.fd = -1};
    struct store *st = NULL;
    struct fed_state *fs = NULL;
    struct ledger *log = NULL;
    struct store_snapshot_info si;
    struct mrd_buf ckpt_note, text;
    struct ckpt c;
    uint8_t seal[MERKLE_HASH_LEN];
    char seal_hex[MERKLE_HASH_LEN * 2 + 1], seal_text[128];
    static const uint8_t zeros[2 * MRD_TAR_BLOCK];
    bool have_fed = false, have_ckpt = false;
    json_t *m = NULL;
    enum mrd_code rc;
    struct stat sb;

    memset(ret, 0, sizeof(*ret));
    ret->max_leaf = -1;
    mrd_pace_init(&w.pace, opts != NULL ? opts->max_rate : 0);
    mrd_buf_init(&ckpt_note, CKPT_MAX_NOTE);
    mrd_buf_init(&text, BACKUP_MAX_MANIFEST);
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.partial", out) >= sizeof(tmp) ||
        (size_t)snprintf(fed_tmp, sizeof(fed_tmp), "%s.partial-%s", out, FED_DB_FILE) >=
            sizeof(fed_tmp))
        return mrd_err_set(err, MRD_E_INVAL, "backup: output path too long");
    w.buf = mrd_malloc(BACKUP_IO_CHUNK);
    w.members = json_array();
    if (w.buf == NULL || w.members == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "backup: out of memory");
        goto out;
    }
    /* The temporary archive, locked: a second backup to the same file
     * waits for nobody and clobbers nothing; a killed one left it
     * unlocked, so it is simply reused. */
    w.fd = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (w.fd < 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "backup: %s", tmp);
        goto out;
    }
    if (flock(w.fd, LOCK_EX | LOCK_NB) != 0) {
        rc = mrd_err_set(err, MRD_E_CONFLICT, "backup: another backup to %s is running", out);
        (void)close(w.fd);
        w.fd = -1;
        goto out;
    }
    if (ftruncate(w.fd, 0) != 0 || fchmod(w.fd, 0600) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "backup: %s", tmp);
        goto out;
    }
    (void)unlink(fed_tmp); /* left by a killed run (we hold the lock) */
    rc = backup__sha_init(&w.whole, err);
    if (rc != MRD_OK)
        goto out;

    rc = store_open(data_dir, NULL, &st, err);
    if (rc != MRD_OK)
        goto out;
    if (strcmp(store_backend(st), "sqlite") != 0) {
        rc = mrd_err_set(err, MRD_E_UNSUPP,
                         "backup: this node's database is on PostgreSQL: back it up with"
                         " PostgreSQL's own tools (pg_basebackup with WAL archiving, or pg_dump),"
                         " the data directory first (docs/store.md, \"Backups on"
                         " PostgreSQL\")");
        goto out;
    }
    node_meta(st, ret);
    /* 1. The checkpoint first: it is signed only over leaves the store
     * had recorded, so the store copied after it covers it. */
    (void)snprintf(path, sizeof(path), "%s/%s/checkpoint", data_dir, LEDGER_DATA_SUBDIR);
    rc = read_small(path, &ckpt_note, err);
    if (rc == MRD_OK) {
        rc = ckpt_parse(ckpt_note.data, ckpt_note.len, &c, err);
        if (rc != MRD_OK)
            goto out;
        have_ckpt = true;
        ret->checkpoint_size = c.size;
    } else if (rc == MRD_E_NOTFOUND) {
        rc = MRD_OK;
    } else {
        goto out;
    }
    /* 2. Federation state before the store: cursors never ahead of it. */
    (void)snprintf(path, sizeof(path), "%s/%s", data_dir, FED_DB_FILE);
    if (stat(path, &sb) == 0) {
        rc = fed_state_open(data_dir, &fs, err);
        if (rc == MRD_OK)
            rc = fed_state_snapshot(fs, fed_tmp, &ret->peers, err);
        fed_state_close(fs);
        fs = NULL;
        if (rc != MRD_OK)
            goto out;
        have_fed = true;
    }
    /* 3. The store, as of one commit: the archive's first member. */
    rc = w_store(&w, st, &si, err);
    if (rc != MRD_OK)
        goto out;
    ret->objects = si.objects;
    ret->max_leaf = si.max_leaf;
    ret->schema_version = si.schema_version;
    /* 4. The ledger leaves that store (and that checkpoint) need. */
    (void)snprintf(path, sizeof(path), "%s/%s", data_dir, LEDGER_DATA_SUBDIR);
    rc = ledger_open(path, LEDGER_OPEN_READONLY, &log, NULL, err);
    if (rc == MRD_E_NOTFOUND && si.max_leaf < 0 && !have_ckpt) {
        rc = MRD_OK; /* a node that never had a ledger yet */
    } else if (rc != MRD_OK) {
        goto out;
    } else {
        uint64_t want = (uint64_t)(si.max_leaf + 1);

        if (ret->checkpoint_size > want)
            want = ret->checkpoint_size;
        if (ledger_size(log) < want) {
            rc = mrd_err_set(err, MRD_E_INVALID,
                             "backup: the store records ledger leaf %lld but %s has %llu leaves: "
                             "the ledger does not belong to this store (run 'meridian ledger "
                             "verify --data %s')",
                             (long long)si.max_leaf, path, (unsigned long long)ledger_size(log),
                             data_dir);
            goto out;
        }
        ret->ledger_size = want;
        rc = ledger_root(log, want, ret->ledger_root, err);
        if (rc != MRD_OK)
            goto out;
    }

    /* The archive: databases, ledger, the other files, manifest, seal. */
    if (have_fed)
        rc = w_file(&w, FED_DB_FILE, fed_tmp, backup__file_size(fed_tmp), 0600, err);
    if (rc == MRD_OK && log != NULL) {
        (void)snprintf(path, sizeof(path), "%s/%s/log", data_dir, LEDGER_DATA_SUBDIR);
        rc = w_file(&w, BACKUP_LEDGER_LOG, path, ledger_file_size(ret->ledger_size), 0600, err);
    }
    if (rc == MRD_OK && have_ckpt)
        rc = w_mem(&w, BACKUP_LEDGER_CKPT, ckpt_note.data, ckpt_note.len, err);
    if (rc == MRD_OK)
        rc = add_plain_files(&w, data_dir, out, ret, err);
    if (rc != MRD_OK)
        goto out;
    ret->members = json_array_size(w.members) + 2;
    m = manifest(ret, w.members);
    if (m == NULL || mrd_jcs_write(m, &text, err) != MRD_OK) {
        rc = err != NULL && err->code != MRD_OK ? err->code : MRD_E_NOMEM;
        goto out;
    }
    rc = w_mem(&w, BACKUP_MANIFEST, text.data, text.len, err);
    if (rc != MRD_OK)
        goto out;
    /* The seal: SHA-256 of every byte before its header. */
    rc = backup__sha_peek(&w.whole, seal, err);
    if (rc != MRD_OK)
        goto out;
    sodium_bin2hex(seal_hex, sizeof(seal_hex), seal, sizeof(seal));
    (void)snprintf(seal_text, sizeof(seal_text), "%s sha256 %s\n", BACKUP_FORMAT, seal_hex);
    rc = w_header(&w, BACKUP_SEAL, strlen(seal_text), 0600, err);
    if (rc == MRD_OK)
        rc = w_raw(&w, seal_text, strlen(seal_text), err);
    if (rc == MRD_OK)
        rc = w_pad(&w, strlen(seal_text), err);
    if (rc == MRD_OK)
        rc = w_raw(&w, zeros, sizeof(zeros), err);
    if (rc != MRD_OK)
        goto out;
    backup__sha_final(&w.whole, ret->sha256);
    ret->bytes = w.off;
    /* Durable, then visible under its name, then the name durable. */
    if (fsync(w.fd) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "backup: fsync %s", tmp);
        goto out;
    }
    if (rename(tmp, out) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "backup: rename %s to %s", tmp, out);
        goto out;
    }
    rc = fsync_dir_of(out, err);
out:
    backup__sha_free(&w.whole);
    json_decref(m);
    json_decref(w.members);
    if (w.fd >= 0) {
        if (rc != MRD_OK)
            (void)unlink(tmp);
        (void)close(w.fd); /* drops the lock */
    }
    (void)unlink(fed_tmp);
    ledger_free(log);
    store_close(st);
    mrd_free(w.buf);
    mrd_buf_release(&ckpt_note);
    mrd_buf_release(&text);
    return rc;
}
