/*
 * msgbuild.h: builds DNS messages for the unit tests of src/dns/
 * (records appended section by section, counts filled at the end).
 */
#ifndef MRD_TEST_MSGBUILD_H
#define MRD_TEST_MSGBUILD_H

#include <string.h>

#include "dns/dns.h"

struct mb {
    uint8_t b[8192];
    size_t n;
    uint16_t count[4]; /* question, answer, authority, additional */
};

static inline void mb_u16(struct mb *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)(v >> 8);
    m->b[m->n++] = (uint8_t)v;
}

static inline void mb_u32(struct mb *m, uint32_t v)
{
    mb_u16(m, v >> 16);
    mb_u16(m, v & 0xFFFF);
}

static inline void mb_name(struct mb *m, const char *name)
{
    struct dns_name n;
    if (dns_name_parse(name, strlen(name), &n, NULL) != MRD_OK)
        abort();
    memcpy(m->b + m->n, n.wire, n.len);
    m->n += n.len;
}

static inline void mb_start(struct mb *m, uint16_t id, uint16_t flags)
{
    memset(m, 0, sizeof(*m));
    mb_u16(m, id);
    mb_u16(m, flags);
    m->n = 12;
}

static inline void mb_question(struct mb *m, const char *name, uint16_t type)
{
    mb_name(m, name);
    mb_u16(m, type);
    mb_u16(m, DNS_CLASS_IN);
    m->count[0]++;
}

/* section: 1 answer, 2 authority, 3 additional. */
static inline void mb_rr(struct mb *m, int section, const char *name, uint16_t type,
                         const void *rdata, size_t rdlen)
{
    mb_name(m, name);
    mb_u16(m, type);
    mb_u16(m, DNS_CLASS_IN);
    mb_u32(m, 3600);
    mb_u16(m, (unsigned)rdlen);
    memcpy(m->b + m->n, rdata, rdlen);
    m->n += rdlen;
    m->count[section]++;
}

/* An RR whose RDATA is one name. */
static inline void mb_rr_name(struct mb *m, int section, const char *name, uint16_t type,
                              const char *target)
{
    struct dns_name n;
    if (dns_name_parse(target, strlen(target), &n, NULL) != MRD_OK)
        abort();
    mb_rr(m, section, name, type, n.wire, n.len);
}

static inline void mb_opt_ede(struct mb *m, int ede, const char *text)
{
    size_t tl = text != NULL ? strlen(text) : 0;
    m->b[m->n++] = 0;
    mb_u16(m, DNS_T_OPT);
    mb_u16(m, 1232);
    mb_u32(m, 0x8000); /* DO */
    if (ede < 0) {
        mb_u16(m, 0);
    } else {
        mb_u16(m, (unsigned)(6 + tl));
        mb_u16(m, 15);
        mb_u16(m, (unsigned)(2 + tl));
        mb_u16(m, (unsigned)ede);
        memcpy(m->b + m->n, text, tl);
        m->n += tl;
    }
    m->count[3]++;
}

static inline void mb_finish(struct mb *m)
{
    for (int i = 0; i < 4; i++) {
        m->b[4 + 2 * i] = (uint8_t)(m->count[i] >> 8);
        m->b[5 + 2 * i] = (uint8_t)m->count[i];
    }
}

#endif
