/*
 * The rule files on the admin API (docs/api.md): the outbound privacy
 * policy (DATA/privacy-policy.json) and the retention rules
 * (DATA/retention.json), listed, added to and removed from one rule at a
 * time by the node's own org, exactly as `meridian privacy policy
 * add|list|remove` and `meridian retention add|list|remove` do: the same
 * admin_rule_add / admin_rule_remove (admin.h, "rule files"), so the same
 * parser checks a change, the same atomic write puts it in place and the
 * same audit record (via "http", the token and its org) is made in the
 * same transaction. serve applies a privacy policy changed here at the
 * next read (privacy_live_recheck; one changed by the CLI or by hand
 * within PRIVACY_LIVE_CHECK_MS) and new retention rules at its next
 * round.
 *
 * A rule is the JSON object the file holds (privacy: scope, type,
 * property, action, key; retention: collection, type, days, from): the
 * parser refuses unknown members and bad values with the member named,
 * answered as 400. Keys are never shown back ("(secret)").
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "core/str.h"
#include "dash/dash_int.h"

#define RULE_BODY_MAX 4096 /* one rule: a key is 64 hex digits, names up to 250 bytes */

/* The file a route changes: its path says (the routes below). */
static const struct admin_rules_file *file_of(const struct api_req *r)
{
    static const char privacy[] = "/api/v1/privacy/";

    return strncmp(r->http->path, privacy, sizeof(privacy) - 1) == 0 ? &admin_privacy_rules
                                                                     : &admin_retention_rules;
}

/* {"file": NAME, "rules": [...]} with secrets replaced, or NULL after
 * answering the error. */
static json_t *listing(struct api_req *r, const struct dash *d, const struct admin_rules_file *f)
{
    json_t *doc = NULL, *out;
    struct mrd_err err = {0};

    if (admin_rules_read(d->data_dir, f, &doc, &err) != MRD_OK) {
        api_internal(r, &err);
        return NULL;
    }
    out = json_pack("{s:s, s:o}", "file", f->name, "rules",
                    admin_rules_redacted(f, json_object_get(doc, "rules")));
    json_decref(doc);
    if (out == NULL)
        api_internal(r, NULL);
    return out;
}

/* A privacy policy changed here is in force for the next read (not
 * only after serve's next look at the file, PRIVACY_LIVE_CHECK_MS). */
static void changed(const struct dash *d, const struct admin_rules_file *f, enum mrd_code rc)
{
    if (rc == MRD_OK && f == &admin_privacy_rules && d->privacy != NULL)
        privacy_live_recheck(d->privacy);
}

/* The list after a change (or a GET) with status, or the error rc. */
static void answer(struct api_req *r, const struct dash *d, const struct admin_rules_file *f,
                   enum mrd_code rc, const struct mrd_err *err, unsigned status)
{
    json_t *out;

    if (rc != MRD_OK) {
        api_internal(r, err);
        return;
    }
    out = listing(r, d, f);
    if (out != NULL)
        api_json(r, status, out);
}

static bool have_dir(struct api_req *r, const struct dash *d)
{
    if (d->data_dir != NULL)
        return true;
    api_error(r, 503, "Unavailable", "this server has no data directory to keep rules in");
    return false;
}

static void admin_of(struct api_req *r, const struct dash *d, struct admin *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->st = r->st;
    ret->data_dir = d->data_dir;
    admin_actor_token(&r->who.tok, &ret->who);
}

/* GET privacy/policy, GET retention */
static void get_rules(struct api_req *r)
{
    const struct dash *d = r->ctx;

    if (have_dir(r, d))
        answer(r, d, file_of(r), MRD_OK, NULL, 200);
}

/* POST privacy/policy, POST retention: the body is the rule to append. */
static void post_rule(struct api_req *r)
{
    const struct dash *d = r->ctx;
    const struct admin_rules_file *f = file_of(r);
    struct admin a;
    struct mrd_err err = {0};
    json_t *rule = NULL;
    enum mrd_code rc;

    if (!have_dir(r, d) || !api_body_json(r, &rule))
        return;
    if (!json_is_object(rule)) {
        json_decref(rule);
        api_error(r, 400, "Bad rule", "a rule is a JSON object (see 'meridian help privacy')");
        return;
    }
    admin_of(r, d, &a);
    rc = admin_rule_add(&a, f, rule, &err);
    json_decref(rule);
    if (rc == MRD_E_PARSE || rc == MRD_E_NOTFOUND || rc == MRD_E_TOOBIG || rc == MRD_E_INVAL) {
        /* what is wrong with the rule, the member named; nothing changed */
        api_error(r, 400, "Bad rule", err.msg);
        return;
    }
    changed(d, f, rc);
    answer(r, d, f, rc, &err, 201);
}

/* DELETE privacy/policy/{n}, DELETE retention/{n}: n as listed, from 1. */
static void delete_rule(struct api_req *r)
{
    const struct dash *d = r->ctx;
    const struct admin_rules_file *f = file_of(r);
    const char *n = r->params[0];
    struct admin a;
    struct mrd_err err = {0};
    uint64_t v = 0;
    enum mrd_code rc;

    if (!have_dir(r, d))
        return;
    if (mrd_str_to_u64(n, strlen(n), f->max_rules, &v, NULL) != MRD_OK || v == 0) {
        char detail[96];
        (void)snprintf(detail, sizeof(detail), "the rule's number: 1..%zu, as the list numbers it",
                       f->max_rules);
        api_error(r, 400, "Bad rule number", detail);
        return;
    }
    admin_of(r, d, &a);
    rc = admin_rule_remove(&a, f, (size_t)v, &err);
    if (rc == MRD_E_NOTFOUND) {
        api_error(r, 404, "Not found", err.msg);
        return;
    }
    changed(d, f, rc);
    answer(r, d, f, rc, &err, 200);
}

static const struct api_route routes[] = {
    {"GET", "privacy/policy", API_F_OWN, 0, get_rules,
     "the outbound privacy policy's rules, numbered from 1 (keys shown as \"(secret)\")"},
    {"POST", "privacy/policy", API_F_OWN, RULE_BODY_MAX, post_rule,
     "add a privacy-policy rule, as `meridian privacy policy add` (checked, audited)"},
    {"DELETE", "privacy/policy/{n}", API_F_OWN, 0, delete_rule,
     "remove privacy-policy rule n, as `meridian privacy policy remove`"},
    {"GET", "retention", API_F_OWN, 0, get_rules, "the retention rules, numbered from 1"},
    {"POST", "retention", API_F_OWN, RULE_BODY_MAX, post_rule,
     "add a retention rule, as `meridian retention add` (checked, audited)"},
    {"DELETE", "retention/{n}", API_F_OWN, 0, delete_rule,
     "remove retention rule n, as `meridian retention remove`"},
};

enum mrd_code dash__rules_routes(struct dash *d, struct api_router *r, struct mrd_err *err)
{
    return api_router_add(r, routes, sizeof(routes) / sizeof(routes[0]), d, err);
}
