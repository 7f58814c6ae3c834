/*
 * cli_retention.c: `meridian retention run [--dry-run]` and `meridian
 * retention show` (docs/privacy.md, "Retention"). Parses arguments, calls
 * forget/ (forget.h), prints and picks the exit code; `serve` runs the same
 * forget_retention_run on its schedule.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_forget.h"
#include "cli/cli_rules.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "forget/forget.h"

#define VERB "retention"

enum mrd_code cli_forget_item(void *ctx, const struct forget_item *it, struct mrd_err *err)
{
    struct cli_forget_out *o = ctx;
    const struct store_row *row = it->o->row;
    char ver[MRD_TIME_TAXII_LEN + 1] = "-";
    const char *what = it->held ? "held" : o->dry_run ? "would-erase" : "erased";

    (void)err;
    if (row->version_usec != STORE_VERSION_NONE && row->version_usec != STORE_TIME_NONE)
        mrd_time_format_taxii(row->version_usec, ver);
    if (o->all != NULL) {
        json_t *j = json_pack("{s:s, s:s%, s:s%, s:s, s:s, s:s}", "action", what, "id", row->id,
                              row->id_len, "type", row->type, row->type_len, "version", ver,
                              "collection", it->o->collection_id, "api_root", it->o->api_root);

        if (j != NULL && it->rule >= 0)
            (void)json_object_set_new(j, "rule", json_integer(it->rule));
        if (j == NULL || json_array_append_new(o->all, j) != 0)
            return MRD_E_NOMEM;
        return MRD_OK;
    }
    printf("%-11s  %-16s  %s  %s", what, MRD_ESCN(row->type, row->type_len),
           MRD_ESCN(row->id, row->id_len), ver);
    if (it->rule >= 0)
        printf("  rule %ld", it->rule);
    printf("\n");
    return MRD_OK;
}

int cli_forget_done(const char *verb, enum mrd_code rc, const struct mrd_err *err, struct store *st,
                    const char *data, struct cli_forget_out *o, const struct forget_result *r)
{
    if (rc != MRD_OK) {
        cli_errorf(verb, "%s", err->msg);
        return rc == MRD_E_NOTFOUND ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    if (r->erased > 0)
        cli_data_ledger_catch_up(verb, st, data);
    if (o->all != NULL) {
        json_t *j = json_pack("{s:I, s:I, s:I, s:b, s:o}", "matched", (json_int_t)r->expired,
                              "erased", (json_int_t)r->erased, "held", (json_int_t)r->held,
                              "dry_run", o->dry_run, "versions", o->all);

        o->all = NULL;
        if (j == NULL || cli_print_json(j, JSON_INDENT(2)) != MRD_OK) {
            json_decref(j);
            cli_errorf(verb, "out of memory");
            return CLI_EXIT_USAGE;
        }
        json_decref(j);
    }
    fprintf(stderr, "meridian %s: %zu version(s) %s, %zu erased, %zu kept under a legal hold\n",
            verb, r->expired, strcmp(verb, VERB) == 0 ? "expired" : "matched", r->erased, r->held);
    return CLI_EXIT_OK;
}

static int cmd_run(int argc, char **argv, bool show)
{
    const char *data = NULL;
    struct cli_forget_out o = {0};
    struct forget_policy p;
    struct forget_result r = {0};
    struct store *st = NULL;
    struct mrd_err err = {0};
    bool found = false;
    enum mrd_code rc;
    int ret;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (!show && strcmp(argv[i], "--dry-run") == 0)
            o.dry_run = true;
        else if (!show && strcmp(argv[i], "--json") == 0)
            o.all = json_array();
        else
            return cli_usage_error(&cli_verb_retention, "%s: unexpected argument '%s'", argv[0],
                                   argv[i]);
    }
    data = cli_data_dir(data);
    if (forget_policy_load(data, &p, &found, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        json_decref(o.all);
        return CLI_EXIT_FAIL;
    }
    if (show) {
        if (!found)
            printf("no %s/%s: every object is kept\n", MRD_ESC(data), FORGET_FILE);
        for (size_t i = 0; i < p.n; i++)
            printf("rule %zu: %s in %s: %u days from %s\n", i, MRD_ESC(p.rules[i].type),
                   p.rules[i].collection[0] ? MRD_ESC(p.rules[i].collection) : "every collection",
                   p.rules[i].days,
                   p.rules[i].basis == FORGET_FROM_VALID_UNTIL ? "valid_until" : "added");
        forget_policy_free(&p);
        return CLI_EXIT_OK;
    }
    if (!found)
        fprintf(stderr, "meridian retention: no %s/%s: nothing expires\n", MRD_ESC(data),
                FORGET_FILE);
    ret = cli_data_open(VERB, data, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    rc =
        forget_retention_run(st, &p, mrd_time_now_usec(), o.dry_run, cli_forget_item, &o, &r, &err);
    ret = cli_forget_done(VERB, rc, &err, st, data, &o, &r);
out:
    json_decref(o.all);
    forget_policy_free(&p);
    store_close(st);
    return ret;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_retention, "missing subcommand");
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1, false);
    if (strcmp(argv[1], "show") == 0)
        return cmd_run(argc - 1, argv + 1, true);
    if (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "list") == 0 ||
        strcmp(argv[1], "remove") == 0)
        return cli_retention_rules(argc - 1, argv + 1);
    return cli_usage_error(&cli_verb_retention, "unknown subcommand '%s'", MRD_ESC(argv[1]));
}

const struct cli_verb cli_verb_retention = {
    .name = "retention",
    .summary = "retention rules (add|list|remove); delete object versions past their "
               "retention (DATA/retention.json)",
    .usage =
        "usage: meridian retention run [--dry-run] [--json] [--data DIR]\n"
        "       meridian retention show [--data DIR]\n"
        "       meridian retention add --type T --days N [--collection ROOT/ALIAS|ID]\n"
        "                              [--from added|valid_until] [--data DIR]\n"
        "       meridian retention list [--json] [--data DIR]\n"
        "       meridian retention remove N [--data DIR]\n"
        "\n"
        "add, list and remove change the rules one at a time: each change is checked\n"
        "by the same parser as the file (and a named collection must exist), refused\n"
        "with the member named (exit 1, nothing changed) or written atomically with an\n"
        "audit record (object retention, 'meridian audit'). serve reads the file again\n"
        "every round: no restart needed. The admin API does the same: GET/POST\n"
        "/api/v1/retention, DELETE /api/v1/retention/N.\n"
        "\n"
        "Forgetting on schedule. DATA/retention.json says how long object versions\n"
        "are kept, per collection and per STIX type:\n"
        "\n"
        "  {\"rules\": [\n"
        "    {\"type\": \"sighting\", \"days\": 180},\n"
        "    {\"collection\": \"ROOT/ALIAS\", \"type\": \"observed-data\", \"days\": 90},\n"
        "    {\"type\": \"indicator\", \"days\": 365, \"from\": \"valid_until\"}]}\n"
        "\n"
        "For each version the first rule (in file order) whose collection (an id or\n"
        "ROOT/ALIAS; absent: every collection) and type (\"*\": any) match decides;\n"
        "a version no rule matches is kept. `from` is \"added\" (the day this node\n"
        "stored the version, the default) or \"valid_until\" (the version's own\n"
        "valid_until; a version without one is kept).\n"
        "\n"
        "run      erases every expired version from the store and from every index\n"
        "         (search by value, free text, references, the overview's counts),\n"
        "         so TAXII, the console and search no longer return it. The ledger\n"
        "         keeps its leaf (a hash, never the bytes), so `meridian ledger\n"
        "         verify` still verifies; each batch erased is recorded in the ledger\n"
        "         as an \"erasure\" event naming the versions by SHA-256 and leaf. A\n"
        "         version under an active legal hold is kept and listed as held; once\n"
        "         the hold is released or lapses, the next run erases it. `serve`\n"
        "         runs the same job every `retention_interval` seconds (default\n"
        "         3600; 0 turns it off).\n"
        "         Lines: ACTION TYPE ID VERSION rule N, ACTION erased, would-erase\n"
        "         (--dry-run) or held; a summary on stderr.\n"
        "show     prints the rules.\n"
        "\n"
        "  --dry-run    list what would be erased; change nothing\n"
        "  --json       {matched, erased, held, dry_run, versions: [...]} on stdout\n" CLI_DATA_HELP
        "\n"
        "Exit: 0 done (also when nothing expired), 1 a bad retention file or a rule\n"
        "naming an unknown collection (the member is named), 2 usage or I/O error.\n",
    .run = run,
};
