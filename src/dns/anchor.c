/*
 * anchor.c: the trust-anchor file of the configuration (root.trust_anchor)
 * in zone-file presentation form, as Unbound's trust-anchor-file reads it:
 * DS or DNSKEY records of the root, one per line or spread over lines in
 * parentheses, `;` comments, an optional TTL and class IN (RFC 1035 §5.1,
 * RFC 4034 §2.2 and §5.3). Pure: the caller reads the file.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <nettle/base64.h>

#include "core/alloc.h"
#include "core/str.h"
#include "dns/dns.h"

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
    }
    return true;
}

static bool u16_of(const char *s, unsigned max, unsigned *ret)
{
    uint64_t v;
    if (!all_digits(s) || mrd_str_to_u64(s, strlen(s), max, &v, NULL) != MRD_OK)
        return false;
    *ret = (unsigned)v;
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One record's tokens (owner [TTL] [IN] TYPE RDATA...) into a. */
static enum mrd_code parse_record(char **tok, size_t n, unsigned line, struct dns_anchor *a,
                                  struct mrd_err *err)
{
    size_t i = 1;
    unsigned f[3];
    char blob[DNS_MAX_ANCHOR_RDATA * 2 + 8];
    size_t bl = 0;

    memset(a, 0, sizeof(*a));
    if (dns_name_parse(tok[0], strlen(tok[0]), &a->owner, NULL) != MRD_OK)
        return mrd_err_set(err, MRD_E_PARSE, "trust anchor: line %u: bad owner name", line);
    if (i < n && all_digits(tok[i]))
        i++; /* TTL */
    if (i < n && strcasecmp(tok[i], "IN") == 0)
        i++;
    if (i + 4 > n)
        return mrd_err_set(err, MRD_E_PARSE,
                           "trust anchor: line %u: expected DS or DNSKEY and four fields", line);
    if (strcasecmp(tok[i], "DS") == 0)
        a->type = DNS_T_DS;
    else if (strcasecmp(tok[i], "DNSKEY") == 0)
        a->type = DNS_T_DNSKEY;
    else
        return mrd_err_set(err, MRD_E_PARSE, "trust anchor: line %u: not a DS or DNSKEY record",
                           line);
    i++;
    if (!u16_of(tok[i], 65535, &f[0]) || !u16_of(tok[i + 1], 255, &f[1]) ||
        !u16_of(tok[i + 2], 255, &f[2]))
        return mrd_err_set(err, MRD_E_PARSE, "trust anchor: line %u: bad number", line);
    a->rdata[0] = (uint8_t)(f[0] >> 8);
    a->rdata[1] = (uint8_t)f[0];
    a->rdata[2] = (uint8_t)f[1];
    a->rdata[3] = (uint8_t)f[2];
    a->rdlen = 4;
    for (i += 3; i < n; i++) {
        size_t tl = strlen(tok[i]);
        if (bl + tl >= sizeof(blob))
            return mrd_err_set(err, MRD_E_TOOBIG,
                               "trust anchor: line %u: record longer than %d "
                               "bytes",
                               line, DNS_MAX_ANCHOR_RDATA);
        memcpy(blob + bl, tok[i], tl);
        bl += tl;
    }
    blob[bl] = '\0';
    if (a->type == DNS_T_DS) {
        if (bl == 0 || bl % 2 != 0 || bl / 2 > DNS_MAX_ANCHOR_RDATA - 4)
            return mrd_err_set(err, MRD_E_PARSE, "trust anchor: line %u: bad DS digest", line);
        for (size_t k = 0; k < bl; k += 2) {
            int hi = hexval(blob[k]), lo = hexval(blob[k + 1]);
            if (hi < 0 || lo < 0)
                return mrd_err_set(err, MRD_E_PARSE, "trust anchor: line %u: bad DS digest", line);
            a->rdata[a->rdlen++] = (uint8_t)(hi << 4 | lo);
        }
    } else {
        struct base64_decode_ctx b;
        size_t out = DNS_MAX_ANCHOR_RDATA - 4;
        base64_decode_init(&b);
        if (bl == 0 || BASE64_DECODE_LENGTH(bl) > out ||
            !base64_decode_update(&b, &out, a->rdata + 4, bl, blob) || !base64_decode_final(&b))
            return mrd_err_set(err, MRD_E_PARSE, "trust anchor: line %u: bad DNSKEY key", line);
        a->rdlen += out;
    }
    return MRD_OK;
}

enum mrd_code dns_anchor_parse(const char *text, size_t len, struct dns_config *cfg,
                               struct mrd_err *err)
{
    char *buf = mrd_malloc(len + 1), *tok[64];
    size_t n = 0;
    unsigned line = 1, start = 1;
    int depth = 0;
    enum mrd_code rc = MRD_OK;
    size_t before = cfg->nanchors;

    if (buf != NULL && cfg->anchors == NULL)
        cfg->anchors = mrd_calloc(DNS_MAX_ANCHORS, sizeof(*cfg->anchors));
    if (buf == NULL || cfg->anchors == NULL) {
        mrd_free(buf);
        return mrd_err_set(err, MRD_E_NOMEM, "trust anchor: out of memory");
    }
    if (len > DNS_MAX_ANCHOR_FILE) {
        mrd_free(buf);
        return mrd_err_set(err, MRD_E_TOOBIG, "trust anchor: more than %d bytes",
                           DNS_MAX_ANCHOR_FILE);
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    for (size_t i = 0; i <= len && rc == MRD_OK; i++) {
        char c = buf[i];
        if (c == ';') { /* a comment runs to the end of the line */
            while (i < len && buf[i] != '\n')
                buf[i++] = ' ';
            c = buf[i];
        }
        if (c == '(' || c == ')') {
            depth += c == '(' ? 1 : -1;
            if (depth < 0 || depth > 1)
                rc = mrd_err_set(err, MRD_E_PARSE,
                                 "trust anchor: line %u: unbalanced "
                                 "parentheses",
                                 line);
            buf[i] = ' ';
            c = ' ';
        }
        if (c == '\0' || (c == '\n' && depth == 0)) {
            buf[i] = '\0';
            if (n > 0) {
                if (cfg->nanchors >= DNS_MAX_ANCHORS)
                    rc = mrd_err_set(err, MRD_E_TOOBIG, "trust anchor: more than %d records",
                                     DNS_MAX_ANCHORS);
                else if ((rc = parse_record(tok, n, start, &cfg->anchors[cfg->nanchors], err)) ==
                         MRD_OK)
                    cfg->nanchors++;
            }
            n = 0;
            line++;
            start = line;
            continue;
        }
        if (c == '\n')
            line++;
        if (isspace((unsigned char)c) || (unsigned char)c < 0x20) {
            buf[i] = '\0';
            continue;
        }
        if (i == 0 || buf[i - 1] == '\0') {
            if (n >= sizeof(tok) / sizeof(tok[0]))
                rc = mrd_err_set(err, MRD_E_TOOBIG, "trust anchor: line %u: too many fields", line);
            else
                tok[n++] = &buf[i];
        }
    }
    if (rc == MRD_OK && depth != 0)
        rc = mrd_err_set(err, MRD_E_PARSE, "trust anchor: unbalanced parentheses");
    if (rc == MRD_OK && cfg->nanchors == before)
        rc = mrd_err_set(err, MRD_E_PARSE, "trust anchor: no DS or DNSKEY record");
    mrd_free(buf);
    return rc;
}

bool dns_anchor_matches(const struct dns_anchor *a, const struct dns_rr *dnskey)
{
    struct dns_rr ds;

    if (dnskey->type != DNS_T_DNSKEY || !dns_name_eq(&a->owner, &dnskey->owner))
        return false;
    if (a->type == DNS_T_DNSKEY)
        return a->rdlen == dnskey->rdlen && memcmp(a->rdata, dnskey->rdata, a->rdlen) == 0;
    memset(&ds, 0, sizeof(ds));
    ds.owner = a->owner;
    ds.type = DNS_T_DS;
    ds.u.ds.key_tag = (uint16_t)(a->rdata[0] << 8 | a->rdata[1]);
    ds.u.ds.alg = a->rdata[2];
    ds.u.ds.digest_type = a->rdata[3];
    ds.u.ds.digest = a->rdata + 4;
    ds.u.ds.digest_len = (uint16_t)(a->rdlen - 4);
    return dns_ds_matches(&ds, dnskey);
}
