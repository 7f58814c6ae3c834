/*
 * admin.c: administrative changes and their audit records (admin.h).
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "admin/admin.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "ledger/ledger.h"

/* ---- actors ---- */

/* Copies s, replacing anything but printable ASCII: actor names come from
 * outside (the password database, the environment). */
static void copy_clean(char *dst, size_t size, const char *s)
{
    size_t i = 0;

    for (; s != NULL && s[i] != '\0' && i + 1 < size; i++)
        dst[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[i] = '\0';
}

void admin_actor_cli(struct admin_actor *ret)
{
    struct passwd pw, *res = NULL;
    char buf[1024], name[ADMIN_ACTOR_MAX];
    const char *sudo = getenv("SUDO_USER");
    uid_t uid = getuid();

    memset(ret, 0, sizeof(*ret));
    mrd_strlcpy(ret->via, "cli", sizeof(ret->via));
    ret->uid = (long)uid;
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
        copy_clean(name, sizeof(name), pw.pw_name);
    else
        (void)snprintf(name, sizeof(name), "uid%ld", (long)uid);
    if (sudo != NULL && sudo[0] != '\0') {
        char who[64];

        copy_clean(who, sizeof(who), sudo);
        (void)snprintf(ret->name, sizeof(ret->name), "%s (sudo by %s)", name, who);
    } else {
        mrd_strlcpy(ret->name, name, sizeof(ret->name));
    }
}

void admin_actor_token(const struct store_token *t, struct admin_actor *ret)
{
    memset(ret, 0, sizeof(*ret));
    mrd_strlcpy(ret->via, "http", sizeof(ret->via));
    mrd_strlcpy(ret->name, t->name, sizeof(ret->name));
    mrd_strlcpy(ret->org, t->org_name, sizeof(ret->org));
    ret->uid = -1;
}

/* ---- records ---- */

static json_t *time_json(int64_t usec)
{
    char ts[MRD_TIME_TAXII_LEN + 1];

    if (usec == STORE_TIME_NONE)
        return json_null();
    mrd_time_format_taxii(usec, ts);
    return json_string(ts);
}

static json_t *actor_json(const struct admin_actor *w)
{
    json_t *j = json_object();

    (void)json_object_set_new(j, "via", json_string(w->via));
    if (strcmp(w->via, "cli") == 0) {
        (void)json_object_set_new(j, "user", json_string(w->name));
        (void)json_object_set_new(j, "uid", json_integer(w->uid));
    } else {
        (void)json_object_set_new(j, "token", json_string(w->name));
        (void)json_object_set_new(j, "org", json_string(w->org));
    }
    return j;
}

/* ---- one transaction per change ---- */

/* Opens the change's store transaction (nested calls join the outer
 * one). */
static enum mrd_code tx_begin(struct admin *a, struct mrd_err *err)
{
    struct mrd_err e = {0};
    enum mrd_code rc;

    if (a->depth++ > 0)
        return MRD_OK;
    a->n_pending = 0;
    a->no_tx = false;
    rc = store_write_begin(a->st, &e);
    if (rc == MRD_E_UNSUPP) { /* a backend without them: each call commits alone */
        a->no_tx = true;
        return MRD_OK;
    }
    if (rc != MRD_OK) {
        a->depth = 0;
        if (err != NULL)
            *err = e;
    }
    return rc;
}

/* Ends it: commits when rc is MRD_OK (then writes the records' log
 * lines), else rolls back. Returns the outcome. */
static enum mrd_code tx_end(struct admin *a, enum mrd_code rc, struct mrd_err *err)
{
    bool committed;

    if (a->depth == 0 || --a->depth > 0)
        return rc;
    if (a->no_tx) {
        committed = true; /* every record queued was committed on its own */
    } else {
        if (rc == MRD_OK)
            rc = store_write_end(a->st, true, err);
        else
            (void)store_write_end(a->st, false, NULL);
        committed = rc == MRD_OK;
    }
    for (size_t i = 0; committed && a->log != NULL && i < a->n_pending; i++)
        a->log(a->log_ctx, a->pending[i]);
    a->n_pending = 0;
    return rc;
}

static enum mrd_code audit_queue(struct admin *a, const char *object, const char *action,
                                 const char *target, json_t *before, json_t *after, int64_t *ret_ev,
                                 struct mrd_err *err)
{
    struct mrd_buf text;
    struct store_ledger_event ev;
    int64_t now = mrd_time_now_usec(), num = 0;
    char tgt[128];
    json_t *r = json_object();
    enum mrd_code rc;

    mrd_buf_init(&text, STORE_HOLD_RECORD_MAX);
    (void)json_object_set_new(r, "type", json_string(ADMIN_RECORD_TYPE));
    (void)json_object_set_new(r, "time", time_json(now));
    (void)json_object_set_new(r, "actor", actor_json(&a->who));
    (void)json_object_set_new(r, "object", json_string(object));
    (void)json_object_set_new(r, "action", json_string(action));
    (void)json_object_set_new(r, "target", json_string(target));
    (void)json_object_set(r, "before", before != NULL ? before : json_null());
    (void)json_object_set(r, "after", after != NULL ? after : json_null());
    rc = mrd_jcs_write(r, &text, err);
    json_decref(r);
    if (rc != MRD_OK)
        goto out;
    ev = (struct store_ledger_event){
        .kind = LEDGER_KIND_ADMIN, .time_usec = now, .record = text.data, .record_len = text.len};
    if (a->n_pending >= ADMIN_PENDING_MAX) {
        rc = mrd_err_set(err, MRD_E_TOOBIG, "more than %d audit records in one change",
                         ADMIN_PENDING_MAX);
        goto out;
    }
    rc = store_event_add(a->st, &ev, &num, err);
    if (rc != MRD_OK) {
        mrd_err_prefix(err, "the %s %s of '%s' was not made: its audit record cannot be written",
                       object, action, target);
        goto out;
    }
    if (ret_ev != NULL)
        *ret_ev = num;
    copy_clean(tgt, sizeof(tgt), target);
    (void)snprintf(a->pending[a->n_pending++], sizeof(a->pending[0]),
                   "audit: %s %s%s%s: %s %s %s (event %lld)", a->who.via, a->who.name,
                   a->who.org[0] ? " of " : "", a->who.org, object, action, tgt, (long long)num);
out:
    mrd_buf_release(&text);
    return rc;
}

enum mrd_code admin_audit(struct admin *a, const char *object, const char *action,
                          const char *target, json_t *before, json_t *after, int64_t *ret_ev,
                          struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    if (rc != MRD_OK)
        return rc;
    rc = audit_queue(a, object, action, target, before, after, ret_ev, err);
    return tx_end(a, rc, err);
}

enum mrd_code admin_apply(struct admin *a, const char *object, const char *action,
                          enum mrd_code (*change)(void *ctx, struct store *st,
                                                  struct admin_change *rec, struct mrd_err *err),
                          void *ctx, struct mrd_err *err)
{
    struct admin_change rec;
    enum mrd_code rc = tx_begin(a, err);

    if (rc != MRD_OK)
        return rc;
    memset(&rec, 0, sizeof(rec));
    rc = change(ctx, a->st, &rec, err);
    if (rc == MRD_OK)
        rc = audit_queue(a, object, action, rec.target, rec.before, rec.after, NULL, err);
    json_decref(rec.before);
    json_decref(rec.after);
    return tx_end(a, rc, err);
}

static json_t *org_json(const struct store_org *o)
{
    json_t *j = json_object();

    (void)json_object_set_new(j, "name", json_string(o->name));
    (void)json_object_set_new(j, "relation", json_string(policy_relation_name(o->relation)));
    (void)json_object_set_new(j, "disabled", time_json(o->disabled_usec));
    (void)json_object_set_new(j, "deleted", time_json(o->deleted_usec));
    return j;
}

static json_t *token_json(const struct store_token *t)
{
    json_t *j = json_object();

    /* Names and public prefixes only: never a secret. */
    (void)json_object_set_new(j, "name", json_string(t->name));
    (void)json_object_set_new(j, "org", json_string(t->org_name));
    (void)json_object_set_new(j, "prefix", json_string(t->prefix));
    (void)json_object_set_new(j, "expires", time_json(t->expires_usec));
    (void)json_object_set_new(j, "revoked", time_json(t->revoked_usec));
    (void)json_object_set_new(j, "previous_secret_until", time_json(t->prev_expires_usec));
    return j;
}

static json_t *grant_json(struct store_grant g)
{
    json_t *j = json_object();

    (void)json_object_set_new(j, "read", json_boolean(g.can_read));
    (void)json_object_set_new(j, "write", json_boolean(g.can_write));
    return j;
}

static json_t *peer_json(const struct fed_peer *p)
{
    json_t *j = json_object();
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[17];

    (void)json_object_set_new(j, "url", json_string(p->url));
    (void)json_object_set_new(j, "api_root", json_string(p->api_root));
    (void)json_object_set_new(j, "collection", json_string(p->collection));
    (void)json_object_set_new(j, "local_collection", json_string(p->local_collection));
    (void)json_object_set_new(j, "pubkey", json_string(p->pubkey));
    (void)json_object_set_new(j, "ca", json_string(p->ca_file));
    (void)json_object_set_new(j, "direction", json_string(fed_direction_name(p->direction)));
    (void)json_object_set_new(j, "community", json_string(p->community));
    (void)json_object_set_new(j, "enabled", json_boolean(p->enabled));
    (void)json_object_set_new(j, "interval_ms", json_integer(p->interval_ms));
    /* The token the peer issued to us is a secret: only a short digest,
     * enough to see that it changed. */
    crypto_hash_sha256(h, (const unsigned char *)p->token, strlen(p->token));
    sodium_bin2hex(hex, sizeof(hex), h, 8);
    (void)json_object_set_new(j, "token_sha256_prefix", json_string(hex));
    return j;
}

/* Runs admin_audit and drops the JSON it was given. */
static enum mrd_code audit_take(struct admin *a, const char *object, const char *action,
                                const char *target, json_t *before, json_t *after,
                                struct mrd_err *err)
{
    enum mrd_code rc = admin_audit(a, object, action, target, before, after, NULL, err);

    json_decref(before);
    json_decref(after);
    return rc;
}

/* ---- orgs ---- */

static enum mrd_code org_create_tx(struct admin *a, const char *name, enum policy_relation rel,
                                   struct store_org *ret, struct mrd_err *err)
{
    struct store_org o;
    enum mrd_code rc = store_org_create(a->st, name, rel, &o, err);

    if (rc == MRD_OK)
        rc = audit_take(a, "org", "create", o.name, NULL, org_json(&o), err);
    if (rc == MRD_OK && ret != NULL)
        *ret = o;
    return rc;
}

enum mrd_code admin_org_create(struct admin *a, const char *name, enum policy_relation rel,
                               struct store_org *ret, struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK ? tx_end(a, org_create_tx(a, name, rel, ret, err), err) : rc;
}

static enum mrd_code not_own(struct admin *a, const char *name, const char *what,
                             struct mrd_err *err)
{
    char own[STORE_META_VAL_MAX + 1];

    if (store_meta_get(a->st, "own_org", own, sizeof(own), NULL) == MRD_OK &&
        strcmp(own, name) == 0)
        return mrd_err_set(err, MRD_E_PERM, "org '%s' runs this node: it cannot be %s", name, what);
    return MRD_OK;
}

/* The peer of the same name as an org: disabled, enabled or removed. */
static enum mrd_code peer_of(struct admin *a, const char *name, int how /* 0 off 1 on 2 rm */,
                             struct admin_report *ret, struct mrd_err *err)
{
    struct fed_state *fs = NULL;
    struct fed_peer *p = NULL;
    enum mrd_code rc;

    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    rc = fed_state_open(a->data_dir, &fs, err);
    if (rc == MRD_OK && fed_peer_get(fs, name, p, NULL, NULL) == MRD_OK) {
        ret->peer_found = true;
        if (how == 2)
            rc = admin_peer_remove(a, name, err);
        else if (p->enabled != (how == 1))
            rc = admin_peer_set_enabled(a, name, how == 1, err);
        ret->peer_changed = rc == MRD_OK && (how == 2 || p->enabled != (how == 1));
    }
    fed_state_close(fs);
    free(p);
    return rc;
}

enum org_how { ORG_DISABLE = 0, ORG_ENABLE = 1, ORG_DELETE = 2 }; /* = peer_of's how */

/* disable, enable or delete: the store change, its record, the sessions
 * and the peer of the same name. */
static enum mrd_code org_change_tx(struct admin *a, const char *name, enum org_how how,
                                   struct admin_report *ret, struct mrd_err *err)
{
    static const char *const action[] = {"disable", "enable", "delete"};
    static const char *const done[] = {"disabled", "enabled", "deleted"};
    enum mrd_code rc = MRD_OK;

    memset(ret, 0, sizeof(*ret));
    if (how != ORG_ENABLE)
        rc = not_own(a, name, done[how], err);
    if (rc == MRD_OK)
        rc = how == ORG_DISABLE  ? store_org_disable(a->st, name, &ret->org, err)
             : how == ORG_ENABLE ? store_org_enable(a->st, name, &ret->org, err)
                                 : store_org_delete(a->st, name, &ret->org, err);
    if (rc == MRD_OK) {
        json_t *after = org_json(&ret->org.after);

        if (how == ORG_DELETE) {
            (void)json_object_set_new(after, "tokens_revoked",
                                      json_integer(ret->org.tokens_revoked));
            (void)json_object_set_new(after, "grants_removed",
                                      json_integer(ret->org.grants_removed));
        }
        rc = audit_take(a, "org", action[how], name, org_json(&ret->org.before), after, err);
    }
    if (rc == MRD_OK && how != ORG_ENABLE)
        rc = store_sessions_end(a->st, ret->org.before.key, NULL, &ret->sessions_ended, err);
    if (rc == MRD_OK)
        rc = peer_of(a, name, (int)how, ret, err);
    return rc;
}

static enum mrd_code org_change(struct admin *a, const char *name, enum org_how how,
                                struct admin_report *ret, struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK ? tx_end(a, org_change_tx(a, name, how, ret, err), err) : rc;
}

enum mrd_code admin_org_disable(struct admin *a, const char *name, struct admin_report *ret,
                                struct mrd_err *err)
{
    return org_change(a, name, ORG_DISABLE, ret, err);
}

enum mrd_code admin_org_enable(struct admin *a, const char *name, struct admin_report *ret,
                               struct mrd_err *err)
{
    return org_change(a, name, ORG_ENABLE, ret, err);
}

enum mrd_code admin_org_delete(struct admin *a, const char *name, struct admin_report *ret,
                               struct mrd_err *err)
{
    return org_change(a, name, ORG_DELETE, ret, err);
}

static enum mrd_code partner_revoke_tx(struct admin *a, const char *name, struct admin_report *ret,
                                       struct mrd_err *err)
{
    struct store_org org;
    struct store_org_change access;
    bool have_org;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    memset(&access, 0, sizeof(access));
    rc = not_own(a, name, "revoked", err);
    if (rc != MRD_OK)
        return rc;
    have_org = store_org_get(a->st, name, 0, &org, NULL) == MRD_OK;
    if (have_org && org.deleted_usec == STORE_TIME_NONE) {
        rc = store_org_revoke_access(a->st, org.key, &access, err);
        if (rc == MRD_OK)
            rc = store_org_disable(a->st, name, &ret->org, err);
        ret->org.tokens_revoked = access.tokens_revoked;
        ret->org.grants_removed = access.grants_removed;
        if (rc == MRD_OK)
            rc = store_sessions_end(a->st, org.key, NULL, &ret->sessions_ended, err);
    }
    if (rc == MRD_OK)
        rc = peer_of(a, name, 0, ret, err);
    if (rc == MRD_OK && !have_org && !ret->peer_found)
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no org and no peer named '%s'", name);
    if (rc == MRD_OK) {
        json_t *after = json_object();

        (void)json_object_set_new(after, "org_disabled", json_boolean(have_org));
        (void)json_object_set_new(after, "tokens_revoked", json_integer(ret->org.tokens_revoked));
        (void)json_object_set_new(after, "grants_removed", json_integer(ret->org.grants_removed));
        (void)json_object_set_new(after, "sessions_ended", json_integer(ret->sessions_ended));
        (void)json_object_set_new(after, "peer_disabled", json_boolean(ret->peer_found));
        rc = audit_take(a, "partner", "revoke", name, have_org ? org_json(&ret->org.before) : NULL,
                        after, err);
    }
    return rc;
}

enum mrd_code admin_partner_revoke(struct admin *a, const char *name, struct admin_report *ret,
                                   struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK ? tx_end(a, partner_revoke_tx(a, name, ret, err), err) : rc;
}

/* ---- tokens ---- */

static enum mrd_code token_create_tx(struct admin *a, const char *org, const char *name,
                                     int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                     struct store_token *ret, struct mrd_err *err)
{
    struct store_org o;
    struct store_token t;
    enum mrd_code rc = store_org_get(a->st, org, 0, &o, err);

    if (rc == MRD_OK)
        rc = store_token_issue(a->st, o.key, name, expires_usec, ret_secret, &t, err);
    if (rc == MRD_OK)
        rc = audit_take(a, "token", "create", t.name, NULL, token_json(&t), err);
    if (rc == MRD_OK && ret != NULL)
        *ret = t;
    return rc;
}

enum mrd_code admin_token_create(struct admin *a, const char *org, const char *name,
                                 int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                 struct store_token *ret, struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK
               ? tx_end(a, token_create_tx(a, org, name, expires_usec, ret_secret, ret, err), err)
               : rc;
}

static enum mrd_code token_revoke_tx(struct admin *a, const char *name_or_prefix,
                                     struct store_token *ret, struct mrd_err *err)
{
    struct store_token t, after;
    unsigned ended = 0;
    enum mrd_code rc = store_token_revoke(a->st, name_or_prefix, &t, err);

    if (rc != MRD_OK)
        return rc;
    after = t;
    after.revoked_usec = t.revoked_usec != STORE_TIME_NONE ? t.revoked_usec : mrd_time_now_usec();
    rc = audit_take(a, "token", "revoke", t.name, NULL, token_json(&after), err);
    if (rc == MRD_OK)
        rc = store_sessions_end(a->st, t.org_key, t.name, &ended, err);
    if (rc == MRD_OK && ret != NULL)
        *ret = after;
    return rc;
}

enum mrd_code admin_token_revoke(struct admin *a, const char *name_or_prefix,
                                 struct store_token *ret, struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK ? tx_end(a, token_revoke_tx(a, name_or_prefix, ret, err), err) : rc;
}

static enum mrd_code token_rotate_tx(struct admin *a, const char *name, int64_t overlap_usec,
                                     char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                     struct mrd_err *err)
{
    struct store_token t;
    enum mrd_code rc = store_token_rotate(a->st, name, overlap_usec, ret_secret, &t, err);

    if (rc == MRD_OK)
        rc = audit_take(a, "token", "rotate", t.name, NULL, token_json(&t), err);
    if (rc == MRD_OK && ret != NULL)
        *ret = t;
    return rc;
}

enum mrd_code admin_token_rotate(struct admin *a, const char *name, int64_t overlap_usec,
                                 char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                 struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK
               ? tx_end(a, token_rotate_tx(a, name, overlap_usec, ret_secret, ret, err), err)
               : rc;
}

/* ---- grants and collections ---- */

static enum mrd_code grant_set_tx(struct admin *a, const struct store_org *org,
                                  const struct store_collection *c, struct store_grant g,
                                  struct mrd_err *err)
{
    struct store_grant before;
    char target[STORE_NAME_MAX + STORE_UUID_LEN + 2];
    enum mrd_code rc = store_grant_get(a->st, org->key, c->key, &before, err);

    if (rc == MRD_OK)
        rc = store_grant_set(a->st, org->key, c->key, g, err);
    (void)snprintf(target, sizeof(target), "%s/%s", org->name, c->id);
    if (rc == MRD_OK)
        rc = audit_take(a, "grant", "set", target, grant_json(before), grant_json(g), err);
    return rc;
}

enum mrd_code admin_grant_set(struct admin *a, const struct store_org *org,
                              const struct store_collection *c, struct store_grant g,
                              struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK ? tx_end(a, grant_set_tx(a, org, c, g, err), err) : rc;
}

static enum mrd_code collection_create_tx(struct admin *a, struct store_collection *c,
                                          struct mrd_err *err)
{
    enum mrd_code rc = store_collection_create(a->st, c, err);

    if (rc == MRD_OK) {
        json_t *j = json_object();

        (void)json_object_set_new(j, "id", json_string(c->id));
        (void)json_object_set_new(j, "api_root", json_string(c->api_root));
        (void)json_object_set_new(j, "title", json_string(c->title));
        (void)json_object_set_new(j, "alias", json_string(c->alias));
        (void)json_object_set_new(j, "default_tlp", json_string(policy_tlp_name(c->default_tlp)));
        (void)json_object_set_new(j, "public", json_boolean(c->public_read));
        rc = audit_take(a, "collection", "create", c->id, NULL, j, err);
    }
    return rc;
}

enum mrd_code admin_collection_create(struct admin *a, struct store_collection *c,
                                      struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK ? tx_end(a, collection_create_tx(a, c, err), err) : rc;
}

/* ---- peers ----
 *
 * fed.db is a database of its own: each change queues its record in the
 * store transaction first, then commits in fed.db; tx_end then commits the
 * record, or rolls it back when the fed.db change failed. */

/* The peer's configuration before a change (NULL on failure). */
static struct fed_peer *peer_before(struct fed_state *fs, const char *name, struct mrd_err *err)
{
    struct fed_peer *p = calloc(1, sizeof(*p));

    if (p == NULL) {
        (void)mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        return NULL;
    }
    if (fed_peer_get(fs, name, p, NULL, err) != MRD_OK) {
        free(p);
        return NULL;
    }
    return p;
}

enum peer_op { PEER_ADD, PEER_UPDATE, PEER_REMOVE, PEER_ENABLE, PEER_DISABLE };

static enum mrd_code peer_change_tx(struct admin *a, enum peer_op op, const char *name,
                                    const struct fed_peer *p, struct mrd_err *err)
{
    static const char *const action[] = {"add", "set", "remove", "enable", "disable"};
    struct fed_state *fs = NULL;
    struct fed_peer *before = NULL;
    json_t *jb = NULL, *ja = NULL;
    enum mrd_code rc = fed_state_open(a->data_dir, &fs, err);

    if (rc == MRD_OK && (op == PEER_UPDATE || op == PEER_REMOVE)) {
        before = peer_before(fs, name, err);
        if (before == NULL)
            rc = err != NULL && err->code != MRD_OK ? err->code : MRD_E_NOMEM;
    }
    if (rc == MRD_OK) {
        if (op == PEER_ENABLE || op == PEER_DISABLE) {
            jb = json_object();
            ja = json_object();
            (void)json_object_set_new(jb, "enabled", json_boolean(op != PEER_ENABLE));
            (void)json_object_set_new(ja, "enabled", json_boolean(op == PEER_ENABLE));
        } else {
            jb = before != NULL ? peer_json(before) : NULL;
            ja = p != NULL ? peer_json(p) : NULL;
        }
        rc = audit_take(a, "peer", action[op], name, jb, ja, err);
    }
    if (rc == MRD_OK)
        rc = op == PEER_ADD      ? fed_peer_add(fs, p, err)
             : op == PEER_UPDATE ? fed_peer_update(fs, p, err)
             : op == PEER_REMOVE ? fed_peer_remove(fs, name, err)
                                 : fed_peer_set_enabled(fs, name, op == PEER_ENABLE, err);
    fed_state_close(fs);
    free(before);
    return rc;
}

static enum mrd_code peer_change(struct admin *a, enum peer_op op, const char *name,
                                 const struct fed_peer *p, struct mrd_err *err)
{
    enum mrd_code rc = tx_begin(a, err);

    return rc == MRD_OK ? tx_end(a, peer_change_tx(a, op, name, p, err), err) : rc;
}

enum mrd_code admin_peer_add(struct admin *a, const struct fed_peer *p, struct mrd_err *err)
{
    return peer_change(a, PEER_ADD, p->name, p, err);
}

enum mrd_code admin_peer_update(struct admin *a, const struct fed_peer *p, struct mrd_err *err)
{
    return peer_change(a, PEER_UPDATE, p->name, p, err);
}

enum mrd_code admin_peer_remove(struct admin *a, const char *name, struct mrd_err *err)
{
    return peer_change(a, PEER_REMOVE, name, NULL, err);
}

enum mrd_code admin_peer_set_enabled(struct admin *a, const char *name, bool enabled,
                                     struct mrd_err *err)
{
    return peer_change(a, enabled ? PEER_ENABLE : PEER_DISABLE, name, NULL, err);
}

/* ---- the trail ---- */

struct list_ctx {
    enum mrd_code (*cb)(void *ctx, const struct admin_event *e, struct mrd_err *err);
    void *ctx;
};

static enum mrd_code list_one(void *ctx, const struct store_event_row *r, struct mrd_err *err)
{
    struct list_ctx *l = ctx;
    const char *kind = ledger_kind_name(r->kind);
    struct admin_event e = {.ev = r->ev,
                            .kind = kind != NULL ? kind : "unknown",
                            .time_usec = r->time_usec,
                            .leaf = r->leaf,
                            .record = r->record,
                            .record_len = r->record_len,
                            .hash = r->hash};

    return l->cb(l->ctx, &e, err);
}

enum mrd_code admin_audit_list(struct store *st, int64_t since_usec,
                               enum mrd_code (*cb)(void *ctx, const struct admin_event *e,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    struct list_ctx l = {.cb = cb, .ctx = ctx};

    return store_ledger_events(st, since_usec, list_one, &l, err);
}
