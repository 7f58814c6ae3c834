/*
 * crypto: the node's Ed25519 key and signatures on STIX objects.
 *
 * Does: key generation (libsodium), the private key file, the textual public
 * key "ed25519:<base64>" that operators paste into a peer's configuration,
 * a keyring of trusted public keys, and signing and verifying STIX objects
 * as docs/design.md §6 describes.
 *
 * The signature block is a STIX 2.1 property-extension (§7.3) in the
 * object's `extensions` dictionary, under CRYPTO_SIG_EXT_ID:
 *
 *   "extensions": { "extension-definition--1ef74ebd-…": {
 *       "extension_type": "property-extension",
 *       "algorithm": "ed25519",
 *       "canonicalization": "rfc8785",
 *       "public_key": "ed25519:<base64 of 32 bytes>",
 *       "signature": "<base64 of 64 bytes>" } }
 *
 * The signed bytes are the RFC 8785 (JCS) form of the object with that one
 * entry removed, and with `extensions` removed too when nothing else is in
 * it. So the signature survives any re-serialisation (member order, white
 * space, escapes, number spelling) and any relay that does not change the
 * object's content. crypto_extension_definition() returns the STIX object
 * that defines the block.
 *
 * Does not: decide what to do with a verdict (taxii/, fed/ reject INVALID and
 * mark the others), or keep the keyring on disk (conf/ and fed/ do).
 * Key file functions are the only I/O here; everything else is pure.
 * Secret key material is wiped (sodium_memzero) when freed.
 * Thread-safe for distinct objects; crypto_object_verify() briefly takes
 * references to the object's members, so do not share one json_t between
 * threads while verifying it. Never logs.
 */
#ifndef MRD_CRYPTO_CRYPTO_H
#define MRD_CRYPTO_CRYPTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define CRYPTO_PUBKEY_LEN 32 /* Ed25519 public key bytes */
#define CRYPTO_SEED_LEN 32   /* Ed25519 secret seed bytes */
#define CRYPTO_SIG_LEN 64    /* Ed25519 signature bytes */

/* "ed25519:" + 44 base64 characters; the text form of a public key. */
#define CRYPTO_PUBKEY_TEXT_PREFIX "ed25519:"
#define CRYPTO_PUBKEY_TEXT_LEN 52

/* A key file larger than this is not ours (the real one is ~130 bytes). */
#define CRYPTO_KEY_FILE_MAX 4096

/* Largest canonical form signed or verified; bigger objects fail with
 * MRD_E_TOOBIG (TAXII envelopes are far smaller). */
#define CRYPTO_SIGN_MAX_BYTES ((size_t)64 * 1024 * 1024)

/* Most keys one keyring holds (peers plus the node itself). */
#define CRYPTO_KEYRING_MAX 4096

/* Meridian's signature extension: the id is UUIDv5 in the RFC 4122 URL
 * namespace (6ba7b811-9dad-11d1-80b4-00c04fd430c8) of CRYPTO_SIG_EXT_NAME,
 * so anyone can re-derive it; a unit test checks the derivation. */
#define CRYPTO_SIG_EXT_NAME "urn:meridian:stix:extension-definition:object-signature:1"
#define CRYPTO_SIG_EXT_ID "extension-definition--1ef74ebd-c555-5b0a-bbdc-bd5d3e2f5a01"
/* The identity that created the extension definition: UUIDv5, URL
 * namespace, of CRYPTO_PROJECT_IDENTITY_NAME. */
#define CRYPTO_PROJECT_IDENTITY_NAME "urn:meridian:stix:identity:meridian-project"
#define CRYPTO_PROJECT_IDENTITY_ID "identity--06fc41d5-f8a4-5f49-892f-f103acb2cc40"

/* The block's fixed property values. */
#define CRYPTO_SIG_ALGORITHM "ed25519"
#define CRYPTO_SIG_CANONICALIZATION "rfc8785"

/* An Ed25519 key pair, or a public key alone. */
struct crypto_key;

/* Makes a fresh key pair from the system CSPRNG. */
enum mrd_code crypto_key_generate(struct crypto_key **ret, struct mrd_err *err);

/* Makes the key pair of a 32-byte seed (RFC 8032 §5.1.5); deterministic. */
enum mrd_code crypto_key_from_seed(const uint8_t seed[CRYPTO_SEED_LEN], struct crypto_key **ret,
                                   struct mrd_err *err);

/* Wipes and frees k. NULL is a no-op. */
void crypto_key_free(struct crypto_key *k);

/* The 32 public key bytes of k. */
const uint8_t *crypto_key_public(const struct crypto_key *k);

/* True when k can sign (it was generated, derived from a seed or loaded). */
bool crypto_key_has_secret(const struct crypto_key *k);

/* Copies k's 32-byte seed (its RFC 8032 private key) into ret, for signers
 * of other formats (ledger checkpoints); MRD_E_INVAL when k cannot sign. */
enum mrd_code crypto_key_seed(const struct crypto_key *k, uint8_t ret[CRYPTO_SEED_LEN],
                              struct mrd_err *err);

/* Writes the private key file at path: created with mode 0600 (whatever the
 * umask), never over an existing file (MRD_E_EXISTS), synced to disk before
 * returning. A key without secret fails with MRD_E_INVAL. On failure no
 * partial file is left behind. */
enum mrd_code crypto_key_save(const struct crypto_key *k, const char *path, struct mrd_err *err);

/* Reads a private key file written by crypto_key_save. Refuses (MRD_E_PERM)
 * a file that group or others may read or write, or that is not a regular
 * file (symbolic links are not followed); MRD_E_NOTFOUND when it does not
 * exist; MRD_E_PARSE for anything but our format, naming the line. */
enum mrd_code crypto_key_load(const char *path, struct crypto_key **ret, struct mrd_err *err);

/* Writes the text form "ed25519:<base64>" of a public key and a NUL. */
void crypto_pubkey_format(const uint8_t pk[CRYPTO_PUBKEY_LEN],
                          char out[CRYPTO_PUBKEY_TEXT_LEN + 1]);

/* Parses the text form (exactly; no white space) into 32 bytes. Fails with
 * MRD_E_PARSE on a wrong prefix, bad or non-canonical base64, or a length
 * other than 32 bytes. */
enum mrd_code crypto_pubkey_parse(const char *s, size_t n, uint8_t ret[CRYPTO_PUBKEY_LEN],
                                  struct mrd_err *err);

/* Trusted public keys, each with a name for reports (a peer's name). */
struct crypto_keyring;

enum mrd_code crypto_keyring_new(struct crypto_keyring **ret, struct mrd_err *err);
void crypto_keyring_free(struct crypto_keyring *kr);

/* Adds pk under (name, len), copying both. Adding a key that is already
 * there keeps the first name and succeeds. More than CRYPTO_KEYRING_MAX
 * keys fail with MRD_E_TOOBIG. */
enum mrd_code crypto_keyring_add(struct crypto_keyring *kr, const uint8_t pk[CRYPTO_PUBKEY_LEN],
                                 const char *name, size_t len, struct mrd_err *err);

/* The name pk was added under, or NULL when pk is not trusted. */
const char *crypto_keyring_find(const struct crypto_keyring *kr,
                                const uint8_t pk[CRYPTO_PUBKEY_LEN]);

/* Signs obj (a JSON object, normally a STIX object) in place with k: any
 * earlier Meridian block is dropped, the RFC 8785 form of the rest is
 * signed, and the new block is put into obj's `extensions` (created when
 * absent). Other extensions are covered by the signature. Fails with
 * MRD_E_INVAL when obj is not an object, `extensions` is present but not an
 * object, or k has no secret; obj is unchanged on failure. */
enum mrd_code crypto_object_sign(json_t *obj, const struct crypto_key *k, struct mrd_err *err);

/* Appends to out the RFC 8785 form of obj signed with k: the same bytes
 * as crypto_object_sign() on a copy followed by mrd_jcs_write(), but obj
 * is left alone (no copy is made) and the object is canonicalised once.
 * The ingest path (fed_ingest_canon) stores these bytes. Fails as
 * crypto_object_sign() does, or with MRD_E_TOOBIG at out's maximum; out
 * is as it was on failure. */
enum mrd_code crypto_object_sign_canon(const json_t *obj, const struct crypto_key *k,
                                       struct mrd_buf *out, struct mrd_err *err);

enum crypto_verdict {
    CRYPTO_UNSIGNED,       /* no Meridian block: accept, mark unverified */
    CRYPTO_VALID,          /* signed by a key in the keyring, bytes intact */
    CRYPTO_UNKNOWN_SIGNER, /* correct signature by a key not in the keyring */
    CRYPTO_INVALID,        /* signature does not match, or malformed block: reject */
};

struct crypto_verify_result {
    enum crypto_verdict verdict;
    /* The key named in the block (all verdicts but UNSIGNED, and INVALID
     * when the block has no readable key: then has_signer is false). */
    bool has_signer;
    uint8_t signer[CRYPTO_PUBKEY_LEN];
    const char *signer_name; /* keyring name; NULL unless known. Owned by the keyring */
    char reason[160];        /* why INVALID, for status resources and logs */
    /* Selective disclosure (set when the object carries that block): how
     * many properties the creator signed, how many arrived with their
     * disclosure and matched, how many were withheld (digests without a
     * property), and how many a relay generalised or pseudonymised. */
    bool selective;
    unsigned sd_digests, sd_disclosed, sd_withheld, sd_transformed;
};

/* A stable lowercase name for a verdict ("valid", "invalid", "unknown
 * signer", "unsigned"). */
const char *crypto_verdict_str(enum crypto_verdict v);

/* Checks obj's Meridian signature against the keyring (kr may be NULL: no
 * key is trusted). An unknown signer's signature is still checked against
 * the key named in the block, so a changed byte is INVALID whoever signed.
 * An `extensions` key that spells CRYPTO_SIG_EXT_ID in another case is
 * INVALID too (has_signer false): ids compare exactly, so it is not our
 * block, but a consumer that folds case would take it for one.
 * Returns MRD_OK with the verdict in *ret for all four outcomes; fails
 * only when obj is not a JSON object (MRD_E_INVAL), when its canonical form
 * exceeds CRYPTO_SIGN_MAX_BYTES (MRD_E_TOOBIG) or on MRD_E_NOMEM. */
enum mrd_code crypto_object_verify(const json_t *obj, const struct crypto_keyring *kr,
                                   struct crypto_verify_result *ret, struct mrd_err *err);

/* Returns (new reference) Meridian's STIX 2.1 extension-definition for the
 * signature block (§7.3): fixed id CRYPTO_SIG_EXT_ID, created_by_ref
 * CRYPTO_PROJECT_IDENTITY_ID, extension_types ["property-extension"], and a
 * plain-text schema describing the block. The same bytes on every node. */
enum mrd_code crypto_extension_definition(json_t **ret, struct mrd_err *err);

/* Returns (new reference) the identity object that created_by_ref names, so
 * that a bundle carrying the definition can resolve it. */
enum mrd_code crypto_project_identity(json_t **ret, struct mrd_err *err);

/* ---- Selective disclosure (docs/privacy.md) ------------------------------
 *
 * A second block, under CRYPTO_SD_EXT_ID, signs salted SHA-256 digests of
 * the object's top-level properties instead of its whole canonical form:
 *
 *   "extension-definition--4f705837-…": {
 *       "extension_type": "property-extension", "algorithm": "ed25519",
 *       "canonicalization": "rfc8785", "digest_algorithm": "sha-256",
 *       "public_key": "ed25519:<base64>",
 *       "digests": ["<hex>", …],            sorted; one per property signed
 *       "disclosures": {"<name>": "<base64 of the 16-byte salt>", …},
 *       "signature": "<base64>",
 *       "transformed": {"<name>": "<how>"} } optional, added by relays
 *
 * digest = SHA-256(salt || RFC 8785 JSON string of the name || RFC 8785
 * form of the value). id, type, spec_version, created, modified and
 * created_by_ref are never withheld: they are signed as themselves. The
 * signature covers the RFC 8785 form of the block's members other than
 * disclosures, signature and transformed, plus "object": those fixed
 * properties. `extensions` is digested like a property, without the two
 * Meridian blocks. A relay removes a property and its salt
 * (crypto_object_sd_withhold); the receiver checks every property it got.
 * crypto_object_verify() checks this block when present, beside the
 * whole-object block (which, when both are present, covers this one). */
#define CRYPTO_SD_EXT_NAME "urn:meridian:stix:extension-definition:selective-disclosure:1"
#define CRYPTO_SD_EXT_ID "extension-definition--4f705837-f7b6-5dc4-b420-b1b7f7e1b3c4"
#define CRYPTO_SD_DIGEST_ALGORITHM "sha-256"
#define CRYPTO_SD_SALT_LEN 16
#define CRYPTO_SD_DIGEST_LEN 32
/* Most top-level properties (and digests) one block covers. */
#define CRYPTO_SD_MAX_PROPERTIES 1024
/* Longest "how" in `transformed`. */
#define CRYPTO_SD_TRANSFORM_MAX 64

/* True for the properties that are never withheld (id, type, …). */
bool crypto_sd_is_fixed(const char *name);

/* Adds (or replaces) the selective-disclosure block of obj, signed with k,
 * with a 16-byte salt per property derived from k's secret (BLAKE2b of the
 * id, version, name and value, keyed with a subkey of the secret seed:
 * crypto_kdf, id 1, context "mrdsdslt"): unpredictable without the key,
 * and the same bytes when the same version is signed again, as Ed25519
 * itself is deterministic. Any whole-object block is
 * removed (it would no longer match): call crypto_object_sign() or
 * crypto_object_sign_canon() afterwards to sign the whole object too,
 * which is what a node does for the objects it creates. obj is unchanged
 * on failure: MRD_E_INVAL as crypto_object_sign(), MRD_E_TOOBIG past
 * CRYPTO_SD_MAX_PROPERTIES properties. */
enum mrd_code crypto_object_sd_sign(json_t *obj, const struct crypto_key *k, struct mrd_err *err);

/* For a relay: forgets the disclosure of property name (which the caller
 * removes, or replaces with a generalised value when how names the
 * transformation, e.g. "generalise:ipv4/24"), and removes the whole-object
 * block, which can no longer verify. MRD_E_INVAL when obj has no
 * selective-disclosure block or name is never withheld. */
enum mrd_code crypto_object_sd_withhold(json_t *obj, const char *name, const char *how,
                                        struct mrd_err *err);

/* Whether two objects (JSON texts of at most CRYPTO_SIGN_MAX_BYTES) say the
 * same once both Meridian blocks (whole-object and selective-disclosure)
 * are set aside: the content as received, whatever signed it and whether
 * it got the selective-disclosure block. The caller has verified both and
 * knows they have one signer (store_object_in.same_content). False when
 * either is not a JSON object. */
bool crypto_object_same_content(const char *a, size_t a_len, const char *b, size_t b_len);

/* Whether obj carries a selective-disclosure block / a whole-object block. */
bool crypto_object_has_sd(const json_t *obj);
bool crypto_object_has_sig(const json_t *obj);

/* The extension-definition of the selective-disclosure block (fixed id
 * CRYPTO_SD_EXT_ID, same bytes on every node). */
enum mrd_code crypto_sd_extension_definition(json_t **ret, struct mrd_err *err);

#endif
