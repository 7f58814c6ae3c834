/*
 * backup_int: what backup.c (writing) and restore.c (reading) share.
 */
#ifndef MRD_BACKUP_INT_H
#define MRD_BACKUP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/crypto.h>

#include "backup/backup.h"

#define BACKUP_IO_CHUNK ((size_t)1024 * 1024) /* bytes per read/write */
#define BACKUP_LEDGER_LOG "ledger/log"
#define BACKUP_LEDGER_CKPT "ledger/checkpoint"

/* A top-level member name: 1..64 chars of [A-Za-z0-9._-], not starting
 * with '.' (no paths, nothing that climbs out of the data directory). */
bool backup__name_ok(const char *name);

/* The size of the file at path; 0 when it cannot be read (the copy then
 * fails with the reason). */
uint64_t backup__file_size(const char *path);

/* SHA-256 over GnuTLS (nettle), which uses the CPU's SHA instructions
 * where there are some: archives are gigabytes, hashed twice (each member
 * and the whole file), and libsodium's portable SHA-256 is 3-6x slower. */
struct backup_sha {
    gnutls_hash_hd_t h; /* NULL when not started */
};
enum mrd_code backup__sha_init(struct backup_sha *s, struct mrd_err *err);
void backup__sha_update(struct backup_sha *s, const void *p, size_t n);
/* The digest so far, the state going on. */
enum mrd_code backup__sha_peek(struct backup_sha *s, uint8_t out[MERKLE_HASH_LEN],
                               struct mrd_err *err);
/* The digest; the state is freed. */
void backup__sha_final(struct backup_sha *s, uint8_t out[MERKLE_HASH_LEN]);
/* Frees a state not finalised (NULL-safe, idempotent). */
void backup__sha_free(struct backup_sha *s);

#endif
