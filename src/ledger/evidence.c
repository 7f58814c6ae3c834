/*
 * evidence.c: writing and verifying evidence packages (see evidence.h).
 *
 * The container is plain ustar so that a court's expert can open it with
 * any tar; the reader here accepts only what the writer produces (regular
 * files, short names, checksummed headers, no duplicates) and treats any
 * other byte as tampering. The manifest is not trusted on its own: every
 * fact that matters is re-derived (SHA-256 of the bytes, the leaf hash from
 * kind, time and that SHA-256) and must prove into the signed checkpoint;
 * the manifest's own signature only stops entries being dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/tar.h"
#include "ledger/evidence.h"

#define TAR_BLOCK MRD_TAR_BLOCK
#define TAR_NAME_MAX MRD_TAR_NAME_MAX
#define MAX_MEMBERS (EVIDENCE_MAX_OBJECTS + 4)
#define SIG_TITLE "meridian evidence manifest"

/* ---- ustar (core/tar.h) ---- */

static enum mrd_code tar_add(struct mrd_buf *out, const char *name, const void *data, size_t len,
                             struct mrd_err *err)
{
    uint8_t h[MRD_TAR_BLOCK];
    static const uint8_t zeros[MRD_TAR_BLOCK];
    enum mrd_code rc = mrd_tar_header(h, name, len, 0644, err);

    if (rc == MRD_OK)
        rc = mrd_buf_append(out, h, sizeof(h), err);
    if (rc == MRD_OK && len > 0)
        rc = mrd_buf_append(out, data, len, err);
    if (rc == MRD_OK && mrd_tar_padding(len) > 0)
        rc = mrd_buf_append(out, zeros, mrd_tar_padding(len), err);
    return rc;
}

struct member {
    char name[TAR_NAME_MAX + 1];
    const uint8_t *data;
    size_t len;
    int used; /* referenced by the manifest */
};

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

/* The padding bytes present: a truncated package may end inside them (and
 * is then reported as truncated). */
static size_t pad_len(size_t want, uint64_t have)
{
    return have < want ? (size_t)have : want;
}

/* Splits a ustar file into members; strict (see the file comment). */
static enum mrd_code tar_read(const uint8_t *p, size_t len, struct member *m, size_t *ret_n,
                              struct mrd_err *err)
{
    size_t off = 0, n = 0;
    enum mrd_code rc;

    while (off + TAR_BLOCK <= len) {
        const uint8_t *h = p + off;
        uint64_t size = 0;
        char name[MRD_TAR_NAME_MAX + 1];
        size_t namelen;

        if (mrd_tar_zero(h, TAR_BLOCK)) {
            if (!mrd_tar_zero(p + off, len - off))
                return mrd_err_set(err, MRD_E_PARSE,
                                   "package: offset %zu: data after the end-of-archive blocks",
                                   off);
            /* Sorted by name: duplicates are neighbours, lookups bsearch. */
            qsort(m, n, sizeof(*m), member_cmp);
            for (size_t k = 1; k < n; k++)
                if (strcmp(m[k - 1].name, m[k].name) == 0)
                    return mrd_err_set(err, MRD_E_PARSE, "package: member %s appears twice",
                                       m[k].name);
            *ret_n = n;
            return MRD_OK;
        }
        rc = mrd_tar_header_parse(h, name, &size, NULL, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "package: offset %zu", off);
            return rc;
        }
        namelen = strlen(name);
        if (size > EVIDENCE_MAX_MEMBER || size > len - off - TAR_BLOCK)
            return mrd_err_set(err, MRD_E_PARSE,
                               "package: offset %zu: member size is malformed or past the end",
                               off);
        if (n >= MAX_MEMBERS || n >= len / TAR_BLOCK)
            return mrd_err_set(err, MRD_E_TOOBIG, "package: more than %d members", MAX_MEMBERS);
        memcpy(m[n].name, name, namelen + 1);
        m[n].data = h + TAR_BLOCK;
        m[n].len = (size_t)size;
        m[n].used = 0;
        n++;
        /* The padding is zeros too: no byte of a package goes unchecked. */
        if (size % TAR_BLOCK != 0 &&
            !mrd_tar_zero(h + TAR_BLOCK + size, pad_len(TAR_BLOCK - (size_t)(size % TAR_BLOCK),
                                                        len - off - TAR_BLOCK - size)))
            return mrd_err_set(err, MRD_E_PARSE, "package: member %s: padding is not zero",
                               m[n - 1].name);
        off += TAR_BLOCK + ((size_t)size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    }
    return mrd_err_set(err, MRD_E_PARSE, "package: truncated (no end-of-archive blocks)");
}

static struct member *find_member(struct member *m, size_t n, const char *name)
{
    struct member key;

    if (mrd_strlcpy(key.name, name, sizeof(key.name)) >= sizeof(key.name))
        return NULL;
    return bsearch(&key, m, n, sizeof(*m), member_cmp);
}

/* ---- writing ---- */

static void to_hex(const uint8_t *h, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * n] = '\0';
}

static json_t *b64_json(const uint8_t *h)
{
    char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];

    sodium_bin2base64(b64, sizeof(b64), h, MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
    return json_string(b64);
}

static json_t *object_json(const struct evidence_object *o, const char *file)
{
    json_t *j = json_object(), *leaf = json_object(), *proof = json_array();
    uint8_t lh[MERKLE_HASH_LEN];
    char hex[2 * MERKLE_HASH_LEN + 1];
    int bad = j == NULL || leaf == NULL || proof == NULL;

    to_hex(o->entry.hash, MERKLE_HASH_LEN, hex);
    ledger_entry_leaf_hash(&o->entry, lh);
    bad = bad || json_object_set_new(j, "file", json_string(file)) != 0;
    if (o->id != NULL)
        bad = bad || json_object_set_new(j, "id", json_string(o->id)) != 0;
    if (o->version != NULL)
        bad = bad || json_object_set_new(j, "version", json_string(o->version)) != 0;
    bad = bad || json_object_set_new(j, "sha256", json_string(hex)) != 0;
    bad = bad || json_object_set_new(leaf, "index", json_integer((json_int_t)o->leaf_index)) != 0;
    bad =
        bad || json_object_set_new(leaf, "kind", json_string(ledger_kind_name(o->entry.kind))) != 0;
    bad = bad ||
          json_object_set_new(leaf, "time_ms", json_integer((json_int_t)o->entry.time_ms)) != 0;
    bad = bad || json_object_set_new(leaf, "leaf_hash", b64_json(lh)) != 0;
    for (size_t i = 0; i < o->proof_len && !bad; i++)
        bad = json_array_append_new(proof, b64_json(o->proof + i * MERKLE_HASH_LEN)) != 0;
    bad = bad || json_object_set_new(leaf, "proof", proof) != 0;
    proof = NULL;
    bad = bad || json_object_set_new(j, "leaf", leaf) != 0;
    leaf = NULL;
    if (bad) {
        json_decref(proof);
        json_decref(leaf);
        json_decref(j);
        return NULL;
    }
    return j;
}

enum mrd_code evidence_write(const char *case_id, const char *created,
                             const struct evidence_object *objs, size_t n, const char *note,
                             size_t note_len, const struct ckpt_signer *signer, struct mrd_buf *out,
                             struct mrd_err *err)
{
    json_t *man = NULL, *list = NULL, *cp = NULL;
    char *text = NULL, file[32];
    struct mrd_buf sig, vkey, stmt;
    struct ckpt c;
    uint8_t digest[MERKLE_HASH_LEN];
    char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
    enum mrd_code rc;

    mrd_buf_init(&sig, CKPT_MAX_NOTE);
    mrd_buf_init(&vkey, CKPT_MAX_NOTE);
    mrd_buf_init(&stmt, CKPT_MAX_NOTE);
    if (n == 0 || n > EVIDENCE_MAX_OBJECTS) {
        rc = mrd_err_set(err, MRD_E_INVAL, "evidence: a package holds 1..%d objects",
                         EVIDENCE_MAX_OBJECTS);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (objs[i].entry.kind == 0 || objs[i].entry.kind > LEDGER_KIND_MAX ||
            objs[i].proof_len > MERKLE_MAX_PROOF) {
            rc = mrd_err_set(err, MRD_E_INVAL, "evidence: object %zu: bad leaf", i);
            goto out;
        }
    }
    rc = ckpt_parse(note, note_len, &c, err);
    if (rc != MRD_OK)
        goto out;
    man = json_object();
    list = json_array();
    cp = json_object();
    if (man == NULL || list == NULL || cp == NULL ||
        json_object_set_new(man, "format", json_string(EVIDENCE_FORMAT)) != 0 ||
        json_object_set_new(man, "case", json_string(case_id)) != 0 ||
        json_object_set_new(man, "created", json_string(created)) != 0 ||
        json_object_set_new(cp, "origin", json_string(c.origin)) != 0 ||
        json_object_set_new(cp, "tree_size", json_integer((json_int_t)c.size)) != 0 ||
        json_object_set_new(cp, "root", b64_json(c.root)) != 0) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "evidence: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o;

        snprintf(file, sizeof(file), "objects/%06zu", i + 1);
        o = object_json(&objs[i], file);
        if (o == NULL || json_array_append_new(list, o) != 0) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "evidence: out of memory");
            goto out;
        }
    }
    (void)json_object_set_new(man, "checkpoint", cp);
    cp = NULL;
    (void)json_object_set_new(man, "objects", list);
    list = NULL;
    text = json_dumps(man, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "evidence: out of memory");
        goto out;
    }
    /* The manifest signature: a signed note over its SHA-256. */
    crypto_hash_sha256(digest, (const uint8_t *)text, strlen(text));
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    rc = mrd_buf_printf(&stmt, err, "%s\n" SIG_TITLE "\n%s\n", signer->name, b64);
    if (rc == MRD_OK)
        rc = note_sign(stmt.data, stmt.len, signer, &sig, err);
    if (rc == MRD_OK)
        rc = ckpt_verifier_format(signer, &vkey, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(&vkey, '\n', err);
    if (rc == MRD_OK)
        rc = tar_add(out, "manifest.json", text, strlen(text), err);
    if (rc == MRD_OK)
        rc = tar_add(out, "manifest.sig", sig.data, sig.len, err);
    if (rc == MRD_OK)
        rc = tar_add(out, "checkpoint", note, note_len, err);
    if (rc == MRD_OK)
        rc = tar_add(out, "pubkey", vkey.data, vkey.len, err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        snprintf(file, sizeof(file), "objects/%06zu", i + 1);
        rc = tar_add(out, file, objs[i].data, objs[i].len, err);
    }
    if (rc == MRD_OK) {
        static const uint8_t end[2 * TAR_BLOCK];
        rc = mrd_buf_append(out, end, sizeof(end), err);
    }
out:
    free(text); /* jansson's allocator */
    json_decref(man);
    json_decref(list);
    json_decref(cp);
    mrd_buf_release(&sig);
    mrd_buf_release(&vkey);
    mrd_buf_release(&stmt);
    return rc;
}

enum mrd_code evidence_object_from_ledger(struct ledger *log, const uint8_t *data, size_t len,
                                          uint64_t size, struct evidence_object *ret,
                                          struct mrd_err *err)
{
    uint8_t h[MERKLE_HASH_LEN];
    uint64_t index = 0, start = 0;
    enum mrd_code rc;

    crypto_hash_sha256(h, data, len);
    for (;;) {
        rc = ledger_find(log, h, start, &index, err);
        if (rc != MRD_OK || index >= size)
            return mrd_err_set(err, MRD_E_NOTFOUND,
                               "evidence: no object leaf below tree size %llu records these bytes",
                               (unsigned long long)size);
        rc = ledger_entry_get(log, index, &ret->entry, err);
        if (rc != MRD_OK)
            return rc;
        if (ret->entry.kind == LEDGER_KIND_OBJECT)
            break;
        start = index + 1;
    }
    ret->data = data;
    ret->len = len;
    ret->leaf_index = index;
    return ledger_prove_inclusion(log, index, size, ret->proof, &ret->proof_len, err);
}

enum mrd_code evidence_object_at(struct ledger *log, uint64_t index, const uint8_t *data,
                                 size_t len, uint64_t size, struct evidence_object *ret,
                                 struct mrd_err *err)
{
    uint8_t h[MERKLE_HASH_LEN];
    enum mrd_code rc;

    if (index >= size)
        return mrd_err_set(err, MRD_E_INVALID, "evidence: leaf %llu is not below tree size %llu",
                           (unsigned long long)index, (unsigned long long)size);
    rc = ledger_entry_get(log, index, &ret->entry, err);
    if (rc != MRD_OK)
        return rc;
    crypto_hash_sha256(h, data, len);
    if (ret->entry.kind != LEDGER_KIND_OBJECT || memcmp(h, ret->entry.hash, sizeof(h)) != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "evidence: leaf %llu does not record these bytes (the store and the "
                           "ledger disagree: run `meridian ledger verify`)",
                           (unsigned long long)index);
    ret->data = data;
    ret->len = len;
    ret->leaf_index = index;
    return ledger_prove_inclusion(log, index, size, ret->proof, &ret->proof_len, err);
}

/* ---- verifying ---- */

static enum mrd_code b64_field(const json_t *j, const char *what, uint8_t out[MERKLE_HASH_LEN],
                               struct mrd_err *err)
{
    const char *s = json_string_value(j), *end = NULL;
    size_t n = 0;

    if (s == NULL ||
        sodium_base642bin(out, MERKLE_HASH_LEN, s, strlen(s), NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *end != '\0' || n != MERKLE_HASH_LEN)
        return mrd_err_set(err, MRD_E_INVALID, "manifest: %s is not base64 of 32 bytes", what);
    return MRD_OK;
}

static int u64_field(const json_t *j, uint64_t *ret)
{
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return 0;
    *ret = (uint64_t)json_integer_value(j);
    return 1;
}

/* Verifies manifest entry i (object o) against the members and the
 * checkpoint c. */
static enum mrd_code verify_object(const json_t *o, size_t i, struct member *m, size_t nm,
                                   const struct ckpt *c, struct mrd_err *err)
{
    const char *file = json_string_value(json_object_get(o, "file"));
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *hex = json_string_value(json_object_get(o, "sha256"));
    const json_t *leaf = json_object_get(o, "leaf"), *proof, *item;
    const char *kind;
    struct member *mem;
    struct ledger_entry e;
    uint8_t got[MERKLE_HASH_LEN], lh[MERKLE_HASH_LEN], stated[MERKLE_HASH_LEN];
    uint8_t pbuf[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    char got_hex[2 * MERKLE_HASH_LEN + 1], what[64];
    uint64_t index = 0, time_ms = 0;
    size_t k, plen;
    enum mrd_code rc;

    if (file == NULL || hex == NULL || !json_is_object(leaf))
        return mrd_err_set(err, MRD_E_INVALID, "manifest: objects[%zu] lacks file, sha256 or leaf",
                           i);
    if (id == NULL)
        id = "(no id)";
    mem = find_member(m, nm, file);
    if (mem == NULL)
        return mrd_err_set(err, MRD_E_INVALID,
                           "%s (%s): listed in the manifest but missing from the package", file,
                           id);
    if (mem->used)
        return mrd_err_set(err, MRD_E_INVALID, "%s: listed twice in the manifest", file);
    mem->used = 1;
    crypto_hash_sha256(got, mem->data, mem->len);
    to_hex(got, MERKLE_HASH_LEN, got_hex);
    if (strcmp(got_hex, hex) != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "%s (%s): bytes altered: their SHA-256 is %s, the manifest says %.64s",
                           file, id, got_hex, hex);
    kind = json_string_value(json_object_get(leaf, "kind"));
    proof = json_object_get(leaf, "proof");
    if (!u64_field(json_object_get(leaf, "index"), &index) ||
        !u64_field(json_object_get(leaf, "time_ms"), &time_ms) || kind == NULL ||
        !json_is_array(proof))
        return mrd_err_set(err, MRD_E_INVALID,
                           "manifest: %s: leaf needs index, kind, time_ms and proof", file);
    memset(&e, 0, sizeof(e));
    for (uint8_t kk = 1; kk <= LEDGER_KIND_MAX; kk++)
        if (strcmp(kind, ledger_kind_name(kk)) == 0)
            e.kind = kk;
    if (e.kind != LEDGER_KIND_OBJECT)
        return mrd_err_set(err, MRD_E_INVALID, "manifest: %s: leaf kind '%.32s' is not 'object'",
                           file, kind);
    e.time_ms = time_ms;
    memcpy(e.hash, got, MERKLE_HASH_LEN);
    ledger_entry_leaf_hash(&e, lh);
    if (json_object_get(leaf, "leaf_hash") != NULL) {
        snprintf(what, sizeof(what), "%s leaf_hash", file);
        rc = b64_field(json_object_get(leaf, "leaf_hash"), what, stated, err);
        if (rc != MRD_OK)
            return rc;
        if (memcmp(stated, lh, MERKLE_HASH_LEN) != 0)
            return mrd_err_set(err, MRD_E_INVALID,
                               "%s (%s): leaf %llu: the stated leaf hash is not the hash of "
                               "(kind, time, SHA-256 of the bytes)",
                               file, id, (unsigned long long)index);
    }
    plen = json_array_size(proof);
    if (plen > MERKLE_MAX_PROOF)
        return mrd_err_set(err, MRD_E_INVALID, "%s: proof too long", file);
    json_array_foreach(proof, k, item)
    {
        snprintf(what, sizeof(what), "%s proof[%zu]", file, k);
        rc = b64_field(item, what, pbuf + k * MERKLE_HASH_LEN, err);
        if (rc != MRD_OK)
            return rc;
    }
    rc = merkle_verify_inclusion(index, c->size, lh, c->root, MERKLE_HASH_LEN, pbuf, plen, NULL);
    if (rc != MRD_OK)
        return mrd_err_set(err, MRD_E_INVALID,
                           "%s (%s): leaf %llu is not proved into the checkpoint (tree size "
                           "%llu): its inclusion proof does not verify (leaf moved, dropped or "
                           "altered)",
                           file, id, (unsigned long long)index, (unsigned long long)c->size);
    return MRD_OK;
}

enum mrd_code evidence_verify(const uint8_t *pkg, size_t len, const struct ckpt_verifier *v,
                              struct evidence_report *report, struct mrd_err *err)
{
    struct member *m = NULL;
    struct member *man_m, *sig_m, *ck_m;
    size_t nm = 0, text_len = 0, i;
    struct ckpt c;
    json_t *man = NULL, *objs, *o, *cp;
    struct mrd_json_limits lim = {EVIDENCE_MAX_MANIFEST, 16};
    uint8_t digest[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
    char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
    char want[CKPT_MAX_ORIGIN + 128];
    uint64_t size = 0;
    const char *s;
    enum mrd_code rc;

    memset(report, 0, sizeof(*report));
    if (len > EVIDENCE_MAX_PACKAGE)
        return mrd_err_set(err, MRD_E_TOOBIG, "package: larger than %zu bytes",
                           EVIDENCE_MAX_PACKAGE);
    /* Each member takes at least one 512-byte header. */
    m = mrd_calloc(len / TAR_BLOCK < MAX_MEMBERS ? len / TAR_BLOCK + 1 : MAX_MEMBERS, sizeof(*m));
    if (m == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "evidence: out of memory");
    rc = tar_read(pkg, len, m, &nm, err);
    if (rc != MRD_OK)
        goto out;
    man_m = find_member(m, nm, "manifest.json");
    sig_m = find_member(m, nm, "manifest.sig");
    ck_m = find_member(m, nm, "checkpoint");
    if (man_m == NULL || sig_m == NULL || ck_m == NULL) {
        rc = mrd_err_set(err, MRD_E_INVALID, "package: %s is missing",
                         man_m == NULL ? "manifest.json"
                                       : (sig_m == NULL ? "manifest.sig" : "checkpoint"));
        goto out;
    }
    man_m->used = sig_m->used = ck_m->used = 1;
    /* 1. The checkpoint, signed by the node key given to us. */
    rc = ckpt_verify((const char *)ck_m->data, ck_m->len, v, &c, err);
    if (rc != MRD_OK) {
        rc = MRD_E_INVALID;
        goto out;
    }
    /* 2. The manifest's signature (nothing dropped or added). */
    rc = note_verify((const char *)sig_m->data, sig_m->len, v, &text_len, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "manifest.sig");
        rc = MRD_E_INVALID;
        goto out;
    }
    crypto_hash_sha256(digest, man_m->data, man_m->len);
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    snprintf(want, sizeof(want), "%s\n" SIG_TITLE "\n%s\n", v->name, b64);
    if (text_len != strlen(want) || memcmp(sig_m->data, want, text_len) != 0) {
        rc = mrd_err_set(err, MRD_E_INVALID,
                         "manifest.json: altered: its SHA-256 is not the one the node signed in "
                         "manifest.sig (an entry added, dropped or changed)");
        goto out;
    }
    if (find_member(m, nm, "pubkey") != NULL) {
        struct member *pk = find_member(m, nm, "pubkey");
        struct ckpt_verifier named;

        /* Informational, but it must not contradict the key we trust. */
        pk->used = 1;
        if (ckpt_verifier_parse((const char *)pk->data, pk->len, &named, NULL) != MRD_OK ||
            strcmp(named.name, v->name) != 0 || memcmp(named.pk, v->pk, sizeof(v->pk)) != 0) {
            rc = mrd_err_set(err, MRD_E_INVALID,
                             "pubkey: the package names another key than the one given (%s)",
                             v->name);
            goto out;
        }
    }
    /* 3. The manifest agrees with the checkpoint. */
    rc = mrd_json_parse((const char *)man_m->data, man_m->len, &lim, &man, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "manifest.json");
        rc = MRD_E_INVALID;
        goto out;
    }
    s = json_string_value(json_object_get(man, "format"));
    cp = json_object_get(man, "checkpoint");
    objs = json_object_get(man, "objects");
    if (s == NULL || strcmp(s, EVIDENCE_FORMAT) != 0 || !json_is_object(cp) ||
        !json_is_array(objs)) {
        rc = mrd_err_set(err, MRD_E_INVALID,
                         "manifest.json: not a %s manifest (format, checkpoint, objects)",
                         EVIDENCE_FORMAT);
        goto out;
    }
    if (!u64_field(json_object_get(cp, "tree_size"), &size) || size != c.size ||
        b64_field(json_object_get(cp, "root"), "checkpoint.root", root, NULL) != MRD_OK ||
        memcmp(root, c.root, MERKLE_HASH_LEN) != 0) {
        rc = mrd_err_set(err, MRD_E_INVALID,
                         "manifest.json: its checkpoint (tree size, root) is not the signed one");
        goto out;
    }
    /* 4. Every object. */
    json_array_foreach(objs, i, o)
    {
        rc = verify_object(o, i, m, nm, &c, err);
        if (rc != MRD_OK)
            goto out;
    }
    for (i = 0; i < nm; i++) {
        if (!m[i].used) {
            rc = mrd_err_set(err, MRD_E_INVALID, "%s: in the package but not in the manifest",
                             m[i].name);
            goto out;
        }
    }
    s = json_string_value(json_object_get(man, "case"));
    mrd_strlcpy(report->case_id, s != NULL ? s : "", sizeof(report->case_id));
    mrd_strlcpy(report->origin, c.origin, sizeof(report->origin));
    report->tree_size = c.size;
    report->objects = json_array_size(objs);
out:
    json_decref(man);
    mrd_free(m);
    return rc;
}
