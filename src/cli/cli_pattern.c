/*
 * cli_pattern.c: `meridian pattern check|print|eval` over src/pattern/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/json.h"
#include "pattern/pattern.h"

#define CLI_PATTERN_MAX_PRINT ((size_t)1024 * 1024) /* canonical form of one pattern */

static int do_check(const char *src)
{
    struct mrd_err err = {0};

    if (pat_check(src, strlen(src), &err) != MRD_OK) {
        cli_errorf("pattern", "%s", err.msg);
        return CLI_EXIT_FAIL;
    }
    printf("valid\n");
    return CLI_EXIT_OK;
}

static int do_print(const char *src)
{
    struct mrd_err err = {0};
    struct pat_ast *ast = NULL;
    struct mrd_buf out;
    int ret = CLI_EXIT_FAIL;

    mrd_buf_init(&out, CLI_PATTERN_MAX_PRINT);
    if (pat_parse(src, strlen(src), &ast, &err) != MRD_OK) {
        cli_errorf("pattern", "%s", err.msg);
        goto out;
    }
    if (pat_print(ast, &out, &err) != MRD_OK) {
        cli_errorf("pattern", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    /* The canonical form repeats the pattern's strings: escaped, as is
     * everything printed from outside (a pattern with a control character
     * in a string then prints as text that no longer parses). */
    cli_print_escaped(out.data != NULL ? out.data : "", out.len);
    ret = CLI_EXIT_OK;
out:
    mrd_buf_release(&out);
    pat_ast_free(ast);
    return ret;
}

static int do_eval(const char *src, const char *path)
{
    struct mrd_err err = {0};
    struct pat_prog *prog = NULL;
    struct mrd_buf file;
    json_t *data = NULL;
    bool match = false;
    int ret = CLI_EXIT_USAGE;

    mrd_buf_init(&file, CLI_MAX_INPUT_FILE);
    if (pat_prog_new(src, strlen(src), &prog, &err) != MRD_OK) {
        cli_errorf("pattern", "%s", err.msg);
        goto out;
    }
    if (cli_read_file(path, CLI_MAX_INPUT_FILE, &file, &err) != MRD_OK ||
        mrd_json_parse(file.data != NULL ? file.data : "", file.len, NULL, &data, &err) != MRD_OK) {
        cli_errorf("pattern", "%s: %s", path, err.msg);
        goto out;
    }
    if (pat_eval_json(prog, data, NULL, &match, &err) != MRD_OK) {
        cli_errorf("pattern", "%s: %s", path, err.msg);
        goto out;
    }
    printf("%s\n", match ? "match" : "no match");
    ret = match ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    json_decref(data);
    mrd_buf_release(&file);
    pat_prog_free(prog);
    return ret;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_verb_pattern, "needs a subcommand");
    if (strcmp(argv[1], "check") == 0 && argc == 3)
        return do_check(argv[2]);
    if (strcmp(argv[1], "print") == 0 && argc == 3)
        return do_print(argv[2]);
    if (strcmp(argv[1], "eval") == 0 && argc == 4)
        return do_eval(argv[2], argv[3]);
    return cli_usage_error(&cli_verb_pattern, "unknown subcommand or wrong number of arguments");
}

const struct cli_verb cli_verb_pattern = {
    .name = "pattern",
    .summary = "check, print and evaluate STIX 2.1 patterns",
    .usage = "usage: meridian pattern check PATTERN\n"
             "       meridian pattern print PATTERN\n"
             "       meridian pattern eval PATTERN FILE\n"
             "\n"
             "STIX 2.1 patterning (STIX 2.1 section 9).\n"
             "\n"
             "  check  parse PATTERN and run the semantic checks; prints 'valid' and exits 0,\n"
             "         or prints the error (byte offset, what was expected, spec section) on\n"
             "         stderr and exits 1.\n"
             "  print  print the canonical form of PATTERN (exit 1 if it is invalid).\n"
             "  eval   decide whether PATTERN matches the observed data in FILE ('-' is stdin):\n"
             "         a STIX bundle, a JSON list of observed-data objects with their SCOs (or\n"
             "         of bundles), or one observed-data object (2.0 'objects' dictionaries are\n"
             "         accepted). Prints 'match' and exits 0, or 'no match' and exits 1; exits 2\n"
             "         on an invalid pattern or unreadable or malformed data.\n",
    .run = run,
};
