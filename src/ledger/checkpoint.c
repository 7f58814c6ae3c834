/*
 * checkpoint.c: C2SP signed-note checkpoints (tlog-checkpoint, signed-note).
 *
 * Parsing is strict because a checkpoint is evidence: exactly the byte
 * layout the specs define, the root exactly 32 bytes, no control characters,
 * no leading zeros in the size. The signature covers the note text up to and
 * including its last newline, never the blank separator line.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/str.h"
#include "ledger/checkpoint.h"

#define EM_DASH "\xe2\x80\x94"
#define ALG_ED25519 0x01

void ckpt_key_id(const char *name, const uint8_t pk[CKPT_PUBKEY_LEN], uint8_t ret[4])
{
    crypto_hash_sha256_state st;
    uint8_t h[crypto_hash_sha256_BYTES];
    static const uint8_t sep[2] = {0x0a, ALG_ED25519};

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&st, sep, sizeof(sep));
    crypto_hash_sha256_update(&st, pk, CKPT_PUBKEY_LEN);
    crypto_hash_sha256_final(&st, h);
    memcpy(ret, h, 4);
}

/* Key names and origins: non-empty, no spaces, no '+', no control bytes
 * (signed-note "Format"), valid UTF-8. */
static enum mrd_code check_name(const char *s, size_t n, const char *what, struct mrd_err *err)
{
    if (n == 0 || n > CKPT_MAX_ORIGIN)
        return mrd_err_set(err, MRD_E_PARSE,
                           "checkpoint: %s must be 1..%d bytes (c2sp signed-note)", what,
                           CKPT_MAX_ORIGIN);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == '+' || s[i] == 0x7f)
            return mrd_err_set(err, MRD_E_PARSE,
                               "checkpoint: %s has a space, '+' or control byte at offset %zu "
                               "(c2sp signed-note)",
                               what, i);
    if (!mrd_utf8_valid(s, n))
        return mrd_err_set(err, MRD_E_PARSE, "checkpoint: %s is not UTF-8", what);
    return MRD_OK;
}

enum mrd_code ckpt_signer_from_seed(const char *name, const uint8_t seed[32],
                                    struct ckpt_signer *ret, struct mrd_err *err)
{
    uint8_t pk[CKPT_PUBKEY_LEN];
    enum mrd_code rc = check_name(name, strlen(name), "key name", err);

    if (rc != MRD_OK)
        return rc;
    if (crypto_sign_seed_keypair(pk, ret->sk, seed) != 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "checkpoint: cannot derive an Ed25519 key");
    mrd_strlcpy(ret->name, name, sizeof(ret->name));
    return MRD_OK;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* True when (s, n) is the one base64 encoding of (bin, len): decoders
 * ignore the unused low bits of the last character, which would let a
 * byte of a signed file change without any check noticing. */
static int b64_canonical(const char *s, size_t n, const uint8_t *bin, size_t len)
{
    char buf[sodium_base64_ENCODED_LEN(8192, sodium_base64_VARIANT_ORIGINAL)];

    if (len > 8192)
        return 0;
    sodium_bin2base64(buf, sizeof(buf), bin, len, sodium_base64_VARIANT_ORIGINAL);
    return strlen(buf) == n && memcmp(buf, s, n) == 0;
}

/* Splits "name+hexid+base64" (the last two '+' separate, as names have no
 * '+'), decodes the key data (0x01 || 32 bytes) into key. */
static enum mrd_code parse_note_key(const char *s, size_t n, char *name, uint8_t id[4],
                                    uint8_t key[32], struct mrd_err *err)
{
    const char *p1 = memchr(s, '+', n), *p2, *end = NULL;
    uint8_t data[1 + 32];
    size_t dlen = 0;
    enum mrd_code rc;

    if (p1 == NULL)
        return mrd_err_set(err, MRD_E_PARSE, "note key: expected name+id+key");
    p2 = memchr(p1 + 1, '+', n - (size_t)(p1 + 1 - s));
    if (p2 == NULL || p2 - p1 != 9)
        return mrd_err_set(err, MRD_E_PARSE, "note key: expected name+8 hex digits+key");
    rc = check_name(s, (size_t)(p1 - s), "key name", err);
    if (rc != MRD_OK)
        return rc;
    for (int i = 0; i < 4; i++) {
        int hi = hex_nibble(p1[1 + 2 * i]), lo = hex_nibble(p1[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return mrd_err_set(err, MRD_E_PARSE, "note key: key ID is not 8 lowercase hex digits");
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    if (sodium_base642bin(data, sizeof(data), p2 + 1, n - (size_t)(p2 + 1 - s), NULL, &dlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + n || dlen != sizeof(data) || data[0] != ALG_ED25519 ||
        !b64_canonical(p2 + 1, n - (size_t)(p2 + 1 - s), data, dlen))
        return mrd_err_set(err, MRD_E_PARSE,
                           "note key: key data is not canonical base64(0x01 || 32 bytes)");
    memcpy(name, s, (size_t)(p1 - s));
    name[p1 - s] = '\0';
    memcpy(key, data + 1, 32);
    return MRD_OK;
}

enum mrd_code ckpt_signer_parse(const char *s, size_t len, struct ckpt_signer *ret,
                                struct mrd_err *err)
{
    static const char prefix[] = "PRIVATE+KEY+";
    struct ckpt_signer sg;
    uint8_t id[4], want[4], seed[32];
    enum mrd_code rc;

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    if (!mrd_str_has_prefix(s, len, prefix))
        return mrd_err_set(err, MRD_E_PARSE, "signer key: expected 'PRIVATE+KEY+name+id+key'");
    rc = parse_note_key(s + sizeof(prefix) - 1, len - (sizeof(prefix) - 1), sg.name, id, seed, err);
    if (rc == MRD_OK)
        rc = ckpt_signer_from_seed(sg.name, seed, &sg, err);
    sodium_memzero(seed, sizeof(seed));
    if (rc != MRD_OK)
        return rc;
    ckpt_key_id(sg.name, sg.sk + 32, want);
    if (memcmp(id, want, 4) != 0) {
        sodium_memzero(&sg, sizeof(sg));
        return mrd_err_set(err, MRD_E_PARSE, "signer key: key ID does not match name and key");
    }
    *ret = sg;
    sodium_memzero(&sg, sizeof(sg));
    return MRD_OK;
}

enum mrd_code ckpt_verifier_text(const struct ckpt_verifier *v, struct mrd_buf *out,
                                 struct mrd_err *err)
{
    uint8_t id[4], data[33];
    char b64[64];

    ckpt_key_id(v->name, v->pk, id);
    data[0] = ALG_ED25519;
    memcpy(data + 1, v->pk, 32);
    sodium_bin2base64(b64, sizeof(b64), data, sizeof(data), sodium_base64_VARIANT_ORIGINAL);
    return mrd_buf_printf(out, err, "%s+%02x%02x%02x%02x+%s", v->name, id[0], id[1], id[2], id[3],
                          b64);
}

enum mrd_code ckpt_verifier_format(const struct ckpt_signer *signer, struct mrd_buf *out,
                                   struct mrd_err *err)
{
    struct ckpt_verifier v;

    memcpy(v.name, signer->name, sizeof(v.name));
    memcpy(v.pk, signer->sk + 32, sizeof(v.pk));
    return ckpt_verifier_text(&v, out, err);
}

enum mrd_code ckpt_verifier_parse(const char *s, size_t len, struct ckpt_verifier *ret,
                                  struct mrd_err *err)
{
    struct ckpt_verifier v;
    uint8_t id[4], want[4];
    enum mrd_code rc;

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    rc = parse_note_key(s, len, v.name, id, v.pk, err);
    if (rc != MRD_OK)
        return rc;
    ckpt_key_id(v.name, v.pk, want);
    if (memcmp(id, want, 4) != 0)
        return mrd_err_set(err, MRD_E_PARSE, "verifier key: key ID does not match name and key");
    *ret = v;
    return MRD_OK;
}

enum mrd_code ckpt_sign(const struct ckpt *c, const struct ckpt_signer *signer, struct mrd_buf *out,
                        struct mrd_err *err)
{
    char root[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
    struct mrd_buf text;
    enum mrd_code rc;

    rc = check_name(c->origin, strlen(c->origin), "origin", err);
    if (rc != MRD_OK)
        return rc;
    sodium_bin2base64(root, sizeof(root), c->root, MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
    mrd_buf_init(&text, CKPT_MAX_NOTE);
    rc = mrd_buf_printf(&text, err, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, root);
    if (rc == MRD_OK && c->time[0] != '\0')
        rc = mrd_buf_printf(&text, err, "time %s\n", c->time);
    if (rc == MRD_OK)
        rc = note_sign(text.data, text.len, signer, out, err);
    mrd_buf_release(&text);
    return rc;
}

/* Finds the end of the note text: just after the newline that precedes the
 * last empty line (signed-note: "separated ... by the last empty line"). */
static enum mrd_code split_note(const char *note, size_t len, size_t *ret_text_len,
                                struct mrd_err *err)
{
    if (len > CKPT_MAX_NOTE)
        return mrd_err_set(err, MRD_E_TOOBIG, "note: note larger than %d bytes", CKPT_MAX_NOTE);
    if (!mrd_utf8_valid(note, len))
        return mrd_err_set(err, MRD_E_PARSE, "note: offset %zu: not UTF-8",
                           mrd_utf8_check(note, len));
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)note[i] < 0x20 && note[i] != '\n')
            return mrd_err_set(err, MRD_E_PARSE,
                               "note: offset %zu: control character (c2sp signed-note)", i);
    if (len == 0 || note[len - 1] != '\n')
        return mrd_err_set(err, MRD_E_PARSE,
                           "note: note does not end in a newline (c2sp signed-note)");
    for (size_t i = len - 1; i > 0; i--) {
        if (note[i] == '\n' && note[i - 1] == '\n') {
            *ret_text_len = i;
            return MRD_OK;
        }
    }
    return mrd_err_set(err, MRD_E_PARSE,
                       "note: no blank line before the signatures (c2sp signed-note)");
}

/* Parses the note text (text_len bytes, ending in '\n'). */
static enum mrd_code parse_text(const char *t, size_t text_len, struct ckpt *ret,
                                struct mrd_err *err)
{
    struct ckpt c;
    const char *line = t, *end = t + text_len, *nl;
    size_t n, rlen = 0;
    const char *b64end = NULL;
    int lineno = 0;
    enum mrd_code rc;

    memset(&c, 0, sizeof(c));
    while (line < end) {
        nl = memchr(line, '\n', (size_t)(end - line));
        n = (size_t)(nl - line);
        lineno++;
        if (n == 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "checkpoint: line %d is empty (c2sp tlog-checkpoint)", lineno);
        if (lineno == 1) {
            rc = check_name(line, n, "origin (line 1)", err);
            if (rc != MRD_OK)
                return rc;
            memcpy(c.origin, line, n);
        } else if (lineno == 2) {
            if ((n > 1 && line[0] == '0') ||
                mrd_str_to_u64(line, n, UINT64_MAX, &c.size, NULL) != MRD_OK)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "checkpoint: line 2: tree size is not a decimal number without "
                                   "leading zeros (c2sp tlog-checkpoint)");
        } else if (lineno == 3) {
            if (sodium_base642bin(c.root, sizeof(c.root), line, n, NULL, &rlen, &b64end,
                                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
                b64end != nl || rlen != MERKLE_HASH_LEN || !b64_canonical(line, n, c.root, rlen))
                return mrd_err_set(err, MRD_E_PARSE,
                                   "checkpoint: line 3: root hash is not canonical base64 of 32 "
                                   "bytes (c2sp tlog-checkpoint)");
        } else if (lineno == 4 && n == 5 + CKPT_TIME_LEN && memcmp(line, "time ", 5) == 0) {
            memcpy(c.time, line + 5, CKPT_TIME_LEN);
        }
        /* Other extension lines are opaque (c2sp tlog-checkpoint). */
        line = nl + 1;
    }
    if (lineno < 3)
        return mrd_err_set(err, MRD_E_PARSE,
                           "checkpoint: text has %d lines, needs origin, size and root "
                           "(c2sp tlog-checkpoint)",
                           lineno);
    *ret = c;
    return MRD_OK;
}

enum mrd_code ckpt_parse(const char *note, size_t len, struct ckpt *ret, struct mrd_err *err)
{
    size_t text_len = 0;
    enum mrd_code rc = split_note(note, len, &text_len, err);

    if (rc != MRD_OK) {
        mrd_err_prefix(err, "checkpoint");
        return rc;
    }
    return parse_text(note, text_len, ret, err);
}

enum mrd_code note_verify(const char *note, size_t len, const struct ckpt_verifier *v,
                          size_t *ret_text_len, struct mrd_err *err)
{
    size_t text_len = 0, name_len = strlen(v->name);
    const char *line, *end = note + len, *nl;
    /* Room for post-quantum signatures too, so that a co-signer's line
     * under our name still decodes (and is then ignored by its key ID). */
    uint8_t id[4], blob[8192];
    int nsig = 0, found = 0;
    enum mrd_code rc;

    rc = split_note(note, len, &text_len, err);
    if (rc != MRD_OK)
        return rc;
    ckpt_key_id(v->name, v->pk, id);
    for (line = note + text_len + 1; line < end; line = nl + 1) {
        const char *sp, *b64end = NULL;
        size_t blen = 0;

        nl = memchr(line, '\n', (size_t)(end - line));
        if (++nsig > CKPT_MAX_SIGNATURES)
            return mrd_err_set(err, MRD_E_TOOBIG, "note: more than %d signature lines",
                               CKPT_MAX_SIGNATURES);
        sp = (size_t)(nl - line) > 4 ? memchr(line + 4, ' ', (size_t)(nl - line - 4)) : NULL;
        if ((size_t)(nl - line) < 4 || memcmp(line, EM_DASH " ", 4) != 0 || sp == NULL ||
            sp == line + 4)
            return mrd_err_set(err, MRD_E_PARSE,
                               "note: offset %zu: a signature line is an em dash, a space, "
                               "a key name, a space and base64 (c2sp signed-note)",
                               (size_t)(line - note));
        if ((size_t)(sp - line - 4) != name_len || memcmp(line + 4, v->name, name_len) != 0)
            continue; /* someone else's signature: ignored, as the spec says */
        if (sodium_base642bin(blob, sizeof(blob), sp + 1, (size_t)(nl - sp - 1), NULL, &blen,
                              &b64end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            b64end != nl || blen < 4)
            return mrd_err_set(err, MRD_E_PARSE,
                               "note: offset %zu: signature is not base64 of a key ID and "
                               "a signature (c2sp signed-note)",
                               (size_t)(sp + 1 - note));
        if (!b64_canonical(sp + 1, (size_t)(nl - sp - 1), blob, blen))
            return mrd_err_set(err, MRD_E_PARSE,
                               "note: offset %zu: signature is not canonical base64 (unused "
                               "bits set; RFC 4648 §3.5)",
                               (size_t)(sp + 1 - note));
        if (memcmp(blob, id, 4) != 0)
            continue; /* same name, other key: also ignored */
        if (blen != 4 + crypto_sign_BYTES ||
            crypto_sign_verify_detached(blob + 4, (const uint8_t *)note, text_len, v->pk) != 0)
            return mrd_err_set(err, MRD_E_CRYPTO,
                               "note: the signature by %s does not verify (the note was "
                               "altered or signed by another key)",
                               v->name);
        found = 1;
    }
    if (!found)
        return mrd_err_set(err, MRD_E_CRYPTO, "note: no signature by key %s (id %02x%02x%02x%02x)",
                           v->name, id[0], id[1], id[2], id[3]);
    *ret_text_len = text_len;
    return MRD_OK;
}

enum mrd_code ckpt_verify(const char *note, size_t len, const struct ckpt_verifier *v,
                          struct ckpt *ret, struct mrd_err *err)
{
    size_t text_len = 0;
    enum mrd_code rc = note_verify(note, len, v, &text_len, err);

    if (rc != MRD_OK) {
        mrd_err_prefix(err, "checkpoint");
        return rc;
    }
    return parse_text(note, text_len, ret, err);
}

enum mrd_code note_sign(const char *text, size_t len, const struct ckpt_signer *signer,
                        struct mrd_buf *out, struct mrd_err *err)
{
    uint8_t blob[4 + crypto_sign_BYTES];
    char sig[sodium_base64_ENCODED_LEN(sizeof(blob), sodium_base64_VARIANT_ORIGINAL)];
    enum mrd_code rc;

    if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len) != NULL)
        return mrd_err_set(err, MRD_E_INVAL, "note: text must end in a newline (c2sp signed-note)");
    ckpt_key_id(signer->name, signer->sk + 32, blob);
    crypto_sign_detached(blob + 4, NULL, (const uint8_t *)text, len, signer->sk);
    sodium_bin2base64(sig, sizeof(sig), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    rc = mrd_buf_append(out, text, len, err);
    if (rc == MRD_OK)
        rc = mrd_buf_printf(out, err, "\n" EM_DASH " %s %s\n", signer->name, sig);
    return rc;
}
