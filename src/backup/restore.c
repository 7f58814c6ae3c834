/*
 * restore.c: reading a backup archive back, strictly (backup.h).
 *
 * One pass over the file: every header is checked (core/tar.h), every
 * member's bytes are hashed as they are read (and, when restoring, written
 * into the new data directory), the manifest is kept, and the seal is
 * compared with the hash of everything before it. Only then are the
 * member hashes compared with the manifest, so the message names the first
 * member whose bytes differ. Nothing may follow the end-of-archive blocks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "backup/backup_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/tar.h"
#include "crypto/crypto.h"
#include "fed/fed.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/sync.h"
#include "store/store.h"

bool backup__name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 64 || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

uint64_t backup__file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* ---- the reader ---- */

struct seen {
    char name[MRD_TAR_NAME_MAX + 1];
    uint64_t size;
    uint8_t sha256[MERKLE_HASH_LEN];
};

struct reader {
    int fd;
    const char *file;
    const char *dir; /* NULL: verify only */
    uint8_t *buf;
    uint64_t off;
    struct backup_sha whole;
    struct seen members[BACKUP_MAX_MEMBERS];
    size_t n;
    struct mrd_buf manifest;
};

/* Reads exactly n bytes (hashed into the whole); a short read is the
 * archive ending early. */
static enum mrd_code r_read(struct reader *r, void *p, size_t n, const char *where,
                            struct mrd_err *err)
{
    uint8_t *b = p;
    size_t got = 0;

    while (got < n) {
        ssize_t k = read(r->fd, b + got, n - got);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "%s: read", r->file);
        if (k == 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "%s: truncated at byte %llu (inside %s): the backup is "
                               "incomplete; use another copy",
                               r->file, (unsigned long long)(r->off + got), where);
        got += (size_t)k;
    }
    backup__sha_update(&r->whole, b, n);
    r->off += n;
    return MRD_OK;
}

/* The databases' own side files (WAL, shared memory, journal) are never
 * members: a restored database is exactly the snapshot. */
static bool is_side_file(const char *name, const char *db)
{
    size_t n = strlen(db);

    return strncmp(name, db, n) == 0 && name[n] != '\0';
}

static bool is_known_member(const char *name)
{
    if (is_side_file(name, STORE_SQLITE_FILE) || is_side_file(name, FED_DB_FILE))
        return false;
    return strcmp(name, BACKUP_LEDGER_LOG) == 0 || strcmp(name, BACKUP_LEDGER_CKPT) == 0 ||
           backup__name_ok(name);
}

static enum mrd_code write_all(int fd, const uint8_t *p, size_t n, const char *path,
                               struct mrd_err *err)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "restore: write %s", path);
        p += k;
        n -= (size_t)k;
    }
    return MRD_OK;
}

/* One member's data: hashed, kept (manifest) or written (restore). */
static enum mrd_code r_member(struct reader *r, const char *name, uint64_t size, unsigned mode,
                              struct mrd_err *err)
{
    struct seen *s = &r->members[r->n];
    struct backup_sha h;
    char path[PATH_MAX];
    uint8_t pad[MRD_TAR_BLOCK];
    bool is_manifest = strcmp(name, BACKUP_MANIFEST) == 0;
    uint64_t done = 0;
    enum mrd_code rc = MRD_OK;
    int fd = -1;

    if (is_manifest && size > BACKUP_MAX_MANIFEST)
        return mrd_err_set(err, MRD_E_TOOBIG, "%s: the manifest is larger than %zu bytes", r->file,
                           BACKUP_MAX_MANIFEST);
    if (r->dir != NULL && !is_manifest) {
        (void)snprintf(path, sizeof(path), "%s/%s", r->dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode & 0666) | 0600);
        if (fd < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "restore: %s", path);
    }
    rc = backup__sha_init(&h, err);
    while (rc == MRD_OK && done < size) {
        size_t want = size - done < BACKUP_IO_CHUNK ? (size_t)(size - done) : BACKUP_IO_CHUNK;

        rc = r_read(r, r->buf, want, name, err);
        if (rc != MRD_OK)
            break;
        backup__sha_update(&h, r->buf, want);
        if (is_manifest)
            rc = mrd_buf_append(&r->manifest, r->buf, want, err);
        else if (fd >= 0)
            rc = write_all(fd, r->buf, want, path, err);
        done += want;
    }
    if (rc == MRD_OK && mrd_tar_padding(size) > 0) {
        rc = r_read(r, pad, mrd_tar_padding(size), name, err);
        if (rc == MRD_OK && !mrd_tar_zero(pad, mrd_tar_padding(size)))
            rc = mrd_err_set(err, MRD_E_INVALID, "%s: member %s: its padding is not zero", r->file,
                             name);
    }
    if (fd >= 0) {
        if (rc == MRD_OK && fsync(fd) != 0)
            rc = mrd_err_sys(err, MRD_E_IO, errno, "restore: fsync %s", path);
        (void)close(fd);
    }
    if (rc != MRD_OK) {
        backup__sha_free(&h);
        return rc;
    }
    mrd_strlcpy(s->name, name, sizeof(s->name));
    s->size = size;
    backup__sha_final(&h, s->sha256);
    r->n++;
    return MRD_OK;
}

/* The seal: "<format> sha256 <hex of every byte before its header>". */
static enum mrd_code r_seal(struct reader *r, uint64_t size, const uint8_t want[MERKLE_HASH_LEN],
                            struct mrd_err *err)
{
    char text[160], expect[160], hex[MERKLE_HASH_LEN * 2 + 1];
    uint8_t pad[MRD_TAR_BLOCK];
    enum mrd_code rc;

    if (size >= sizeof(text))
        return mrd_err_set(err, MRD_E_INVALID, "%s: the seal is malformed", r->file);
    rc = r_read(r, text, (size_t)size, BACKUP_SEAL, err);
    if (rc == MRD_OK && mrd_tar_padding(size) > 0) {
        rc = r_read(r, pad, mrd_tar_padding(size), BACKUP_SEAL, err);
        if (rc == MRD_OK && !mrd_tar_zero(pad, mrd_tar_padding(size)))
            rc = mrd_err_set(err, MRD_E_INVALID, "%s: the seal's padding is not zero", r->file);
    }
    if (rc != MRD_OK)
        return rc;
    text[size] = '\0';
    sodium_bin2hex(hex, sizeof(hex), want, MERKLE_HASH_LEN);
    (void)snprintf(expect, sizeof(expect), "%s sha256 %s\n", BACKUP_FORMAT, hex);
    if (strcmp(text, expect) != 0)
        return mrd_err_set(
            err, MRD_E_INVALID,
            "%s: the seal does not match the archive's bytes: the file was "
            "altered after it was written (its SHA-256 over bytes 0..%llu is %s)",
            r->file, (unsigned long long)(r->off - size - mrd_tar_padding(size) - MRD_TAR_BLOCK),
            hex);
    return MRD_OK;
}

/* After the seal: at least two zero blocks and nothing else. */
static enum mrd_code r_end(struct reader *r, struct mrd_err *err)
{
    uint8_t blk[MRD_TAR_BLOCK];
    unsigned zero_blocks = 0;

    for (;;) {
        ssize_t k = read(r->fd, blk, sizeof(blk));

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "%s: read", r->file);
        if (k == 0)
            break;
        if (!mrd_tar_zero(blk, (size_t)k))
            return mrd_err_set(err, MRD_E_INVALID,
                               "%s: offset %llu: data after the end of the archive", r->file,
                               (unsigned long long)r->off);
        backup__sha_update(&r->whole, blk, (size_t)k);
        r->off += (uint64_t)k;
        if ((size_t)k == sizeof(blk))
            zero_blocks++;
    }
    if (zero_blocks < 2)
        return mrd_err_set(err, MRD_E_PARSE, "%s: truncated: the end-of-archive blocks are missing",
                           r->file);
    return MRD_OK;
}

static const struct seen *find_seen(const struct reader *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->members[i].name, name) == 0)
            return &r->members[i];
    return NULL;
}

static enum mrd_code b64_hash(const char *s, uint8_t out[MERKLE_HASH_LEN])
{
    size_t n = 0;

    if (s == NULL ||
        sodium_base642bin(out, MERKLE_HASH_LEN, s, strlen(s), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != MERKLE_HASH_LEN)
        return MRD_E_PARSE;
    return MRD_OK;
}

static int64_t int_field(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(json_object_get(o, a), b);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static const char *str_field(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

/* The manifest against what was read. */
static enum mrd_code check_manifest(struct reader *r, struct backup_report *ret,
                                    struct mrd_err *err)
{
    struct mrd_json_limits lim = {BACKUP_MAX_MANIFEST, 16};
    json_t *m = NULL, *members, *e;
    enum mrd_code rc = MRD_OK;
    const char *fmt;
    size_t i, listed = 0;

    if (r->manifest.len == 0 && find_seen(r, BACKUP_MANIFEST) == NULL)
        return mrd_err_set(err, MRD_E_PARSE, "%s: no %s: not a meridian backup", r->file,
                           BACKUP_MANIFEST);
    if (mrd_json_parse(r->manifest.data, r->manifest.len, &lim, &m, err) != MRD_OK) {
        mrd_err_prefix(err, "%s: %s", r->file, BACKUP_MANIFEST);
        return MRD_E_PARSE;
    }
    fmt = json_string_value(json_object_get(m, "format"));
    if (fmt == NULL || strcmp(fmt, BACKUP_FORMAT) != 0) {
        rc = mrd_err_set(err, MRD_E_UNSUPP, "%s: format '%s' is not %s", r->file,
                         fmt != NULL ? fmt : "(none)", BACKUP_FORMAT);
        goto out;
    }
    members = json_object_get(m, "members");
    json_array_foreach(members, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *hex = json_string_value(json_object_get(e, "sha256"));
        const json_t *size = json_object_get(e, "size");
        const struct seen *s = name != NULL ? find_seen(r, name) : NULL;
        char have[MERKLE_HASH_LEN * 2 + 1];

        if (s == NULL) {
            rc = mrd_err_set(err, MRD_E_PARSE, "%s: member %s is missing", r->file,
                             name != NULL ? name : "(unnamed)");
            goto out;
        }
        sodium_bin2hex(have, sizeof(have), s->sha256, sizeof(s->sha256));
        if (!json_is_integer(size) || (uint64_t)json_integer_value(size) != s->size ||
            hex == NULL || strcmp(hex, have) != 0) {
            rc = mrd_err_set(err, MRD_E_INVALID,
                             "%s: member %s was altered: its SHA-256 is %s, the manifest says %s",
                             r->file, name, have, hex != NULL ? hex : "(none)");
            goto out;
        }
        listed++;
    }
    /* manifest and seal are not listed; everything else must be */
    if (listed + 1 != r->n) {
        rc = mrd_err_set(err, MRD_E_INVALID, "%s: it holds a member the manifest does not list",
                         r->file);
        goto out;
    }
    if (find_seen(r, STORE_SQLITE_FILE) == NULL) {
        rc = mrd_err_set(err, MRD_E_PARSE, "%s: no %s in the backup", r->file, STORE_SQLITE_FILE);
        goto out;
    }
    mrd_strlcpy(ret->node_id, str_field(m, "node_id"), sizeof(ret->node_id));
    mrd_strlcpy(ret->own_org, str_field(m, "own_org"), sizeof(ret->own_org));
    ret->schema_version = (int)int_field(m, "store", "schema_version");
    ret->objects = (uint64_t)int_field(m, "store", "objects");
    ret->max_leaf = int_field(m, "store", "max_leaf");
    ret->ledger_size = (uint64_t)int_field(m, "ledger", "size");
    ret->checkpoint_size = (uint64_t)int_field(m, "ledger", "checkpoint_size");
    ret->peers = (unsigned)int_field(m, "federation", "peers");
    ret->members = r->n + 1;
    if (int_field(m, "ledger", "size") < 0 ||
        b64_hash(json_string_value(json_object_get(json_object_get(m, "ledger"), "root")),
                 ret->ledger_root) != MRD_OK)
        rc = mrd_err_set(err, MRD_E_PARSE, "%s: the manifest has no ledger size or root", r->file);
out:
    json_decref(m);
    return rc;
}

/* The whole archive, strictly; members go to r->dir when set. */
static enum mrd_code read_archive(struct reader *r, struct backup_report *ret, struct mrd_err *err)
{
    uint8_t h[MRD_TAR_BLOCK];
    char name[MRD_TAR_NAME_MAX + 1];
    enum mrd_code rc;

    for (;;) {
        uint64_t size, at = r->off;
        unsigned mode = 0;
        uint8_t before[MERKLE_HASH_LEN];

        rc = backup__sha_peek(&r->whole, before, err);
        if (rc != MRD_OK)
            return rc;
        rc = r_read(r, h, sizeof(h), "a member header", err);
        if (rc != MRD_OK)
            return rc;
        if (mrd_tar_zero(h, sizeof(h)))
            return mrd_err_set(err, MRD_E_PARSE,
                               "%s: offset %llu: the archive ends without its seal: truncated "
                               "or not a meridian backup",
                               r->file, (unsigned long long)at);
        rc = mrd_tar_header_parse(h, name, &size, &mode, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "%s: offset %llu", r->file, (unsigned long long)at);
            return rc;
        }
        if (strcmp(name, BACKUP_SEAL) == 0) {
            struct mrd_err seal_err = {0};
            enum mrd_code seal_rc = r_seal(r, size, before, &seal_err);

            /* A member whose bytes changed is named first; the seal then
             * catches what no member hash covers (headers, the manifest). */
            rc = r_end(r, err);
            if (rc == MRD_OK && seal_rc != MRD_E_IO)
                rc = check_manifest(r, ret, err);
            if (rc == MRD_OK && seal_rc != MRD_OK)
                rc = mrd_err_set(err, seal_rc, "%s", seal_err.msg);
            return rc;
        }
        if (!is_known_member(name) || find_seen(r, name) != NULL || r->n >= BACKUP_MAX_MEMBERS)
            return mrd_err_set(err, MRD_E_INVALID,
                               "%s: offset %llu: member '%s' is unexpected or repeated", r->file,
                               (unsigned long long)at, name);
        rc = r_member(r, name, size, mode, err);
        if (rc != MRD_OK)
            return rc;
    }
}

static enum mrd_code reader_run(const char *file, const char *dir, struct backup_report *ret,
                                struct mrd_err *err)
{
    struct reader *r = mrd_calloc(1, sizeof(*r));
    enum mrd_code rc;

    if (r == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "restore: out of memory");
    r->file = file;
    r->dir = dir;
    r->fd = -1;
    mrd_buf_init(&r->manifest, BACKUP_MAX_MANIFEST);
    r->buf = mrd_malloc(BACKUP_IO_CHUNK);
    if (r->buf == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "restore: out of memory");
        goto out;
    }
    r->fd = open(file, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        rc = mrd_err_sys(err, errno == ENOENT ? MRD_E_NOTFOUND : MRD_E_IO, errno, "%s", file);
        goto out;
    }
    (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rc = backup__sha_init(&r->whole, err);
    if (rc == MRD_OK)
        rc = read_archive(r, ret, err);
    if (rc == MRD_OK) {
        ret->bytes = r->off;
        backup__sha_final(&r->whole, ret->sha256);
    }
out:
    backup__sha_free(&r->whole);
    if (r->fd >= 0)
        (void)close(r->fd);
    mrd_buf_release(&r->manifest);
    mrd_free(r->buf);
    mrd_free(r);
    return rc;
}

enum mrd_code backup_verify(const char *file, struct backup_report *ret, struct mrd_err *err)
{
    memset(ret, 0, sizeof(*ret));
    return reader_run(file, NULL, ret, err);
}

/* ---- restore ---- */

/* The restored node's ledger against the manifest, its checkpoint and its
 * store. */
static enum mrd_code check_node(const char *dir, struct backup_report *ret, struct mrd_err *err)
{
    char path[PATH_MAX];
    struct ledger *log = NULL;
    struct store *st = NULL;
    struct crypto_key *k = NULL;
    struct ckpt_signer signer;
    struct ckpt_verifier v;
    struct ckpt c;
    struct ledger_verify_report vr;
    struct mrd_buf note;
    uint8_t seed[CRYPTO_SEED_LEN], root[MERKLE_HASH_LEN];
    enum mrd_code rc;

    mrd_buf_init(&note, CKPT_MAX_NOTE);
    rc = store_open(dir, NULL, &st, err); /* migrates an older schema */
    if (rc != MRD_OK)
        goto out;
    (void)snprintf(path, sizeof(path), "%s/%s", dir, LEDGER_DATA_SUBDIR);
    rc = ledger_open(path, LEDGER_OPEN_CREATE, &log, NULL, err);
    if (rc != MRD_OK)
        goto out;
    if (ledger_size(log) != ret->ledger_size) {
        rc = mrd_err_set(
            err, MRD_E_INVALID, "restore: the ledger has %llu leaves, the manifest says %llu",
            (unsigned long long)ledger_size(log), (unsigned long long)ret->ledger_size);
        goto out;
    }
    rc = ledger_root(log, ret->ledger_size, root, err);
    if (rc == MRD_OK && sodium_memcmp(root, ret->ledger_root, sizeof(root)) != 0)
        rc = mrd_err_set(err, MRD_E_INVALID,
                         "restore: the ledger's root at %llu leaves is not the manifest's",
                         (unsigned long long)ret->ledger_size);
    if (rc != MRD_OK)
        goto out;
    /* The checkpoint: signed by the node key, and the ledger matches it. */
    if (ledger_checkpoint_read(log, &note, NULL) == MRD_OK) {
        (void)snprintf(path, sizeof(path), "%s/%s", dir, FED_NODE_KEY_FILE);
        rc = ckpt_parse(note.data, note.len, &c, err);
        if (rc == MRD_OK)
            rc = crypto_key_load(path, &k, err);
        if (rc == MRD_OK)
            rc = crypto_key_seed(k, seed, err);
        if (rc == MRD_OK)
            rc = ckpt_signer_from_seed(c.origin, seed, &signer, err);
        sodium_memzero(seed, sizeof(seed));
        if (rc == MRD_OK) {
            mrd_strlcpy(v.name, c.origin, sizeof(v.name));
            memcpy(v.pk, signer.sk + 32, sizeof(v.pk));
            sodium_memzero(&signer, sizeof(signer));
            rc = ckpt_verify(note.data, note.len, &v, &c, err);
        }
        if (rc == MRD_OK)
            rc = ledger_verify(log, &c, &vr, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "restore: the ledger's checkpoint");
            goto out;
        }
    }
    /* Every leaf the store records is in the ledger, with that entry. */
    rc = ledger_store_check(log, st, &ret->checked_leaves, err);
    if (rc == MRD_OK)
        rc = ledger_sync(log, st, NULL, err); /* what the store queued after the leaves */
out:
    crypto_key_free(k);
    ledger_free(log);
    store_close(st);
    mrd_buf_release(&note);
    return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

enum mrd_code backup_restore(const char *file, const char *data_dir, struct backup_report *ret,
                             struct mrd_err *err)
{
    char path[PATH_MAX];
    bool created = false;
    enum mrd_code rc;
    struct stat sb;

    memset(ret, 0, sizeof(*ret));
    if (stat(data_dir, &sb) == 0) {
        DIR *d = opendir(data_dir);
        struct dirent *e;
        bool empty = true;

        if (d == NULL)
            return mrd_err_sys(err, MRD_E_IO, errno, "restore: %s", data_dir);
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                empty = false;
        (void)closedir(d);
        if (!empty)
            return mrd_err_set(err, MRD_E_EXISTS,
                               "restore: %s is not empty: restore never overwrites a node "
                               "(give a new directory)",
                               data_dir);
    } else if (errno != ENOENT || mkdir(data_dir, 0700) != 0) {
        return mrd_err_sys(err, MRD_E_IO, errno, "restore: cannot create %s", data_dir);
    } else {
        created = true;
    }
    (void)snprintf(path, sizeof(path), "%s/%s", data_dir, LEDGER_DATA_SUBDIR);
    if (mkdir(path, 0700) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "restore: %s", path);
        goto out;
    }
    rc = reader_run(file, data_dir, ret, err);
    if (rc == MRD_OK)
        rc = check_node(data_dir, ret, err);
out:
    if (rc != MRD_OK) {
        /* Leave nothing half-restored behind. */
        (void)nftw(data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (!created)
            (void)mkdir(data_dir, 0700);
    }
    return rc;
}
