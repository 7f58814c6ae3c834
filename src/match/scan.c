/*
 * scan: log readers that parse fields, not substrings, and the per-line
 * loop that looks each field up in the index.
 *
 * The loop is the hot path of `meridian match`: it runs over gigabytes, so
 * it never allocates, never copies a line, and finds fields with memchr.
 * Each reader knows where the observables of its format are: the client,
 * request target and referer of a combined log line; the mapped columns of
 * a Zeek or CSV file; the mapped key paths of a JSON object.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/str.h"
#include "core/timestamp.h"
#include "match/json_lite.h"
#include "match/match_int.h"

#define JSON_MAX_DEPTH 32
#define JSON_MAX_PATH 256

/* Bit i set when b[i] == c, for the 16 bytes at b (all readable). */
static inline unsigned block_mask(const char *b, char c)
{
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)b);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
#else
    unsigned m = 0;
    for (int i = 0; i < 16; i++)
        if (b[i] == c)
            m |= 1u << i;
    return m;
#endif
}

/* ---- field names to observable kinds ---- */

/* lit (NUL-terminated, lower-case) equals s[0..n) ignoring ASCII case. */
static bool eq_nocase(const char *lit, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lit[i] == '\0' || lit[i] != (char)match__lower((unsigned char)s[i]))
            return false;
    return lit[i] == '\0';
}

static const struct {
    const char *name;
    enum match_obs obs;
} field_names[] = {
    {"ip", MATCH_O_IP},
    {"src", MATCH_O_IP},
    {"srcip", MATCH_O_IP},
    {"src_ip", MATCH_O_IP},
    {"src_addr", MATCH_O_IP},
    {"source", MATCH_O_IP},
    {"source_ip", MATCH_O_IP},
    {"source.ip", MATCH_O_IP},
    {"source.address", MATCH_O_HOST},
    {"dst", MATCH_O_IP},
    {"dstip", MATCH_O_IP},
    {"dst_ip", MATCH_O_IP},
    {"dst_addr", MATCH_O_IP},
    {"dest", MATCH_O_IP},
    {"dest_ip", MATCH_O_IP},
    {"destination", MATCH_O_IP},
    {"destination_ip", MATCH_O_IP},
    {"destination.ip", MATCH_O_IP},
    {"destination.address", MATCH_O_HOST},
    {"client", MATCH_O_IP},
    {"client_ip", MATCH_O_IP},
    {"client.ip", MATCH_O_IP},
    {"client.address", MATCH_O_HOST},
    {"server", MATCH_O_IP},
    {"server_ip", MATCH_O_IP},
    {"server.ip", MATCH_O_IP},
    {"server.address", MATCH_O_HOST},
    {"remote_addr", MATCH_O_IP},
    {"addr", MATCH_O_IP},
    {"address", MATCH_O_IP},
    {"host", MATCH_O_HOST},
    {"hostname", MATCH_O_HOST},
    {"domain", MATCH_O_HOST},
    {"fqdn", MATCH_O_HOST},
    {"query", MATCH_O_HOST},
    {"qname", MATCH_O_HOST},
    {"server_name", MATCH_O_HOST},
    {"sni", MATCH_O_HOST},
    {"dns.question.name", MATCH_O_HOST},
    {"dns.answers.data", MATCH_O_HOST},
    {"dns.answers.name", MATCH_O_HOST},
    {"url.domain", MATCH_O_HOST},
    {"destination.domain", MATCH_O_HOST},
    {"source.domain", MATCH_O_HOST},
    {"server.domain", MATCH_O_HOST},
    {"tls.client.server_name", MATCH_O_HOST},
    {"answers", MATCH_O_HOSTLIST},
    {"url", MATCH_O_URL},
    {"uri", MATCH_O_URL},
    {"request_url", MATCH_O_URL},
    {"url.full", MATCH_O_URL},
    {"url.original", MATCH_O_URL},
    {"referer", MATCH_O_URL},
    {"referrer", MATCH_O_URL},
    {"http.request.referrer", MATCH_O_URL},
    {"email", MATCH_O_EMAIL},
    {"mail", MATCH_O_EMAIL},
    {"sender", MATCH_O_EMAIL},
    {"recipient", MATCH_O_EMAIL},
    {"from", MATCH_O_EMAIL},
    {"to", MATCH_O_EMAIL},
    {"mailfrom", MATCH_O_EMAIL},
    {"rcptto", MATCH_O_EMAIL},
    {"email.from.address", MATCH_O_EMAIL},
    {"email.to.address", MATCH_O_EMAIL},
    {"email.sender.address", MATCH_O_EMAIL},
    {"hash", MATCH_O_HASH},
    {"md5", MATCH_O_HASH},
    {"sha1", MATCH_O_HASH},
    {"sha256", MATCH_O_HASH},
    {"sha512", MATCH_O_HASH},
    {"sha_256", MATCH_O_HASH},
    {"file_hash", MATCH_O_HASH},
    {"file.hash.md5", MATCH_O_HASH},
    {"file.hash.sha1", MATCH_O_HASH},
    {"file.hash.sha256", MATCH_O_HASH},
    {"file.hash.sha512", MATCH_O_HASH},
    {"ts", MATCH_O_TIME},
    {"time", MATCH_O_TIME},
    {"timestamp", MATCH_O_TIME},
    {"@timestamp", MATCH_O_TIME},
    {"date", MATCH_O_TIME},
    {"datetime", MATCH_O_TIME},
    {"event.created", MATCH_O_TIME},
};

enum match_obs match_field_obs(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
        if (eq_nocase(field_names[i].name, name, n))
            return field_names[i].obs;
    /* Zeek names addresses id.orig_h, id.resp_h: a "_h" suffix. */
    if (n > 2 && name[n - 2] == '_' && (name[n - 1] | 0x20) == 'h')
        return MATCH_O_IP;
    return MATCH_O_NONE;
}

bool match_obs_parse(const char *s, size_t n, enum match_obs *ret)
{
    static const struct {
        const char *word;
        enum match_obs obs;
    } words[] = {{"ip", MATCH_O_IP},          {"host", MATCH_O_HOST}, {"domain", MATCH_O_HOST},
                 {"hosts", MATCH_O_HOSTLIST}, {"url", MATCH_O_URL},   {"email", MATCH_O_EMAIL},
                 {"hash", MATCH_O_HASH},      {"time", MATCH_O_TIME}, {"none", MATCH_O_NONE}};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (eq_nocase(words[i].word, s, n)) {
            *ret = words[i].obs;
            return true;
        }
    }
    return false;
}

static enum match_obs reader_obs(const struct match_reader *r, const char *name, size_t n)
{
    for (unsigned i = 0; i < r->nmap; i++)
        if (eq_nocase(r->map[i].name, name, n))
            return r->map[i].obs;
    return match_field_obs(name, n);
}

const char *match_obs_name(enum match_obs obs)
{
    switch (obs) {
    case MATCH_O_IP:
        return "ip";
    case MATCH_O_HOST:
        return "host";
    case MATCH_O_HOSTLIST:
        return "hosts";
    case MATCH_O_URL:
        return "url";
    case MATCH_O_EMAIL:
        return "email";
    case MATCH_O_HASH:
        return "hash";
    case MATCH_O_TIME:
        return "time";
    default:
        return "none";
    }
}

/* ---- CSV column names by pattern ---- */

#define COL_TOKENS 16
#define COL_TOKEN_MAX 24

/* Tokens that name a kind; weak ones ("addr", "name") defer to the token
 * before them: "email_address" is an e-mail, "domain_name" a host. */
static const struct {
    const char *tok;
    enum match_obs obs;
    bool weak;
} col_tokens[] = {
    {"ip", MATCH_O_IP, false},          {"ipv4", MATCH_O_IP, false},
    {"ipv6", MATCH_O_IP, false},        {"ipaddr", MATCH_O_IP, false},
    {"srcip", MATCH_O_IP, false},       {"dstip", MATCH_O_IP, false},
    {"addr", MATCH_O_IP, true},         {"address", MATCH_O_IP, true},
    {"host", MATCH_O_HOST, false},      {"hostname", MATCH_O_HOST, false},
    {"domain", MATCH_O_HOST, false},    {"fqdn", MATCH_O_HOST, false},
    {"qname", MATCH_O_HOST, false},     {"query", MATCH_O_HOST, false},
    {"sni", MATCH_O_HOST, false},       {"servername", MATCH_O_HOST, false},
    {"url", MATCH_O_URL, false},        {"uri", MATCH_O_URL, false},
    {"href", MATCH_O_URL, false},       {"referer", MATCH_O_URL, false},
    {"referrer", MATCH_O_URL, false},   {"email", MATCH_O_EMAIL, false},
    {"mail", MATCH_O_EMAIL, false},     {"md5", MATCH_O_HASH, false},
    {"sha1", MATCH_O_HASH, false},      {"sha256", MATCH_O_HASH, false},
    {"sha512", MATCH_O_HASH, false},    {"hash", MATCH_O_HASH, false},
    {"checksum", MATCH_O_HASH, false},  {"digest", MATCH_O_HASH, false},
    {"ts", MATCH_O_TIME, false},        {"time", MATCH_O_TIME, false},
    {"timestamp", MATCH_O_TIME, false}, {"datetime", MATCH_O_TIME, false},
    {"value", MATCH_O_NONE, true},      {"name", MATCH_O_NONE, true},
};

static bool token_kind(const char *t, enum match_obs *obs, bool *weak)
{
    for (size_t i = 0; i < sizeof(col_tokens) / sizeof(col_tokens[0]); i++)
        if (strcmp(col_tokens[i].tok, t) == 0) {
            *obs = col_tokens[i].obs;
            *weak = col_tokens[i].weak;
            return true;
        }
    return false;
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || is_upper(c) || (c >= '0' && c <= '9');
}

enum match_obs match_column_obs(const char *name, size_t n)
{
    char tok[COL_TOKENS][COL_TOKEN_MAX + 1];
    size_t ntok = 0, i = 0;
    enum match_obs obs = match_field_obs(name, n), prev;
    bool weak, pweak;

    if (obs != MATCH_O_NONE)
        return obs;
    /* Tokens: runs of letters and digits, split where a lower-case letter
     * or digit is followed by an upper-case one ("srcIP", "SHA256Hash"). */
    while (i < n) {
        size_t start, len;

        while (i < n && !is_alnum(name[i]))
            i++;
        start = i;
        while (i < n && is_alnum(name[i]) &&
               !(i > start && is_upper(name[i]) && !is_upper(name[i - 1])))
            i++;
        len = i - start;
        if (len == 0)
            break;
        if (ntok == COL_TOKENS) {
            memmove(tok[0], tok[1], sizeof(tok[0]) * (COL_TOKENS - 1));
            ntok--;
        }
        if (len > COL_TOKEN_MAX)
            len = 0; /* too long to be one of ours: a token of no kind */
        for (size_t k = 0; k < len; k++)
            tok[ntok][k] = (char)match__lower((unsigned char)name[start + k]);
        tok[ntok][len] = '\0';
        ntok++;
    }
    /* The last token decides ("file_sha256"; "src_port", "url_length",
     * "query_type" are not what their first token names). */
    if (ntok == 0 || !token_kind(tok[ntok - 1], &obs, &weak))
        return MATCH_O_NONE;
    if (weak && ntok >= 2 && token_kind(tok[ntok - 2], &prev, &pweak) && !pweak &&
        prev != MATCH_O_NONE && prev != MATCH_O_TIME)
        return prev;
    return obs;
}

const char *match_reader_column(const struct match_reader *r, unsigned c)
{
    return c < r->ncols ? r->names + r->col_name[c] : "";
}

/* ---- formats ---- */

const char *match_format_name(enum match_format fmt)
{
    switch (fmt) {
    case MATCH_FMT_COMBINED:
        return "combined";
    case MATCH_FMT_ZEEK:
        return "zeek";
    case MATCH_FMT_CSV:
        return "csv";
    case MATCH_FMT_JSONL:
        return "jsonl";
    case MATCH_FMT_EVE:
        return "eve";
    default:
        return "auto";
    }
}

bool match_format_parse(const char *s, enum match_format *ret)
{
    static const enum match_format all[] = {MATCH_FMT_AUTO, MATCH_FMT_COMBINED, MATCH_FMT_ZEEK,
                                            MATCH_FMT_CSV,  MATCH_FMT_JSONL,    MATCH_FMT_EVE};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(s, match_format_name(all[i])) == 0) {
            *ret = all[i];
            return true;
        }
    }
    if (strcmp(s, "nginx") == 0 || strcmp(s, "apache") == 0) {
        *ret = MATCH_FMT_COMBINED;
        return true;
    }
    if (strcmp(s, "json") == 0) {
        *ret = MATCH_FMT_JSONL;
        return true;
    }
    if (strcmp(s, "suricata") == 0) {
        *ret = MATCH_FMT_EVE;
        return true;
    }
    return false;
}

enum match_format match_format_detect(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len, *nl;

    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    if (end - p >= 10 && memcmp(p, "#separator", 10) == 0)
        return MATCH_FMT_ZEEK;
    if (end - p >= 7 && memcmp(p, "#fields", 7) == 0)
        return MATCH_FMT_ZEEK;
    /* Skip other comment lines and blank lines. */
    while (p < end && (*p == '#' || *p == '\n' || *p == '\r')) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return MATCH_FMT_AUTO;
        p = nl + 1;
    }
    if (p < end && (*p == '{' || *p == ' ' || *p == '\t')) {
        const char *q = match__json_ws(p, end);
        const char *le = memchr(q, '\n', (size_t)(end - q));
        if (q < end && *q == '{') {
            /* Suricata's EVE: every record has an "event_type" */
            if (memmem(q, (size_t)((le != NULL ? le : end) - q), "\"event_type\":", 13) != NULL)
                return MATCH_FMT_EVE;
            return MATCH_FMT_JSONL;
        }
    }
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
        nl = end;
    {
        size_t n = (size_t)(nl - p);
        const char *lb = memchr(p, '[', n);
        if (lb != NULL && memchr(lb, ']', (size_t)(nl - lb)) != NULL &&
            memchr(lb, '"', (size_t)(nl - lb)) != NULL && memchr(p, ' ', n) != NULL)
            return MATCH_FMT_COMBINED;
        if (memchr(p, ',', n) != NULL)
            return MATCH_FMT_CSV;
    }
    return MATCH_FMT_AUTO;
}

void match_reader_init(struct match_reader *r, enum match_format fmt)
{
    memset(r, 0, sizeof(*r));
    r->fmt = fmt;
    r->sep = fmt == MATCH_FMT_ZEEK ? '\t' : ',';
    r->time_col = -1;
    r->intel_ind_col = r->intel_type_col = r->intel_src_col = -1;
}

enum mrd_code match_reader_map(struct match_reader *r, const char *spec, struct mrd_err *err)
{
    const char *eq = strchr(spec, '=');
    enum match_obs obs;
    size_t nl;

    if (eq == NULL || eq == spec)
        return mrd_err_set(err, MRD_E_INVAL, "--map '%s': expected COLUMN=TYPE", spec);
    nl = (size_t)(eq - spec);
    if (nl >= sizeof(r->map[0].name))
        return mrd_err_set(err, MRD_E_INVAL, "--map '%s': column name too long", spec);
    if (!match_obs_parse(eq + 1, strlen(eq + 1), &obs))
        return mrd_err_set(err, MRD_E_INVAL,
                           "--map '%s': type must be ip, host, domain, hosts, url, email, hash, "
                           "time or none",
                           spec);
    if (r->nmap >= sizeof(r->map) / sizeof(r->map[0]))
        return mrd_err_set(err, MRD_E_INVAL, "--map: at most 32 mappings");
    memcpy(r->map[r->nmap].name, spec, nl);
    r->map[r->nmap].name[nl] = '\0';
    r->map[r->nmap].obs = obs;
    r->nmap++;
    return MRD_OK;
}

/* Finds the end of a CSV field starting at p; sets v and vn to the value
 * without surrounding quotes. Returns the separator position (or end). */
static const char *csv_field(const char *p, const char *end, char sep, const char **v, size_t *vn)
{
    if (p < end && *p == '"') {
        const char *q = p + 1;
        for (;;) {
            q = memchr(q, '"', (size_t)(end - q));
            if (q == NULL) {
                *v = p + 1;
                *vn = (size_t)(end - p - 1);
                return end;
            }
            if (q + 1 < end && q[1] == '"') {
                q += 2;
                continue;
            }
            break;
        }
        *v = p + 1;
        *vn = (size_t)(q - p - 1);
        q++;
        while (q < end && *q != sep)
            q++;
        return q;
    } else {
        const char *q = memchr(p, sep, (size_t)(end - p));
        if (q == NULL)
            q = end;
        *v = p;
        *vn = (size_t)(q - p);
        return q;
    }
}

/* Sets the column map from a header line (CSV header or Zeek #fields). */
static void set_columns(struct match_reader *r, const char *p, const char *end)
{
    size_t used = 0;
    unsigned c = 0;

    r->ncols = 0;
    r->nlooked_up = 0;
    r->time_col = -1;
    r->intel_ind_col = r->intel_type_col = r->intel_src_col = -1;
    while (p <= end && c < MATCH_MAX_COLUMNS) {
        const char *v;
        size_t vn;
        const char *q = csv_field(p, end, r->sep, &v, &vn);
        /* trim blanks around CSV header names */
        while (vn > 0 && (*v == ' ' || *v == '\t') && r->sep != '\t') {
            v++;
            vn--;
        }
        while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\r'))
            vn--;
        {
            enum match_obs obs = MATCH_O_NONE;
            uint8_t how = MATCH_COL_UNKNOWN;

            for (unsigned i = 0; i < r->nmap && how == MATCH_COL_UNKNOWN; i++)
                if (eq_nocase(r->map[i].name, v, vn)) {
                    obs = r->map[i].obs;
                    how = MATCH_COL_MAPPED; /* "none" too: neither scanned nor sniffed */
                }
            if (how == MATCH_COL_UNKNOWN) {
                obs = r->fmt == MATCH_FMT_CSV ? match_column_obs(v, vn) : match_field_obs(v, vn);
                how = obs != MATCH_O_NONE ? MATCH_COL_NAMED : MATCH_COL_UNKNOWN;
            }
            r->col_obs[c] = (uint8_t)obs;
            r->col_how[c] = how;
            if (r->fmt == MATCH_FMT_ZEEK) {
                if (vn == 14 && memcmp(v, "seen.indicator", 14) == 0)
                    r->intel_ind_col = (int)c;
                else if (vn == 19 && memcmp(v, "seen.indicator_type", 19) == 0)
                    r->intel_type_col = (int)c;
                else if (vn == 7 && memcmp(v, "sources", 7) == 0)
                    r->intel_src_col = (int)c;
            }
        }
        if (r->col_obs[c] == MATCH_O_TIME && r->time_col < 0)
            r->time_col = (int)c;
        if (r->col_obs[c] != MATCH_O_NONE && r->col_obs[c] != MATCH_O_TIME)
            r->looked_up[r->nlooked_up++] = (uint8_t)c;
        if (used + vn + 1 <= sizeof(r->names)) {
            memcpy(r->names + used, v, vn);
            r->names[used + vn] = '\0';
            r->col_name[c] = (uint16_t)used;
            used += vn + 1;
        } else {
            r->col_name[c] = 0;
        }
        c++;
        if (q >= end)
            break;
        p = q + 1;
    }
    r->ncols = c;
    r->have_header = true;
    if (r->intel_ind_col >= 0 && r->intel_type_col >= 0) {
        /* Zeek intel.log: only what matched counts, not the connection's
         * other addresses (they would be sightings of other indicators) */
        r->nlooked_up = 0;
        r->looked_up[r->nlooked_up++] = (uint8_t)r->intel_ind_col;
        r->looked_up[r->nlooked_up++] = (uint8_t)r->intel_type_col;
        if (r->intel_src_col >= 0)
            r->looked_up[r->nlooked_up++] = (uint8_t)r->intel_src_col;
    } else {
        r->intel_ind_col = -1;
    }
    r->sniffed = false;
}

/* ---- CSV: columns by their values ---- */

enum {
    SNIFF_IP = 1,
    SNIFF_DOMAIN = 2,
    SNIFF_URL = 4,
    SNIFF_EMAIL = 8,
    SNIFF_HASH = 16,
    SNIFF_OTHER = 32,
};

/* Endings of file names, which look like top-level domains. */
static bool file_suffix(const char *t, size_t n)
{
    static const char *const ext[] = {
        "exe", "dll", "sys",  "pdf", "doc", "docx", "xls", "xlsx", "ppt",  "zip", "rar",  "gz",
        "tar", "tgz", "txt",  "log", "csv", "json", "xml", "htm",  "html", "js",  "php",  "py",
        "sh",  "bat", "ps1",  "vbs", "hta", "jar",  "apk", "msi",  "iso",  "img", "bin",  "dat",
        "tmp", "jpg", "jpeg", "png", "gif", "lnk",  "scr", "cab",  "rtf",  "eml", "conf", NULL};

    for (size_t i = 0; ext[i] != NULL; i++)
        if (eq_nocase(ext[i], t, n))
            return true;
    return false;
}

/* A domain name: dot-separated labels of letters, digits, '-' and '_', the
 * last one 2..24 letters (or xn--...) and not a file-name ending. */
static bool looks_domain(const char *v, size_t n)
{
    size_t label = 0, last = 0, tl;

    if (n > 0 && v[n - 1] == '.')
        n--;
    if (n < 4 || n > 253 || memchr(v, '.', n) == NULL)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? v[i] : '.';

        if (c == '.') {
            if (label == 0 || label > 63 || v[i - 1] == '-' || v[i - label] == '-')
                return false;
            last = i - label;
            label = 0;
            continue;
        }
        if (!is_alnum(c) && c != '-' && c != '_')
            return false;
        label++;
    }
    tl = n - last;
    if (tl > 4 && (v[last] | 0x20) == 'x' && (v[last + 1] | 0x20) == 'n' && v[last + 2] == '-' &&
        v[last + 3] == '-')
        return true;
    for (size_t i = last; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || is_upper(v[i])))
            return false;
    return tl >= 2 && tl <= 24 && !file_suffix(v + last, tl);
}

static unsigned sniff_value(const char *v, size_t n)
{
    uint32_t a4;
    uint8_t a6[16];
    const char *at;
    size_t hex = 0;

    if (n == 0 || n > MATCH_MAX_VALUE)
        return n == 0 ? 0 : SNIFF_OTHER;
    while (hex < n && mrd_hex_digit((unsigned char)v[hex]) >= 0)
        hex++;
    if (hex == n && (n == 32 || n == 40 || n == 64 || n == 128))
        return SNIFF_HASH;
    if (match_ipv4_parse(v, n, &a4) || (memchr(v, ':', n) != NULL && match_ipv6_parse(v, n, a6)))
        return SNIFF_IP;
    if (n > 7 && memchr(v, ':', n) != NULL) {
        char buf[MATCH_MAX_VALUE + 8];

        if (match_url_normalize(v, n, buf, sizeof(buf), NULL, NULL) > 0)
            return SNIFF_URL;
    }
    at = memchr(v, '@', n);
    if (at != NULL && at > v && memchr(at + 1, '@', (size_t)(v + n - at - 1)) == NULL &&
        memchr(v, ' ', n) == NULL && looks_domain(at + 1, (size_t)(v + n - at - 1)))
        return SNIFF_EMAIL;
    if (looks_domain(v, n))
        return SNIFF_DOMAIN;
    return SNIFF_OTHER;
}

void match_reader_sniff(struct match_reader *r, const char *buf, size_t len)
{
    unsigned seen[MATCH_MAX_COLUMNS];
    const char *p = buf, *end = buf + len;
    unsigned rows = 0;
    bool any = false;

    if (r->fmt != MATCH_FMT_CSV || !r->have_header || r->sniffed)
        return;
    r->sniffed = true;
    for (unsigned c = 0; c < r->ncols; c++) {
        seen[c] = 0;
        any |= r->col_how[c] == MATCH_COL_UNKNOWN;
    }
    while (any && p < end && rows < MATCH_SNIFF_ROWS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl != NULL ? nl : end;
        const char *q = p;
        unsigned c = 0, vals[MATCH_MAX_COLUMNS];

        if (le > p && le[-1] == '\r')
            le--;
        if (le > p && *p != '#') {
            for (;;) {
                const char *v;
                size_t vn;
                const char *e = csv_field(q, le, r->sep, &v, &vn);

                while (vn > 0 && (*v == ' ' || *v == '\t')) {
                    v++;
                    vn--;
                }
                while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
                    vn--;
                if (c < r->ncols)
                    vals[c] = r->col_how[c] == MATCH_COL_UNKNOWN ? sniff_value(v, vn) : 0;
                c++;
                if (e >= le)
                    break;
                q = e + 1;
            }
            if (c == r->ncols) { /* a malformed row says nothing */
                for (unsigned k = 0; k < c; k++)
                    seen[k] |= vals[k];
                rows++;
            }
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    r->nlooked_up = 0;
    for (unsigned c = 0; c < r->ncols; c++) {
        enum match_obs obs = MATCH_O_NONE;

        if (r->col_how[c] == MATCH_COL_UNKNOWN) {
            switch (seen[c]) {
            case SNIFF_IP:
                obs = MATCH_O_IP;
                break;
            case SNIFF_DOMAIN:
            case SNIFF_DOMAIN | SNIFF_IP:
                obs = MATCH_O_HOST;
                break;
            case SNIFF_URL:
                obs = MATCH_O_URL;
                break;
            case SNIFF_EMAIL:
                obs = MATCH_O_EMAIL;
                break;
            case SNIFF_HASH:
                obs = MATCH_O_HASH;
                break;
            default:
                break;
            }
            if (obs != MATCH_O_NONE) {
                r->col_obs[c] = (uint8_t)obs;
                r->col_how[c] = MATCH_COL_SNIFFED;
            }
        }
        if (r->col_obs[c] != MATCH_O_NONE && r->col_obs[c] != MATCH_O_TIME)
            r->looked_up[r->nlooked_up++] = (uint8_t)c;
    }
}

/* Zeek meta lines: "#separator \x09" and "#fields\tts\tuid...". */
static void zeek_meta(struct match_reader *r, const char *p, const char *end)
{
    if (end - p > 11 && memcmp(p, "#separator ", 11) == 0) {
        const char *v = p + 11;
        if (end - v >= 4 && v[0] == '\\' && v[1] == 'x') {
            int hi = v[2] <= '9' ? v[2] - '0' : (v[2] | 0x20) - 'a' + 10;
            int lo = v[3] <= '9' ? v[3] - '0' : (v[3] | 0x20) - 'a' + 10;
            r->sep = (char)(hi * 16 + lo);
        } else if (v < end) {
            r->sep = *v;
        }
    } else if (end - p > 8 && memcmp(p, "#fields", 7) == 0 && p[7] == r->sep) {
        set_columns(r, p + 8, end);
    }
}

/* ---- per-line matching state ---- */

struct line_ctx {
    const struct match_index *idx;
    const struct match_reader *r;
    unsigned flags;
    const char *buf;
    const char *line;
    size_t line_len;
    uint64_t lineno;
    match_hit_fn cb;
    void *cb_ctx;
    struct match_stats *st;
    uint32_t seen[MATCH_MAX_LINE_HITS];
    size_t nseen;
    /* hits of the current line, reported only once the line parsed: a
     * malformed line is skipped whole */
    struct match_hit pending[MATCH_MAX_LINE_HITS];
    char fields[MATCH_MAX_LINE_HITS][64]; /* copies: JSON paths are transient */
    /* every field of the line, when an on_line observer wants them */
    bool observe;
    struct match_field obs[MATCH_MAX_LINE_FIELDS];
    char obs_names[MATCH_MAX_LINE_FIELDS][64];
    size_t nobs;
    int64_t time;
    bool have_time;
    bool stop;
    /* Zeek intel.log: the three columns of the current line */
    const char *intel_v[3];
    size_t intel_n[3];
    /* Suricata EVE: the fields of the current record (reader.c below) */
    struct eve_rec *eve;
};

/* Looks v up; hits report (raw, rawn), the field as written in the line
 * (the same bytes unless v is an unescaped copy). */
static void lookup_raw(struct line_ctx *lc, enum match_obs obs, const char *v, size_t n,
                       const char *raw, size_t rawn, const char *field)
{
    uint32_t found[MATCH_MAX_LINE_HITS];
    size_t nf;

    if (n == 0 || n > MATCH_MAX_VALUE || lc->stop || (n == 1 && *v == '-'))
        return;
    lc->st->lookups++;
    if (lc->observe && v == raw && lc->nobs < MATCH_MAX_LINE_FIELDS) {
        struct match_field *f = &lc->obs[lc->nobs];
        f->obs = obs;
        f->v = v;
        f->n = n;
        snprintf(lc->obs_names[lc->nobs], sizeof(lc->obs_names[0]), "%s", field);
        f->field = lc->obs_names[lc->nobs];
        lc->nobs++;
    }
    nf = match_index_lookup(lc->idx, obs, v, n, lc->flags, found, MATCH_MAX_LINE_HITS);
    for (size_t i = 0; i < nf; i++) {
        struct match_hit hit;
        bool dup = false;
        for (size_t k = 0; k < lc->nseen; k++)
            if (lc->seen[k] == found[i])
                dup = true;
        if (dup || lc->nseen >= MATCH_MAX_LINE_HITS)
            continue;
        lc->seen[lc->nseen++] = found[i];
        if (!lc->have_time) {
            lc->time = match_line_time(lc->r, lc->line, lc->line_len);
            lc->have_time = true;
        }
        hit.line = lc->lineno;
        hit.line_off = (size_t)(lc->line - lc->buf);
        hit.value_off = (size_t)(raw - lc->buf);
        hit.value_len = rawn;
        hit.field = field;
        hit.ind = found[i];
        hit.time_usec = lc->time;
        snprintf(lc->fields[lc->nseen - 1], sizeof(lc->fields[0]), "%s", field);
        hit.field = lc->fields[lc->nseen - 1];
        lc->pending[lc->nseen - 1] = hit;
    }
}

static void lookup(struct line_ctx *lc, enum match_obs obs, const char *v, size_t n,
                   const char *field)
{
    lookup_raw(lc, obs, v, n, v, n, field);
}

/* nginx/Apache combined:
 * client ident user [time] "METHOD target PROTO" status bytes "referer" "ua" */
static bool line_combined(struct line_ctx *lc, const char *p, const char *end)
{
    const char *sp = match__find(p, end, ' ');
    const char *lb, *rb, *q1, *q2, *t0, *t1;

    if (sp == end || sp == p)
        return false;
    lb = match__find(sp, end, '[');
    rb = match__find(lb, end, ']');
    if (rb == end || end - rb < 3 || rb[1] != ' ' || rb[2] != '"')
        return false;
    q1 = rb + 3;
    q2 = match__find(q1, end, '"');
    if (q2 == end)
        return false;
    lookup(lc, MATCH_O_HOST, p, (size_t)(sp - p), "client");
    /* request line: METHOD SP target SP PROTO */
    t0 = match__find(q1, q2, ' ');
    if (t0 != q2) {
        size_t mlen = (size_t)(t0 - q1);
        t0++;
        t1 = match__find(t0, q2, ' ');
        /* origin-form ("/path") names no host; anything else with a ':' is
         * an absolute URI (proxy request) or CONNECT's authority-form */
        if (t1 > t0 && *t0 != '/' && match__find(t0, t1, ':') != t1) {
            if (mlen == 7 && memcmp(q1, "CONNECT", 7) == 0)
                lookup(lc, MATCH_O_HOST, t0, (size_t)(t1 - t0), "request");
            else
                lookup(lc, MATCH_O_URL, t0, (size_t)(t1 - t0), "request");
        }
    }
    /* status bytes "referer" */
    if (q2 + 1 < end) {
        const char *r0 = match__find(q2 + 1, end, '"');
        if (r0 != end) {
            const char *r1 = match__find(r0 + 1, end, '"');
            if (r1 != end && r1 > r0 + 1)
                lookup(lc, MATCH_O_URL, r0 + 1, (size_t)(r1 - r0 - 1), "referer");
        }
    }
    return true;
}

static const char *col_name(const struct match_reader *r, unsigned c)
{
    return r->names + r->col_name[c];
}

/* One field of a Zeek/CSV line: looked up when its column is mapped. */
static inline void column_value(struct line_ctx *lc, unsigned c, const char *v, size_t vn)
{
    const struct match_reader *r = lc->r;
    enum match_obs obs = (enum match_obs)r->col_obs[c];

    if (r->intel_ind_col >= 0) {
        int k = (int)c == r->intel_ind_col    ? 0
                : (int)c == r->intel_type_col ? 1
                : (int)c == r->intel_src_col  ? 2
                                              : -1;
        if (k >= 0) {
            lc->intel_v[k] = v;
            lc->intel_n[k] = vn;
        }
        return;
    }
    if (obs == MATCH_O_NONE || obs == MATCH_O_TIME || vn == 0)
        return;
    if (r->fmt == MATCH_FMT_ZEEK) {
        if (vn == 7 && memcmp(v, "(empty)", 7) == 0)
            return;
        if (obs == MATCH_O_HOST && match__find(v, v + vn, ',') != v + vn)
            obs = MATCH_O_HOSTLIST;
    }
    lookup(lc, obs, v, vn, col_name(r, c));
}

static bool line_columns(struct line_ctx *lc, const char *p, const char *end)
{
    const struct match_reader *r = lc->r;
    unsigned c = 0;
    const char *fs = p, *b;

    if (!r->have_header)
        return false;
    if (r->fmt == MATCH_FMT_CSV && match__find(p, end, '"') != end) {
        /* quoted CSV: the careful path */
        for (;;) {
            const char *v;
            size_t vn;
            const char *q = csv_field(p, end, r->sep, &v, &vn);
            if (c >= r->ncols)
                return false; /* more fields than the header names */
            column_value(lc, c, v, vn);
            c++;
            if (q >= end)
                break;
            p = q + 1;
        }
        return c == r->ncols;
    }
    /* Separators 16 bytes at a time: one pass over the line, no call per
     * field (Zeek dns.log has 24 fields, most of them unmapped). */
    for (b = p; b < end; b += 16) {
        unsigned m;
        if (end - b >= 16) {
            m = block_mask(b, r->sep);
        } else {
            m = 0;
            for (int i = 0; i < end - b; i++)
                if (b[i] == r->sep)
                    m |= 1u << i;
        }
        while (m != 0) {
            const char *q = b + __builtin_ctz(m);
            m &= m - 1;
            if (c >= r->ncols)
                return false;
            column_value(lc, c, fs, (size_t)(q - fs));
            c++;
            fs = q + 1;
        }
    }
    if (c >= r->ncols)
        return false;
    column_value(lc, c, fs, (size_t)(end - fs));
    return c + 1 == r->ncols;
}

/* Where the fields of one Zeek/CSV line end, found in the same pass as the
 * line's end: the separators at p + seps[i], as many as nseps says (those
 * past MATCH_MAX_COLUMNS are counted, not kept). */
struct split {
    uint32_t seps[MATCH_MAX_COLUMNS];
    unsigned nseps;
    bool quoted; /* CSV: a '"' before the end: the careful path reads it */
};

/* One pass over a Zeek/CSV line, 16 bytes at a time: finds the newline,
 * the separators and (csv) any quote. A separate search for each costs a
 * pass over the line each, and this loop is most of the scan. Returns the
 * newline, or end. */
static const char *split_line(const char *p, const char *end, char sep, bool csv, struct split *sp)
{
    const char *b = p;
    unsigned n = 0;

    sp->quoted = false;
    for (; b < end; b += 16) {
        unsigned msep, mnl, mq;
        if (end - b >= 16) {
            msep = block_mask(b, sep);
            mnl = block_mask(b, '\n');
            mq = csv ? block_mask(b, '"') : 0;
        } else {
            msep = mnl = mq = 0;
            for (int i = 0; i < end - b; i++) {
                msep |= (unsigned)(b[i] == sep) << i;
                mnl |= (unsigned)(b[i] == '\n') << i;
                mq |= (unsigned)(csv && b[i] == '"') << i;
            }
        }
        if (mnl != 0) {
            unsigned before = (1u << __builtin_ctz(mnl)) - 1;
            msep &= before;
            mq &= before;
        }
        if (mq != 0) {
            sp->quoted = true;
            sp->nseps = n;
            return match__find(b, end, '\n');
        }
        while (msep != 0) {
            if (n < MATCH_MAX_COLUMNS)
                sp->seps[n] = (uint32_t)(b + __builtin_ctz(msep) - p);
            n++;
            msep &= msep - 1;
        }
        if (mnl != 0) {
            sp->nseps = n;
            return b + __builtin_ctz(mnl);
        }
    }
    sp->nseps = n;
    return end;
}

/* A Zeek/CSV line whose separators split_line() found. Same verdicts as
 * line_columns(): exactly as many fields as the header names. Only the
 * columns that are looked up are visited (4 of Zeek dns.log's 24). */
static bool line_split(struct line_ctx *lc, const char *p, const char *le, const struct split *sp)
{
    const struct match_reader *r = lc->r;

    if (!r->have_header || sp->nseps + 1 != r->ncols)
        return false;
    for (unsigned i = 0; i < r->nlooked_up; i++) {
        unsigned c = r->looked_up[i];
        const char *fs = c == 0 ? p : p + sp->seps[c - 1] + 1;
        const char *fe = c == sp->nseps ? le : p + sp->seps[c];
        column_value(lc, c, fs, (size_t)(fe - fs));
    }
    return true;
}

struct eve_rec;
static void eve_collect(struct eve_rec *rec, const char *path, size_t plen, const char *v, size_t n,
                        bool esc);

/* JSON lines: walks the object; keys build a dotted path ("dns.question.name")
 * that decides the observable kind. Arrays keep their parent's path. */
struct jwalk {
    struct line_ctx *lc;
    char path[JSON_MAX_PATH + 1];
    size_t plen;
};

static const char *jw_value(struct jwalk *w, const char *p, const char *end, int depth);

static const char *jw_object(struct jwalk *w, const char *p, const char *end, int depth)
{
    p = match__json_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        const char *k0, *k1;
        size_t saved = w->plen;
        bool esc;

        if (p >= end || *p != '"')
            return NULL;
        k0 = p + 1;
        k1 = match__json_string_end(p, end, &esc);
        if (k1 == NULL)
            return NULL;
        {
            size_t kn = (size_t)(k1 - 1 - k0);
            size_t need = (w->plen ? 1 : 0) + kn;
            if (w->plen + need < JSON_MAX_PATH) {
                if (w->plen)
                    w->path[w->plen++] = '.';
                memcpy(w->path + w->plen, k0, kn);
                w->plen += kn;
            } else {
                w->plen = JSON_MAX_PATH; /* too deep a path: matches nothing */
            }
        }
        p = match__json_ws(k1, end);
        if (p >= end || *p != ':')
            return NULL;
        p = jw_value(w, p + 1, end, depth + 1);
        w->plen = saved;
        if (p == NULL)
            return NULL;
        p = match__json_ws(p, end);
        if (p < end && *p == ',') {
            p = match__json_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}')
            return p + 1;
        return NULL;
    }
}

static const char *jw_value(struct jwalk *w, const char *p, const char *end, int depth)
{
    p = match__json_ws(p, end);
    if (p >= end || depth > JSON_MAX_DEPTH)
        return NULL;
    if (*p == '{')
        return jw_object(w, p, end, depth);
    if (*p == '[') {
        p = match__json_ws(p + 1, end);
        if (p < end && *p == ']')
            return p + 1;
        for (;;) {
            p = jw_value(w, p, end, depth + 1);
            if (p == NULL)
                return NULL;
            p = match__json_ws(p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == ']')
                return p + 1;
            return NULL;
        }
    }
    if (*p == '"') {
        bool esc;
        const char *e = match__json_string_end(p, end, &esc);
        enum match_obs obs;
        if (e == NULL)
            return NULL;
        if (w->lc->eve != NULL) {
            if (w->plen < JSON_MAX_PATH)
                eve_collect(w->lc->eve, w->path, w->plen, p + 1, (size_t)(e - p - 2), esc);
            return e;
        }
        if (w->plen < JSON_MAX_PATH) {
            obs = reader_obs(w->lc->r, w->path, w->plen);
            w->path[w->plen] = '\0';
            if (obs != MATCH_O_NONE && obs != MATCH_O_TIME && !esc)
                lookup(w->lc, obs, p + 1, (size_t)(e - p - 2), w->path);
            /* Escaped values ("http:\/\/...") are rare in logs; a value
             * that needs unescaping cannot point into the line, so it is
             * looked up from a copy and reported at the string's offset. */
            if (obs != MATCH_O_NONE && obs != MATCH_O_TIME && esc) {
                char tmp[MATCH_MAX_VALUE];
                size_t tn = match__json_unescape(p + 1, (size_t)(e - p - 2), tmp, sizeof(tmp));
                if (tn != (size_t)-1)
                    lookup_raw(w->lc, obs, tmp, tn, p + 1, (size_t)(e - p - 2), w->path);
            }
        }
        return e;
    }
    return match__json_skip(p, end);
}

/* ---- Suricata EVE and Zeek intel.log: alerts back to their indicators ----
 * An EVE alert raised by a rule `meridian export --format suricata` wrote
 * names its indicator in alert.metadata.stix_id: that id is the hit; an
 * alert of the dataset form's iprep rule (alert.metadata.meridian_list
 * "ip") is looked up by both addresses. Other
 * records are looked up by value: the DNS name, TLS SNI, HTTP host and URL
 * (http://hostname + url), file hashes of dns/http/tls/fileinfo records
 * and alerts of other rules, and both addresses of flow records. Zeek's
 * intel.log names the indicators in `sources` when the intel file came
 * from Meridian (meta.source is the STIX id), else seen.indicator is
 * looked up as the type seen.indicator_type says. */

enum eve_kind {
    EV_TYPE,
    EV_SRC,
    EV_DST,
    EV_HOST,
    EV_HTTP_HOST,
    EV_HTTP_URL,
    EV_HASH,
    EV_ID,
    EV_LIST
};

#define EVE_MAX_FIELDS 32
#define EVE_SCRATCH 8192 /* unescaped copies of escaped values */

struct eve_field {
    enum eve_kind kind;
    const char *v, *raw; /* v: the value (maybe an unescaped copy); raw: in the line */
    size_t n, rawn;
    const char *name;
};

struct eve_rec {
    struct eve_field f[EVE_MAX_FIELDS];
    size_t n, used;
    char scratch[EVE_SCRATCH];
};

static const struct {
    const char *path;
    enum eve_kind kind;
} eve_paths[] = {
    {"event_type", EV_TYPE},
    {"src_ip", EV_SRC},
    {"dest_ip", EV_DST},
    {"dns.rrname", EV_HOST},
    {"dns.queries.rrname", EV_HOST},
    {"dns.query.rrname", EV_HOST},
    {"tls.sni", EV_HOST},
    {"http.hostname", EV_HTTP_HOST},
    {"http.url", EV_HTTP_URL},
    {"fileinfo.md5", EV_HASH},
    {"fileinfo.sha1", EV_HASH},
    {"fileinfo.sha256", EV_HASH},
    {"files.md5", EV_HASH},
    {"files.sha1", EV_HASH},
    {"files.sha256", EV_HASH},
    {"alert.metadata.stix_id", EV_ID},
    {"alert.metadata.meridian_list", EV_LIST},
};

static void eve_collect(struct eve_rec *rec, const char *path, size_t plen, const char *v, size_t n,
                        bool esc)
{
    for (size_t i = 0; i < sizeof(eve_paths) / sizeof(eve_paths[0]); i++) {
        struct eve_field *f;
        if (strlen(eve_paths[i].path) != plen || memcmp(eve_paths[i].path, path, plen) != 0)
            continue;
        if (rec->n == EVE_MAX_FIELDS)
            return;
        f = &rec->f[rec->n];
        f->kind = eve_paths[i].kind;
        f->name = eve_paths[i].path;
        f->raw = v;
        f->rawn = n;
        f->v = v;
        f->n = n;
        if (esc) {
            size_t k =
                match__json_unescape(v, n, rec->scratch + rec->used, EVE_SCRATCH - rec->used);
            if (k == (size_t)-1)
                return; /* too long for the scratch: not looked up */
            f->v = rec->scratch + rec->used;
            f->n = k;
            rec->used += k;
        }
        rec->n++;
        return;
    }
}

static const struct eve_field *eve_get(const struct eve_rec *rec, enum eve_kind k)
{
    for (size_t i = 0; i < rec->n; i++)
        if (rec->f[i].kind == k)
            return &rec->f[i];
    return NULL;
}

static bool str_is(const struct eve_field *f, const char *lit)
{
    return f != NULL && f->n == strlen(lit) && memcmp(f->v, lit, f->n) == 0;
}

static bool line_jsonl(struct line_ctx *lc, const char *p, const char *end);

static bool line_eve(struct line_ctx *lc, const char *p, const char *end)
{
    struct eve_rec recbuf; /* ~9 KiB of stack: the scan allocates nothing */
    struct eve_rec *rec = &recbuf;
    const struct eve_field *type, *host, *url;
    bool ok;

    rec->n = 0;
    rec->used = 0;
    lc->eve = rec;
    ok = line_jsonl(lc, p, end);
    lc->eve = NULL;
    type = eve_get(rec, EV_TYPE);
    if (!ok || type == NULL)
        goto out;
    if (str_is(type, "alert")) {
        for (size_t i = 0; i < rec->n; i++)
            if (rec->f[i].kind == EV_ID)
                lookup_raw(lc, MATCH_O_ID, rec->f[i].v, rec->f[i].n, rec->f[i].raw, rec->f[i].rawn,
                           rec->f[i].name);
        if (lc->nseen > 0)
            goto out; /* the rule named its indicators */
        if (str_is(eve_get(rec, EV_LIST), "ip")) {
            /* the iprep rule of `--format suricata-datasets`: one of the
             * addresses is on the list */
            for (size_t i = 0; i < rec->n; i++)
                if (rec->f[i].kind == EV_SRC || rec->f[i].kind == EV_DST)
                    lookup_raw(lc, MATCH_O_IP, rec->f[i].v, rec->f[i].n, rec->f[i].raw,
                               rec->f[i].rawn, rec->f[i].name);
            goto out;
        }
    } else if (str_is(type, "flow") || str_is(type, "netflow")) {
        for (size_t i = 0; i < rec->n; i++)
            if (rec->f[i].kind == EV_SRC || rec->f[i].kind == EV_DST)
                lookup_raw(lc, MATCH_O_IP, rec->f[i].v, rec->f[i].n, rec->f[i].raw, rec->f[i].rawn,
                           rec->f[i].name);
        goto out;
    } else if (!str_is(type, "dns") && !str_is(type, "http") && !str_is(type, "tls") &&
               !str_is(type, "fileinfo")) {
        goto out; /* stats, anomaly, ...: nothing observed about an indicator */
    }
    for (size_t i = 0; i < rec->n; i++) {
        const struct eve_field *f = &rec->f[i];
        if (f->kind == EV_HOST || f->kind == EV_HTTP_HOST)
            lookup_raw(lc, MATCH_O_HOST, f->v, f->n, f->raw, f->rawn, f->name);
        else if (f->kind == EV_HASH)
            lookup_raw(lc, MATCH_O_HASH, f->v, f->n, f->raw, f->rawn, f->name);
    }
    host = eve_get(rec, EV_HTTP_HOST);
    url = eve_get(rec, EV_HTTP_URL);
    if (url != NULL && url->n > 0) {
        char full[MATCH_MAX_VALUE];
        if (url->v[0] == '/' && host != NULL && host->n + url->n + 7 <= sizeof(full)) {
            memcpy(full, "http://", 7);
            memcpy(full + 7, host->v, host->n);
            memcpy(full + 7 + host->n, url->v, url->n);
            lookup_raw(lc, MATCH_O_URL, full, 7 + host->n + url->n, url->raw, url->rawn, url->name);
        } else if (url->v[0] != '/') {
            lookup_raw(lc, MATCH_O_URL, url->v, url->n, url->raw, url->rawn, url->name);
        }
    }
out:
    return ok;
}

static bool intel_line(struct line_ctx *lc)
{
    const char *v = lc->intel_v[0], *t = lc->intel_v[1], *s = lc->intel_v[2];
    size_t vn = lc->intel_n[0], tn = lc->intel_n[1], sn = lc->intel_n[2];
    enum match_obs obs = MATCH_O_NONE;
    char full[MATCH_MAX_VALUE];

    if (v == NULL || t == NULL)
        return false;
    /* sources: a Zeek set, comma-separated */
    for (size_t i = 0; s != NULL && i < sn;) {
        size_t j = (size_t)(match__find(s + i, s + sn, ',') - s);
        if (j - i > 11 && memcmp(s + i, "indicator--", 11) == 0)
            lookup(lc, MATCH_O_ID, s + i, j - i, "sources");
        i = j + 1;
    }
    if (lc->nseen > 0)
        return true;
    if (mrd_str_eq(t, tn, "Intel::ADDR") || mrd_str_eq(t, tn, "Intel::SUBNET"))
        obs = MATCH_O_IP;
    else if (mrd_str_eq(t, tn, "Intel::DOMAIN"))
        obs = MATCH_O_HOST;
    else if (mrd_str_eq(t, tn, "Intel::EMAIL"))
        obs = MATCH_O_EMAIL;
    else if (mrd_str_eq(t, tn, "Intel::FILE_HASH"))
        obs = MATCH_O_HASH;
    if (obs != MATCH_O_NONE) {
        lookup(lc, obs, v, vn, "seen.indicator");
    } else if (mrd_str_eq(t, tn, "Intel::URL") && vn + 7 <= sizeof(full)) {
        /* Zeek's URLs carry no scheme */
        memcpy(full, "http://", 7);
        memcpy(full + 7, v, vn);
        lookup_raw(lc, MATCH_O_URL, full, vn + 7, v, vn, "seen.indicator");
    }
    return true;
}

static bool line_jsonl(struct line_ctx *lc, const char *p, const char *end)
{
    struct jwalk w;

    w.lc = lc;
    w.plen = 0;
    p = match__json_ws(p, end);
    if (p >= end || *p != '{')
        return false;
    p = jw_object(&w, p, end, 0);
    if (p == NULL)
        return false;
    p = match__json_ws(p, end);
    return p == end;
}

bool match_scan(const struct match_index *idx, struct match_reader *r, const char *buf, size_t len,
                unsigned flags, match_hit_fn cb, void *ctx, struct match_stats *st)
{
    return match_scan_ex(idx, r, buf, len, flags, cb, ctx, NULL, NULL, st);
}

bool match_scan_ex(const struct match_index *idx, struct match_reader *r, const char *buf,
                   size_t len, unsigned flags, match_hit_fn cb, void *ctx, match_line_fn on_line,
                   void *line_ctx, struct match_stats *st)
{
    const char *p = buf, *end = buf + len;
    struct line_ctx lc;
    struct split sp;

    lc.idx = idx;
    lc.r = r;
    lc.flags = flags;
    lc.buf = buf;
    lc.cb = cb;
    lc.cb_ctx = ctx;
    lc.st = st;
    lc.observe = on_line != NULL;
    lc.eve = NULL;
    lc.stop = false;
    lc.lineno = 0;
    sp.nseps = 0;
    sp.quoted = false;
    while (p < end && !lc.stop) {
        /* Zeek/CSV data lines are split while their end is searched */
        bool split = (r->fmt == MATCH_FMT_ZEEK || (r->fmt == MATCH_FMT_CSV && r->have_header)) &&
                     *p != '#' && r->sep != '\n' && r->sep != '\r';
        const char *nl = split ? split_line(p, end, r->sep, r->fmt == MATCH_FMT_CSV, &sp)
                               : match__find(p, end, '\n');
        const char *le = nl;
        bool ok;

        st->lines++;
        if ((size_t)(le - p) > MATCH_MAX_LINE) {
            st->too_long++;
            goto next;
        }
        if (le > p && le[-1] == '\r')
            le--;
        if (le == p) {
            st->header++; /* blank line: nothing to parse, nothing wrong */
            goto next;
        }
        if (*p == '#') {
            st->header++;
            if (r->fmt == MATCH_FMT_ZEEK)
                zeek_meta(r, p, le);
            goto next;
        }
        if (r->fmt == MATCH_FMT_CSV && !r->have_header) {
            st->header++;
            set_columns(r, p, le);
            goto next;
        }
        if (r->fmt == MATCH_FMT_CSV && !r->sniffed)
            match_reader_sniff(r, p, (size_t)(end - p)); /* once, on the first data rows */
        lc.line = p;
        lc.line_len = (size_t)(le - p);
        lc.intel_v[0] = lc.intel_v[1] = lc.intel_v[2] = NULL;
        lc.nseen = 0;
        lc.nobs = 0;
        lc.have_time = false;
        switch (r->fmt) {
        case MATCH_FMT_COMBINED:
            ok = line_combined(&lc, p, le);
            break;
        case MATCH_FMT_ZEEK:
        case MATCH_FMT_CSV:
            ok = split && !sp.quoted ? line_split(&lc, p, le, &sp) : line_columns(&lc, p, le);
            break;
        case MATCH_FMT_JSONL:
            ok = line_jsonl(&lc, p, le);
            break;
        case MATCH_FMT_EVE:
            ok = line_eve(&lc, p, le);
            break;
        default:
            ok = false;
            break;
        }
        if (ok && r->intel_ind_col >= 0)
            ok = intel_line(&lc);
        if (!ok) {
            st->malformed++;
        } else {
            for (size_t i = 0; i < lc.nseen && !lc.stop; i++) {
                st->hits++;
                if (!cb(ctx, &lc.pending[i]))
                    lc.stop = true;
            }
            if (on_line != NULL && lc.nobs > 0 && !lc.stop) {
                struct match_hit lh;
                memset(&lh, 0, sizeof(lh));
                lh.line = lc.lineno;
                lh.line_off = (size_t)(lc.line - buf);
                lh.time_usec = lc.have_time ? lc.time : match_line_time(r, lc.line, lc.line_len);
                if (!on_line(line_ctx, &lh, lc.obs, lc.nobs))
                    lc.stop = true;
            }
        }
    next:
        lc.lineno++;
        if (nl == end)
            break;
        p = nl + 1;
    }
    return !lc.stop;
}

/* ---- timestamps ---- */

static bool digits(const char *s, size_t n, unsigned *ret)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *ret = v;
    return true;
}

/* "+0200", "-07:00", "Z" or nothing: offset in seconds, or false. */
static bool tz_offset(const char *s, size_t n, int64_t *ret)
{
    unsigned hh, mm;
    int sign;

    while (n > 0 && *s == ' ') {
        s++;
        n--;
    }
    if (n == 0 || (n == 1 && (*s == 'Z' || *s == 'z'))) {
        *ret = 0;
        return true;
    }
    if (*s != '+' && *s != '-')
        return false;
    sign = *s == '-' ? -1 : 1;
    if (n == 5 && digits(s + 1, 2, &hh) && digits(s + 3, 2, &mm)) {
        *ret = sign * (int64_t)(hh * 3600 + mm * 60);
        return true;
    }
    if (n == 6 && s[3] == ':' && digits(s + 1, 2, &hh) && digits(s + 4, 2, &mm)) {
        *ret = sign * (int64_t)(hh * 3600 + mm * 60);
        return true;
    }
    return false;
}

static int64_t usec_of(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                       unsigned usec, int64_t off)
{
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return INT64_MIN;
    return ((mrd_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) - off) * 1000000 +
           usec;
}

/* ".123456" after seconds: microseconds and the bytes consumed. */
static size_t fraction(const char *s, size_t n, unsigned *usec)
{
    size_t i = 1;
    unsigned v = 0, scale = 100000;

    *usec = 0;
    if (n == 0 || (*s != '.' && *s != ','))
        return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        v += (unsigned)(s[i] - '0') * scale;
        scale /= 10;
        i++;
    }
    *usec = v;
    return i;
}

int64_t match_time_parse(const char *s, size_t n)
{
    unsigned y, mo, d, h, mi, sec, usec;
    int64_t off;
    size_t k;

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '"'))
        n--;
    while (n > 0 && (*s == ' ' || *s == '"' || *s == '[')) {
        s++;
        n--;
    }
    if (n > 0 && s[n - 1] == ']')
        n--;
    /* ISO 8601 / RFC 3339 */
    if (n >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
        s[13] == ':' && s[16] == ':' && digits(s, 4, &y) && digits(s + 5, 2, &mo) &&
        digits(s + 8, 2, &d) && digits(s + 11, 2, &h) && digits(s + 14, 2, &mi) &&
        digits(s + 17, 2, &sec)) {
        k = 19 + fraction(s + 19, n - 19, &usec);
        if (!tz_offset(s + k, n - k, &off))
            return INT64_MIN;
        return usec_of(y, mo, d, h, mi, sec, usec, off);
    }
    /* combined log: 29/Nov/2026:17:05:56 +0000 */
    if (n >= 20 && s[2] == '/' && s[6] == '/' && s[11] == ':' && digits(s, 2, &d) &&
        digits(s + 7, 4, &y) && digits(s + 12, 2, &h) && digits(s + 15, 2, &mi) &&
        digits(s + 18, 2, &sec)) {
        static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
        char m3[3] = {(char)match__lower((unsigned char)s[3]),
                      (char)match__lower((unsigned char)s[4]),
                      (char)match__lower((unsigned char)s[5])};
        mo = 0;
        for (unsigned i = 0; i < 12; i++)
            if (memcmp(months + 3 * i, m3, 3) == 0)
                mo = i + 1;
        if (mo == 0 || !tz_offset(s + 20, n - 20, &off))
            return INT64_MIN;
        return usec_of(y, mo, d, h, mi, sec, 0, off);
    }
    /* epoch seconds with an optional fraction (Zeek ts) */
    {
        int64_t secs = 0;
        size_t i = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i < 12) {
            secs = secs * 10 + (s[i] - '0');
            i++;
        }
        if (i == 0)
            return INT64_MIN;
        k = i + fraction(s + i, n - i, &usec);
        if (k != n)
            return INT64_MIN;
        return secs * 1000000 + usec;
    }
}

static int64_t json_time(const struct match_reader *r, const char *p, const char *end)
{
    /* Top-level members only: "@timestamp", "ts", "time"... */
    p = match__json_ws(p, end);
    if (p >= end || *p != '{')
        return INT64_MIN;
    p = match__json_ws(p + 1, end);
    while (p < end && *p == '"') {
        bool esc;
        const char *k0 = p + 1, *k1 = match__json_string_end(p, end, &esc), *v;
        if (k1 == NULL)
            return INT64_MIN;
        p = match__json_ws(k1, end);
        if (p >= end || *p != ':')
            return INT64_MIN;
        v = match__json_ws(p + 1, end);
        p = match__json_skip(v, end);
        if (p == NULL)
            return INT64_MIN;
        if (reader_obs(r, k0, (size_t)(k1 - 1 - k0)) == MATCH_O_TIME)
            return match_time_parse(v, (size_t)(p - v));
        p = match__json_ws(p, end);
        if (p < end && *p == ',')
            p = match__json_ws(p + 1, end);
    }
    return INT64_MIN;
}

int64_t match_line_time(const struct match_reader *r, const char *line, size_t len)
{
    const char *end = line + len;

    switch (r->fmt) {
    case MATCH_FMT_COMBINED: {
        const char *lb = memchr(line, '[', len), *rb;
        if (lb == NULL)
            return INT64_MIN;
        rb = memchr(lb, ']', (size_t)(end - lb));
        if (rb == NULL)
            return INT64_MIN;
        return match_time_parse(lb + 1, (size_t)(rb - lb - 1));
    }
    case MATCH_FMT_ZEEK:
    case MATCH_FMT_CSV: {
        const char *p = line;
        if (r->time_col < 0)
            return INT64_MIN;
        for (int c = 0; c <= r->time_col; c++) {
            const char *v;
            size_t vn;
            const char *q = csv_field(p, end, r->sep, &v, &vn);
            if (c == r->time_col)
                return match_time_parse(v, vn);
            if (q >= end)
                return INT64_MIN;
            p = q + 1;
        }
        return INT64_MIN;
    }
    case MATCH_FMT_JSONL:
    case MATCH_FMT_EVE:
        return json_time(r, line, end);
    default:
        return INT64_MIN;
    }
}
