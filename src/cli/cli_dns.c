/*
 * cli_dns.c: `meridian dns baseline|check` over src/dns/.
 *
 * Reads the configuration, baseline and state files, runs one baseline
 * or check through the real transport (dns_net.h), and prints; the
 * detectors live in src/dns/.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/json.h"
#include "core/str.h"
#include "dns/dns.h"
#include "dns/dns_net.h"

#define CLI_DNS_MAX_CONFIG ((size_t)16 * 1024 * 1024) /* one --config file */
#define CLI_DNS_MAX_STATE ((size_t)64 * 1024 * 1024)  /* one --state file */

static const char usage_head[] =
    "usage: meridian dns baseline --config FILE -o BASELINE [--timeout MS] [--retries N]\n"
    "       meridian dns check --config FILE --baseline BASELINE [--state FILE] [--json]\n"
    "                          [--stix FILE [--tlp LEVEL]] [--timeout MS] [--retries N]\n"
    "                          [--hold MS] [--parallel N]\n"
    "\n"
    "The DNS-stability sensor: watches zones for delegation changes, forged answers,\n"
    "DNSSEC failures and outages (docs/dns.md).\n"
    "\n"
    "--config FILE (JSON):\n"
    "  {\"root\": {\"servers\": [\"IP[:PORT]\", ...], \"trust_anchor\": \"FILE\"},\n"
    "   \"zones\": [{\"zone\": \"example.\", \"probe_names\": [\"www.example.\"]}],\n"
    "   \"vantages\": [{\"name\": \"isp-1\", \"server\": \"IP[:PORT]\"}],\n"
    "   \"interval\": 60, \"alert_refresh\": 3600, \"expiry_warning\": 259200,\n"
    "   \"validator\": false, \"excuses\": {\"asn_table\": \"FILE\", \"tls_ca\": \"FILE\",\n"
    "   \"tls_port\": 443, \"tls_timeout_ms\": 2000}}\n"
    "  root defaults to the thirteen IANA root servers. Name servers found through\n"
    "  referrals are asked on port 53. trust_anchor: the root's DS or DNSKEY\n"
    "  records (as Unbound's trust-anchor-file), checked each round against the\n"
    "  root's keys. interval and alert_refresh are for the sensor in serve (a\n"
    "  lasting, unchanged finding is stored again after alert_refresh seconds).\n"
    "  expiry_warning: seconds before a signature expires that warn\n"
    "  (0: never). validator: true also validates each zone's SOA in process\n"
    "  (libunbound, from root.servers with root.trust_anchor, which it needs):\n"
    "  a bogus verdict is a dnssec finding at vantage \"validator\", its cause\n"
    "  from Unbound's why-bogus text.\n"
    "  excuses: a divergence is excused when every address the vantage gave\n"
    "  beyond the authoritative ones shares an origin ASN with them in\n"
    "  asn_table (CAIDA pfx2as: PREFIX<TAB>LENGTH<TAB>ASN per line), or else\n"
    "  serves on tls_port a certificate valid for the probe name from a CA in\n"
    "  tls_ca (PEM); excused ones are not reported but kept, with evidence,\n"
    "  in the --state file's excused list. TLS verdicts are reused by later\n"
    "  rounds (the --state file's tls_cache) for tls_cache_ttl seconds (default\n"
    "  3600) when valid, tls_cache_fail_ttl (default 300) otherwise; 0: never.\n"
    "\n";

/* The rest (one literal would pass the 4095 bytes C17 promises). */
static const char usage_tail[] =
    "baseline  follows referrals from the root servers to each watched zone and\n"
    "          writes to BASELINE (JSON, for the operator to read and edit) what\n"
    "          its parent publishes (NS set, DS set, glue, the parent's servers)\n"
    "          and what the zone's servers answer for each probe name (A, AAAA).\n"
    "\n"
    "check     runs one round and prints each finding, one per line:\n"
    "            kind|zone|name|vantage|cause|expected|observed|first_seen\n"
    "          or with --json one object per line: kind (delegation, divergence,\n"
    "          injection, dnssec, outage, outage-end), zone, name, vantage (a\n"
    "          resolver's name, authoritative, or validator), expected, observed,\n"
    "          first_seen,\n"
    "          last_seen, field, evidence, and for dnssec cause\n"
    "          (signature-expired, signature-not-yet-valid, ds-mismatch,\n"
    "          dnskey-missing, rrsig-missing, nsec-missing,\n"
    "          unsupported-algorithm, other; other with field expires-soon is\n"
    "          the early warning of signatures that expire within\n"
    "          expiry_warning, default 3 days).\n"
    "          --state FILE carries open findings from one round to the next\n"
    "          (created when missing): first_seen is kept, and an outage that\n"
    "          ended is reported once as outage-end. A vantage's SERVFAIL\n"
    "          without EDE that +cd answers waits in its pending list and is\n"
    "          reported when the next round sees it again (without --state:\n"
    "          at once).\n"
    "          --stix FILE also writes the findings as a STIX 2.1 bundle ('-':\n"
    "          to stdout, instead of the lines): observed-data under the\n"
    "          Meridian DNS alert extension, marked --tlp LEVEL (clear, green,\n"
    "          amber, amber+strict, red; default amber), with domain-name and\n"
    "          address objects marked clear.\n"
    "\n"
    "--timeout MS (default 1500) and --retries N (default 2) bound each query.\n"
    "--hold MS (default 50, 0 to 5000; 0 turns it off): after a resolver's first\n"
    "answer, keep listening this long for more answers to the same query id:\n"
    "two different ones mean one was injected on path (Hold-On). Each round\n"
    "takes about MS longer per vantage query.\n"
    "--parallel N (default 32, 1 to 256): zones, and a zone's probe names, checked\n"
    "at once (each with its own queries in flight); 1 asks one query at a time.\n"
    "\n"
    "Exit status: 0 nothing found (baseline: written), 1 findings, 2 usage,\n"
    "configuration or I/O error.\n";

static int load_config(const char *path, struct dns_config **ret)
{
    struct mrd_buf b;
    struct mrd_err err = {0};
    int rc = CLI_EXIT_OK;

    mrd_buf_init(&b, CLI_DNS_MAX_CONFIG);
    if (cli_read_file(path, CLI_DNS_MAX_CONFIG, &b, &err) != MRD_OK ||
        dns_config_parse(b.data, b.len, ret, &err) != MRD_OK ||
        dns_config_load_files(*ret, &err) != MRD_OK) {
        cli_errorf("dns", "%s: %s", MRD_ESC(path), err.msg);
        rc = CLI_EXIT_USAGE;
    }
    mrd_buf_release(&b);
    return rc;
}

static int load_json(const char *path, json_t **ret, bool missing_ok)
{
    struct mrd_buf b;
    struct mrd_err err = {0};
    int rc = CLI_EXIT_OK;
    FILE *f;

    if (missing_ok) {
        f = fopen(path, "r");
        if (f == NULL) {
            *ret = NULL;
            return CLI_EXIT_OK;
        }
        (void)fclose(f);
    }
    mrd_buf_init(&b, CLI_DNS_MAX_STATE);
    if (cli_read_file(path, CLI_DNS_MAX_STATE, &b, &err) != MRD_OK ||
        mrd_json_parse(b.data, b.len, NULL, ret, &err) != MRD_OK) {
        cli_errorf("dns", "%s: %s", MRD_ESC(path), err.msg);
        rc = CLI_EXIT_USAGE;
    }
    mrd_buf_release(&b);
    return rc;
}

static int save_json(const char *path, const json_t *j)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp) ||
        json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) != 0 ||
        rename(tmp, path) != 0) {
        cli_errorf("dns", "%s: cannot write", MRD_ESC(path));
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static void print_line(const json_t *f)
{
    char *e = json_dumps(json_object_get(f, "expected"), JSON_COMPACT | JSON_ENCODE_ANY),
         *o = json_dumps(json_object_get(f, "observed"), JSON_COMPACT | JSON_ENCODE_ANY);
    const char *cause = json_string_value(json_object_get(f, "cause"));
    struct mrd_buf b;

    mrd_buf_init(&b, 1 << 20);
    (void)mrd_buf_printf(&b, NULL, "%s|%s|%s|%s|%s|%s|%s|%s",
                         json_string_value(json_object_get(f, "kind")),
                         json_string_value(json_object_get(f, "zone")),
                         json_string_value(json_object_get(f, "name")),
                         json_string_value(json_object_get(f, "vantage")),
                         cause != NULL ? cause : "", e != NULL ? e : "null", o != NULL ? o : "null",
                         json_string_value(json_object_get(f, "first_seen")));
    cli_print_escaped(b.data, b.len);
    mrd_buf_release(&b);
    free(e);
    free(o);
}

struct opts {
    const char *config, *out, *baseline, *state, *stix;
    bool json;
    enum policy_tlp tlp;
    struct dns_net net;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},   {"output", required_argument, NULL, 'o'},
        {"baseline", required_argument, NULL, 'b'}, {"state", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},           {"stix", required_argument, NULL, 's'},
        {"tlp", required_argument, NULL, 't'},      {"timeout", required_argument, NULL, 'T'},
        {"retries", required_argument, NULL, 'r'},  {"hold", required_argument, NULL, 'H'},
        {"parallel", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0}};
    struct mrd_err err = {0};
    uint64_t v;
    int ch;

    memset(o, 0, sizeof(*o));
    o->tlp = POLICY_TLP_AMBER;
    o->net.timeout_ms = DNS_NET_DEFAULT_TIMEOUT_MS;
    o->net.retries = DNS_NET_DEFAULT_RETRIES;
    o->net.hold_ms = DNS_NET_DEFAULT_HOLD_MS;
    o->net.parallel = DNS_NET_DEFAULT_PARALLEL;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'b':
            o->baseline = optarg;
            break;
        case 'S':
            o->state = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 's':
            o->stix = optarg;
            break;
        case 't':
            if (policy_tlp_parse(optarg, strlen(optarg), &o->tlp, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_dns, "--tlp: %s", err.msg);
            break;
        case 'T':
            if (mrd_str_to_u64(optarg, strlen(optarg), DNS_NET_MAX_TIMEOUT_MS, &v, NULL) !=
                    MRD_OK ||
                v == 0)
                return cli_usage_error(&cli_verb_dns, "--timeout: milliseconds from 1 to %d",
                                       DNS_NET_MAX_TIMEOUT_MS);
            o->net.timeout_ms = (unsigned)v;
            break;
        case 'r':
            if (mrd_str_to_u64(optarg, strlen(optarg), 10, &v, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_dns, "--retries: 0 to 10");
            o->net.retries = (unsigned)v;
            break;
        case 'H':
            if (mrd_str_to_u64(optarg, strlen(optarg), DNS_NET_MAX_HOLD_MS, &v, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_dns, "--hold: milliseconds from 0 to %d",
                                       DNS_NET_MAX_HOLD_MS);
            o->net.hold_ms = (unsigned)v;
            break;
        case 'P':
            if (mrd_str_to_u64(optarg, strlen(optarg), DNS_MAX_PARALLEL, &v, NULL) != MRD_OK ||
                v == 0)
                return cli_usage_error(&cli_verb_dns, "--parallel: 1 to %d", DNS_MAX_PARALLEL);
            o->net.parallel = (unsigned)v;
            break;
        default:
            return cli_usage_error(&cli_verb_dns, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_dns, "unexpected argument");
    if (o->config == NULL)
        return cli_usage_error(&cli_verb_dns, "--config is required");
    return CLI_EXIT_OK;
}

static int do_baseline(int argc, char **argv)
{
    struct opts o;
    struct dns_config *cfg = NULL;
    struct dns_transport t;
    struct mrd_err err = {0};
    json_t *b = NULL;
    int ret = parse_opts(argc, argv, &o);

    if (ret != CLI_EXIT_OK)
        return ret;
    if (o.out == NULL)
        return cli_usage_error(&cli_verb_dns, "baseline needs -o BASELINE");
    ret = load_config(o.config, &cfg);
    if (ret != CLI_EXIT_OK)
        return ret;
    t = dns_transport_net(&o.net);
    if (dns_baseline_learn(cfg, &t, &b, &err) != MRD_OK) {
        cli_errorf("dns", "baseline: %s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else {
        ret = save_json(o.out, b);
    }
    json_decref(b);
    dns_config_free(cfg);
    return ret;
}

static int do_check(int argc, char **argv)
{
    struct opts o;
    struct dns_config *cfg = NULL;
    struct mrd_err err = {0};
    json_t *base = NULL, *state = NULL, *found = NULL, *next = NULL, *stix = NULL, *seen = NULL, *f;
    size_t i;
    int ret = parse_opts(argc, argv, &o);

    if (ret != CLI_EXIT_OK)
        return ret;
    if (o.baseline == NULL)
        return cli_usage_error(&cli_verb_dns, "check needs --baseline BASELINE");
    ret = load_config(o.config, &cfg);
    if (ret == CLI_EXIT_OK)
        ret = load_json(o.baseline, &base, false);
    if (ret == CLI_EXIT_OK && dns_baseline_check(base, &err) != MRD_OK) {
        cli_errorf("dns", "%s: %s", MRD_ESC(o.baseline), err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret == CLI_EXIT_OK && o.state != NULL)
        ret = load_json(o.state, &state, true);
    /* A new state file: there will be a next round, so a SERVFAIL without
     * EDE already waits for it (dns_check_round holds it when a state is
     * given). */
    if (ret == CLI_EXIT_OK && o.state != NULL && state == NULL && (state = json_object()) == NULL)
        ret = CLI_EXIT_USAGE;
    if (ret != CLI_EXIT_OK)
        goto out;
    if (dns_check_round_net(cfg, &o.net, base, state, &found, &next, &err) != MRD_OK) {
        cli_errorf("dns", "check: %s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (o.state != NULL && save_json(o.state, next) != CLI_EXIT_OK) {
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (o.stix != NULL) {
        stix = json_array();
        seen = json_object();
        if (stix == NULL || seen == NULL || dns_stix_definitions(stix, &err) != MRD_OK) {
            cli_errorf("dns", "out of memory");
            ret = CLI_EXIT_USAGE;
            goto out;
        }
        json_array_foreach(found, i, f)
        {
            if (dns_finding_stix(f, stix, seen, &err) != MRD_OK) {
                cli_errorf("dns", "stix: %s", err.msg);
                ret = CLI_EXIT_USAGE;
                goto out;
            }
        }
        ret = cli_write_alert_bundle("dns", stix, o.stix, o.tlp);
        if (ret != CLI_EXIT_OK)
            goto out;
    }
    if (o.stix == NULL || strcmp(o.stix, "-") != 0) {
        json_array_foreach(found, i, f)
        {
            (void)json_object_del(f, "key");
            if (o.json)
                (void)cli_print_json(f, JSON_COMPACT);
            else
                print_line(f);
        }
    }
    ret = json_array_size(found) > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    json_decref(stix);
    json_decref(seen);
    json_decref(found);
    json_decref(next);
    json_decref(state);
    json_decref(base);
    dns_config_free(cfg);
    return ret;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_dns, "missing subcommand");
    if (strcmp(argv[1], "baseline") == 0)
        return do_baseline(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0)
        return do_check(argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_dns, "unknown subcommand (baseline, check)");
}

static const char *dns_usage(void)
{
    static char text[sizeof(usage_head) + sizeof(usage_tail)];

    if (text[0] == '\0')
        (void)snprintf(text, sizeof(text), "%s%s", usage_head, usage_tail);
    return text;
}

const struct cli_verb cli_verb_dns = {
    .name = "dns",
    .summary = "watch zones for delegation changes, forged answers, DNSSEC failures, outages",
    .usage_fn = dns_usage,
    .run = run,
};
