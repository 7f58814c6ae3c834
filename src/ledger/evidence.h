/*
 * evidence: evidence packages that a court can check offline.
 *
 * A package is one ustar file (docs/ledger.md, "Evidence packages"):
 *
 *   manifest.json   case, checkpoint summary, and per object: file, id,
 *                   version, SHA-256, ledger leaf (index, kind, time) and
 *                   its RFC 9162 inclusion proof into the checkpoint
 *   manifest.sig    a C2SP signed note over the manifest's SHA-256, by the
 *                   node key (so no entry can be dropped or added)
 *   checkpoint      the node's signed checkpoint the proofs lead to
 *   pubkey          the node's verifier key (informational: verification
 *                   trusts only the key given to it)
 *   objects/NNNNNN  each held object's exact stored bytes
 *
 * evidence_verify checks everything with nothing but the package and the
 * node's public key, and names the first thing that fails: a member, an
 * object (its file, id and leaf), the manifest or the checkpoint.
 * Pure: works on bytes in memory, no I/O. Thread-safe. Never logs.
 */
#ifndef MRD_LEDGER_EVIDENCE_H
#define MRD_LEDGER_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"

#define EVIDENCE_FORMAT "meridian-evidence-1"
#define EVIDENCE_MAX_OBJECTS 100000
#define EVIDENCE_MAX_MEMBER ((size_t)64 * 1024 * 1024)    /* one file inside */
#define EVIDENCE_MAX_PACKAGE ((size_t)1024 * 1024 * 1024) /* the whole package */
#define EVIDENCE_MAX_MANIFEST ((size_t)64 * 1024 * 1024)
#define EVIDENCE_MAX_TEXT 256 /* case id, object id, version */

/* One object to put in a package: its bytes (borrowed), the leaf that
 * records it and the proof of that leaf into the package's checkpoint. */
struct evidence_object {
    const uint8_t *data;
    size_t len;
    const char *id;      /* STIX id, or NULL */
    const char *version; /* "modified" timestamp, or NULL */
    uint64_t leaf_index;
    struct ledger_entry entry;
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    size_t proof_len;
};

/* Writes the package for objs (n >= 1) into out: their leaves must prove
 * into the checkpoint note (as produced by ledger_checkpoint); signer signs
 * the manifest and must be the checkpoint's key. created is an RFC 3339
 * time recorded in the manifest. */
enum mrd_code evidence_write(const char *case_id, const char *created,
                             const struct evidence_object *objs, size_t n, const char *note,
                             size_t note_len, const struct ckpt_signer *signer, struct mrd_buf *out,
                             struct mrd_err *err);

/* Fills ret for data (borrowed) from the ledger: the first object leaf
 * whose content hash is SHA-256(data), and its proof into the tree of the
 * given size. MRD_E_NOTFOUND when the ledger has no such leaf below size. */
enum mrd_code evidence_object_from_ledger(struct ledger *log, const uint8_t *data, size_t len,
                                          uint64_t size, struct evidence_object *ret,
                                          struct mrd_err *err);

/* Fills ret for data (borrowed) recorded by leaf index, with its proof into
 * the tree of the given size: MRD_E_INVALID when that leaf is not an object
 * leaf recording these bytes. */
enum mrd_code evidence_object_at(struct ledger *log, uint64_t index, const uint8_t *data,
                                 size_t len, uint64_t size, struct evidence_object *ret,
                                 struct mrd_err *err);

/* What evidence_verify checked. */
struct evidence_report {
    char case_id[EVIDENCE_MAX_TEXT + 1];
    char origin[CKPT_MAX_ORIGIN + 1];
    uint64_t tree_size;
    size_t objects;
    char sha256[2 * MERKLE_HASH_LEN + 1]; /* of the whole package, hex */
};

/* Verifies the package pkg (len bytes) against the node key v, every byte
 * of it: that it is the canonical tar evidence_write produces (each header
 * byte, padding, member order, exactly two end-of-archive blocks, nothing
 * after them), the checkpoint's and the manifest's signatures (each note
 * carrying that one signature only), the pubkey member, that the manifest
 * agrees with the checkpoint, and for every object its bytes' SHA-256 and
 * its inclusion proof. So two packages that verify with the same manifest
 * are the same bytes, and the package's SHA-256 (in report) is what the
 * node recorded when it exported it. MRD_OK, or MRD_E_INVALID naming what
 * fails first (MRD_E_PARSE for a malformed container). */
enum mrd_code evidence_verify(const uint8_t *pkg, size_t len, const struct ckpt_verifier *v,
                              struct evidence_report *report, struct mrd_err *err);

#endif
