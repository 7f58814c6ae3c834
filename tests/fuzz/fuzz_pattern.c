/*
 * fuzz_pattern: the STIX pattern parser, checker, printer and evaluator.
 *
 * For every input: pat_check must not crash; when the (lenient) parse
 * succeeds, the canonical form must parse again to an equal AST and print
 * identically (the round-trip property), and evaluating the pattern
 * against a small fixed observation set must not crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "pattern/pattern.h"
#include "pattern/pattern_int.h"

static const char observations[] =
    "[{\"type\":\"observed-data\",\"id\":\"observed-data--1\",\"first_observed\":"
    "\"2020-01-01T00:00:00Z\",\"last_observed\":\"2020-01-01T00:00:05Z\",\"number_observed\":3,"
    "\"object_refs\":[\"file--1\",\"ipv4-addr--1\",\"network-traffic--1\"]},"
    "{\"type\":\"file\",\"id\":\"file--1\",\"name\":\"a.exe\",\"size\":10,\"hashes\":{\"MD5\":"
    "\"cead3f77f6cda6ec00f57d76c9a6879f\"},\"magic_number_hex\":\"ffd8\",\"list\":[1,2.5,\"x\","
    "null,true],\"created\":\"2014-01-13T07:03:17Z\"},"
    "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"10.0.0.1\"},"
    "{\"type\":\"network-traffic\",\"id\":\"network-traffic--1\",\"dst_ref\":\"ipv4-addr--1\","
    "\"src_refs\":[\"ipv4-addr--1\",\"file--1\"]},"
    "{\"type\":\"observed-data\",\"id\":\"observed-data--2\",\"first_observed\":"
    "\"2020-01-01T00:01:00Z\",\"last_observed\":\"2020-01-01T00:01:00Z\",\"number_observed\":1,"
    "\"objects\":{\"0\":{\"type\":\"file\",\"name\":\"b.dll\",\"parent_ref\":\"0\"}}}]";

static json_t *data;

static void print_or_die(const struct pat_ast *ast, struct mrd_buf *out)
{
    struct mrd_err err = {0};

    mrd_buf_reset(out);
    if (pat_print(ast, out, &err) != MRD_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    const char *src = (const char *)in;
    struct mrd_err err = {0};
    struct pat_ast *a = NULL, *b = NULL;
    struct pat_prog *prog = NULL;
    struct mrd_buf p1, p2;
    bool match;

    if (data == NULL &&
        mrd_json_parse(observations, strlen(observations), NULL, &data, &err) != MRD_OK)
        abort();
    (void)pat_check(src, size, &err);
    if (pat__parse_ast(src, size, 0, &a, &err) != MRD_OK)
        return 0;
    mrd_buf_init(&p1, 1 << 22);
    mrd_buf_init(&p2, 1 << 22);
    print_or_die(a, &p1);
    if (pat__parse_ast(p1.data, p1.len, 0, &b, &err) != MRD_OK)
        abort(); /* the canonical form must parse */
    if (!pat__ast_equal(a, b))
        abort(); /* ... to the same pattern */
    print_or_die(b, &p2);
    if (p1.len != p2.len || memcmp(p1.data, p2.data, p1.len) != 0)
        abort(); /* ... and print the same */
    if (pat_prog_new(src, size, &prog, &err) == MRD_OK)
        (void)pat_eval_json(prog, data, NULL, &match, &err);
    pat_prog_free(prog);
    pat_ast_free(a);
    pat_ast_free(b);
    mrd_buf_release(&p1);
    mrd_buf_release(&p2);
    return 0;
}
