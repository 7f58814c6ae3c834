/*
 * cli_evidence.c: `meridian evidence export|verify`, packages a court can
 * check offline (format: docs/ledger.md, "Evidence packages").
 *
 * verify needs nothing but the package and the node's public key. export
 * builds a package from object files recorded in a ledger directory; the
 * store-driven `export --case ID` (held objects) comes with holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/cli_hold.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/str.h"
#include "ledger/evidence.h"

#define VERB "evidence"
#define MAX_EXPORT_FILES 10000

/* Reads a key argument: the key text itself, or a file holding it. */
static int read_key(const char *arg, struct mrd_buf *out)
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

/* The origin line of the package's checkpoint member, to name a bare
 * "ed25519:" key (C2SP key IDs hash the key name). */
static int package_origin(const struct mrd_buf *pkg, char *out, size_t size)
{
    /* The writer puts manifest.json first; its "origin" is what we need,
     * but only as a name: the signature check decides. */
    const char *p = pkg->data, *end = pkg->data + pkg->len;
    const char *k = NULL;

    for (const char *q = p; q + 10 < end; q++) {
        if (memcmp(q, "\"origin\":", 9) == 0) {
            k = q + 9;
            break;
        }
    }
    if (k == NULL)
        return 0;
    while (k < end && (*k == ' ' || *k == '"'))
        k++;
    for (size_t i = 0; i + 1 < size && k + i < end; i++) {
        if (k[i] == '"') {
            out[i] = '\0';
            return i > 0;
        }
        out[i] = k[i];
    }
    return 0;
}

static int cmd_verify(int argc, char **argv)
{
    const char *file = NULL, *pub = NULL, *want_sha = NULL;
    struct mrd_buf pkg, kb;
    struct ckpt_verifier v;
    struct evidence_report rep;
    struct mrd_err err = {0};
    int rc = CLI_EXIT_OK;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pubkey") == 0 && i + 1 < argc)
            pub = argv[++i];
        else if (strcmp(argv[i], "--sha256") == 0 && i + 1 < argc)
            want_sha = argv[++i];
        else if (argv[i][0] != '-' && file == NULL)
            file = argv[i];
        else
            return cli_usage_error(&cli_verb_evidence, "verify: unexpected argument '%s'", argv[i]);
    }
    if (file == NULL || pub == NULL)
        return cli_usage_error(&cli_verb_evidence, "verify needs FILE and --pubkey KEY");
    if (want_sha != NULL && (strlen(want_sha) != 64 || strspn(want_sha, "0123456789abcdef") != 64))
        return cli_usage_error(&cli_verb_evidence,
                               "--sha256 takes 64 lowercase hex digits (a package's SHA-256)");
    mrd_buf_init(&pkg, EVIDENCE_MAX_PACKAGE);
    mrd_buf_init(&kb, CKPT_MAX_NOTE);
    rc = read_key(pub, &kb);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (cli_read_file(file, EVIDENCE_MAX_PACKAGE, &pkg, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    while (kb.len > 0 && (kb.data[kb.len - 1] == '\n' || kb.data[kb.len - 1] == '\r'))
        kb.data[--kb.len] = '\0';
    if (strncmp(kb.data, "ed25519:", 8) == 0) {
        /* The node key's text form (crypto.h): 32 bytes, no name. */
        size_t n = 0;
        const char *end = NULL;

        if (sodium_base642bin(v.pk, sizeof(v.pk), kb.data + 8, kb.len - 8, NULL, &n, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != kb.data + kb.len || n != sizeof(v.pk)) {
            rc = cli_usage_error(&cli_verb_evidence, "--pubkey: malformed ed25519: key");
            goto out;
        }
        if (!package_origin(&pkg, v.name, sizeof(v.name))) {
            cli_errorf(VERB, "invalid: %s: no checkpoint origin to name the key by", file);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    } else if (ckpt_verifier_parse(kb.data, kb.len, &v, &err) != MRD_OK) {
        rc = cli_usage_error(&cli_verb_evidence, "--pubkey: %s", err.msg);
        goto out;
    }
    if (evidence_verify((const uint8_t *)pkg.data, pkg.len, &v, &rep, &err) != MRD_OK) {
        cli_errorf(VERB, "invalid: %s", err.msg);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (want_sha != NULL && strcmp(want_sha, rep.sha256) != 0) {
        cli_errorf(VERB,
                   "invalid: %s: its SHA-256 is %s, not %s (the digest the node recorded when it "
                   "exported the package): this is another package",
                   file, rep.sha256, want_sha);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    /* The case id and names come from the package: printed escaped. */
    printf("ok: case %s: %zu objects, each proved into the checkpoint of %s at tree size %llu, "
           "signed by %s\n",
           MRD_ESC(rep.case_id), rep.objects, MRD_ESC(rep.origin),
           (unsigned long long)rep.tree_size, MRD_ESC(v.name));
    printf("package sha256 %s%s\n", rep.sha256, want_sha != NULL ? " (as expected)" : "");
out:
    mrd_buf_release(&pkg);
    mrd_buf_release(&kb);
    return rc;
}

/* Fills id and version from the object's JSON when it is one (best effort;
 * the package carries the bytes whatever they are). */
static void object_names(const struct mrd_buf *b, char *id, char *version)
{
    json_t *j = NULL;
    struct mrd_json_limits lim = {EVIDENCE_MAX_MEMBER, 64};
    const char *s;

    id[0] = version[0] = '\0';
    if (mrd_json_parse(b->data, b->len, &lim, &j, NULL) != MRD_OK)
        return;
    s = json_string_value(json_object_get(j, "id"));
    if (s != NULL)
        mrd_strlcpy(id, s, EVIDENCE_MAX_TEXT + 1);
    s = json_string_value(json_object_get(j, "modified"));
    if (s != NULL)
        mrd_strlcpy(version, s, EVIDENCE_MAX_TEXT + 1);
    json_decref(j);
}

static int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *key = NULL, *case_id = NULL, *outp = NULL, *data_dir = NULL;
    const char *files[MAX_EXPORT_FILES];
    size_t nfiles = 0;
    struct mrd_buf kb, note, pkg;
    struct mrd_buf *data = NULL;
    struct evidence_object *objs = NULL;
    char(*ids)[EVIDENCE_MAX_TEXT + 1] = NULL, (*vers)[EVIDENCE_MAX_TEXT + 1] = NULL;
    struct ckpt_signer s;
    struct ckpt c;
    struct ledger *log = NULL;
    struct mrd_err err = {0};
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    int rc = CLI_EXIT_OK, fd = -1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ledger") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
            case_id = argv[++i];
        else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            outp = argv[++i];
        else if (argv[i][0] != '-' && nfiles < MAX_EXPORT_FILES)
            files[nfiles++] = argv[i];
        else
            return cli_usage_error(&cli_verb_evidence, "export: unexpected argument '%s'", argv[i]);
    }
    if (dir == NULL && key == NULL && nfiles == 0) {
        /* The node's own: what the case's holds preserve. */
        if (case_id == NULL || outp == NULL)
            return cli_usage_error(&cli_verb_evidence, "export needs --case ID and -o FILE");
        return cli_hold_export_case(data_dir, case_id, outp);
    }
    if (data_dir != NULL)
        return cli_usage_error(&cli_verb_evidence,
                               "export: --data goes with --case alone, not --ledger/--key/files");
    if (dir == NULL || key == NULL || case_id == NULL || outp == NULL || nfiles == 0)
        return cli_usage_error(&cli_verb_evidence,
                               "export needs --ledger, --key, --case, -o and object files");
    if (strlen(case_id) > EVIDENCE_MAX_TEXT)
        return cli_usage_error(&cli_verb_evidence, "--case is longer than %d bytes",
                               EVIDENCE_MAX_TEXT);
    mrd_buf_init(&kb, CKPT_MAX_NOTE);
    mrd_buf_init(&note, CKPT_MAX_NOTE);
    mrd_buf_init(&pkg, EVIDENCE_MAX_PACKAGE);
    memset(&s, 0, sizeof(s));
    data = mrd_calloc(nfiles, sizeof(*data));
    objs = mrd_calloc(nfiles, sizeof(*objs));
    ids = mrd_calloc(nfiles, sizeof(*ids));
    vers = mrd_calloc(nfiles, sizeof(*vers));
    if (data == NULL || objs == NULL || ids == NULL || vers == NULL) {
        cli_errorf(VERB, "out of memory");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    rc = read_key(key, &kb);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ckpt_signer_parse(kb.data, kb.len, &s, &err) != MRD_OK) {
        rc = cli_usage_error(&cli_verb_evidence, "--key: %s", err.msg);
        goto out;
    }
    if (ledger_open(dir, LEDGER_OPEN_READONLY, &log, NULL, &err) != MRD_OK ||
        ledger_checkpoint_read(log, &note, &err) != MRD_OK ||
        ckpt_parse(note.data, note.len, &c, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++) {
        mrd_buf_init(&data[i], EVIDENCE_MAX_MEMBER);
        if (cli_read_file(files[i], EVIDENCE_MAX_MEMBER, &data[i], &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        if (evidence_object_from_ledger(log, (const uint8_t *)data[i].data, data[i].len, c.size,
                                        &objs[i], &err) != MRD_OK) {
            cli_errorf(VERB, "%s: %s (checkpoint size %llu)", files[i], err.msg,
                       (unsigned long long)c.size);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        object_names(&data[i], ids[i], vers[i]);
        objs[i].id = ids[i][0] ? ids[i] : NULL;
        objs[i].version = vers[i][0] ? vers[i] : NULL;
    }
    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (evidence_write(case_id, created, objs, nfiles, note.data, note.len, &s, &pkg, &err) !=
        MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, pkg.data, pkg.len) != (ssize_t)pkg.len || fsync(fd) != 0) {
        cli_errorf(VERB, "%s: %s", outp, strerror(errno));
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    printf("%s: %zu objects, proved into tree size %llu\n", MRD_ESC(outp), nfiles,
           (unsigned long long)c.size);
out:
    if (fd >= 0)
        (void)close(fd);
    sodium_memzero(&s, sizeof(s));
    if (kb.data != NULL)
        sodium_memzero(kb.data, kb.len);
    for (size_t i = 0; data != NULL && i < nfiles; i++)
        mrd_buf_release(&data[i]);
    mrd_free(data);
    mrd_free(objs);
    mrd_free(ids);
    mrd_free(vers);
    mrd_buf_release(&kb);
    mrd_buf_release(&note);
    mrd_buf_release(&pkg);
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
        return cli_usage_error(&cli_verb_evidence, "needs a command");
    if (strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_evidence, "unknown command '%s'", argv[1]);
}

const struct cli_verb cli_verb_evidence = {
    .name = "evidence",
    .summary = "evidence packages: export objects with proofs, verify offline",
    .usage =
        "usage: meridian evidence verify FILE --pubkey KEY [--sha256 HEX]\n"
        "       meridian evidence export [--data DIR] --case ID -o FILE\n"
        "       meridian evidence export --ledger DIR --key KEY --case ID -o FILE OBJECT...\n"
        "\n"
        "An evidence package (docs/ledger.md) is one tar file: each object's exact\n"
        "bytes, its ledger leaf and RFC 9162 inclusion proof, the node's signed C2SP\n"
        "checkpoint the proofs lead to, the node's public key, and a manifest signed\n"
        "by the node.\n"
        "\n"
        "verify checks all of it offline with nothing but FILE and KEY, the node's\n"
        "verifier key (name+id+base64, or ed25519:BASE64), given as text or as a file:\n"
        "the checkpoint's and the manifest's signatures, that each object's bytes hash\n"
        "to its leaf and that each leaf proves into the checkpoint. It names the first\n"
        "thing that fails (an object's file, id and leaf; the manifest; the checkpoint).\n"
        "Every byte counts: the package must be the canonical tar that export writes\n"
        "(fixed header fields, member order, exactly two end-of-archive blocks), so a\n"
        "package re-packed by another tar fails, naming the header field or block.\n"
        "It prints the package's SHA-256; --sha256 HEX also demands it (the\n"
        "package_sha256 that 'evidence export --case' records in each hold's export\n"
        "leaf, or the digest noted when the package was handed over).\n"
        "\n"
        "export --case writes FILE with every object version the case's active holds\n"
        "preserve ('meridian hold'), proved into a checkpoint the node key signs now,\n"
        "and records the export as a ledger leaf of each hold. Give the node's public\n"
        "key ('meridian key show --data DIR') to whoever verifies.\n"
        "\n"
        "export --ledger writes FILE with the given object files, each found in the ledger in\n"
        "DIR by its SHA-256 and proved into DIR/checkpoint; KEY is the signer key of\n"
        "that checkpoint (PRIVATE+KEY+...), which also signs the manifest.\n"
        "\n"
        "Exit status: 0 valid / written, 1 invalid (the reason is printed), 2 usage\n"
        "or I/O error.\n",
    .run = run,
};
