/*
 * json_lite: just enough JSON reading to walk log lines and STIX bundles
 * without building a DOM. jansson would allocate a node per value: a
 * million indicators would cost gigabytes and seconds, and a JSON log line
 * would cost allocations per line. These helpers only find boundaries; the
 * callers decide what to look at.
 */
#include <string.h>

#include "match/json_lite.h"
#include "match/match_int.h"

const char *match__json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

const char *match__json_string_end(const char *p, const char *end, bool *has_esc)
{
    /* p points at the opening quote; a backslash escapes the next byte. */
    bool esc = false;

    p++;
    for (;;) {
        p = match__find2(p, end, '"', '\\');
        if (p >= end)
            return NULL;
        if (*p == '"') {
            *has_esc = esc;
            return p + 1;
        }
        esc = true;
        p += 2;
    }
}

const char *match__json_skip(const char *p, const char *end)
{
    int depth = 0;
    bool esc;

    p = match__json_ws(p, end);
    if (p >= end)
        return NULL;
    if (*p == '"')
        return match__json_string_end(p, end, &esc);
    if (*p != '{' && *p != '[') {
        const char *s = p;
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\t' && *p != '\r')
            p++;
        return p > s ? p : NULL;
    }
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = match__json_string_end(p, end, &esc);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth == 0)
                return p + 1;
            if (depth < 0)
                return NULL;
        }
        p++;
    }
    return NULL;
}

static int hex4(const char *p, const char *end)
{
    int v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (c | 0x20) - 'a' + 10;
        else
            return -1;
    }
    return v;
}

size_t match__json_unescape(const char *s, size_t n, char *out, size_t max)
{
    const char *end = s + n;
    size_t o = 0;

    while (s < end) {
        unsigned long cp;
        if (*s != '\\') {
            if (o >= max)
                return (size_t)-1;
            out[o++] = *s++;
            continue;
        }
        if (end - s < 2)
            return (size_t)-1;
        s++;
        switch (*s) {
        case '"':
        case '\\':
        case '/':
            cp = (unsigned char)*s;
            s++;
            break;
        case 'b':
            cp = '\b';
            s++;
            break;
        case 'f':
            cp = '\f';
            s++;
            break;
        case 'n':
            cp = '\n';
            s++;
            break;
        case 'r':
            cp = '\r';
            s++;
            break;
        case 't':
            cp = '\t';
            s++;
            break;
        case 'u': {
            int v = hex4(s + 1, end);
            if (v < 0)
                return (size_t)-1;
            s += 5;
            cp = (unsigned long)v;
            if (v >= 0xd800 && v < 0xdc00 && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                int lo = hex4(s + 2, end);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + (((unsigned long)v - 0xd800) << 10) +
                         ((unsigned long)lo - 0xdc00);
                    s += 6;
                }
            }
            break;
        }
        default:
            return (size_t)-1;
        }
        if (o + 4 > max)
            return (size_t)-1;
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xc0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xe0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | (cp >> 18));
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    return o;
}
