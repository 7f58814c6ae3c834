/*
 * name.c: domain names in presentation form (RFC 1035 §5.1, RFC 4343
 * case-insensitivity) and the names of types and RCODEs.
 */
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

enum mrd_code dns_name_parse(const char *s, size_t n, struct dns_name *ret, struct mrd_err *err)
{
    struct dns_name out = {0};
    size_t i = 0, lab = 0; /* lab: where the current label's length goes */

    if (n == 1 && s[0] == '.') {
        ret->len = 1;
        ret->wire[0] = 0;
        return MRD_OK;
    }
    if (n == 0)
        return mrd_err_set(err, MRD_E_PARSE, "dns: empty name");
    out.len = 1;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        if (c == '.') {
            size_t l = (size_t)out.len - lab - 1;
            if (l == 0)
                return mrd_err_set(err, MRD_E_PARSE,
                                   "dns: name offset %zu: empty label (RFC 1035 §2.3.1)", i);
            out.wire[lab] = (uint8_t)l;
            lab = out.len;
            if (out.len >= DNS_MAX_NAME)
                goto toolong;
            out.len++;
            i++;
            continue;
        }
        if (c == '\\') {
            if (i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
                unsigned v = 0;
                for (int k = 1; k <= 3; k++) {
                    if (s[i + k] < '0' || s[i + k] > '9')
                        return mrd_err_set(err, MRD_E_PARSE,
                                           "dns: name offset %zu: bad \\DDD escape (RFC 1035 "
                                           "§5.1)",
                                           i);
                    v = v * 10 + (unsigned)(s[i + k] - '0');
                }
                if (v > 255)
                    return mrd_err_set(err, MRD_E_PARSE,
                                       "dns: name offset %zu: \\DDD escape above 255 (RFC 1035 "
                                       "§5.1)",
                                       i);
                c = (uint8_t)v;
                i += 4;
            } else if (i + 1 < n && !(s[i + 1] >= '0' && s[i + 1] <= '9')) {
                c = (uint8_t)s[i + 1];
                i += 2;
            } else {
                return mrd_err_set(err, MRD_E_PARSE,
                                   "dns: name offset %zu: bad escape (RFC 1035 §5.1)", i);
            }
        } else {
            i++;
        }
        if ((size_t)out.len - lab - 1 >= DNS_MAX_LABEL)
            return mrd_err_set(err, MRD_E_PARSE,
                               "dns: name offset %zu: label longer than %d octets (RFC 1035 "
                               "§2.3.4)",
                               i, DNS_MAX_LABEL);
        if (out.len >= DNS_MAX_NAME - 1)
            goto toolong;
        out.wire[out.len++] = c;
    }
    if ((size_t)out.len - lab - 1 > 0) { /* no final dot */
        out.wire[lab] = (uint8_t)(out.len - lab - 1);
        if (out.len >= DNS_MAX_NAME)
            goto toolong;
        out.len++;
    }
    out.wire[out.len - 1] = 0;
    *ret = out;
    return MRD_OK;
toolong:
    return mrd_err_set(err, MRD_E_PARSE, "dns: name longer than %d octets (RFC 1035 §2.3.4)",
                       DNS_MAX_NAME);
}

void dns_name_format(const struct dns_name *name, char out[DNS_MAX_NAME_STR])
{
    size_t o = 0;

    if (name->len <= 1) {
        out[0] = '.';
        out[1] = '\0';
        return;
    }
    for (size_t i = 0; i < name->len && name->wire[i] != 0;) {
        uint8_t l = name->wire[i];
        for (size_t j = 1; j <= l && i + j < name->len; j++) {
            uint8_t c = lower(name->wire[i + j]);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '*')
                out[o++] = (char)c;
            else
                o += (size_t)snprintf(out + o, DNS_MAX_NAME_STR - o, "\\%03u", c);
        }
        out[o++] = '.';
        i += (size_t)l + 1;
    }
    out[o] = '\0';
}

bool dns_name_eq(const struct dns_name *a, const struct dns_name *b)
{
    if (a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        if (lower(a->wire[i]) != lower(b->wire[i]))
            return false;
    }
    return true;
}

unsigned dns_name_labels(const struct dns_name *name)
{
    unsigned n = 0;
    for (size_t i = 0; i < name->len && name->wire[i] != 0; i += (size_t)name->wire[i] + 1)
        n++;
    return n;
}

bool dns_name_under(const struct dns_name *name, const struct dns_name *zone)
{
    size_t i = 0;
    unsigned nl = dns_name_labels(name), zl = dns_name_labels(zone);

    if (nl < zl)
        return false;
    for (unsigned k = 0; k < nl - zl; k++)
        i += (size_t)name->wire[i] + 1;
    if ((size_t)name->len - i != zone->len)
        return false;
    for (size_t j = 0; j < zone->len; j++) {
        if (lower(name->wire[i + j]) != lower(zone->wire[j]))
            return false;
    }
    return true;
}

const char *dns_type_name(uint16_t type, char s[16])
{
    static const struct {
        uint16_t t;
        const char *n;
    } names[] = {{DNS_T_A, "A"},           {DNS_T_NS, "NS"},       {DNS_T_CNAME, "CNAME"},
                 {DNS_T_SOA, "SOA"},       {DNS_T_AAAA, "AAAA"},   {DNS_T_OPT, "OPT"},
                 {DNS_T_DS, "DS"},         {DNS_T_RRSIG, "RRSIG"}, {DNS_T_NSEC, "NSEC"},
                 {DNS_T_DNSKEY, "DNSKEY"}, {DNS_T_NSEC3, "NSEC3"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].t == type)
            return names[i].n;
    }
    (void)snprintf(s, 16, "TYPE%u", type);
    return s;
}

const char *dns_rcode_name(uint16_t rcode, char s[16])
{
    static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                        "NXDOMAIN", "NOTIMP",  "REFUSED"};
    if (rcode < sizeof(names) / sizeof(names[0]))
        return names[rcode];
    (void)snprintf(s, 16, "RCODE%u", rcode);
    return s;
}
