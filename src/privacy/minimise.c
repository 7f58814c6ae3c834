/* Outbound minimisation (privacy.h, "minimisation"; docs/privacy.md): the
 * one function every outbound path calls after the TLP decision, and the
 * policy it applies. */
#include "privacy/privacy.h"

#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "crypto/crypto.h"

/* STIX 2.1 §2.9: the namespace of deterministic SCO ids. */
#define STIX_SCO_NAMESPACE "00abedb4-aa42-466c-9c01-fed23315a9b7"

struct privacy_prefix {
    struct privacy_addr net; /* masked */
    unsigned len;
};

struct privacy_rule {
    enum privacy_scope_kind kind;
    char *scope_name; /* community, org or peer name; NULL for all/export */
    char *type;       /* "*" for every type */
    char *property;
    enum privacy_action action;
    bool has_key;
    struct privacy_cryptopan cp;
};

struct privacy_policy {
    struct privacy_prefix *prefixes;
    size_t n_prefixes;
    char **custom; /* x_ properties allowed out */
    size_t n_custom;
    struct privacy_rule *rules;
    size_t n_rules;
    /* references (privacy_live_get hands out more): freed at the last */
    _Atomic size_t refs;
};

static const char *const default_internal[] = {"10.0.0.0/8",  "172.16.0.0/12",  "192.168.0.0/16",
                                               "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10",
                                               "fc00::/7",    "fe80::/10",      "::1/128"};

static json_t *unconst(const json_t *v)
{
    return (json_t *)(uintptr_t)v;
}

static void mask(struct privacy_addr *a, unsigned len)
{
    for (unsigned i = 0; i < a->len; i++) {
        unsigned bits = len > i * 8 ? len - i * 8 : 0;
        if (bits < 8)
            a->bytes[i] &= (uint8_t)(0xff00u >> bits);
    }
}

/* Parses "addr" or "addr/len" (STIX ipv4-addr/ipv6-addr values may be
 * CIDR); *ret_len is the prefix length, the full width without one. */
static bool cidr_parse(const char *s, size_t n, struct privacy_addr *ret, unsigned *ret_len)
{
    const char *slash = memchr(s, '/', n);
    uint64_t len;

    if (n == 0 || n > PRIVACY_ADDR_LINE_MAX)
        return false;
    if (privacy_addr_parse(s, slash != NULL ? (size_t)(slash - s) : n, ret, NULL) != MRD_OK)
        return false;
    *ret_len = ret->len * 8u;
    if (slash == NULL)
        return true;
    if (mrd_str_to_u64(slash + 1, n - (size_t)(slash + 1 - s), ret->len * 8u, &len, NULL) != MRD_OK)
        return false;
    *ret_len = (unsigned)len;
    return true;
}

static bool prefix_covers(const struct privacy_prefix *p, const struct privacy_addr *a,
                          unsigned alen)
{
    struct privacy_addr m = *a;

    if (p->net.len != a->len || alen < p->len)
        return false;
    mask(&m, p->len);
    return memcmp(m.bytes, p->net.bytes, a->len) == 0;
}

bool privacy_policy_is_internal(const struct privacy_policy *p, const char *s, size_t n)
{
    struct privacy_addr a;
    unsigned alen;

    if (!cidr_parse(s, n, &a, &alen))
        return false;
    for (size_t i = 0; i < p->n_prefixes; i++)
        if (prefix_covers(&p->prefixes[i], &a, alen))
            return true;
    return false;
}

struct privacy_policy *privacy_policy_ref(struct privacy_policy *p)
{
    if (p != NULL)
        atomic_fetch_add(&p->refs, 1);
    return p;
}

void privacy_policy_free(struct privacy_policy *p)
{
    if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    for (size_t i = 0; i < p->n_rules; i++) {
        mrd_free(p->rules[i].scope_name);
        mrd_free(p->rules[i].type);
        mrd_free(p->rules[i].property);
        if (p->rules[i].has_key)
            privacy_cryptopan_release(&p->rules[i].cp);
    }
    for (size_t i = 0; i < p->n_custom; i++)
        mrd_free(p->custom[i]);
    mrd_free(p->custom);
    mrd_free(p->rules);
    mrd_free(p->prefixes);
    mrd_free(p);
}

static enum mrd_code add_prefix(struct privacy_policy *p, const char *s, size_t n, size_t at,
                                struct mrd_err *err)
{
    struct privacy_prefix *x = &p->prefixes[p->n_prefixes];
    char safe[80];

    if (!cidr_parse(s, n, &x->net, &x->len))
        return mrd_err_set(err, MRD_E_PARSE,
                           "privacy policy: internal_prefixes[%zu]: \"%s\" is not an address "
                           "or prefix",
                           at, mrd_str_escape(safe, sizeof(safe), s, n));
    mask(&x->net, x->len);
    p->n_prefixes++;
    return MRD_OK;
}

static char *dup_str(const json_t *v)
{
    return mrd_strndup(json_string_value(v), json_string_length(v));
}

/* Reads rules[i]. */
static enum mrd_code rule_read(const json_t *r, size_t i, struct privacy_rule *ret,
                               struct mrd_err *err)
{
    static const char *const known[] = {"scope", "type", "property", "action", "key"};
    json_t *scope = json_object_get(r, "scope"), *type = json_object_get(r, "type");
    json_t *prop = json_object_get(r, "property"), *action = json_object_get(r, "action");
    json_t *key = json_object_get(r, "key"), *v;
    const char *s, *k;
    uint8_t raw[PRIVACY_CRYPTOPAN_KEY_LEN];
    char safe[80];

    if (!json_is_object(r))
        return mrd_err_set(err, MRD_E_PARSE, "privacy policy: rules[%zu] is not an object", i);
    json_object_foreach(unconst(r), k, v)
    {
        bool ok = false;
        for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
            ok = ok || strcmp(k, known[j]) == 0;
        if (!ok)
            return mrd_err_set(err, MRD_E_PARSE,
                               "privacy policy: rules[%zu]: unknown member \"%s\"", i,
                               mrd_str_escape(safe, sizeof(safe), k, strlen(k)));
    }
    if (!json_is_string(scope) || !json_is_string(type) || !json_is_string(prop) ||
        !json_is_string(action))
        return mrd_err_set(err, MRD_E_PARSE,
                           "privacy policy: rules[%zu]: scope, type, property and action are "
                           "required strings",
                           i);
    if (json_string_length(scope) > PRIVACY_POLICY_NAME_MAX ||
        json_string_length(type) > PRIVACY_POLICY_NAME_MAX ||
        json_string_length(prop) > PRIVACY_POLICY_NAME_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG,
                           "privacy policy: rules[%zu]: a name is longer than %d bytes", i,
                           PRIVACY_POLICY_NAME_MAX);
    s = json_string_value(scope);
    if (strcmp(s, "all") == 0) {
        ret->kind = PRIVACY_SCOPE_ALL;
    } else if (strcmp(s, "export") == 0) {
        ret->kind = PRIVACY_SCOPE_EXPORT;
    } else if (strncmp(s, "community:", 10) == 0 && s[10] != '\0') {
        ret->kind = PRIVACY_SCOPE_COMMUNITY;
        ret->scope_name = mrd_strdup(s + 10);
    } else if (strncmp(s, "org:", 4) == 0 && s[4] != '\0') {
        ret->kind = PRIVACY_SCOPE_ORG;
        ret->scope_name = mrd_strdup(s + 4);
    } else if (strncmp(s, "peer:", 5) == 0 && s[5] != '\0') {
        ret->kind = PRIVACY_SCOPE_PEER;
        ret->scope_name = mrd_strdup(s + 5);
    } else {
        return mrd_err_set(err, MRD_E_PARSE,
                           "privacy policy: rules[%zu].scope: \"%s\" is not all, export, "
                           "community:NAME, org:NAME or peer:NAME",
                           i, mrd_str_escape(safe, sizeof(safe), s, json_string_length(scope)));
    }
    if (crypto_sd_is_fixed(json_string_value(prop)))
        return mrd_err_set(err, MRD_E_PARSE,
                           "privacy policy: rules[%zu].property: \"%s\" is never withheld "
                           "(the object would not be STIX, nor verifiable)",
                           i, json_string_value(prop));
    s = json_string_value(action);
    if (strcmp(s, "drop") == 0)
        ret->action = PRIVACY_DROP;
    else if (strcmp(s, "generalise") == 0)
        ret->action = PRIVACY_GENERALISE;
    else if (strcmp(s, "pseudonymise") == 0)
        ret->action = PRIVACY_PSEUDONYMISE;
    else
        return mrd_err_set(err, MRD_E_PARSE,
                           "privacy policy: rules[%zu].action: \"%s\" is not drop, generalise "
                           "or pseudonymise",
                           i, mrd_str_escape(safe, sizeof(safe), s, json_string_length(action)));
    if ((ret->action == PRIVACY_PSEUDONYMISE) != (key != NULL))
        return mrd_err_set(err, MRD_E_PARSE,
                           "privacy policy: rules[%zu]: key (64 hex digits, the community's "
                           "Crypto-PAn key) is required for pseudonymise and only there",
                           i);
    if (key != NULL) {
        if (!json_is_string(key) ||
            privacy_cryptopan_key_parse(json_string_value(key), json_string_length(key), raw,
                                        NULL) != MRD_OK)
            return mrd_err_set(err, MRD_E_PARSE,
                               "privacy policy: rules[%zu].key is not 64 hex digits", i);
        privacy_cryptopan_init(&ret->cp, raw);
        sodium_memzero(raw, sizeof(raw));
        ret->has_key = true;
    }
    ret->type = dup_str(type);
    ret->property = dup_str(prop);
    if (ret->type == NULL || ret->property == NULL ||
        (ret->kind >= PRIVACY_SCOPE_COMMUNITY && ret->scope_name == NULL))
        return mrd_err_set(err, MRD_E_NOMEM, "privacy policy: out of memory");
    return MRD_OK;
}

enum mrd_code privacy_policy_parse(const char *text, size_t len, struct privacy_policy **ret,
                                   struct mrd_err *err)
{
    struct mrd_json_limits lim = {.max_bytes = PRIVACY_POLICY_MAX_BYTES, .max_depth = 8};
    json_t *doc = NULL, *pre, *custom, *rules, *v;
    struct privacy_policy *p = NULL;
    const char *k;
    size_t i;
    char safe[80];
    enum mrd_code rc = MRD_OK;

    if (len > PRIVACY_POLICY_MAX_BYTES)
        return mrd_err_set(err, MRD_E_TOOBIG, "privacy policy: larger than %zu bytes",
                           (size_t)PRIVACY_POLICY_MAX_BYTES);
    p = mrd_calloc(1, sizeof(*p));
    if (p == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "privacy policy: out of memory");
    atomic_init(&p->refs, 1);
    if (text == NULL) { /* the defaults */
        doc = json_object();
    } else {
        rc = mrd_json_parse(text, len, &lim, &doc, err);
        if (rc != MRD_OK) {
            mrd_err_prefix(err, "privacy policy: ");
            goto out;
        }
    }
    if (!json_is_object(doc)) {
        rc = mrd_err_set(err, MRD_E_PARSE, "privacy policy: not a JSON object");
        goto out;
    }
    json_object_foreach(doc, k, v)
    {
        if (strcmp(k, "internal_prefixes") != 0 && strcmp(k, "forward_custom") != 0 &&
            strcmp(k, "rules") != 0) {
            rc = mrd_err_set(err, MRD_E_PARSE, "privacy policy: unknown member \"%s\"",
                             mrd_str_escape(safe, sizeof(safe), k, strlen(k)));
            goto out;
        }
    }
    pre = json_object_get(doc, "internal_prefixes");
    custom = json_object_get(doc, "forward_custom");
    rules = json_object_get(doc, "rules");
    if ((pre != NULL && !json_is_array(pre)) || (custom != NULL && !json_is_array(custom)) ||
        (rules != NULL && !json_is_array(rules))) {
        rc = mrd_err_set(err, MRD_E_PARSE,
                         "privacy policy: internal_prefixes, forward_custom and rules are lists");
        goto out;
    }
    if (json_array_size(pre) > PRIVACY_POLICY_MAX_ITEMS ||
        json_array_size(custom) > PRIVACY_POLICY_MAX_ITEMS ||
        json_array_size(rules) > PRIVACY_POLICY_MAX_ITEMS) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "privacy policy: a list has more than %d entries",
                         PRIVACY_POLICY_MAX_ITEMS);
        goto out;
    }
    p->prefixes = mrd_calloc(pre != NULL ? json_array_size(pre) + 1
                                         : sizeof(default_internal) / sizeof(char *),
                             sizeof(*p->prefixes));
    p->custom = mrd_calloc(json_array_size(custom) + 1, sizeof(*p->custom));
    p->rules = mrd_calloc(json_array_size(rules) + 1, sizeof(*p->rules));
    if (p->prefixes == NULL || p->custom == NULL || p->rules == NULL) {
        rc = mrd_err_set(err, MRD_E_NOMEM, "privacy policy: out of memory");
        goto out;
    }
    /* Undeclared internal prefixes default to the private and local ranges:
     * the safe choice for a sensor's own addresses. */
    if (pre == NULL)
        for (i = 0; rc == MRD_OK && i < sizeof(default_internal) / sizeof(char *); i++)
            rc = add_prefix(p, default_internal[i], strlen(default_internal[i]), i, err);
    json_array_foreach(pre, i, v)
    {
        if (rc != MRD_OK)
            break;
        if (!json_is_string(v))
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "privacy policy: internal_prefixes[%zu] is not a "
                             "string",
                             i);
        else
            rc = add_prefix(p, json_string_value(v), json_string_length(v), i, err);
    }
    json_array_foreach(custom, i, v)
    {
        if (rc != MRD_OK)
            break;
        if (!json_is_string(v) || json_string_length(v) > PRIVACY_POLICY_NAME_MAX ||
            strncmp(json_string_value(v), "x_", 2) != 0) {
            rc = mrd_err_set(err, MRD_E_PARSE,
                             "privacy policy: forward_custom[%zu] is not an x_ property name", i);
            break;
        }
        p->custom[p->n_custom] = dup_str(v);
        if (p->custom[p->n_custom++] == NULL)
            rc = mrd_err_set(err, MRD_E_NOMEM, "privacy policy: out of memory");
    }
    json_array_foreach(rules, i, v)
    {
        if (rc != MRD_OK)
            break;
        rc = rule_read(v, i, &p->rules[p->n_rules], err);
        p->n_rules++; /* freed with the policy, complete or not */
    }
    if (rc != MRD_OK)
        goto out;
    *ret = p;
    p = NULL;
out:
    json_decref(doc);
    privacy_policy_free(p);
    return rc;
}

/* ---- applying it ---------------------------------------------------------- */

static bool name_eq(const char *a, const char *b, size_t bn)
{
    return a != NULL && b != NULL && strlen(a) == bn && memcmp(a, b, bn) == 0;
}

static bool rule_applies(const struct privacy_rule *r, const struct privacy_scope *s,
                         const char *type)
{
    bool scope;

    switch (r->kind) {
    case PRIVACY_SCOPE_ALL:
        scope = true;
        break;
    case PRIVACY_SCOPE_EXPORT:
        scope = s->is_export;
        break;
    case PRIVACY_SCOPE_COMMUNITY:
        scope =
            name_eq(r->scope_name, s->community, s->community != NULL ? strlen(s->community) : 0);
        break;
    case PRIVACY_SCOPE_ORG:
        scope = name_eq(r->scope_name, s->org, s->org != NULL ? strlen(s->org) : 0);
        break;
    case PRIVACY_SCOPE_PEER:
        scope = name_eq(r->scope_name, s->peer, s->peer != NULL ? strlen(s->peer) : 0);
        break;
    default:
        scope = false;
    }
    return scope && (strcmp(r->type, "*") == 0 || strcmp(r->type, type) == 0);
}

/* Generalised text of one string, or false when it is none of the kinds
 * that can be generalised (then the property is dropped). */
static bool generalise_str(const char *s, size_t n, char *out, size_t size)
{
    struct privacy_addr a;
    unsigned len, to;
    struct mrd_time t;
    const char *at;
    char text[PRIVACY_ADDR_TEXT_MAX];

    if (cidr_parse(s, n, &a, &len)) {
        to = a.len == 4 ? 24 : 48;
        if (len < to)
            to = len;
        mask(&a, to);
        (void)snprintf(out, size, "%s/%u", privacy_addr_format(&a, text, sizeof(text)), to);
        return true;
    }
    if (n >= 20 && mrd_time_parse(s, n, &t, NULL) == MRD_OK) {
        time_t hour = (time_t)(t.sec - ((t.sec % 3600) + 3600) % 3600);
        struct tm tm;
        if (gmtime_r(&hour, &tm) == NULL)
            return false;
        return strftime(out, size, "%Y-%m-%dT%H:00:00Z", &tm) > 0;
    }
    at = memchr(s, '@', n);
    if (at != NULL && at > s && at + 1 < s + n &&
        memchr(at + 1, '@', (size_t)(s + n - at - 1)) == NULL && (size_t)(s + n - at - 1) < size) {
        memcpy(out, at + 1, (size_t)(s + n - at - 1));
        out[s + n - at - 1] = '\0';
        return true;
    }
    return false;
}

static bool pseudonymise_str(const struct privacy_cryptopan *cp, const char *s, size_t n, char *out,
                             size_t size)
{
    struct privacy_addr a, m;
    unsigned len;
    char text[PRIVACY_ADDR_TEXT_MAX];

    if (!cidr_parse(s, n, &a, &len))
        return false;
    privacy_cryptopan_map(cp, &a, &m);
    if (len == a.len * 8u) {
        (void)snprintf(out, size, "%s", privacy_addr_format(&m, text, sizeof(text)));
    } else {
        mask(&m, len);
        (void)snprintf(out, size, "%s/%u", privacy_addr_format(&m, text, sizeof(text)), len);
    }
    return true;
}

/* The transformed value (new reference), or NULL when v cannot be
 * transformed that way (then the property is dropped instead). */
static json_t *transform(const struct privacy_rule *r, const json_t *v)
{
    char out[PRIVACY_ADDR_TEXT_MAX + 256];
    json_t *arr, *e;
    size_t i;

    if (json_is_string(v)) {
        bool ok =
            r->action == PRIVACY_GENERALISE
                ? generalise_str(json_string_value(v), json_string_length(v), out, sizeof(out))
                : pseudonymise_str(&r->cp, json_string_value(v), json_string_length(v), out,
                                   sizeof(out));
        return ok ? json_string(out) : NULL;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return NULL;
    arr = json_array();
    json_array_foreach(unconst(v), i, e)
    {
        json_t *t = arr != NULL ? transform(r, e) : NULL;
        if (t == NULL || json_array_append_new(arr, t) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static bool addr_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
           c == ':' || c == '/';
}

/* True when a word of s (a run of address characters: free text such as
 * "beacon from 10.1.2.3." counts too) is an internal address or prefix. */
static bool text_mentions_internal(const struct privacy_policy *p, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t start;
        while (i < n && !addr_char(s[i]))
            i++;
        start = i;
        while (i < n && addr_char(s[i]))
            i++;
        /* a trailing '.' or ':' ends a sentence, not an address */
        for (size_t end = i; end > start; end--) {
            if (end - start >= 3 && privacy_policy_is_internal(p, s + start, end - start))
                return true;
            if (s[end - 1] != '.' && s[end - 1] != ':')
                break;
        }
    }
    return false;
}

/* True when any string inside v mentions an internal address. */
static bool mentions_internal(const struct privacy_policy *p, const json_t *v, unsigned depth)
{
    const char *k;
    json_t *e;
    size_t i;

    if (depth > 16)
        return true; /* deeper than STIX goes: treat as suspect */
    if (json_is_string(v))
        return text_mentions_internal(p, json_string_value(v), json_string_length(v));
    if (json_is_array(v)) {
        json_array_foreach(unconst(v), i, e)
        {
            if (mentions_internal(p, e, depth + 1))
                return true;
        }
    }
    if (json_is_object(v)) {
        json_object_foreach(unconst(v), k, e)
        {
            if (mentions_internal(p, e, depth + 1))
                return true;
        }
    }
    return false;
}

static bool is_value_sco(const char *type)
{
    static const char *const scos[] = {"ipv4-addr",   "ipv6-addr", "email-addr",
                                       "domain-name", "url",       "mac-addr"};

    for (size_t i = 0; i < sizeof(scos) / sizeof(scos[0]); i++)
        if (strcmp(type, scos[i]) == 0)
            return true;
    return false;
}

/* Applies one change (nv NULL: drop) to property name of obj, keeping it
 * verifiable. false: the object must be withheld instead. */
static bool change(json_t *obj, const char *type, const char *name, json_t *nv, const char *how,
                   struct mrd_err *err, enum mrd_code *rc)
{
    bool sd = crypto_object_has_sd(obj), sig = crypto_object_has_sig(obj);
    char uuid[MRD_UUID_STR_LEN + 1], id[128];
    struct mrd_buf b;

    /* An SCO's id is derived from its value (STIX 2.1 §2.9): a changed
     * value beside the original id would let anyone recover the value by
     * guessing. Unsigned, the id is re-derived; signed, it cannot be. */
    if (is_value_sco(type) && strcmp(name, "value") == 0) {
        if (sd || sig || nv == NULL)
            return false;
        mrd_buf_init(&b, 4096);
        *rc = mrd_buf_puts(&b, "{\"value\":", err);
        if (*rc == MRD_OK)
            *rc = mrd_jcs_write(nv, &b, err);
        if (*rc == MRD_OK)
            *rc = mrd_buf_putc(&b, '}', err);
        if (*rc == MRD_OK)
            *rc = mrd_uuid_v5(STIX_SCO_NAMESPACE, b.data, b.len, uuid, err);
        mrd_buf_release(&b);
        if (*rc != MRD_OK)
            return false;
        (void)snprintf(id, sizeof(id), "%s--%s", type, uuid);
        if (json_object_set_new(obj, "id", json_string(id)) != 0) {
            *rc = mrd_err_set(err, MRD_E_NOMEM, "minimise: out of memory");
            return false;
        }
    } else if (!sd && sig) {
        /* Signed by someone else in full: changing it would break the
         * signature, forwarding it unchanged would leak. Not sent. */
        return false;
    }
    if (nv == NULL)
        (void)json_object_del(obj, name);
    else if (json_object_set(obj, name, nv) != 0) {
        *rc = mrd_err_set(err, MRD_E_NOMEM, "minimise: out of memory");
        return false;
    }
    if (sd) {
        *rc = crypto_object_sd_withhold(obj, name, nv != NULL ? how : NULL, err);
        if (*rc != MRD_OK)
            return false;
    }
    return true;
}

static bool custom_allowed(const struct privacy_policy *p, const char *name)
{
    for (size_t i = 0; i < p->n_custom; i++)
        if (strcmp(p->custom[i], name) == 0)
            return true;
    return false;
}

bool privacy_may_minimise(const struct privacy_policy *p, const json_t *obj)
{
    const json_t *typev = json_object_get(obj, "type"), *val;
    const char *type, *name;
    bool sensor;

    if (!json_is_string(typev))
        return true;
    type = json_string_value(typev);
    sensor = strcmp(type, "sighting") == 0 || strcmp(type, "observed-data") == 0;
    json_object_foreach(unconst(obj), name, val)
    {
        if (crypto_sd_is_fixed(name) || strcmp(name, "extensions") == 0)
            continue;
        if (strncmp(name, "x_", 2) == 0 && !custom_allowed(p, name))
            return true;
        if (sensor && mentions_internal(p, val, 0))
            return true;
        for (size_t i = 0; i < p->n_rules; i++) {
            const struct privacy_rule *r = &p->rules[i];
            if (strcmp(r->property, name) == 0 &&
                (strcmp(r->type, "*") == 0 || strcmp(r->type, type) == 0))
                return true;
        }
    }
    return false;
}

enum mrd_code privacy_minimise(const struct privacy_policy *p, const struct privacy_scope *s,
                               json_t *obj, enum privacy_outcome *ret, struct mrd_err *err)
{
    json_t *typev = json_object_get(obj, "type"), *val, *nv;
    const char *type, *key;
    void *tmp;
    enum mrd_code rc = MRD_OK;
    bool changed = false;

    *ret = PRIVACY_AS_IS;
    if (!json_is_object(obj) || !json_is_string(typev))
        return mrd_err_set(err, MRD_E_INVAL, "minimise: not a STIX object");
    type = json_string_value(typev);
    /* A sensor's own address never leaves the node (docs/privacy.md). */
    if (strcmp(type, "ipv4-addr") == 0 || strcmp(type, "ipv6-addr") == 0) {
        val = json_object_get(obj, "value");
        if (json_is_string(val) &&
            privacy_policy_is_internal(p, json_string_value(val), json_string_length(val))) {
            *ret = PRIVACY_WITHHELD;
            return MRD_OK;
        }
    }
    json_object_foreach_safe(obj, tmp, key, val)
    {
        const char *how = NULL;
        bool drop = false;
        char name[PRIVACY_POLICY_NAME_MAX + 1];

        /* a copy: dropping the member frees its key */
        if (strlen(key) > PRIVACY_POLICY_NAME_MAX) {
            *ret = PRIVACY_WITHHELD; /* not a STIX property name (§3.1): do not guess */
            return MRD_OK;
        }
        mrd_strlcpy(name, key, sizeof(name));

        if (crypto_sd_is_fixed(name) || strcmp(name, "extensions") == 0)
            continue;
        if (strncmp(name, "x_", 2) == 0 && !custom_allowed(p, name)) {
            drop = true;
        } else if ((strcmp(type, "sighting") == 0 || strcmp(type, "observed-data") == 0) &&
                   mentions_internal(p, val, 0)) {
            drop = true;
        }
        nv = NULL;
        for (size_t i = 0; !drop && i < p->n_rules; i++) {
            const struct privacy_rule *r = &p->rules[i];
            if (strcmp(r->property, name) != 0 || !rule_applies(r, s, type))
                continue;
            if (r->action == PRIVACY_DROP) {
                drop = true;
                break;
            }
            json_decref(nv);
            nv = transform(r, val);
            how = r->action == PRIVACY_GENERALISE ? "generalise" : "pseudonymise:cryptopan";
            if (nv == NULL)
                drop = true;
            break; /* first transforming rule wins; a later drop is not seen */
        }
        if (!drop && nv == NULL)
            continue;
        if (drop) {
            json_decref(nv);
            nv = NULL;
        }
        if (!change(obj, type, name, nv, how, err, &rc)) {
            json_decref(nv);
            if (rc != MRD_OK)
                return rc;
            *ret = PRIVACY_WITHHELD;
            return MRD_OK;
        }
        json_decref(nv);
        changed = true;
    }
    *ret = changed ? PRIVACY_MINIMISED : PRIVACY_AS_IS;
    return MRD_OK;
}

/* Whether objects of type (t, n) can be touched for scope s beyond the
 * x_ rule: the types the defaults look at, or a rule that applies. */
static bool type_in_play(const struct privacy_policy *p, const struct privacy_scope *s,
                         const char *t, size_t n)
{
    static const char *const dflt[] = {"sighting", "observed-data", "ipv4-addr", "ipv6-addr"};
    char type[PRIVACY_POLICY_NAME_MAX + 1];

    if (n > PRIVACY_POLICY_NAME_MAX)
        return true;
    memcpy(type, t, n);
    type[n] = '\0';
    for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++)
        if (strcmp(type, dflt[i]) == 0)
            return true;
    for (size_t i = 0; i < p->n_rules; i++)
        if (rule_applies(&p->rules[i], s, type))
            return true;
    return false;
}

/* A cheap look at stored bytes, which are RFC 8785 (no white space): true
 * when the object may need minimising. Every "type":"..." member is
 * considered (the object's own is one of them), and any "x_ member name
 * anywhere counts; when in doubt (no type found) it says yes. */
static bool may_need(const struct privacy_policy *p, const struct privacy_scope *s,
                     const char *body, size_t len)
{
    static const char key[] = "\"type\":\"";
    const char *at = body, *end = body + len;
    bool any = false;

    if (memmem(body, len, "\"x_", 3) != NULL)
        return true;
    while ((at = memmem(at, (size_t)(end - at), key, sizeof(key) - 1)) != NULL) {
        const char *v = at + sizeof(key) - 1;
        const char *q = memchr(v, '"', (size_t)(end - v));
        if (q == NULL)
            return true;
        any = true;
        if (type_in_play(p, s, v, (size_t)(q - v)))
            return true;
        at = q;
    }
    return !any;
}

enum mrd_code privacy_minimise_bytes(const struct privacy_policy *p, const struct privacy_scope *s,
                                     const char *body, size_t len, struct mrd_buf *out,
                                     enum privacy_outcome *ret, struct mrd_err *err)
{
    json_t *obj = NULL;
    enum privacy_outcome o = PRIVACY_AS_IS;
    enum mrd_code rc;

    if (!may_need(p, s, body, len)) {
        rc = mrd_buf_append(out, body, len, err);
        if (rc == MRD_OK)
            *ret = PRIVACY_AS_IS;
        return rc;
    }
    rc = mrd_json_parse(body, len, NULL, &obj, err);
    if (rc == MRD_OK)
        rc = privacy_minimise(p, s, obj, &o, err);
    if (rc == MRD_OK && o == PRIVACY_AS_IS)
        rc = mrd_buf_append(out, body, len, err);
    else if (rc == MRD_OK && o == PRIVACY_MINIMISED)
        rc = mrd_jcs_write(obj, out, err);
    json_decref(obj);
    if (rc == MRD_OK)
        *ret = o;
    return rc;
}
