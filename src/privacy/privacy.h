/*
 * privacy: the cryptographic primitives of privacy by design (issue 15).
 *
 * Two pure primitives, no I/O, no logging, no global state:
 *
 *  - Crypto-PAn, prefix-preserving pseudonymisation of IPv4 and IPv6
 *    addresses (Xu, Fan, Ammar, Moon, "Prefix-Preserving IP Address
 *    Anonymization", ICNP 2002). Two addresses that share their first k bits
 *    map to two addresses that share exactly their first k bits. The 32-byte
 *    key is the reference implementation's: bytes 0-15 are the AES-128 key,
 *    bytes 16-31 are encrypted once to make the pad. IPv4 agrees with the
 *    reference implementation's sample trace; IPv6 is the same construction
 *    over 128 bits. The mapping is reversible by whoever holds the key.
 *    AES comes from nettle; there is no AES in this tree.
 *
 *  - The OPRF of RFC 9497 in mode 0x00 (OPRF), suite ristretto255-SHA512,
 *    on libsodium's ristretto255 and SHA-512. The client blinds an input
 *    (Blind), the server multiplies the blinded element by its key
 *    (BlindEvaluate), the client unblinds and hashes (Finalize). The server
 *    can also compute the output directly (Evaluate) to publish a set.
 *    HashToGroup and HashToScalar use expand_message_xmd (RFC 9380 §5.3.1).
 *    Every function is deterministic given its arguments, so RFC 9497
 *    Appendix A.1.1 can be checked; privacy_oprf_blind_random() draws the
 *    blind from libsodium's CSPRNG for real use.
 *
 * And outbound minimisation (minimise.c): the policy (parsed from its JSON
 * text) and privacy_minimise(), the ONE function every path that sends
 * objects out calls after the TLP decision (policy_may_read), never
 * instead of it. It only ever removes or coarsens: it cannot make an
 * object readable that policy_may_read() refused.
 *
 * Not here: reading key files, policy files or stdin (cli/), the private
 * matching protocol over HTTP.
 *
 * Secrets (the Crypto-PAn key, the OPRF key and blinds) are wiped by the
 * functions that hold copies of them. Thread-safe: a struct privacy_cryptopan
 * is read-only after privacy_cryptopan_init and may be shared by threads.
 * Call sodium_init() (done by main) before the OPRF functions.
 */
#ifndef MRD_PRIVACY_H
#define MRD_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/aes.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

/* ---- Crypto-PAn ---------------------------------------------------------- */

#define PRIVACY_CRYPTOPAN_KEY_LEN 32
/* A key file holds 64 hex digits, optionally followed by one newline (LF or
 * CRLF); anything longer is refused before it is parsed. */
#define PRIVACY_CRYPTOPAN_KEY_FILE_MAX 128
/* One address line, as the CLI reads it (the longest IPv6 text is 45). */
#define PRIVACY_ADDR_LINE_MAX 64
/* Room for inet_ntop of either family, NUL included. */
#define PRIVACY_ADDR_TEXT_MAX 46

struct privacy_cryptopan {
    struct aes128_ctx aes; /* key schedule of key[0..16] */
    uint8_t pad[16];       /* AES_k(key[16..32]) */
};

/* An IP address in network byte order: 4 bytes (IPv4) or 16 (IPv6). */
struct privacy_addr {
    uint8_t bytes[16];
    uint8_t len; /* 4 or 16 */
};

/* Parses a key file's contents: 64 hex digits (either case), then at most
 * one "\n" or "\r\n". MRD_E_PARSE says what is wrong and at which offset;
 * MRD_E_TOOBIG past PRIVACY_CRYPTOPAN_KEY_FILE_MAX. ret_key is written only
 * on success. */
enum mrd_code privacy_cryptopan_key_parse(const char *text, size_t len,
                                          uint8_t ret_key[PRIVACY_CRYPTOPAN_KEY_LEN],
                                          struct mrd_err *err);

/* Sets up cp from the 32-byte key (AES key schedule, then the pad). */
void privacy_cryptopan_init(struct privacy_cryptopan *cp,
                            const uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN]);

/* Wipes cp. */
void privacy_cryptopan_release(struct privacy_cryptopan *cp);

/* Pseudonymises in (4 or 16 bytes) into ret_out (same family). */
void privacy_cryptopan_map(const struct privacy_cryptopan *cp, const struct privacy_addr *in,
                           struct privacy_addr *ret_out);

/* The inverse of privacy_cryptopan_map under the same key. */
void privacy_cryptopan_unmap(const struct privacy_cryptopan *cp, const struct privacy_addr *in,
                             struct privacy_addr *ret_out);

/* Parses one address: dotted-quad IPv4 or RFC 4291 IPv6 text, nothing
 * around it (no spaces, no prefix length, no zone). MRD_E_PARSE says why;
 * MRD_E_TOOBIG past PRIVACY_ADDR_LINE_MAX. */
enum mrd_code privacy_addr_parse(const char *s, size_t n, struct privacy_addr *ret_addr,
                                 struct mrd_err *err);

/* Formats addr (RFC 5952 for IPv6) into out, which holds at least
 * PRIVACY_ADDR_TEXT_MAX bytes; returns out. */
const char *privacy_addr_format(const struct privacy_addr *addr, char *out, size_t size);

/* Number of leading bits a and b share (0 when the families differ). */
unsigned privacy_addr_common_prefix(const struct privacy_addr *a, const struct privacy_addr *b);

/* ---- OPRF (RFC 9497, mode 0x00, ristretto255-SHA512) --------------------- */

#define PRIVACY_OPRF_SCALAR_LEN 32  /* Ns */
#define PRIVACY_OPRF_ELEMENT_LEN 32 /* Ne */
#define PRIVACY_OPRF_OUTPUT_LEN 64  /* Nh */
#define PRIVACY_OPRF_SEED_LEN 32    /* Nseed */
/* Inputs and key info are length-prefixed with two bytes (RFC 9497 §3). */
#define PRIVACY_OPRF_MAX_INPUT 65535
#define PRIVACY_OPRF_MAX_INFO 65535

/* expand_message_xmd with SHA-512 (RFC 9380 §5.3.1): len bytes from msg
 * under dst. MRD_E_INVAL when dst is empty or over 255 bytes, or len is 0,
 * over 65535 or over 255 * 64. */
enum mrd_code privacy_expand_message_xmd_sha512(const uint8_t *msg, size_t msg_len,
                                                const uint8_t *dst, size_t dst_len, uint8_t *out,
                                                size_t len, struct mrd_err *err);

/* HashToGroup (RFC 9497 §4.1): expand_message_xmd(input, "HashToGroup-" ||
 * contextString, 64), then the ristretto255 one-way map. */
enum mrd_code privacy_oprf_hash_to_group(const uint8_t *input, size_t input_len,
                                         uint8_t ret_point[PRIVACY_OPRF_ELEMENT_LEN],
                                         struct mrd_err *err);

/* HashToScalar (RFC 9497 §4.1): expand_message_xmd(msg, dst, 64) read
 * little-endian and reduced mod L. dst NULL means the default
 * "HashToScalar-" || contextString. */
enum mrd_code privacy_oprf_hash_to_scalar(const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                                          size_t dst_len,
                                          uint8_t ret_scalar[PRIVACY_OPRF_SCALAR_LEN],
                                          struct mrd_err *err);

/* DeriveKeyPair (RFC 9497 §3.2.1): the private key skS and public key pkS
 * from a 32-byte seed and key info. MRD_E_CRYPTO in the (2^-2000) case that
 * no counter gives a non-zero scalar. */
enum mrd_code privacy_oprf_derive_key_pair(const uint8_t seed[PRIVACY_OPRF_SEED_LEN],
                                           const uint8_t *info, size_t info_len,
                                           uint8_t ret_sk[PRIVACY_OPRF_SCALAR_LEN],
                                           uint8_t ret_pk[PRIVACY_OPRF_ELEMENT_LEN],
                                           struct mrd_err *err);

/* Blind (RFC 9497 §3.3.1) with a caller-chosen blind scalar (canonical,
 * non-zero): ret_blinded = blind * HashToGroup(input). This is the entry
 * point tests use; MRD_E_INVAL for a bad blind, MRD_E_CRYPTO when the input
 * hashes to the identity (InvalidInputError). */
enum mrd_code privacy_oprf_blind(const uint8_t *input, size_t input_len,
                                 const uint8_t blind[PRIVACY_OPRF_SCALAR_LEN],
                                 uint8_t ret_blinded[PRIVACY_OPRF_ELEMENT_LEN],
                                 struct mrd_err *err);

/* Blind with a fresh random non-zero blind, returned through ret_blind
 * (keep it secret until Finalize, then wipe it). */
enum mrd_code privacy_oprf_blind_random(const uint8_t *input, size_t input_len,
                                        uint8_t ret_blind[PRIVACY_OPRF_SCALAR_LEN],
                                        uint8_t ret_blinded[PRIVACY_OPRF_ELEMENT_LEN],
                                        struct mrd_err *err);

/* BlindEvaluate (RFC 9497 §3.3.1): ret_evaluated = sk * blinded. A blinded
 * element that is not a canonical ristretto255 encoding, or is the
 * identity, fails with MRD_E_INVALID (DeserializeError): it comes from a
 * partner and is checked here. */
enum mrd_code privacy_oprf_blind_evaluate(const uint8_t sk[PRIVACY_OPRF_SCALAR_LEN],
                                          const uint8_t blinded[PRIVACY_OPRF_ELEMENT_LEN],
                                          uint8_t ret_evaluated[PRIVACY_OPRF_ELEMENT_LEN],
                                          struct mrd_err *err);

/* Finalize (RFC 9497 §3.3.1): unblinds the evaluated element and hashes it
 * with the input into the 64-byte PRF output. MRD_E_INVALID for an
 * evaluated element that does not decode or is the identity. */
enum mrd_code privacy_oprf_finalize(const uint8_t *input, size_t input_len,
                                    const uint8_t blind[PRIVACY_OPRF_SCALAR_LEN],
                                    const uint8_t evaluated[PRIVACY_OPRF_ELEMENT_LEN],
                                    uint8_t ret_output[PRIVACY_OPRF_OUTPUT_LEN],
                                    struct mrd_err *err);

/* Finalize for n values at once, sharing one scalar inversion per 64
 * values (a partner checks many log values per session). Value i is
 * (inputs[i], input_lens[i]) with the blind at blinds + 32 i and the
 * evaluated element at evaluated + 32 i; its output goes to
 * ret_outputs + 64 i. Outputs equal privacy_oprf_finalize's. On
 * failure the message names the value's index, and ret_outputs holds
 * unspecified bytes. */
enum mrd_code privacy_oprf_finalize_batch(size_t n, const uint8_t *const *inputs,
                                          const size_t *input_lens, const uint8_t *blinds,
                                          const uint8_t *evaluated, uint8_t *ret_outputs,
                                          struct mrd_err *err);

/* The server's direct evaluation of its own key on input (RFC 9497
 * §3.3.1 Evaluate in OPRF mode): the same output Finalize yields for that
 * input. This is how a node publishes the OPRF outputs of its set. */
enum mrd_code privacy_oprf_evaluate(const uint8_t sk[PRIVACY_OPRF_SCALAR_LEN], const uint8_t *input,
                                    size_t input_len, uint8_t ret_output[PRIVACY_OPRF_OUTPUT_LEN],
                                    struct mrd_err *err);

/* ---- Outbound minimisation (docs/privacy.md) ------------------------------
 *
 * The policy is a JSON object (the file DATA/privacy-policy.json):
 *   internal_prefixes  addresses/prefixes of the node's own networks
 *                      (default: the private, shared and local ranges)
 *   forward_custom     x_ properties that may leave the node (default none)
 *   rules              [{scope, type, property, action[, key]}]: scope is
 *                      "all", "export", "community:API-ROOT", "org:NAME"
 *                      (a partner org reading: TAXII, console, feeds, a
 *                      peer pulling) or "peer:NAME" (push to that peer);
 *                      type a STIX type or "*"; action drop, generalise
 *                      (address -> /24 or /48, timestamp -> the hour,
 *                      e-mail address -> its domain; anything else is
 *                      dropped) or pseudonymise (Crypto-PAn under key, 64
 *                      hex digits; non-addresses are dropped).
 * Always, whatever the rules: ipv4-addr/ipv6-addr objects inside the
 * internal prefixes are withheld, a sighting's or observed-data's property
 * that mentions such an address is dropped, and x_ properties not listed
 * in forward_custom are dropped.
 *
 * Signatures: an object with a selective-disclosure block has the changed
 * properties withheld or marked transformed there (crypto.h), so it still
 * verifies. An object that carries only a whole-object signature and would
 * need a change is withheld (never sent unminimised, never sent with a
 * broken signature). An SCO whose value would change keeps a valid id only
 * when unsigned (the id is re-derived); a signed one is withheld. */
#define PRIVACY_POLICY_MAX_BYTES (1024 * 1024)
#define PRIVACY_POLICY_MAX_ITEMS 1024 /* entries in each list */
#define PRIVACY_POLICY_NAME_MAX 250   /* scope, type, property */
#define PRIVACY_POLICY_FILE "privacy-policy.json"

enum privacy_scope_kind {
    PRIVACY_SCOPE_ALL,
    PRIVACY_SCOPE_EXPORT,
    PRIVACY_SCOPE_COMMUNITY,
    PRIVACY_SCOPE_ORG,
    PRIVACY_SCOPE_PEER,
};

enum privacy_action { PRIVACY_DROP, PRIVACY_GENERALISE, PRIVACY_PSEUDONYMISE };

enum privacy_outcome {
    PRIVACY_AS_IS,     /* nothing to change: send the stored bytes */
    PRIVACY_MINIMISED, /* changed, still verifiable */
    PRIVACY_WITHHELD,  /* must not be sent at all */
};

/* Who the objects go to; NULL members match no rule of that kind. */
struct privacy_scope {
    const char *community; /* API root being read or pushed into */
    const char *org;       /* the reading org's name */
    const char *peer;      /* the peer pushed to */
    bool is_export;
};

struct privacy_policy;

/* Parses the policy text (text NULL: the defaults alone). MRD_E_PARSE
 * names the member and index; MRD_E_TOOBIG past the limits above. */
enum mrd_code privacy_policy_parse(const char *text, size_t len, struct privacy_policy **ret,
                                   struct mrd_err *err);
/* A policy is reference-counted (a running node replaces its policy while
 * readers still use the previous one, below): privacy_policy_ref takes one
 * more reference and returns p; privacy_policy_free drops one and frees
 * the policy at the last. Both are thread-safe; p may be NULL. */
struct privacy_policy *privacy_policy_ref(struct privacy_policy *p);
void privacy_policy_free(struct privacy_policy *p);

/* ---- The policy in force in a running node (live.c) ----------------------
 *
 * `serve` keeps running while its policy changes (`meridian privacy policy
 * add|remove`, the admin API, an edit of the file). A struct privacy_live
 * holds the policy in force and replaces it whole: a read takes a
 * reference with privacy_live_get() once, at its start, minimises
 * everything it sends with that one policy and drops it with
 * privacy_policy_free() at its end. A read therefore sees the old policy or
 * the new one, never a mix, and a policy is freed only once no read holds
 * it.
 *
 * Where the policy comes from is the source's business (I/O is not done
 * here): a get asks source.reload whether it changed (at most once every
 * source.check_ms, by one get; privacy_live_recheck makes the next get
 * ask) and, if so, takes the new policy. A source that fails (a file that
 * does not parse) leaves the policy in force as it was; the on_error
 * callback (privacy_live_on_error) hears of it.
 * Thread-safe: gets, sets and reloads are serialised by a mutex held for
 * a reference count, and for the reload check when one is due. */
struct privacy_live;

struct privacy_live_source {
    /* *ret_new: the new policy (owned by the caller then) when the source
     * changed since the last call, NULL when it did not */
    enum mrd_code (*reload)(void *ctx, struct privacy_policy **ret_new, struct mrd_err *err);
    void *ctx;
    /* reload is asked at most once in this many milliseconds (0: on
     * every get); serve's file: PRIVACY_LIVE_CHECK_MS */
    unsigned check_ms;
};
/* How often serve looks at DATA/privacy-policy.json for a change (one
 * stat): a change made by hand or by `meridian privacy policy` is in force
 * within this; one made over the admin API from the next read on. */
#define PRIVACY_LIVE_CHECK_MS 1000

/* A holder of take (consumed, also on failure); src may be NULL (no
 * reload: the policy changes only through privacy_live_set). */
enum mrd_code privacy_live_new(struct privacy_policy *take, const struct privacy_live_source *src,
                               struct privacy_live **ret, struct mrd_err *err);
/* Frees the holder and drops its reference to the policy in force. */
void privacy_live_free(struct privacy_live *l);
/* Sets what is told of a reload that failed (on_error may be NULL). */
void privacy_live_on_error(struct privacy_live *l,
                           void (*on_error)(void *ctx, const struct mrd_err *err), void *ctx);
/* The policy in force (after asking the source), as a new reference:
 * privacy_policy_free() it when the read is done. Never NULL. */
struct privacy_policy *privacy_live_get(struct privacy_live *l);
/* Replaces the policy in force with take (consumed). */
void privacy_live_set(struct privacy_live *l, struct privacy_policy *take);
/* Makes the next get ask the source, whatever the time (after this
 * process changed the file itself). */
void privacy_live_recheck(struct privacy_live *l);

/* True when (s, n), an address or prefix, lies inside an internal prefix. */
bool privacy_policy_is_internal(const struct privacy_policy *p, const char *s, size_t n);

/* True when minimisation could change obj for some reader under p (any
 * scope): an x_ property not in forward_custom, a sighting's or
 * observed-data's property that mentions an internal address, or a
 * property a rule names for obj's type. Objects this node signs carry the
 * selective-disclosure block only then (fed_ingest.c): the rest are sent
 * whole, and a whole signature is all they need. An object signed without
 * the block that a later policy would change is withheld, not leaked. */
bool privacy_may_minimise(const struct privacy_policy *p, const json_t *obj);

/* Minimises obj in place for scope s; *ret says what to do with it. Fails
 * only on MRD_E_NOMEM or obj not being a STIX object (MRD_E_INVAL). */
enum mrd_code privacy_minimise(const struct privacy_policy *p, const struct privacy_scope *s,
                               json_t *obj, enum privacy_outcome *ret, struct mrd_err *err);

/* The same on stored bytes, which must be RFC 8785 (as the store keeps
 * them): appends to out the bytes to send (the stored ones when nothing
 * changes, else the RFC 8785 form of the minimised object; nothing when
 * withheld). Objects no default and no rule for s can touch are passed
 * through without being parsed. */
enum mrd_code privacy_minimise_bytes(const struct privacy_policy *p, const struct privacy_scope *s,
                                     const char *body, size_t len, struct mrd_buf *out,
                                     enum privacy_outcome *ret, struct mrd_err *err);

#endif
