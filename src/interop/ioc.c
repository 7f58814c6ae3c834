/*
 * ioc: plain-text and CSV lists of values (IP addresses, domains, URLs,
 * hashes, e-mail addresses) as STIX indicators (interop.h).
 *
 * Pure. Values are what feeds publish: possibly defanged ("hxxp://",
 * "evil[.]com"), with surrounding blanks and quotes. A value is classified
 * (or checked against the kind the caller names), normalised and turned
 * into a pattern; the indicator id is derived from the pattern (UUIDv5),
 * so the same value imported twice is the same indicator.
 */
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "core/uuid.h"
#include "interop/interop_int.h"

/* "hxxp" -> "http", "[.]" / "(.)" / "[dot]" -> ".", "[@]" / "[at]" -> "@",
 * "[:]" -> ":": the usual defanging of shared lists. */
static size_t refang(const char *s, size_t n, char *out, size_t max)
{
    static const struct {
        const char *from, *to;
    } subs[] = {{"hxxps://", "https://"}, {"hxxp://", "http://"}, {"[.]", "."},  {"(.)", "."},
                {"[dot]", "."},           {"[@]", "@"},           {"[at]", "@"}, {"[:]", ":"},
                {"[://]", "://"}};
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        bool done = false;
        for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]) && !done; k++) {
            size_t fl = strlen(subs[k].from), tl = strlen(subs[k].to);
            if (n - i >= fl && mrd_str_eq_nocase(s + i, fl, subs[k].from, fl)) {
                if (o + tl > max)
                    return (size_t)-1;
                memcpy(out + o, subs[k].to, tl);
                o += tl;
                i += fl;
                done = true;
            }
        }
        if (done)
            continue;
        if (o + 1 > max)
            return (size_t)-1;
        out[o++] = s[i++];
    }
    return o;
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (mrd_hex_digit((unsigned char)s[i]) < 0)
            return false;
    return true;
}

static bool is_domain(const char *s, size_t n)
{
    bool dot = false;

    if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.')
            dot = true;
        else if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '-' &&
                 c != '_' && c < 0x80)
            return false;
    }
    return dot;
}

static bool is_ip(enum match_type t, const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash != NULL ? (size_t)(slash - s) : n;
    uint64_t plen;
    uint32_t v4;
    uint8_t v6[16];

    if (slash != NULL &&
        mrd_str_to_u64(slash + 1, n - an - 1, t == MATCH_T_IPV4 ? 32 : 128, &plen, NULL) != MRD_OK)
        return false;
    return t == MATCH_T_IPV4 ? match_ipv4_parse(s, an, &v4) : match_ipv6_parse(s, an, v6);
}

/* The value's type when it is one of kind (INTEROP_K_COUNT: any). */
static enum match_type classify(const char *s, size_t n, enum interop_kind kind)
{
    bool any = kind == INTEROP_K_COUNT;

    if ((any || kind == INTEROP_K_IP) && is_ip(MATCH_T_IPV4, s, n))
        return MATCH_T_IPV4;
    if ((any || kind == INTEROP_K_IP) && memchr(s, ':', n) != NULL && is_ip(MATCH_T_IPV6, s, n))
        return MATCH_T_IPV6;
    if ((any || kind == INTEROP_K_URL) && memmem(s, n, "://", 3) != NULL) {
        char norm[MATCH_MAX_VALUE];
        return match_url_normalize(s, n, norm, sizeof(norm), NULL, NULL) > 0 ? MATCH_T_URL
                                                                             : MATCH_T_NONE;
    }
    if ((any || kind == INTEROP_K_HASH) && is_hex(s, n)) {
        switch (n) {
        case 32:
            return MATCH_T_MD5;
        case 40:
            return MATCH_T_SHA1;
        case 64:
            return MATCH_T_SHA256;
        case 128:
            return MATCH_T_SHA512;
        default:
            break;
        }
    }
    if (any || kind == INTEROP_K_EMAIL) {
        const char *at = memchr(s, '@', n);
        if (at != NULL && at > s && is_domain(at + 1, n - (size_t)(at - s) - 1))
            return MATCH_T_EMAIL;
    }
    if ((any || kind == INTEROP_K_DOMAIN) && is_domain(s, n))
        return MATCH_T_DOMAIN;
    return MATCH_T_NONE;
}

static const char *path_of(enum match_type t)
{
    static const char *const paths[MATCH_T_COUNT] = {NULL,
                                                     "ipv4-addr:value",
                                                     "ipv6-addr:value",
                                                     "domain-name:value",
                                                     "url:value",
                                                     "email-addr:value",
                                                     "file:hashes.MD5",
                                                     "file:hashes.'SHA-1'",
                                                     "file:hashes.'SHA-256'",
                                                     "file:hashes.'SHA-512'"};
    return (unsigned)t < MATCH_T_COUNT ? paths[t] : NULL;
}

enum mrd_code interop_ioc_value(const char *raw, size_t n, enum interop_kind kind,
                                struct interop_ioc *ret, struct mrd_err *err)
{
    char v[MATCH_MAX_VALUE];
    size_t vn;
    enum match_type t;
    enum mrd_code rc;

    /* blanks and one pair of quotes around the value */
    while (n > 0 && (raw[0] == ' ' || raw[0] == '\t'))
        raw++, n--;
    while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t' || raw[n - 1] == '\r'))
        n--;
    if (n >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[n - 1] == raw[0])
        raw++, n -= 2;
    if (n == 0)
        return mrd_err_set(err, MRD_E_INVALID, "empty value");
    vn = refang(raw, n, v, sizeof(v));
    if (vn == (size_t)-1)
        return mrd_err_set(err, MRD_E_TOOBIG, "value longer than %d bytes", MATCH_MAX_VALUE);
    if (!mrd_utf8_valid(v, vn))
        return mrd_err_set(err, MRD_E_INVALID, "value is not UTF-8");
    for (size_t i = 0; i < vn; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return mrd_err_set(err, MRD_E_INVALID, "value holds control characters");
    t = classify(v, vn, kind);
    if (t == MATCH_T_NONE)
        return mrd_err_set(err, MRD_E_INVALID, "'%.*s' is not %s", (int)(vn > 80 ? 80 : vn), v,
                           kind == INTEROP_K_IP       ? "an IP address or CIDR range"
                           : kind == INTEROP_K_DOMAIN ? "a domain name"
                           : kind == INTEROP_K_URL    ? "an absolute URL"
                           : kind == INTEROP_K_EMAIL  ? "an e-mail address"
                           : kind == INTEROP_K_HASH   ? "an MD5, SHA-1, SHA-256 or SHA-512 hash"
                                                      : "an IP, domain, URL, e-mail or hash");
    if (t == MATCH_T_DOMAIN || t >= MATCH_T_MD5) /* case carries no meaning there */
        for (size_t i = 0; i < vn; i++)
            if (v[i] >= 'A' && v[i] <= 'Z')
                v[i] = (char)(v[i] | 0x20);
    ret->type = t;
    mrd_buf_reset(&ret->pattern);
    rc = mrd_buf_printf(&ret->pattern, err, "[%s = '", path_of(t));
    for (size_t i = 0; rc == MRD_OK && i < vn; i++) {
        if (v[i] == '\'' || v[i] == '\\')
            rc = mrd_buf_putc(&ret->pattern, '\\', err);
        if (rc == MRD_OK)
            rc = mrd_buf_putc(&ret->pattern, v[i], err);
    }
    if (rc == MRD_OK)
        rc = mrd_buf_puts(&ret->pattern, "']", err);
    if (rc != MRD_OK)
        return rc;
    memcpy(ret->value, v, vn);
    ret->value[vn] = '\0';
    ret->value_len = vn;
    /* the id: the same pattern is the same indicator */
    return mrd_uuid_v5(MRD_UUID_STIX_NAMESPACE, ret->pattern.data, ret->pattern.len, ret->uuid,
                       err);
}

size_t interop_csv_split(const char *line, size_t n, char sep, char *scratch, size_t scap,
                         const char **f, size_t *fn, size_t max)
{
    size_t nf = 0, used = 0, i = 0;

    for (;;) {
        if (nf == max)
            return (size_t)-1;
        if (i < n && line[i] == '"') {
            /* quoted: "" is a quote; the field is unescaped into scratch */
            size_t start = used;
            i++;
            for (;;) {
                if (i >= n)
                    return (size_t)-1; /* unterminated */
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        if (used == scap)
                            return (size_t)-1;
                        scratch[used++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (used == scap)
                    return (size_t)-1;
                scratch[used++] = line[i++];
            }
            f[nf] = scratch + start;
            fn[nf] = used - start;
            nf++;
            if (i < n && line[i] != sep)
                return (size_t)-1; /* text after the closing quote */
        } else {
            size_t s = i;
            while (i < n && line[i] != sep)
                i++;
            f[nf] = line + s;
            fn[nf] = i - s;
            nf++;
        }
        if (i >= n)
            return nf;
        i++; /* the separator */
    }
}
