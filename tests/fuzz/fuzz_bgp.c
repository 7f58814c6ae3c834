/*
 * fuzz_bgp: the MRT decoder (RFC 6396 records, BGP UPDATEs inside) and the
 * VRP parsers.
 *
 * The first byte chooses: even, the rest is an MRT stream whose every
 * route is formatted as a bgpdump line and validated against a small
 * fixed VRP set; odd, the rest is a VRP file (JSON or CSV). Nothing may
 * crash, leak or read outside the buffer; a decode error must carry a
 * message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"

static const char fixed_vrps[] = "ASN,IP Prefix,Max Length,Trust Anchor\n"
                                 "AS64500,192.0.2.0/24,24,t\nAS0,10.0.0.0/8,8,t\n"
                                 "AS64510,2001:db8::/32,48,t\n";

static struct bgp_vrps *vrps;

struct ctx {
    struct mrd_buf out;
};

static int on_route(const struct bgp_route *r, void *arg)
{
    struct ctx *c = arg;
    enum bgp_rov_reason reason;

    mrd_buf_reset(&c->out);
    if (bgp_route_format_bgpdump(r, &c->out, NULL) != MRD_OK)
        abort(); /* every decoded route must format */
    if (r->attrs != NULL)
        (void)bgp_rov_validate(vrps, &r->prefix, &r->attrs->path, &reason);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    struct mrd_err err = {0};

    if (vrps == NULL) {
        if (bgp_vrps_new(&vrps, NULL) != MRD_OK ||
            bgp_vrps_parse(vrps, fixed_vrps, strlen(fixed_vrps), 0, NULL) != MRD_OK)
            abort();
        bgp_vrps_finish(vrps);
    }
    if (size == 0)
        return 0;
    if ((in[0] & 1) == 0) {
        struct bgp_mrt *mrt = NULL;
        struct ctx c;
        mrd_buf_init(&c.out, 1 << 20);
        if (bgp_mrt_new(&mrt, &err) == MRD_OK &&
            bgp_mrt_decode(mrt, in + 1, size - 1, 0, on_route, &c, &err) != MRD_OK &&
            err.msg[0] == '\0')
            abort();
        bgp_mrt_free(mrt);
        mrd_buf_release(&c.out);
    } else {
        struct bgp_vrps *v = NULL;
        if (bgp_vrps_new(&v, &err) == MRD_OK &&
            bgp_vrps_parse(v, (const char *)in + 1, size - 1, 0, &err) != MRD_OK &&
            err.msg[0] == '\0')
            abort();
        if (v != NULL)
            bgp_vrps_finish(v);
        bgp_vrps_free(v);
    }
    return 0;
}
