/*
 * meridian validate: check STIX 2.1 files with stix/ and say why they fail.
 *
 * Each FILE ("-" is stdin) is read whole (at most STIX_MAX_DOCUMENT bytes),
 * parsed as strict I-JSON and validated as a document. Text output is one
 * summary line per file followed by its findings; --json prints one JSON
 * object per file per line (JSON Lines) so scripts can stream it.
 * A file that cannot be read is a usage/I-O problem (exit 2); a file that
 * is not JSON is simply invalid (exit 1), like any other bad STIX.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "stix/stix.h"

struct opts {
    unsigned flags;
    bool json;
    bool quiet;
};

/* Prints one file's result as a JSON line; `extra` (may be NULL) replaces
 * the report for files that never got to validation. */
static void print_json(const char *path, const struct stix_report *rep, const char *rule,
                       const char *msg)
{
    json_t *o = NULL;

    /* JSON strings are UTF-8: a file name that is not shows escaped. */
    if (!mrd_utf8_valid(path, strlen(path)))
        path = MRD_ESC(path);

    if (rule != NULL) {
        o = json_pack("{s:s, s:b, s:s, s:i, s:i, s:i, s:b, s:[{s:s, s:s, s:s, s:s, s:s, s:i}]}",
                      "file", path, "valid", 0, "kind", "unknown", "objects", 0, "errors", 1,
                      "warnings", 0, "truncated", 0, "findings", "severity", "error", "rule", rule,
                      "section", "RFC 8259, RFC 7493 (I-JSON)", "path", "$", "message", msg,
                      "object", -1);
    } else if (stix_report_json(rep, &o, NULL) == MRD_OK) {
        if (json_object_set_new(o, "file", json_string(path)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    if (o == NULL || cli_print_json(o, JSON_COMPACT | JSON_PRESERVE_ORDER) != MRD_OK)
        cli_errorf("validate", "%s: out of memory printing the result", path);
    json_decref(o);
}

static void print_text(const char *path, const struct stix_report *rep, const struct opts *o)
{
    char line[STIX_LINE_MAX];

    printf("%s: %s (%s, %zu object%s): %zu error%s, %zu warning%s\n", MRD_ESC(path),
           stix_report_errors(rep) == 0 ? "valid" : "INVALID", stix_doc_kind_str(rep->kind),
           rep->objects, rep->objects == 1 ? "" : "s", stix_report_errors(rep),
           stix_report_errors(rep) == 1 ? "" : "s", stix_report_warnings(rep),
           stix_report_warnings(rep) == 1 ? "" : "s");
    for (size_t i = 0; i < rep->nfindings; i++) {
        const struct stix_finding *f = &rep->findings[i];
        if (o->quiet && f->severity != STIX_ERROR)
            continue;
        (void)stix_finding_format(f, line, sizeof(line));
        /* Paths and values in messages come from the file: escaped. */
        printf("  %-7s %s\n", stix_severity_str(f->severity), MRD_ESC(line));
    }
    if (rep->errors + rep->warnings > rep->nfindings)
        printf("  (%zu more findings not shown; the first %d are kept)\n",
               rep->errors + rep->warnings - rep->nfindings, STIX_MAX_FINDINGS);
}

/* Validates one file. Returns the exit code it deserves on its own. */
static int one(const char *path, const struct opts *o, struct stix_report *rep)
{
    struct mrd_buf b;
    struct mrd_err err = {0};
    struct mrd_json_limits lim = {STIX_MAX_DOCUMENT, MRD_JSON_MAX_DEPTH};
    json_t *doc = NULL;
    int ret = CLI_EXIT_USAGE;
    enum mrd_code rc;

    mrd_buf_init(&b, STIX_MAX_DOCUMENT);
    rc = cli_read_file(path, STIX_MAX_DOCUMENT, &b, &err);
    if (rc != MRD_OK) {
        cli_errorf("validate", "%s", err.msg);
        if (o->json) {
            /* JSON strings are UTF-8: a name or message that is not
             * shows escaped. */
            json_t *j = json_pack("{s:s, s:s}", "file",
                                  mrd_utf8_valid(path, strlen(path)) ? path : MRD_ESC(path),
                                  "error", MRD_ESC(err.msg));
            if (j != NULL)
                (void)cli_print_json(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(j);
        }
        goto out;
    }
    rc = mrd_json_parse(b.data, b.len, &lim, &doc, &err);
    if (rc != MRD_OK) {
        ret = CLI_EXIT_FAIL;
        if (o->json)
            print_json(path, NULL, "json-syntax", err.msg);
        else
            printf("%s: INVALID (not JSON): %s\n", MRD_ESC(path), MRD_ESC(err.msg));
        goto out;
    }
    stix_report_reset(rep);
    rc = stix_validate_document(doc, o->flags, rep, &err);
    if (rc != MRD_OK) {
        cli_errorf("validate", "%s: %s", path, err.msg);
        goto out;
    }
    if (o->json)
        print_json(path, rep, NULL, NULL);
    else
        print_text(path, rep, o);
    ret = stix_report_errors(rep) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    json_decref(doc);
    mrd_buf_release(&b);
    return ret;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"strict", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {0};
    struct stix_report rep;
    int worst = CLI_EXIT_OK;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "sjqh", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            o.flags |= STIX_STRICT;
            break;
        case 'j':
            o.json = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            fputs(cli_verb_validate.usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error(&cli_verb_validate, "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cli_verb_validate, "no FILE given (use - for stdin)");
    stix_report_init(&rep);
    for (int i = optind; i < argc; i++) {
        int r = one(argv[i], &o, &rep);
        /* 2 (could not check) outranks 1 (checked, invalid). */
        if (r == CLI_EXIT_USAGE || (r == CLI_EXIT_FAIL && worst == CLI_EXIT_OK))
            worst = r;
    }
    stix_report_release(&rep);
    fflush(stdout);
    return worst;
}

const struct cli_verb cli_verb_validate = {
    .name = "validate",
    .summary = "check STIX 2.1 files (bundle, object, TAXII envelope, list)",
    .usage =
        "usage: meridian validate [--strict] [--json] [--quiet] FILE...\n"
        "\n"
        "Checks each FILE ('-' reads stdin) against the MUST rules of STIX 2.1\n"
        "(identifiers, timestamps, required and forbidden properties per type,\n"
        "versioning, TLP 1.0/2.0 canonical markings, granular marking selectors,\n"
        "custom naming, extensions, reference types, indicator patterns...).\n"
        "A FILE may hold a bundle, a single object, a TAXII 2.1 envelope or a\n"
        "JSON list of objects, up to 512 MiB.\n"
        "\n"
        "Each finding is printed as\n"
        "  SEVERITY PATH: RULE (SECTION): message\n"
        "e.g. 'error   $.objects[3].created: timestamp-precision (STIX 2.1 §3.2): ...'.\n"
        "SHOULD-level findings are warnings and do not make a file invalid.\n"
        "\n"
        "options:\n"
        "  -s, --strict   treat SHOULD-level findings (warnings) as errors\n"
        "  -j, --json     print one JSON object per file and line: {\"file\", \"valid\",\n"
        "                 \"kind\", \"objects\", \"errors\", \"warnings\", \"truncated\",\n"
        "                 \"findings\": [{\"severity\", \"rule\", \"section\", \"path\",\n"
        "                 \"message\", \"object\"}]}; unreadable files give {\"file\", \"error\"}\n"
        "  -q, --quiet    text output: print errors only, not warnings\n"
        "\n"
        "exit status: 0 every file is valid, 1 some file is invalid (or not JSON),\n"
        "2 usage error or a file could not be read.\n"
        "See docs/validate.md for the rule ids.\n",
    .run = run,
};
