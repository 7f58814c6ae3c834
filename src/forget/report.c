/*
 * report.c: the privacy statement (forget.h, "the privacy report"): which
 * categories of personal data the node holds, how many versions of each,
 * under which retention, and with whom it is shared under which outbound
 * policy. Built as one JSON document; the Markdown form is rendered from
 * it, so both always say the same.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "forget/forget_int.h"
#include "privacy/privacy.h"

/* The categories of personal data, by the STIX types that carry them. A
 * type may be in one category only; an indicator counts when its pattern
 * compares one of the personal types. */
static const struct category {
    const char *name;
    const char *what;
    const char *const types[4];
} categories[] = {
    {"ip-addresses", "IP addresses (victims', reporters', attackers')", {"ipv4-addr", "ipv6-addr"}},
    {"email", "e-mail addresses and messages (phishing reports)", {"email-addr", "email-message"}},
    {"accounts", "user accounts and MAC addresses", {"user-account", "mac-addr"}},
    {"urls-and-domains",
     "URLs and domain names (may name or track a person)",
     {"url", "domain-name"}},
    {"traffic", "network traffic (addresses, ports, HTTP user agents)", {"network-traffic"}},
    {"sightings", "sightings (who saw what, where and when)", {"sighting"}},
    {"observations", "observed data (raw observations from sensors)", {"observed-data"}},
    {"identities", "identities (names and contact details of people and teams)", {"identity"}},
    {"certificates", "X.509 certificates (subject names, e-mail addresses)", {"x509-certificate"}},
    {"indicators",
     "indicators whose patterns name addresses, e-mail addresses or accounts",
     {"indicator"}},
};
#define N_CAT (sizeof(categories) / sizeof(categories[0]))

static int category_of(const struct store_row *row)
{
    for (size_t i = 0; i < N_CAT; i++)
        for (size_t k = 0; k < 4 && categories[i].types[k] != NULL; k++)
            if (strlen(categories[i].types[k]) == row->type_len &&
                memcmp(categories[i].types[k], row->type, row->type_len) == 0) {
                if (strcmp(categories[i].name, "indicators") != 0)
                    return (int)i;
                /* an indicator only when its pattern compares personal data */
                static const char *const personal[] = {
                    "ipv4-addr:",    "ipv6-addr:", "email-addr:",
                    "user-account:", "mac-addr:",  "email-message:"};
                for (size_t p = 0; p < sizeof(personal) / sizeof(personal[0]); p++)
                    if (row->body != NULL &&
                        memmem(row->body, row->body_len, personal[p], strlen(personal[p])) != NULL)
                        return (int)i;
                return -1;
            }
    return -1;
}

struct report_ctx {
    const struct forget_policy *p;
    json_t *counts[N_CAT];    /* {type: versions} */
    json_t *retention[N_CAT]; /* {description: true} */
    json_t *colls;            /* {key: [id, root, alias]} */
};

static enum mrd_code coll_cb(void *ctx, const struct store_collection *c)
{
    struct report_ctx *x = ctx;
    char key[32];

    (void)snprintf(key, sizeof(key), "%lld", (long long)c->key);
    return json_object_set_new(x->colls, key,
                               json_pack("[s, s, s]", c->id, c->api_root, c->alias)) == 0
               ? MRD_OK
               : MRD_E_NOMEM;
}

static void retention_text(const struct forget_policy *p, long rule, char *out, size_t size)
{
    const struct forget_rule *r;

    if (rule < 0) {
        (void)snprintf(out, size, "kept until erased (no retention rule)");
        return;
    }
    r = &p->rules[rule];
    (void)snprintf(out, size, "%u days after %s (rule %ld)", r->days,
                   r->basis == FORGET_FROM_VALID_UNTIL ? "its valid_until" : "it was stored", rule);
}

static enum mrd_code row_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct report_ctx *x = ctx;
    int c = category_of(o->row);
    char key[32], type[STORE_TYPE_MAX + 1], ret[160];
    json_t *cj, *n;
    struct store_collection coll = {.key = o->collection};
    long rule;

    if (c < 0)
        return MRD_OK;
    (void)snprintf(type, sizeof(type), "%.*s", (int)o->row->type_len, o->row->type);
    n = json_object_get(x->counts[c], type);
    if (json_object_set_new(x->counts[c], type,
                            json_integer(n != NULL ? json_integer_value(n) + 1 : 1)) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "privacy report: out of memory");
    (void)snprintf(key, sizeof(key), "%lld", (long long)o->collection);
    cj = json_object_get(x->colls, key);
    (void)snprintf(coll.id, sizeof(coll.id), "%s", json_string_value(json_array_get(cj, 0)));
    (void)snprintf(coll.api_root, sizeof(coll.api_root), "%s",
                   json_string_value(json_array_get(cj, 1)));
    (void)snprintf(coll.alias, sizeof(coll.alias), "%s", json_string_value(json_array_get(cj, 2)));
    rule = forget_rule_for(x->p, &coll, o->row->type, o->row->type_len);
    retention_text(x->p, rule, ret, sizeof(ret));
    if (json_object_set_new(x->retention[c], ret, json_true()) != 0)
        return mrd_err_set(err, MRD_E_NOMEM, "privacy report: out of memory");
    return MRD_OK;
}

static enum mrd_code grant_cb(void *ctx, const struct store_grant_row *g)
{
    json_t *by_org = ctx, *a;

    if (!g->grant.can_read)
        return MRD_OK;
    a = json_object_get(by_org, g->org_name);
    if (a == NULL && json_object_set_new(by_org, g->org_name, a = json_array()) != 0)
        return MRD_E_NOMEM;
    return json_array_append_new(a, json_sprintf("%s/%s", g->api_root, g->collection_id)) == 0
               ? MRD_OK
               : MRD_E_NOMEM;
}

struct org_ctx {
    struct store *st;
    json_t *partners;
};

static enum mrd_code org_cb(void *ctx, const struct store_org *org)
{
    struct org_ctx *x = ctx;
    json_t *by_org, *colls;
    struct mrd_err e = {0};
    enum mrd_code rc;

    if (org->relation != POLICY_REL_PARTNER || org->deleted_usec != STORE_TIME_NONE)
        return MRD_OK;
    if ((by_org = json_object()) == NULL)
        return MRD_E_NOMEM;
    rc = store_grant_list(x->st, org->key, 0, grant_cb, by_org, &e);
    colls = json_object_get(by_org, org->name);
    if (rc == MRD_OK && colls != NULL)
        rc = json_array_append_new(
                 x->partners, json_pack("{s:s, s:O}", "org", org->name, "collections", colls)) == 0
                 ? MRD_OK
                 : MRD_E_NOMEM;
    json_decref(by_org);
    return rc;
}

static enum mrd_code peer_cb(void *ctx, const struct fed_peer *p, const struct fed_peer_state *s)
{
    json_t *peers = ctx;

    (void)s;
    return json_array_append_new(peers, json_pack("{s:s, s:s, s:s, s:s, s:b}", "peer", p->name,
                                                  "direction", fed_direction_name(p->direction),
                                                  "community", p->community, "local_collection",
                                                  p->local_collection, "enabled", p->enabled)) == 0
               ? MRD_OK
               : MRD_E_NOMEM;
}

/* The outbound rules as the file says them, after privacy_policy_parse
 * accepted it (so the report never shows a policy the node refuses). */
static enum mrd_code outbound(const char *dir, json_t **ret, struct mrd_err *err)
{
    char path[PATH_MAX];
    struct mrd_buf text;
    struct privacy_policy *pp = NULL;
    json_t *doc = NULL, *o;
    bool found = false;
    enum mrd_code rc;

    *ret = NULL;
    o = json_pack("{s:s, s:b, s:[s, s, s]}", "file", PRIVACY_POLICY_FILE, "present", false,
                  "defaults",
                  "addresses inside the node's internal networks are never sent, and a "
                  "sighting's or observed-data's property mentioning one is dropped",
                  "x_ custom properties are not forwarded unless listed in forward_custom",
                  "every object is sent only to readers its TLP level allows");
    if (o == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "privacy report: out of memory");
    mrd_buf_init(&text, PRIVACY_POLICY_MAX_BYTES);
    rc = forget__read_optional(dir, PRIVACY_POLICY_FILE, &text, &found, path, err);
    if (rc == MRD_OK && found) {
        rc = privacy_policy_parse(text.data != NULL ? text.data : "", text.len, &pp, err);
        if (rc == MRD_OK)
            rc = mrd_json_parse(text.data != NULL ? text.data : "", text.len, NULL, &doc, err);
        if (rc == MRD_OK) {
            json_t *rules = json_object_get(doc, "rules"), *r, *copy = json_array();
            size_t i;

            /* a pseudonymisation key is a secret: never in a report */
            json_array_foreach(rules, i, r)
            {
                json_t *c = json_copy(r);

                (void)json_object_del(c, "key");
                (void)json_array_append_new(copy, c);
            }
            (void)json_object_set_new(o, "present", json_true());
            (void)json_object_set_new(o, "rules", copy);
            if (json_object_get(doc, "forward_custom") != NULL)
                (void)json_object_set(o, "forward_custom", json_object_get(doc, "forward_custom"));
        } else {
            mrd_err_prefix(err, "%s: ", MRD_ESC(path));
        }
    }
    privacy_policy_free(pp);
    json_decref(doc);
    mrd_buf_release(&text);
    if (rc != MRD_OK) {
        json_decref(o);
        return rc;
    }
    *ret = o;
    return MRD_OK;
}

enum mrd_code forget_report(struct store *st, const char *data_dir, int64_t now, json_t **ret,
                            struct mrd_err *err)
{
    struct report_ctx x = {0};
    struct forget_policy p = {0};
    struct org_ctx oc = {.st = st};
    struct fed_state *fs = NULL;
    char ts[MRD_TIME_TAXII_LEN + 1], own[STORE_META_VAL_MAX + 1] = "?";
    json_t *doc = NULL, *cats = json_array(), *peers = json_array(), *pol = NULL;
    bool have_retention = false;
    enum mrd_code rc;

    *ret = NULL;
    oc.partners = json_array();
    x.colls = json_object();
    for (size_t i = 0; i < N_CAT; i++) {
        x.counts[i] = json_object();
        x.retention[i] = json_object();
    }
    rc = forget_policy_load(data_dir, &p, &have_retention, err);
    x.p = &p;
    if (rc == MRD_OK)
        rc = store_collection_list(st, NULL, coll_cb, &x, err);
    if (rc == MRD_OK) {
        struct store_find f = {.version_usec = STORE_TIME_NONE, .leaf = -1};

        rc = store_objects_find(st, &f, row_cb, &x, err);
    }
    if (rc == MRD_OK)
        rc = store_org_list(st, org_cb, &oc, err);
    if (rc == MRD_OK && (rc = fed_state_open(data_dir, &fs, err)) == MRD_OK)
        rc = fed_peer_list(fs, peer_cb, peers, err);
    if (rc == MRD_OK)
        rc = outbound(data_dir, &pol, err);
    if (rc != MRD_OK)
        goto out;
    for (size_t i = 0; i < N_CAT; i++) {
        json_int_t total = 0;
        const char *k;
        json_t *v, *rets = json_array();

        json_object_foreach(x.counts[i], k, v) total += json_integer_value(v);
        if (total == 0) {
            json_decref(rets);
            continue;
        }
        json_object_foreach(x.retention[i], k, v)(void) json_array_append_new(rets, json_string(k));
        (void)json_array_append_new(
            cats, json_pack("{s:s, s:s, s:O, s:I, s:o}", "category", categories[i].name,
                            "description", categories[i].what, "versions_by_type", x.counts[i],
                            "versions", total, "retention", rets));
    }
    (void)store_meta_get(st, "own_org", own, sizeof(own), NULL);
    mrd_time_format_taxii(now, ts);
    doc = json_pack("{s:s, s:s, s:O, s:{s:b, s:s}, s:{s:O, s:O}, s:O}", "generated", ts,
                    "controller", own, "categories", cats, "retention", "configured",
                    have_retention, "file", FORGET_FILE, "recipients", "partners", oc.partners,
                    "peers", peers, "outbound_policy", pol);
    if (doc == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "privacy report: out of memory");
    *ret = doc;
out:
    fed_state_close(fs);
    forget_policy_free(&p);
    for (size_t i = 0; i < N_CAT; i++) {
        json_decref(x.counts[i]);
        json_decref(x.retention[i]);
    }
    json_decref(x.colls);
    json_decref(cats);
    json_decref(peers);
    json_decref(oc.partners);
    json_decref(pol);
    return rc;
}

/* ---- Markdown ---- */

/* Appends s with the characters Markdown gives a meaning escaped and
 * control characters dropped: the report is for people to read. */
static enum mrd_code md(struct mrd_buf *out, const char *s, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    for (; *s != '\0' && rc == MRD_OK; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            continue;
        if (strchr("\\`*_[]<>|#", *s) != NULL)
            rc = mrd_buf_append(out, "\\", 1, err);
        if (rc == MRD_OK)
            rc = mrd_buf_append(out, s, 1, err);
    }
    return rc;
}

enum mrd_code forget_report_markdown(const json_t *doc, struct mrd_buf *out, struct mrd_err *err)
{
    const json_t *cats = json_object_get(doc, "categories");
    const json_t *rec = json_object_get(doc, "recipients");
    const json_t *pol = json_object_get(doc, "outbound_policy");
    json_t *v, *e;
    size_t i, k;
    enum mrd_code rc;

    rc = mrd_buf_printf(out, err, "# Privacy statement\n\nGenerated %s by the Meridian node of ",
                        json_string_value(json_object_get(doc, "generated")));
    if (rc == MRD_OK)
        rc = md(out, json_string_value(json_object_get(doc, "controller")), err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(out,
                          ".\n\n## Personal data held\n\n"
                          "| category | versions | retention |\n|---|---|---|\n",
                          err);
    json_array_foreach(cats, i, v)
    {
        if (rc != MRD_OK)
            break;
        rc = mrd_buf_puts(out, "| ", err);
        if (rc == MRD_OK)
            rc = md(out, json_string_value(json_object_get(v, "description")), err);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(out, err, " | %lld | ",
                                (long long)json_integer_value(json_object_get(v, "versions")));
        json_array_foreach(json_object_get(v, "retention"), k, e)
        {
            if (rc == MRD_OK && k > 0)
                rc = mrd_buf_puts(out, "; ", err);
            if (rc == MRD_OK)
                rc = md(out, json_string_value(e), err);
        }
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, " |\n", err);
    }
    if (rc == MRD_OK && json_array_size(cats) == 0)
        rc = mrd_buf_puts(out, "| none | 0 | |\n", err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(out, "\n## Shared with\n\n", err);
    json_array_foreach(json_object_get(rec, "partners"), i, v)
    {
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "- partner organisation ", err);
        if (rc == MRD_OK)
            rc = md(out, json_string_value(json_object_get(v, "org")), err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, ", reading collections", err);
        json_array_foreach(json_object_get(v, "collections"), k, e)
        {
            if (rc == MRD_OK)
                rc = mrd_buf_puts(out, " ", err);
            if (rc == MRD_OK)
                rc = md(out, json_string_value(e), err);
        }
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "\n", err);
    }
    json_array_foreach(json_object_get(rec, "peers"), i, v)
    {
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "- peer node ", err);
        if (rc == MRD_OK)
            rc = md(out, json_string_value(json_object_get(v, "peer")), err);
        if (rc == MRD_OK)
            rc = mrd_buf_printf(out, err, " (%s, community ",
                                json_string_value(json_object_get(v, "direction")));
        if (rc == MRD_OK)
            rc = md(out, json_string_value(json_object_get(v, "community")), err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, ")\n", err);
    }
    if (rc == MRD_OK && json_array_size(json_object_get(rec, "partners")) == 0 &&
        json_array_size(json_object_get(rec, "peers")) == 0)
        rc = mrd_buf_puts(out, "- nobody outside this node\n", err);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(out, "\n## Outbound policy\n\n", err);
    json_array_foreach(json_object_get(pol, "defaults"), i, v)
    {
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "- always: ", err);
        if (rc == MRD_OK)
            rc = md(out, json_string_value(v), err);
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "\n", err);
    }
    json_array_foreach(json_object_get(pol, "rules"), i, v)
    {
        const char *f[] = {"scope", "type", "property", "action"};

        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "- rule:", err);
        for (k = 0; k < 4 && rc == MRD_OK; k++) {
            rc = mrd_buf_printf(out, err, " %s ", f[k]);
            if (rc == MRD_OK) {
                const char *s = json_string_value(json_object_get(v, f[k]));
                rc = md(out, s != NULL ? s : "?", err);
            }
        }
        if (rc == MRD_OK)
            rc = mrd_buf_puts(out, "\n", err);
    }
    if (rc == MRD_OK && !json_is_true(json_object_get(pol, "present")))
        rc = mrd_buf_printf(out, err, "- no %s: the defaults above alone\n", PRIVACY_POLICY_FILE);
    if (rc == MRD_OK)
        rc = mrd_buf_puts(out,
                          "\nA person may ask for the erasure of data about them "
                          "(`meridian erase`); the erasure is passed on to the peers "
                          "that received the data.\n",
                          err);
    return rc;
}
