/* Ed25519 keys, public key text, keyring, and STIX object signatures over
 * RFC 8785 (see crypto.h for the block layout and what is signed). */
#include "crypto/crypto_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

/* Fixed creation time of the extension definition and the project
 * identity: they are constants, identical on every node, so that their
 * canonical bytes (and any hash of them) never differ between nodes. */
#define CRYPTO_DEFINITION_CREATED CRYPTO__DEFINITION_CREATED

_Static_assert(CRYPTO_PUBKEY_LEN == crypto_sign_PUBLICKEYBYTES, "public key size");
_Static_assert(CRYPTO_SEED_LEN == crypto_sign_SEEDBYTES, "seed size");
_Static_assert(CRYPTO_SIG_LEN == crypto_sign_BYTES, "signature size");

/* base64 characters of a signature, without the NUL */
#define CRYPTO_SIG_B64_LEN                                                                         \
    (sodium_base64_ENCODED_LEN(CRYPTO_SIG_LEN, sodium_base64_VARIANT_ORIGINAL) - 1)

enum mrd_code crypto__init(struct mrd_err *err)
{
    /* 0: initialised now, 1: already; both fine. Thread-safe. */
    if (sodium_init() < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "crypto: libsodium failed to initialise");
    return MRD_OK;
}

bool crypto__b64_decode(const char *s, size_t n, uint8_t *out, size_t want)
{
    size_t got = 0;
    const char *end = NULL;

    if (n != sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL) - 1)
        return false;
    if (sodium_base642bin(out, want, s, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return got == want && end == s + n;
}

/* jansson's getters take non-const pointers even when they only read; and
 * json_copy/json_incref only touch reference counts. */
static json_t *unconst(const json_t *v)
{
    return (json_t *)(uintptr_t)v;
}

static enum mrd_code key_alloc(struct crypto_key **ret, struct mrd_err *err)
{
    struct crypto_key *k = mrd_calloc(1, sizeof(*k));

    if (k == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory for a key");
    *ret = k;
    return MRD_OK;
}

enum mrd_code crypto_key_generate(struct crypto_key **ret, struct mrd_err *err)
{
    struct crypto_key *k = NULL;
    enum mrd_code rc = crypto__init(err);

    if (rc == MRD_OK)
        rc = key_alloc(&k, err);
    if (rc != MRD_OK)
        return rc;
    crypto_sign_keypair(k->pk, k->sk);
    k->has_secret = true;
    *ret = k;
    return MRD_OK;
}

enum mrd_code crypto_key_from_seed(const uint8_t seed[CRYPTO_SEED_LEN], struct crypto_key **ret,
                                   struct mrd_err *err)
{
    struct crypto_key *k = NULL;
    enum mrd_code rc = crypto__init(err);

    if (rc == MRD_OK)
        rc = key_alloc(&k, err);
    if (rc != MRD_OK)
        return rc;
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    k->has_secret = true;
    *ret = k;
    return MRD_OK;
}

void crypto_key_free(struct crypto_key *k)
{
    if (k == NULL)
        return;
    sodium_memzero(k, sizeof(*k));
    mrd_free(k);
}

const uint8_t *crypto_key_public(const struct crypto_key *k)
{
    return k->pk;
}

bool crypto_key_has_secret(const struct crypto_key *k)
{
    return k->has_secret;
}

enum mrd_code crypto_key_seed(const struct crypto_key *k, uint8_t ret[CRYPTO_SEED_LEN],
                              struct mrd_err *err)
{
    if (!k->has_secret)
        return mrd_err_set(err, MRD_E_INVAL, "key: a public key alone has no seed");
    /* libsodium keeps the secret key as seed || public key */
    memcpy(ret, k->sk, CRYPTO_SEED_LEN);
    return MRD_OK;
}

void crypto_pubkey_format(const uint8_t pk[CRYPTO_PUBKEY_LEN], char out[CRYPTO_PUBKEY_TEXT_LEN + 1])
{
    size_t plen = sizeof(CRYPTO_PUBKEY_TEXT_PREFIX) - 1;

    memcpy(out, CRYPTO_PUBKEY_TEXT_PREFIX, plen);
    sodium_bin2base64(out + plen, CRYPTO_PUBKEY_TEXT_LEN + 1 - plen, pk, CRYPTO_PUBKEY_LEN,
                      sodium_base64_VARIANT_ORIGINAL);
}

enum mrd_code crypto_pubkey_parse(const char *s, size_t n, uint8_t ret[CRYPTO_PUBKEY_LEN],
                                  struct mrd_err *err)
{
    size_t plen = sizeof(CRYPTO_PUBKEY_TEXT_PREFIX) - 1;
    uint8_t pk[CRYPTO_PUBKEY_LEN];

    if (n < plen || memcmp(s, CRYPTO_PUBKEY_TEXT_PREFIX, plen) != 0)
        return mrd_err_set(err, MRD_E_PARSE, "public key: expected \"%s<base64>\"",
                           CRYPTO_PUBKEY_TEXT_PREFIX);
    if (!crypto__b64_decode(s + plen, n - plen, pk, sizeof(pk)))
        return mrd_err_set(err, MRD_E_PARSE,
                           "public key: offset %zu: expected 44 characters of padded base64 "
                           "encoding 32 bytes",
                           plen);
    memcpy(ret, pk, sizeof(pk));
    return MRD_OK;
}

struct keyring_entry {
    uint8_t pk[CRYPTO_PUBKEY_LEN];
    char *name;
};

struct crypto_keyring {
    struct keyring_entry *v;
    size_t n, cap;
};

enum mrd_code crypto_keyring_new(struct crypto_keyring **ret, struct mrd_err *err)
{
    struct crypto_keyring *kr = mrd_calloc(1, sizeof(*kr));

    if (kr == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory for a keyring");
    *ret = kr;
    return MRD_OK;
}

void crypto_keyring_free(struct crypto_keyring *kr)
{
    if (kr == NULL)
        return;
    for (size_t i = 0; i < kr->n; i++)
        mrd_free(kr->v[i].name);
    mrd_free(kr->v);
    mrd_free(kr);
}

const char *crypto_keyring_find(const struct crypto_keyring *kr,
                                const uint8_t pk[CRYPTO_PUBKEY_LEN])
{
    if (kr == NULL)
        return NULL;
    /* public keys are not secret: a plain memcmp is fine here */
    for (size_t i = 0; i < kr->n; i++)
        if (memcmp(kr->v[i].pk, pk, CRYPTO_PUBKEY_LEN) == 0)
            return kr->v[i].name;
    return NULL;
}

enum mrd_code crypto_keyring_add(struct crypto_keyring *kr, const uint8_t pk[CRYPTO_PUBKEY_LEN],
                                 const char *name, size_t len, struct mrd_err *err)
{
    char *copy;

    if (crypto_keyring_find(kr, pk) != NULL)
        return MRD_OK;
    if (kr->n >= CRYPTO_KEYRING_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "crypto: keyring holds at most %d keys",
                           CRYPTO_KEYRING_MAX);
    if (kr->n == kr->cap) {
        size_t cap = kr->cap == 0 ? 8 : kr->cap * 2;
        struct keyring_entry *v = mrd_realloc(kr->v, cap * sizeof(*v));

        if (v == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory growing the keyring");
        kr->v = v;
        kr->cap = cap;
    }
    copy = mrd_strndup(name, len);
    if (copy == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory growing the keyring");
    memcpy(kr->v[kr->n].pk, pk, CRYPTO_PUBKEY_LEN);
    kr->v[kr->n].name = copy;
    kr->n++;
    return MRD_OK;
}

/* The object as it was signed: a shallow copy without our block, and
 * without `extensions` when the block was all it held (an empty
 * dictionary is not valid STIX, so the signer never had one). The copy
 * shares members with obj; it is only read. */
static enum mrd_code unsigned_view(const json_t *obj, json_t **ret, struct mrd_err *err)
{
    json_t *exts = json_object_get(obj, "extensions");
    json_t *view = NULL, *ecopy = NULL;
    enum mrd_code rc = MRD_OK;

    /* An empty `extensions` (invalid STIX, but it happens) is dropped too:
     * signing one would otherwise cover "extensions":{} while the verifier,
     * after removing the block it then holds, would see no extensions. */
    if (!json_is_object(exts) ||
        (json_object_get(exts, CRYPTO_SIG_EXT_ID) == NULL && json_object_size(exts) > 0)) {
        *ret = json_incref(unconst(obj));
        return MRD_OK;
    }
    view = json_copy(unconst(obj));
    ecopy = json_copy(exts);
    if (view == NULL || ecopy == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory copying the object");
        goto out;
    }
    (void)json_object_del(ecopy, CRYPTO_SIG_EXT_ID); /* may be absent (empty case) */
    if (json_object_size(ecopy) == 0)
        (void)json_object_del(view, "extensions");
    else if (json_object_set(view, "extensions", ecopy) != 0)
        rc = mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory copying the object");
    if (rc == MRD_OK) {
        *ret = view;
        view = NULL;
    }
out:
    json_decref(ecopy);
    json_decref(view);
    return rc;
}

/* Appends the canonical bytes of obj without its signature block. */
static enum mrd_code signed_bytes(const json_t *obj, struct mrd_buf *out, struct mrd_err *err)
{
    json_t *view = NULL;
    enum mrd_code rc = unsigned_view(obj, &view, err);

    if (rc == MRD_OK)
        rc = mrd_jcs_write(view, out, err);
    json_decref(view);
    return rc;
}

/* What both signers require of obj and k, and libsodium started. */
static enum mrd_code sign_check(const json_t *obj, const struct crypto_key *k, struct mrd_err *err)
{
    const json_t *exts;

    if (!json_is_object(obj))
        return mrd_err_set(err, MRD_E_INVAL, "sign: not a JSON object");
    if (!k->has_secret)
        return mrd_err_set(err, MRD_E_INVAL, "sign: key has no secret part");
    exts = json_object_get(obj, "extensions");
    if (exts != NULL && !json_is_object(exts))
        return mrd_err_set(err, MRD_E_INVAL,
                           "sign: $.extensions is not a dictionary (STIX 2.1 §3.2)");
    return crypto__init(err);
}

enum mrd_code crypto_object_sign(json_t *obj, const struct crypto_key *k, struct mrd_err *err)
{
    struct mrd_buf canon;
    uint8_t sig[CRYPTO_SIG_LEN];
    char sig64[sodium_base64_ENCODED_LEN(CRYPTO_SIG_LEN, sodium_base64_VARIANT_ORIGINAL)];
    char pktext[CRYPTO_PUBKEY_TEXT_LEN + 1];
    json_t *exts, *block = NULL, *fresh = NULL;
    enum mrd_code rc;

    mrd_buf_init(&canon, CRYPTO_SIGN_MAX_BYTES);
    rc = sign_check(obj, k, err);
    if (rc == MRD_OK)
        rc = signed_bytes(obj, &canon, err);
    if (rc != MRD_OK)
        goto out;
    crypto_sign_detached(sig, NULL, (const unsigned char *)canon.data, canon.len, k->sk);
    sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
    crypto_pubkey_format(k->pk, pktext);
    block = json_pack("{s:s, s:s, s:s, s:s, s:s}", "extension_type", "property-extension",
                      "algorithm", CRYPTO_SIG_ALGORITHM, "canonicalization",
                      CRYPTO_SIG_CANONICALIZATION, "public_key", pktext, "signature", sig64);
    if (block == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "sign: out of memory building the signature block");
        goto out;
    }
    /* Each branch changes obj in one step that either fully happens or
     * not at all, so obj is untouched on failure. */
    exts = json_object_get(obj, "extensions");
    if (exts != NULL) {
        if (json_object_set(exts, CRYPTO_SIG_EXT_ID, block) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "sign: out of memory adding the signature");
    } else {
        fresh = json_object();
        if (fresh == NULL || json_object_set(fresh, CRYPTO_SIG_EXT_ID, block) != 0 ||
            json_object_set(obj, "extensions", fresh) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "sign: out of memory adding the signature");
    }
out:
    json_decref(fresh);
    json_decref(block);
    mrd_buf_release(&canon);
    return rc;
}

enum mrd_code crypto_object_sign_canon(const json_t *obj, const struct crypto_key *k,
                                       struct mrd_buf *out, struct mrd_err *err)
{
    size_t start = out->len, n = 0;
    struct mrd_jcs_slot slot;
    uint8_t sig[CRYPTO_SIG_LEN];
    char pktext[CRYPTO_PUBKEY_TEXT_LEN + 1];
    /* the member that goes into the signed bytes' slot: at most
     * ,"extensions":{"<id>":{block}}, */
    char member[512];
    json_t *view = NULL;
    enum mrd_code rc;
    int len;

    rc = sign_check(obj, k, err);
    if (rc == MRD_OK)
        rc = unsigned_view(obj, &view, err);
    /* The signed bytes go straight into out, remembering where the block
     * belongs; the block is then inserted there. Same bytes as signing in
     * place and writing the RFC 8785 form (the tests compare both), with
     * one canonicalisation and no copy of the object. */
    if (rc == MRD_OK)
        rc = mrd_jcs_write_slot(view, "extensions", CRYPTO_SIG_EXT_ID, out, &slot, err);
    if (rc == MRD_OK && out->len - start > CRYPTO_SIGN_MAX_BYTES)
        rc = mrd_err_set(err, MRD_E_TOOBIG, "sign: canonical form larger than %zu bytes",
                         CRYPTO_SIGN_MAX_BYTES);
    if (rc != MRD_OK)
        goto out;
    crypto_sign_detached(sig, NULL, (const unsigned char *)out->data + start, out->len - start,
                         k->sk);
    crypto_pubkey_format(k->pk, pktext);
    /* RFC 8785 form of the block: members in sorted order, and nothing in
     * these values (ASCII, base64) needs escaping. */
    len = snprintf(member, sizeof(member),
                   "%s%s\"%s\":{\"algorithm\":\"" CRYPTO_SIG_ALGORITHM
                   "\",\"canonicalization\":\"" CRYPTO_SIG_CANONICALIZATION
                   "\",\"extension_type\":\"property-extension\",\"public_key\":\"%s\","
                   "\"signature\":\"",
                   slot.comma_before ? "," : "", slot.inside ? "" : "\"extensions\":{",
                   CRYPTO_SIG_EXT_ID, pktext);
    if (len < 0 || (size_t)len >= sizeof(member) - CRYPTO_SIG_B64_LEN - 8) {
        rc = mrd_err_set(err, MRD_E_INTERNAL, "sign: signature block does not fit");
        goto out;
    }
    n = (size_t)len;
    sodium_bin2base64(member + n, sizeof(member) - n, sig, sizeof(sig),
                      sodium_base64_VARIANT_ORIGINAL);
    n += CRYPTO_SIG_B64_LEN;
    member[n++] = '"';
    member[n++] = '}';
    if (!slot.inside)
        member[n++] = '}';
    if (slot.comma_after)
        member[n++] = ',';
    rc = mrd_buf_insert(out, slot.at, member, n, err);
out:
    if (rc != MRD_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    json_decref(view);
    return rc;
}

const char *crypto_verdict_str(enum crypto_verdict v)
{
    switch (v) {
    case CRYPTO_UNSIGNED:
        return "unsigned";
    case CRYPTO_VALID:
        return "valid";
    case CRYPTO_UNKNOWN_SIGNER:
        return "unknown signer";
    case CRYPTO_INVALID:
        return "invalid";
    }
    return "invalid";
}

/* Returns the string member key of block, or NULL. */
static const char *member_str(const json_t *block, const char *key, size_t *ret_len)
{
    json_t *v = json_object_get(block, key);

    if (!json_is_string(v))
        return NULL;
    *ret_len = json_string_length(v);
    return json_string_value(v);
}

/* Reads and checks the block; on a problem writes the reason and returns
 * false. Every property must be one we know: anything else in the block
 * would travel unsigned (the block is not covered by the signature). */
static bool block_read(const json_t *block, struct crypto_verify_result *r,
                       uint8_t sig[CRYPTO_SIG_LEN])
{
    static const char *const known[] = {"extension_type", "algorithm", "canonicalization",
                                        "public_key", "signature"};
    const char *key, *s;
    json_t *v;
    size_t n;

    if (!json_is_object(block)) {
        (void)snprintf(r->reason, sizeof(r->reason), "signature block is not an object");
        return false;
    }
    json_object_foreach(unconst(block), key, v)
    {
        bool ok = false;

        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok) {
            (void)snprintf(r->reason, sizeof(r->reason),
                           "signature block has unknown property \"%.60s\"", key);
            return false;
        }
    }
    s = member_str(block, "extension_type", &n);
    if (s == NULL || strcmp(s, "property-extension") != 0) {
        (void)snprintf(r->reason, sizeof(r->reason),
                       "signature block: extension_type must be \"property-extension\"");
        return false;
    }
    s = member_str(block, "algorithm", &n);
    if (s == NULL || strcmp(s, CRYPTO_SIG_ALGORITHM) != 0) {
        (void)snprintf(r->reason, sizeof(r->reason),
                       "signature block: algorithm must be \"" CRYPTO_SIG_ALGORITHM "\"");
        return false;
    }
    s = member_str(block, "canonicalization", &n);
    if (s == NULL || strcmp(s, CRYPTO_SIG_CANONICALIZATION) != 0) {
        (void)snprintf(r->reason, sizeof(r->reason),
                       "signature block: canonicalization must be \"" CRYPTO_SIG_CANONICALIZATION
                       "\"");
        return false;
    }
    s = member_str(block, "public_key", &n);
    if (s == NULL || crypto_pubkey_parse(s, n, r->signer, NULL) != MRD_OK) {
        (void)snprintf(r->reason, sizeof(r->reason),
                       "signature block: public_key is not \"ed25519:<base64 of 32 bytes>\"");
        return false;
    }
    r->has_signer = true;
    s = member_str(block, "signature", &n);
    if (s == NULL || !crypto__b64_decode(s, n, sig, CRYPTO_SIG_LEN)) {
        (void)snprintf(r->reason, sizeof(r->reason),
                       "signature block: signature is not base64 of 64 bytes");
        return false;
    }
    return true;
}

/* Checks a present block; r->verdict ends as INVALID, VALID or UNKNOWN_SIGNER. */
static enum mrd_code check_block(const json_t *obj, const json_t *block,
                                 const struct crypto_keyring *kr, struct crypto_verify_result *r,
                                 struct mrd_err *err)
{
    struct mrd_buf canon;
    uint8_t sig[CRYPTO_SIG_LEN];
    enum mrd_code rc;

    r->verdict = CRYPTO_INVALID;
    if (!block_read(block, r, sig))
        return MRD_OK;
    mrd_buf_init(&canon, CRYPTO_SIGN_MAX_BYTES);
    rc = crypto__init(err);
    if (rc == MRD_OK)
        rc = signed_bytes(obj, &canon, err);
    if (rc == MRD_OK) {
        /* also for an unknown signer: a mismatch proves the bytes changed */
        if (crypto_sign_verify_detached(sig, (const unsigned char *)canon.data, canon.len,
                                        r->signer) != 0) {
            (void)snprintf(r->reason, sizeof(r->reason),
                           "signature does not match the object's RFC 8785 form (changed after "
                           "signing, or signed by another key)");
        } else {
            r->signer_name = crypto_keyring_find(kr, r->signer);
            r->verdict = r->signer_name != NULL ? CRYPTO_VALID : CRYPTO_UNKNOWN_SIGNER;
        }
    }
    mrd_buf_release(&canon);
    return rc;
}

/* True (r set to INVALID) when an extension key spells our extension id
 * in another case. STIX ids are compared exactly, so such a block is not
 * our signature and this code would report the object unsigned, yet a
 * consumer that folds case (RFC 4122 UUIDs are case-insensitive) would
 * take it for the named key's signature: whoever put it there, the object
 * is refused rather than stored with someone's key attached. */
static bool lookalike_key(const json_t *exts, struct crypto_verify_result *r)
{
    const char *key;
    json_t *v;

    json_object_foreach(unconst(exts), key, v)
    {
        size_t n = strlen(key);
        if ((strcmp(key, CRYPTO_SIG_EXT_ID) != 0 &&
             mrd_str_eq_nocase(key, n, CRYPTO_SIG_EXT_ID, strlen(CRYPTO_SIG_EXT_ID))) ||
            (strcmp(key, CRYPTO_SD_EXT_ID) != 0 &&
             mrd_str_eq_nocase(key, n, CRYPTO_SD_EXT_ID, strlen(CRYPTO_SD_EXT_ID)))) {
            r->verdict = CRYPTO_INVALID;
            (void)snprintf(r->reason, sizeof(r->reason),
                           "extension key \"%.62s\" is a Meridian signature id in another "
                           "case (ids are exact)",
                           key);
            return true;
        }
    }
    return false;
}

enum mrd_code crypto_object_verify(const json_t *obj, const struct crypto_keyring *kr,
                                   struct crypto_verify_result *ret, struct mrd_err *err)
{
    struct crypto_verify_result r, s;
    json_t *exts, *block, *sd;
    enum mrd_code rc;

    memset(&r, 0, sizeof(r));
    r.verdict = CRYPTO_UNSIGNED;
    if (!json_is_object(obj))
        return mrd_err_set(err, MRD_E_INVAL, "verify: not a JSON object");
    exts = json_object_get(obj, "extensions");
    block = json_is_object(exts) ? json_object_get(exts, CRYPTO_SIG_EXT_ID) : NULL;
    if (json_is_object(exts) && lookalike_key(exts, &r)) {
        *ret = r;
        return MRD_OK;
    }
    if (block != NULL) {
        rc = check_block(obj, block, kr, &r, err);
        if (rc != MRD_OK)
            return rc;
    }
    /* The selective-disclosure block is checked too: alone (a minimised
     * object), or beside a valid whole-object block, which covers it but
     * says nothing about whether its digests match. */
    sd = json_is_object(exts) ? json_object_get(exts, CRYPTO_SD_EXT_ID) : NULL;
    if (sd != NULL && r.verdict != CRYPTO_INVALID) {
        memset(&s, 0, sizeof(s));
        rc = crypto__sd_check(obj, sd, kr, &s, err);
        if (rc != MRD_OK)
            return rc;
        if (block == NULL || s.verdict == CRYPTO_INVALID) {
            r = s;
        } else {
            r.selective = true;
            r.sd_digests = s.sd_digests;
            r.sd_disclosed = s.sd_disclosed;
            r.sd_withheld = s.sd_withheld;
            r.sd_transformed = s.sd_transformed;
        }
    }
    *ret = r;
    return MRD_OK;
}

enum mrd_code crypto_extension_definition(json_t **ret, struct mrd_err *err)
{
    json_t *v = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "extension-definition",
        "spec_version", "2.1", "id", CRYPTO_SIG_EXT_ID, "created_by_ref",
        CRYPTO_PROJECT_IDENTITY_ID, "created", CRYPTO_DEFINITION_CREATED, "modified",
        CRYPTO_DEFINITION_CREATED, "name", "Meridian object signature", "description",
        "An Ed25519 signature by the Meridian node that created the object, which survives "
        "relaying through other nodes.",
        "schema",
        "Property extension with exactly these string properties: extension_type "
        "\"property-extension\"; algorithm \"" CRYPTO_SIG_ALGORITHM
        "\"; canonicalization \"" CRYPTO_SIG_CANONICALIZATION
        "\"; public_key \"ed25519:\" followed by the padded base64 (RFC 4648 section 4) of the "
        "signer's 32-byte Ed25519 public key; signature, the padded base64 of the 64-byte "
        "Ed25519 signature (RFC 8032) over the RFC 8785 canonical JSON of the object without "
        "this extension's entry in extensions, and without extensions itself when that entry "
        "was its only member.",
        "version", "1.0.0", "extension_types", "property-extension");

    if (v == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory building the definition");
    *ret = v;
    return MRD_OK;
}

enum mrd_code crypto_project_identity(json_t **ret, struct mrd_err *err)
{
    json_t *v =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity", "spec_version",
                  "2.1", "id", CRYPTO_PROJECT_IDENTITY_ID, "created", CRYPTO_DEFINITION_CREATED,
                  "modified", CRYPTO_DEFINITION_CREATED, "name", "Meridian", "description",
                  "The Meridian project, author of Meridian's STIX extension definitions.",
                  "identity_class", "organization");

    if (v == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory building the identity");
    *ret = v;
    return MRD_OK;
}
