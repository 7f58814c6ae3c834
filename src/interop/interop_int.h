/*
 * interop_int.h: what the files of src/interop/ share (not a public API).
 */
#ifndef MRD_INTEROP_INT_H
#define MRD_INTEROP_INT_H

#include "interop/interop.h"

/* Side files of the Suricata export (filemd5/filesha1/filesha256 lists). */
#define INTEROP_SURICATA_MD5 "meridian-md5.txt"
#define INTEROP_SURICATA_SHA1 "meridian-sha1.txt"
#define INTEROP_SURICATA_SHA256 "meridian-sha256.txt"

/* Files of the Suricata dataset/iprep export besides the rules and the
 * hash lists: the domain dataset (base64 lines, Suricata's `type string`),
 * the iprep category and reputation files, and the value -> indicator map. */
#define INTEROP_DS_DOMAIN "meridian-domain.lst"
#define INTEROP_DS_CATEGORIES "meridian-categories.txt"
#define INTEROP_DS_IPREP "meridian.iprep"
#define INTEROP_DS_MAP "meridian-datasets.csv"
#define INTEROP_DS_SET_DOMAIN "meridian-domain" /* dataset name */
#define INTEROP_IPREP_CATEGORY 1                /* the one category, "meridian" */
#define INTEROP_IPREP_SCORE 100                 /* reputation of a listed address (0..127) */

/* Files of the list export, one per value type. */
#define INTEROP_LIST_IPV4 "ipv4.txt"
#define INTEROP_LIST_IPV6 "ipv6.txt"
#define INTEROP_LIST_DOMAIN "domain.txt"
#define INTEROP_LIST_URL "url.txt"
#define INTEROP_LIST_EMAIL "email.txt"
#define INTEROP_LIST_MD5 "md5.txt"
#define INTEROP_LIST_SHA1 "sha1.txt"
#define INTEROP_LIST_SHA256 "sha256.txt"
#define INTEROP_LIST_SHA512 "sha512.txt"

/* Buffers the nftables and ipset writers assemble at the end. */
#define INTEROP_INTERNAL_V4 "(v4)"
#define INTEROP_INTERNAL_V6 "(v6)"

/* MISP feed files besides the event (<event uuid>.json). */
#define INTEROP_MISP_MANIFEST "manifest.json"
#define INTEROP_MISP_HASHES "hashes.csv"

/* ipset set names and their size bound. */
#define INTEROP_IPSET_V4 "meridian-v4"
#define INTEROP_IPSET_V6 "meridian-v6"
#define INTEROP_IPSET_MAXELEM 16777216u

#endif
