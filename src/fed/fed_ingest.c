/*
 * The node key, the keyring of trusted keys and THE ingest check that
 * every write path calls (docs/design.md §6).
 *
 * Signing happens once, where an object is created; afterwards the bytes
 * never change (the store keeps the canonical form, relays forward it as
 * stored), so a node three hops away verifies the original author. A bad
 * signature is rejected whoever claims to have signed: a mismatch proves
 * the bytes changed after signing.
 */
#include "fed/fed_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"

enum mrd_code fed_node_key_ensure(const char *data_dir, struct mrd_err *err)
{
    char path[PATH_MAX];
    struct crypto_key *k = NULL;
    enum mrd_code rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir, FED_NODE_KEY_FILE) >= sizeof(path))
        return mrd_err_set(err, MRD_E_INVAL, "%s: path too long", data_dir);
    rc = crypto_key_load(path, &k, NULL);
    if (rc == MRD_OK) {
        crypto_key_free(k);
        return MRD_OK;
    }
    rc = crypto_key_generate(&k, err);
    if (rc == MRD_OK)
        rc = crypto_key_save(k, path, err);
    crypto_key_free(k);
    return rc;
}

static enum mrd_code add_peer_key(void *ctx, const struct fed_peer *p,
                                  const struct fed_peer_state *s)
{
    struct crypto_keyring *kr = ctx;
    uint8_t pk[CRYPTO_PUBKEY_LEN];

    (void)s;
    if (p->pubkey[0] == '\0' ||
        crypto_pubkey_parse(p->pubkey, strlen(p->pubkey), pk, NULL) != MRD_OK)
        return MRD_OK; /* checked when the peer was added; skip, never fail the node */
    return crypto_keyring_add(kr, pk, p->name, strlen(p->name), NULL);
}

static enum mrd_code add_trusted(void *ctx, const char *name, const char *pubkey)
{
    uint8_t pk[CRYPTO_PUBKEY_LEN];

    if (name == NULL || pubkey == NULL ||
        crypto_pubkey_parse(pubkey, strlen(pubkey), pk, NULL) != MRD_OK)
        return MRD_OK;
    return crypto_keyring_add(ctx, pk, name, strlen(name), NULL);
}

/* What the policy file looked like when it was last read. The rule verbs
 * rename a new file into place, so a change shows in the inode at least;
 * an edit in place shows in the size or the times (nanoseconds). */
struct fed_privacy_stamp {
    int sys_errno; /* 0: the file exists */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct fed_privacy_file {
    char dir[PATH_MAX];
    char path[PATH_MAX];
    struct fed_privacy_stamp seen;
};

static struct fed_privacy_stamp privacy_stamp(const char *path)
{
    struct fed_privacy_stamp s = {0};
    struct stat sb;

    if (stat(path, &sb) != 0) {
        s.sys_errno = errno != 0 ? errno : EIO;
        return s;
    }
    s.dev = sb.st_dev;
    s.ino = sb.st_ino;
    s.size = sb.st_size;
    s.mtime = sb.st_mtim;
    s.ctime = sb.st_ctim;
    return s;
}

static bool stamp_same(const struct fed_privacy_stamp *a, const struct fed_privacy_stamp *b)
{
    return a->sys_errno == b->sys_errno && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
           a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* privacy_live's source: the file again when it changed since last read.
 * The stamp is taken before the file is read, so a change racing the read
 * is seen by the next get; a file that fails is reported once, not on
 * every read, and the policy in force stays (privacy_live_get). */
static enum mrd_code privacy_reload(void *ctx, struct privacy_policy **ret_new, struct mrd_err *err)
{
    struct fed_privacy_file *f = ctx;
    struct fed_privacy_stamp now = privacy_stamp(f->path);

    *ret_new = NULL;
    if (stamp_same(&now, &f->seen))
        return MRD_OK;
    f->seen = now;
    return fed_privacy_load(f->dir, ret_new, err);
}

static enum mrd_code privacy_open(const char *data_dir, struct fed_trust *t, struct mrd_err *err)
{
    struct privacy_policy *p = NULL;
    struct privacy_live_source src = {.reload = privacy_reload, .check_ms = PRIVACY_LIVE_CHECK_MS};
    struct fed_privacy_file *f = mrd_calloc(1, sizeof(*f));
    enum mrd_code rc;

    if (f == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "privacy policy: out of memory");
    t->privacy_file = f;
    if ((size_t)snprintf(f->dir, sizeof(f->dir), "%s", data_dir) >= sizeof(f->dir) ||
        (size_t)snprintf(f->path, sizeof(f->path), "%s/%s", data_dir, PRIVACY_POLICY_FILE) >=
            sizeof(f->path))
        return mrd_err_set(err, MRD_E_INVAL, "%s: path too long", data_dir);
    f->seen = privacy_stamp(f->path);
    rc = fed_privacy_load(data_dir, &p, err);
    src.ctx = f;
    if (rc == MRD_OK)
        rc = privacy_live_new(p, &src, &t->privacy, err);
    return rc;
}

enum mrd_code fed_trust_load(const char *data_dir, struct fed_trust **ret, struct mrd_err *err)
{
    char path[PATH_MAX];
    struct fed_trust *t = NULL;
    struct fed_state *fs = NULL;
    enum mrd_code rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir, FED_NODE_KEY_FILE) >= sizeof(path))
        return mrd_err_set(err, MRD_E_INVAL, "%s: path too long", data_dir);
    t = mrd_calloc(1, sizeof(*t));
    if (t == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "trust");
    rc = crypto_keyring_new(&t->keyring, err);
    if (rc != MRD_OK)
        goto out;
    rc = crypto_key_load(path, &t->node_key, err);
    if (rc == MRD_E_NOTFOUND) {
        mrd_err_clear(err); /* a node without a key signs nothing */
        rc = MRD_OK;
    } else if (rc == MRD_OK) {
        rc = crypto_keyring_add(t->keyring, crypto_key_public(t->node_key), "self", 4, err);
    }
    if (rc != MRD_OK)
        goto out;
    rc = privacy_open(data_dir, t, err);
    if (rc == MRD_OK)
        rc = fed_state_open(data_dir, &fs, err);
    if (rc == MRD_OK)
        rc = fed_peer_list(fs, add_peer_key, t->keyring, err);
    if (rc == MRD_OK)
        rc = fed_key_list(fs, add_trusted, t->keyring, err);
    if (rc != MRD_OK)
        goto out;
    *ret = t;
    t = NULL;
out:
    fed_state_close(fs);
    fed_trust_free(t);
    return rc;
}

enum mrd_code fed_privacy_load(const char *data_dir, struct privacy_policy **ret,
                               struct mrd_err *err)
{
    char path[PATH_MAX];
    struct mrd_buf text;
    struct mrd_err ferr = {0};
    enum mrd_code rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir, PRIVACY_POLICY_FILE) >=
        sizeof(path))
        return mrd_err_set(err, MRD_E_INVAL, "%s: path too long", data_dir);
    mrd_buf_init(&text, PRIVACY_POLICY_MAX_BYTES);
    rc = mrd_buf_read_file(&text, path, &ferr);
    if (rc == MRD_E_IO && ferr.sys_errno == ENOENT) {
        rc = privacy_policy_parse(NULL, 0, ret, err);
    } else if (rc != MRD_OK) {
        rc = mrd_err_set(err, rc, "%s", ferr.msg);
    } else {
        rc = privacy_policy_parse(text.data != NULL ? text.data : "", text.len, ret, err);
        if (rc != MRD_OK)
            mrd_err_prefix(err, "%s: ", path);
    }
    mrd_buf_release(&text);
    return rc;
}

void fed_trust_on_privacy_error(struct fed_trust *t,
                                void (*cb)(void *ctx, const struct mrd_err *err), void *ctx)
{
    if (t != NULL && t->privacy != NULL)
        privacy_live_on_error(t->privacy, cb, ctx);
}

void fed_trust_free(struct fed_trust *t)
{
    if (t == NULL)
        return;
    crypto_key_free(t->node_key);
    crypto_keyring_free(t->keyring);
    privacy_live_free(t->privacy);
    mrd_free(t->privacy_file);
    mrd_free(t);
}

/* The verdict on obj and whether the node key is to sign it: an unsigned
 * object created here, on a node that has a key. */
static enum mrd_code ingest_decide(const struct fed_trust *t, const json_t *obj,
                                   enum fed_ingest_origin origin, struct fed_ingest_result *ret,
                                   bool *ret_sign, struct mrd_err *err)
{
    struct crypto_verify_result vr;
    enum mrd_code rc;

    memset(ret, 0, sizeof(*ret));
    *ret_sign = false;
    rc = crypto_object_verify(obj, t != NULL ? t->keyring : NULL, &vr, err);
    if (rc != MRD_OK)
        return rc;
    ret->verdict = vr.verdict;
    if (vr.verdict != CRYPTO_INVALID && vr.has_signer)
        crypto_pubkey_format(vr.signer, ret->signer);
    if (vr.verdict == CRYPTO_INVALID) {
        ret->reject = true;
        (void)snprintf(ret->message, sizeof(ret->message), "rejected: %s (Meridian signature, %s)",
                       vr.reason, CRYPTO_SIG_EXT_ID);
    } else if (vr.verdict == CRYPTO_UNSIGNED && origin == FED_ORIGIN_LOCAL && t != NULL &&
               t->node_key != NULL) {
        *ret_sign = true;
    }
    return MRD_OK;
}

/* Whether an object this node signs gets the selective-disclosure block
 * too (privacy_may_minimise): only when minimisation could change it. */
static bool wants_sd(const struct fed_trust *t, const json_t *obj)
{
    struct privacy_policy *p;
    bool yes;

    if (t->privacy == NULL)
        return true;
    p = privacy_live_get(t->privacy); /* the policy in force now (hot reload) */
    yes = privacy_may_minimise(p, obj);
    privacy_policy_free(p);
    return yes;
}

enum mrd_code fed_ingest_check(const struct fed_trust *t, json_t *obj,
                               enum fed_ingest_origin origin, struct fed_ingest_result *ret,
                               struct mrd_err *err)
{
    struct fed_ingest_result r;
    bool sign;
    enum mrd_code rc;

    rc = ingest_decide(t, obj, origin, &r, &sign, err);
    if (rc == MRD_OK && sign) {
        if (wants_sd(t, obj))
            rc = crypto_object_sd_sign(obj, t->node_key, err);
        if (rc == MRD_OK)
            rc = crypto_object_sign(obj, t->node_key, err);
        r.signed_here = true;
        r.verdict = CRYPTO_VALID;
    }
    if (rc == MRD_OK)
        *ret = r;
    return rc;
}

enum mrd_code fed_ingest_canon(const struct fed_trust *t, const json_t *obj,
                               enum fed_ingest_origin origin, enum policy_tlp dflt,
                               struct mrd_buf *out, struct fed_ingest_result *ret,
                               struct mrd_err *err)
{
    struct fed_ingest_result r;
    const json_t *id = json_object_get(obj, "id");
    enum policy_tlp canonical;
    json_t *marked = NULL;
    bool sign, write = false, here, by_us = false, fixed;
    enum mrd_code rc;

    /* obj is only read: a marking goes into a copy, and signing writes the
     * signed object's canonical form straight into out
     * (crypto_object_sign_canon), so a refused object is never half-signed. */
    rc = ingest_decide(t, obj, origin, &r, &sign, err);
    if (rc != MRD_OK || r.reject)
        goto out;
    /* The fixed TLP marking definitions (STIX 2.1 §7.2.1.4, TLP 2.0) must
     * stay byte for byte what the specification says: a signature or a
     * marking would make them something else. */
    fixed = json_is_string(id) &&
            policy_tlp_of_marking(json_string_value(id), json_string_length(id), &canonical);
    if (fixed)
        sign = false;
    /* Created here: written by an own or constituent org, and not signed by
     * another node (re-posting someone else's signed object creates
     * nothing). */
    if (r.signer[0] != '\0' && t != NULL && t->node_key != NULL) {
        char mine[CRYPTO_PUBKEY_TEXT_LEN + 1];
        crypto_pubkey_format(crypto_key_public(t->node_key), mine);
        by_us = strcmp(mine, r.signer) == 0;
    }
    here = origin == FED_ORIGIN_LOCAL && (r.verdict == CRYPTO_UNSIGNED || by_us);
    policy_tlp_ingest(obj, here, r.verdict == CRYPTO_UNSIGNED && !fixed, dflt, &r.tlp, &write);
    if (write) {
        /* policy_tlp_mark changes the top level and its marking list only:
         * those are copied, the rest is shared (a deep copy was a twentieth
         * of an import) */
        json_t *refs;
        marked = json_copy((json_t *)(uintptr_t)obj);
        refs = marked != NULL ? json_object_get(marked, "object_marking_refs") : NULL;
        if (marked == NULL ||
            (json_is_array(refs) &&
             json_object_set_new(marked, "object_marking_refs", json_copy(refs)) != 0)) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "ingest: out of memory marking an object");
            goto out;
        }
        rc = policy_tlp_mark(marked, r.tlp, err);
        if (rc != MRD_OK)
            goto out;
    }
    if (sign) {
        /* Objects created here that the privacy policy could change on
         * the way out carry both signatures: the selective-disclosure
         * block, so that minimisation can withhold properties and
         * receivers still verify the rest, and the whole-object block
         * over everything (older nodes check that). The rest carry the
         * whole-object block alone. */
        if (marked == NULL) {
            marked = json_deep_copy(obj);
            if (marked == NULL) {
                rc = mrd_err_set(err, MRD_E_NOMEM, "ingest: out of memory signing an object");
                goto out;
            }
        }
        if (wants_sd(t, marked)) {
            rc = crypto_object_sd_sign(marked, t->node_key, err);
            if (rc != MRD_OK)
                goto out;
        }
        rc = crypto_object_sign_canon(marked, t->node_key, out, err);
        r.signed_here = true;
        r.verdict = CRYPTO_VALID;
        crypto_pubkey_format(crypto_key_public(t->node_key), r.signer);
    } else {
        rc = mrd_jcs_write(marked != NULL ? marked : obj, out, err);
    }
out:
    json_decref(marked);
    if (rc == MRD_OK)
        *ret = r;
    return rc;
}

bool fed_trust_knows(void *ctx, const char *key, size_t len)
{
    const struct fed_trust *t = ctx;
    uint8_t pk[CRYPTO_PUBKEY_LEN];

    return t != NULL && crypto_pubkey_parse(key, len, pk, NULL) == MRD_OK &&
           crypto_keyring_find(t->keyring, pk) != NULL;
}

bool fed_same_content(const char *stored, size_t stored_len, const char *body, size_t body_len)
{
    return crypto_object_same_content(stored, stored_len, body, body_len);
}

const char *fed_verification_of(const struct fed_trust *t, const json_t *obj)
{
    struct crypto_verify_result vr;

    if (crypto_object_verify(obj, t != NULL ? t->keyring : NULL, &vr, NULL) != MRD_OK)
        return "invalid";
    return crypto_verdict_str(vr.verdict);
}
