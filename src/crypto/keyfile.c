/* The node's private key file: the only file I/O in crypto/.
 *
 * Format (text, so an operator can recognise it; ~130 bytes):
 *   # Meridian node key (Ed25519). Secret: keep mode 0600, never share.
 *   # public ed25519:<base64 of the public key>
 *   ed25519-secret:<base64 of the 32-byte seed>
 * Only the seed is authoritative; the public line is a comment for humans
 * and is recomputed on load. */
#include "crypto/crypto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

#define SECRET_TAG "ed25519-secret:"

/* Makes the new directory entry durable too, not only the file's bytes. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? mrd_strdup(".") : mrd_strndup(path, (size_t)(slash - path) + 1);
    int fd;

    if (dir == NULL)
        return; /* best effort: the file itself is already synced */
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        (void)close(fd);
    }
    mrd_free(dir);
}

static enum mrd_code write_all(int fd, const char *p, size_t n, const char *path,
                               struct mrd_err *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return mrd_err_sys(err, MRD_E_IO, errno, "key file %s: write", path);
        p += w;
        n -= (size_t)w;
    }
    return MRD_OK;
}

enum mrd_code crypto_key_save(const struct crypto_key *k, const char *path, struct mrd_err *err)
{
    char text[CRYPTO_KEY_FILE_MAX];
    char pktext[CRYPTO_PUBKEY_TEXT_LEN + 1];
    char seed64[sodium_base64_ENCODED_LEN(CRYPTO_SEED_LEN, sodium_base64_VARIANT_ORIGINAL)];
    enum mrd_code rc = MRD_OK;
    int fd = -1, len;
    bool created = false;

    if (!k->has_secret)
        return mrd_err_set(err, MRD_E_INVAL, "key file %s: key has no secret part", path);
    crypto_pubkey_format(k->pk, pktext);
    /* libsodium's secret key is seed || public key: the seed is enough */
    sodium_bin2base64(seed64, sizeof(seed64), k->sk, CRYPTO_SEED_LEN,
                      sodium_base64_VARIANT_ORIGINAL);
    len = snprintf(text, sizeof(text),
                   "# Meridian node key (Ed25519). Secret: keep mode 0600, never share.\n"
                   "# public %s\n" SECRET_TAG "%s\n",
                   pktext, seed64);
    /* O_EXCL: never replace a key (that would orphan every signature made
     * with it); mode 0600 from the first byte, so no window where others
     * could read it */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? mrd_err_set(err, MRD_E_EXISTS, "key file %s: already exists", path)
                             : mrd_err_sys(err, MRD_E_IO, errno, "key file %s: create", path);
        goto out;
    }
    created = true;
    /* the umask may have removed bits, never added any; set exactly 0600 */
    if (fchmod(fd, 0600) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "key file %s: chmod", path);
        goto out;
    }
    rc = write_all(fd, text, (size_t)len, path, err);
    if (rc == MRD_OK && fsync(fd) != 0)
        rc = mrd_err_sys(err, MRD_E_IO, errno, "key file %s: fsync", path);
    if (close(fd) != 0 && rc == MRD_OK)
        rc = mrd_err_sys(err, MRD_E_IO, errno, "key file %s: close", path);
    fd = -1;
    if (rc == MRD_OK)
        sync_parent_dir(path);
out:
    if (fd >= 0)
        (void)close(fd);
    if (rc != MRD_OK && created)
        (void)unlink(path);
    sodium_memzero(text, sizeof(text));
    sodium_memzero(seed64, sizeof(seed64));
    return rc;
}

/* Finds the one SECRET_TAG line in text; comments and blank lines are
 * allowed around it, nothing else. */
static enum mrd_code parse_key_text(const char *text, size_t n, const char *path,
                                    uint8_t seed[CRYPTO_SEED_LEN], struct mrd_err *err)
{
    size_t tag = sizeof(SECRET_TAG) - 1, line = 0;
    bool found = false;

    for (size_t i = 0; i < n;) {
        const char *nl = memchr(text + i, '\n', n - i);
        size_t end = nl != NULL ? (size_t)(nl - text) : n, len = end - i;
        const char *s = text + i;

        line++;
        if (len > 0 && s[len - 1] == '\r')
            len--;
        if (len == 0 || s[0] == '#') {
            /* comment or blank */
        } else if (len > tag && memcmp(s, SECRET_TAG, tag) == 0 && !found) {
            if (!crypto__b64_decode(s + tag, len - tag, seed, CRYPTO_SEED_LEN))
                return mrd_err_set(err, MRD_E_PARSE,
                                   "key file %s: line %zu: expected base64 of a 32-byte seed after "
                                   "\"" SECRET_TAG "\"",
                                   path, line);
            found = true;
        } else {
            return mrd_err_set(err, MRD_E_PARSE,
                               "key file %s: line %zu: not a Meridian key file line%s", path, line,
                               found ? " (a second key?)" : "");
        }
        i = end + 1;
    }
    if (!found)
        return mrd_err_set(err, MRD_E_PARSE, "key file %s: no \"" SECRET_TAG "\" line", path);
    return MRD_OK;
}

enum mrd_code crypto_key_load(const char *path, struct crypto_key **ret, struct mrd_err *err)
{
    char text[CRYPTO_KEY_FILE_MAX + 1];
    uint8_t seed[CRYPTO_SEED_LEN];
    struct stat st;
    size_t n = 0;
    enum mrd_code rc = MRD_OK;
    int fd;

    /* O_NOFOLLOW: a symbolic link could point anywhere, and its target's
     * mode is not what ls shows the operator */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return mrd_err_set(err, MRD_E_NOTFOUND, "key file %s: does not exist", path);
        if (errno == ELOOP)
            return mrd_err_set(err, MRD_E_PERM, "key file %s: is a symbolic link", path);
        return mrd_err_sys(err, MRD_E_IO, errno, "key file %s: open", path);
    }
    if (fstat(fd, &st) != 0) {
        rc = mrd_err_sys(err, MRD_E_IO, errno, "key file %s: stat", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = mrd_err_set(err, MRD_E_PERM, "key file %s: not a regular file", path);
        goto out;
    }
    /* like ssh: a secret others could read (or replace) is not a secret */
    if ((st.st_mode & 077) != 0) {
        rc = mrd_err_set(err, MRD_E_PERM,
                         "key file %s: mode %04o lets group or others access it; "
                         "run chmod 600 on it (or make a new key if it may have leaked)",
                         path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    while (n <= CRYPTO_KEY_FILE_MAX) {
        ssize_t r = read(fd, text + n, sizeof(text) - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = mrd_err_sys(err, MRD_E_IO, errno, "key file %s: read", path);
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > CRYPTO_KEY_FILE_MAX) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "key file %s: larger than %d bytes", path,
                         CRYPTO_KEY_FILE_MAX);
        goto out;
    }
    rc = parse_key_text(text, n, path, seed, err);
    if (rc == MRD_OK)
        rc = crypto_key_from_seed(seed, ret, err);
out:
    (void)close(fd);
    sodium_memzero(text, sizeof(text));
    sodium_memzero(seed, sizeof(seed));
    return rc;
}
