/*
 * fuzz_rtr: the RTR PDU parser and the router-side session (RFC 8210,
 * RFC 6810) over bytes a cache might send.
 *
 * The first byte chooses the version proposed (bit 0) and the size of the
 * pieces the rest is fed in (bits 1..4, so PDUs split across reads are
 * covered). The session queries, then handles every piece; after each
 * action it answers as a client would (a query, or a fresh session after
 * CLOSE). At the end the table is turned into a VRP set and expired. Nothing
 * may crash, leak or read outside the buffer; every CLOSE carries a message.
 * Seeds: responses captured from stayrtr (versions 0 and 1, reset and
 * serial, an Error Report).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bgp_rtr *r = NULL;
    struct mrd_buf out, in;
    size_t piece, off = 1;
    struct bgp_rtr_pdu pdu;
    size_t n = 0;

    if (size < 1)
        return 0;
    (void)bgp_rtr_pdu_parse(data + 1, size - 1, &pdu, &n, NULL, NULL);
    piece = 1 + ((data[0] >> 1) & 15) * 7;
    mrd_buf_init(&out, 1 << 20);
    mrd_buf_init(&in, 1 << 20);
    if (bgp_rtr_new(data[0] & 1, &r, NULL) != MRD_OK)
        abort();
    (void)bgp_rtr_query(r, &out, NULL);
    while (off < size) {
        size_t k = size - off < piece ? size - off : piece, used = 0;
        struct mrd_err err = {0};
        enum bgp_rtr_action a;
        if (mrd_buf_append(&in, data + off, k, NULL) != MRD_OK)
            abort();
        off += k;
        a = bgp_rtr_input(r, (const uint8_t *)in.data, in.len, (int64_t)off, &used, &out, &err);
        if (used > in.len)
            abort();
        memmove(in.data, in.data + used, in.len - used);
        in.len -= used;
        if (a == BGP_RTR_A_CLOSE) {
            if (err.msg[0] == '\0')
                abort();
            in.len = 0;
            bgp_rtr_disconnected(r);
            (void)bgp_rtr_query(r, &out, NULL);
        } else if (a == BGP_RTR_A_QUERY) {
            (void)bgp_rtr_query(r, &out, NULL);
        }
        mrd_buf_reset(&out);
    }
    {
        struct bgp_vrps *v = NULL;
        struct bgp_rtr_status st;
        if (bgp_rtr_vrps(r, &v, NULL) == MRD_OK) {
            bgp_rtr_status(r, &st);
            if (bgp_vrps_count(v) != st.count)
                abort();
            bgp_vrps_free(v);
        }
        (void)bgp_rtr_expire(r, INT64_MAX / 2);
    }
    bgp_rtr_free(r);
    mrd_buf_release(&out);
    mrd_buf_release(&in);
    return 0;
}
