/* Selective-disclosure signatures on STIX objects (crypto.h, "selective
 * disclosure"; docs/privacy.md has the format). The creator signs a list of
 * salted digests, one per top-level property, plus the properties that can
 * never be withheld; a relay removes a property and its salt, and the
 * receiver still checks every property it got. */
#include "crypto/crypto_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

#define SD_SALT_B64_LEN                                                                            \
    (sodium_base64_ENCODED_LEN(CRYPTO_SD_SALT_LEN, sodium_base64_VARIANT_ORIGINAL) - 1)
#define SD_SIG_B64_LEN                                                                             \
    (sodium_base64_ENCODED_LEN(CRYPTO_SIG_LEN, sodium_base64_VARIANT_ORIGINAL) - 1)
#define SD_DIGEST_HEX_LEN (2 * CRYPTO_SD_DIGEST_LEN)

/* Signed as themselves, never withheld (docs/privacy.md). */
static const char *const fixed_props[] = {"id",      "type",     "spec_version",
                                          "created", "modified", "created_by_ref"};

static json_t *unconst(const json_t *v)
{
    return (json_t *)(uintptr_t)v; /* jansson's getters take non-const */
}

bool crypto_sd_is_fixed(const char *name)
{
    for (size_t i = 0; i < sizeof(fixed_props) / sizeof(fixed_props[0]); i++)
        if (strcmp(name, fixed_props[i]) == 0)
            return true;
    return false;
}

/* The value the digest of `extensions` covers: the dictionary without the
 * two Meridian blocks; NULL (new ref otherwise) when nothing else is left
 * or there is no dictionary. A non-object `extensions` is digested as is. */
static enum mrd_code extensions_view(const json_t *obj, json_t **ret, struct mrd_err *err)
{
    json_t *exts = json_object_get(obj, "extensions"), *copy;

    *ret = NULL;
    if (exts == NULL)
        return MRD_OK;
    if (!json_is_object(exts)) {
        *ret = json_incref(exts);
        return MRD_OK;
    }
    copy = json_copy(exts);
    if (copy == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
    (void)json_object_del(copy, CRYPTO_SD_EXT_ID);
    (void)json_object_del(copy, CRYPTO_SIG_EXT_ID);
    if (json_object_size(copy) == 0) {
        json_decref(copy);
        return MRD_OK;
    }
    *ret = copy;
    return MRD_OK;
}

/* SHA-256(salt || JCS(name) || JCS(value)). The name goes in as a JSON
 * string, quotes included, so that name and value cannot be shifted into
 * one another ("x1" + 2 and "x" + 12 would otherwise collide). */
static enum mrd_code prop_digest(const uint8_t salt[CRYPTO_SD_SALT_LEN], const char *name,
                                 const json_t *value, uint8_t ret[CRYPTO_SD_DIGEST_LEN],
                                 struct mrd_err *err)
{
    struct mrd_buf b;
    crypto_hash_sha256_state st;
    enum mrd_code rc;

    mrd_buf_init(&b, CRYPTO_SIGN_MAX_BYTES);
    rc = mrd_jcs_string(name, strlen(name), &b, err);
    if (rc == MRD_OK)
        rc = mrd_jcs_write(value, &b, err);
    if (rc == MRD_OK) {
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, salt, CRYPTO_SD_SALT_LEN);
        crypto_hash_sha256_update(&st, (const unsigned char *)b.data, b.len);
        crypto_hash_sha256_final(&st, ret);
    }
    mrd_buf_release(&b);
    return rc;
}

/* The key the salts are derived with: a subkey of the signer's secret seed
 * (libsodium's crypto_kdf: BLAKE2b keyed with the seed, subkey id 1,
 * context "mrdsdslt"), so the Ed25519 seed itself keys nothing but
 * Ed25519. */
#define SD_SALT_KDF_ID 1
static const char sd_salt_kdf_ctx[crypto_kdf_CONTEXTBYTES + 1] = "mrdsdslt";

static void salt_key(const struct crypto_key *k, uint8_t ret[crypto_kdf_KEYBYTES])
{
    (void)crypto_kdf_derive_from_key(ret, crypto_kdf_KEYBYTES, SD_SALT_KDF_ID, sd_salt_kdf_ctx,
                                     k->sk); /* sk = seed || pk: the first 32 bytes */
}

/* The salt of one property: BLAKE2b-128 keyed with the salt key (above)
 * over a domain tag and the RFC 8785 forms of the object's id and version
 * and the property's name and value. Unpredictable to anyone without the
 * key (so a withheld value cannot be guessed from its digest), different
 * for every object and property, and the same when the same node signs
 * the same object version again: signing stays deterministic, as the
 * ingest path needs (a re-imported object is "already present", not a
 * different copy of its version). */
static enum mrd_code derive_salt(const uint8_t key[crypto_kdf_KEYBYTES], const json_t *obj,
                                 const char *name, const json_t *value,
                                 uint8_t ret[CRYPTO_SD_SALT_LEN], struct mrd_err *err)
{
    static const char tag[] = "meridian/sd-salt/1";
    const json_t *parts[3] = {json_object_get(obj, "id"), json_object_get(obj, "modified"), value};
    struct mrd_buf b;
    enum mrd_code rc;

    if (parts[1] == NULL)
        parts[1] = json_object_get(obj, "created");
    mrd_buf_init(&b, CRYPTO_SIGN_MAX_BYTES);
    rc = mrd_buf_append(&b, tag, sizeof(tag), err); /* NUL included */
    for (size_t i = 0; rc == MRD_OK && i < 2; i++)
        rc = parts[i] != NULL ? mrd_jcs_write(parts[i], &b, err) : mrd_buf_puts(&b, "null", err);
    if (rc == MRD_OK)
        rc = mrd_jcs_string(name, strlen(name), &b, err);
    if (rc == MRD_OK)
        rc = mrd_jcs_write(parts[2], &b, err);
    if (rc == MRD_OK)
        crypto_generichash(ret, CRYPTO_SD_SALT_LEN, (const unsigned char *)b.data, b.len, key,
                           crypto_kdf_KEYBYTES);
    mrd_buf_release(&b);
    return rc;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The bytes the SD signature covers: the RFC 8785 form of the block's
 * signed members plus "object", the fixed properties present in obj. */
static enum mrd_code sd_payload(const json_t *obj, const json_t *block, struct mrd_buf *out,
                                struct mrd_err *err)
{
    static const char *const signed_members[] = {"extension_type",   "algorithm",
                                                 "canonicalization", "digest_algorithm",
                                                 "public_key",       "digests"};
    json_t *p = json_object(), *fixed = json_object();
    enum mrd_code rc = MRD_OK;

    if (p == NULL || fixed == NULL || json_object_set(p, "object", fixed) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
        goto out;
    }
    for (size_t i = 0; i < sizeof(signed_members) / sizeof(signed_members[0]); i++) {
        json_t *v = json_object_get(block, signed_members[i]);
        if (v != NULL && json_object_set(p, signed_members[i], v) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
    }
    for (size_t i = 0; rc == MRD_OK && i < sizeof(fixed_props) / sizeof(fixed_props[0]); i++) {
        json_t *v = json_object_get(obj, fixed_props[i]);
        if (v != NULL && json_object_set(fixed, fixed_props[i], v) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
    }
    if (rc == MRD_OK)
        rc = mrd_jcs_write(p, out, err);
out:
    json_decref(fixed);
    json_decref(p);
    return rc;
}

/* One property to digest: its name and (borrowed or owned) value. */
struct sd_prop {
    const char *name;
    json_t *value; /* owned reference */
};

/* Lists obj's digestible properties (every top-level member but the fixed
 * ones, with `extensions` as extensions_view says). */
static enum mrd_code sd_props(const json_t *obj, struct sd_prop **ret, size_t *ret_n,
                              struct mrd_err *err)
{
    struct sd_prop *v = NULL;
    size_t n = 0;
    const char *key;
    json_t *val;
    enum mrd_code rc = MRD_OK;

    if (json_object_size(obj) > CRYPTO_SD_MAX_PROPERTIES)
        return mrd_err_set(err, MRD_E_TOOBIG, "sd: more than %d properties",
                           CRYPTO_SD_MAX_PROPERTIES);
    v = mrd_calloc(json_object_size(obj) + 1, sizeof(*v));
    if (v == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
    json_object_foreach(unconst(obj), key, val)
    {
        json_t *use = NULL;

        if (crypto_sd_is_fixed(key))
            continue;
        if (strcmp(key, "extensions") == 0) {
            rc = extensions_view(obj, &use, err);
            if (rc != MRD_OK)
                break;
            if (use == NULL)
                continue;
        } else {
            use = json_incref(val);
        }
        v[n].name = key;
        v[n].value = use;
        n++;
    }
    if (rc != MRD_OK) {
        for (size_t i = 0; i < n; i++)
            json_decref(v[i].value);
        mrd_free(v);
        return rc;
    }
    *ret = v;
    *ret_n = n;
    return MRD_OK;
}

static void sd_props_free(struct sd_prop *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        json_decref(v[i].value);
    mrd_free(v);
}

/* Removes both Meridian blocks from obj, and `extensions` when empty. */
static void drop_blocks(json_t *obj)
{
    json_t *exts = json_object_get(obj, "extensions");

    if (!json_is_object(exts))
        return;
    (void)json_object_del(exts, CRYPTO_SD_EXT_ID);
    (void)json_object_del(exts, CRYPTO_SIG_EXT_ID);
    if (json_object_size(exts) == 0)
        (void)json_object_del(obj, "extensions");
}

bool crypto_object_same_content(const char *a, size_t a_len, const char *b, size_t b_len)
{
    json_t *x = NULL, *y = NULL;
    bool same = false;

    if (a_len > CRYPTO_SIGN_MAX_BYTES || b_len > CRYPTO_SIGN_MAX_BYTES)
        return false;
    x = json_loadb(a, a_len, JSON_REJECT_DUPLICATES, NULL);
    y = x != NULL ? json_loadb(b, b_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (json_is_object(x) && json_is_object(y)) {
        drop_blocks(x);
        drop_blocks(y);
        same = json_equal(x, y) != 0;
    }
    json_decref(x);
    json_decref(y);
    return same;
}

enum mrd_code crypto_object_sd_sign(json_t *obj, const struct crypto_key *k, struct mrd_err *err)
{
    struct sd_prop *props = NULL;
    size_t n = 0;
    char **hexes = NULL;
    json_t *work = NULL, *block = NULL, *digests = NULL, *disc = NULL, *exts;
    struct mrd_buf payload;
    uint8_t sig[CRYPTO_SIG_LEN], skey[crypto_kdf_KEYBYTES];
    char sig64[SD_SIG_B64_LEN + 1], pktext[CRYPTO_PUBKEY_TEXT_LEN + 1];
    enum mrd_code rc;

    mrd_buf_init(&payload, CRYPTO_SIGN_MAX_BYTES);
    if (!json_is_object(obj))
        return mrd_err_set(err, MRD_E_INVAL, "sd sign: not a JSON object");
    if (!k->has_secret)
        return mrd_err_set(err, MRD_E_INVAL, "sd sign: key has no secret part");
    exts = json_object_get(obj, "extensions");
    if (exts != NULL && !json_is_object(exts))
        return mrd_err_set(err, MRD_E_INVAL,
                           "sd sign: $.extensions is not a dictionary (STIX 2.1 §3.2)");
    rc = crypto__init(err);
    if (rc != MRD_OK)
        return rc;
    /* Work on a copy so that obj is untouched on failure. */
    work = json_deep_copy(obj);
    if (work == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
        goto out;
    }
    drop_blocks(work);
    rc = sd_props(work, &props, &n, err);
    if (rc != MRD_OK)
        goto out;
    salt_key(k, skey);
    hexes = mrd_calloc(n + 1, sizeof(*hexes));
    digests = json_array();
    disc = json_object();
    if (hexes == NULL || digests == NULL || disc == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        uint8_t salt[CRYPTO_SD_SALT_LEN], d[CRYPTO_SD_DIGEST_LEN];
        char salt64[SD_SALT_B64_LEN + 1];

        rc = derive_salt(skey, work, props[i].name, props[i].value, salt, err);
        if (rc == MRD_OK)
            rc = prop_digest(salt, props[i].name, props[i].value, d, err);
        if (rc != MRD_OK)
            break;
        hexes[i] = mrd_malloc(SD_DIGEST_HEX_LEN + 1);
        if (hexes[i] == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
            break;
        }
        hex_encode(d, sizeof(d), hexes[i]);
        sodium_bin2base64(salt64, sizeof(salt64), salt, sizeof(salt),
                          sodium_base64_VARIANT_ORIGINAL);
        if (json_object_set_new(disc, props[i].name, json_string(salt64)) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
    }
    if (rc != MRD_OK)
        goto out;
    /* Sorted, so the list says nothing about the order of the properties. */
    qsort(hexes, n, sizeof(*hexes), cmp_str);
    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        if (json_array_append_new(digests, json_string(hexes[i])) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
    crypto_pubkey_format(k->pk, pktext);
    block = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "extension_type", "property-extension",
                      "algorithm", CRYPTO_SIG_ALGORITHM, "canonicalization",
                      CRYPTO_SIG_CANONICALIZATION, "digest_algorithm", CRYPTO_SD_DIGEST_ALGORITHM,
                      "public_key", pktext, "digests", digests);
    if (rc == MRD_OK && block == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
    if (rc == MRD_OK)
        rc = sd_payload(work, block, &payload, err);
    if (rc != MRD_OK)
        goto out;
    crypto_sign_detached(sig, NULL, (const unsigned char *)payload.data, payload.len, k->sk);
    sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
    if (json_object_set_new(block, "signature", json_string(sig64)) != 0 ||
        json_object_set(block, "disclosures", disc) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
        goto out;
    }
    exts = json_object_get(work, "extensions");
    if (exts == NULL) {
        exts = json_object();
        if (exts == NULL || json_object_set_new(work, "extensions", exts) != 0) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
            goto out;
        }
    }
    if (json_object_set(exts, CRYPTO_SD_EXT_ID, block) != 0 || json_object_update(obj, work) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "sd sign: out of memory");
        goto out;
    }
    /* work holds every member obj had (blocks aside), so the update replaced
     * them all; `extensions` may have been absent from work only when obj
     * had none either. */
out:
    sodium_memzero(skey, sizeof(skey));
    for (size_t i = 0; hexes != NULL && i < n; i++)
        mrd_free(hexes[i]);
    mrd_free(hexes);
    sd_props_free(props, n);
    json_decref(block);
    json_decref(digests);
    json_decref(disc);
    json_decref(work);
    mrd_buf_release(&payload);
    return rc;
}

/* Sets r->reason to msg with its one "%s" replaced by arg, escaped (a
 * property name comes from outside), and returns false. */
static bool bad(struct crypto_verify_result *r, const char *msg, const char *arg)
{
    char safe[64];
    const char *at = strstr(msg, "%s");

    mrd_str_escape(safe, sizeof(safe), arg, strlen(arg));
    (void)snprintf(r->reason, sizeof(r->reason), "%.*s%s%s", (int)(at - msg), msg, safe, at + 2);
    return false;
}

static bool str_member_is(const json_t *block, const char *key, const char *want)
{
    json_t *v = json_object_get(block, key);

    return json_is_string(v) && strcmp(json_string_value(v), want) == 0 &&
           json_string_length(v) == strlen(want);
}

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool crypto__sd_block_read(const json_t *block, struct crypto_verify_result *r,
                           uint8_t sig[CRYPTO_SIG_LEN])
{
    static const char *const known[] = {"extension_type",   "algorithm",   "canonicalization",
                                        "digest_algorithm", "public_key",  "digests",
                                        "signature",        "disclosures", "transformed"};
    const char *key, *prev = NULL;
    json_t *v, *digests, *disc, *tr, *pk, *s;
    size_t i;

    if (!json_is_object(block))
        return bad(r, "selective-disclosure block is not an object%s", "");
    json_object_foreach(unconst(block), key, v)
    {
        bool ok = false;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok)
            return bad(r, "selective-disclosure block has unknown property \"%s\"", key);
    }
    if (!str_member_is(block, "extension_type", "property-extension") ||
        !str_member_is(block, "algorithm", CRYPTO_SIG_ALGORITHM) ||
        !str_member_is(block, "canonicalization", CRYPTO_SIG_CANONICALIZATION) ||
        !str_member_is(block, "digest_algorithm", CRYPTO_SD_DIGEST_ALGORITHM))
        return bad(r,
                   "selective-disclosure block: extension_type, algorithm, canonicalization or "
                   "digest_algorithm is not the defined value%s",
                   "");
    pk = json_object_get(block, "public_key");
    if (!json_is_string(pk) || crypto_pubkey_parse(json_string_value(pk), json_string_length(pk),
                                                   r->signer, NULL) != MRD_OK)
        return bad(r, "selective-disclosure block: public_key is not \"ed25519:<base64>\"%s", "");
    r->has_signer = true;
    s = json_object_get(block, "signature");
    if (!json_is_string(s) ||
        !crypto__b64_decode(json_string_value(s), json_string_length(s), sig, CRYPTO_SIG_LEN))
        return bad(r, "selective-disclosure block: signature is not base64 of 64 bytes%s", "");
    digests = json_object_get(block, "digests");
    if (!json_is_array(digests) || json_array_size(digests) > CRYPTO_SD_MAX_PROPERTIES)
        return bad(r, "selective-disclosure block: digests is not an array of at most 1024%s", "");
    json_array_foreach(digests, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) != SD_DIGEST_HEX_LEN ||
            !is_lower_hex(json_string_value(v), SD_DIGEST_HEX_LEN))
            return bad(r, "selective-disclosure block: a digest is not 64 lowercase hex digits%s",
                       "");
        if (prev != NULL && strcmp(prev, json_string_value(v)) >= 0)
            return bad(r, "selective-disclosure block: digests are not sorted and distinct%s", "");
        prev = json_string_value(v);
    }
    disc = json_object_get(block, "disclosures");
    if (!json_is_object(disc) || json_object_size(disc) > json_array_size(digests))
        return bad(r,
                   "selective-disclosure block: disclosures is not a dictionary with at most "
                   "one entry per digest%s",
                   "");
    json_object_foreach(disc, key, v)
    {
        uint8_t salt[CRYPTO_SD_SALT_LEN];
        if (!json_is_string(v) ||
            !crypto__b64_decode(json_string_value(v), json_string_length(v), salt, sizeof(salt)))
            return bad(
                r, "selective-disclosure block: the salt of \"%s\" is not base64 of 16 bytes", key);
        if (crypto_sd_is_fixed(key))
            return bad(r, "selective-disclosure block: \"%s\" is never withheld, so has no salt",
                       key);
    }
    tr = json_object_get(block, "transformed");
    if (tr != NULL && (!json_is_object(tr) || json_object_size(tr) > json_array_size(digests)))
        return bad(r, "selective-disclosure block: transformed is not a dictionary%s", "");
    json_object_foreach(tr, key, v)
    {
        if (!json_is_string(v) || json_string_length(v) > CRYPTO_SD_TRANSFORM_MAX ||
            mrd_str_needs_escape(json_string_value(v), json_string_length(v)))
            return bad(r, "selective-disclosure block: transformed \"%s\" is not a short string",
                       key);
        if (json_object_get(disc, key) != NULL || crypto_sd_is_fixed(key))
            return bad(r, "selective-disclosure block: \"%s\" is both disclosed and transformed",
                       key);
    }
    return true;
}

static int cmp_digest(const void *key, const void *elem)
{
    return memcmp(key, elem, CRYPTO_SD_DIGEST_LEN);
}

/* Decodes the (checked) digest list into n * 32 bytes, sorted. */
static enum mrd_code digests_decode(const json_t *digests, uint8_t **ret, struct mrd_err *err)
{
    size_t n = json_array_size(digests), i;
    uint8_t *d = mrd_malloc(n * CRYPTO_SD_DIGEST_LEN + 1);
    json_t *v;

    if (d == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
    json_array_foreach(digests, i, v)
    {
        const char *s = json_string_value(v);
        for (size_t j = 0; j < CRYPTO_SD_DIGEST_LEN; j++)
            d[i * CRYPTO_SD_DIGEST_LEN + j] =
                (uint8_t)(mrd_hex_digit(s[2 * j]) << 4 | mrd_hex_digit(s[2 * j + 1]));
    }
    *ret = d;
    return MRD_OK;
}

enum mrd_code crypto__sd_check(const json_t *obj, const json_t *block,
                               const struct crypto_keyring *kr, struct crypto_verify_result *r,
                               struct mrd_err *err)
{
    uint8_t sig[CRYPTO_SIG_LEN];
    struct sd_prop *props = NULL;
    size_t n = 0, ndig;
    uint8_t *dig = NULL;
    const json_t *disc, *tr;
    const char *key;
    json_t *v;
    struct mrd_buf payload;
    enum mrd_code rc;

    r->verdict = CRYPTO_INVALID;
    r->selective = true;
    mrd_buf_init(&payload, CRYPTO_SIGN_MAX_BYTES);
    if (!crypto__sd_block_read(block, r, sig))
        return MRD_OK;
    disc = json_object_get(block, "disclosures");
    tr = json_object_get(block, "transformed");
    ndig = json_array_size(json_object_get(block, "digests"));
    rc = crypto__init(err);
    if (rc == MRD_OK)
        rc = digests_decode(json_object_get(block, "digests"), &dig, err);
    if (rc == MRD_OK)
        rc = sd_props(obj, &props, &n, err);
    if (rc == MRD_E_TOOBIG) {
        mrd_err_clear(err);
        rc = MRD_OK;
        (void)bad(r, "object has more properties than a selective-disclosure block covers%s", "");
        goto out;
    }
    if (rc != MRD_OK)
        goto out;
    /* Every property received is either disclosed and matches its digest,
     * or named as transformed by a relay (then its value is not the
     * creator's, and is reported so). Anything else was added or changed. */
    for (size_t i = 0; i < n; i++) {
        json_t *salt64 = json_object_get(disc, props[i].name);
        uint8_t salt[CRYPTO_SD_SALT_LEN], d[CRYPTO_SD_DIGEST_LEN];

        if (json_object_get(tr, props[i].name) != NULL) {
            r->sd_transformed++;
            continue;
        }
        if (salt64 == NULL) {
            (void)bad(r, "property \"%s\" has no disclosure (added after signing)", props[i].name);
            goto out;
        }
        (void)crypto__b64_decode(json_string_value(salt64), json_string_length(salt64), salt,
                                 sizeof(salt));
        rc = prop_digest(salt, props[i].name, props[i].value, d, err);
        if (rc != MRD_OK)
            goto out;
        if (bsearch(d, dig, ndig, CRYPTO_SD_DIGEST_LEN, cmp_digest) == NULL) {
            (void)bad(r, "property \"%s\" does not match its signed digest (changed after signing)",
                      props[i].name);
            goto out;
        }
        r->sd_disclosed++;
    }
    /* A salt for a property that is absent would let a receiver test
     * guesses of the withheld value: the relay must drop both. */
    json_object_foreach(unconst(disc), key, v)
    {
        if (strcmp(key, "extensions") == 0 ? false : json_object_get(obj, key) == NULL) {
            (void)bad(r, "disclosure for \"%s\", which is absent", key);
            goto out;
        }
    }
    if (r->sd_disclosed != json_object_size(disc)) {
        (void)bad(r, "a disclosure has no property%s", "");
        goto out;
    }
    json_object_foreach(unconst(tr), key, v)
    {
        if (json_object_get(obj, key) == NULL) {
            (void)bad(r, "transformed \"%s\" is absent", key);
            goto out;
        }
    }
    r->sd_digests = (unsigned)ndig;
    r->sd_withheld = (unsigned)(ndig - r->sd_disclosed);
    rc = sd_payload(obj, block, &payload, err);
    if (rc != MRD_OK)
        goto out;
    if (crypto_sign_verify_detached(sig, (const unsigned char *)payload.data, payload.len,
                                    r->signer) != 0) {
        (void)bad(r,
                  "selective-disclosure signature does not match the digests and fixed "
                  "properties%s",
                  "");
        goto out;
    }
    r->signer_name = crypto_keyring_find(kr, r->signer);
    r->verdict = r->signer_name != NULL ? CRYPTO_VALID : CRYPTO_UNKNOWN_SIGNER;
out:
    sd_props_free(props, n);
    mrd_free(dig);
    mrd_buf_release(&payload);
    return rc;
}

enum mrd_code crypto_object_sd_withhold(json_t *obj, const char *name, const char *how,
                                        struct mrd_err *err)
{
    json_t *exts = json_object_get(obj, "extensions");
    json_t *block = json_is_object(exts) ? json_object_get(exts, CRYPTO_SD_EXT_ID) : NULL;
    json_t *disc = json_object_get(block, "disclosures"), *tr;

    if (!json_is_object(disc))
        return mrd_err_set(err, MRD_E_INVAL, "sd: object has no selective-disclosure block");
    if (crypto_sd_is_fixed(name) || strcmp(name, "extensions") == 0)
        return mrd_err_set(err, MRD_E_INVAL, "sd: \"%s\" cannot be withheld", name);
    if (how != NULL && strlen(how) > CRYPTO_SD_TRANSFORM_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "sd: transform name too long");
    (void)json_object_del(disc, name);
    if (how != NULL) {
        tr = json_object_get(block, "transformed");
        if (tr == NULL) {
            tr = json_object();
            if (tr == NULL || json_object_set_new(block, "transformed", tr) != 0)
                return mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
        }
        if (json_object_set_new(tr, name, json_string(how)) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "sd: out of memory");
    }
    /* The whole-object signature no longer matches: drop it rather than
     * forward a signature that the receiver would find broken. */
    (void)json_object_del(exts, CRYPTO_SIG_EXT_ID);
    return MRD_OK;
}

bool crypto_object_has_sd(const json_t *obj)
{
    json_t *exts = json_object_get(obj, "extensions");

    return json_is_object(exts) && json_is_object(json_object_get(exts, CRYPTO_SD_EXT_ID));
}

bool crypto_object_has_sig(const json_t *obj)
{
    json_t *exts = json_object_get(obj, "extensions");

    return json_is_object(exts) && json_object_get(exts, CRYPTO_SIG_EXT_ID) != NULL;
}

enum mrd_code crypto_sd_extension_definition(json_t **ret, struct mrd_err *err)
{
    json_t *v = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type", "extension-definition",
        "spec_version", "2.1", "id", CRYPTO_SD_EXT_ID, "created_by_ref", CRYPTO_PROJECT_IDENTITY_ID,
        "created", CRYPTO__DEFINITION_CREATED, "modified", CRYPTO__DEFINITION_CREATED, "name",
        "Meridian selective-disclosure signature", "description",
        "An Ed25519 signature by the creating node over salted digests of the object's "
        "top-level properties, so that a relay may withhold properties and the receiver still "
        "verifies every property it received.",
        "schema",
        "Property extension with: extension_type \"property-extension\"; algorithm \"ed25519\"; "
        "canonicalization \"rfc8785\"; digest_algorithm \"sha-256\"; public_key \"ed25519:\" and "
        "the padded base64 of the 32-byte key; digests, the sorted distinct lowercase hex "
        "SHA-256 of salt || RFC 8785 JSON string of the property name || RFC 8785 form of the "
        "value, one per top-level property other than id, type, spec_version, created, "
        "modified and created_by_ref (extensions is digested without this block and the "
        "Meridian object signature); disclosures, a dictionary from each property present to "
        "the padded base64 of its 16-byte salt; signature, the padded base64 Ed25519 signature "
        "over the RFC 8785 form of {extension_type, algorithm, canonicalization, "
        "digest_algorithm, public_key, digests, object} where object holds the never-withheld "
        "properties present; optional transformed, a dictionary from property name to how a "
        "relay generalised or pseudonymised it (such a property has no disclosure and its value "
        "is not the creator's).",
        "version", "1.0.0", "extension_types", "property-extension");

    if (v == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "crypto: out of memory building the definition");
    *ret = v;
    return MRD_OK;
}
