/*
 * meridian search: search the node's value index from the command line,
 * as an org sees it (the own org by default). The same code as the
 * console's search and /api/v1/search (dash.h), so the answers agree.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/buf.h"
#include "core/str.h"
#include "dash/dash.h"
#include "fed/fed.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian search [--data DIR] [--org NAME] [--limit N] [--json] VALUE\n"
    "       meridian search [--data DIR] [--org NAME] [--json] -\n"
    "\n"
    "Finds the objects of the node that mention VALUE (docs/console.md, \"Search\"):\n"
    "an IPv4/IPv6 address or CIDR, a domain, a URL, an e-mail address or an\n"
    "MD5/SHA-1/SHA-256/SHA-512 hash (defanged forms such as evil[.]com and hxxp://\n"
    "are accepted). SCOs holding the value and indicators whose pattern compares\n"
    "against it are found exactly, by CIDR containment both ways (an address\n"
    "inside an indicator's range; the records inside a searched range) and by\n"
    "domain suffix both ways (evil.com finds a.evil.com, never notevil.com).\n"
    "Anything else is looked up as words in names and descriptive text\n"
    "(description, a note's abstract and content, an opinion's explanation):\n"
    "every word must be there, the last may be the start of one, a word with\n"
    "punctuation is a phrase, operators are plain words; at most 512 bytes and 16\n"
    "words. A value's hits come first, then the objects whose text mentions it\n"
    "(not for addresses). Each of the first 50 objects also lists the reports,\n"
    "notes, opinions and groupings referencing it and its based-on / indicates\n"
    "relationships, as far as the org may read them and their other ends.\n"
    "\n"
    "With '-', reads a list (one value per line, up to 10,000) or any text from\n"
    "stdin, picks the values out of it and says for each whether and where it is\n"
    "known (bulk lookup, as POST /api/v1/search).\n"
    "\n" CLI_DATA_HELP "  --org NAME   search as this org: only what it may read through TAXII is\n"
    "               shown (default: the node's own org)\n"
    "  --limit N    objects listed at most (default 200, at most 1000)\n"
    "  --json       print the answer as JSON (the API's shape)\n"
    "\n"
    "Output: one line per object: TLP, id, type, how it matches (exact, contains,\n"
    "within; via pattern or URL host; text), source, collection and label; then\n"
    "one indented line per container referencing it and per relationship.\n"
    "\n"
    "Exit status: 0 something was found, 1 nothing was found, 2 usage or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_search = {
    .name = "search",
    .summary = "find the objects that mention an address, domain, URL, e-mail, hash or words",
    .usage = usage,
    .run = run,
};

/* Prints s, cut at max bytes, escaped (core/str.h): labels are other
 * people's text and must not drive the terminal. */
static void put_clean(const char *s, size_t max)
{
    size_t n = strlen(s);

    fputs(MRD_ESCN(s, n > max ? max : n), stdout);
    if (n > max)
        fputs("...", stdout);
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

static void print_result(const json_t *r)
{
    const char *via = str(r, "via");

    printf("  %-12s ", str(r, "tlp"));
    put_clean(str(r, "id"), STORE_STIX_ID_MAX);
    putchar(' ');
    put_clean(str(r, "type"), STORE_TYPE_MAX);
    bool plain = strcmp(via, "value") == 0 || strcmp(via, "text") == 0;
    const json_t *e;
    size_t i;

    printf(" %s%s%s ", str(r, "match"), plain ? "" : " via ", plain ? "" : via);
    put_clean(str(r, "matched"), 80);
    fputs(" source=", stdout);
    put_clean(str(r, "source"), 64);
    fputs(" collection=", stdout);
    put_clean(str(r, "collection"), 64);
    if (json_is_string(json_object_get(r, "label"))) {
        fputs(" label=", stdout);
        put_clean(str(r, "label"), 100);
    }
    putchar('\n');
    json_array_foreach(json_object_get(r, "referenced_by"), i, e)
    {
        fputs("      referenced by ", stdout);
        put_clean(str(e, "id"), STORE_STIX_ID_MAX);
        if (json_is_string(json_object_get(e, "label"))) {
            putchar(' ');
            put_clean(str(e, "label"), 100);
        }
        putchar('\n');
    }
    json_array_foreach(json_object_get(r, "related"), i, e)
    {
        const json_t *o = json_object_get(e, "other");
        printf("      %s ", strcmp(str(e, "direction"), "out") == 0 ? "->" : "<-");
        put_clean(str(e, "relationship_type"), 64);
        putchar(' ');
        put_clean(str(o, "id"), STORE_STIX_ID_MAX);
        putchar('\n');
    }
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_ORG, O_LIMIT, O_JSON };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"org", required_argument, NULL, O_ORG},
        {"limit", required_argument, NULL, O_LIMIT},
        {"json", no_argument, NULL, O_JSON},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *org_name = NULL, *value;
    struct store *st = NULL;
    struct store_org org;
    struct dash_who who;
    struct admin_actor actor;
    char token[STORE_READ_WHO_MAX + 1];
    struct privacy_policy *privacy = NULL;
    struct mrd_buf in;
    struct mrd_err err = {0};
    json_t *out = NULL, *e;
    uint64_t limit = DASH_SEARCH_LIMIT;
    bool as_json = false;
    size_t i, found = 0;
    int c, ret;
    enum mrd_code rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_LIMIT:
            if (mrd_str_to_u64(optarg, strlen(optarg), STORE_SEARCH_MAX, &limit, NULL) != MRD_OK ||
                limit == 0)
                return cli_usage_error(&cli_verb_search, "--limit must be 1..%d", STORE_SEARCH_MAX);
            break;
        case O_JSON:
            as_json = true;
            break;
        default:
            return cli_usage_error(&cli_verb_search, "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cli_verb_search, "give one VALUE, or - to read stdin");
    value = argv[optind];
    data = cli_data_dir(data);
    ret = cli_data_open("search", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    ret = cli_data_org("search", st, org_name, &org);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_USAGE;
    /* a partner sees what the node's outbound privacy policy leaves it,
     * as over TAXII and in the console */
    if (org.relation == POLICY_REL_PARTNER && fed_privacy_load(data, &privacy, &err) != MRD_OK) {
        cli_errorf("search", "%s", err.msg);
        goto out;
    }
    admin_actor_cli(&actor);
    (void)snprintf(token, sizeof(token), "cli:%s", actor.name);
    who = (struct dash_who){.org_key = org.key,
                            .relation = org.relation,
                            .privacy = privacy,
                            .org_name = org.name,
                            .token = token};
    mrd_buf_init(&in, DASH_BULK_TEXT_MAX);
    if (strcmp(value, "-") == 0) {
        rc = cli_read_file("-", DASH_BULK_TEXT_MAX, &in, &err);
        if (rc == MRD_OK)
            rc = dash_search_bulk(st, &who, in.data != NULL ? in.data : "", in.len, &out, &err);
    } else {
        rc = dash_search(st, &who, value, strlen(value), (size_t)limit, &out, &err);
    }
    mrd_buf_release(&in);
    if (rc != MRD_OK) {
        cli_errorf("search", "%s", err.msg);
        goto out;
    }
    if (as_json && cli_print_json(out, JSON_INDENT(2)) != MRD_OK) {
        cli_errorf("search", "out of memory");
        goto out;
    }
    if (json_object_get(out, "values") != NULL) {
        json_array_foreach(json_object_get(out, "values"), i, e)
        {
            json_int_t n = json_integer_value(json_object_get(e, "found"));
            json_t *r;
            size_t k;
            found += n > 0;
            if (as_json)
                continue;
            put_clean(str(e, "value"), STORE_VALUE_KEY_MAX * 3);
            printf(" (%s): %s%s\n", str(e, "kind"), n > 0 ? "known" : "not known",
                   json_is_true(json_object_get(e, "more")) ? ", more than listed" : "");
            json_array_foreach(json_object_get(e, "results"), k, r) print_result(r);
        }
    } else {
        found = json_array_size(json_object_get(out, "results"));
        if (!as_json) {
            printf("%zu%s object%s mention%s ", found,
                   json_is_true(json_object_get(out, "more")) ? "+" : "", found == 1 ? "" : "s",
                   found == 1 ? "s" : "");
            put_clean(str(out, strcmp(str(out, "kind"), "text") == 0 ? "query" : "value"),
                      STORE_VALUE_KEY_MAX * 3);
            printf(" (%s)\n", str(out, "kind"));
            json_array_foreach(json_object_get(out, "results"), i, e) print_result(e);
        }
    }
    ret = found > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    json_decref(out);
    privacy_policy_free(privacy);
    store_close(st);
    return ret;
}
