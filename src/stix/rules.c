/*
 * rules: per-type rules that tie several properties together — orderings
 * of timestamps, "one of these is required", "this one excludes that one".
 *
 * Property types were checked already (check.c); here a property of the
 * wrong JSON type is simply skipped, so one mistake gives one finding.
 */
#include <string.h>

#include "core/str.h"
#include "stix/stix_rules.h"

/* Parses obj[name] as a timestamp; false when absent or not one (already
 * reported by the property check). */
static bool get_ts(const json_t *obj, const char *name, struct mrd_time *ret)
{
    const json_t *v = json_object_get(obj, name);

    if (!json_is_string(v))
        return false;
    return mrd_time_parse(json_string_value(v), json_string_length(v), ret, NULL) == MRD_OK;
}

/* Reports `later` when it is before `earlier` (strict: also when equal). */
static void order(struct stix_ctx *c, const json_t *obj, const char *earlier, const char *later,
                  bool strict, const char *section)
{
    struct mrd_time a;
    struct mrd_time b;
    int cmp;

    if (!get_ts(obj, earlier, &a) || !get_ts(obj, later, &b))
        return;
    cmp = mrd_time_cmp(&b, &a);
    if (cmp < 0 || (strict && cmp == 0))
        stix__error_at(c, later, "timestamp-order", section, "'%s' (%s) must be %s '%s' (%s)",
                       later, json_string_value(json_object_get(obj, later)),
                       strict ? "later than" : "equal to or later than", earlier,
                       json_string_value(json_object_get(obj, earlier)));
}

static bool has(const json_t *obj, const char *name)
{
    return json_object_get(obj, name) != NULL;
}

void stix__rule_seen(struct stix_ctx *c, const json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    const char *sec = "STIX 2.1 §4";

    if (strcmp(type, "campaign") == 0)
        sec = "STIX 2.1 §4.2";
    else if (strcmp(type, "infrastructure") == 0)
        sec = "STIX 2.1 §4.8";
    else if (strcmp(type, "intrusion-set") == 0)
        sec = "STIX 2.1 §4.9";
    else if (strcmp(type, "threat-actor") == 0)
        sec = "STIX 2.1 §4.17";
    order(c, obj, "first_seen", "last_seen", false, sec);
}

void stix__rule_indicator(struct stix_ctx *c, const json_t *obj)
{
    const json_t *pt = json_object_get(obj, "pattern_type");
    const json_t *p = json_object_get(obj, "pattern");

    /* §4.7: "valid_until MUST be greater than valid_from". */
    order(c, obj, "valid_from", "valid_until", true, "STIX 2.1 §4.7");
    if (json_is_string(pt) && strcmp(json_string_value(pt), "stix") == 0 && json_is_string(p) &&
        (c->flags & STIX_NO_PATTERN) == 0) {
        stix__push_key(c, "pattern");
        stix__check_pattern(c, p);
        stix__pop(c);
    }
}

void stix__rule_location(struct stix_ctx *c, const json_t *obj)
{
    bool lat = has(obj, "latitude");
    bool lon = has(obj, "longitude");

    /* §4.10: region, country, or latitude+longitude; each coordinate needs
     * the other; precision needs both. */
    if (!has(obj, "region") && !has(obj, "country") && !(lat && lon))
        stix__error(c, "location-required", "STIX 2.1 §4.10",
                    "a location needs at least one of 'region', 'country', or 'latitude' "
                    "with 'longitude'");
    if (lat != lon)
        stix__error_at(c, lat ? "latitude" : "longitude", "location-coordinates", "STIX 2.1 §4.10",
                       "'latitude' and 'longitude' must appear together");
    if (has(obj, "precision") && !(lat && lon))
        stix__error_at(c, "precision", "location-coordinates", "STIX 2.1 §4.10",
                       "'precision' needs both 'latitude' and 'longitude'");
}

void stix__rule_malware(struct stix_ctx *c, const json_t *obj)
{
    const json_t *fam = json_object_get(obj, "is_family");

    if (json_is_true(fam) && !has(obj, "name"))
        stix__error(c, "required-property", "STIX 2.1 §4.11",
                    "'name' is required when 'is_family' is true");
    order(c, obj, "first_seen", "last_seen", false, "STIX 2.1 §4.11");
}

void stix__rule_malware_analysis(struct stix_ctx *c, const json_t *obj)
{
    if (!has(obj, "result") && !has(obj, "analysis_sco_refs"))
        stix__error(c, "required-property", "STIX 2.1 §4.12",
                    "a malware-analysis needs 'result' or 'analysis_sco_refs'");
    order(c, obj, "analysis_started", "analysis_ended", false, "STIX 2.1 §4.12");
}

void stix__rule_observed_data(struct stix_ctx *c, const json_t *obj)
{
    const json_t *refs = json_object_get(obj, "object_refs");
    bool objs = has(obj, "objects");

    order(c, obj, "first_observed", "last_observed", false, "STIX 2.1 §4.14");
    if (objs && refs != NULL)
        stix__error(c, "observed-data-objects", "STIX 2.1 §4.14",
                    "'objects' (deprecated) and 'object_refs' must not both be present");
    else if (!objs && refs == NULL)
        stix__error(c, "observed-data-objects", "STIX 2.1 §4.14",
                    "observed-data needs 'object_refs' (or the deprecated 'objects')");
    else if (objs)
        stix__warn_at(c, "objects", "deprecated-property", "STIX 2.1 §4.14",
                      "'objects' is deprecated; put the SCOs in the bundle and list them in "
                      "'object_refs'");
    if (json_is_object(json_object_get(obj, "objects")) && c->container == NULL) {
        const json_t *dict = json_object_get(obj, "objects");
        const char *k;
        json_t *v;
        c->container = dict;
        stix__push_key(c, "objects");
        json_object_foreach(stix__mut(dict), k, v)
        {
            stix__push_key(c, k);
            stix__check_object(c, v);
            stix__pop(c);
        }
        stix__pop(c);
        c->container = NULL;
    }
    if (json_is_array(refs) && json_array_size(refs) > 0) {
        bool sco = false;
        for (size_t i = 0; i < json_array_size(refs) && !sco; i++) {
            const char *s = json_string_value(json_array_get(refs, i));
            const char *dd = s != NULL ? strstr(s, "--") : NULL;
            enum stix_class cls;
            if (dd == NULL)
                continue;
            cls = stix_type_class(s, (size_t)(dd - s));
            sco = cls == STIX_CLASS_SCO || cls == STIX_CLASS_CUSTOM;
        }
        if (!sco)
            stix__error_at(c, "object_refs", "observed-data-objects", "STIX 2.1 §4.14",
                           "'object_refs' must contain at least one SCO reference");
    }
}

void stix__rule_relationship(struct stix_ctx *c, const json_t *obj)
{
    const json_t *rt = json_object_get(obj, "relationship_type");

    if (json_is_string(rt)) {
        const char *s = json_string_value(rt);
        size_t n = json_string_length(rt);
        bool ok = n > 0;
        for (size_t i = 0; i < n && ok; i++)
            ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
        if (!ok)
            stix__error_at(c, "relationship_type", "relationship-type-format", "STIX 2.1 §5.1",
                           "'%.60s' must be ASCII a-z, 0-9 and '-' only", s);
    }
    order(c, obj, "start_time", "stop_time", true, "STIX 2.1 §5.1");
}

void stix__rule_sighting(struct stix_ctx *c, const json_t *obj)
{
    order(c, obj, "first_seen", "last_seen", false, "STIX 2.1 §5.2");
}

/* RFC 3986 §3: a URI (not a relative reference) starts with a scheme,
 * ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), and a ':'. */
static bool uri_has_scheme(const char *s)
{
    size_t i = 0;

    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
           (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':';
}

static void check_uri(struct stix_ctx *c, const json_t *obj, const char *key, const char *section)
{
    const json_t *v = json_object_get(obj, key);

    if (json_is_string(v) && !uri_has_scheme(json_string_value(v)))
        stix__error_at(c, key, "url-format", section,
                       "'%.60s' is not a URL: RFC 3986 requires a scheme such as 'http:'",
                       json_string_value(v));
}

static bool is_dec(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int hex_val(char ch)
{
    if (is_dec(ch))
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Dotted-quad IPv4 in s[0..n): four decimal octets 0-255, 1-3 digits. */
static bool ipv4_ok(const char *s, size_t n)
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t d = 0;
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        while (i < n && is_dec(s[i]) && d < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            d++;
        }
        if (d == 0 || d > 3 || v > 255)
            return false;
    }
    return i == n;
}

/* RFC 4291 §2.2 text form in s[0..n): up to eight 1-4 digit hex groups,
 * at most one "::", optionally ending in a dotted quad worth two groups. */
static bool ipv6_ok(const char *s, size_t n)
{
    size_t i = 0;
    int groups = 0;
    bool gap = false;

    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = true;
        i = 2;
        if (i == n)
            return true;
    } else if (n >= 1 && s[0] == ':') {
        return false;
    }
    while (i < n) {
        size_t start = i;
        size_t d = 0;
        while (i < n && hex_val(s[i]) >= 0 && d < 5) {
            i++;
            d++;
        }
        if (i < n && s[i] == '.') {
            /* the embedded IPv4 tail */
            if (!ipv4_ok(s + start, n - start))
                return false;
            groups += 2;
            i = n;
            break;
        }
        if (d == 0 || d > 4)
            return false;
        groups++;
        if (i == n)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < n && s[i] == ':') {
            if (gap)
                return false;
            gap = true;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return false; /* a single trailing ':' */
        }
    }
    return gap ? groups < 8 : groups == 8;
}

/* An address, optionally "/prefix" with a decimal prefix of at most max
 * and no leading zero (RFC 4632 §3.1 CIDR notation). */
static bool cidr_ok(const char *s, size_t max, bool v6)
{
    const char *slash = strchr(s, '/');
    size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
    size_t p = 0;
    size_t d = 0;

    if (!(v6 ? ipv6_ok(s, n) : ipv4_ok(s, n)))
        return false;
    if (slash == NULL)
        return true;
    for (const char *q = slash + 1; *q != '\0'; q++, d++) {
        if (!is_dec(*q) || d >= 3)
            return false;
        p = p * 10 + (size_t)(*q - '0');
    }
    return d > 0 && !(d > 1 && slash[1] == '0') && p <= max;
}

void stix__rule_ipv4(struct stix_ctx *c, const json_t *obj)
{
    const char *v = json_string_value(json_object_get(obj, "value"));

    if (v != NULL && !cidr_ok(v, 32, false))
        stix__error_at(c, "value", "ip-format", "STIX 2.1 §6.8",
                       "'%.60s' is not an IPv4 address or CIDR block (a.b.c.d or a.b.c.d/0-32)", v);
}

void stix__rule_ipv6(struct stix_ctx *c, const json_t *obj)
{
    const char *v = json_string_value(json_object_get(obj, "value"));

    if (v != NULL && !cidr_ok(v, 128, true))
        stix__error_at(c, "value", "ip-format", "STIX 2.1 §6.9",
                       "'%.60s' is not an IPv6 address or CIDR block (RFC 4291 text form, "
                       "optional /0-128)",
                       v);
}

/* CAPEC-<digits> (§4.1). */
static bool capec_id_ok(const char *s)
{
    if (strncmp(s, "CAPEC-", 6) != 0 || s[6] == '\0')
        return false;
    for (s += 6; *s != '\0'; s++)
        if (!is_dec(*s))
            return false;
    return true;
}

/* CVE-YYYY-NNNN with four or more sequence digits, no leading zero beyond
 * four (the CVE ID syntax §4.19 refers to). */
static bool cve_id_ok(const char *s)
{
    size_t n = 0;

    if (strncmp(s, "CVE-", 4) != 0)
        return false;
    for (int i = 4; i < 8; i++)
        if (!is_dec(s[i]))
            return false;
    if (s[8] != '-')
        return false;
    s += 9;
    while (is_dec(s[n]))
        n++;
    if (s[n] != '\0' || n < 4)
        return false;
    return n == 4 || s[0] != '0';
}

/* Walks external_references with the CAPEC or CVE rule: a reference with
 * source_name `source` needs an external_id in the right form; with
 * `strict_source`, an id in that form needs that source_name. */
static void check_extref_ids(struct stix_ctx *c, const json_t *obj, const char *source,
                             bool (*id_ok)(const char *), bool strict_source, const char *section)
{
    const json_t *refs = json_object_get(obj, "external_references");

    for (size_t i = 0; i < json_array_size(refs); i++) {
        const json_t *r = json_array_get(refs, i);
        const char *src = json_string_value(json_object_get(r, "source_name"));
        const char *eid = json_string_value(json_object_get(r, "external_id"));
        if (src == NULL)
            continue;
        stix__push_key(c, "external_references");
        stix__push_index(c, i);
        if (strcmp(src, source) == 0 && (eid == NULL || !id_ok(eid)))
            stix__error(c, "external-reference", section,
                        "a '%s' reference needs an external_id in the %s form", source,
                        source[1] == 'v' ? "CVE-YYYY-NNNN" : "CAPEC-<number>");
        else if (strict_source && strcmp(src, source) != 0 && eid != NULL && id_ok(eid))
            stix__error(c, "external-reference", section,
                        "a reference to '%.40s' must have the source_name '%s'", eid, source);
        stix__pop(c);
        stix__pop(c);
    }
}

void stix__rule_attack_pattern(struct stix_ctx *c, const json_t *obj)
{
    check_extref_ids(c, obj, "capec", capec_id_ok, false, "STIX 2.1 §4.1");
}

void stix__rule_vulnerability(struct stix_ctx *c, const json_t *obj)
{
    check_extref_ids(c, obj, "cve", cve_id_ok, true, "STIX 2.1 §4.19");
}

void stix__rule_url(struct stix_ctx *c, const json_t *obj)
{
    check_uri(c, obj, "value", "STIX 2.1 §6.15");
}

void stix__rule_email_addr(struct stix_ctx *c, const json_t *obj)
{
    const char *v = json_string_value(json_object_get(obj, "value"));

    /* "John Doe <jd@example.com>" is the name-addr form; the value is the
     * addr-spec only and the name goes in display_name. */
    if (v != NULL && (strchr(v, '<') != NULL || strchr(v, '>') != NULL))
        stix__error_at(c, "value", "email-format", "STIX 2.1 §6.4",
                       "the value must be the address alone, without a display name or angle "
                       "brackets (use 'display_name')");
}

/* a (any case) equals lower-case b over n bytes. */
static bool ascii_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] - 'A' + 'a') : a[i];
        if (ch != b[i])
            return false;
    }
    return true;
}

void stix__rule_regkey(struct stix_ctx *c, const json_t *obj)
{
    static const char *const abbrev[] = {"hklm", "hkcu", "hkcr", "hku", "hkcc", "hkpd", NULL};
    const char *v = json_string_value(json_object_get(obj, "key"));
    size_t n = 0;

    if (v == NULL)
        return;
    while (v[n] != '\0' && v[n] != '\\')
        n++;
    for (size_t i = 0; abbrev[i] != NULL; i++)
        if (n == strlen(abbrev[i]) && ascii_ieq(v, abbrev[i], n))
            stix__error_at(c, "key", "registry-hive", "STIX 2.1 §6.17",
                           "the hive must be written out in full (e.g. HKEY_LOCAL_MACHINE, "
                           "not HKLM)");
}

void stix__rule_artifact(struct stix_ctx *c, const json_t *obj)
{
    check_uri(c, obj, "url", "STIX 2.1 §6.1");
    if (!has(obj, "payload_bin") && !has(obj, "url"))
        stix__error(c, "required-property", "STIX 2.1 §6.1",
                    "an artifact needs 'payload_bin' or 'url'");
    if (has(obj, "payload_bin") && has(obj, "url"))
        stix__error(c, "artifact-content", "STIX 2.1 §6.1",
                    "'payload_bin' and 'url' must not both be present");
    if (has(obj, "url") && !has(obj, "hashes"))
        stix__error(c, "artifact-content", "STIX 2.1 §6.1",
                    "'hashes' is required when 'url' is present");
    if (has(obj, "decryption_key") && !has(obj, "encryption_algorithm"))
        stix__error_at(c, "decryption_key", "artifact-content", "STIX 2.1 §6.1",
                       "'decryption_key' must not appear without 'encryption_algorithm'");
}

void stix__rule_email_message(struct stix_ctx *c, const json_t *obj)
{
    const json_t *mp = json_object_get(obj, "is_multipart");
    const json_t *parts = json_object_get(obj, "body_multipart"), *part;
    size_t i;

    /* §6.6.2: each MIME part has one of 'body' or 'body_raw_ref', and
     * "One of body OR body_raw_ref MUST be included", not both. */
    json_array_foreach(parts, i, part)
    {
        if (json_is_object(part) && has(part, "body") == has(part, "body_raw_ref")) {
            stix__push_key(c, "body_multipart");
            stix__push_index(c, i);
            stix__error(c, "email-body", "STIX 2.1 §6.6.2",
                        "a MIME part needs exactly one of 'body' or 'body_raw_ref'");
            stix__pop(c);
            stix__pop(c);
        }
    }
    if (!json_is_boolean(mp))
        return;
    if (json_is_true(mp) && has(obj, "body"))
        stix__error_at(c, "body", "email-body", "STIX 2.1 §6.6",
                       "'body' must not be present when 'is_multipart' is true (use "
                       "'body_multipart')");
    if (!json_is_true(mp) && has(obj, "body_multipart"))
        stix__error_at(c, "body_multipart", "email-body", "STIX 2.1 §6.6",
                       "'body_multipart' must not be present when 'is_multipart' is false");
}

/* §6.3, §6.7: "The value of this property MUST be specified using a
 * character set name from the IANA character set registry" (charsets.c;
 * names are case-insensitive there). */
static void enc_charset(struct stix_ctx *c, const json_t *obj, const char *prop,
                        const char *section)
{
    const json_t *v = json_object_get(obj, prop);

    if (json_is_string(v) && !stix__charset_known(json_string_value(v)))
        stix__error_at(c, prop, "charset-name", section,
                       "'%.60s' is not a name or alias in the IANA character set registry "
                       "(e.g. UTF-8, ISO-8859-1, windows-1252, Shift_JIS)",
                       json_string_value(v));
}

void stix__rule_directory(struct stix_ctx *c, const json_t *obj)
{
    enc_charset(c, obj, "path_enc", "STIX 2.1 §6.3");
}

void stix__rule_file(struct stix_ctx *c, const json_t *obj)
{
    if (!has(obj, "hashes") && !has(obj, "name"))
        stix__error(c, "required-property", "STIX 2.1 §6.7",
                    "a file needs at least one of 'hashes' or 'name'");
    if (has(obj, "name_enc") && !has(obj, "name"))
        stix__error_at(c, "name_enc", "enc-without-base", SEC_NAMING,
                       "'name_enc' must not appear without 'name'");
    enc_charset(c, obj, "name_enc", "STIX 2.1 §6.7");
}

/* ---- CPE 2.3 formatted strings (NISTIR 7695 §6.2) ---- */

/* The characters a formatted-string component may quote with '\'. */
static bool cpe_quotable(char ch)
{
    return ch != '\0' && strchr("\\*?!\"#$%&'()+,/:;<=>@[]^`{|}~", ch) != NULL;
}

static bool cpe_plain(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_';
}

/* One avstring component s[0..n): "*", "-", or 1+ plain or quoted
 * characters, with an optional leading run of '?' or one '*' and the same
 * at the end (the CPE 2.3 schema's formatted-string pattern). */
static bool cpe_component(const char *s, size_t n)
{
    size_t i = 0, body = 0;

    if (n == 1 && (s[0] == '*' || s[0] == '-'))
        return true;
    if (i < n && s[i] == '*')
        i++;
    else
        while (i < n && s[i] == '?')
            i++;
    while (i < n) {
        if (s[i] == '\\' && i + 1 < n && cpe_quotable(s[i + 1]))
            i += 2;
        else if (cpe_plain(s[i]))
            i++;
        else
            break;
        body++;
    }
    if (i < n && s[i] == '*')
        i++;
    else
        while (i < n && s[i] == '?')
            i++;
    return body > 0 && i == n;
}

/* The language component: "*", "-" or an RFC 5646 language and region. */
static bool cpe_language(const char *s, size_t n)
{
    size_t i = 0, k;

    if (n == 1 && (s[0] == '*' || s[0] == '-'))
        return true;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
        i++;
    if (i < 2 || i > 3)
        return false;
    if (i == n)
        return true;
    if (s[i++] != '-')
        return false;
    for (k = i; k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')); k++)
        ;
    if (k - i == 2 && k == n)
        return true;
    for (k = i; k < n && s[k] >= '0' && s[k] <= '9'; k++)
        ;
    return k - i == 3 && k == n;
}

/* Why s is not a CPE 2.3 formatted string, or NULL. */
static const char *cpe23_problem(const char *s, size_t n)
{
    static const char *const names[] = {"part",      "vendor",    "product",  "version",
                                        "update",    "edition",   "language", "sw_edition",
                                        "target_sw", "target_hw", "other"};
    size_t i = 8, comp = 0;

    if (n < 8 || memcmp(s, "cpe:2.3:", 8) != 0)
        return "it must start with 'cpe:2.3:'";
    while (comp < 11) {
        size_t start = i;
        bool ok;

        /* A component ends at the first ':' that is not quoted. */
        while (i < n && s[i] != ':') {
            if (s[i] == '\\' && i + 1 < n)
                i++;
            i++;
        }
        if (i > n)
            i = n;
        if (comp == 0)
            ok = i - start == 1 && strchr("aoh*-", s[start]) != NULL;
        else if (comp == 6)
            ok = cpe_language(s + start, i - start);
        else
            ok = cpe_component(s + start, i - start);
        if (!ok)
            return names[comp];
        comp++;
        if (comp < 11) {
            if (i >= n)
                return "it has fewer than 11 components after 'cpe:2.3:'";
            i++; /* the ':' */
        }
    }
    if (i != n)
        return "it has more than 11 components after 'cpe:2.3:'";
    return NULL;
}

/* §6.14: "cpe ... MUST be a CPE v2.3 entry from the official NVD CPE
 * Dictionary"; what can be checked offline is the form, the NISTIR 7695
 * §6.2 formatted-string binding. */
void stix__rule_software(struct stix_ctx *c, const json_t *obj)
{
    const json_t *v = json_object_get(obj, "cpe");
    const char *why;

    if (!json_is_string(v))
        return;
    why = cpe23_problem(json_string_value(v), json_string_length(v));
    if (why == NULL)
        return;
    if (strchr(why, ' ') != NULL)
        stix__error_at(c, "cpe", "cpe-format", "STIX 2.1 §6.14",
                       "'%.80s' is not a CPE 2.3 formatted string (NISTIR 7695 §6.2): %s",
                       json_string_value(v), why);
    else
        stix__error_at(c, "cpe", "cpe-format", "STIX 2.1 §6.14",
                       "'%.80s' is not a CPE 2.3 formatted string (NISTIR 7695 §6.2): its %s "
                       "component is malformed",
                       json_string_value(v), why);
}

void stix__rule_network_traffic(struct stix_ctx *c, const json_t *obj)
{
    if (!has(obj, "src_ref") && !has(obj, "dst_ref"))
        stix__error(c, "required-property", "STIX 2.1 §6.12",
                    "network-traffic needs at least one of 'src_ref' or 'dst_ref'");
    if (json_is_true(json_object_get(obj, "is_active")) && has(obj, "end"))
        stix__error_at(c, "end", "network-traffic-end", "STIX 2.1 §6.12",
                       "'end' must not be present while 'is_active' is true");
    order(c, obj, "start", "end", false, "STIX 2.1 §6.12");
}

/* §6.10: "a single colon-delimited, lowercase MAC-48 address, which MUST
 * include leading zeros for each octet". */
void stix__rule_mac(struct stix_ctx *c, const json_t *obj)
{
    const json_t *v = json_object_get(obj, "value");
    const char *s = json_string_value(v);
    bool ok;

    if (s == NULL)
        return;
    ok = json_string_length(v) == 17;
    for (size_t i = 0; ok && i < 17; i++) {
        if (i % 3 == 2)
            ok = s[i] == ':';
        else
            ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    }
    if (!ok)
        stix__error_at(c, "value", "mac-format", "STIX 2.1 §6.10",
                       "'%.40s' must be a lowercase, colon-separated MAC-48 address with "
                       "leading zeros, e.g. d2:fb:49:24:37:18",
                       s);
}

void stix__rule_process(struct stix_ctx *c, const json_t *obj)
{
    static const char *const common[] = {
        "type", "id", "spec_version", "object_marking_refs", "granular_markings", "defanged", NULL};
    const char *k;
    json_t *v;

    json_object_foreach(stix__mut(obj), k, v)
    {
        if (!stix__in_vocab(common, k))
            return;
    }
    stix__error(c, "required-property", "STIX 2.1 §6.13",
                "a process needs at least one property of its own or an extension");
}

void stix__rule_at_least_one(struct stix_ctx *c, const json_t *obj)
{
    static const char *const common[] = {
        "type",       "id", "spec_version", "object_marking_refs", "granular_markings", "defanged",
        "extensions", NULL};
    const char *k;
    json_t *v;

    json_object_foreach(stix__mut(obj), k, v)
    {
        if (!stix__in_vocab(common, k))
            return;
    }
    stix__error(c, "required-property", "STIX 2.1 §6",
                "this object needs at least one property of its own besides the common ones");
}

void stix__rule_language_content(struct stix_ctx *c, const json_t *obj)
{
    const json_t *contents = json_object_get(obj, "contents");
    const char *k;
    json_t *v;

    if (contents == NULL) {
        stix__error(c, "required-property", "STIX 2.1 §7.1",
                    "'contents' is required on a language-content");
        return;
    }
    if (!json_is_object(contents))
        return;
    stix__push_key(c, "contents");
    json_object_foreach(stix__mut(contents), k, v)
    {
        stix__push_key(c, k);
        if (!stix__lang_tag_ok(k, strlen(k)))
            stix__error(c, "language-tag", "STIX 2.1 §7.1",
                        "'%.40s' is not an RFC 5646 language tag", k);
        if (!json_is_object(v) || json_object_size(v) == 0) {
            stix__error(c, "property-type", "STIX 2.1 §7.1",
                        "each language maps to a non-empty dictionary of translated properties");
        } else {
            /* Its keys name properties of the object translated, so they
             * must be property names (§3.1): "a" can name nothing. */
            const char *pk;
            json_t *pv;
            json_object_foreach(stix__mut(v), pk, pv)
            {
                if (!stix__prop_name_ok(pk, strlen(pk)))
                    stix__error(c, "property-name", "STIX 2.1 §7.1",
                                "'%.60s' is not a property name (3-250 of a-z, 0-9 and '_', "
                                "starting with a letter), so it translates nothing",
                                pk);
            }
        }
        stix__pop(c);
    }
    stix__pop(c);
}

void stix__rule_extension_definition(struct stix_ctx *c, const json_t *obj)
{
    const json_t *types = json_object_get(obj, "extension_types");
    bool toplevel = false;

    for (size_t i = 0; i < json_array_size(types); i++) {
        const char *s = json_string_value(json_array_get(types, i));
        if (s != NULL && strcmp(s, "toplevel-property-extension") == 0)
            toplevel = true;
    }
    if (has(obj, "extension_properties") && json_is_array(types) && !toplevel)
        stix__error_at(c, "extension_properties", "extension-properties", "STIX 2.1 §7.3",
                       "'extension_properties' is only allowed with a "
                       "toplevel-property-extension");
}
