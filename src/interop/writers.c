/*
 * writers: one indicator's values as Suricata rules, Zeek intel lines,
 * plain lists, nftables and ipset elements, or CSV rows (interop.h).
 *
 * Pure: text goes into per-output buffers that interop_writer_flush hands
 * to the caller's sink. Values come from outside (whoever wrote the
 * indicator), so every byte that could break a format's syntax is either
 * encoded (Suricata content as |hex|, CSV quoting) or makes the value
 * inexpressible in that format (a tab in a Zeek intel value), never
 * passed through.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/md5.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "interop/interop_int.h"

#define MAX_OUTPUTS 12
#define SID_SET_MIN 1024

struct output {
    const char *file; /* NULL: the main output */
    bool internal;    /* assembled by end(), never flushed before */
    struct mrd_buf b;
};

struct interop_writer {
    enum interop_format fmt;
    bool subdomains;
    struct output out[MAX_OUTPUTS];
    size_t nout;
    uint64_t rules;
    uint64_t v4, v6;        /* nft/ipset element counts */
    struct mrd_buf scratch; /* CSV: one row's labels */
    /* sids handed out in this export (open addressing, 0 = empty) */
    uint32_t *sids;
    size_t sid_cap, nsids;
    const char *collection_id;
    /* MISP feed: the event's uuid and file name, attributes written */
    char ev_uuid[MRD_UUID_STR_LEN + 1];
    char ev_file[MRD_UUID_STR_LEN + 8];
    uint64_t attrs;
    int64_t ev_time; /* newest indicator version, seconds */
};

static const char *const fmt_names[INTEROP_F_COUNT] = {
    "stix",  "jsonl", "csv",   "suricata",         "zeek", "list", "nft",
    "ipset", "misp",  "snort", "suricata-datasets"};

const char *interop_format_name(enum interop_format f)
{
    return (unsigned)f < INTEROP_F_COUNT ? fmt_names[f] : "unknown";
}

bool interop_format_parse(const char *s, enum interop_format *ret)
{
    for (unsigned i = 0; i < INTEROP_F_COUNT; i++)
        if (strcmp(s, fmt_names[i]) == 0) {
            *ret = (enum interop_format)i;
            return true;
        }
    return false;
}

bool interop_format_is_multi(enum interop_format f)
{
    return f == INTEROP_F_SURICATA || f == INTEROP_F_LIST || f == INTEROP_F_MISP ||
           f == INTEROP_F_SURICATA_DS;
}

bool interop_format_is_stix(enum interop_format f)
{
    return f == INTEROP_F_STIX || f == INTEROP_F_JSONL;
}

bool interop_kind_parse(const char *s, enum interop_kind *ret)
{
    static const char *const names[INTEROP_K_COUNT] = {"ip", "domain", "url", "email", "hash"};

    for (unsigned i = 0; i < INTEROP_K_COUNT; i++)
        if (strcmp(s, names[i]) == 0) {
            *ret = (enum interop_kind)i;
            return true;
        }
    return false;
}

enum interop_kind interop_kind_of(enum match_type t)
{
    switch (t) {
    case MATCH_T_IPV4:
    case MATCH_T_IPV6:
        return INTEROP_K_IP;
    case MATCH_T_DOMAIN:
        return INTEROP_K_DOMAIN;
    case MATCH_T_URL:
        return INTEROP_K_URL;
    case MATCH_T_EMAIL:
        return INTEROP_K_EMAIL;
    default:
        return INTEROP_K_HASH;
    }
}

uint32_t interop_sid(const char *id, size_t id_len, const char *tag)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over id, '#', tag */

    for (size_t i = 0; i < id_len; i++) {
        h ^= (unsigned char)id[i];
        h *= 1099511628211ull;
    }
    h ^= '#';
    h *= 1099511628211ull;
    for (const char *t = tag; *t != '\0'; t++) {
        h ^= (unsigned char)*t;
        h *= 1099511628211ull;
    }
    return INTEROP_SID_BASE + (uint32_t)((h ^ (h >> 32)) % INTEROP_SID_RANGE);
}

/* ---- outputs ---- */

static struct mrd_buf *output(struct interop_writer *w, const char *file, bool internal)
{
    for (size_t i = 0; i < w->nout; i++)
        if (w->out[i].file == file)
            return &w->out[i].b;
    if (w->nout == MAX_OUTPUTS)
        return NULL; /* a programming error: the names are this file's constants */
    w->out[w->nout].file = file;
    w->out[w->nout].internal = internal;
    mrd_buf_init(&w->out[w->nout].b, INTEROP_MAX_OUTPUT);
    return &w->out[w->nout++].b;
}

static struct mrd_buf *main_out(struct interop_writer *w)
{
    return output(w, NULL, false);
}

enum mrd_code interop_writer_new(enum interop_format fmt, bool subdomains,
                                 struct interop_writer **ret, struct mrd_err *err)
{
    struct interop_writer *w;

    if ((unsigned)fmt >= INTEROP_F_COUNT || interop_format_is_stix(fmt))
        return mrd_err_set(err, MRD_E_INVAL, "export: no value writer for format %s",
                           interop_format_name(fmt));
    w = mrd_calloc(1, sizeof(*w));
    if (w == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "export: out of memory");
    w->fmt = fmt;
    w->subdomains = subdomains;
    mrd_buf_init(&w->scratch, STORE_OBJECT_MAX);
    *ret = w;
    return MRD_OK;
}

void interop_writer_free(struct interop_writer *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->nout; i++)
        mrd_buf_release(&w->out[i].b);
    mrd_buf_release(&w->scratch);
    mrd_free(w->sids);
    mrd_free(w);
}

uint64_t interop_writer_rules(const struct interop_writer *w)
{
    return w->rules;
}

enum mrd_code interop_writer_flush(struct interop_writer *w, const struct interop_sink *sink,
                                   bool all, struct mrd_err *err)
{
    for (size_t i = 0; i < w->nout; i++) {
        struct output *o = &w->out[i];
        enum mrd_code rc;

        if (o->b.len == 0 || (o->internal && !all) || (!all && o->b.len < INTEROP_FLUSH))
            continue;
        if (o->internal)
            continue; /* assembled into the main output by end() */
        rc = sink->write(sink->ctx, o->file, o->b.data, o->b.len, err);
        if (rc != MRD_OK)
            return rc;
        mrd_buf_reset(&o->b);
    }
    return MRD_OK;
}

/* ---- helpers ---- */

/* v in decimal. */
static enum mrd_code put_u64(struct mrd_buf *b, uint64_t v, struct mrd_err *err)
{
    char d[20];
    size_t i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return mrd_buf_append(b, d + i, sizeof(d) - i, err);
}

/* Suricata/Snort content: printable bytes that cannot end or confuse the
 * option stay as they are, everything else becomes |hh hh|. */
static enum mrd_code put_content(struct mrd_buf *b, const char *s, size_t n, bool lower,
                                 struct mrd_err *err)
{
    static const char safe[] = "-._~/?=&%@!$'()*+,:[]{}#^`<>";
    bool in_hex = false;
    enum mrd_code rc = mrd_buf_putc(b, '"', err);
    size_t plain_run = 0;

    /* the common case, a value of lower-case letters, digits and . - /:
     * one append */
    while (plain_run < n) {
        unsigned char c = (unsigned char)s[plain_run];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '/' || (!lower && c >= 'A' && c <= 'Z')))
            break;
        plain_run++;
    }
    if (rc == MRD_OK && plain_run > 0)
        rc = mrd_buf_append(b, s, plain_run, err);
    s += plain_run;
    n -= plain_run;

    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
                     (c != 0 && strchr(safe, c) != NULL);
        if (lower && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c | 0x20);
        if (plain) {
            if (in_hex)
                rc = mrd_buf_putc(b, '|', err);
            in_hex = false;
            if (rc == MRD_OK)
                rc = mrd_buf_putc(b, (char)c, err);
        } else {
            rc = mrd_buf_printf(b, err, in_hex ? " %02x" : "|%02x", c);
            in_hex = true;
        }
    }
    if (rc == MRD_OK && in_hex)
        rc = mrd_buf_putc(b, '|', err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '"', err);
    return rc;
}

/* Free text (a name) inside msg:"..." or a tab-separated field: control
 * characters (C0, DEL, C1, bidi and line separators, bytes that are not
 * UTF-8: mrd_str_char_len) and the format's own delimiters become spaces,
 * so a name from outside can drive neither a terminal nor the format. A
 * character cut by max is not UTF-8 any more: a space too. */
static enum mrd_code put_text(struct mrd_buf *b, const char *s, size_t n, const char *bad,
                              size_t max, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;
    size_t clean = 0;

    if (n > max)
        n = max;
    while (clean < n && (unsigned char)s[clean] >= 0x20 && (unsigned char)s[clean] < 0x7f &&
           strchr(bad, s[clean]) == NULL)
        clean++;
    if (clean == n) /* plain ASCII, nothing to replace: one append */
        return mrd_buf_append(b, s, n, err);
    for (size_t i = 0; i < n && rc == MRD_OK;) {
        bool ctl;
        size_t k = mrd_str_char_len(s + i, n - i, &ctl);
        if (ctl || (k == 1 && strchr(bad, s[i]) != NULL))
            rc = mrd_buf_putc(b, ' ', err);
        else
            rc = mrd_buf_append(b, s + i, k, err);
        i += k;
    }
    return rc;
}

/* Control characters as mrd_str_escape sees them (C1 and bidi included). */
static bool has_ctl(const char *s, size_t n)
{
    return mrd_str_needs_escape(s, n);
}

/* An address or CIDR in normal form (host bits cleared, no zone), for
 * the formats that reject anything else. False when it is neither. */
static bool ip_norm(enum match_type t, const char *v, size_t n, char *out, size_t size)
{
    const char *slash = memchr(v, '/', n);
    size_t an = slash != NULL ? (size_t)(slash - v) : n;
    unsigned plen = t == MATCH_T_IPV4 ? 32 : 128;
    uint8_t a[16];
    char text[INET6_ADDRSTRLEN];

    if (slash != NULL) {
        uint64_t p;
        if (mrd_str_to_u64(slash + 1, n - an - 1, plen, &p, NULL) != MRD_OK)
            return false;
        plen = (unsigned)p;
    }
    if (t == MATCH_T_IPV4) {
        uint32_t ip;
        if (!match_ipv4_parse(v, an, &ip))
            return false;
        if (plen < 32)
            ip &= plen == 0 ? 0 : ~((1u << (32 - plen)) - 1);
        ip = htonl(ip);
        memcpy(a, &ip, 4);
        if (inet_ntop(AF_INET, a, text, sizeof(text)) == NULL)
            return false;
    } else {
        if (!match_ipv6_parse(v, an, a))
            return false;
        for (unsigned i = plen; i < 128; i++)
            a[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
        if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
            return false;
    }
    if (slash != NULL && plen != (t == MATCH_T_IPV4 ? 32u : 128u))
        return (size_t)snprintf(out, size, "%s/%u", text, plen) < size;
    return (size_t)snprintf(out, size, "%s", text) < size;
}

/* A value for a line-oriented format: not empty, no control characters,
 * addresses in normal form (written into ip). False (with *why) when the
 * format cannot carry it; else *s and *n are the text to write. */
static bool line_value(const struct interop_value *v, char *ip, size_t size, const char **s,
                       size_t *n, const char **why)
{
    *s = v->v;
    *n = v->n;
    if (v->n == 0 || has_ctl(v->v, v->n)) {
        *why = "value empty or holding control characters";
        return false;
    }
    if (v->type == MATCH_T_IPV4 || v->type == MATCH_T_IPV6) {
        if (!ip_norm(v->type, v->v, v->n, ip, size)) {
            *why = "not an IP address or CIDR range";
            return false;
        }
        *s = ip;
        *n = strlen(ip);
    }
    return true;
}

/* ---- Suricata ---- */

static bool sid_take(struct interop_writer *w, uint32_t *sid)
{
    if ((w->nsids + 1) * 2 > w->sid_cap) {
        size_t cap = w->sid_cap == 0 ? SID_SET_MIN : w->sid_cap * 2;
        uint32_t *ns = mrd_calloc(cap, sizeof(*ns));
        if (ns == NULL)
            return false;
        for (size_t i = 0; i < w->sid_cap; i++) {
            size_t h;
            if (w->sids[i] == 0)
                continue;
            h = (w->sids[i] * 2654435761u) & (cap - 1);
            while (ns[h] != 0)
                h = (h + 1) & (cap - 1);
            ns[h] = w->sids[i];
        }
        mrd_free(w->sids);
        w->sids = ns;
        w->sid_cap = cap;
    }
    for (;;) {
        size_t h = (*sid * 2654435761u) & (w->sid_cap - 1);
        while (w->sids[h] != 0 && w->sids[h] != *sid)
            h = (h + 1) & (w->sid_cap - 1);
        if (w->sids[h] == 0) {
            w->sids[h] = *sid;
            w->nsids++;
            return true;
        }
        /* taken in this export: the next one in the range */
        *sid = *sid + 1 >= INTEROP_SID_BASE + INTEROP_SID_RANGE ? INTEROP_SID_BASE : *sid + 1;
    }
}

/* alert PROTO ... (msg:"Meridian: NAME"; BODY sid:N; rev:R; metadata:...;) */
static enum mrd_code rule_open(struct interop_writer *w, struct mrd_buf *b, const char *header,
                               const struct interop_ind *ind, struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_append(b, "alert ", 6, err);

    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, header, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, " (msg:\"Meridian: ", 17, err);
    if (rc == MRD_OK) {
        if (ind->name != NULL && ind->name_len > 0)
            rc = put_text(b, ind->name, ind->name_len, "\";\\|", 200, err);
        else
            rc = mrd_buf_append(b, ind->id, ind->id_len, err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "\"; ", err);
    (void)w;
    return rc;
}

static enum mrd_code rule_close(struct interop_writer *w, struct mrd_buf *b,
                                const struct interop_ind *ind, const char *tag, struct mrd_err *err)
{
    uint32_t sid = interop_sid(ind->id, ind->id_len, tag);
    int64_t rev = ind->modified_usec != STORE_TIME_NONE ? ind->modified_usec / 1000000 : 1;
    enum mrd_code rc;

    if (!sid_take(w, &sid))
        return mrd_err_set(err, MRD_E_NOMEM, "export: out of memory");
    if (rev < 1 || rev > UINT32_MAX)
        rev = 1;
    w->rules++;
    /* sid:N; rev:R; metadata:stix_id ID, tlp T, meridian_collection C;)
     * appended piece by piece: printf was a fifth of a large export */
    rc = mrd_buf_append(b, "sid:", 4, err);
    if (rc == MRD_OK)
        rc = put_u64(b, sid, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, "; rev:", 6, err);
    if (rc == MRD_OK)
        rc = put_u64(b, (uint64_t)rev, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, "; metadata:stix_id ", 19, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, ind->id, ind->id_len, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, ", tlp ", 6, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, policy_tlp_name(ind->tlp), err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, ", meridian_collection ", 22, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, ind->collection_id != NULL ? ind->collection_id : "-", err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, ";)\n", 3, err);
    return rc;
}

/* The rule of an address or CIDR range, both directions (Suricata and
 * Snort 3 write it alike). False when v is neither. */
static bool ip_rule(struct interop_writer *w, struct mrd_buf *b, const struct interop_ind *ind,
                    const struct interop_value *v, enum mrd_code *rc, struct mrd_err *err)
{
    char ip[INET6_ADDRSTRLEN + 8], hdr[96];

    if (!ip_norm(v->type, v->v, v->n, ip, sizeof(ip)))
        return false;
    (void)snprintf(hdr, sizeof(hdr), "ip any any <> %s any", ip);
    *rc = rule_open(w, b, hdr, ind, err);
    if (*rc == MRD_OK)
        *rc = rule_close(w, b, ind, "ip", err);
    return true;
}

/* An http(s) URL as the Host header's name (no port, no brackets' content
 * changed) and the raw path with its query (no fragment), pointing into
 * norm. False when it is not an http(s) URL. */
static bool url_split(const struct interop_value *v, char *norm, size_t size, const char **host,
                      size_t *hn, const char **path, size_t *pn)
{
    const char *nh = NULL, *scheme_end, *hend, *frag, *colon = NULL;
    size_t nhn = 0, nn = match_url_normalize(v->v, v->n, norm, size, &nh, &nhn);

    if (nn == 0 ||
        !(mrd_str_has_prefix(norm, nn, "http://") || mrd_str_has_prefix(norm, nn, "https://")))
        return false;
    scheme_end = strstr(norm, "://") + 3;
    *path = memchr(scheme_end, '/', (size_t)(norm + nn - scheme_end));
    if (*path == NULL)
        *path = norm + nn;
    hend = *path;
    *pn = (size_t)(norm + nn - *path);
    frag = memchr(*path, '#', *pn);
    if (frag != NULL)
        *pn = (size_t)(frag - *path);
    /* the Host header's name, without a port */
    for (const char *k = scheme_end; k < hend; k++)
        if (*k == ':' && scheme_end[0] != '[')
            colon = k;
    if (colon != NULL)
        hend = colon;
    *host = scheme_end;
    *hn = (size_t)(hend - scheme_end);
    return true;
}

/* How one engine says "this Host and this raw path": the rule of a URL. */
struct url_syntax {
    const char *header;   /* the rule header */
    const char *host;     /* the Host buffer, up to content: */
    const char *host_len; /* after the host's content, before its length */
    const char *path;     /* the raw-URI buffer, up to content: */
    const char *path_len; /* after the path's content, before its length */
    const char *tail;     /* options before sid */
};

static const struct url_syntax suricata_url = {"http any any -> any any",
                                               "http.host; content:",
                                               "; bsize:",
                                               "; http.uri.raw; content:",
                                               "; bsize:",
                                               "; "};
static const struct url_syntax snort_url = {
    "tcp any any -> any any", "flow:to_server,established; http_header:field host; content:",
    ",nocase; bufferlen:",    "; http_raw_uri; content:",
    "; bufferlen:",           "; service:http; "};

/* The rule of an http(s) URL: its Host exactly (no port, case folded)
 * and its raw path and query exactly. False when v is not such a URL. */
static bool url_rule(struct interop_writer *w, struct mrd_buf *b, const struct interop_ind *ind,
                     const struct interop_value *v, const struct url_syntax *syn, enum mrd_code *rc,
                     struct mrd_err *err)
{
    char norm[MATCH_MAX_VALUE];
    const char *host, *path;
    size_t hn, pn;

    if (!url_split(v, norm, sizeof(norm), &host, &hn, &path, &pn) || hn == 0)
        return false;
    *rc = rule_open(w, b, syn->header, ind, err);
    if (*rc == MRD_OK)
        *rc = mrd_buf_puts(b, syn->host, err);
    if (*rc == MRD_OK)
        *rc = put_content(b, host, hn, true, err);
    if (*rc == MRD_OK)
        *rc = mrd_buf_puts(b, syn->host_len, err);
    if (*rc == MRD_OK)
        *rc = put_u64(b, hn, err);
    if (*rc == MRD_OK && pn > 0) {
        *rc = mrd_buf_puts(b, syn->path, err);
        if (*rc == MRD_OK)
            *rc = put_content(b, path, pn, false, err);
        if (*rc == MRD_OK)
            *rc = mrd_buf_puts(b, syn->path_len, err);
        if (*rc == MRD_OK)
            *rc = put_u64(b, pn, err);
    }
    if (*rc == MRD_OK)
        *rc = mrd_buf_puts(b, syn->tail, err);
    if (*rc == MRD_OK)
        *rc = rule_close(w, b, ind, "url", err);
    return true;
}

static const char *hash_list_file(enum match_type t)
{
    switch (t) {
    case MATCH_T_MD5:
        return INTEROP_SURICATA_MD5;
    case MATCH_T_SHA1:
        return INTEROP_SURICATA_SHA1;
    case MATCH_T_SHA256:
        return INTEROP_SURICATA_SHA256;
    default:
        return NULL;
    }
}

static enum mrd_code suricata_value(struct interop_writer *w, const struct interop_ind *ind,
                                    const struct interop_value *v, size_t *written,
                                    const char **why, struct mrd_err *err)
{
    struct mrd_buf *b = main_out(w);
    enum mrd_code rc = MRD_OK;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    switch (v->type) {
    case MATCH_T_IPV4:
    case MATCH_T_IPV6:
        if (!ip_rule(w, b, ind, v, &rc, err)) {
            *why = "not an IP address or CIDR range";
            return MRD_OK;
        }
        break;
    case MATCH_T_DOMAIN: {
        static const struct {
            const char *header, *buffer, *tag;
        } where[] = {{"dns any any -> any any", "dns.query", "dns"},
                     {"tls any any -> any any", "tls.sni", "tls"},
                     {"http any any -> any any", "http.host", "http"}};
        size_t n = v->n;
        if (n > 0 && v->v[n - 1] == '.')
            n--; /* the root label */
        if (n == 0) {
            *why = "empty domain name";
            return MRD_OK;
        }
        for (size_t k = 0; k < 3 && rc == MRD_OK; k++) {
            rc = rule_open(w, b, where[k].header, ind, err);
            if (rc == MRD_OK && w->subdomains) {
                /* ".evil.com" at the end of ".<name>": the name or a subdomain */
                rc = mrd_buf_printf(b, err, "%s; dotprefix; content:", where[k].buffer);
                if (rc == MRD_OK) {
                    char tmp[MATCH_MAX_VALUE + 1];
                    if (n + 1 > sizeof(tmp)) {
                        *why = "domain name too long";
                        return MRD_OK;
                    }
                    tmp[0] = '.';
                    memcpy(tmp + 1, v->v, n);
                    rc = put_content(b, tmp, n + 1, true, err);
                }
                if (rc == MRD_OK)
                    rc = mrd_buf_printf(b, err, "; %sendswith; ", k == 2 ? "" : "nocase; ");
            } else if (rc == MRD_OK) {
                rc = mrd_buf_puts(b, where[k].buffer, err);
                if (rc == MRD_OK)
                    rc = mrd_buf_append(b, "; content:", 10, err);
                if (rc == MRD_OK)
                    rc = put_content(b, v->v, n, true, err);
                if (rc == MRD_OK)
                    rc = mrd_buf_puts(b, k == 2 ? "; bsize:" : "; nocase; bsize:", err);
                if (rc == MRD_OK)
                    rc = put_u64(b, n, err);
                if (rc == MRD_OK)
                    rc = mrd_buf_append(b, "; ", 2, err);
            }
            if (rc == MRD_OK)
                rc = rule_close(w, b, ind, where[k].tag, err);
        }
        break;
    }
    case MATCH_T_URL:
        if (!url_rule(w, b, ind, v, &suricata_url, &rc, err)) {
            *why = "not an http(s) URL";
            return MRD_OK;
        }
        break;
    case MATCH_T_MD5:
    case MATCH_T_SHA1:
    case MATCH_T_SHA256: {
        struct mrd_buf *l = output(w, hash_list_file(v->type), false);
        if (l == NULL)
            return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
        for (size_t i = 0; i < v->n; i++)
            if (mrd_hex_digit((unsigned char)v->v[i]) < 0) {
                *why = "hash value is not hexadecimal";
                return MRD_OK;
            }
        for (size_t i = 0; i < v->n && rc == MRD_OK; i++)
            rc = mrd_buf_putc(l, (char)(v->v[i] | 0x20), err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(l, '\n', err);
        break;
    }
    default:
        *why = v->type == MATCH_T_EMAIL ? "Suricata has no e-mail address keyword"
                                        : "Suricata has no SHA-512 file list";
        return MRD_OK;
    }
    if (rc == MRD_OK)
        (*written)++;
    return rc;
}

/* One rule per hash list that has entries, after the last indicator. */
static enum mrd_code suricata_end(struct interop_writer *w, struct mrd_err *err)
{
    static const struct {
        enum match_type t;
        const char *kw, *label;
    } lists[] = {{MATCH_T_MD5, "filemd5", "MD5"},
                 {MATCH_T_SHA1, "filesha1", "SHA-1"},
                 {MATCH_T_SHA256, "filesha256", "SHA-256"}};
    enum mrd_code rc = MRD_OK;

    for (size_t k = 0; k < 3 && rc == MRD_OK; k++) {
        const char *file = hash_list_file(lists[k].t);
        bool used = false;
        struct mrd_buf *b;
        uint32_t sid;
        const char *cid = w->collection_id != NULL ? w->collection_id : "-";

        for (size_t i = 0; i < w->nout; i++)
            used = used || w->out[i].file == file;
        if (!used)
            continue;
        b = main_out(w);
        if (b == NULL)
            return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
        sid = interop_sid(cid, strlen(cid), lists[k].kw);
        if (!sid_take(w, &sid))
            return mrd_err_set(err, MRD_E_NOMEM, "export: out of memory");
        w->rules++;
        rc = mrd_buf_printf(b, err,
                            "alert http any any -> any any (msg:\"Meridian: file %s on the "
                            "indicator list\"; %s:%s; sid:%u; rev:1; metadata:meridian_list %s, "
                            "meridian_collection %s;)\n",
                            lists[k].label, lists[k].kw, file, sid, lists[k].kw, cid);
    }
    return rc;
}

/* ---- Snort 3 ----
 * Snort 3 has no DNS-name or TLS-SNI buffer: a domain's DNS rule matches
 * the name as it travels (length-prefixed labels) right after the 12-byte
 * header of a UDP query, its TLS rule the server_name entry of a
 * ClientHello (name type 0, 16-bit length, name), and its HTTP rule the
 * Host header through `http_header:field host`. Content modifiers follow
 * the content after commas, as Snort 3 writes them. */

/* name as DNS labels on the wire ("\4evil\7example\0"). False when a
 * label is empty or longer than 63 bytes, or the name longer than 255. */
static bool dns_wire(const char *name, size_t n, char *out, size_t size, size_t *ret)
{
    size_t o = 0, start = 0;

    if (n + 2 > size || n + 2 > 255)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && name[i] != '.')
            continue;
        if (i == start || i - start > 63)
            return false;
        out[o++] = (char)(i - start);
        memcpy(out + o, name + start, i - start);
        o += i - start;
        start = i + 1;
    }
    out[o++] = '\0';
    *ret = o;
    return true;
}

/* A PCRE for "name or any subdomain" of a whole buffer, case-insensitive;
 * every byte but letters, digits and '-' escaped. */
static enum mrd_code put_suffix_pcre(struct mrd_buf *b, const char *name, size_t n,
                                     struct mrd_err *err)
{
    enum mrd_code rc = mrd_buf_puts(b, "pcre:\"/(^|\\.)", err);

    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        unsigned char c = (unsigned char)name[i];
        if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '-')
            rc = mrd_buf_putc(b, (char)c, err);
        else
            rc = mrd_buf_printf(b, err, "\\x%02x", c);
    }
    return rc == MRD_OK ? mrd_buf_puts(b, "$/i\"; ", err) : rc;
}

static enum mrd_code snort_domain(struct interop_writer *w, struct mrd_buf *b,
                                  const struct interop_ind *ind, const char *name, size_t n,
                                  const char **why, bool *ok, struct mrd_err *err)
{
    char lname[MATCH_MAX_VALUE], wire[MATCH_MAX_VALUE + 2], sni[MATCH_MAX_VALUE + 3];
    size_t wn;
    enum mrd_code rc;

    *ok = false;
    if (n > sizeof(lname)) {
        *why = "domain name too long";
        return MRD_OK;
    }
    /* lower-case first: put_content must not fold the length bytes */
    for (size_t i = 0; i < n; i++)
        lname[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] | 0x20 : name[i]);
    name = lname;
    if (!dns_wire(name, n, wire, sizeof(wire), &wn)) {
        *why = "not a DNS name (an empty label, a label over 63 bytes or over 253 in all)";
        return MRD_OK;
    }
    *ok = true;
    /* DNS: the query name, exact at its offset, or as a label suffix */
    rc = rule_open(w, b, "udp any any -> any 53", ind, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "content:", err);
    if (rc == MRD_OK)
        rc = put_content(b, wire, wn, false, err);
    if (rc == MRD_OK)
        rc = w->subdomains ? mrd_buf_puts(b, ",nocase; ", err)
                           : mrd_buf_printf(b, err, ",offset 12,depth %zu,nocase; ", wn);
    if (rc == MRD_OK)
        rc = rule_close(w, b, ind, "dns", err);
    /* TLS: the ClientHello's server_name entry (exact: its length is in it) */
    sni[0] = '\0';
    sni[1] = (char)(n >> 8);
    sni[2] = (char)(n & 0xff);
    memcpy(sni + 3, name, n);
    if (rc == MRD_OK)
        rc = rule_open(w, b, "tcp any any -> any any", ind, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "flow:to_server,established; ssl_state:client_hello; content:", err);
    if (rc == MRD_OK)
        rc = put_content(b, sni, n + 3, false, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, ",nocase; service:ssl; ", err);
    if (rc == MRD_OK)
        rc = rule_close(w, b, ind, "tls", err);
    /* HTTP: the Host header */
    if (rc == MRD_OK)
        rc = rule_open(w, b, "tcp any any -> any any", ind, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "flow:to_server,established; http_header:field host; ", err);
    if (rc == MRD_OK && w->subdomains) {
        rc = put_suffix_pcre(b, name, n, err);
    } else if (rc == MRD_OK) {
        rc = mrd_buf_puts(b, "content:", err);
        if (rc == MRD_OK)
            rc = put_content(b, name, n, false, err);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(b, err, ",nocase; bufferlen:%zu; ", n);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "service:http; ", err);
    if (rc == MRD_OK)
        rc = rule_close(w, b, ind, "http", err);
    return rc;
}

static enum mrd_code snort_value(struct interop_writer *w, const struct interop_ind *ind,
                                 const struct interop_value *v, size_t *written, const char **why,
                                 struct mrd_err *err)
{
    struct mrd_buf *b = main_out(w);
    enum mrd_code rc = MRD_OK;
    bool ok = true;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    switch (v->type) {
    case MATCH_T_IPV4:
    case MATCH_T_IPV6:
        if (!ip_rule(w, b, ind, v, &rc, err)) {
            *why = "not an IP address or CIDR range";
            return MRD_OK;
        }
        break;
    case MATCH_T_DOMAIN: {
        size_t n = v->n;
        if (n > 0 && v->v[n - 1] == '.')
            n--; /* the root label */
        rc = snort_domain(w, b, ind, v->v, n, why, &ok, err);
        break;
    }
    case MATCH_T_URL:
        if (!url_rule(w, b, ind, v, &snort_url, &rc, err)) {
            *why = "not an http(s) URL";
            return MRD_OK;
        }
        break;
    case MATCH_T_EMAIL:
        *why = "Snort 3 has no e-mail address keyword";
        return MRD_OK;
    default:
        *why = "Snort 3 rules have no file hash list (hashes go in its file_policy)";
        return MRD_OK;
    }
    if (rc == MRD_OK && ok)
        (*written)++;
    return rc;
}

/* ---- Zeek Intel framework ---- */

static const char *zeek_type(enum match_type t, bool cidr)
{
    switch (t) {
    case MATCH_T_IPV4:
    case MATCH_T_IPV6:
        return cidr ? "Intel::SUBNET" : "Intel::ADDR";
    case MATCH_T_DOMAIN:
        return "Intel::DOMAIN";
    case MATCH_T_URL:
        return "Intel::URL";
    case MATCH_T_EMAIL:
        return "Intel::EMAIL";
    default:
        return "Intel::FILE_HASH";
    }
}

static enum mrd_code zeek_value(struct interop_writer *w, const struct interop_ind *ind,
                                const struct interop_value *v, size_t *written, const char **why,
                                struct mrd_err *err)
{
    struct mrd_buf *b = main_out(w);
    char ip[INET6_ADDRSTRLEN + 8];
    const char *s = v->v;
    size_t n = v->n;
    bool cidr = false;
    enum mrd_code rc;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    if ((n == 1 && s[0] == '-') || !line_value(v, ip, sizeof(ip), &s, &n, why))
        return MRD_OK; /* '-' is Zeek's "unset" */
    if (v->type == MATCH_T_IPV4 || v->type == MATCH_T_IPV6) {
        cidr = memchr(s, '/', n) != NULL;
    } else if (v->type == MATCH_T_URL) {
        /* Zeek's Intel::URL is the URL without "http://" or "https://" */
        if (n > 7 && mrd_str_eq_nocase(s, 7, "http://", 7)) {
            s += 7;
            n -= 7;
        } else if (n > 8 && mrd_str_eq_nocase(s, 8, "https://", 8)) {
            s += 8;
            n -= 8;
        } else {
            *why = "Zeek intel URLs are http(s) only";
            return MRD_OK;
        }
    }
    rc = mrd_buf_append(b, s, n, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '\t', err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, zeek_type(v->type, cidr), err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '\t', err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, ind->id, ind->id_len, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '\t', err);
    if (rc == MRD_OK && ind->name != NULL && ind->name_len > 0)
        rc = put_text(b, ind->name, ind->name_len, "", 200, err);
    else if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '-', err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "\t-\n", err);
    if (rc == MRD_OK)
        (*written)++;
    return rc;
}

/* ---- lists, nftables, ipset ---- */

static const char *list_file(enum match_type t)
{
    static const char *const names[MATCH_T_COUNT] = {NULL,
                                                     INTEROP_LIST_IPV4,
                                                     INTEROP_LIST_IPV6,
                                                     INTEROP_LIST_DOMAIN,
                                                     INTEROP_LIST_URL,
                                                     INTEROP_LIST_EMAIL,
                                                     INTEROP_LIST_MD5,
                                                     INTEROP_LIST_SHA1,
                                                     INTEROP_LIST_SHA256,
                                                     INTEROP_LIST_SHA512};
    return (unsigned)t < MATCH_T_COUNT ? names[t] : NULL;
}

static enum mrd_code list_value(struct interop_writer *w, const struct interop_value *v,
                                size_t *written, const char **why, struct mrd_err *err)
{
    struct mrd_buf *b = output(w, list_file(v->type), false);
    char ip[INET6_ADDRSTRLEN + 8];
    const char *s = v->v;
    size_t n = v->n;
    enum mrd_code rc;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    if (!line_value(v, ip, sizeof(ip), &s, &n, why))
        return MRD_OK;
    rc = mrd_buf_append(b, s, n, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '\n', err);
    if (rc == MRD_OK)
        (*written)++;
    return rc;
}

#define NFT_PER_LINE 1000 /* elements per `add element` statement */

static enum mrd_code addr_value(struct interop_writer *w, const struct interop_value *v,
                                size_t *written, const char **why, struct mrd_err *err)
{
    bool v4 = v->type == MATCH_T_IPV4;
    struct mrd_buf *b;
    uint64_t *count = v4 ? &w->v4 : &w->v6;
    char ip[INET6_ADDRSTRLEN + 8];
    enum mrd_code rc;

    if (v->type != MATCH_T_IPV4 && v->type != MATCH_T_IPV6) {
        *why = "not an IP address or CIDR range";
        return MRD_OK;
    }
    if (!ip_norm(v->type, v->v, v->n, ip, sizeof(ip))) {
        *why = "not an IP address or CIDR range";
        return MRD_OK;
    }
    b = output(w, v4 ? INTEROP_INTERNAL_V4 : INTEROP_INTERNAL_V6, true);
    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    if (w->fmt == INTEROP_F_NFT) {
        /* lines of NFT_PER_LINE elements, each closed by end() or here */
        if (*count % NFT_PER_LINE == 0)
            rc = mrd_buf_printf(b, err, "%sadd element inet meridian %s { %s",
                                *count == 0 ? "" : " }\n", v4 ? "indicators_v4" : "indicators_v6",
                                ip);
        else if ((rc = mrd_buf_append(b, ", ", 2, err)) == MRD_OK)
            rc = mrd_buf_puts(b, ip, err);
    } else {
        rc = mrd_buf_puts(b, v4 ? "add " INTEROP_IPSET_V4 " " : "add " INTEROP_IPSET_V6 " ", err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(b, ip, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(b, " -exist\n", err);
    }
    if (rc == MRD_OK) {
        (*count)++;
        (*written)++;
    }
    return rc;
}

/* Appends the element buffers (v4, then v6) to b, each followed by tail. */
static enum mrd_code append_internal(struct interop_writer *w, struct mrd_buf *b, const char *tail,
                                     struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < w->nout && rc == MRD_OK; i++) {
        struct output *o = &w->out[i];
        if (!o->internal || o->b.len == 0)
            continue;
        rc = mrd_buf_append(b, o->b.data, o->b.len, err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(b, tail, err);
        mrd_buf_release(&o->b);
    }
    return rc;
}

static enum mrd_code nft_end(struct interop_writer *w, struct mrd_err *err)
{
    struct mrd_buf *b = main_out(w);
    enum mrd_code rc;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    rc = mrd_buf_puts(b,
                      "#!/usr/sbin/nft -f\n"
                      "# Meridian indicators (addresses and CIDR ranges); loading it again\n"
                      "# replaces the sets' contents. Use them from your own chains, e.g.\n"
                      "#   ip saddr @indicators_v4 drop\n"
                      "table inet meridian {\n"
                      "\tset indicators_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                      "\t\tauto-merge\n\t}\n"
                      "\tset indicators_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n"
                      "\t\tauto-merge\n\t}\n"
                      "}\n"
                      "flush set inet meridian indicators_v4\n"
                      "flush set inet meridian indicators_v6\n",
                      err);
    return rc == MRD_OK ? append_internal(w, b, " }\n", err) : rc;
}

static enum mrd_code ipset_end(struct interop_writer *w, struct mrd_err *err)
{
    struct mrd_buf *b = main_out(w);
    enum mrd_code rc;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    if (w->v4 > INTEROP_IPSET_MAXELEM || w->v6 > INTEROP_IPSET_MAXELEM)
        return mrd_err_set(err, MRD_E_TOOBIG, "export: more than %u addresses for one ipset set",
                           INTEROP_IPSET_MAXELEM);
    rc = mrd_buf_printf(b, err,
                        "create %s hash:net family inet hashsize 1024 maxelem %u -exist\n"
                        "flush %s\n"
                        "create %s hash:net family inet6 hashsize 1024 maxelem %u -exist\n"
                        "flush %s\n",
                        INTEROP_IPSET_V4, INTEROP_IPSET_MAXELEM, INTEROP_IPSET_V4, INTEROP_IPSET_V6,
                        INTEROP_IPSET_MAXELEM, INTEROP_IPSET_V6);
    return rc == MRD_OK ? append_internal(w, b, "", err) : rc;
}

/* ---- CSV ---- */

/* RFC 4180 field; a leading =,+,-,@ gets a ' so spreadsheets do not run it.
 * Control characters (mrd_str_char_len: C0 with CR and LF, DEL, C1, bidi
 * and line separators, bytes that are not UTF-8) become spaces: a CSV goes
 * to a terminal as often as to a spreadsheet, and has no escape for them. */
static enum mrd_code csv_field(struct mrd_buf *b, const char *s, size_t n, bool last,
                               struct mrd_err *err)
{
    bool quote = false, formula = n > 0 && strchr("=+-@", s[0]) != NULL && s[0] != '\0';
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"')
            quote = true;
    if (!quote && !formula && !mrd_str_needs_escape(s, n)) { /* as it is: one append */
        rc = mrd_buf_append(b, s, n, err);
        return rc == MRD_OK ? mrd_buf_putc(b, last ? '\n' : ',', err) : rc;
    }
    if (quote)
        rc = mrd_buf_putc(b, '"', err);
    if (rc == MRD_OK && formula)
        rc = mrd_buf_putc(b, '\'', err);
    for (size_t i = 0; i < n && rc == MRD_OK;) {
        bool ctl;
        size_t k = mrd_str_char_len(s + i, n - i, &ctl);
        if (ctl)
            rc = mrd_buf_putc(b, ' ', err);
        else if (s[i] == '"')
            rc = mrd_buf_append(b, "\"\"", 2, err);
        else
            rc = mrd_buf_append(b, s + i, k, err);
        i += k;
    }
    if (rc == MRD_OK && quote)
        rc = mrd_buf_putc(b, '"', err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, last ? '\n' : ',', err);
    return rc;
}

static const char *type_name(enum match_type t)
{
    static const char *const names[MATCH_T_COUNT] = {"",      "ipv4", "ipv6", "domain", "url",
                                                     "email", "md5",  "sha1", "sha256", "sha512"};
    return (unsigned)t < MATCH_T_COUNT ? names[t] : "";
}

static enum mrd_code csv_value(struct interop_writer *w, const struct interop_ind *ind,
                               const struct interop_value *v, size_t *written, struct mrd_err *err)
{
    struct mrd_buf *b = main_out(w);
    char t1[MRD_TIME_STIX_MS_LEN + 1] = "", t2[MRD_TIME_STIX_MS_LEN + 1] = "", conf[16] = "";
    const char *tlp = policy_tlp_name(ind->tlp);
    struct mrd_buf *labels = &w->scratch;
    enum mrd_code rc = MRD_OK;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    if (ind->valid_from != STORE_TIME_NONE)
        mrd_time_format_stix_ms(ind->valid_from, t1);
    if (ind->valid_until != STORE_TIME_NONE)
        mrd_time_format_stix_ms(ind->valid_until, t2);
    if (ind->confidence >= 0 && ind->confidence < 1000) { /* 0..100 in STIX */
        int c = ind->confidence, k = 0;
        if (c >= 100)
            conf[k++] = (char)('0' + c / 100);
        if (c >= 10)
            conf[k++] = (char)('0' + c / 10 % 10);
        conf[k++] = (char)('0' + c % 10);
        conf[k] = '\0';
    }
    mrd_buf_reset(labels); /* reused: no allocation per row */
    for (size_t i = 0; rc == MRD_OK && i < json_array_size(ind->labels); i++) {
        const json_t *l = json_array_get(ind->labels, i);
        if (!json_is_string(l))
            continue;
        if (labels->len > 0)
            rc = mrd_buf_putc(labels, ';', err);
        if (rc == MRD_OK)
            rc = mrd_buf_append(labels, json_string_value(l), json_string_length(l), err);
    }
    if (rc == MRD_OK)
        rc = csv_field(b, type_name(v->type), strlen(type_name(v->type)), false, err);
    if (rc == MRD_OK)
        rc = csv_field(b, v->v, v->n, false, err);
    if (rc == MRD_OK)
        rc = csv_field(b, ind->id, ind->id_len, false, err);
    if (rc == MRD_OK)
        rc = csv_field(b, tlp, strlen(tlp), false, err);
    if (rc == MRD_OK)
        rc = csv_field(b, conf, strlen(conf), false, err);
    if (rc == MRD_OK)
        rc = csv_field(b, t1, strlen(t1), false, err);
    if (rc == MRD_OK)
        rc = csv_field(b, t2, strlen(t2), false, err);
    if (rc == MRD_OK)
        rc = csv_field(b, labels->len > 0 ? labels->data : "", labels->len, true, err);
    if (rc == MRD_OK)
        (*written)++;
    return rc;
}

/* ---- Suricata datasets and iprep (large sets) ----
 * Names go into one dataset of `type string` (a line of base64 per name,
 * as Suricata 7 loads it) that three rules test with isset on dns.query,
 * tls.sni and http.host; addresses and CIDR ranges into an iprep file of
 * one category that one rule tests. The rules carry no STIX id (one rule
 * stands for many indicators): meridian-datasets.csv maps every value back
 * to its indicator, and `meridian match` finds the indicator from the
 * value the EVE alert carries. URLs (no Suricata buffer holds the host and
 * the path together) and file hashes (filemd5/filesha1/filesha256 lists are
 * already sets) are written as in the rule form. */

static enum mrd_code ds_map(struct interop_writer *w, const char *kind, const char *s, size_t n,
                            const struct interop_ind *ind, struct mrd_err *err)
{
    struct mrd_buf *m = output(w, INTEROP_DS_MAP, false);
    enum mrd_code rc;

    if (m == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    if (m->len == 0 && (rc = mrd_buf_puts(m, "list,value,indicator_id\n", err)) != MRD_OK)
        return rc;
    rc = csv_field(m, kind, strlen(kind), false, err);
    if (rc == MRD_OK)
        rc = csv_field(m, s, n, false, err);
    if (rc == MRD_OK)
        rc = csv_field(m, ind->id, ind->id_len, true, err);
    return rc;
}

static enum mrd_code ds_value(struct interop_writer *w, const struct interop_ind *ind,
                              const struct interop_value *v, size_t *written, const char **why,
                              struct mrd_err *err)
{
    char ip[INET6_ADDRSTRLEN + 8];
    const char *s;
    size_t n;
    struct mrd_buf *b;
    enum mrd_code rc;

    if (v->type != MATCH_T_IPV4 && v->type != MATCH_T_IPV6 && v->type != MATCH_T_DOMAIN)
        return suricata_value(w, ind, v, written, why, err);
    if (!line_value(v, ip, sizeof(ip), &s, &n, why))
        return MRD_OK;
    if (v->type == MATCH_T_DOMAIN) {
        char low[MATCH_MAX_VALUE],
            b64[sodium_base64_ENCODED_LEN(MATCH_MAX_VALUE, sodium_base64_VARIANT_ORIGINAL)];
        if (n > 0 && s[n - 1] == '.')
            n--; /* the root label */
        if (n == 0 || n > sizeof(low)) {
            *why = n == 0 ? "empty domain name" : "domain name too long";
            return MRD_OK;
        }
        /* lower-case: the rules fold dns.query and tls.sni with to_lowercase */
        for (size_t i = 0; i < n; i++)
            low[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] | 0x20 : s[i]);
        sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)low, n,
                          sodium_base64_VARIANT_ORIGINAL);
        b = output(w, INTEROP_DS_DOMAIN, false);
        if (b == NULL)
            return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
        rc = mrd_buf_puts(b, b64, err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(b, '\n', err);
        if (rc == MRD_OK)
            rc = ds_map(w, "domain", low, n, ind, err);
    } else {
        b = output(w, INTEROP_DS_IPREP, false);
        if (b == NULL)
            return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
        rc = mrd_buf_append(b, s, n, err);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(b, err, ",%d,%d\n", INTEROP_IPREP_CATEGORY, INTEROP_IPREP_SCORE);
        if (rc == MRD_OK)
            rc = ds_map(w, "ip", s, n, ind, err);
    }
    if (rc == MRD_OK)
        (*written)++;
    return rc;
}

static bool has_output(const struct interop_writer *w, const char *file)
{
    for (size_t i = 0; i < w->nout; i++)
        if (w->out[i].file == file)
            return true;
    return false;
}

/* The set rules, after the last indicator: three over the domain dataset,
 * one over the iprep category, then the hash-list rules. */
static enum mrd_code ds_end(struct interop_writer *w, struct mrd_err *err)
{
    static const struct {
        const char *proto, *buffer, *tag, *what;
    } where[] = {{"dns", "dns.query; to_lowercase", "dataset-dns", "DNS query for"},
                 {"tls", "tls.sni; to_lowercase", "dataset-tls", "TLS SNI of"},
                 {"http", "http.host", "dataset-http", "HTTP Host of"}};
    const char *cid = w->collection_id != NULL ? w->collection_id : "-";
    struct mrd_buf *b = main_out(w), *c;
    enum mrd_code rc = MRD_OK;
    uint32_t sid;

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    for (size_t k = 0; k < 3 && rc == MRD_OK && has_output(w, INTEROP_DS_DOMAIN); k++) {
        sid = interop_sid(cid, strlen(cid), where[k].tag);
        if (!sid_take(w, &sid))
            return mrd_err_set(err, MRD_E_NOMEM, "export: out of memory");
        w->rules++;
        rc = mrd_buf_printf(b, err,
                            "alert %s any any -> any any (msg:\"Meridian: %s a domain on the "
                            "indicator list\"; %s; dataset:isset,%s,type string,load %s; sid:%u; "
                            "rev:1; metadata:meridian_list domain, meridian_collection %s;)\n",
                            where[k].proto, where[k].what, where[k].buffer, INTEROP_DS_SET_DOMAIN,
                            INTEROP_DS_DOMAIN, sid, cid);
    }
    if (rc == MRD_OK && has_output(w, INTEROP_DS_IPREP)) {
        sid = interop_sid(cid, strlen(cid), "iprep");
        if (!sid_take(w, &sid))
            return mrd_err_set(err, MRD_E_NOMEM, "export: out of memory");
        w->rules++;
        rc = mrd_buf_printf(b, err,
                            "alert ip any any -> any any (msg:\"Meridian: address on the indicator "
                            "list\"; iprep:any,meridian,>,0; sid:%u; rev:1; metadata:meridian_list "
                            "ip, meridian_collection %s;)\n",
                            sid, cid);
        c = output(w, INTEROP_DS_CATEGORIES, false);
        if (rc == MRD_OK && c == NULL)
            rc = mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
        if (rc == MRD_OK)
            rc =
                mrd_buf_printf(c, err, "%d,meridian,Meridian indicators\n", INTEROP_IPREP_CATEGORY);
    }
    return rc == MRD_OK ? suricata_end(w, err) : rc;
}

/* ---- MISP feed ----
 * One event per export (its uuid derived from the collection id, so a
 * MISP instance subscribed to the feed sees the same event grow), one
 * to_ids attribute per value whose uuid is the indicator's (the first
 * value; later ones are derived from it): importing the feed back gives
 * the same indicator ids. Each attribute carries its indicator's TLP as a
 * tlp: tag. */

static const char *misp_type(enum match_type t, const char **category)
{
    *category = t == MATCH_T_EMAIL || t >= MATCH_T_MD5 ? "Payload delivery" : "Network activity";
    switch (t) {
    case MATCH_T_IPV4:
    case MATCH_T_IPV6:
        return "ip-dst";
    case MATCH_T_DOMAIN:
        return "domain";
    case MATCH_T_URL:
        return "url";
    case MATCH_T_EMAIL:
        return "email-dst";
    case MATCH_T_MD5:
        return "md5";
    case MATCH_T_SHA1:
        return "sha1";
    case MATCH_T_SHA256:
        return "sha256";
    case MATCH_T_SHA512:
        return "sha512";
    default:
        return NULL;
    }
}

static enum mrd_code misp_start(struct interop_writer *w, const char *cid, struct mrd_err *err)
{
    struct mrd_buf *b;

    if (w->ev_uuid[0] != '\0')
        return MRD_OK;
    if (mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, cid, strlen(cid), w->ev_uuid, err) != MRD_OK)
        return MRD_E_INVAL;
    (void)snprintf(w->ev_file, sizeof(w->ev_file), "%s.json", w->ev_uuid);
    b = output(w, w->ev_file, false);
    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    return mrd_buf_puts(b, "{\"Event\":{\"Attribute\":[", err);
}

static enum mrd_code misp_value(struct interop_writer *w, const struct interop_ind *ind,
                                const struct interop_value *v, size_t k, size_t *written,
                                const char **why, struct mrd_err *err)
{
    const char *cat, *type = misp_type(v->type, &cat);
    static const char hex[] = "0123456789abcdef";
    const char *cid = ind->collection_id != NULL ? ind->collection_id : "-";
    char u[MRD_UUID_STR_LEN + 1], md5[33];
    struct mrd_buf *b, *h;
    size_t mark;
    int64_t secs = ind->modified_usec / 1000000;
    uint8_t digest[16];
    enum mrd_code rc;

    if (type == NULL || v->n == 0 || has_ctl(v->v, v->n)) {
        *why = "no MISP attribute type for this value";
        return MRD_OK;
    }
    rc = misp_start(w, cid, err);
    if (rc != MRD_OK)
        return rc;
    /* the indicator's own uuid for its first value */
    if (k == 0 && ind->id_len > 36) {
        memcpy(u, ind->id + ind->id_len - 36, 36);
        u[36] = '\0';
    } else if (mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, ind->id, ind->id_len, u, err) != MRD_OK) {
        return MRD_E_INVAL;
    }
    if (k > 0) {
        char name[STORE_STIX_ID_MAX + 16];
        (void)snprintf(name, sizeof(name), "%.*s#%zu", (int)ind->id_len, ind->id, k);
        if (mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, name, strlen(name), u, err) != MRD_OK)
            return MRD_E_INVAL;
    }
    /* the attribute as json_dumps(JSON_COMPACT | JSON_SORT_KEYS) would
     * write it, formatted by hand (no DOM per value; MISP wants the
     * timestamp as a string of digits) */
    b = output(w, w->ev_file, false);
    h = output(w, INTEROP_MISP_HASHES, false);
    if (b == NULL || h == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    mark = b->len;
    rc = w->attrs > 0 ? mrd_buf_putc(b, ',', err) : MRD_OK;
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "{\"Tag\":[{\"name\":\"tlp:", err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, policy_tlp_name(ind->tlp), err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "\"}],\"category\":\"", err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, cat, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "\",\"comment\":", err);
    if (rc == MRD_OK)
        rc = mrd_jcs_string(ind->id, ind->id_len, b, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, ",\"timestamp\":\"", err);
    if (rc == MRD_OK)
        rc = put_u64(b, (uint64_t)(secs > 0 ? secs : 0), err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "\",\"to_ids\":true,\"type\":\"", err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, type, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "\",\"uuid\":\"", err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, u, MRD_UUID_STR_LEN, err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "\",\"value\":", err);
    if (rc == MRD_OK)
        rc = mrd_jcs_string(v->v, v->n, b, err);
    if (rc == MRD_E_INVAL) {
        b->len = mark; /* undo the half-written attribute */
        mrd_err_clear(err);
        *why = "value is not UTF-8";
        return MRD_OK;
    }
    if (rc == MRD_OK)
        rc = mrd_buf_putc(b, '}', err);
    /* hashes.csv: md5(value),event uuid (MISP's feed cache) */
    mrd_md5(v->v, v->n, digest);
    for (int i = 0; i < 16; i++) {
        md5[2 * i] = hex[digest[i] >> 4];
        md5[2 * i + 1] = hex[digest[i] & 15];
    }
    md5[32] = ',';
    if (rc == MRD_OK)
        rc = mrd_buf_append(h, md5, 33, err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(h, w->ev_uuid, MRD_UUID_STR_LEN, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(h, '\n', err);
    if (rc == MRD_OK) {
        w->attrs++;
        if (secs > w->ev_time)
            w->ev_time = secs;
        (*written)++;
    }
    return rc;
}

static enum mrd_code misp_end(struct interop_writer *w, struct mrd_err *err)
{
    const char *cid = w->collection_id != NULL ? w->collection_id : "-";
    char date[MRD_TIME_STIX_MS_LEN + 1], ts[24], orgc[MRD_UUID_STR_LEN + 1], info[160];
    struct mrd_buf *b, *m;
    json_t *ev = NULL, *man = NULL;
    char *text = NULL, *mtext = NULL;
    enum mrd_code rc;

    rc = misp_start(w, cid, err);
    if (rc == MRD_OK)
        rc = mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, "meridian", 8, orgc, err);
    if (rc != MRD_OK)
        return rc;
    mrd_time_format_stix_ms(w->ev_time * 1000000, date);
    date[10] = '\0';
    (void)snprintf(ts, sizeof(ts), "%lld", (long long)w->ev_time);
    (void)snprintf(info, sizeof(info), "Meridian collection %s", cid);
    ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s}}", "uuid", w->ev_uuid,
                   "info", info, "date", date, "timestamp", ts, "analysis", "2", "threat_level_id",
                   "4", "distribution", "0", "published", 1, "Orgc", "name", "Meridian", "uuid",
                   orgc);
    man = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:[]}}", w->ev_uuid, "info", info,
                    "date", date, "timestamp", ts, "analysis", "2", "threat_level_id", "4", "Orgc",
                    "name", "Meridian", "uuid", orgc, "Tag");
    text = ev != NULL ? json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    mtext = man != NULL ? json_dumps(man, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    b = output(w, w->ev_file, false);
    m = output(w, INTEROP_MISP_MANIFEST, false);
    if (text == NULL || mtext == NULL || b == NULL || m == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "export: out of memory");
        goto out;
    }
    /* the attributes are written; the event's own members follow them */
    rc = mrd_buf_puts(b, "],", err);
    if (rc == MRD_OK)
        rc = mrd_buf_append(b, text + 1, strlen(text) - 1, err); /* without its '{' */
    if (rc == MRD_OK)
        rc = mrd_buf_puts(b, "}\n", err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(m, mtext, err);
    if (rc == MRD_OK)
        rc = mrd_buf_putc(m, '\n', err);
    if (rc == MRD_OK)
        (void)output(w, INTEROP_MISP_HASHES, false); /* an empty feed still has one */
out:
    free(text);
    free(mtext);
    json_decref(ev);
    json_decref(man);
    return rc;
}

/* ---- the writer interface ---- */

enum mrd_code interop_writer_begin(struct interop_writer *w, struct mrd_err *err)
{
    struct mrd_buf *b = main_out(w);

    if (b == NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "export: too many outputs");
    switch (w->fmt) {
    case INTEROP_F_CSV:
        return mrd_buf_puts(
            b, "type,value,indicator_id,tlp,confidence,valid_from,valid_until,labels\n", err);
    case INTEROP_F_ZEEK:
        return mrd_buf_puts(b,
                            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\t"
                            "meta.url\n",
                            err);
    case INTEROP_F_SURICATA:
        return mrd_buf_puts(b, "# Meridian indicators as Suricata 7 rules (docs/interop.md)\n",
                            err);
    case INTEROP_F_SURICATA_DS:
        return mrd_buf_puts(b,
                            "# Meridian indicators as Suricata 7 datasets and iprep "
                            "(docs/interop.md). Run with\n"
                            "#   --set default-rule-path=DIR --set default-reputation-path=DIR\n"
                            "#   --set reputation-categories-file=DIR/" INTEROP_DS_CATEGORIES "\n"
                            "#   --set reputation-files.0=" INTEROP_DS_IPREP "\n"
                            "# and, past ~100,000 addresses, a larger host table (Suricata's\n"
                            "# default 32mb holds fewer): --set host.memcap=512mb\n",
                            err);
    case INTEROP_F_SNORT:
        return mrd_buf_puts(b, "# Meridian indicators as Snort 3 rules (docs/interop.md)\n", err);
    default:
        return MRD_OK;
    }
}

enum mrd_code interop_writer_add(struct interop_writer *w, const struct interop_ind *ind,
                                 const struct interop_value *vals, size_t n, size_t *ret_written,
                                 const char **ret_why, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    *ret_written = 0;
    *ret_why = "no value of this format's kinds";
    if (ind->collection_id != NULL)
        w->collection_id = ind->collection_id;
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        switch (w->fmt) {
        case INTEROP_F_SURICATA:
            rc = suricata_value(w, ind, &vals[i], ret_written, ret_why, err);
            break;
        case INTEROP_F_ZEEK:
            rc = zeek_value(w, ind, &vals[i], ret_written, ret_why, err);
            break;
        case INTEROP_F_SNORT:
            rc = snort_value(w, ind, &vals[i], ret_written, ret_why, err);
            break;
        case INTEROP_F_SURICATA_DS:
            rc = ds_value(w, ind, &vals[i], ret_written, ret_why, err);
            break;
        case INTEROP_F_LIST:
            rc = list_value(w, &vals[i], ret_written, ret_why, err);
            break;
        case INTEROP_F_NFT:
        case INTEROP_F_IPSET:
            rc = addr_value(w, &vals[i], ret_written, ret_why, err);
            break;
        case INTEROP_F_CSV:
            rc = csv_value(w, ind, &vals[i], ret_written, err);
            break;
        case INTEROP_F_MISP:
            rc = misp_value(w, ind, &vals[i], i, ret_written, ret_why, err);
            break;
        default:
            rc = mrd_err_set(err, MRD_E_INVAL, "export: not a value format");
        }
    }
    return rc;
}

enum mrd_code interop_writer_end(struct interop_writer *w, struct mrd_err *err)
{
    switch (w->fmt) {
    case INTEROP_F_SURICATA:
        return suricata_end(w, err);
    case INTEROP_F_SURICATA_DS:
        return ds_end(w, err);
    case INTEROP_F_NFT:
        return nft_end(w, err);
    case INTEROP_F_IPSET:
        return ipset_end(w, err);
    case INTEROP_F_MISP:
        return misp_end(w, err);
    default:
        return MRD_OK;
    }
}
