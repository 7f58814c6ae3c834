/*
 * cli_ledger.c: `meridian ledger ...`, the tamper-evident log's verbs.
 *
 * verify-proof needs no data directory: it checks RFC 9162 proofs given on
 * the command line, so anyone holding a checkpoint can audit the node.
 * Exit codes: 0 valid, 1 invalid (the reason on stderr), 2 usage or I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "crypto/crypto.h"
#include "fed/fed.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/sync.h"
#include "store/store.h"

#define VERB "ledger"
/* Longest base64 argument we decode (a hash is 44 characters; roots from
 * other logs may be other hashes, so leave room). */
#define B64_ARG_MAX 1024

/* One parsed `--name value` list: at most this many options per command. */
#define MAX_OPTS 16

struct opts {
    const char *name[MAX_OPTS];
    const char *value[MAX_OPTS];
    size_t n;
};

/* Splits argv into --name value pairs, checking names against allowed (a
 * NULL-terminated list). --proof may repeat; other names may not. */
static int opts_parse(int argc, char **argv, const char *const *allowed, struct opts *o)
{
    o->n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t k;

        if (strncmp(a, "--", 2) != 0)
            return cli_usage_error(&cli_verb_ledger, "unexpected argument '%s'", a);
        for (k = 0; allowed[k] != NULL; k++)
            if (strcmp(allowed[k], a + 2) == 0)
                break;
        if (allowed[k] == NULL)
            return cli_usage_error(&cli_verb_ledger, "unknown option '%s'", a);
        if (i + 1 >= argc)
            return cli_usage_error(&cli_verb_ledger, "option '%s' needs a value", a);
        if (o->n >= MAX_OPTS)
            return cli_usage_error(&cli_verb_ledger, "too many options");
        for (size_t j = 0; j < o->n; j++)
            if (strcmp(o->name[j], a + 2) == 0 && strcmp(a + 2, "proof") != 0)
                return cli_usage_error(&cli_verb_ledger, "option '%s' given twice", a);
        o->name[o->n] = a + 2;
        o->value[o->n] = argv[++i];
        o->n++;
    }
    return CLI_EXIT_OK;
}

static const char *opts_get(const struct opts *o, const char *name)
{
    for (size_t j = 0; j < o->n; j++)
        if (strcmp(o->name[j], name) == 0)
            return o->value[j];
    return NULL;
}

static int need_u64(const struct opts *o, const char *name, uint64_t *ret)
{
    const char *v = opts_get(o, name);
    struct mrd_err err = {0};

    if (v == NULL)
        return cli_usage_error(&cli_verb_ledger, "--%s is required", name);
    if (mrd_str_to_u64(v, strlen(v), UINT64_MAX, ret, &err) != MRD_OK)
        return cli_usage_error(&cli_verb_ledger, "--%s: '%s' is not an unsigned decimal number",
                               name, v);
    return CLI_EXIT_OK;
}

/* Decodes standard padded base64 (RFC 4648 §4) of (s, n) into out. */
static int b64_decode(const char *what, const char *s, size_t n, uint8_t *out, size_t max,
                      size_t *ret_len)
{
    const char *end = NULL;

    if (n > B64_ARG_MAX ||
        sodium_base642bin(out, max, s, n, NULL, ret_len, &end, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        end != s + n)
        return cli_usage_error(&cli_verb_ledger, "%s: '%.*s' is not standard base64 (RFC 4648 §4)",
                               what, (int)(n > 60 ? 60 : n), s);
    return CLI_EXIT_OK;
}

static int need_b64(const struct opts *o, const char *name, uint8_t *out, size_t max,
                    size_t *ret_len)
{
    const char *v = opts_get(o, name);
    char what[32];

    if (v == NULL)
        return cli_usage_error(&cli_verb_ledger, "--%s is required", name);
    snprintf(what, sizeof(what), "--%s", name);
    return b64_decode(what, v, strlen(v), out, max, ret_len);
}

/* Collects every --proof value into proof: comma-separated hashes, where an
 * empty value is the empty proof but an empty item ("a,,b") is a 0-byte
 * hash. A hash that is not 32 bytes fills bad (the proof then cannot be
 * valid: exit 1 with that reason) rather than being a usage error. */
static int parse_proof(const struct opts *o, uint8_t *proof, size_t *ret_len, char *bad,
                       size_t bad_size)
{
    size_t len = 0;

    bad[0] = '\0';
    for (size_t j = 0; j < o->n; j++) {
        const char *p = o->value[j];

        if (strcmp(o->name[j], "proof") != 0 || *p == '\0')
            continue;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
            uint8_t tmp[B64_ARG_MAX];
            size_t tlen = 0;
            int rc;

            if (len >= MERKLE_MAX_PROOF) {
                if (bad[0] == '\0')
                    snprintf(bad, bad_size, "proof has more than %d hashes", MERKLE_MAX_PROOF);
            } else {
                rc = b64_decode("--proof", p, n, tmp, sizeof(tmp), &tlen);
                if (rc != CLI_EXIT_OK)
                    return rc;
                if (tlen == MERKLE_HASH_LEN)
                    memcpy(proof + len * MERKLE_HASH_LEN, tmp, MERKLE_HASH_LEN);
                else if (bad[0] == '\0')
                    snprintf(bad, bad_size, "proof hash %zu is %zu bytes, want %d", len, tlen,
                             MERKLE_HASH_LEN);
                len++;
            }
            if (comma == NULL)
                break;
            p = comma + 1;
        }
    }
    *ret_len = len;
    return CLI_EXIT_OK;
}

static int invalid(const char *reason)
{
    fprintf(stderr, "meridian ledger: invalid: %s\n", MRD_ESC(reason));
    return CLI_EXIT_FAIL;
}

static int verify_inclusion(int argc, char **argv)
{
    static const char *const allowed[] = {"leaf-index", "tree-size", "root",
                                          "leaf-hash",  "proof",     NULL};
    struct opts o;
    uint64_t index = 0, size = 0;
    uint8_t root[B64_ARG_MAX], leaf[B64_ARG_MAX];
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    size_t root_len = 0, leaf_len = 0, proof_len = 0;
    char bad[128], msg[160];
    struct mrd_err err = {0};
    int rc;

    rc = opts_parse(argc, argv, allowed, &o);
    if (rc == CLI_EXIT_OK)
        rc = need_u64(&o, "leaf-index", &index);
    if (rc == CLI_EXIT_OK)
        rc = need_u64(&o, "tree-size", &size);
    if (rc == CLI_EXIT_OK)
        rc = need_b64(&o, "root", root, sizeof(root), &root_len);
    if (rc == CLI_EXIT_OK)
        rc = need_b64(&o, "leaf-hash", leaf, sizeof(leaf), &leaf_len);
    if (rc == CLI_EXIT_OK)
        rc = parse_proof(&o, proof, &proof_len, bad, sizeof(bad));
    if (rc != CLI_EXIT_OK)
        return rc;
    if (leaf_len != MERKLE_HASH_LEN) {
        snprintf(msg, sizeof(msg), "inclusion: leaf hash is %zu bytes, want %d", leaf_len,
                 MERKLE_HASH_LEN);
        return invalid(msg);
    }
    if (bad[0] != '\0')
        return invalid(bad);
    if (merkle_verify_inclusion(index, size, leaf, root, root_len, proof, proof_len, &err) !=
        MRD_OK)
        return invalid(err.msg);
    printf("valid: leaf %llu is included in the tree of size %llu\n", (unsigned long long)index,
           (unsigned long long)size);
    return CLI_EXIT_OK;
}

static int verify_consistency(int argc, char **argv)
{
    static const char *const allowed[] = {"size1", "size2", "root1", "root2", "proof", NULL};
    struct opts o;
    uint64_t size1 = 0, size2 = 0;
    uint8_t root1[B64_ARG_MAX], root2[B64_ARG_MAX];
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN];
    size_t root1_len = 0, root2_len = 0, proof_len = 0;
    char bad[128];
    struct mrd_err err = {0};
    int rc;

    rc = opts_parse(argc, argv, allowed, &o);
    if (rc == CLI_EXIT_OK)
        rc = need_u64(&o, "size1", &size1);
    if (rc == CLI_EXIT_OK)
        rc = need_u64(&o, "size2", &size2);
    if (rc == CLI_EXIT_OK)
        rc = need_b64(&o, "root1", root1, sizeof(root1), &root1_len);
    if (rc == CLI_EXIT_OK)
        rc = need_b64(&o, "root2", root2, sizeof(root2), &root2_len);
    if (rc == CLI_EXIT_OK)
        rc = parse_proof(&o, proof, &proof_len, bad, sizeof(bad));
    if (rc != CLI_EXIT_OK)
        return rc;
    if (bad[0] != '\0')
        return invalid(bad);
    if (merkle_verify_consistency(size1, size2, root1, root1_len, root2, root2_len, proof,
                                  proof_len, &err) != MRD_OK)
        return invalid(err.msg);
    printf("valid: the tree of size %llu is a prefix of the tree of size %llu\n",
           (unsigned long long)size1, (unsigned long long)size2);
    return CLI_EXIT_OK;
}

static int cmd_verify_proof(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_ledger, "verify-proof needs 'inclusion' or 'consistency'");
    if (strcmp(argv[1], "inclusion") == 0)
        return verify_inclusion(argc - 2, argv + 2);
    if (strcmp(argv[1], "consistency") == 0)
        return verify_consistency(argc - 2, argv + 2);
    return cli_usage_error(&cli_verb_ledger, "verify-proof: unknown proof kind '%s'", argv[1]);
}

/* ---- commands on a data directory ---- */

static int parse_kind(const char *s, uint8_t *ret)
{
    for (uint8_t k = 1; k <= LEDGER_KIND_MAX; k++)
        if (strcmp(s, ledger_kind_name(k)) == 0) {
            *ret = k;
            return CLI_EXIT_OK;
        }
    return cli_usage_error(&cli_verb_ledger, "--kind: unknown kind '%s'", s);
}

/* The ledger directory: --dir DIR, or DATA/ledger for --data DATA. */
static int need_dir(const struct opts *o, const char **ret)
{
    static char path[LEDGER_MAX_PATH];
    const char *data = opts_get(o, "data");

    *ret = opts_get(o, "dir");
    if (*ret != NULL && data != NULL)
        return cli_usage_error(&cli_verb_ledger, "give --dir or --data, not both");
    if (data != NULL) {
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", data, LEDGER_DATA_SUBDIR) >= sizeof(path))
            return cli_usage_error(&cli_verb_ledger, "--data: path too long");
        *ret = path;
    }
    if (*ret == NULL) { /* the default data directory's ledger (cli_data.h) */
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", cli_data_dir(NULL), LEDGER_DATA_SUBDIR) >=
            sizeof(path))
            return cli_usage_error(&cli_verb_ledger, "data directory path too long");
        *ret = path;
    }
    return CLI_EXIT_OK;
}

/* The node's public key in the text form "ed25519:BASE64", into out. */
static int node_pubkey(const char *data, struct mrd_buf *out)
{
    char path[LEDGER_MAX_PATH], text[CRYPTO_PUBKEY_TEXT_LEN + 1];
    struct crypto_key *k = NULL;
    struct mrd_err err = {0};

    (void)snprintf(path, sizeof(path), "%s/%s", data, FED_NODE_KEY_FILE);
    if (crypto_key_load(path, &k, &err) != MRD_OK) {
        cli_errorf(VERB, "node key: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    crypto_pubkey_format(crypto_key_public(k), text);
    crypto_key_free(k);
    mrd_buf_reset(out);
    return mrd_buf_puts(out, text, NULL) == MRD_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* checkpoint --data DATA: sign with the node key, after recording what the
 * store has queued. */
static int checkpoint_node(const char *data)
{
    struct store *st = NULL;
    struct ledger *log = NULL;
    struct ckpt_signer s;
    struct mrd_buf note;
    struct mrd_err err = {0};
    int rc;

    memset(&s, 0, sizeof(s));
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    rc = cli_data_open(VERB, data, &st);
    if (rc == CLI_EXIT_OK)
        rc = cli_data_signer(VERB, st, data, &s);
    if (rc == CLI_EXIT_OK)
        rc = cli_data_ledger(VERB, st, data, &log);
    if (rc == CLI_EXIT_OK && log == NULL) {
        cli_errorf(VERB, "a running 'meridian serve' holds the ledger: it signs one every "
                         "--checkpoint-interval; ask it now with an own-org token: curl -X POST "
                         "URL/ledger/v1/checkpoint");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK && ledger_checkpoint(log, &s, &note, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK)
        fputs(note.data, stdout);
    sodium_memzero(&s, sizeof(s));
    mrd_buf_release(&note);
    ledger_free(log);
    store_close(st);
    return rc;
}

static int open_log(const char *dir, unsigned flags, struct ledger **ret)
{
    struct ledger_open_info info;
    struct mrd_err err = {0};

    if (ledger_open(dir, flags, ret, &info, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return err.code == MRD_E_INVALID ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    if (info.dropped_bytes > 0)
        cli_errorf(VERB, "%s: %s %llu torn leaves (%llu bytes) after the last complete leaf %llu",
                   dir, (flags & LEDGER_OPEN_READONLY) ? "ignoring" : "truncated",
                   (unsigned long long)info.dropped, (unsigned long long)info.dropped_bytes,
                   (unsigned long long)info.size);
    return CLI_EXIT_OK;
}

static void print_b64(const char *label, const uint8_t *h, const char *end)
{
    char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];

    sodium_bin2base64(b64, sizeof(b64), h, MERKLE_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
    printf("%s%s%s", label, b64, end);
}

/* append --dir DIR (--file F | --hash B64) [--kind K] [--time-ms N] */
static int cmd_append(int argc, char **argv)
{
    static const char *const allowed[] = {"dir", "file", "hash", "kind", "time-ms", NULL};
    struct opts o;
    const char *dir = NULL, *file, *v;
    struct ledger_entry e = {.kind = LEDGER_KIND_OBJECT};
    struct ledger *log = NULL;
    struct mrd_buf data;
    struct mrd_err err = {0};
    uint64_t index = 0;
    size_t len = 0;
    int rc;

    mrd_buf_init(&data, CLI_MAX_INPUT_FILE);
    rc = opts_parse(argc, argv, allowed, &o);
    if (rc == CLI_EXIT_OK)
        rc = need_dir(&o, &dir);
    if (rc != CLI_EXIT_OK)
        goto out;
    file = opts_get(&o, "file");
    if ((file == NULL) == (opts_get(&o, "hash") == NULL)) {
        rc = cli_usage_error(&cli_verb_ledger, "append needs one of --file or --hash");
        goto out;
    }
    if (file != NULL) {
        if (cli_read_file(file, CLI_MAX_INPUT_FILE, &data, &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        crypto_hash_sha256(e.hash, (const uint8_t *)data.data, data.len);
    } else {
        uint8_t tmp[B64_ARG_MAX];

        rc = need_b64(&o, "hash", tmp, sizeof(tmp), &len);
        if (rc == CLI_EXIT_OK && len != MERKLE_HASH_LEN)
            rc = cli_usage_error(&cli_verb_ledger, "--hash must be 32 bytes (SHA-256)");
        if (rc != CLI_EXIT_OK)
            goto out;
        memcpy(e.hash, tmp, MERKLE_HASH_LEN);
    }
    v = opts_get(&o, "kind");
    if (v != NULL && (rc = parse_kind(v, &e.kind)) != CLI_EXIT_OK)
        goto out;
    if (opts_get(&o, "time-ms") != NULL) {
        rc = need_u64(&o, "time-ms", &e.time_ms);
        if (rc != CLI_EXIT_OK)
            goto out;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        e.time_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    }
    rc = open_log(dir, LEDGER_OPEN_CREATE, &log);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ledger_append(log, &e, 1, &index, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    printf("leaf %llu\n", (unsigned long long)index);
out:
    ledger_free(log);
    mrd_buf_release(&data);
    return rc;
}

/* Reads a key argument: the key text itself, or a file holding it. */
static int read_key_arg(const char *arg, struct mrd_buf *out)
{
    struct mrd_err err = {0};

    if ((strchr(arg, '+') != NULL || strncmp(arg, "ed25519:", 8) == 0) && access(arg, F_OK) != 0)
        return mrd_buf_puts(out, arg, NULL) == MRD_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (cli_read_file(arg, CKPT_MAX_NOTE, out, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* keygen --name NAME --out FILE: a new note signer key (0600), and the
 * verifier key on stdout. */
static int cmd_keygen(int argc, char **argv)
{
    static const char *const allowed[] = {"name", "out", NULL};
    struct opts o;
    const char *name, *path;
    struct ckpt_signer s;
    struct mrd_buf vk;
    struct mrd_err err = {0};
    uint8_t seed[32], id[4], data[33];
    char b64[64];
    FILE *f = NULL;
    int fd, rc;

    rc = opts_parse(argc, argv, allowed, &o);
    if (rc != CLI_EXIT_OK)
        return rc;
    name = opts_get(&o, "name");
    path = opts_get(&o, "out");
    if (name == NULL || path == NULL)
        return cli_usage_error(&cli_verb_ledger, "keygen needs --name and --out");
    randombytes_buf(seed, sizeof(seed));
    if (ckpt_signer_from_seed(name, seed, &s, &err) != MRD_OK)
        return cli_usage_error(&cli_verb_ledger, "%s", err.msg);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        f = fdopen(fd, "w");
    if (f == NULL) {
        cli_errorf(VERB, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_EXIT_USAGE;
    }
    ckpt_key_id(s.name, s.sk + 32, id);
    data[0] = 0x01;
    memcpy(data + 1, seed, 32);
    sodium_bin2base64(b64, sizeof(b64), data, sizeof(data), sodium_base64_VARIANT_ORIGINAL);
    fprintf(f, "PRIVATE+KEY+%s+%02x%02x%02x%02x+%s\n", s.name, id[0], id[1], id[2], id[3], b64);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(data, sizeof(data));
    sodium_memzero(b64, sizeof(b64));
    if (fclose(f) != 0) {
        cli_errorf(VERB, "%s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    mrd_buf_init(&vk, 1024);
    rc = ckpt_verifier_format(&s, &vk, NULL) == MRD_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (rc == CLI_EXIT_OK)
        printf("%s\n", vk.data);
    mrd_buf_release(&vk);
    sodium_memzero(&s, sizeof(s));
    return rc;
}

/* checkpoint --dir DIR --key KEY: sign and store a checkpoint, print it. */
static int cmd_checkpoint(int argc, char **argv)
{
    static const char *const allowed[] = {"dir", "key", "data", NULL};
    struct opts o;
    const char *dir = NULL, *key;
    struct ledger *log = NULL;
    struct ckpt_signer s;
    struct mrd_buf kb, note;
    struct mrd_err err = {0};
    int rc;

    mrd_buf_init(&kb, CKPT_MAX_NOTE);
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    memset(&s, 0, sizeof(s));
    rc = opts_parse(argc, argv, allowed, &o);
    if (rc == CLI_EXIT_OK && (opts_get(&o, "data") != NULL || o.n == 0)) {
        if (opts_get(&o, "dir") != NULL || opts_get(&o, "key") != NULL)
            return cli_usage_error(&cli_verb_ledger,
                                   "checkpoint: --data signs with the node key; --dir needs --key");
        return checkpoint_node(cli_data_dir(opts_get(&o, "data")));
    }
    if (rc == CLI_EXIT_OK)
        rc = need_dir(&o, &dir);
    if (rc != CLI_EXIT_OK)
        goto out;
    key = opts_get(&o, "key");
    if (key == NULL) {
        rc = cli_usage_error(&cli_verb_ledger, "--key is required");
        goto out;
    }
    rc = read_key_arg(key, &kb);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ckpt_signer_parse(kb.data, kb.len, &s, &err) != MRD_OK) {
        cli_errorf(VERB, "--key: %s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    rc = open_log(dir, 0, &log);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ledger_checkpoint(log, &s, &note, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    fputs(note.data, stdout);
out:
    sodium_memzero(&s, sizeof(s));
    if (kb.data != NULL)
        sodium_memzero(kb.data, kb.len);
    mrd_buf_release(&kb);
    mrd_buf_release(&note);
    ledger_free(log);
    return rc;
}

/* verify --dir DIR [--pubkey KEY] */
static int cmd_verify(int argc, char **argv)
{
    static const char *const allowed[] = {"dir", "pubkey", "data", NULL};
    struct opts o;
    const char *dir = NULL, *pub;
    struct ledger *log = NULL;
    struct ckpt_verifier v;
    struct ckpt c;
    struct ledger_verify_report rep;
    struct mrd_buf kb, note;
    struct mrd_err err = {0};
    int rc;

    mrd_buf_init(&kb, CKPT_MAX_NOTE);
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    rc = opts_parse(argc, argv, allowed, &o);
    if (rc == CLI_EXIT_OK)
        rc = need_dir(&o, &dir);
    if (rc != CLI_EXIT_OK)
        goto out;
    pub = opts_get(&o, "pubkey");
    if (pub == NULL && opts_get(&o, "dir") == NULL) {
        /* The node's own ledger: check the node key's signature. */
        rc = node_pubkey(cli_data_dir(opts_get(&o, "data")), &kb);
        if (rc != CLI_EXIT_OK)
            goto out;
        pub = "the node key";
    } else if (pub != NULL) {
        rc = read_key_arg(pub, &kb);
        if (rc != CLI_EXIT_OK)
            goto out;
    }
    if (pub != NULL) {
        while (kb.len > 0 && (kb.data[kb.len - 1] == '\n' || kb.data[kb.len - 1] == '\r'))
            kb.data[--kb.len] = '\0';
        if (strncmp(kb.data, "ed25519:", 8) != 0 &&
            ckpt_verifier_parse(kb.data, kb.len, &v, &err) != MRD_OK) {
            cli_errorf(VERB, "--pubkey: %s", err.msg);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    }
    rc = open_log(dir, LEDGER_OPEN_READONLY, &log);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ledger_checkpoint_read(log, &note, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = err.code == MRD_E_NOTFOUND ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
        goto out;
    }
    if (pub != NULL && strncmp(kb.data, "ed25519:", 8) == 0) {
        /* The node key's text form (crypto.h) has no name: C2SP key IDs
         * hash one, and ours is the checkpoint's origin. */
        size_t n = 0;
        const char *end = NULL;

        if (sodium_base642bin(v.pk, sizeof(v.pk), kb.data + 8, kb.len - 8, NULL, &n, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != kb.data + kb.len || n != sizeof(v.pk)) {
            rc = cli_usage_error(&cli_verb_ledger, "--pubkey: malformed ed25519: key");
            goto out;
        }
        if (ckpt_parse(note.data, note.len, &c, &err) != MRD_OK) {
            cli_errorf(VERB, "invalid: %s/checkpoint: %s", dir, err.msg);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        mrd_strlcpy(v.name, c.origin, sizeof(v.name));
    }
    if ((pub != NULL ? ckpt_verify(note.data, note.len, &v, &c, &err)
                     : ckpt_parse(note.data, note.len, &c, &err)) != MRD_OK) {
        cli_errorf(VERB, "invalid: %s/checkpoint: %s", dir, err.msg);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (ledger_verify(log, &c, &rep, &err) != MRD_OK) {
        cli_errorf(VERB, "invalid: %s", err.msg);
        if (rep.have_bad_leaf)
            fprintf(stderr, "first leaf that differs: %llu\n", (unsigned long long)rep.bad_leaf);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("ok: %llu leaves; the first %llu match the checkpoint of %s (%s)%s\n",
           (unsigned long long)rep.leaves, (unsigned long long)c.size, MRD_ESC(c.origin),
           c.time[0] ? MRD_ESC(c.time) : "no time",
           pub != NULL ? ", signature verified" : "; signature NOT checked (no --pubkey)");
out:
    mrd_buf_release(&kb);
    mrd_buf_release(&note);
    ledger_free(log);
    return rc;
}

static void print_proof_json(const uint8_t *proof, size_t len)
{
    printf("  \"proof\": [");
    for (size_t i = 0; i < len; i++)
        print_b64(i == 0 ? "\n    \"" : ",\n    \"", proof + i * MERKLE_HASH_LEN, "\"");
    printf(len ? "\n  ]\n" : "]\n");
}

/* Prints the inclusion proof of leaf index into the tree of size as JSON
 * with the transparency-dev vectors' field names, after the member lines
 * in head ("" for none). CLI_EXIT_FAIL when the log cannot prove it. */
static int print_inclusion(struct ledger *log, uint64_t index, uint64_t size, const char *head)
{
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN], root[MERKLE_HASH_LEN], leaf[MERKLE_HASH_LEN];
    struct mrd_err err = {0};
    size_t len = 0;

    if (ledger_prove_inclusion(log, index, size, proof, &len, &err) != MRD_OK ||
        ledger_root(log, size, root, &err) != MRD_OK ||
        ledger_leaf_hash(log, index, leaf, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return CLI_EXIT_FAIL;
    }
    printf("{\n%s  \"leafIdx\": %llu,\n  \"treeSize\": %llu,\n", head, (unsigned long long)index,
           (unsigned long long)size);
    print_b64("  \"root\": \"", root, "\",\n");
    print_b64("  \"leafHash\": \"", leaf, "\",\n");
    print_proof_json(proof, len);
    printf("}\n");
    return CLI_EXIT_OK;
}

/* The version of an object to prove: the newest, or the one asked for. */
struct pick {
    int64_t want; /* STORE_TIME_NONE: the newest */
    bool found;
    int64_t version, leaf;
    char collection[STORE_UUID_LEN + 1];
};

static enum mrd_code pick_cb(void *ctx, const struct store_held *o, struct mrd_err *err)
{
    struct pick *p = ctx;

    (void)err;
    if (p->found && o->row->version_usec <= p->version)
        return MRD_OK;
    p->found = true;
    p->version = o->row->version_usec;
    p->leaf = o->leaf;
    mrd_strlcpy(p->collection, o->collection_id, sizeof(p->collection));
    return MRD_OK;
}

/* prove --data DATA --object ID [--version V] */
static int prove_object(const char *data, const char *id, const char *version)
{
    struct store *st = NULL;
    struct ledger *log = NULL;
    struct pick p = {.want = STORE_TIME_NONE};
    struct store_find f = {.id = id, .id_len = strlen(id), .leaf = -1};
    char path[LEDGER_MAX_PATH], vs[MRD_TIME_TAXII_LEN + 1];
    char head[STORE_STIX_ID_MAX + STORE_UUID_LEN + MRD_TIME_TAXII_LEN + 64];
    struct mrd_time t;
    struct mrd_err err = {0};
    uint64_t size;
    int rc;

    if (version != NULL) {
        if (mrd_time_parse(version, strlen(version), &t, &err) != MRD_OK)
            return cli_usage_error(&cli_verb_ledger, "--version: %s", err.msg);
        p.want = mrd_time_to_usec(&t);
    }
    f.version_usec = p.want;
    rc = cli_data_open(VERB, data, &st);
    if (rc == CLI_EXIT_OK)
        rc = cli_data_ledger(VERB, st, data, &log);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (log == NULL) { /* a server holds it: prove from a read-only view */
        (void)snprintf(path, sizeof(path), "%s/%s", data, LEDGER_DATA_SUBDIR);
        if ((rc = open_log(path, LEDGER_OPEN_READONLY, &log)) != CLI_EXIT_OK)
            goto out;
    }
    if (store_objects_find(st, &f, pick_cb, &p, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (!p.found) {
        cli_errorf(VERB, "no stored object %s%s%s", id, version ? " version " : "",
                   version ? version : "");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    size = ledger_size(log);
    if (p.leaf < 0 || (uint64_t)p.leaf >= size) {
        cli_errorf(VERB,
                   "%s: the ledger has not recorded this version yet (a running server records "
                   "new versions within a second); try again",
                   id);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    vs[0] = '\0';
    if (p.version != STORE_VERSION_NONE)
        mrd_time_format_taxii(p.version, vs);
    (void)snprintf(head, sizeof(head), "  \"id\": \"%s\",\n%s%s%s  \"collection\": \"%s\",\n", id,
                   vs[0] ? "  \"version\": \"" : "", vs, vs[0] ? "\",\n" : "", p.collection);
    rc = print_inclusion(log, (uint64_t)p.leaf, size, head);
out:
    ledger_free(log);
    store_close(st);
    return rc;
}

/* prove --dir DIR (--index N | --hash B64) [--size N]
 * prove --dir DIR --size1 N [--size2 N] */
static int cmd_prove(int argc, char **argv)
{
    static const char *const allowed[] = {"dir",   "index", "hash",   "size",    "size1",
                                          "size2", "data",  "object", "version", NULL};
    struct opts o;
    const char *dir = NULL;
    struct ledger *log = NULL;
    uint8_t proof[MERKLE_MAX_PROOF * MERKLE_HASH_LEN], root[MERKLE_HASH_LEN],
        root1[MERKLE_HASH_LEN];
    uint8_t tmp[B64_ARG_MAX];
    uint64_t index = 0, size = 0, size1 = 0;
    size_t len = 0, hlen = 0;
    struct mrd_err err = {0};
    enum mrd_code mc;
    int rc;

    rc = opts_parse(argc, argv, allowed, &o);
    if (rc == CLI_EXIT_OK && opts_get(&o, "object") != NULL) {
        if (o.n != (size_t)1 + (opts_get(&o, "data") != NULL) + (opts_get(&o, "version") != NULL))
            return cli_usage_error(&cli_verb_ledger,
                                   "prove --object ID takes --data DIR and --version V only");
        return prove_object(cli_data_dir(opts_get(&o, "data")), opts_get(&o, "object"),
                            opts_get(&o, "version"));
    }
    if (rc == CLI_EXIT_OK && opts_get(&o, "version") != NULL)
        rc = cli_usage_error(&cli_verb_ledger, "--version goes with --object");
    if (rc == CLI_EXIT_OK)
        rc = need_dir(&o, &dir);
    if (rc == CLI_EXIT_OK)
        rc = open_log(dir, LEDGER_OPEN_READONLY, &log);
    if (rc != CLI_EXIT_OK)
        goto out;
    size = ledger_size(log);
    if (opts_get(&o, "size1") != NULL) {
        rc = need_u64(&o, "size1", &size1);
        if (rc == CLI_EXIT_OK && opts_get(&o, "size2") != NULL)
            rc = need_u64(&o, "size2", &size);
        if (rc != CLI_EXIT_OK)
            goto out;
        mc = ledger_prove_consistency(log, size1, size, proof, &len, &err);
        if (mc == MRD_OK)
            mc = ledger_root(log, size1, root1, &err);
        if (mc == MRD_OK)
            mc = ledger_root(log, size, root, &err);
        if (mc != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        printf("{\n  \"size1\": %llu,\n  \"size2\": %llu,\n", (unsigned long long)size1,
               (unsigned long long)size);
        print_b64("  \"root1\": \"", root1, "\",\n");
        print_b64("  \"root2\": \"", root, "\",\n");
        print_proof_json(proof, len);
        printf("}\n");
        goto out;
    }
    if (opts_get(&o, "size") != NULL && (rc = need_u64(&o, "size", &size)) != CLI_EXIT_OK)
        goto out;
    if (opts_get(&o, "hash") != NULL) {
        rc = need_b64(&o, "hash", tmp, sizeof(tmp), &hlen);
        if (rc == CLI_EXIT_OK && hlen != MERKLE_HASH_LEN)
            rc = cli_usage_error(&cli_verb_ledger, "--hash must be 32 bytes");
        if (rc != CLI_EXIT_OK)
            goto out;
        if (ledger_find(log, tmp, 0, &index, &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    } else {
        rc = need_u64(&o, "index", &index);
        if (rc != CLI_EXIT_OK)
            goto out;
    }
    rc = print_inclusion(log, index, size, "");
out:
    ledger_free(log);
    return rc;
}

static int run(int argc, char **argv)
{
    if (sodium_init() < 0) {
        cli_errorf(VERB, "libsodium failed to initialise");
        return CLI_EXIT_USAGE;
    }
    if (argc < 2)
        return cli_usage_error(&cli_verb_ledger, "needs a command");
    if (strcmp(argv[1], "verify-proof") == 0)
        return cmd_verify_proof(argc - 1, argv + 1);
    if (strcmp(argv[1], "append") == 0)
        return cmd_append(argc - 2, argv + 2);
    if (strcmp(argv[1], "checkpoint") == 0)
        return cmd_checkpoint(argc - 2, argv + 2);
    if (strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc - 2, argv + 2);
    if (strcmp(argv[1], "prove") == 0)
        return cmd_prove(argc - 2, argv + 2);
    if (strcmp(argv[1], "keygen") == 0)
        return cmd_keygen(argc - 2, argv + 2);
    return cli_usage_error(&cli_verb_ledger, "unknown command '%s'", argv[1]);
}

const struct cli_verb cli_verb_ledger = {
    .name = "ledger",
    .summary = "tamper-evident log: append, checkpoint, prove, verify",
    .usage = "usage: meridian ledger verify-proof inclusion --leaf-index N --tree-size N\n"
             "                        --root B64 --leaf-hash B64 [--proof B64[,B64...]]\n"
             "       meridian ledger verify-proof consistency --size1 N --size2 N\n"
             "                        --root1 B64 --root2 B64 [--proof B64[,B64...]]\n"
             "       meridian ledger append --dir DIR (--file F | --hash B64)\n"
             "                        [--kind object|hold-create|hold-renew|hold-release|\n"
             "                                hold-export|admin|delivery]\n"
             "                        [--time-ms N]\n"
             "       meridian ledger keygen --name NAME --out FILE\n"
             "       meridian ledger checkpoint --dir DIR --key KEY\n"
             "       meridian ledger prove --dir DIR (--index N | --hash B64) [--size N]\n"
             "       meridian ledger prove --dir DIR --size1 N [--size2 N]\n"
             "       meridian ledger verify --dir DIR [--pubkey KEY]\n"
             "       meridian ledger checkpoint --data DIR\n"
             "       meridian ledger verify --data DIR\n"
             "       meridian ledger prove --data DIR --object ID [--version V]\n"
             "       meridian ledger prove --data DIR (--index N | --hash B64 | --size1 N ...)\n"
             "\n"
             "With --data DIR (or with neither --dir nor --data: the default data\n"
             "directory, see 'meridian help init') the node's own ledger (DIR/ledger)\n"
             "is used and the node key\n"
             "(DIR/node.key) signs and verifies: checkpoint records what the store has\n"
             "queued and signs now (not while 'meridian serve' holds the ledger: it signs\n"
             "every --checkpoint-interval, or on POST /ledger/v1/checkpoint); prove\n"
             "--object proves the newest stored version of ID (or version V, a STIX\n"
             "timestamp) into the current tree, printing id, version and collection too.\n"
             "\n"
             "The ledger is an RFC 9162 Merkle tree (SHA-256, leaf H(0x00||entry), node\n"
             "H(0x01||l||r)) stored in DIR/log; see docs/ledger.md.\n"
             "\n"
             "verify-proof checks an RFC 9162 §2.1.3 inclusion proof or §2.1.4 consistency\n"
             "proof given on the command line; it needs no data directory. Hashes are\n"
             "SHA-256 in standard base64; leaf indexes are 0-based; --proof lists the proof's\n"
             "hashes in order, comma-separated (it may repeat). The empty proof, valid for a\n"
             "tree of size 1 or for size1 == size2, is --proof '' or no --proof at all.\n"
             "\n"
             "append adds one leaf (the SHA-256 of --file, or --hash) durably and prints its\n"
             "index. keygen writes a new Ed25519 signer key in the C2SP note format\n"
             "(PRIVATE+KEY+name+id+base64, mode 0600) and prints its verifier key\n"
             "(name+id+base64). checkpoint signs the current tree head as a C2SP\n"
             "tlog-checkpoint with KEY (a file, or the key text), stores it as\n"
             "DIR/checkpoint and prints it. prove prints an inclusion proof (by leaf index\n"
             "or by the entry's content hash) or a consistency proof as JSON with the field\n"
             "names of the transparency-dev test vectors; --size defaults to the log's.\n"
             "verify recomputes every leaf hash and the tree from the stored entries and\n"
             "compares with DIR/checkpoint (its signature too with --pubkey: a verifier key\n"
             "name+id+base64 or the node key's ed25519:BASE64, or a file holding one); it\n"
             "names the first leaf that differs.\n"
             "\n"
             "Exit status: 0 valid / done, 1 invalid (the reason is printed; for verify the\n"
             "first leaf that differs), 2 usage or I/O error.\n",
    .run = run,
};
