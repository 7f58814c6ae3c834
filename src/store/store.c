/*
 * store.c: picks the backend and dispatches every call through its ops.
 * Checks that do not depend on the backend (names, limits) happen here once,
 * so each backend only has to be correct about its database.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/metrics.h"
#include "core/str.h"

enum mrd_code store__check_name(const char *what, const char *s, size_t len, size_t max,
                                struct mrd_err *err)
{
    if (s == NULL || len == 0)
        return mrd_err_set(err, MRD_E_INVAL, "%s: empty name", what);
    if (len > max)
        return mrd_err_set(err, MRD_E_INVAL, "%s: name longer than %zu characters", what, max);
    if (s[0] == '.')
        return mrd_err_set(err, MRD_E_INVAL, "%s: name may not start with '.'", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return mrd_err_set(err, MRD_E_INVAL,
                               "%s: character %zu of '%.*s' is not one of [A-Za-z0-9._-]", what,
                               i + 1, (int)(len > 64 ? 64 : len), s);
    }
    return MRD_OK;
}

void store__token_generate(char secret[STORE_TOKEN_LEN + 1])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof(raw));
    memcpy(secret, "mrd_", 4);
    /* 32 bytes give 43 base64url characters without padding. */
    (void)sodium_bin2base64(secret + 4, STORE_TOKEN_LEN + 1 - 4, raw, sizeof(raw),
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void store__token_hash(const char *secret, size_t len, unsigned char out[STORE_TOKEN_HASH_LEN])
{
    /* The token has 256 random bits, so a plain (unsalted, fast) hash is
     * safe against guessing and lets lookups use an index. */
    (void)crypto_hash_sha256(out, (const unsigned char *)secret, len);
}

void store_uuid4(char out[STORE_UUID_LEN + 1])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    (void)snprintf(out, STORE_UUID_LEN + 1,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                   b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                   b[14], b[15]);
}

/* Reads DIR/STORE_DSN_FILE into dsn: MRD_E_NOTFOUND when there is none
 * (the node is on SQLite). */
static enum mrd_code dsn_read(const char *dir, char dsn[STORE_DSN_MAX + 1], struct mrd_err *err)
{
    char path[STORE_PATH_MAX + 1];
    ssize_t n;
    int fd;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, STORE_DSN_FILE);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT
                   ? MRD_E_NOTFOUND
                   : mrd_err_set(err, MRD_E_IO, "store: %s: %s", STORE_DSN_FILE, strerror(errno));
    n = read(fd, dsn, STORE_DSN_MAX + 1);
    (void)close(fd);
    if (n < 0)
        return mrd_err_set(err, MRD_E_IO, "store: %s: %s", STORE_DSN_FILE, strerror(errno));
    while (n > 0 && (dsn[n - 1] == '\n' || dsn[n - 1] == '\r'))
        n--;
    if (n > STORE_DSN_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: %s: longer than %d bytes", STORE_DSN_FILE,
                           STORE_DSN_MAX);
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)dsn[i] < 0x20 || dsn[i] == 0x7f)
            return mrd_err_set(err, MRD_E_PARSE,
                               "store: %s: control character at byte %zd (one line expected)",
                               STORE_DSN_FILE, i);
    if (n == 0)
        return mrd_err_set(err, MRD_E_PARSE, "store: %s is empty", STORE_DSN_FILE);
    dsn[n] = '\0';
    return MRD_OK;
}

/* Records dsn as DIR/STORE_DSN_FILE (mode 0600, never over an existing
 * one). */
static enum mrd_code dsn_write(const char *dir, const char *dsn, struct mrd_err *err)
{
    char path[STORE_PATH_MAX + 1];
    size_t len = strlen(dsn);
    int fd;
    bool ok;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, STORE_DSN_FILE);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return mrd_err_set(err, MRD_E_IO, "store: %s: %s", STORE_DSN_FILE, strerror(errno));
    ok = write(fd, dsn, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        (void)unlink(path);
        return mrd_err_set(err, MRD_E_IO, "store: cannot write %s", STORE_DSN_FILE);
    }
    return MRD_OK;
}

/* A PostgreSQL store named by a data directory: created with opts->dsn
 * (and recorded), or the one DIR/STORE_DSN_FILE names. *ret_named false
 * (and MRD_OK) without either: DIR is a SQLite node. */
static enum mrd_code open_named_pg(const char *dir, const struct store_open_opts *opts,
                                   bool *ret_named, struct store **ret, struct mrd_err *err)
{
    char dsn[STORE_DSN_MAX + 1];
    struct store *st = NULL;
    enum mrd_code rc;

    *ret_named = true;
    if (opts != NULL && opts->dsn != NULL) {
        if (!opts->create)
            return mrd_err_set(err, MRD_E_INVAL, "store: a connection string is given at init");
        if (strlen(opts->dsn) > STORE_DSN_MAX)
            return mrd_err_set(err, MRD_E_TOOBIG, "store: connection string longer than %d bytes",
                               STORE_DSN_MAX);
        rc = store__pg_open(opts->dsn, opts, &st, err);
        if (rc == MRD_OK)
            rc = dsn_write(dir, opts->dsn, err);
    } else {
        rc = dsn_read(dir, dsn, err);
        if (rc == MRD_E_NOTFOUND) {
            *ret_named = false;
            return MRD_OK;
        }
        if (rc == MRD_OK)
            rc = store__pg_open(dsn, opts, &st, err);
        sodium_memzero(dsn, sizeof(dsn)); /* it may hold a password */
    }
    if (rc != MRD_OK) {
        store_close(st);
        return rc;
    }
    *ret = st;
    return MRD_OK;
}

enum mrd_code store_open(const char *where, const struct store_open_opts *opts, struct store **ret,
                         struct mrd_err *err)
{
    enum mrd_code rc;
    bool named = false;
    size_t n;

    if (where == NULL || where[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "store: no data directory given");
    n = strlen(where);
    if (n > STORE_PATH_MAX - sizeof(STORE_SQLITE_FILE) - 1)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: data directory path too long");
    /* sodium_init is idempotent and thread-safe; tokens and uuids need it. */
    if (sodium_init() < 0)
        return mrd_err_set(err, MRD_E_CRYPTO, "store: libsodium failed to initialise");
    if (mrd_str_has_prefix(where, n, "postgres://") ||
        mrd_str_has_prefix(where, n, "postgresql://"))
        return store__pg_open(where, opts, ret, err);
    rc = open_named_pg(where, opts, &named, ret, err);
    if (rc != MRD_OK || named)
        return rc; /* a node on PostgreSQL never falls back to SQLite */
    return store__sqlite_open(where, opts, ret, err);
}

void store_close(struct store *st)
{
    if (st != NULL)
        st->ops->close(st);
}

const char *store_backend(const struct store *st)
{
    return st->ops->name;
}

/* ---- orgs ---- */

enum mrd_code store_org_create(struct store *st, const char *name, enum policy_relation rel,
                               struct store_org *ret, struct mrd_err *err)
{
    enum mrd_code rc = store__check_name("org", name, name ? strlen(name) : 0, STORE_NAME_MAX, err);

    if (rc != MRD_OK)
        return rc;
    if (rel != POLICY_REL_OWN && rel != POLICY_REL_CONSTITUENT && rel != POLICY_REL_PARTNER)
        return mrd_err_set(err, MRD_E_INVAL, "org: unknown relation %d", (int)rel);
    return st->ops->org_create(st, name, rel, ret, err);
}

enum mrd_code store_org_get(struct store *st, const char *name, int64_t key, struct store_org *ret,
                            struct mrd_err *err)
{
    if (name != NULL && strlen(name) > STORE_NAME_MAX)
        return mrd_err_set(err, MRD_E_NOTFOUND, "org: no org with that name");
    return st->ops->org_get(st, name, key, ret, err);
}

enum mrd_code store_org_list(struct store *st,
                             enum mrd_code (*cb)(void *ctx, const struct store_org *org), void *ctx,
                             struct mrd_err *err)
{
    return st->ops->org_list(st, cb, ctx, err);
}

/* ---- tokens ---- */

enum mrd_code store_token_create(struct store *st, int64_t org_key, const char *name,
                                 char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                 struct mrd_err *err)
{
    if (name != NULL) {
        enum mrd_code rc = store__check_name("token", name, strlen(name), STORE_NAME_MAX, err);
        if (rc != MRD_OK)
            return rc;
    }
    return st->ops->token_create(st, org_key, name, STORE_TIME_NONE, ret_secret, ret, err);
}

enum mrd_code store_token_issue(struct store *st, int64_t org_key, const char *name,
                                int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                struct store_token *ret, struct mrd_err *err)
{
    if (name != NULL) {
        enum mrd_code rc = store__check_name("token", name, strlen(name), STORE_NAME_MAX, err);
        if (rc != MRD_OK)
            return rc;
    }
    return st->ops->token_create(st, org_key, name, expires_usec, ret_secret, ret, err);
}

enum mrd_code store_token_rotate(struct store *st, const char *name, int64_t overlap_usec,
                                 char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                 struct mrd_err *err)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > STORE_NAME_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "token: give the token's name");
    if (st->ops->token_rotate == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s cannot rotate tokens", st->ops->name);
    return st->ops->token_rotate(st, name, overlap_usec, ret_secret, ret, err);
}

static enum mrd_code org_state(struct store *st, const char *name, bool disable, bool del,
                               struct store_org_change *ret, struct mrd_err *err)
{
    if (name == NULL || strlen(name) > STORE_NAME_MAX)
        return mrd_err_set(err, MRD_E_NOTFOUND, "org: no org with that name");
    if (st->ops->org_state == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s cannot change orgs", st->ops->name);
    return st->ops->org_state(st, name, disable, del, ret, err);
}

enum mrd_code store_org_disable(struct store *st, const char *name, struct store_org_change *ret,
                                struct mrd_err *err)
{
    return org_state(st, name, true, false, ret, err);
}

enum mrd_code store_org_enable(struct store *st, const char *name, struct store_org_change *ret,
                               struct mrd_err *err)
{
    return org_state(st, name, false, false, ret, err);
}

enum mrd_code store_org_delete(struct store *st, const char *name, struct store_org_change *ret,
                               struct mrd_err *err)
{
    return org_state(st, name, true, true, ret, err);
}

enum mrd_code store_org_revoke_access(struct store *st, int64_t org_key,
                                      struct store_org_change *ret, struct mrd_err *err)
{
    memset(ret, 0, sizeof(*ret));
    if (st->ops->org_revoke_access == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s cannot change orgs", st->ops->name);
    return st->ops->org_revoke_access(st, org_key, ret, err);
}

enum mrd_code store_sessions_end(struct store *st, int64_t org_key, const char *token_name,
                                 unsigned *ret_ended, struct mrd_err *err)
{
    uint64_t n = 0;
    enum mrd_code rc;

    *ret_ended = 0;
    if (st->ops->sessions_end == NULL)
        return MRD_OK; /* no console sessions in this backend */
    rc = st->ops->sessions_end(st, token_name, token_name != NULL ? 0 : org_key, &n, err);
    if (rc == MRD_OK)
        *ret_ended = n > UINT_MAX ? UINT_MAX : (unsigned)n;
    return rc;
}

enum mrd_code store_token_lookup(struct store *st, const char *secret, size_t len,
                                 struct store_token *ret, struct mrd_err *err)
{
    /* Anything that cannot be one of our tokens is refused before hashing,
     * with the same answer as an unknown token. */
    if (secret == NULL || len != STORE_TOKEN_LEN)
        return mrd_err_set(err, MRD_E_AUTH, STORE_AUTH_UNKNOWN);
    return st->ops->token_lookup(st, secret, len, ret, err);
}

enum mrd_code store_token_revoke(struct store *st, const char *name_or_prefix,
                                 struct store_token *ret, struct mrd_err *err)
{
    if (name_or_prefix == NULL || name_or_prefix[0] == '\0' ||
        strlen(name_or_prefix) > STORE_TOKEN_LEN)
        return mrd_err_set(err, MRD_E_INVAL, "token: give a token name or prefix");
    return st->ops->token_revoke(st, name_or_prefix, ret, err);
}

enum mrd_code store_token_list(struct store *st,
                               enum mrd_code (*cb)(void *ctx, const struct store_token *tok),
                               void *ctx, struct mrd_err *err)
{
    return st->ops->token_list(st, cb, ctx, err);
}

/* ---- API roots ---- */

enum mrd_code store_api_root_put(struct store *st, const struct store_api_root *root,
                                 bool *ret_created, struct mrd_err *err)
{
    size_t n = strnlen(root->name, sizeof(root->name));
    enum mrd_code rc = store__check_name("api root", root->name, n, STORE_NAME_MAX, err);

    if (rc != MRD_OK)
        return rc;
    /* The discovery endpoint and the dashboard own these path segments. */
    if (mrd_str_eq(root->name, n, "taxii2") || mrd_str_eq(root->name, n, "ui"))
        return mrd_err_set(err, MRD_E_INVAL, "api root: '%s' is reserved", root->name);
    if (root->max_content_length == 0)
        return mrd_err_set(err, MRD_E_INVAL, "api root: max_content_length must be > 0");
    if (root->title[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "api root: a title is required");
    return st->ops->api_root_put(st, root, ret_created, err);
}

enum mrd_code store_api_root_get(struct store *st, const char *name, size_t len,
                                 struct store_api_root *ret, struct mrd_err *err)
{
    if (len == 0 || len > STORE_NAME_MAX)
        return mrd_err_set(err, MRD_E_NOTFOUND, "api root: not found");
    return st->ops->api_root_get(st, name, len, ret, err);
}

enum mrd_code store_api_root_list(struct store *st,
                                  enum mrd_code (*cb)(void *ctx, const struct store_api_root *r),
                                  void *ctx, struct mrd_err *err)
{
    return st->ops->api_root_list(st, cb, ctx, err);
}

/* ---- collections ---- */

enum mrd_code store_collection_create(struct store *st, struct store_collection *c,
                                      struct mrd_err *err)
{
    size_t alias_len = strnlen(c->alias, sizeof(c->alias));

    if (c->title[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "collection: a title is required");
    if (alias_len > 0) {
        enum mrd_code rc =
            store__check_name("collection alias", c->alias, alias_len, STORE_ALIAS_MAX, err);
        if (rc != MRD_OK)
            return rc;
    }
    if ((unsigned)c->default_tlp >= POLICY_TLP_COUNT)
        return mrd_err_set(err, MRD_E_INVAL, "collection: bad default TLP");
    return st->ops->collection_create(st, c, err);
}

enum mrd_code store_collection_get(struct store *st, const char *api_root, size_t root_len,
                                   const char *id_or_alias, size_t len,
                                   struct store_collection *ret, struct mrd_err *err)
{
    if (len == 0 || len > STORE_ALIAS_MAX || (api_root != NULL && root_len > STORE_NAME_MAX))
        return mrd_err_set(err, MRD_E_NOTFOUND, "collection: not found");
    return st->ops->collection_get(st, api_root, root_len, id_or_alias, len, ret, err);
}

enum mrd_code store_collection_list(struct store *st, const char *api_root,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_collection *c),
                                    void *ctx, struct mrd_err *err)
{
    return st->ops->collection_list(st, api_root, cb, ctx, err);
}

/* ---- grants ---- */

enum mrd_code store_grant_set(struct store *st, int64_t org_key, int64_t collection,
                              struct store_grant g, struct mrd_err *err)
{
    return st->ops->grant_set(st, org_key, collection, g, err);
}

enum mrd_code store_grant_get(struct store *st, int64_t org_key, int64_t collection,
                              struct store_grant *ret, struct mrd_err *err)
{
    return st->ops->grant_get(st, org_key, collection, ret, err);
}

enum mrd_code store_grant_list(struct store *st, int64_t org_key, int64_t collection,
                               enum mrd_code (*cb)(void *ctx, const struct store_grant_row *g),
                               void *ctx, struct mrd_err *err)
{
    return st->ops->grant_list(st, org_key, collection, cb, ctx, err);
}

/* ---- objects ---- */

static enum mrd_code check_object(const struct store_object_in *o, size_t i, struct mrd_err *err)
{
    if (o->id == NULL || o->id_len == 0 || o->id_len > STORE_STIX_ID_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: bad id length", i);
    if (o->type == NULL || o->type_len == 0 || o->type_len > STORE_TYPE_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: bad type length", i);
    if (o->spec_version == NULL || o->spec_version_len == 0 || o->spec_version_len > STORE_SPEC_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: bad spec_version", i);
    if (o->body == NULL || o->body_len == 0)
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: empty body", i);
    if (o->body_len > STORE_OBJECT_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "object %zu: %zu bytes exceeds %zu", i, o->body_len,
                           STORE_OBJECT_MAX);
    if ((unsigned)o->tlp >= POLICY_TLP_COUNT)
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: bad TLP level", i);
    if (o->n_recipients > STORE_RECIPIENTS_MAX || (o->n_recipients > 0 && o->recipients == NULL))
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: more than %d recipients", i,
                           STORE_RECIPIENTS_MAX);
    if (o->source_peer != NULL && o->source_peer_len > STORE_PEER_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: source peer name too long", i);
    if (o->community != NULL && (o->community_len == 0 || o->community_len > STORE_NAME_MAX))
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: bad community", i);
    if (o->signer != NULL && (o->signer_len == 0 || o->signer_len > STORE_SIGNER_MAX))
        return mrd_err_set(err, MRD_E_INVAL, "object %zu: bad signer key", i);
    return MRD_OK;
}

/* Every path that stores objects (TAXII POST, sync, import, the matcher)
 * comes through here: new versions are counted once, for /metrics. */
static void count_ingested(const struct store_object_in *objs, size_t n,
                           const enum store_insert_outcome *out)
{
    uint64_t local = 0, received = 0;

    if (out == NULL) /* the caller did not ask which were new */
        return;
    for (size_t i = 0; i < n; i++) {
        if (out[i] != STORE_INS_ADDED)
            continue;
        if (objs[i].local)
            local++;
        else
            received++;
    }
    if (local > 0)
        mrd_metric_add(MRD_M_OBJECTS_INGESTED, "local", local);
    if (received > 0)
        mrd_metric_add(MRD_M_OBJECTS_INGESTED, "received", received);
}

enum mrd_code store_objects_insert(struct store *st, int64_t collection,
                                   const struct store_object_in *objs, size_t n,
                                   enum store_insert_outcome *ret_outcomes, int64_t *ret_date_added,
                                   struct mrd_err *err)
{
    enum mrd_code rc;

    for (size_t i = 0; i < n; i++) {
        rc = check_object(&objs[i], i, err);
        if (rc != MRD_OK)
            return rc;
    }
    if (n == 0)
        return MRD_OK;
    rc = st->ops->objects_insert(st, collection, objs, n, ret_outcomes, ret_date_added, err);
    if (rc == MRD_OK)
        count_ingested(objs, n, ret_outcomes);
    return rc;
}

enum mrd_code store_objects_insert_status(struct store *st, int64_t collection,
                                          const struct store_object_in *objs, size_t n,
                                          enum store_insert_outcome *ret_outcomes,
                                          int64_t *ret_date_added,
                                          const struct store_status *status, struct mrd_err *err)
{
    enum mrd_code rc;

    for (size_t i = 0; i < n; i++) {
        rc = check_object(&objs[i], i, err);
        if (rc != MRD_OK)
            return rc;
    }
    if (status != NULL && strnlen(status->id, sizeof(status->id)) != STORE_UUID_LEN)
        return mrd_err_set(err, MRD_E_INVAL, "status: id must be a uuid");
    if (status != NULL && status->n_details > 0 && status->details == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "status: details missing");
    if (st->ops->objects_insert_status == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: insert with status not supported",
                           st->ops->name);
    rc = st->ops->objects_insert_status(st, collection, objs, n, ret_outcomes, ret_date_added,
                                        status, err);
    if (rc == MRD_OK)
        count_ingested(objs, n, ret_outcomes);
    return rc;
}

enum mrd_code store_read_begin(struct store *st, struct mrd_err *err)
{
    return st->ops->read_begin != NULL ? st->ops->read_begin(st, err) : MRD_OK;
}

void store_read_end(struct store *st)
{
    if (st != NULL && st->ops->read_end != NULL)
        st->ops->read_end(st);
}

enum mrd_code store_write_begin(struct store *st, struct mrd_err *err)
{
    if (st->ops->write_begin == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s has no write transactions", st->ops->name);
    return st->ops->write_begin(st, err);
}

enum mrd_code store_write_end(struct store *st, bool commit, struct mrd_err *err)
{
    if (st->ops->write_end == NULL)
        return commit ? mrd_err_set(err, MRD_E_UNSUPP, "store: %s has no write transactions",
                                    st->ops->name)
                      : MRD_OK;
    return st->ops->write_end(st, commit, err);
}

static enum mrd_code check_match(const struct store_match *m, struct mrd_err *err)
{
    if (m == NULL)
        return MRD_OK;
    if (m->n_ids > STORE_MATCH_MAX || m->n_types > STORE_MATCH_MAX ||
        m->n_spec_versions > STORE_MATCH_MAX || m->n_timestamps > STORE_MATCH_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "match: more than %d values in one filter",
                           STORE_MATCH_MAX);
    if ((m->versions & STORE_VER_ALL) && (m->versions & ~STORE_VER_ALL))
        return mrd_err_set(err, MRD_E_INVAL,
                           "match[version]: 'all' cannot be combined (TAXII 2.1 §3.4.1)");
    if ((m->versions & STORE_VER_TIMESTAMPS) && m->n_timestamps == 0)
        return mrd_err_set(err, MRD_E_INVAL, "match[version]: no timestamps given");
    return MRD_OK;
}

enum mrd_code store_objects_query(struct store *st, const struct store_query *q,
                                  bool (*visible)(void *ctx, const struct store_row *row),
                                  enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                        struct mrd_err *err),
                                  void *ctx, struct store_query_result *ret, struct mrd_err *err)
{
    enum mrd_code rc = check_match(q->match, err);

    if (rc != MRD_OK)
        return rc;
    return st->ops->objects_query(st, q, visible, emit, ctx, ret, err);
}

enum mrd_code store_objects_delete(struct store *st, int64_t collection, const char *id,
                                   size_t id_len, const struct store_match *match,
                                   bool (*visible)(void *ctx, const struct store_row *row),
                                   void *ctx, size_t *ret_deleted, struct mrd_err *err)
{
    enum mrd_code rc = check_match(match, err);

    if (rc != MRD_OK)
        return rc;
    if (id == NULL || id_len == 0 || id_len > STORE_STIX_ID_MAX) {
        *ret_deleted = 0;
        return MRD_OK;
    }
    return st->ops->objects_delete(st, collection, id, id_len, match, visible, ctx, ret_deleted,
                                   err);
}

enum mrd_code store_conflict_list(struct store *st, int64_t collection, int64_t id,
                                  enum mrd_code (*cb)(void *ctx, const struct store_conflict *c,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    if (st->ops->conflict_list == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no conflicts", st->ops->name);
    return st->ops->conflict_list(st, collection, id, cb, ctx, err);
}

enum mrd_code store_objects_count(struct store *st, int64_t collection, uint64_t *ret,
                                  struct mrd_err *err)
{
    return st->ops->objects_count(st, collection, ret, err);
}

/* ---- status ---- */

enum mrd_code store_status_put(struct store *st, const struct store_status *s, struct mrd_err *err)
{
    if (strnlen(s->id, sizeof(s->id)) != STORE_UUID_LEN)
        return mrd_err_set(err, MRD_E_INVAL, "status: id must be a uuid");
    if (s->n_details > 0 && s->details == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "status: details missing");
    return st->ops->status_put(st, s, err);
}

enum mrd_code store_status_get(struct store *st, const char *id, size_t len,
                               struct store_status **ret, struct mrd_err *err)
{
    if (len != STORE_UUID_LEN)
        return mrd_err_set(err, MRD_E_NOTFOUND, "status: not found");
    return st->ops->status_get(st, id, len, ret, err);
}

void store_status_free(struct store_status *s)
{
    if (s == NULL)
        return;
    mrd_free(s->details);
    mrd_free(s);
}

enum mrd_code store_status_purge(struct store *st, int64_t older_than_usec, uint64_t *ret_purged,
                                 struct mrd_err *err)
{
    return st->ops->status_purge(st, older_than_usec, ret_purged, err);
}

/* ---- meta ---- */

enum mrd_code store_meta_get(struct store *st, const char *key, char *ret_val, size_t size,
                             struct mrd_err *err)
{
    if (key == NULL || key[0] == '\0' || strlen(key) > STORE_META_KEY_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "meta: bad key");
    return st->ops->meta_get(st, key, ret_val, size, err);
}

enum mrd_code store_meta_set(struct store *st, const char *key, const char *val,
                             struct mrd_err *err)
{
    if (key == NULL || key[0] == '\0' || strlen(key) > STORE_META_KEY_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "meta: bad key");
    if (val == NULL || strlen(val) > STORE_META_VAL_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "meta: value longer than %d bytes",
                           STORE_META_VAL_MAX);
    return st->ops->meta_set(st, key, val, err);
}

/* ---- holds and the ledger queue ---- */

static enum mrd_code unsupported(const struct store *st, struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_UNSUPP, "store: the %s backend has no legal holds or ledger",
                       st->ops->name);
}

static enum mrd_code check_hold(const struct store_hold *h, struct mrd_err *err)
{
    size_t n = strnlen(h->case_id, sizeof(h->case_id));

    if (strnlen(h->id, sizeof(h->id)) != STORE_UUID_LEN)
        return mrd_err_set(err, MRD_E_INVAL, "hold: id must be a uuid");
    if (n == 0 || n > STORE_CASE_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "hold: case id must be 1..%d characters",
                           STORE_CASE_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)h->case_id[i] < 0x20 || h->case_id[i] == 0x7f)
            return mrd_err_set(err, MRD_E_INVAL, "hold: case id has a control character");
    if (h->record == NULL || h->record_len == 0 || h->record_len > STORE_HOLD_RECORD_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "hold: record must be 1..%zu bytes",
                           STORE_HOLD_RECORD_MAX);
    return MRD_OK;
}

static enum mrd_code check_event(const struct store_ledger_event *ev, struct mrd_err *err)
{
    if (ev == NULL || ev->record == NULL || ev->record_len == 0 ||
        ev->record_len > STORE_HOLD_RECORD_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "ledger event: record must be 1..%zu bytes",
                           STORE_HOLD_RECORD_MAX);
    return MRD_OK;
}

enum mrd_code store_hold_create(struct store *st, const struct store_hold *h, const int64_t *seqs,
                                size_t n, const struct store_ledger_event *ev, struct mrd_err *err)
{
    enum mrd_code rc;

    if (st->ops->hold_create == NULL)
        return unsupported(st, err);
    if (n > STORE_HOLD_ITEMS_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "hold: %zu object versions (at most %d)", n,
                           STORE_HOLD_ITEMS_MAX);
    if ((rc = check_hold(h, err)) != MRD_OK || (rc = check_event(ev, err)) != MRD_OK)
        return rc;
    return st->ops->hold_create(st, h, seqs, n, ev, err);
}

enum mrd_code store_hold_update(struct store *st, const struct store_hold *h,
                                const struct store_ledger_event *ev, struct mrd_err *err)
{
    enum mrd_code rc;

    if (st->ops->hold_update == NULL)
        return unsupported(st, err);
    if ((rc = check_hold(h, err)) != MRD_OK || (rc = check_event(ev, err)) != MRD_OK)
        return rc;
    return st->ops->hold_update(st, h, ev, err);
}

enum mrd_code store_hold_list(struct store *st, const char *id, const char *case_id,
                              enum mrd_code (*cb)(void *ctx, const struct store_hold *h,
                                                  struct mrd_err *err),
                              void *ctx, struct mrd_err *err)
{
    if (st->ops->hold_list == NULL)
        return unsupported(st, err);
    return st->ops->hold_list(st, id, case_id, cb, ctx, err);
}

enum mrd_code store_hold_objects(struct store *st, const char *id,
                                 enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err)
{
    if (st->ops->hold_objects == NULL)
        return unsupported(st, err);
    return st->ops->hold_objects(st, id, cb, ctx, err);
}

enum mrd_code store_objects_find(struct store *st, const struct store_find *f,
                                 enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err)
{
    static const struct store_find all = {.version_usec = STORE_TIME_NONE, .leaf = -1};

    if (st->ops->objects_find == NULL)
        return unsupported(st, err);
    return st->ops->objects_find(st, f != NULL ? f : &all, cb, ctx, err);
}

enum mrd_code store_ledger_pending(struct store *st, size_t limit,
                                   enum mrd_code (*cb)(void *ctx,
                                                       const struct store_ledger_item *it,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    if (st->ops->ledger_pending == NULL)
        return unsupported(st, err);
    return st->ops->ledger_pending(st, limit, cb, ctx, err);
}

enum mrd_code store_ledger_mark(struct store *st, const struct store_ledger_mark *marks, size_t n,
                                struct mrd_err *err)
{
    if (st->ops->ledger_mark == NULL)
        return unsupported(st, err);
    return st->ops->ledger_mark(st, marks, n, err);
}

enum mrd_code store_ledger_max_leaf(struct store *st, int64_t *ret, struct mrd_err *err)
{
    if (st->ops->ledger_max_leaf == NULL)
        return unsupported(st, err);
    return st->ops->ledger_max_leaf(st, ret, err);
}

/* ---- console sessions ---- */

static enum mrd_code no_sessions(const struct store *st, struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_UNSUPP, "store: the %s backend has no console sessions",
                       st->ops->name);
}

void store__session_id_generate(char id[STORE_SESSION_ID_LEN + 1])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof(raw));
    (void)sodium_bin2base64(id, STORE_SESSION_ID_LEN + 1, raw, sizeof(raw),
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

enum mrd_code store_session_create(struct store *st, const char *token_name, int64_t expires_usec,
                                   char ret_id[STORE_SESSION_ID_LEN + 1], struct mrd_err *err)
{
    if (token_name == NULL || token_name[0] == '\0' || strlen(token_name) > STORE_NAME_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "session: bad token name");
    if (st->ops->session_create == NULL)
        return no_sessions(st, err);
    return st->ops->session_create(st, token_name, expires_usec, ret_id, err);
}

enum mrd_code store_session_lookup(struct store *st, const char *id, size_t len, int64_t idle_usec,
                                   struct store_session *ret, struct mrd_err *err)
{
    /* Anything but a well-formed id is "no such session", without a
     * database round trip. */
    if (id == NULL || len != STORE_SESSION_ID_LEN)
        return mrd_err_set(err, MRD_E_AUTH, "session: invalid or expired session");
    if (st->ops->session_lookup == NULL)
        return no_sessions(st, err);
    return st->ops->session_lookup(st, id, len, idle_usec, ret, err);
}

enum mrd_code store_session_end(struct store *st, const char *id, size_t len, struct mrd_err *err)
{
    if (id == NULL || len != STORE_SESSION_ID_LEN)
        return MRD_OK;
    if (st->ops->session_end == NULL)
        return no_sessions(st, err);
    return st->ops->session_end(st, id, len, err);
}

enum mrd_code store_sessions_end_token(struct store *st, const char *token_name, uint64_t *ret_n,
                                       struct mrd_err *err)
{
    if (token_name == NULL || token_name[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "session: no token name");
    if (st->ops->sessions_end == NULL)
        return no_sessions(st, err);
    return st->ops->sessions_end(st, token_name, 0, ret_n, err);
}

enum mrd_code store_sessions_end_org(struct store *st, int64_t org_key, uint64_t *ret_n,
                                     struct mrd_err *err)
{
    if (org_key <= 0)
        return mrd_err_set(err, MRD_E_INVAL, "session: bad org key");
    if (st->ops->sessions_end == NULL)
        return no_sessions(st, err);
    return st->ops->sessions_end(st, NULL, org_key, ret_n, err);
}

/* ---- readers ---- */

enum mrd_code store_reader_for(struct store *st, int64_t org_key, enum policy_relation rel,
                               const struct store_collection *c, struct policy_reader *ret,
                               bool *ret_can_read, struct mrd_err *err)
{
    struct store_grant g = {0};
    enum mrd_code rc;

    rc = store_grant_get(st, org_key, c->key, &g, err);
    if (rc != MRD_OK)
        return rc;
    *ret = (struct policy_reader){
        .anonymous = false,
        .org_id = org_key,
        .relation = rel,
        .has_read_grant = g.can_read,
        .collection_public = c->public_read,
        .community = c->api_root,
        .community_len = strlen(c->api_root),
    };
    *ret_can_read = g.can_read || c->public_read;
    return MRD_OK;
}

/* ---- search by value ---- */

enum mrd_code store_value_search(struct store *st, const struct store_value *v, size_t limit,
                                 bool (*visible)(void *ctx, int64_t collection,
                                                 const struct store_row *row),
                                 enum mrd_code (*emit)(void *ctx, const struct store_value_hit *h,
                                                       struct mrd_err *err),
                                 void *ctx, bool *ret_more, struct mrd_err *err)
{
    if (v == NULL || v->kind < STORE_V_IPV4 || v->kind > STORE_V_HASH || v->len == 0 ||
        v->len > STORE_VALUE_KEY_MAX || visible == NULL || emit == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "search: bad value");
    if ((v->kind == STORE_V_IPV4 && v->len != 5) || (v->kind == STORE_V_IPV6 && v->len != 17))
        return mrd_err_set(err, MRD_E_INVAL, "search: bad address key");
    if (st->ops->value_search == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: the %s backend has no value index",
                           st->ops->name);
    if (limit == 0 || limit > STORE_SEARCH_MAX)
        limit = STORE_SEARCH_MAX;
    return st->ops->value_search(st, v, limit, visible, emit, ctx, ret_more, err);
}

/* ---- free text and references ---- */

enum mrd_code store_text_search(struct store *st, const char *q, size_t n, size_t limit,
                                bool (*visible)(void *ctx, int64_t collection,
                                                const struct store_row *row),
                                enum mrd_code (*emit)(void *ctx, const struct store_found *f,
                                                      struct mrd_err *err),
                                void *ctx, bool *ret_more, struct mrd_err *err)
{
    /* each word quoted ("w" plus a space) at most doubles a query, plus the prefix star */
    char fts[STORE_TEXT_QUERY_MAX * 2 + STORE_TEXT_TERMS_MAX * 3 + 2];
    size_t len;
    enum mrd_code rc;

    if (visible == NULL || emit == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "search: no callbacks");
    rc = store_text_query(q, n, fts, sizeof(fts), &len, err);
    if (rc != MRD_OK)
        return rc;
    if (st->ops->text_search == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: the %s backend has no text index",
                           st->ops->name);
    if (limit == 0 || limit > STORE_SEARCH_MAX)
        limit = STORE_SEARCH_MAX;
    return st->ops->text_search(st, fts, limit, visible, emit, ctx, ret_more, err);
}

enum mrd_code
store_refs_to(struct store *st, const char *id, size_t len, unsigned roles, size_t limit,
              bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
              enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
              void *ctx, bool *ret_more, struct mrd_err *err)
{
    if (id == NULL || len == 0 || len > STORE_STIX_ID_MAX || roles == 0 || visible == NULL ||
        emit == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "references: bad id");
    if (st->ops->refs_to == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: the %s backend has no reference index",
                           st->ops->name);
    if (limit == 0 || limit > STORE_SEARCH_MAX)
        limit = STORE_SEARCH_MAX;
    return st->ops->refs_to(st, id, len, roles, limit, visible, emit, ctx, ret_more, err);
}

enum mrd_code store_cert_principal(struct store *st, const char *cn, struct store_token *ret,
                                   struct mrd_err *err)
{
    struct store_org org;
    enum mrd_code rc;

    rc = store_org_get(st, cn, 0, &org, err);
    if (rc != MRD_OK)
        return rc;
    if (org.disabled_usec != STORE_TIME_NONE) /* a disabled or deleted org: as unknown */
        return mrd_err_set(err, MRD_E_NOTFOUND, "org: %s is disabled", org.name);
    memset(ret, 0, sizeof(*ret));
    (void)snprintf(ret->name, sizeof(ret->name), "cert:%.*s", STORE_NAME_MAX - 5, org.name);
    ret->org_key = org.key;
    mrd_strlcpy(ret->org_name, org.name, sizeof(ret->org_name));
    ret->org_relation = org.relation;
    ret->revoked_usec = STORE_TIME_NONE;
    return MRD_OK;
}

enum mrd_code store_meta_key(struct store *st, const char *key, unsigned char *ret, size_t len,
                             struct mrd_err *err)
{
    char hex[64 * 2 + 1];
    unsigned char fresh[64];
    size_t n = 0;
    enum mrd_code rc;

    if (len == 0 || len > sizeof(fresh))
        return mrd_err_set(err, MRD_E_INVAL, "meta: key length %zu", len);
    rc = store_meta_get(st, key, hex, sizeof(hex), err);
    if (rc == MRD_E_NOTFOUND) {
        mrd_err_clear(err);
        randombytes_buf(fresh, len);
        sodium_bin2hex(hex, sizeof(hex), fresh, len);
        sodium_memzero(fresh, sizeof(fresh));
        rc = store_meta_set(st, key, hex, err);
        /* read back: another process on the same database may have won */
        if (rc == MRD_OK)
            rc = store_meta_get(st, key, hex, sizeof(hex), err);
    }
    if (rc != MRD_OK)
        return rc;
    if (sodium_hex2bin(ret, len, hex, strlen(hex), NULL, &n, NULL) != 0 || n != len)
        rc =
            mrd_err_set(err, MRD_E_CRYPTO, "store metadata %s is not a %zu-byte hex key", key, len);
    sodium_memzero(hex, sizeof(hex));
    return rc;
}

const char *store_auth_refusal(const char *msg)
{
    if (strcmp(msg, STORE_AUTH_REVOKED) == 0)
        return "revoked";
    if (strcmp(msg, STORE_AUTH_EXPIRED) == 0)
        return "expired";
    if (strcmp(msg, STORE_AUTH_DISABLED) == 0)
        return "disabled";
    return "unknown";
}

/* ---- backups and the audit trail ---- */

enum mrd_code store_snapshot(struct store *st, int fd, uint64_t offset, struct mrd_pace *pace,
                             struct store_snapshot_info *ret, struct mrd_err *err)
{
    if (st->ops->snapshot == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s has no snapshots", st->ops->name);
    return st->ops->snapshot(st, fd, offset, pace, ret, err);
}

enum mrd_code store_ledger_recorded(struct store *st, int64_t from_leaf, int64_t to_leaf,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_ledger_item *it,
                                                        int64_t leaf, struct mrd_err *err),
                                    void *ctx, struct mrd_err *err)
{
    if (st->ops->ledger_recorded == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s has no ledger", st->ops->name);
    return st->ops->ledger_recorded(st, from_leaf, to_leaf, cb, ctx, err);
}

enum mrd_code store_lead(struct store *st, const char *role, bool *ret_leader, struct mrd_err *err)
{
    if (st->ops->lead == NULL) {
        *ret_leader = true;
        return MRD_OK;
    }
    return st->ops->lead(st, role, ret_leader, err);
}

bool store_shared(const struct store *st)
{
    return st->ops->lead != NULL;
}

enum mrd_code store_ledger_events(struct store *st, int64_t since_usec,
                                  enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    if (st->ops->ledger_events == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s has no ledger", st->ops->name);
    return st->ops->ledger_events(st, since_usec, cb, ctx, err);
}

enum mrd_code store_event_add(struct store *st, const struct store_ledger_event *ev,
                              int64_t *ret_ev, struct mrd_err *err)
{
    if (ev == NULL || ev->record == NULL || ev->record_len == 0 ||
        ev->record_len > STORE_HOLD_RECORD_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "store: an event needs a record of 1..%zu bytes",
                           STORE_HOLD_RECORD_MAX);
    if (st->ops->event_add == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s has no ledger", st->ops->name);
    return st->ops->event_add(st, ev, ret_ev, err);
}

/* ---- scheduled feeds ---- */

static enum mrd_code no_feeds(struct store *st, struct mrd_err *err)
{
    return mrd_err_set(err, MRD_E_UNSUPP, "store: the %s backend keeps no feeds", st->ops->name);
}

enum mrd_code store_feed_put(struct store *st, enum store_feed_mode mode, const char *name,
                             const char *config, const char *state, struct mrd_err *err)
{
    enum mrd_code rc = store__check_name("feed name", name, strlen(name), STORE_NAME_MAX, err);

    if (rc != MRD_OK)
        return rc;
    if ((mode != STORE_FEED_STATE && config == NULL) ||
        (mode != STORE_FEED_CONFIG && state == NULL))
        return mrd_err_set(err, MRD_E_INVAL, "feed %s: record missing", name);
    if ((config != NULL && strlen(config) > STORE_FEED_RECORD_MAX) ||
        (state != NULL && strlen(state) > STORE_FEED_RECORD_MAX))
        return mrd_err_set(err, MRD_E_TOOBIG, "feed %s: record larger than %zu bytes", name,
                           STORE_FEED_RECORD_MAX);
    if (st->ops->feed_put == NULL)
        return no_feeds(st, err);
    return st->ops->feed_put(st, mode, name, config, state, err);
}

enum mrd_code store_feed_list(struct store *st, const char *name,
                              enum mrd_code (*cb)(void *ctx, const struct store_feed *f,
                                                  struct mrd_err *err),
                              void *ctx, struct mrd_err *err)
{
    if (st->ops->feed_list == NULL)
        return no_feeds(st, err);
    return st->ops->feed_list(st, name, cb, ctx, err);
}

enum mrd_code store_feed_remove(struct store *st, const char *name, struct mrd_err *err)
{
    if (st->ops->feed_remove == NULL)
        return no_feeds(st, err);
    return st->ops->feed_remove(st, name, err);
}

enum mrd_code store_feed_items_set(struct store *st, const char *name, const char *const *ids,
                                   size_t n, struct mrd_err *err)
{
    if (n > STORE_FEED_MAX_ITEMS)
        return mrd_err_set(err, MRD_E_TOOBIG, "feed %s: more than %d ids to remember", name,
                           STORE_FEED_MAX_ITEMS);
    if (st->ops->feed_items_set == NULL)
        return no_feeds(st, err);
    return st->ops->feed_items_set(st, name, ids, n, err);
}

enum mrd_code store_feed_items(struct store *st, const char *name,
                               enum mrd_code (*cb)(void *ctx, const char *id, size_t len,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err)
{
    if (st->ops->feed_items == NULL)
        return no_feeds(st, err);
    return st->ops->feed_items(st, name, cb, ctx, err);
}

enum mrd_code store_agg_query(struct store *st, const struct store_agg_query *q,
                              struct mrd_err *err)
{
    if (q == NULL || q->readable == NULL || q->top > STORE_AGG_TOP_MAX ||
        q->n_ids > STORE_AGG_IDS_MAX || (q->n_ids > 0 && (q->ids == NULL || q->sighted == NULL)) ||
        (q->top > 0 && q->top_cb == NULL))
        return mrd_err_set(err, MRD_E_INVAL, "store: bad aggregate query");
    if (st->ops->agg_query == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no aggregates", st->ops->name);
    return st->ops->agg_query(st, q, err);
}

enum mrd_code store_objects_newest(struct store *st, const struct store_newest *q,
                                   struct mrd_err *err)
{
    if (q == NULL || q->type == NULL || q->limit == 0 || q->visible == NULL || q->emit == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "store: bad newest-objects query");
    if (st->ops->objects_newest == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no newest-objects query", st->ops->name);
    return st->ops->objects_newest(st, q, err);
}

enum mrd_code store_sent_record(struct store *st, const char *dest, const int64_t *seqs, size_t n,
                                int64_t at_usec, struct mrd_err *err)
{
    if (dest == NULL || dest[0] == '\0' || strlen(dest) > STORE_NAME_MAX || n > STORE_SENT_MAX ||
        (n > 0 && seqs == NULL))
        return mrd_err_set(err, MRD_E_INVAL, "store: bad sent record");
    if (n == 0)
        return MRD_OK;
    if (st->ops->sent_record == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no aggregates", st->ops->name);
    return st->ops->sent_record(st, dest, seqs, n, at_usec, err);
}

/* ---- the access audit ---- */

static bool read_who_ok(const struct store_read_who *w)
{
    return w != NULL && w->org != NULL && w->org[0] != '\0' && strlen(w->org) <= STORE_NAME_MAX &&
           w->token != NULL && w->token[0] != '\0' && strlen(w->token) <= STORE_READ_WHO_MAX &&
           w->path != NULL && w->path[0] != '\0' && strlen(w->path) <= STORE_READ_PATH_MAX;
}

size_t store_read_item_next(const char *p, size_t len, struct store_read_row *r)
{
    size_t i = 0, digits = 0, start;
    bool neg = false;
    uint64_t u = 0;

    if (i < len && p[i] == '-') {
        neg = true;
        i++;
    }
    for (; i < len && p[i] >= '0' && p[i] <= '9' && digits < 19; i++, digits++)
        u = u * 10 + (uint64_t)(p[i] - '0');
    if (digits == 0 || u > (uint64_t)INT64_MAX || i + 4 > len || p[i] != ' ' || p[i + 1] < '0' ||
        p[i + 1] > '9' || p[i + 2] != ' ')
        return 0;
    r->version_usec = neg ? -(int64_t)u : (int64_t)u;
    r->tlp = p[i + 1] - '0';
    start = i + 3;
    for (i = start; i < len && p[i] != '\n'; i++)
        if ((unsigned char)p[i] <= ' ' || i - start >= STORE_STIX_ID_MAX)
            return 0;
    if (i == len || i == start)
        return 0;
    r->object_id = p + start;
    r->object_id_len = i - start;
    return i + 1;
}

enum mrd_code store_reads_record(struct store *st, const struct store_read_batch *b, size_t nb,
                                 struct mrd_err *err)
{
    for (size_t i = 0; i < nb; i++)
        if (!read_who_ok(&b[i].who) || b[i].n == 0 || b[i].n > STORE_READS_MAX ||
            b[i].packed == NULL ||
            b[i].packed_len > (size_t)STORE_READS_MAX * STORE_READ_PACKED_MAX ||
            store_read_unpack_count(b[i].packed, b[i].packed_len) != b[i].n)
            return mrd_err_set(err, MRD_E_INVAL, "store: bad access audit record");
    if (nb == 0)
        return MRD_OK;
    if (st->ops->reads_record == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no access audit", st->ops->name);
    return st->ops->reads_record(st, b, nb, err);
}

enum mrd_code store_reads_list(struct store *st, const struct store_read_filter *f,
                               enum mrd_code (*cb)(void *ctx, const struct store_read_row *r,
                                                   struct mrd_err *err),
                               void *ctx, bool *ret_more, struct mrd_err *err)
{
    if (f == NULL || cb == NULL || f->limit == 0 || f->limit > STORE_READS_LIST_MAX)
        return mrd_err_set(err, MRD_E_INVAL, "store: bad access audit query");
    if (st->ops->reads_list == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no access audit", st->ops->name);
    return st->ops->reads_list(st, f, cb, ctx, ret_more, err);
}

enum mrd_code store_reads_seal(struct store *st, struct store_read_digest *d,
                               const struct store_ledger_event *ev, struct mrd_err *err)
{
    if (d == NULL || ev == NULL || d->first < 1 || d->last < d->first || d->count == 0)
        return mrd_err_set(err, MRD_E_INVAL, "store: bad access audit digest");
    if (st->ops->reads_seal == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no access audit", st->ops->name);
    return st->ops->reads_seal(st, d, ev, err);
}

enum mrd_code store_reads_digests(struct store *st,
                                  enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    if (cb == NULL)
        return mrd_err_set(err, MRD_E_INVAL, "store: bad access audit query");
    if (st->ops->reads_digests == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no access audit", st->ops->name);
    return st->ops->reads_digests(st, cb, ctx, err);
}

enum mrd_code store_reads_prune(struct store *st, int64_t before_usec, int64_t now_usec,
                                uint64_t *ret_rows, struct mrd_err *err)
{
    if (ret_rows != NULL)
        *ret_rows = 0;
    if (st->ops->reads_prune == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "store: %s: no access audit", st->ops->name);
    return st->ops->reads_prune(st, before_usec, now_usec, ret_rows, err);
}

/* ---- constituency assets and notifications ---- */

enum mrd_code store_asset_add(struct store *st, struct store_asset *a, struct mrd_err *err)
{
    if (a->org <= 0 || a->text[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "asset: no org or no asset");
    if (st->ops->asset_add == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "asset: not supported by this store");
    return st->ops->asset_add(st, a, err);
}

enum mrd_code store_asset_set(struct store *st, int64_t id, int64_t org, int status,
                              struct store_asset *ret, struct mrd_err *err)
{
    if (status != STORE_ASSET_ACTIVE && status != STORE_ASSET_REMOVED)
        return mrd_err_set(err, MRD_E_INVAL, "asset: can only approve or remove");
    if (st->ops->asset_set == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "asset: not supported by this store");
    return st->ops->asset_set(st, id, org, status, ret, err);
}

enum mrd_code store_assets_list(struct store *st, int64_t org,
                                enum mrd_code (*cb)(void *ctx, const struct store_asset *a,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err)
{
    if (st->ops->assets_list == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "asset: not supported by this store");
    return st->ops->assets_list(st, org, cb, ctx, err);
}

enum mrd_code store_notifications_add(struct store *st, struct store_notification *n, size_t count,
                                      int64_t squelch_usec, int64_t cursor_seq, struct mrd_err *err)
{
    if (count > STORE_NOTIFY_BATCH_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "notifications: more than %d in one batch",
                           STORE_NOTIFY_BATCH_MAX);
    if (st->ops->notifications_add == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "notifications: not supported by this store");
    return st->ops->notifications_add(st, n, count, squelch_usec, cursor_seq, err);
}

enum mrd_code store_notifications_list(
    struct store *st, int64_t org, int64_t after_id, size_t limit,
    enum mrd_code (*cb)(void *ctx, const struct store_notification *n, struct mrd_err *err),
    void *ctx, struct mrd_err *err)
{
    if (limit == 0 || limit > STORE_NOTIFY_LIST_MAX)
        limit = STORE_NOTIFY_LIST_MAX;
    if (st->ops->notifications_list == NULL)
        return mrd_err_set(err, MRD_E_UNSUPP, "notifications: not supported by this store");
    return st->ops->notifications_list(st, org, after_id, limit, cb, ctx, err);
}

/* ---- early-warning delivery ---- */

#define DELIVERY_OP(op, what)                                                                      \
    do {                                                                                           \
        if (st->ops->op == NULL)                                                                   \
            return mrd_err_set(err, MRD_E_UNSUPP, what ": not supported by this store");           \
    } while (0)

enum mrd_code store_contact_add(struct store *st, struct store_contact *c, struct mrd_err *err)
{
    if (c->org <= 0 || c->address[0] == '\0')
        return mrd_err_set(err, MRD_E_INVAL, "contact: no org or no address");
    if (c->pgp_key != NULL && strlen(c->pgp_key) > STORE_CONTACT_KEY_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "contact: OpenPGP key above %zu bytes",
                           STORE_CONTACT_KEY_MAX);
    DELIVERY_OP(contact_add, "contact");
    return st->ops->contact_add(st, c, err);
}

enum mrd_code store_contact_remove(struct store *st, int64_t id, int64_t org,
                                   struct store_contact *ret, struct mrd_err *err)
{
    DELIVERY_OP(contact_remove, "contact");
    return st->ops->contact_remove(st, id, org, ret, err);
}

enum mrd_code store_contacts_list(struct store *st, int64_t org,
                                  enum mrd_code (*cb)(void *ctx, const struct store_contact *c,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err)
{
    DELIVERY_OP(contacts_list, "contact");
    return st->ops->contacts_list(st, org, cb, ctx, err);
}

enum mrd_code store_deliveries_enqueue(struct store *st, const struct store_delivery_plan *p,
                                       size_t n, int64_t from_cursor, int64_t cursor_id,
                                       struct mrd_err *err)
{
    if (n > STORE_DELIVERY_PLAN_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "deliveries: more than %d in one batch",
                           STORE_DELIVERY_PLAN_MAX);
    DELIVERY_OP(deliveries_enqueue, "deliveries");
    return st->ops->deliveries_enqueue(st, p, n, from_cursor, cursor_id, err);
}

enum mrd_code store_deliveries_list(struct store *st, const struct store_delivery_filter *f,
                                    enum mrd_code (*cb)(void *ctx, const struct store_delivery *d,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err)
{
    struct store_delivery_filter g = *f;

    if (g.limit == 0 || g.limit > STORE_NOTIFY_LIST_MAX)
        g.limit = STORE_NOTIFY_LIST_MAX;
    DELIVERY_OP(deliveries_list, "deliveries");
    return st->ops->deliveries_list(st, &g, cb, ctx, err);
}

enum mrd_code store_delivery_items(struct store *st, int64_t delivery,
                                   enum mrd_code (*cb)(void *ctx,
                                                       const struct store_notification *n,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err)
{
    DELIVERY_OP(delivery_items, "deliveries");
    return st->ops->delivery_items(st, delivery, cb, ctx, err);
}

enum mrd_code store_delivery_update(struct store *st, const struct store_delivery *d,
                                    struct mrd_err *err)
{
    DELIVERY_OP(delivery_update, "deliveries");
    return st->ops->delivery_update(st, d, err);
}

enum mrd_code store_delivery_attempts(struct store *st, int64_t delivery,
                                      enum mrd_code (*cb)(void *ctx,
                                                          const struct store_delivery_attempt *a,
                                                          struct mrd_err *err),
                                      void *ctx, struct mrd_err *err)
{
    DELIVERY_OP(delivery_attempts, "deliveries");
    return st->ops->delivery_attempts(st, delivery, cb, ctx, err);
}

void store_policy_keep(const struct policy_object *src, struct store_policy_kept *dst)
{
    size_t n = src->n_recipients < STORE_RECIPIENTS_MAX ? src->n_recipients : STORE_RECIPIENTS_MAX;

    dst->po = *src;
    (void)snprintf(dst->community, sizeof(dst->community), "%.*s", (int)src->community_len,
                   src->community != NULL ? src->community : "");
    dst->po.community = dst->community;
    dst->po.community_len = strlen(dst->community);
    if (n > 0)
        memcpy(dst->recipients, src->recipients, n * sizeof(int64_t));
    dst->po.recipients = n > 0 ? dst->recipients : NULL;
    dst->po.n_recipients = n;
}
