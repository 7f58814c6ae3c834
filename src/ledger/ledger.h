/*
 * ledger: tamper-evident, append-only log of accepted STIX objects and of
 * preservation actions.
 *
 * Each leaf is a fixed 41-byte entry (kind, time, SHA-256 of the content:
 * an object version's stored bytes, a hold record); its leaf hash is
 * H(0x00 || entry). We publish signed checkpoints (checkpoint.h) and answer
 * inclusion and consistency proofs (RFC 9162 §2.1) in O(log n) reads.
 *
 * Storage (docs/ledger.md): one append-only file DIR/log holding, in order,
 * each leaf's 45-byte record (entry + 4-byte check) followed by the interior
 * nodes that leaf completes (32 bytes each, the order of Russ Cox's tlog),
 * so every node has a computable offset and one fdatasync makes a whole
 * batch durable: 77 bytes per leaf. DIR/checkpoint holds the latest signed
 * checkpoint (replaced atomically). After a crash, ledger_open re-checks the
 * last LEDGER_MAX_BATCH leaves and truncates a torn tail to the last complete
 * leaf, never below the last checkpoint.
 *
 * Not here: signing keys (crypto.h), HTTP routes, object ids (store.h).
 * Owns its files; copies entries, never keeps caller pointers.
 * Thread-safe: appends from many threads are group-committed (one write and
 * one fdatasync per batch); reads and proofs take no lock. One writer
 * process per directory (an flock); read-only opens may run beside it.
 * Never logs.
 */
#ifndef MRD_LEDGER_LEDGER_H
#define MRD_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"

#define LEDGER_ENTRY_LEN 41    /* kind(1) || time ms, big-endian (8) || hash (32) */
#define LEDGER_RECORD_LEN 45   /* entry || first 4 bytes of its leaf hash */
#define LEDGER_MAX_BATCH 16384 /* leaves per write+fdatasync; also the crash window */
#define LEDGER_MAX_PATH 4096

/* What a leaf records. Values are stored; append only. */
enum ledger_kind {
    LEDGER_KIND_OBJECT = 1,      /* hash = SHA-256 of an object version's stored bytes */
    LEDGER_KIND_HOLD_CREATE = 2, /* hash = SHA-256 of the hold record */
    LEDGER_KIND_HOLD_RENEW = 3,
    LEDGER_KIND_HOLD_RELEASE = 4,
    LEDGER_KIND_HOLD_EXPORT = 5,
    LEDGER_KIND_ADMIN = 6,    /* hash = SHA-256 of an audit record (audit.h) */
    LEDGER_KIND_DELIVERY = 7, /* hash = SHA-256 of a delivery record (notify.h) */
    LEDGER_KIND_ERASURE = 8,  /* hash = SHA-256 of an erasure record (forget.h) */
    LEDGER_KIND_MAX = 8,
};

/* "object", "hold-create", "hold-renew", "hold-release", "hold-export",
 * "admin", "delivery", "erasure"; NULL for anything else. */
const char *ledger_kind_name(unsigned kind);

struct ledger_entry {
    uint8_t kind;     /* enum ledger_kind */
    uint64_t time_ms; /* Unix time in milliseconds */
    uint8_t hash[MERKLE_HASH_LEN];
};

struct ledger;

/* The 41 stored bytes of e. */
void ledger_entry_encode(const struct ledger_entry *e, uint8_t ret[LEDGER_ENTRY_LEN]);

/* Reads 41 bytes back; MRD_E_PARSE on an unknown kind. */
enum mrd_code ledger_entry_decode(const uint8_t *buf, size_t len, struct ledger_entry *ret,
                                  struct mrd_err *err);

/* H(0x00 || encoded entry): the entry's RFC 9162 leaf hash. */
void ledger_entry_leaf_hash(const struct ledger_entry *e, uint8_t ret[MERKLE_HASH_LEN]);

/* Byte size of the log file holding n leaves (records and their nodes). */
uint64_t ledger_file_size(uint64_t n);

#define LEDGER_OPEN_CREATE 1u   /* create DIR and an empty log if missing */
#define LEDGER_OPEN_READONLY 2u /* never write, lock or repair */
/* Keep the upper tree levels (1/16 of the nodes, 2 bytes a leaf) in memory
 * for fast proofs; opening reads them in one sequential pass (~0.5 s for
 * 10^7 leaves). For servers and benchmarks, not one-shot commands. */
#define LEDGER_OPEN_PROOFS 4u

/* What ledger_open found. */
struct ledger_open_info {
    uint64_t size;          /* leaves after recovery */
    uint64_t dropped;       /* torn leaves truncated (or, read-only, ignored) */
    uint64_t dropped_bytes; /* bytes past the last complete leaf */
};

/* Opens the log in dir. A writable open takes the directory's lock
 * (MRD_E_CONFLICT when another process holds it) and repairs a torn tail;
 * a corruption inside the last checkpoint is MRD_E_INVALID (run verify).
 * info may be NULL. */
enum mrd_code ledger_open(const char *dir, unsigned flags, struct ledger **ret,
                          struct ledger_open_info *info, struct mrd_err *err);

/* Closes the files and frees log. NULL is a no-op. */
void ledger_free(struct ledger *log);

/* Appends n entries (1..LEDGER_MAX_BATCH) and returns once they are on disk
 * (fdatasync), with the index of the first in ret_first (may be NULL).
 * Concurrent callers share one write and one fdatasync. After an I/O error
 * the log refuses further appends (MRD_E_IO) until reopened. */
enum mrd_code ledger_append(struct ledger *log, const struct ledger_entry *entries, size_t n,
                            uint64_t *ret_first, struct mrd_err *err);

/* The number of durable leaves. */
uint64_t ledger_size(struct ledger *log);

/* The entry / leaf hash at index (< ledger_size). */
enum mrd_code ledger_entry_get(struct ledger *log, uint64_t index, struct ledger_entry *ret,
                               struct mrd_err *err);
enum mrd_code ledger_leaf_hash(struct ledger *log, uint64_t index, uint8_t ret[MERKLE_HASH_LEN],
                               struct mrd_err *err);

/* The root hash at any size <= ledger_size (0: the empty hash). */
enum mrd_code ledger_root(struct ledger *log, uint64_t size, uint8_t ret[MERKLE_HASH_LEN],
                          struct mrd_err *err);

/* Proofs into the tree of the given size (<= ledger_size); ret_proof has
 * room for MERKLE_MAX_PROOF hashes. O(log n) reads, no lock. */
enum mrd_code ledger_prove_inclusion(struct ledger *log, uint64_t index, uint64_t size,
                                     uint8_t *ret_proof, size_t *ret_len, struct mrd_err *err);
enum mrd_code ledger_prove_consistency(struct ledger *log, uint64_t size1, uint64_t size2,
                                       uint8_t *ret_proof, size_t *ret_len, struct mrd_err *err);

/* The first leaf at or after start whose entry hash is hash (a linear scan;
 * MRD_E_NOTFOUND if none). */
enum mrd_code ledger_find(struct ledger *log, const uint8_t hash[MERKLE_HASH_LEN], uint64_t start,
                          uint64_t *ret_index, struct mrd_err *err);

/* The first leaf below size whose RFC 9162 leaf hash is leaf_hash (a
 * linear scan of the records' 4-byte checks; MRD_E_NOTFOUND if none). */
enum mrd_code ledger_find_leaf(struct ledger *log, const uint8_t leaf_hash[MERKLE_HASH_LEN],
                               uint64_t size, uint64_t *ret_index, struct mrd_err *err);

/* Signs a checkpoint of the current size with signer (origin = its key
 * name; time = now), stores it as DIR/checkpoint (write, fsync, rename,
 * fsync DIR) and appends the note to out (may be NULL). */
enum mrd_code ledger_checkpoint(struct ledger *log, const struct ckpt_signer *signer,
                                struct mrd_buf *out, struct mrd_err *err);

/* Reads DIR/checkpoint into out (MRD_E_NOTFOUND when none yet). */
enum mrd_code ledger_checkpoint_read(struct ledger *log, struct mrd_buf *out, struct mrd_err *err);

/* The result of ledger_verify. */
struct ledger_verify_report {
    uint64_t leaves;   /* leaves checked */
    uint64_t bad_leaf; /* first leaf that differs, when have_bad_leaf */
    int have_bad_leaf;
    char detail[MRD_ERR_MSG_MAX];
};

/* Recomputes every leaf hash and the tree of size c->size from the stored
 * entries and compares with the checkpoint's root, each record's check and
 * each stored node: MRD_OK when all agree; MRD_E_INVALID with the first leaf
 * that differs in report (and err) otherwise. O(n) time, O(log n) memory. */
enum mrd_code ledger_verify(struct ledger *log, const struct ckpt *c,
                            struct ledger_verify_report *report, struct mrd_err *err);

#endif
