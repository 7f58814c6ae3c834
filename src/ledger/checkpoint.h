/*
 * checkpoint: signed tree heads in the C2SP tlog-checkpoint format.
 *
 * A checkpoint is a C2SP signed note (c2sp.org/signed-note) whose text is
 * the origin line, the tree size in decimal, the base64 root hash and, here,
 * one extension line "time <RFC 3339 UTC>" saying when it was signed:
 *
 *     meridian.example/cert-xx
 *     1042
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *     time 2026-11-29T17:20:00Z
 *
 *     — meridian.example/cert-xx Az3grlgt...base64(key ID || Ed25519 sig)
 *
 * The key ID is SHA-256(key name || 0x0A || 0x01 || public key)[:4]. Keys
 * are also read and written as note keys ("PRIVATE+KEY+name+id+base64" and
 * "name+id+base64", the golang.org/x/mod/sumdb/note encoding).
 * Pure: no I/O; signing uses libsodium's Ed25519 on a key passed in (the
 * node's key lives in crypto/, when there). Thread-safe. Every parse error
 * names the line and the spec.
 */
#ifndef MRD_LEDGER_CHECKPOINT_H
#define MRD_LEDGER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "ledger/merkle.h"

#define CKPT_MAX_NOTE 65536    /* a whole note, signatures included */
#define CKPT_MAX_ORIGIN 255    /* origin / key name, bytes */
#define CKPT_MAX_SIGNATURES 64 /* signature lines we look at (spec: >= 16) */
#define CKPT_TIME_LEN 20       /* "2026-11-29T17:20:00Z" */
#define CKPT_PUBKEY_LEN 32
#define CKPT_SECKEY_LEN 64 /* libsodium's seed || public key */

struct ckpt {
    char origin[CKPT_MAX_ORIGIN + 1];
    uint64_t size;
    uint8_t root[MERKLE_HASH_LEN];
    char time[CKPT_TIME_LEN + 1]; /* "" when the note has no time line */
};

/* A signer: key name, Ed25519 secret key (seed || public key). */
struct ckpt_signer {
    char name[CKPT_MAX_ORIGIN + 1];
    uint8_t sk[CKPT_SECKEY_LEN];
};

/* A verifier: key name and Ed25519 public key. */
struct ckpt_verifier {
    char name[CKPT_MAX_ORIGIN + 1];
    uint8_t pk[CKPT_PUBKEY_LEN];
};

/* The 4-byte key ID of (name, pk) as signed-note recommends for Ed25519. */
void ckpt_key_id(const char *name, const uint8_t pk[CKPT_PUBKEY_LEN], uint8_t ret[4]);

/* Fills signer from a 32-byte seed and a key name (no spaces, no '+'). */
enum mrd_code ckpt_signer_from_seed(const char *name, const uint8_t seed[32],
                                    struct ckpt_signer *ret, struct mrd_err *err);

/* Parses a note signer key "PRIVATE+KEY+name+hexid+base64(0x01 || seed)";
 * the ID must match. */
enum mrd_code ckpt_signer_parse(const char *s, size_t len, struct ckpt_signer *ret,
                                struct mrd_err *err);

/* Writes the verifier key "name+hexid+base64(0x01 || pk)" of signer. */
enum mrd_code ckpt_verifier_format(const struct ckpt_signer *signer, struct mrd_buf *out,
                                   struct mrd_err *err);

/* Writes the verifier key of v, the same text (no newline). */
enum mrd_code ckpt_verifier_text(const struct ckpt_verifier *v, struct mrd_buf *out,
                                 struct mrd_err *err);

/* Parses a verifier key "name+hexid+base64(0x01 || pk)" (ID checked). */
enum mrd_code ckpt_verifier_parse(const char *s, size_t len, struct ckpt_verifier *ret,
                                  struct mrd_err *err);

/* Appends the signed note for c to out: the text, a blank line and one
 * signature line by signer. c->origin must be a valid origin. */
enum mrd_code ckpt_sign(const struct ckpt *c, const struct ckpt_signer *signer, struct mrd_buf *out,
                        struct mrd_err *err);

/* Parses a note's text into ret WITHOUT checking any signature (for display
 * and for `ledger verify` without a key). MRD_E_PARSE on malformed notes. */
enum mrd_code ckpt_parse(const char *note, size_t len, struct ckpt *ret, struct mrd_err *err);

/* Parses the note and checks it carries a valid signature by v (matching key
 * name and ID; other signatures are ignored as the spec says). MRD_E_PARSE
 * on malformed notes, MRD_E_CRYPTO when no signature by v verifies. */
enum mrd_code ckpt_verify(const char *note, size_t len, const struct ckpt_verifier *v,
                          struct ckpt *ret, struct mrd_err *err);

/* Generic signed notes (c2sp signed-note), for other signed statements
 * (an evidence package's manifest). note_sign appends text (which must end
 * in '\n'), a blank line and a signature line by signer to out. */
enum mrd_code note_sign(const char *text, size_t len, const struct ckpt_signer *signer,
                        struct mrd_buf *out, struct mrd_err *err);

/* Checks that note carries a valid signature by v (others are ignored) and
 * returns the length of its text (up to and including its last newline).
 * MRD_E_PARSE when malformed, MRD_E_CRYPTO when no signature by v verifies. */
enum mrd_code note_verify(const char *note, size_t len, const struct ckpt_verifier *v,
                          size_t *ret_text_len, struct mrd_err *err);

#endif
