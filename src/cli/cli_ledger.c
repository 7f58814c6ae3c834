/*
 * cli_ledger.c: `meridian ledger ...`, the tamper-evident log's verbs.
 *
 * verify-proof needs no data directory: it checks RFC 9162 proofs given on
 * the command line, so anyone holding a checkpoint can audit the node.
 * Exit codes: 0 valid, 1 invalid (the reason on stderr), 2 usage or I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "ledger/merkle.h"

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
    fprintf(stderr, "meridian ledger: invalid: %s\n", reason);
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
    return cli_usage_error(&cli_verb_ledger, "unknown command '%s'", argv[1]);
}

const struct cli_verb cli_verb_ledger = {
    .name = "ledger",
    .summary = "tamper-evident log: verify RFC 9162 proofs",
    .usage = "usage: meridian ledger verify-proof inclusion --leaf-index N --tree-size N\n"
             "                        --root B64 --leaf-hash B64 [--proof B64[,B64...]]\n"
             "       meridian ledger verify-proof consistency --size1 N --size2 N\n"
             "                        --root1 B64 --root2 B64 [--proof B64[,B64...]]\n"
             "\n"
             "verify-proof checks an RFC 9162 §2.1.3 inclusion proof or §2.1.4 consistency\n"
             "proof given on the command line; it needs no data directory. Hashes are\n"
             "SHA-256 in standard base64; leaf indexes are 0-based; --proof lists the proof's\n"
             "hashes in order, comma-separated (it may repeat). The empty proof, valid for a\n"
             "tree of size 1 or for size1 == size2, is --proof '' or no --proof at all.\n"
             "\n"
             "Exit status: 0 the proof is valid, 1 it is invalid (the reason is printed),\n"
             "2 usage error (missing option, malformed number or base64).\n",
    .run = run,
};
