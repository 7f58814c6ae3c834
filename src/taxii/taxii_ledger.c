/*
 * taxii_ledger.c: the ledger's HTTP routes beside the TAXII API
 * (docs/ledger.md, "HTTP"). Every route needs a token.
 *
 *   GET  /ledger/v1/checkpoint            the latest signed checkpoint (text)
 *   GET  /ledger/v1/proof/inclusion?hash=B64&tree_size=N
 *   GET  /ledger/v1/proof/consistency?first=N&second=N
 *   GET  /ledger/v1/leaves?start=N&end=N  (own org only)
 *   POST /ledger/v1/checkpoint            sign one now (own org only)
 *
 * Leaves carry hashes of every stored object version, and the bytes of
 * some objects can be guessed (an SCO's id derives from its value), so the
 * routes never become an oracle for what a requester may not read: an
 * inclusion proof for an object leaf is given only to a requester who may
 * read that object version (the same decision as GET object), leaves are
 * listed only to the node's own org, and "no such leaf" and "not yours"
 * are the same 404.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/str.h"
#include "ledger/sync.h"
#include "taxii/taxii_int.h"

#define LEDGER_PREFIX "/ledger/v1/"
#define LEAVES_MAX 1000 /* leaves per /leaves answer */

bool taxii_ledger_path(const char *path)
{
    return strncmp(path, LEDGER_PREFIX, strlen(LEDGER_PREFIX)) == 0;
}

static json_t *b64(const uint8_t *h, size_t n)
{
    char out[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN * 2, sodium_base64_VARIANT_ORIGINAL)];

    if (n > MERKLE_HASH_LEN * 2)
        return NULL;
    sodium_bin2base64(out, sizeof(out), h, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string(out);
}

/* A proof of n hashes as a JSON array of base64 strings. */
static json_t *proof_array(const uint8_t *proof, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        (void)json_array_append_new(a, b64(proof + i * MERKLE_HASH_LEN, MERKLE_HASH_LEN));
    return a;
}

static void answer_json(struct taxii_req *r, json_t *v)
{
    taxii_json(r, 200, v);
    r->resp->content_type = "application/json";
}

/* The value of query argument name; NULL when absent. A repeated argument
 * is a 400 (ret_bad). */
static const char *arg(struct taxii_req *r, const char *name, bool *ret_bad)
{
    struct http_kv *args = NULL;
    const char *v = NULL;
    size_t n = 0;

    if (http_request_args(r->http, &args, &n, NULL) != MRD_OK) {
        *ret_bad = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(args[i].key, name) == 0) {
            if (v != NULL)
                *ret_bad = true;
            v = args[i].value != NULL ? args[i].value : "";
        }
    return v;
}

static bool u64_arg(struct taxii_req *r, const char *name, uint64_t *ret)
{
    bool bad = false;
    const char *v = arg(r, name, &bad);
    char msg[128];

    if (!bad && v != NULL && mrd_str_to_u64(v, strlen(v), UINT64_MAX, ret, NULL) == MRD_OK)
        return true;
    (void)snprintf(msg, sizeof(msg), "'%s' must be given once, as an unsigned decimal number",
                   name);
    taxii_error(r, 400, "Bad request", msg);
    return false;
}

static bool is_own(const struct taxii_req *r)
{
    return r->who.tok.org_relation == POLICY_REL_OWN;
}

static void get_checkpoint(struct taxii_req *r, struct ledger *log)
{
    struct mrd_err err = {0};

    mrd_buf_reset(&r->resp->body);
    if (ledger_checkpoint_read(log, &r->resp->body, &err) != MRD_OK) {
        if (err.code == MRD_E_NOTFOUND)
            taxii_error(r, 404, "Not found", "the node has not signed a checkpoint yet");
        else
            taxii_internal(r, &err);
        return;
    }
    r->resp->status = 200;
    r->resp->content_type = "text/plain; charset=utf-8";
}

static void post_checkpoint(struct taxii_req *r, struct ledger_service *svc)
{
    struct mrd_err err = {0};

    if (!is_own(r)) {
        taxii_error(r, 403, "Forbidden", "only the node's own org may request a checkpoint");
        return;
    }
    mrd_buf_reset(&r->resp->body);
    if (ledger_service_checkpoint(svc, &r->resp->body, &err) != MRD_OK) {
        taxii_internal(r, &err);
        return;
    }
    r->resp->status = 200;
    r->resp->content_type = "text/plain; charset=utf-8";
}

/* What the inclusion check needs from the object a leaf records. */
struct leaf_obj {
    bool found;
    int64_t collection;
    struct store_policy_kept policy;
};

static enum mrd_code leaf_obj_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct leaf_obj *lo = ctx;

    (void)err;
    if (lo->found)
        return MRD_OK;
    lo->found = true;
    lo->collection = o->collection;
    store_policy_keep(&o->row->policy, &lo->policy);
    return MRD_OK;
}

/* May this requester learn that leaf index exists? The own org may; others
 * only for an object version they may read. */
static bool leaf_visible(struct taxii_req *r, uint64_t index, struct mrd_err *err, bool *ret_ok)
{
    struct store_find f = {.version_usec = STORE_TIME_NONE, .leaf = (int64_t)index};
    struct leaf_obj lo;
    struct store_grant g = {0};
    struct policy_reader rd;

    *ret_ok = false;
    if (is_own(r)) {
        *ret_ok = true;
        return true;
    }
    memset(&lo, 0, sizeof(lo));
    if (store_objects_find(r->ts->st, &f, leaf_obj_cb, &lo, err) != MRD_OK)
        return false;
    if (!lo.found)
        return true; /* deleted since, or a preservation action */
    if (store_grant_get(r->ts->st, r->who.tok.org_key, lo.collection, &g, err) != MRD_OK)
        return false;
    memset(&rd, 0, sizeof(rd));
    rd.org_id = r->who.tok.org_key;
    rd.relation = r->who.tok.org_relation;
    rd.has_read_grant = g.can_read;
    rd.community = lo.policy.community;
    rd.community_len = strlen(lo.policy.community);
    *ret_ok = g.can_read && policy_may_read(&rd, &lo.policy.po);
    return true;
}

static void get_inclusion(struct taxii_req *r, struct ledger *log)
{
    uint8_t h[MERKLE_HASH_LEN], proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    uint64_t size, index = 0;
    size_t plen = 0, hl = 0;
    const char *v, *end = NULL;
    bool bad = false, ok = false;
    struct mrd_err err = {0};
    json_t *o, *path;

    if (!u64_arg(r, "tree_size", &size))
        return;
    v = arg(r, "hash", &bad);
    if (bad || v == NULL ||
        sodium_base642bin(h, sizeof(h), v, strlen(v), NULL, &hl, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *end != '\0' || hl != MERKLE_HASH_LEN) {
        taxii_error(r, 400, "Bad request",
                    "'hash' must be given once: the leaf hash (RFC 9162 §2.1.1), 32 bytes in "
                    "standard base64");
        return;
    }
    if (size == 0 || size > ledger_size(log)) {
        taxii_error(r, 400, "Bad request", "'tree_size' must be 1..the size of the tree");
        return;
    }
    if (ledger_find_leaf(log, h, size, &index, &err) != MRD_OK) {
        taxii_error(r, 404, "Not found", "no leaf with that hash in the tree of that size");
        return;
    }
    if (!leaf_visible(r, index, &err, &ok)) {
        taxii_internal(r, &err);
        return;
    }
    if (!ok) {
        taxii_error(r, 404, "Not found", "no leaf with that hash in the tree of that size");
        return;
    }
    if (ledger_prove_inclusion(log, index, size, proof, &plen, &err) != MRD_OK) {
        taxii_internal(r, &err);
        return;
    }
    o = json_object();
    path = proof_array(proof, plen);
    (void)json_object_set_new(o, "leaf_index", json_integer((json_int_t)index));
    (void)json_object_set_new(o, "tree_size", json_integer((json_int_t)size));
    (void)json_object_set_new(o, "audit_path", path);
    answer_json(r, o);
}

static void get_consistency(struct taxii_req *r, struct ledger *log)
{
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    uint64_t first, second;
    size_t plen = 0;
    struct mrd_err err = {0};
    json_t *o, *path;

    if (!u64_arg(r, "first", &first) || !u64_arg(r, "second", &second))
        return;
    if (first == 0 || first > second || second > ledger_size(log)) {
        taxii_error(r, 400, "Bad request",
                    "need 0 < first <= second <= the size of the tree (RFC 9162 §2.1.4)");
        return;
    }
    if (ledger_prove_consistency(log, first, second, proof, &plen, &err) != MRD_OK) {
        taxii_internal(r, &err);
        return;
    }
    o = json_object();
    path = proof_array(proof, plen);
    (void)json_object_set_new(o, "first", json_integer((json_int_t)first));
    (void)json_object_set_new(o, "second", json_integer((json_int_t)second));
    (void)json_object_set_new(o, "consistency", path);
    answer_json(r, o);
}

static void get_leaves(struct taxii_req *r, struct ledger *log)
{
    uint64_t start, end, size = ledger_size(log);
    struct mrd_err err = {0};
    json_t *o, *arr;

    if (!is_own(r)) {
        taxii_error(r, 403, "Forbidden", "only the node's own org may list leaves");
        return;
    }
    if (!u64_arg(r, "start", &start) || !u64_arg(r, "end", &end))
        return;
    if (start > end || end >= size) {
        taxii_error(r, 400, "Bad request", "need start <= end < the size of the tree (inclusive)");
        return;
    }
    if (end - start >= LEAVES_MAX)
        end = start + LEAVES_MAX - 1;
    o = json_object();
    arr = json_array();
    for (uint64_t i = start; i <= end; i++) {
        struct ledger_entry e;
        uint8_t enc[LEDGER_ENTRY_LEN], lh[MERKLE_HASH_LEN];
        json_t *leaf;

        if (ledger_entry_get(log, i, &e, &err) != MRD_OK) {
            json_decref(arr);
            json_decref(o);
            taxii_internal(r, &err);
            return;
        }
        ledger_entry_encode(&e, enc);
        ledger_entry_leaf_hash(&e, lh);
        leaf = json_object();
        (void)json_object_set_new(leaf, "index", json_integer((json_int_t)i));
        (void)json_object_set_new(
            leaf, "kind",
            json_string(ledger_kind_name(e.kind) != NULL ? ledger_kind_name(e.kind) : "unknown"));
        (void)json_object_set_new(leaf, "time_ms", json_integer((json_int_t)e.time_ms));
        (void)json_object_set_new(leaf, "hash", b64(e.hash, MERKLE_HASH_LEN));
        (void)json_object_set_new(leaf, "leaf_input", b64(enc, LEDGER_ENTRY_LEN));
        (void)json_object_set_new(leaf, "leaf_hash", b64(lh, MERKLE_HASH_LEN));
        (void)json_array_append_new(arr, leaf);
    }
    (void)json_object_set_new(o, "tree_size", json_integer((json_int_t)size));
    (void)json_object_set_new(o, "leaves", arr);
    answer_json(r, o);
}

void taxii_ledger_handle(struct taxii_req *r)
{
    const char *p = r->http->path + strlen(LEDGER_PREFIX);
    const char *m = r->http->method;
    struct ledger_service *svc = r->ts->ledger;
    bool get = strcmp(m, "GET") == 0;

    if (r->who.anonymous) {
        taxii_error(r, 401, "Authentication required", "the ledger needs an API token");
        return;
    }
    if (svc == NULL) {
        taxii_error(r, 404, "Not found", "this node serves no ledger");
        return;
    }
    if (strcmp(p, "checkpoint") == 0 && strcmp(m, "POST") == 0)
        post_checkpoint(r, svc);
    else if (strcmp(p, "checkpoint") != 0 && strcmp(p, "proof/inclusion") != 0 &&
             strcmp(p, "proof/consistency") != 0 && strcmp(p, "leaves") != 0)
        taxii_error(r, 404, "Not found", "no ledger endpoint at this path");
    else if (!get) {
        taxii_error(r, 405, "Method not allowed", "see the Allow header");
        (void)http_response_header(r->resp, "Allow",
                                   strcmp(p, "checkpoint") == 0 ? "GET, POST" : "GET");
    } else if (strcmp(p, "checkpoint") == 0)
        get_checkpoint(r, ledger_service_log(svc));
    else if (strcmp(p, "proof/inclusion") == 0)
        get_inclusion(r, ledger_service_log(svc));
    else if (strcmp(p, "proof/consistency") == 0)
        get_consistency(r, ledger_service_log(svc));
    else
        get_leaves(r, ledger_service_log(svc));
}
