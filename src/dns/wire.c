/*
 * wire.c: DNS messages in wire format (RFC 1035 §4, RFC 6891, RFC 4034,
 * RFC 5155, RFC 8914).
 *
 * Every read is checked against the end of the message (or of the RDATA
 * for fields inside it) before it happens; names are expanded into a
 * fixed 255-octet buffer, so no input makes us allocate more than one
 * record array of at most DNS_MAX_RRS entries. Compression pointers must
 * point strictly before the name that uses them, which with the pointer
 * budget ends every loop.
 */
#include <stdio.h>
#include <string.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "core/alloc.h"
#include "dns/dns.h"

struct rd {
    const uint8_t *p;
    size_t len; /* of the whole message */
    size_t off;
    size_t end; /* reads must stay below this (message or RDATA end) */
};

static enum mrd_code need(const struct rd *r, size_t n, const char *what, struct mrd_err *err)
{
    if (n > r->end - r->off)
        return mrd_err_set(err, MRD_E_PARSE, "dns: offset %zu: %s runs past the %s (RFC 1035 §4.1)",
                           r->off, what, r->end == r->len ? "message" : "record data");
    return MRD_OK;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum mrd_code u8(struct rd *r, uint8_t *v, const char *what, struct mrd_err *err)
{
    enum mrd_code rc = need(r, 1, what, err);
    if (rc == MRD_OK)
        *v = r->p[r->off++];
    return rc;
}

static enum mrd_code u16(struct rd *r, uint16_t *v, const char *what, struct mrd_err *err)
{
    enum mrd_code rc = need(r, 2, what, err);
    if (rc == MRD_OK) {
        *v = get16(r->p + r->off);
        r->off += 2;
    }
    return rc;
}

static enum mrd_code u32(struct rd *r, uint32_t *v, const char *what, struct mrd_err *err)
{
    enum mrd_code rc = need(r, 4, what, err);
    if (rc == MRD_OK) {
        *v = get32(r->p + r->off);
        r->off += 4;
    }
    return rc;
}

/* Reads a name at r->off (compressed where allow_ptr), leaves r->off after
 * its first pointer or its root label. RFC 4034 §6.2 forbids compression
 * in DNSSEC RDATA names (signer, next), which pass allow_ptr false. */
static enum mrd_code name_read(struct rd *r, struct dns_name *out, bool allow_ptr,
                               struct mrd_err *err)
{
    size_t pos = r->off, limit = r->end, start = r->off;
    unsigned ptrs = 0;
    bool jumped = false;

    out->len = 0;
    for (;;) {
        uint8_t l;
        if (pos >= limit)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: offset %zu: name runs past the end (RFC 1035 §3.1)", pos);
        l = r->p[pos];
        if ((l & 0xC0) == 0xC0) {
            size_t target;
            if (!allow_ptr)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "dns: offset %zu: compressed name in DNSSEC data (RFC 4034 "
                                   "§6.2)",
                                   pos);
            if (pos + 1 >= limit)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "dns: offset %zu: truncated compression pointer (RFC 1035 "
                                   "§4.1.4)",
                                   pos);
            target = (size_t)(get16(r->p + pos) & 0x3FFF);
            if (++ptrs > DNS_MAX_PTRS)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "dns: offset %zu: more than %d compression pointers (RFC 1035 "
                                   "§4.1.4)",
                                   pos, DNS_MAX_PTRS);
            /* Only backwards, before the name being followed: no loops. */
            if (target >= start)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "dns: offset %zu: compression pointer to %zu does not point "
                                   "backwards (RFC 1035 §4.1.4)",
                                   pos, target);
            if (!jumped)
                r->off = pos + 2;
            jumped = true;
            start = target;
            pos = target;
            limit = r->len; /* a pointer may leave the RDATA, never the message */
            continue;
        }
        if ((l & 0xC0) != 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: offset %zu: unknown label type 0x%02x (RFC 6891 §5)", pos,
                               l & 0xC0);
        if ((size_t)out->len + 1 + l > DNS_MAX_NAME)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: offset %zu: name longer than %d octets (RFC 1035 §2.3.4)", pos,
                               DNS_MAX_NAME);
        if (l > limit - pos - 1)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: offset %zu: label runs past the end (RFC 1035 §3.1)", pos);
        memcpy(out->wire + out->len, r->p + pos, (size_t)l + 1);
        out->len = (uint8_t)(out->len + l + 1);
        pos += (size_t)l + 1;
        if (l == 0)
            break;
    }
    if (!jumped)
        r->off = pos;
    return MRD_OK;
}

uint16_t dns_key_tag(const uint8_t *rdata, size_t len)
{
    uint32_t ac = 0;
    for (size_t i = 0; i < len; i++)
        ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
    ac += (ac >> 16) & 0xFFFF;
    return (uint16_t)(ac & 0xFFFF);
}

/* Decodes the RDATA of the types we reason about. */
static enum mrd_code rdata_read(struct rd *msg, struct dns_rr *rr, struct mrd_err *err)
{
    struct rd r = {msg->p, msg->len, rr->rdoff, rr->rdoff + rr->rdlen};
    enum mrd_code rc = MRD_OK;

    switch (rr->type) {
    case DNS_T_A:
    case DNS_T_AAAA: {
        size_t want = rr->type == DNS_T_A ? 4 : 16;
        if (rr->rdlen != want)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: offset %zu: %s record data is %u bytes, not %zu (RFC 1035 "
                               "§3.4.1, RFC 3596 §2.2)",
                               rr->rdoff, rr->type == DNS_T_A ? "A" : "AAAA", rr->rdlen, want);
        memcpy(rr->type == DNS_T_A ? rr->u.a : rr->u.aaaa, rr->rdata, want);
        return MRD_OK;
    }
    case DNS_T_NS:
    case DNS_T_CNAME:
        rc = name_read(&r, &rr->u.target, true, err);
        break;
    case DNS_T_SOA:
        rc = name_read(&r, &rr->u.soa.mname, true, err);
        if (rc == MRD_OK)
            rc = name_read(&r, &rr->u.soa.rname, true, err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.soa.serial, "SOA serial", err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.soa.refresh, "SOA refresh", err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.soa.retry, "SOA retry", err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.soa.expire, "SOA expire", err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.soa.minimum, "SOA minimum", err);
        break;
    case DNS_T_DS:
        rc = u16(&r, &rr->u.ds.key_tag, "DS key tag", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.ds.alg, "DS algorithm", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.ds.digest_type, "DS digest type", err);
        if (rc == MRD_OK && r.off == r.end)
            rc = mrd_err_set(err, MRD_E_PARSE, "dns: offset %zu: DS without digest (RFC 4034 §5.1)",
                             r.off);
        rr->u.ds.digest = msg->p + r.off;
        rr->u.ds.digest_len = (uint16_t)(r.end - r.off);
        r.off = r.end;
        break;
    case DNS_T_DNSKEY:
        rc = u16(&r, &rr->u.dnskey.flags, "DNSKEY flags", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.dnskey.protocol, "DNSKEY protocol", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.dnskey.alg, "DNSKEY algorithm", err);
        rr->u.dnskey.key = msg->p + r.off;
        rr->u.dnskey.key_len = (uint16_t)(r.end - r.off);
        rr->u.dnskey.key_tag = dns_key_tag(rr->rdata, rr->rdlen);
        r.off = r.end;
        break;
    case DNS_T_RRSIG:
        rc = u16(&r, &rr->u.rrsig.covered, "RRSIG type covered", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.rrsig.alg, "RRSIG algorithm", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.rrsig.labels, "RRSIG labels", err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.rrsig.orig_ttl, "RRSIG original TTL", err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.rrsig.expiration, "RRSIG expiration", err);
        if (rc == MRD_OK)
            rc = u32(&r, &rr->u.rrsig.inception, "RRSIG inception", err);
        if (rc == MRD_OK)
            rc = u16(&r, &rr->u.rrsig.key_tag, "RRSIG key tag", err);
        if (rc == MRD_OK)
            rc = name_read(&r, &rr->u.rrsig.signer, false, err);
        rr->u.rrsig.sig = msg->p + r.off;
        rr->u.rrsig.sig_len = (uint16_t)(r.end - r.off);
        r.off = r.end;
        break;
    case DNS_T_NSEC:
        rc = name_read(&r, &rr->u.nsec.next, false, err);
        rr->u.nsec.bitmap = msg->p + r.off;
        rr->u.nsec.bitmap_len = (uint16_t)(r.end - r.off);
        r.off = r.end;
        break;
    case DNS_T_NSEC3:
        rc = u8(&r, &rr->u.nsec3.hash_alg, "NSEC3 hash algorithm", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.nsec3.flags, "NSEC3 flags", err);
        if (rc == MRD_OK)
            rc = u16(&r, &rr->u.nsec3.iterations, "NSEC3 iterations", err);
        if (rc == MRD_OK)
            rc = u8(&r, &rr->u.nsec3.salt_len, "NSEC3 salt length", err);
        if (rc == MRD_OK)
            rc = need(&r, rr->u.nsec3.salt_len, "NSEC3 salt", err);
        if (rc != MRD_OK)
            break;
        rr->u.nsec3.salt = msg->p + r.off;
        r.off += rr->u.nsec3.salt_len;
        rc = u8(&r, &rr->u.nsec3.hash_len, "NSEC3 hash length", err);
        if (rc == MRD_OK && rr->u.nsec3.hash_len == 0)
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "dns: offset %zu: NSEC3 hash length 0 (RFC 5155 §3.2)", r.off - 1);
        if (rc == MRD_OK)
            rc = need(&r, rr->u.nsec3.hash_len, "NSEC3 next hashed owner", err);
        if (rc != MRD_OK)
            break;
        rr->u.nsec3.next_hash = msg->p + r.off;
        r.off += rr->u.nsec3.hash_len;
        rr->u.nsec3.bitmap = msg->p + r.off;
        rr->u.nsec3.bitmap_len = (uint16_t)(r.end - r.off);
        r.off = r.end;
        break;
    default:
        return MRD_OK; /* kept as bytes */
    }
    if (rc == MRD_OK && r.off != r.end)
        rc =
            mrd_err_set(err, MRD_E_PARSE,
                        "dns: offset %zu: %zu bytes left over in the record data (RFC 1035 §3.2.1)",
                        r.off, r.end - r.off);
    return rc;
}

/* The OPT pseudo-record (RFC 6891 §6.1) and its EDE option (RFC 8914). */
static enum mrd_code opt_read(struct dns_msg *m, const struct dns_rr *rr, struct mrd_err *err)
{
    size_t off = rr->rdoff, end = rr->rdoff + rr->rdlen;

    if (m->edns)
        return mrd_err_set(err, MRD_E_PARSE, "dns: offset %zu: second OPT record (RFC 6891 §6.1.1)",
                           rr->rdoff);
    if (rr->owner.len != 1)
        return mrd_err_set(err, MRD_E_PARSE,
                           "dns: offset %zu: OPT record not owned by the root (RFC 6891 §6.1.2)",
                           rr->rdoff);
    m->edns = true;
    m->udp_size = rr->rclass;
    m->rcode = (uint16_t)(m->rcode | ((rr->ttl >> 24) & 0xFF) << 4);
    m->edns_version = (uint8_t)(rr->ttl >> 16);
    m->do_bit = (rr->ttl & 0x8000u) != 0;
    while (off < end) {
        uint16_t code, olen;
        if (end - off < 4)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: offset %zu: truncated EDNS option header (RFC 6891 §6.1.2)",
                               off);
        code = get16(m->wire + off);
        olen = get16(m->wire + off + 2);
        off += 4;
        if (olen > end - off)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: offset %zu: EDNS option of %u bytes runs past the record "
                               "(RFC 6891 §6.1.2)",
                               off - 4, olen);
        if (code == 15 && m->ede < 0) {
            size_t tl;
            if (olen < 2)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "dns: offset %zu: Extended DNS Error shorter than its "
                                   "INFO-CODE (RFC 8914 §2)",
                                   off);
            m->ede = get16(m->wire + off);
            tl = (size_t)olen - 2;
            if (tl > DNS_MAX_EDE_TEXT)
                tl = DNS_MAX_EDE_TEXT;
            memcpy(m->ede_text, m->wire + off + 2, tl);
            m->ede_text[tl] = '\0';
        }
        off += olen;
    }
    return MRD_OK;
}

void dns_msg_free(struct dns_msg *msg)
{
    if (msg == NULL)
        return;
    mrd_free(msg->rr);
    mrd_free(msg->wire);
    mrd_free(msg);
}

enum mrd_code dns_msg_parse(const uint8_t *buf, size_t len, struct dns_msg **ret_msg,
                            struct mrd_err *err)
{
    struct dns_msg *m = NULL;
    struct rd r;
    uint16_t cnt[3];
    size_t total;
    enum mrd_code rc;

    if (len > DNS_MAX_MSG)
        return mrd_err_set(err, MRD_E_TOOBIG, "dns: message of %zu bytes, limit %d", len,
                           DNS_MAX_MSG);
    if (len < 12)
        return mrd_err_set(err, MRD_E_PARSE,
                           "dns: offset 0: message of %zu bytes is shorter than its header "
                           "(RFC 1035 §4.1.1)",
                           len);
    m = mrd_calloc(1, sizeof(*m));
    if (m == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
    m->wire = mrd_malloc(len);
    if (m->wire == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
        goto out;
    }
    memcpy(m->wire, buf, len);
    m->len = len;
    m->ede = -1;
    r = (struct rd){m->wire, len, 12, len};
    m->id = get16(m->wire);
    m->flags = get16(m->wire + 2);
    m->rcode = m->flags & 0xF;
    m->qdcount = get16(m->wire + 4);
    for (int i = 0; i < 3; i++)
        cnt[i] = get16(m->wire + 6 + 2 * i);
    total = (size_t)cnt[0] + cnt[1] + cnt[2];
    if (total > DNS_MAX_RRS) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "dns: offset 6: %zu records, limit %d", total,
                         DNS_MAX_RRS);
        goto out;
    }
    /* Each record takes at least 11 bytes: refuse counts the message
     * cannot hold before allocating for them. */
    if (total > (len - 12) / 11) {
        rc = mrd_err_set(err, MRD_E_PARSE,
                         "dns: offset 6: %zu records cannot fit in %zu bytes (RFC 1035 §4.1.1)",
                         total, len);
        goto out;
    }
    if (total > 0) {
        m->rr = mrd_calloc(total, sizeof(*m->rr));
        if (m->rr == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "dns: out of memory");
            goto out;
        }
    }
    for (unsigned q = 0; q < m->qdcount; q++) {
        struct dns_name n;
        uint16_t t, c;
        rc = name_read(&r, &n, true, err);
        if (rc == MRD_OK)
            rc = u16(&r, &t, "question type", err);
        if (rc == MRD_OK)
            rc = u16(&r, &c, "question class", err);
        if (rc != MRD_OK)
            goto out;
        if (q == 0) {
            m->qname = n;
            m->qtype = t;
            m->qclass = c;
        }
    }
    for (int s = 0; s < 3; s++) {
        for (unsigned i = 0; i < cnt[s]; i++) {
            struct dns_rr *rr = &m->rr[m->nrr];
            size_t at = r.off;
            rc = name_read(&r, &rr->owner, true, err);
            if (rc == MRD_OK)
                rc = u16(&r, &rr->type, "record type", err);
            if (rc == MRD_OK)
                rc = u16(&r, &rr->rclass, "record class", err);
            if (rc == MRD_OK)
                rc = u32(&r, &rr->ttl, "record TTL", err);
            if (rc == MRD_OK)
                rc = u16(&r, &rr->rdlen, "record data length", err);
            if (rc == MRD_OK)
                rc = need(&r, rr->rdlen, "record data", err);
            if (rc != MRD_OK)
                goto out;
            rr->section = (uint8_t)s;
            rr->rdoff = r.off;
            rr->rdata = m->wire + r.off;
            r.off += rr->rdlen;
            if (rr->type == DNS_T_OPT) {
                if (s != DNS_SEC_ADDITIONAL) {
                    rc = mrd_err_set(err, MRD_E_PARSE,
                                     "dns: offset %zu: OPT record outside the additional section "
                                     "(RFC 6891 §6.1.1)",
                                     at);
                    goto out;
                }
                rc = opt_read(m, rr, err);
                if (rc != MRD_OK)
                    goto out;
                memset(rr, 0, sizeof(*rr));
                continue;
            }
            rc = rdata_read(&r, rr, err);
            if (rc != MRD_OK)
                goto out;
            m->count[s]++;
            m->nrr++;
        }
    }
    if (r.off != len) {
        rc = mrd_err_set(err, MRD_E_PARSE,
                         "dns: offset %zu: %zu bytes after the last record (RFC 1035 §4.1)", r.off,
                         len - r.off);
        goto out;
    }
    *ret_msg = m;
    m = NULL;
    rc = MRD_OK;
out:
    dns_msg_free(m);
    return rc;
}

enum mrd_code dns_query_build(uint16_t id, const struct dns_name *name, uint16_t type,
                              unsigned qflags, uint8_t *out, size_t cap, size_t *ret_len,
                              struct mrd_err *err)
{
    size_t n = 0;
    uint16_t flags = 0;
    bool edns = (qflags & DNS_Q_NOEDNS) == 0;

    if (name->len == 0)
        return mrd_err_set(err, MRD_E_INVAL, "dns: query for an unset name");
    if (cap < (size_t)12 + name->len + 4 + (edns ? 11 : 0))
        return mrd_err_set(err, MRD_E_TOOBIG, "dns: query buffer of %zu bytes too small", cap);
    if (qflags & DNS_Q_RD)
        flags |= DNS_F_RD;
    if (qflags & DNS_Q_CD)
        flags |= DNS_F_CD;
    memset(out, 0, 12);
    out[0] = (uint8_t)(id >> 8);
    out[1] = (uint8_t)id;
    out[2] = (uint8_t)(flags >> 8);
    out[3] = (uint8_t)flags;
    out[5] = 1;             /* QDCOUNT */
    out[11] = edns ? 1 : 0; /* ARCOUNT */
    n = 12;
    memcpy(out + n, name->wire, name->len);
    n += name->len;
    out[n++] = (uint8_t)(type >> 8);
    out[n++] = (uint8_t)type;
    out[n++] = 0;
    out[n++] = DNS_CLASS_IN;
    if (edns) {
        out[n++] = 0; /* root owner */
        out[n++] = 0;
        out[n++] = DNS_T_OPT;
        out[n++] = (uint8_t)(DNS_UDP_SIZE >> 8);
        out[n++] = (uint8_t)(DNS_UDP_SIZE & 0xFF);
        out[n++] = 0; /* extended RCODE */
        out[n++] = 0; /* version */
        out[n++] = (qflags & DNS_Q_DO) ? 0x80 : 0;
        out[n++] = 0;
        out[n++] = 0; /* RDLEN */
        out[n++] = 0;
    }
    *ret_len = n;
    return MRD_OK;
}

bool dns_serial_gt(uint32_t a, uint32_t b)
{
    return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* The canonical (lower-case) wire form of a name, for digests. */
static void name_canonical(const struct dns_name *n, uint8_t out[DNS_MAX_NAME])
{
    for (size_t i = 0; i < n->len;) {
        uint8_t l = n->wire[i];
        out[i] = l;
        for (size_t j = 1; j <= l; j++) {
            uint8_t c = n->wire[i + j];
            out[i + j] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
        }
        i += (size_t)l + 1;
    }
}

bool dns_ds_matches(const struct dns_rr *ds, const struct dns_rr *dnskey)
{
    uint8_t owner[DNS_MAX_NAME], digest[SHA384_DIGEST_SIZE];
    size_t dlen;

    if (ds->type != DNS_T_DS || dnskey->type != DNS_T_DNSKEY)
        return false;
    if (ds->u.ds.key_tag != dnskey->u.dnskey.key_tag || ds->u.ds.alg != dnskey->u.dnskey.alg)
        return false;
    name_canonical(&dnskey->owner, owner);
    switch (ds->u.ds.digest_type) {
    case 1: {
        struct sha1_ctx c;
        sha1_init(&c);
        sha1_update(&c, dnskey->owner.len, owner);
        sha1_update(&c, dnskey->rdlen, dnskey->rdata);
        sha1_digest(&c, SHA1_DIGEST_SIZE, digest);
        dlen = SHA1_DIGEST_SIZE;
        break;
    }
    case 2: {
        struct sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, dnskey->owner.len, owner);
        sha256_update(&c, dnskey->rdlen, dnskey->rdata);
        sha256_digest(&c, SHA256_DIGEST_SIZE, digest);
        dlen = SHA256_DIGEST_SIZE;
        break;
    }
    case 4: {
        struct sha384_ctx c;
        sha384_init(&c);
        sha384_update(&c, dnskey->owner.len, owner);
        sha384_update(&c, dnskey->rdlen, dnskey->rdata);
        sha384_digest(&c, SHA384_DIGEST_SIZE, digest);
        dlen = SHA384_DIGEST_SIZE;
        break;
    }
    default:
        return true; /* GOST and unknown digests: tag and algorithm only */
    }
    return ds->u.ds.digest_len == dlen && memcmp(ds->u.ds.digest, digest, dlen) == 0;
}
