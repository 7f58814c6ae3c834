/* meridian privacy: the privacy tools. pseudonymise maps addresses on
 * stdin with Crypto-PAn (privacy/privacy.h); report prints the node's
 * privacy statement (forget/forget.h). The work lives in those modules,
 * this file reads, calls and prints. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_privacy_offer.h"
#include "cli/cli_rules.h"
#include "cli/verbs.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "forget/forget.h"
#include "privacy/privacy.h"

#include <sodium.h>

/* Reads and parses the key file; prints the error and returns non-zero. */
static int load_key(const char *path, uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN])
{
    struct mrd_buf text;
    struct mrd_err err = {0};
    enum mrd_code rc;
    int ret = CLI_EXIT_OK;

    mrd_buf_init(&text, PRIVACY_CRYPTOPAN_KEY_FILE_MAX);
    rc = cli_read_file(path, PRIVACY_CRYPTOPAN_KEY_FILE_MAX, &text, &err);
    if (rc == MRD_E_TOOBIG) {
        cli_errorf("privacy", "key file %s: more than %d bytes; it holds 64 hex digits", path,
                   PRIVACY_CRYPTOPAN_KEY_FILE_MAX);
        ret = CLI_EXIT_FAIL;
    } else if (rc != MRD_OK) {
        cli_errorf("privacy", "key file: %s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else if (privacy_cryptopan_key_parse(text.data, text.len, key, &err) != MRD_OK) {
        cli_errorf("privacy", "key file %s: %s", path, err.msg);
        ret = CLI_EXIT_FAIL;
    }
    if (text.data != NULL)
        sodium_memzero(text.data, text.cap);
    mrd_buf_release(&text);
    return ret;
}

/* Reads one line of stdin into line (without its LF, or CRLF) and its
 * length into ret_n. Returns 1 for a line, 0 at the end of input, -1 for a
 * line longer than PRIVACY_ADDR_LINE_MAX. NUL bytes are kept as data, so
 * the parser sees and refuses them. */
static int read_line(char line[PRIVACY_ADDR_LINE_MAX + 1], size_t *ret_n)
{
    size_t n = 0;
    int c;

    while ((c = getchar()) != EOF && c != '\n') {
        if (n == PRIVACY_ADDR_LINE_MAX + 1) /* one more than the limit: CR room */
            return -1;
        line[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return 0;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n > PRIVACY_ADDR_LINE_MAX)
        return -1;
    *ret_n = n;
    return 1;
}

/* Maps stdin to stdout, one address a line. Stops at the first bad line,
 * naming it, so that output line N always answers input line N. */
static int map_lines(const struct privacy_cryptopan *cp, int reverse)
{
    char line[PRIVACY_ADDR_LINE_MAX + 1];
    unsigned long lineno = 0;
    size_t n = 0;
    int got;

    while ((got = read_line(line, &n)) != 0) {
        struct privacy_addr in, out;
        struct mrd_err err = {0};
        char text[PRIVACY_ADDR_TEXT_MAX];

        lineno++;
        if (got < 0) {
            cli_errorf("privacy", "stdin line %lu: longer than %d bytes, not an address", lineno,
                       PRIVACY_ADDR_LINE_MAX);
            return CLI_EXIT_FAIL;
        }
        if (privacy_addr_parse(line, n, &in, &err) != MRD_OK) {
            cli_errorf("privacy", "stdin line %lu: %s", lineno, err.msg);
            return CLI_EXIT_FAIL;
        }
        if (reverse)
            privacy_cryptopan_unmap(cp, &in, &out);
        else
            privacy_cryptopan_map(cp, &in, &out);
        printf("%s\n", privacy_addr_format(&out, text, sizeof(text)));
    }
    if (ferror(stdin)) {
        cli_errorf("privacy", "stdin: read error after line %lu", lineno);
        return CLI_EXIT_USAGE;
    }
    if (fflush(stdout) != 0) {
        cli_errorf("privacy", "stdout: write error");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int pseudonymise(int argc, char **argv)
{
    enum { O_KEY = 1, O_REVERSE };
    static const struct option opts[] = {
        {"key-file", required_argument, NULL, O_KEY},
        {"reverse", no_argument, NULL, O_REVERSE},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL;
    uint8_t key[PRIVACY_CRYPTOPAN_KEY_LEN];
    struct privacy_cryptopan cp;
    int reverse = 0, c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_KEY:
            key_path = optarg;
            break;
        case O_REVERSE:
            reverse = 1;
            break;
        default:
            return cli_usage_error(&cli_verb_privacy, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_privacy, "pseudonymise takes no arguments");
    if (key_path == NULL)
        return cli_usage_error(&cli_verb_privacy, "pseudonymise needs --key-file FILE");
    ret = load_key(key_path, key);
    if (ret != CLI_EXIT_OK)
        return ret;
    privacy_cryptopan_init(&cp, key);
    sodium_memzero(key, sizeof(key));
    ret = map_lines(&cp, reverse);
    privacy_cryptopan_release(&cp);
    return ret;
}

static int report(int argc, char **argv)
{
    const char *data = NULL;
    bool as_json = false;
    struct store *st = NULL;
    struct mrd_err err = {0};
    struct mrd_buf out;
    json_t *doc = NULL;
    int ret;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else
            return cli_usage_error(&cli_verb_privacy, "report: unexpected argument '%s'",
                                   MRD_ESC(argv[i]));
    }
    data = cli_data_dir(data);
    ret = cli_data_open("privacy", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    mrd_buf_init(&out, (size_t)16 << 20);
    if (forget_report(st, data, mrd_time_now_usec(), &doc, &err) != MRD_OK) {
        cli_errorf("privacy", "report: %s", err.msg);
        ret = CLI_EXIT_FAIL;
    } else if (as_json) {
        if (cli_print_json(doc, JSON_INDENT(2)) != MRD_OK) {
            cli_errorf("privacy", "report: out of memory");
            ret = CLI_EXIT_USAGE;
        }
    } else if (forget_report_markdown(doc, &out, &err) != MRD_OK) {
        cli_errorf("privacy", "report: %s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else {
        (void)fwrite(out.data, 1, out.len, stdout);
    }
    json_decref(doc);
    mrd_buf_release(&out);
    store_close(st);
    return ret;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_privacy, "missing subcommand");
    if (strcmp(argv[1], "pseudonymise") == 0 || strcmp(argv[1], "pseudonymize") == 0)
        return pseudonymise(argc - 1, argv + 1);
    if (strcmp(argv[1], "offer") == 0)
        return cli_privacy_offer(argc - 1, argv + 1);
    if (strcmp(argv[1], "offers") == 0)
        return cli_privacy_offers(argc - 1, argv + 1);
    if (strcmp(argv[1], "withdraw") == 0)
        return cli_privacy_withdraw(argc - 1, argv + 1);
    if (strcmp(argv[1], "report") == 0)
        return report(argc - 1, argv + 1);
    if (strcmp(argv[1], "policy") == 0)
        return cli_privacy_policy(argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_privacy, "unknown subcommand '%s'", argv[1]);
}

const struct cli_verb cli_verb_privacy = {
    .name = "privacy",
    .summary = "outbound privacy policy rules (policy add|list|remove); pseudonymise IP "
               "addresses (Crypto-PAn); the privacy statement; private matching offers",
    .usage = "usage: meridian privacy pseudonymise --key-file FILE [--reverse]\n"
             "       meridian privacy report [--json] [--data DIR]\n"
             "       meridian privacy offer NAME --collection ID [--to ORG]... [--budget N]\n"
             "                              [--reveal] [--data DIR]\n"
             "       meridian privacy offers [--data DIR]\n"
             "       meridian privacy withdraw NAME [--data DIR]\n"
             "       meridian privacy policy add --scope S --type T --property P\n"
             "                               --action drop|generalise|pseudonymise\n"
             "                               [--key-file F] [--data DIR]\n"
             "       meridian privacy policy list [--json] [--data DIR]\n"
             "       meridian privacy policy remove N [--data DIR]\n"
             "\n"
             "policy changes DATA/privacy-policy.json one rule at a time (scope: all,\n"
             "export, community:ROOT, org:NAME, peer:NAME; N as list numbers them; keys\n"
             "shown as (secret)), checked by serve's own parser (refused: exit 1, the\n"
             "member named) and audited ('meridian audit'). serve applies it within a\n"
             "second, no restart (the admin API /api/v1/privacy/policy, docs/api.md:\n"
             "from the next read).\n"
             "\n"
             "report prints the node's privacy statement (Markdown; --json: the same as\n"
             "a JSON document, docs/privacy.md): the categories of personal data it\n"
             "holds (IP addresses, e-mail addresses and messages, accounts, URLs and\n"
             "domains, network traffic, sightings, observed data, identities,\n"
             "certificates, and indicators whose patterns name addresses or accounts),\n"
             "how many object versions of each, the retention each gets from\n"
             "DATA/retention.json ('meridian help retention'), who it is shared with\n"
             "(partner orgs with read grants, peers) and the outbound privacy policy\n"
             "(DATA/privacy-policy.json: its rules, pseudonymisation keys never shown,\n"
             "and the defaults). Exit 1 when the retention or privacy-policy file is bad.\n"
             "\n"
             "pseudonymise:\n"
             "Reads IP addresses, one per line, on standard input and writes their\n"
             "Crypto-PAn pseudonyms, one per line, on standard output (line N answers\n"
             "line N). The mapping is prefix-preserving: two addresses that share their\n"
             "first k bits have pseudonyms that share exactly their first k bits, so\n"
             "partners can still group by network without learning real addresses.\n"
             "IPv4 agrees with the reference Crypto-PAn implementation; IPv6 uses the\n"
             "same construction over 128 bits. An IPv4 address maps to an IPv4 address.\n"
             "\n"
             "  --key-file FILE  the 32-byte Crypto-PAn key as 64 hex digits (one\n"
             "                   trailing newline allowed); bytes 0-15 are the AES-128\n"
             "                   key, bytes 16-31 make the pad. Keep it secret (mode 0600):\n"
             "                   whoever holds it can reverse every pseudonym. Make one\n"
             "                   with: head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'\n"
             "  --reverse        map pseudonyms back to the original addresses\n"
             "\n"
             "A line holds exactly one address (dotted-quad IPv4 or IPv6 text; a CRLF\n"
             "line end is accepted), at most 64 bytes. The first line that is not an\n"
             "address stops the run with an error naming its line number (the bad\n"
             "text is shown escaped); lines before it have been written.\n"
             "\n"
             "offer NAME offers the indicator values of a collection (uuid or\n"
             "ROOT/ALIAS) for private matching (RFC 9497 OPRF): partners learn which\n"
             "of their own log values are on it (`meridian match --private PEER`),\n"
             "never the values; this node learns how many values they checked.\n"
             "  --to ORG     an org that may use the offer (repeatable; none: every\n"
             "               org that may read the collection); own orgs always may\n"
             "  --budget N   values each org may check per UTC day (default 2000000);\n"
             "               a batch past it is refused with HTTP 429\n"
             "  --reveal     partners may get the indicators behind their matches\n"
             "Running it again replaces the offer (same key). offers lists them;\n"
             "withdraw NAME removes one and discards its key. serve answers under\n"
             "/api/v1/private/ (docs/privacy.md, \"Private matching\").\n"
             "\n"
             "Exit status: 0 all lines mapped, 1 a bad key file or a bad line,\n"
             "2 usage or I/O error. See docs/privacy.md.\n" CLI_DATA_HELP,
    .run = run,
};
