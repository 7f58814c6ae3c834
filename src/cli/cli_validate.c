/*
 * meridian validate: check STIX 2.1 files with stix/ and say why they fail.
 *
 * Each FILE ("-" is stdin) is read as a stream (core/jstream.h): every
 * element of a bundle's or envelope's "objects" (or of a top-level list) is
 * parsed as strict I-JSON and checked on its own (stix_stream_*), so memory
 * stays bounded whatever the size; a document without such a list (one
 * object) is read whole, at most STIX_MAX_DOCUMENT bytes. Text output is one
 * summary line per file followed by its findings; --json prints one JSON
 * object per file per line (JSON Lines) so scripts can stream it.
 * A file that cannot be read is a usage/I-O problem (exit 2); a file that
 * is not JSON is simply invalid (exit 1), like any other bad STIX.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/jstream.h"
#include "core/str.h"
#include "stix/stix.h"

struct opts {
    unsigned flags;
    bool json;
    bool quiet;
    unsigned threads; /* that check objects (stix_stream_threads) */
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

/* After this many objects, the rest of a regular file is guessed to hold
 * objects of the same average size (plus a twentieth), and the
 * cross-object tables are made that large at once (stix_stream_expect):
 * a file of a few large objects never gets tables it does not need. */
#define EXPECT_AFTER 1024

static uint64_t file_size(FILE *f)
{
    struct stat sb;

    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0)
        return 0;
    return (uint64_t)sb.st_size;
}

/* Reads path as a stream (core/jstream.h): each element of "objects" (or
 * of a top-level list) is parsed and checked on its own (stix_stream_*),
 * the other top-level members are kept in head; a document with no list
 * to stream ends up whole in head (or *ret_value) instead. Returns
 * MRD_E_PARSE with err set when the document itself is not JSON. */
static enum mrd_code stream_file(FILE *f, const struct opts *o, struct stix_report *rep,
                                 json_t *head, json_t **ret_value, struct mrd_jstream **ret_js,
                                 struct mrd_err *err)
{
    struct mrd_jstream_opts jo = {"objects", STIX_STREAM_MAX_OBJECT, STIX_MAX_DOCUMENT,
                                  MRD_JSON_MAX_DEPTH};
    struct stix_stream *ss = NULL;
    struct mrd_jstream *js = NULL;
    struct mrd_jstream_event ev;
    size_t n = 0;
    uint64_t size = file_size(f);
    enum mrd_code rc;

    rc = mrd_jstream_open(&jo, mrd_jstream_read_file, f, &js, err);
    *ret_js = js;
    while (rc == MRD_OK) {
        struct mrd_err perr = {0};
        json_t *v = NULL;

        rc = mrd_jstream_next(js, &ev, err);
        if (rc != MRD_OK || ev.kind == MRD_JSTREAM_END)
            break;
        if (ev.kind == MRD_JSTREAM_ITEM) { /* parsed and checked by stix_stream_text */
            if (ss == NULL) {
                rc = stix_stream_begin(o->flags, mrd_jstream_top(js) == MRD_JSTREAM_TOP_LIST, rep,
                                       &ss, err);
                if (rc == MRD_OK)
                    stix_stream_threads(ss, o->threads);
            }
            if (rc == MRD_OK && n == EXPECT_AFTER && size > ev.offset && ev.offset > 0)
                stix_stream_expect(ss, (size_t)((double)size / (double)ev.offset * n * 1.05));
            if (rc == MRD_OK)
                rc = stix_stream_text(ss, ev.index, ev.offset, ev.text, ev.len, err);
            n++;
            continue;
        }
        if (mrd_jstream_parse(&ev, &v, &perr) != MRD_OK && perr.code == MRD_E_NOMEM) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "%s", perr.msg);
            break;
        }
        if (v == NULL) {
            rc = mrd_err_set(err, MRD_E_PARSE, "%s at byte %llu: %s",
                             ev.kind == MRD_JSTREAM_MEMBER ? "a top-level member" : "the document",
                             (unsigned long long)ev.offset, perr.msg);
        } else if (ev.kind == MRD_JSTREAM_VALUE) {
            *ret_value = v;
            v = NULL;
        } else if (json_object_get(head, ev.key) != NULL) {
            rc = mrd_err_set(err, MRD_E_PARSE, "a second member \"%.60s\" at byte %llu", ev.key,
                             (unsigned long long)ev.offset);
        } else {
            if (strcmp(ev.key, "type") == 0 && !mrd_jstream_list_seen(js) &&
                !(json_is_string(v) && strcmp(json_string_value(v), "bundle") == 0))
                mrd_jstream_whole_list(js); /* one object: its "objects" is a property */
            if (json_object_set(head, ev.key, v) != 0)
                rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        }
        json_decref(v);
    }
    if (rc == MRD_OK && ss != NULL)
        rc = stix_stream_flush(ss, err);
    stix_stream_free(ss);
    if (rc == MRD_OK && (mrd_jstream_list_seen(js) || mrd_jstream_top(js) == MRD_JSTREAM_TOP_LIST))
        rc = stix_stream_end(rep, mrd_jstream_top(js) == MRD_JSTREAM_TOP_LIST ? NULL : head, n,
                             o->flags, err);
    return rc;
}

/* Validates one file. Returns the exit code it deserves on its own. */
static int one(const char *path, const struct opts *o, struct stix_report *rep)
{
    struct mrd_err err = {0};
    struct mrd_jstream *js = NULL;
    json_t *head = json_object(), *value = NULL;
    FILE *f;
    int ret = CLI_EXIT_USAGE;
    enum mrd_code rc;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL || head == NULL) {
        (void)mrd_err_sys(&err, MRD_E_IO, errno, "%s", path);
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
    stix_report_reset(rep);
    rc = stream_file(f, o, rep, head, &value, &js, &err);
    if (rc == MRD_OK && !mrd_jstream_list_seen(js) &&
        mrd_jstream_top(js) != MRD_JSTREAM_TOP_LIST) /* nothing streamed: the whole document */
        rc = stix_validate_document(value != NULL ? value : head, o->flags, rep, &err);
    if (rc == MRD_E_PARSE || rc == MRD_E_TOOBIG) {
        ret = CLI_EXIT_FAIL;
        if (o->json)
            print_json(path, NULL, "json-syntax", err.msg);
        else
            printf("%s: INVALID (not JSON): %s\n", MRD_ESC(path), MRD_ESC(err.msg));
        goto out;
    }
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
    mrd_jstream_close(js);
    json_decref(head);
    json_decref(value);
    if (f != NULL && f != stdin)
        (void)fclose(f);
    return ret;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"strict", no_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},  {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},   {NULL, 0, NULL, 0},
    };
    struct opts o = {0};
    struct stix_report rep;
    int worst = CLI_EXIT_OK;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t t;
    int ch;

    o.threads = cpus < 1                         ? 1
                : cpus > STIX_STREAM_MAX_THREADS ? STIX_STREAM_MAX_THREADS
                                                 : (unsigned)cpus;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "sjqt:h", longopts, NULL)) != -1) {
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
        case 't':
            if (mrd_str_to_u64(optarg, strlen(optarg), STIX_STREAM_MAX_THREADS, &t, NULL) !=
                    MRD_OK ||
                t == 0)
                return cli_usage_error(&cli_verb_validate, "--threads: expected 1..4");
            o.threads = (unsigned)t;
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
        "usage: meridian validate [--strict] [--json] [--quiet] [--threads N] FILE...\n"
        "\n"
        "Checks each FILE ('-' reads stdin) against the MUST rules of STIX 2.1\n"
        "(identifiers, timestamps, required and forbidden properties per type,\n"
        "versioning, TLP 1.0/2.0 canonical markings, granular marking selectors,\n"
        "custom naming, extensions, reference types, indicator patterns...).\n"
        "A FILE may hold a bundle, a single object, a TAXII 2.1 envelope or a\n"
        "JSON list of objects. Bundles, envelopes and lists are read as a stream,\n"
        "one object (at most 16 MiB) at a time, so memory stays bounded whatever\n"
        "the file size; 'objects' may come before 'type'. A single object is read\n"
        "whole, up to 512 MiB. An object that is not JSON is an error at its path;\n"
        "a truncated file or a depth bomb is 'not JSON', with the byte offset.\n"
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
        "  -t, --threads N  check the objects of a bundle, envelope or list on N\n"
        "                 threads (1 to 4; default: the online CPUs, at most 4)\n"
        "                 while this one reads; findings and their order are the\n"
        "                 same whatever N\n"
        "\n"
        "exit status: 0 every file is valid, 1 some file is invalid (or not JSON),\n"
        "2 usage error or a file could not be read.\n"
        "See docs/validate.md for the rule ids.\n",
    .run = run,
};
