/*
 * `meridian privacy policy add|list|remove` and `meridian retention
 * add|list|remove`: the rules of DATA/privacy-policy.json and
 * DATA/retention.json, changed through admin_apply (admin.h, "rule
 * files") so that each change is checked by the node's own parser and
 * audited. Parses arguments, calls admin/, prints.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_rules.h"
#include "cli/verbs.h"
#include "core/str.h"

#define KEY_FILE_MAX 130 /* 64 hex digits, a newline, some slack */

static int list(const struct cli_verb *verb, const struct admin_rules_file *f, int argc,
                char **argv)
{
    const char *data = NULL;
    json_t *doc = NULL, *shown, *r;
    struct mrd_err err = {0};
    bool as_json = false;
    size_t i;

    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--data") == 0 && k + 1 < argc)
            data = argv[++k];
        else if (strcmp(argv[k], "--json") == 0)
            as_json = true;
        else
            return cli_usage_error(verb, "list: unexpected argument '%s'", MRD_ESC(argv[k]));
    }
    if (admin_rules_read(cli_data_dir(data), f, &doc, &err) != MRD_OK) {
        cli_errorf(verb->name, "%s", err.msg);
        return CLI_EXIT_FAIL;
    }
    shown = admin_rules_redacted(f, json_object_get(doc, "rules"));
    json_decref(doc);
    if (as_json) {
        json_t *out = json_pack("{s:o}", "rules", shown);
        int rc = out != NULL && cli_print_json(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == MRD_OK
                     ? CLI_EXIT_OK
                     : CLI_EXIT_FAIL;
        json_decref(out);
        return rc;
    }
    json_array_foreach(shown, i, r)
    {
        char *text = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        printf("%zu\t%s\n", i + 1, text != NULL ? text : "?");
        free(text);
    }
    if (json_array_size(shown) == 0)
        fprintf(stderr, "meridian %s: no rules in %s\n", verb->name, f->name);
    json_decref(shown);
    return CLI_EXIT_OK;
}

static int apply(const struct cli_verb *verb, const struct admin_rules_file *f, const char *data,
                 const json_t *rule, size_t remove)
{
    struct store *st = NULL;
    struct admin a;
    struct mrd_err err = {0};
    int ret = cli_data_open(verb->name, cli_data_dir(data), &st);
    enum mrd_code rc;

    if (ret != CLI_EXIT_OK)
        return ret;
    cli_data_admin(st, cli_data_dir(data), &a);
    rc = rule != NULL ? admin_rule_add(&a, f, rule, &err) : admin_rule_remove(&a, f, remove, &err);
    if (rc != MRD_OK) {
        cli_errorf(verb->name, "%s", err.msg);
        ret = CLI_EXIT_FAIL;
    } else {
        cli_data_ledger_catch_up(verb->name, st, cli_data_dir(data));
        printf("%s: rule %s\n", f->name, rule != NULL ? "added" : "removed");
    }
    store_close(st);
    return ret;
}

static int remove_rule(const struct cli_verb *verb, const struct admin_rules_file *f, int argc,
                       char **argv)
{
    const char *data = NULL, *n = NULL;
    uint64_t v = 0;

    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--data") == 0 && k + 1 < argc)
            data = argv[++k];
        else if (n == NULL)
            n = argv[k];
        else
            return cli_usage_error(verb, "remove: unexpected argument '%s'", MRD_ESC(argv[k]));
    }
    if (n == NULL || mrd_str_to_u64(n, strlen(n), f->max_rules, &v, NULL) != MRD_OK || v == 0)
        return cli_usage_error(verb, "remove needs the rule's number N (1..%zu, as 'list' shows)",
                               f->max_rules);
    return apply(verb, f, data, NULL, (size_t)v);
}

/* The key file's text (64 hex digits; the policy parser checks them). */
static int read_key(const struct cli_verb *verb, const char *path, char out[KEY_FILE_MAX + 1])
{
    FILE *in = fopen(path, "rb");
    size_t n;

    if (in == NULL) {
        cli_errorf(verb->name, "--key-file %s: cannot open", MRD_ESC(path));
        return CLI_EXIT_FAIL;
    }
    n = fread(out, 1, KEY_FILE_MAX, in);
    (void)fclose(in);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return CLI_EXIT_OK;
}

static int privacy_add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"scope", required_argument, NULL, 's'},
        {"type", required_argument, NULL, 't'},
        {"property", required_argument, NULL, 'p'},
        {"action", required_argument, NULL, 'a'},
        {"key-file", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *scope = NULL, *type = NULL, *prop = NULL, *action = NULL;
    const char *key_file = NULL;
    char key[KEY_FILE_MAX + 1];
    json_t *rule;
    int ch, ret;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 's':
            scope = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'p':
            prop = optarg;
            break;
        case 'a':
            action = optarg;
            break;
        case 'k':
            key_file = optarg;
            break;
        default:
            return cli_usage_error(&cli_verb_privacy, "policy add: unknown option");
        }
    }
    if (optind != argc || scope == NULL || type == NULL || prop == NULL || action == NULL)
        return cli_usage_error(&cli_verb_privacy,
                               "policy add needs --scope, --type, --property and --action");
    rule = json_pack("{s:s,s:s,s:s,s:s}", "scope", scope, "type", type, "property", prop, "action",
                     action);
    if (rule == NULL)
        return cli_usage_error(&cli_verb_privacy, "policy add: the values must be UTF-8");
    if (key_file != NULL) {
        ret = read_key(&cli_verb_privacy, key_file, key);
        if (ret != CLI_EXIT_OK) {
            json_decref(rule);
            return ret;
        }
        (void)json_object_set_new(rule, "key", json_string(key));
    }
    ret = apply(&cli_verb_privacy, &admin_privacy_rules, data, rule, 0);
    json_decref(rule);
    return ret;
}

int cli_privacy_policy(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_privacy, "policy needs add, list or remove");
    if (strcmp(argv[1], "add") == 0)
        return privacy_add(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return list(&cli_verb_privacy, &admin_privacy_rules, argc - 1, argv + 1);
    if (strcmp(argv[1], "remove") == 0)
        return remove_rule(&cli_verb_privacy, &admin_privacy_rules, argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_privacy, "policy: unknown subcommand '%s'", MRD_ESC(argv[1]));
}

static int retention_add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"collection", required_argument, NULL, 'c'},
        {"type", required_argument, NULL, 't'}, {"days", required_argument, NULL, 'n'},
        {"from", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *coll = NULL, *type = NULL, *from = NULL;
    uint64_t days = 0;
    bool have_days = false;
    json_t *rule;
    int ch, ret;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'c':
            coll = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'n':
            if (mrd_str_to_u64(optarg, strlen(optarg), UINT32_MAX, &days, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_retention, "--days: want a whole number");
            have_days = true;
            break;
        case 'f':
            from = optarg;
            break;
        default:
            return cli_usage_error(&cli_verb_retention, "add: unknown option");
        }
    }
    if (optind != argc || type == NULL || !have_days)
        return cli_usage_error(&cli_verb_retention, "add needs --type and --days");
    rule = json_object();
    if (rule != NULL && coll != NULL)
        (void)json_object_set_new(rule, "collection", json_string(coll));
    if (rule != NULL) {
        (void)json_object_set_new(rule, "type", json_string(type));
        (void)json_object_set_new(rule, "days", json_integer((json_int_t)days));
    }
    if (rule != NULL && from != NULL)
        (void)json_object_set_new(rule, "from", json_string(from));
    if (rule == NULL)
        return cli_usage_error(&cli_verb_retention, "add: out of memory");
    ret = apply(&cli_verb_retention, &admin_retention_rules, data, rule, 0);
    json_decref(rule);
    return ret;
}

int cli_retention_rules(int argc, char **argv)
{
    if (strcmp(argv[0], "add") == 0)
        return retention_add(argc, argv);
    if (strcmp(argv[0], "list") == 0)
        return list(&cli_verb_retention, &admin_retention_rules, argc, argv);
    return remove_rule(&cli_verb_retention, &admin_retention_rules, argc, argv);
}
