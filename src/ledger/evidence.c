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
#include "ledger/evidence.h"

#define TAR_BLOCK 512
#define TAR_NAME_MAX 99
#define MAX_MEMBERS (EVIDENCE_MAX_OBJECTS + 4)
#define SIG_TITLE "meridian evidence manifest"

static const char *const kind_name[] = {"",           "object",       "hold-create",
                                        "hold-renew", "hold-release", "hold-export"};

/* ---- ustar, in one canonical form ---- */

/* The members, in this order; then objects/000001, objects/000002, ... */
static const char *const fixed_member[] = {"manifest.json", "manifest.sig", "checkpoint", "pubkey"};
#define N_FIXED 4
#define OBJECT_NAME "objects/%06zu"

/* The name of the k-th member (from 0) of a canonical package. */
static void member_name(size_t k, char out[TAR_NAME_MAX + 1])
{
    if (k < N_FIXED)
        mrd_strlcpy(out, fixed_member[k], TAR_NAME_MAX + 1);
    else
        snprintf(out, TAR_NAME_MAX + 1, OBJECT_NAME, k - N_FIXED + 1);
}

static void octal(char *field, size_t width, uint64_t v)
{
    /* width - 1 digits and a NUL, as POSIX ustar numeric fields are. */
    field[width - 1] = '\0';
    for (size_t i = width - 1; i > 0; i--) {
        field[i - 1] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

static unsigned header_sum(const uint8_t *h)
{
    unsigned sum = 0;

    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? (unsigned)' ' : h[i];
    return sum;
}

/* The one header the writer produces for a member: only the name and the
 * size vary. Every other field is fixed (mode 0644, uid and gid 0, mtime 0,
 * owner "meridian", no link, no device numbers, no prefix), so a package's
 * bytes depend on its content alone and the reader can demand exactly
 * these bytes. */
static void tar_header(uint8_t h[TAR_BLOCK], const char *name, uint64_t size)
{
    memset(h, 0, TAR_BLOCK);
    memcpy(h, name, strlen(name));
    octal((char *)h + 100, 8, 0644);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, size);
    octal((char *)h + 136, 12, 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "meridian", 8);
    memcpy(h + 297, "meridian", 8);
    octal((char *)h + 148, 7, header_sum(h));
    h[155] = ' ';
}

static enum mrd_code tar_add(struct mrd_buf *out, const char *name, const void *data, size_t len,
                             struct mrd_err *err)
{
    uint8_t h[TAR_BLOCK];
    static const uint8_t zeros[TAR_BLOCK];
    enum mrd_code rc;

    if (strlen(name) > TAR_NAME_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "evidence: member name too long");
    tar_header(h, name, len);
    rc = mrd_buf_append(out, h, sizeof(h), err);
    if (rc == MRD_OK && len > 0)
        rc = mrd_buf_append(out, data, len, err);
    if (rc == MRD_OK && len % TAR_BLOCK != 0)
        rc = mrd_buf_append(out, zeros, TAR_BLOCK - len % TAR_BLOCK, err);
    return rc;
}

struct member {
    char name[TAR_NAME_MAX + 1];
    const uint8_t *data;
    size_t len;
};

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static enum mrd_code parse_octal(const uint8_t *f, size_t width, uint64_t *ret)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < width && f[i] == ' ')
        i++;
    if (i == width || f[i] < '0' || f[i] > '7')
        return MRD_E_PARSE;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return MRD_E_PARSE;
        v = v << 3 | (uint64_t)(f[i] - '0');
    }
    for (; i < width; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return MRD_E_PARSE;
    *ret = v;
    return MRD_OK;
}

/* The ustar header fields (POSIX.1 pax, "ustar Interchange Format"), to
 * name what differs from the canonical header. */
static const struct {
    unsigned short off, len;
    const char *name;
} tar_field[] = {
    {0, 100, "name"},       {100, 8, "mode"},     {108, 8, "uid"},      {116, 8, "gid"},
    {124, 12, "size"},      {136, 12, "mtime"},   {148, 8, "checksum"}, {156, 1, "typeflag"},
    {157, 100, "linkname"}, {257, 6, "magic"},    {263, 2, "version"},  {265, 32, "uname"},
    {297, 32, "gname"},     {329, 8, "devmajor"}, {337, 8, "devminor"}, {345, 155, "prefix"},
    {500, 12, "padding"},
};

/* Names every field of header h (at offset off, member name) that differs
 * from the canonical header want; the checksum only when nothing else
 * differs (it changes with any other field). */
static enum mrd_code header_differs(const uint8_t *h, const uint8_t *want, size_t off,
                                    const char *name, struct mrd_err *err)
{
    char fields[160];
    size_t n = 0;

    fields[0] = '\0';
    for (size_t f = 0; f < sizeof(tar_field) / sizeof(tar_field[0]); f++) {
        if (memcmp(h + tar_field[f].off, want + tar_field[f].off, tar_field[f].len) == 0 ||
            (strcmp(tar_field[f].name, "checksum") == 0))
            continue;
        n += (size_t)snprintf(fields + n, sizeof(fields) - n, "%s%s", n > 0 ? ", " : "",
                              tar_field[f].name);
        if (n >= sizeof(fields))
            break;
    }
    if (fields[0] == '\0')
        mrd_strlcpy(fields, "checksum", sizeof(fields));
    return mrd_err_set(err, MRD_E_PARSE,
                       "package: offset %zu: %s: tar header field %s differs from the canonical "
                       "header (mode 0644, uid/gid 0, mtime 0, owner meridian/meridian, no link, "
                       "no device numbers, no prefix)",
                       off, name, fields);
}

/* Reads a package that must be exactly what evidence_write produces: the
 * members in their fixed order, each header byte for byte the canonical
 * one, zero padding, exactly two zero end-of-archive blocks and nothing
 * after them. Members are returned in package order. */
static enum mrd_code tar_read(const uint8_t *p, size_t len, struct member *m, size_t max,
                              size_t *ret_n, struct mrd_err *err)
{
    size_t off = 0, n = 0, end, nz;
    uint8_t want[TAR_BLOCK];
    char name[TAR_NAME_MAX + 1];

    while (off + TAR_BLOCK <= len && !all_zero(p + off, TAR_BLOCK)) {
        const uint8_t *h = p + off;
        uint64_t size = 0;
        size_t namelen = strnlen((const char *)h, 100), pad;

        if (n >= max)
            return mrd_err_set(err, MRD_E_TOOBIG, "package: more than %d members", MAX_MEMBERS);
        member_name(n, name);
        if (namelen != strlen(name) || memcmp(h, name, namelen) != 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "package: offset %zu: member %zu is named '%s', the canonical "
                               "package has %s there",
                               off, n + 1, MRD_ESCN((const char *)h, namelen), name);
        if (parse_octal(h + 124, 12, &size) != MRD_OK)
            return mrd_err_set(err, MRD_E_PARSE,
                               "package: offset %zu: %s: tar header field size is not an octal "
                               "number",
                               off, name);
        if (size > EVIDENCE_MAX_MEMBER || size > len - off - TAR_BLOCK)
            return mrd_err_set(err, MRD_E_PARSE,
                               "package: offset %zu: %s: member size %llu is past the end of the "
                               "package or above %zu bytes",
                               off, name, (unsigned long long)size, EVIDENCE_MAX_MEMBER);
        tar_header(want, name, size);
        if (memcmp(h, want, TAR_BLOCK) != 0)
            return header_differs(h, want, off, name, err);
        mrd_strlcpy(m[n].name, name, sizeof(m[n].name));
        m[n].data = h + TAR_BLOCK;
        m[n].len = (size_t)size;
        n++;
        /* The padding is zeros too: no byte of a package goes unchecked. A
         * truncated package may end inside it (and fails below). */
        pad = size % TAR_BLOCK == 0 ? 0 : TAR_BLOCK - (size_t)(size % TAR_BLOCK);
        if (pad > len - off - TAR_BLOCK - size)
            pad = len - off - TAR_BLOCK - (size_t)size;
        if (!all_zero(h + TAR_BLOCK + size, pad))
            return mrd_err_set(err, MRD_E_PARSE, "package: member %s: padding is not zero", name);
        off += TAR_BLOCK + ((size_t)size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    }
    /* The end: exactly two zero blocks, then nothing. */
    end = off < len ? len - off : 0;
    for (nz = off; nz < len && p[nz] == 0; nz++)
        ;
    if (nz < len && nz < off + 2 * TAR_BLOCK)
        return mrd_err_set(err, MRD_E_PARSE,
                           "package: offset %zu: the end-of-archive blocks are not zero", nz);
    if (nz < len)
        return mrd_err_set(err, MRD_E_PARSE,
                           "package: offset %zu: %zu bytes after the two end-of-archive blocks "
                           "(a canonical package ends with them)",
                           off + 2 * TAR_BLOCK, len - off - 2 * TAR_BLOCK);
    if (end < TAR_BLOCK)
        return mrd_err_set(err, MRD_E_PARSE,
                           "package: truncated at offset %zu (no end-of-archive blocks)", len);
    if (end != 2 * TAR_BLOCK)
        return mrd_err_set(err, MRD_E_PARSE,
                           "package: ends with %zu zero bytes (%.1f blocks) after the last member; "
                           "a canonical package has exactly two 512-byte end-of-archive blocks",
                           end, (double)end / TAR_BLOCK);
    *ret_n = n;
    return MRD_OK;
}

/* The number of signature lines of a signed note (those after its last
 * blank line), so that a package carries no signature it does not need. */
static size_t note_signatures(const uint8_t *d, size_t len)
{
    size_t i, lines = 0;

    for (i = len; i > 1 && !(d[i - 1] == '\n' && d[i - 2] == '\n'); i--)
        ;
    for (; i < len; i++)
        lines += d[i] == '\n';
    return lines;
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
    bad = bad || json_object_set_new(leaf, "kind", json_string(kind_name[o->entry.kind])) != 0;
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
    char *text = NULL, file[TAR_NAME_MAX + 1];
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

        member_name(N_FIXED + i, file);
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
    /* The members in their fixed order (member_name). */
    if (rc == MRD_OK)
        rc = tar_add(out, fixed_member[0], text, strlen(text), err);
    if (rc == MRD_OK)
        rc = tar_add(out, fixed_member[1], sig.data, sig.len, err);
    if (rc == MRD_OK)
        rc = tar_add(out, fixed_member[2], note, note_len, err);
    if (rc == MRD_OK)
        rc = tar_add(out, fixed_member[3], vkey.data, vkey.len, err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        member_name(N_FIXED + i, file);
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
static enum mrd_code verify_object(const json_t *o, size_t i, const struct member *mem,
                                   const struct ckpt *c, struct mrd_err *err)
{
    const char *file = json_string_value(json_object_get(o, "file"));
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *hex = json_string_value(json_object_get(o, "sha256"));
    const json_t *leaf = json_object_get(o, "leaf"), *proof, *item;
    const char *kind;
    struct ledger_entry e;
    uint8_t got[MERKLE_HASH_LEN], lh[MERKLE_HASH_LEN], stated[MERKLE_HASH_LEN];
    uint8_t pbuf[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    char got_hex[2 * MERKLE_HASH_LEN + 1], what[64], want[TAR_NAME_MAX + 1];
    uint64_t index = 0, time_ms = 0;
    size_t k, plen;
    enum mrd_code rc;

    if (file == NULL || hex == NULL || !json_is_object(leaf))
        return mrd_err_set(err, MRD_E_INVALID, "manifest: objects[%zu] lacks file, sha256 or leaf",
                           i);
    if (id == NULL)
        id = "(no id)";
    member_name(N_FIXED + i, want);
    if (strcmp(file, want) != 0)
        return mrd_err_set(err, MRD_E_INVALID,
                           "manifest: objects[%zu] names file '%s', the canonical package has %s "
                           "there",
                           i, MRD_ESC(file), want);
    if (mem == NULL)
        return mrd_err_set(err, MRD_E_INVALID,
                           "%s (%s): listed in the manifest but missing from the package", file,
                           id);
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
        if (strcmp(kind, kind_name[kk]) == 0)
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
    const struct member *man_m, *sig_m, *ck_m, *pk_m;
    size_t nm = 0, text_len = 0, nobj, i;
    struct ckpt c;
    json_t *man = NULL, *objs, *o, *cp;
    struct mrd_json_limits lim = {EVIDENCE_MAX_MANIFEST, 16};
    struct mrd_buf vkey;
    uint8_t digest[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
    char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
    char want[CKPT_MAX_ORIGIN + 128], name[TAR_NAME_MAX + 1];
    uint64_t size = 0;
    const char *s;
    enum mrd_code rc;

    memset(report, 0, sizeof(*report));
    mrd_buf_init(&vkey, CKPT_MAX_NOTE);
    if (len > EVIDENCE_MAX_PACKAGE)
        return mrd_err_set(err, MRD_E_TOOBIG, "package: larger than %zu bytes",
                           EVIDENCE_MAX_PACKAGE);
    /* Each member takes at least one 512-byte header. */
    nm = len / TAR_BLOCK < MAX_MEMBERS ? len / TAR_BLOCK + 1 : MAX_MEMBERS;
    m = mrd_calloc(nm, sizeof(*m));
    if (m == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "evidence: out of memory");
    /* 0. The container: canonical, byte for byte (every header field, the
     * padding, the member order, the two end blocks, nothing after). */
    rc = tar_read(pkg, len, m, nm, &nm, err);
    if (rc != MRD_OK)
        goto out;
    if (nm < N_FIXED) {
        member_name(nm, name);
        rc = mrd_err_set(err, MRD_E_INVALID, "package: %s is missing", name);
        goto out;
    }
    man_m = &m[0];
    sig_m = &m[1];
    ck_m = &m[2];
    pk_m = &m[3];
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
    /* Other keys' signatures would verify too (signed-note ignores them),
     * so a package would have bytes nobody checks: it carries ours only. */
    for (i = 1; i <= 2; i++) {
        size_t lines = note_signatures(m[i].data, m[i].len);

        if (lines != 1) {
            rc = mrd_err_set(err, MRD_E_INVALID,
                             "%s: carries %zu signature lines; a package's notes carry exactly "
                             "one, by the node key",
                             m[i].name, lines);
            goto out;
        }
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
    /* 3. The pubkey member: informational, but exactly the key we trust,
     * as the writer writes it. */
    rc = ckpt_verifier_text(v, &vkey, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(&vkey, '\n', err);
    if (rc != MRD_OK)
        goto out;
    if (pk_m->len != vkey.len || memcmp(pk_m->data, vkey.data, vkey.len) != 0) {
        rc = mrd_err_set(err, MRD_E_INVALID,
                         "pubkey: is not the key given (%s) as the writer writes it "
                         "(name+id+base64 and a newline)",
                         v->name);
        goto out;
    }
    /* 4. The manifest agrees with the checkpoint. */
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
    /* 5. Every object, the i-th entry in the i-th object member. */
    nobj = nm - N_FIXED;
    json_array_foreach(objs, i, o)
    {
        rc = verify_object(o, i, i < nobj ? &m[N_FIXED + i] : NULL, &c, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (nobj > json_array_size(objs)) {
        rc = mrd_err_set(err, MRD_E_INVALID, "%s: in the package but not in the manifest",
                         m[N_FIXED + json_array_size(objs)].name);
        goto out;
    }
    s = json_string_value(json_object_get(man, "case"));
    mrd_strlcpy(report->case_id, s != NULL ? s : "", sizeof(report->case_id));
    mrd_strlcpy(report->origin, c.origin, sizeof(report->origin));
    report->tree_size = c.size;
    report->objects = json_array_size(objs);
    crypto_hash_sha256(digest, pkg, len);
    to_hex(digest, sizeof(digest), report->sha256);
out:
    json_decref(man);
    mrd_free(m);
    mrd_buf_release(&vkey);
    return rc;
}
