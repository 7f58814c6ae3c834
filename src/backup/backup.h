/*
 * backup: online backups of a node's data directory, their verification,
 * and restoring them (docs/operations.md).
 *
 * A backup is one ustar file (core/tar.h) holding everything a node is:
 *
 *   meridian.db        the store, a consistent snapshot (SQLite online backup)
 *   fed.db             peers, their tokens and sync cursors (snapshot)
 *   ledger/log         the ledger's first N leaves, N >= what the store records
 *   ledger/checkpoint  the latest signed checkpoint (over at most N leaves)
 *   node.key, key.pem, cert.pem, ca.pem, ...   the other top-level files of
 *                      the data directory (keys, TLS material, config)
 *   manifest.json      format, node, sizes, the ledger's size and root at N,
 *                      and each member's size, mode and SHA-256
 *   seal               SHA-256 of every byte of the file before it
 *
 * Consistency while `meridian serve` keeps writing: the checkpoint is read
 * first, then fed.db is copied (its cursors are then never ahead of the
 * store: a restored peer re-reads at most what arrived during the backup,
 * a no-op), then the store (one read transaction), and then exactly the
 * ledger leaves that store records (the ledger is append-only and always
 * ahead of the store's marks, so that prefix is stable). The archive is
 * written to FILE.partial (fsynced) and renamed over FILE: a killed backup
 * leaves any earlier FILE and the node untouched.
 *
 * Restoring checks every byte (member hashes, the seal, strict tar
 * headers, nothing after the end) while writing into a new data directory,
 * then that the ledger's size and root are the manifest's, the checkpoint
 * verifies with the node key and matches the ledger, and every leaf the
 * store records is in the ledger with the right entry (ledger/sync.h). Any
 * failure removes what restore wrote and says what is wrong.
 *
 * Not here: argument parsing and printing (cli_backup.c). Never logs.
 * Secret material: the archive holds the node key, TLS key and peer
 * tokens; it is created mode 0600.
 */
#ifndef MRD_BACKUP_BACKUP_H
#define MRD_BACKUP_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ledger/merkle.h"

#define BACKUP_FORMAT "meridian-backup-1"
#define BACKUP_MANIFEST "manifest.json"
#define BACKUP_SEAL "seal"
#define BACKUP_MAX_MANIFEST ((size_t)1024 * 1024)    /* manifest.json */
#define BACKUP_MAX_FILE ((uint64_t)16 * 1024 * 1024) /* a key, certificate or config file */
#define BACKUP_MAX_MEMBERS 64                        /* members in one archive */
#define BACKUP_MAX_SKIPPED 16                        /* files named in a report as skipped */

/* What a backup holds (filled by backup_write, backup_verify and
 * backup_restore). */
struct backup_report {
    char node_id[64];
    char own_org[65];
    int schema_version;   /* of the store in the archive */
    uint64_t objects;     /* object versions in the store */
    int64_t max_leaf;     /* the highest ledger leaf the store records; -1 none */
    uint64_t ledger_size; /* leaves in the archive's ledger */
    uint8_t ledger_root[MERKLE_HASH_LEN];
    uint64_t checkpoint_size; /* 0 when the node had signed none */
    unsigned peers;
    size_t members;
    uint64_t bytes;                       /* size of the archive */
    uint8_t sha256[MERKLE_HASH_LEN];      /* of the whole archive file */
    uint64_t checked_leaves;              /* restore: leaves compared with the store */
    char skipped[BACKUP_MAX_SKIPPED][64]; /* backup: top-level files left out */
    size_t n_skipped;
};

/* How a backup runs (NULL: as fast as it can). */
struct backup_opts {
    /* Bytes per second the backup moves at most (0: no limit), to leave
     * the machine to the node serving beside it. Both passes over the
     * store count (the copy, then the read-back for its SHA-256), and the
     * other members once: a 1.3 GB store at 128 MiB/s takes about 20 s. */
    uint64_t max_rate;
};

/* Writes a backup of the data directory data_dir to out (replaced
 * atomically; the temporary files are out.partial*). Works while `meridian
 * serve` runs on data_dir. Top-level files other than the databases that
 * are larger than BACKUP_MAX_FILE, or not regular files, are left out and
 * named in ret->skipped. MRD_E_CONFLICT when another backup to out runs. */
enum mrd_code backup_write(const char *data_dir, const char *out, const struct backup_opts *opts,
                           struct backup_report *ret, struct mrd_err *err);

/* Checks a backup file without restoring it: strict tar structure, every
 * member's SHA-256 against the manifest, the seal. MRD_E_INVALID (altered)
 * or MRD_E_PARSE (truncated, malformed), with what and where. */
enum mrd_code backup_verify(const char *file, struct backup_report *ret, struct mrd_err *err);

/* Restores file into data_dir, which must not exist or be empty: checks
 * as backup_verify while writing, then the ledger against the manifest,
 * the checkpoint and the store (see the file comment). The store is
 * migrated to this build's schema when the backup is older. On failure
 * nothing restore wrote is kept. */
enum mrd_code backup_restore(const char *file, const char *data_dir, struct backup_report *ret,
                             struct mrd_err *err);

#endif
