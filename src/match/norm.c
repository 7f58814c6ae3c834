/*
 * norm: textual forms of addresses and URLs into comparable bytes.
 * Everything here works on borrowed (ptr, len) bytes and never allocates:
 * it runs for every field of every log line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "match/match_int.h"

bool match_ipv4_parse(const char *s, size_t n, uint32_t *ret)
{
    return match__ipv4_parse(s, n, ret);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = match__lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool match_ipv6_parse(const char *s, size_t n, uint8_t ret[16])
{
    uint16_t words[8];
    int nw = 0;
    int gap = -1; /* index in words where "::" stands */
    size_t i = 0;

    /* A zone index (fe80::1%eth0) names an interface, not an address. */
    for (size_t k = 0; k < n; k++) {
        if (s[k] == '%') {
            n = k;
            break;
        }
    }
    if (n < 2 || n > 45)
        return false;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        gap = 0;
        i = 2;
        if (i == n) {
            memset(ret, 0, 16);
            return true;
        }
    }
    while (i < n) {
        unsigned v = 0;
        size_t start = i;
        int h;

        if (nw >= 8)
            return false;
        while (i < n && i - start < 4 && (h = hexval((unsigned char)s[i])) >= 0) {
            v = (v << 4) | (unsigned)h;
            i++;
        }
        if (i < n && s[i] == '.') {
            /* Embedded IPv4 (::ffff:1.2.3.4) fills the last two words. */
            uint32_t v4;
            if (nw > 6 || !match_ipv4_parse(s + start, n - start, &v4))
                return false;
            words[nw++] = (uint16_t)(v4 >> 16);
            words[nw++] = (uint16_t)(v4 & 0xffff);
            i = n;
            break;
        }
        if (i == start)
            return false;
        words[nw++] = (uint16_t)v;
        if (i == n)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < n && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = nw;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return false; /* trailing single ':' */
        }
    }
    if (gap < 0 && nw != 8)
        return false;
    if (gap >= 0 && nw > 7)
        return false;
    memset(ret, 0, 16);
    if (gap < 0) {
        for (int k = 0; k < 8; k++) {
            ret[2 * k] = (uint8_t)(words[k] >> 8);
            ret[2 * k + 1] = (uint8_t)words[k];
        }
    } else {
        int tail = nw - gap;
        for (int k = 0; k < gap; k++) {
            ret[2 * k] = (uint8_t)(words[k] >> 8);
            ret[2 * k + 1] = (uint8_t)words[k];
        }
        for (int k = 0; k < tail; k++) {
            int d = 8 - tail + k;
            ret[2 * d] = (uint8_t)(words[gap + k] >> 8);
            ret[2 * d + 1] = (uint8_t)words[gap + k];
        }
    }
    return true;
}

/* Host bytes without a trailing dot ("evil.com." is the same name). */
size_t match__host_trim(const char *s, size_t n)
{
    if (n > 1 && s[n - 1] == '.')
        n--;
    return n;
}

static bool default_port(const char *scheme, size_t sn, const char *port, size_t pn)
{
    static const struct {
        const char *scheme;
        const char *port;
    } defaults[] = {{"http", "80"}, {"https", "443"}, {"ftp", "21"}, {"ws", "80"}, {"wss", "443"}};

    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (strlen(defaults[i].scheme) == sn && memcmp(defaults[i].scheme, scheme, sn) == 0)
            return strlen(defaults[i].port) == pn && memcmp(defaults[i].port, port, pn) == 0;
    return false;
}

size_t match_url_normalize(const char *s, size_t n, char *out, size_t outmax, const char **host,
                           size_t *hostlen)
{
    size_t i = 0, o = 0, sn, auth_end, h0, h1, hp0, hp1, p0 = 0, pn = 0;
    const char *scheme = s;

    if (n == 0 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return 0;
    while (i < n && s[i] != ':') {
        unsigned char c = (unsigned char)s[i];
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '+' &&
            c != '-' && c != '.')
            return 0;
        i++;
    }
    sn = i;
    if (sn == 0 || sn > 16 || n - i < 3 || s[i + 1] != '/' || s[i + 2] != '/')
        return 0;
    i += 3;
    /* The searches below run for every URL in a log (referers): block
     * searches, not byte loops. The authority ends at '/', '?' or '#'. */
    auth_end = (size_t)(match__find2(s + i, s + n, '/', '?') - s);
    auth_end = (size_t)(match__find(s + i, s + auth_end, '#') - s);
    /* userinfo@ stays as written; the host starts after the last '@'. */
    h0 = i;
    for (size_t k = (size_t)(match__find(s + i, s + auth_end, '@') - s); k < auth_end;
         k = (size_t)(match__find(s + k + 1, s + auth_end, '@') - s))
        h0 = k + 1;
    if (h0 < auth_end && s[h0] == '[') {
        h1 = (size_t)(match__find(s + h0, s + auth_end, ']') - s);
        if (h1 == auth_end)
            return 0;
        hp0 = h0 + 1;
        hp1 = h1;
        h1++;
    } else {
        h1 = (size_t)(match__find(s + h0, s + auth_end, ':') - s);
        hp0 = h0;
        hp1 = h0 + match__host_trim(s + h0, h1 - h0);
    }
    if (hp1 <= hp0)
        return 0;
    if (h1 < auth_end) {
        if (s[h1] != ':')
            return 0;
        p0 = h1 + 1;
        pn = auth_end - p0;
        for (size_t k = p0; k < auth_end; k++)
            if (s[k] < '0' || s[k] > '9')
                return 0;
    }
    /* scheme "://" userinfo host [":" port] path; bounded by outmax. */
    if (sn + 3 + (auth_end - i) + (n - auth_end) + 1 > outmax)
        return 0;
    for (size_t k = 0; k < sn; k++)
        out[o++] = (char)match__lower((unsigned char)scheme[k]);
    out[o++] = ':';
    out[o++] = '/';
    out[o++] = '/';
    memcpy(out + o, s + i, h0 - i);
    o += h0 - i;
    if (hp0 != h0)
        out[o++] = '[';
    for (size_t k = hp0; k < hp1; k++)
        out[o++] = (char)match__lower((unsigned char)s[k]);
    if (hp0 != h0)
        out[o++] = ']';
    if (pn > 0 && !default_port(out, sn, s + p0, pn)) {
        out[o++] = ':';
        memcpy(out + o, s + p0, pn);
        o += pn;
    }
    if (auth_end == n || s[auth_end] != '/')
        out[o++] = '/';
    memcpy(out + o, s + auth_end, n - auth_end);
    o += n - auth_end;
    if (host != NULL) {
        *host = s + hp0;
        *hostlen = hp1 - hp0;
    }
    return o;
}
