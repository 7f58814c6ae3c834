/*
 * backup_sha.c: SHA-256 for archives (backup_int.h).
 */
#include "backup/backup_int.h"

#include <string.h>

enum mrd_code backup__sha_init(struct backup_sha *s, struct mrd_err *err)
{
    s->h = NULL;
    if (gnutls_hash_init(&s->h, GNUTLS_DIG_SHA256) < 0) {
        s->h = NULL;
        return mrd_err_set(err, MRD_E_NOMEM, "backup: cannot start SHA-256");
    }
    return MRD_OK;
}

void backup__sha_update(struct backup_sha *s, const void *p, size_t n)
{
    if (n > 0)
        (void)gnutls_hash(s->h, p, n);
}

enum mrd_code backup__sha_peek(struct backup_sha *s, uint8_t out[MERKLE_HASH_LEN],
                               struct mrd_err *err)
{
    gnutls_hash_hd_t c = gnutls_hash_copy(s->h);

    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "backup: cannot copy a SHA-256 state");
    gnutls_hash_deinit(c, out);
    return MRD_OK;
}

void backup__sha_final(struct backup_sha *s, uint8_t out[MERKLE_HASH_LEN])
{
    gnutls_hash_deinit(s->h, out);
    s->h = NULL;
}

void backup__sha_free(struct backup_sha *s)
{
    if (s->h != NULL)
        gnutls_hash_deinit(s->h, NULL);
    s->h = NULL;
}
