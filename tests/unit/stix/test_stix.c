/*
 * Object-level rules of the STIX validator: for each rule a case that
 * breaks it (and must produce that rule id) and valid cases that must
 * produce no error. Cases are a valid base object, a JSON patch merged
 * into it, and a property to delete; JSON is written with ` for " to keep
 * the table readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "stix/stix.h"

#define TS "`2016-04-06T20:03:48.000Z`"
#define COMMON(t, u)                                                                               \
    "`type`:`" t "`,`spec_version`:`2.1`,`id`:`" t "--" u "`,`created`:" TS ",`modified`:" TS

#define U1 "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define IDENT "identity--311b2d2d-f010-4473-83ec-1edf84858f4c"

static const char *const IND = "{" COMMON(
    "indicator",
    U1) ",`name`:`bad ip`,`indicator_types`:[`malicious-activity`],"
        "`pattern`:`[ipv4-addr:value = '198.51.100.1']`,`pattern_type`:`stix`,`valid_from`:" TS "}";
static const char *const MAL = "{" COMMON("malware", U1) ",`name`:`x`,`is_family`:true}";
static const char *const REL =
    "{" COMMON("relationship", U1) ",`relationship_type`:`indicates`,`source_ref`:`indicator--" U1
                                   "`,`target_ref`:`malware--" U1 "`}";
static const char *const SIGHT =
    "{" COMMON("sighting", U1) ",`sighting_of_ref`:`indicator--" U1
                               "`,`count`:3,`where_sighted_refs`:[`" IDENT "`]}";
static const char *const IDN =
    "{" COMMON("identity", U1) ",`name`:`ACME`,`identity_class`:`organization`}";
static const char *const LOC = "{" COMMON("location", U1) ",`country`:`DE`}";
static const char *const OBS = "{" COMMON(
    "observed-data", U1) ",`first_observed`:" TS ",`last_observed`:" TS ",`number_observed`:1,"
                         "`object_refs`:[`ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4`]}";
static const char *const REPORT =
    "{" COMMON("report", U1) ",`name`:`r`,`published`:" TS ",`object_refs`:[`indicator--" U1 "`]}";
static const char *const GROUPING =
    "{" COMMON("grouping", U1) ",`context`:`suspicious-activity`,`object_refs`:[`indicator--" U1
                               "`]}";
static const char *const OPINION =
    "{" COMMON("opinion", U1) ",`opinion`:`agree`,`object_refs`:[`indicator--" U1 "`]}";
static const char *const NOTE =
    "{" COMMON("note", U1) ",`content`:`c`,`object_refs`:[`indicator--" U1 "`]}";
static const char *const CAMPAIGN = "{" COMMON("campaign", U1) ",`name`:`c`}";
static const char *const MA =
    "{" COMMON("malware-analysis", U1) ",`product`:`av`,`result`:`malicious`}";
static const char *const EXTDEF = "{" COMMON(
    "extension-definition", U1) ",`created_by_ref`:`" IDENT
                                "`,`name`:`e`,`schema`:`https://example.com/s`,`version`:`1.0`,"
                                "`extension_types`:[`property-extension`]}";
static const char *const LC =
    "{" COMMON("language-content", U1) ",`object_ref`:`indicator--" U1
                                       "`,`contents`:{`de`:{`name`:`boese ip`}}}";

static const char *const IPV4 = "{`type`:`ipv4-addr`,`spec_version`:`2.1`,`id`:`ipv4-addr--"
                                "28bb3599-77cd-5a82-a950-b5bc3caf07c4`,"
                                "`value`:`198.51.100.3`}";
static const char *const FILE_ = "{`type`:`file`,`id`:`file--c10ebc4d-e065-5ec7-93e4-fa1fd2bae072`,"
                                 "`name`:`a.exe`}";
static const char *const NT = "{`type`:`network-traffic`,"
                              "`id`:`network-traffic--86573313-99be-5e1b-a971-47e9b3381850`,"
                              "`dst_ref`:`ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4`,"
                              "`protocols`:[`tcp`]}";
static const char *const EMAIL = "{`type`:`email-message`,"
                                 "`id`:`email-message--6896cf7f-c191-563a-8d7f-0cb2105f6663`,"
                                 "`is_multipart`:false,`subject`:`hi`}";
static const char *const ARTIFACT = "{`type`:`artifact`,"
                                    "`id`:`artifact--c31e8e38-8283-504b-9e75-800b29a09186`,"
                                    "`payload_bin`:`aGVsbG8=`}";
static const char *const SOFTWARE = "{`type`:`software`,"
                                    "`id`:`software--1c71adc6-f8a7-51eb-9be8-cc312594e1e3`,"
                                    "`name`:`word`}";
static const char *const MAC = "{`type`:`mac-addr`,"
                               "`id`:`mac-addr--757b1725-9903-54f5-a855-1240691d7659`,"
                               "`value`:`d2:fb:49:24:37:18`}";
static const char *const DIR_ = "{`type`:`directory`,"
                                "`id`:`directory--" U1 "`,`path`:`C:\\\\Windows`}";
static const char *const PROC = "{`type`:`process`,`id`:`process--" U1 "`,`pid`:4}";
static const char *const X509 = "{`type`:`x509-certificate`,"
                                "`id`:`x509-certificate--523001db-9d41-58eb-99c9-f940c79385c2`,"
                                "`serial_number`:`36:f7`}";
static const char *const STMT =
    "{`type`:`marking-definition`,`spec_version`:`2.1`,"
    "`id`:`marking-definition--" U1 "`,`created`:" TS
    ",`definition_type`:`statement`,`definition`:{`statement`:`(c) ACME`}}";
static const char *const TLP1W =
    "{`type`:`marking-definition`,`spec_version`:`2.1`,"
    "`id`:`marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9`,"
    "`created`:`2017-01-20T00:00:00.000Z`,`definition_type`:`tlp`,`name`:`TLP:WHITE`,"
    "`definition`:{`tlp`:`white`}}";
static const char *const TLP2C =
    "{`type`:`marking-definition`,`spec_version`:`2.1`,"
    "`id`:`marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487`,"
    "`created`:`2022-10-01T00:00:00.000Z`,`name`:`TLP:CLEAR`,`extensions`:{"
    "`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`:"
    "{`extension_type`:`property-extension`,`tlp_2_0`:`clear`}}}";
static const char *const VULN = "{" COMMON("vulnerability", U1) ",`name`:`v`}";
static const char *const ATTACKP = "{" COMMON("attack-pattern", U1) ",`name`:`a`}";
static const char *const IPV6 = "{`type`:`ipv6-addr`,"
                                "`id`:`ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1`,"
                                "`value`:`2001:db8::1`}";
static const char *const URL_ =
    "{`type`:`url`,`id`:`url--c1477287-23ac-5971-a010-5c287877fa60`,`value`:`https://e.com/`}";
static const char *const EMAILADDR =
    "{`type`:`email-addr`,`id`:`email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3`,"
    "`value`:`jd@example.com`}";
static const char *const REGKEY =
    "{`type`:`windows-registry-key`,"
    "`id`:`windows-registry-key--2ba37ae7-2745-5082-9dfd-9486dad41016`,"
    "`key`:`hkey_local_machine\\\\system`}";
static const char *const CUSTOM = "{`type`:`x-acme-widget`,`id`:`x-acme-widget--" U1 "`,`size`:3}";

struct tcase {
    const char *name;
    const char *const *base;
    const char *patch; /* merged into base (NULL: none) */
    const char *del;   /* property removed from base (NULL: none) */
    const char *rule;  /* NULL: valid, no error; "w:rule": a warning only */
};

static const struct tcase cases[] = {
    /* valid bases */
    {"indicator ok", &IND, NULL, NULL, NULL},
    {"malware ok", &MAL, NULL, NULL, NULL},
    {"relationship ok", &REL, NULL, NULL, NULL},
    {"sighting ok", &SIGHT, NULL, NULL, NULL},
    {"identity ok", &IDN, NULL, NULL, NULL},
    {"location ok", &LOC, NULL, NULL, NULL},
    {"observed-data ok", &OBS, NULL, NULL, NULL},
    {"report ok", &REPORT, NULL, NULL, NULL},
    {"grouping ok, name optional", &GROUPING, NULL, NULL, NULL},
    {"opinion ok", &OPINION, NULL, NULL, NULL},
    {"note ok", &NOTE, NULL, NULL, NULL},
    {"campaign ok", &CAMPAIGN, NULL, NULL, NULL},
    {"malware-analysis ok", &MA, NULL, NULL, NULL},
    {"extension-definition ok", &EXTDEF, NULL, NULL, NULL},
    {"language-content ok", &LC, NULL, NULL, NULL},
    {"ipv4-addr ok", &IPV4, NULL, NULL, NULL},
    {"file ok", &FILE_, NULL, NULL, NULL},
    {"network-traffic ok", &NT, NULL, NULL, NULL},
    {"email-message ok", &EMAIL, NULL, NULL, NULL},
    {"artifact ok", &ARTIFACT, NULL, NULL, NULL},
    {"process ok", &PROC, NULL, NULL, NULL},
    {"x509 ok", &X509, NULL, NULL, NULL},
    {"statement marking ok", &STMT, NULL, NULL, NULL},
    {"TLP 1.0 white canonical", &TLP1W, NULL, NULL, NULL},
    {"TLP 2.0 clear canonical", &TLP2C, NULL, NULL, NULL},
    {"x- custom object ok", &CUSTOM, NULL, NULL, NULL},

    /* S1/S2: required properties, type names */
    {"missing type", &IND, NULL, "type", "required-property"},
    {"missing id", &IND, NULL, "id", "required-property"},
    {"missing created", &IND, NULL, "created", "required-property"},
    {"missing modified", &MAL, NULL, "modified", "required-property"},
    {"missing spec_version", &MAL, NULL, "spec_version", "required-property"},
    {"sco spec_version optional", &IPV4, NULL, "spec_version", NULL},
    {"spec_version 2.0", &MAL, "{`spec_version`:`2.0`}", NULL, "spec-version"},
    {"type with upper case", &CUSTOM, "{`type`:`X-Acme`}", NULL, "type-name"},
    {"type too short", &CUSTOM, "{`type`:`xa`}", NULL, "type-name"},
    {"type with --", &CUSTOM, "{`type`:`x--a`}", NULL, "type-name"},
    {"type not a string", &CUSTOM, "{`type`:5}", NULL, "property-type"},
    {"name not a string", &MAL, "{`name`:5}", NULL, "property-type"},
    {"indicator needs pattern", &IND, NULL, "pattern", "required-property"},
    {"indicator needs valid_from", &IND, NULL, "valid_from", "required-property"},
    {"report needs published", &REPORT, NULL, "published", "required-property"},
    {"grouping needs context", &GROUPING, NULL, "context", "required-property"},
    {"note needs object_refs", &NOTE, NULL, "object_refs", "required-property"},
    {"sighting needs sighting_of_ref", &SIGHT, NULL, "sighting_of_ref", "required-property"},
    {"relationship needs target_ref", &REL, NULL, "target_ref", "required-property"},
    {"identity needs name", &IDN, NULL, "name", "required-property"},
    {"ipv4 needs value", &IPV4, NULL, "value", "required-property"},
    {"network-traffic needs protocols", &NT, NULL, "protocols", "required-property"},
    {"email-message needs is_multipart", &EMAIL, NULL, "is_multipart", "required-property"},
    {"extension-definition needs schema", &EXTDEF, NULL, "schema", "required-property"},
    {"extension-definition needs created_by_ref", &EXTDEF, NULL, "created_by_ref",
     "required-property"},
    {"language-content needs contents", &LC, NULL, "contents", "required-property"},

    /* S3: suffix conventions */
    {"_ref not an id", &MAL, "{`x_acme_owner_ref`:`bob`}", NULL, "ref-format"},
    {"_ref ok", &MAL, "{`x_acme_owner_ref`:`" IDENT "`}", NULL, NULL},
    {"_hex odd", &MAL, "{`x_acme_magic_hex`:`abc`}", NULL, "hex-format"},
    {"_hex ok", &MAL, "{`x_acme_magic_hex`:`abcd`}", NULL, NULL},
    {"_bin not base64", &MAL, "{`x_acme_blob_bin`:`a$==`}", NULL, "binary-format"},
    {"name_enc without name", &FILE_,
     "{`name_enc`:`utf-8`,`hashes`:{`MD5`:`"
     "1717b7fff97d37a1e1a0029d83492de1`}}",
     "name", "enc-without-base"},

    /* S4: identifiers */
    {"id prefix mismatch", &MAL, "{`id`:`tool--" U1 "`}", NULL, "id-type-mismatch"},
    {"id no uuid", &MAL, "{`id`:`malware--1234`}", NULL, "id-format"},
    {"id bad uuid version", &MAL, "{`id`:`malware--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f`}", NULL,
     "id-format"},
    {"id bad uuid variant", &MAL, "{`id`:`malware--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f`}", NULL,
     "id-format"},
    {"id uuid version 6", &MAL, "{`id`:`malware--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f`}", NULL,
     "id-format"},
    {"id uuid version 9", &MAL, "{`id`:`malware--8e2e2d2b-17d4-9cbf-938f-98ee46b3cd3f`}", NULL,
     "id-format"},
    {"id uuid version f", &MAL, "{`id`:`malware--8e2e2d2b-17d4-fcbf-938f-98ee46b3cd3f`}", NULL,
     "id-format"},
    {"id uuid version 5 is fine", &MAL, "{`id`:`malware--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f`}",
     NULL, "w:uuid-version"},
    {"id not a string", &MAL, "{`id`:42}", NULL, "id-format"},
    {"id uuid v1 is a warning", &MAL, "{`id`:`malware--8e2e2d2b-17d4-1cbf-938f-98ee46b3cd3f`}",
     NULL, "w:uuid-version"},
    {"id upper case hex is a warning", &MAL,
     "{`id`:`malware--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F`}", NULL, "w:uuid-case"},

    /* S5: deterministic SCO ids */
    {"sco id not deterministic", &IPV4, "{`value`:`198.51.100.4`}", NULL, "w:sco-id-deterministic"},
    {"process id v4 is fine", &PROC, NULL, NULL, NULL},
    /* §2.9: no ID contributing properties (a process has none): UUIDv4 */
    {"process id v5", &PROC, "{`id`:`process--f52a906a-0dfc-50bd-92f1-e7778ead38a9`}", NULL,
     "sco-id-uuid4"},
    {"process id v1", &PROC, "{`id`:`process--f52a906a-0dfc-10bd-92f1-e7778ead38a9`}", NULL,
     "sco-id-uuid4"},
    {"email-message without contributing properties, v5 id: a warning", &EMAIL,
     "{`id`:`email-message--f52a906a-0dfc-50bd-92f1-e7778ead38a9`}", "subject", "w:sco-id-uuid4"},

    /* §6.6.2: a MIME part has exactly one of body / body_raw_ref */
    {"mime part with body", &EMAIL,
     "{`is_multipart`:true,`body_multipart`:[{`body`:`x`,`content_type`:`text/plain`}]}", "subject",
     NULL},
    {"mime part with body and body_raw_ref", &EMAIL,
     "{`is_multipart`:true,`body_multipart`:[{`body`:`x`,`body_raw_ref`:`artifact--" U1 "`}]}",
     "subject", "email-body"},
    {"mime part with neither body nor body_raw_ref", &EMAIL,
     "{`is_multipart`:true,`body_multipart`:[{`content_type`:`text/plain`}]}", "subject",
     "email-body"},

    /* §6.3, §6.7: *_enc names come from the IANA character set registry */
    {"name_enc IANA name", &FILE_, "{`name_enc`:`UTF-8`}", NULL, NULL},
    {"name_enc IANA name, other case", &FILE_, "{`name_enc`:`windows-1252`}", NULL, NULL},
    {"name_enc IANA alias", &FILE_, "{`name_enc`:`csISOLatin1`}", NULL, NULL},
    {"name_enc not in the registry", &FILE_, "{`name_enc`:`latin-1`}", NULL, "charset-name"},
    {"path_enc IANA name", &DIR_, "{`path_enc`:`Shift_JIS`}", NULL, NULL},
    {"path_enc not in the registry", &DIR_, "{`path_enc`:`utf8`}", NULL, "charset-name"},

    /* §6.14: software cpe is a CPE 2.3 formatted string (NISTIR 7695 §6.2) */
    {"cpe 2.3 ok", &SOFTWARE, "{`cpe`:`cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*`}", NULL, NULL},
    {"cpe 2.3 with language, wildcards and quoting", &SOFTWARE,
     "{`cpe`:`cpe:2.3:a:acme\\\\!:widget?:1.*:-:*:en-us:*:*:x86:*`}", NULL, NULL},
    {"cpe 2.2 URI binding", &SOFTWARE, "{`cpe`:`cpe:/a:microsoft:word:2000`}", NULL, "cpe-format"},
    {"cpe too few components", &SOFTWARE, "{`cpe`:`cpe:2.3:a:microsoft:word`}", NULL, "cpe-format"},
    {"cpe too many components", &SOFTWARE, "{`cpe`:`cpe:2.3:a:m:w:1:*:*:*:*:*:*:*:*`}", NULL,
     "cpe-format"},
    {"cpe bad part", &SOFTWARE, "{`cpe`:`cpe:2.3:x:m:w:1:*:*:*:*:*:*:*`}", NULL, "cpe-format"},
    {"cpe space in a component", &SOFTWARE, "{`cpe`:`cpe:2.3:a:m s:w:1:*:*:*:*:*:*:*`}", NULL,
     "cpe-format"},
    {"cpe bad language", &SOFTWARE, "{`cpe`:`cpe:2.3:a:m:w:1:*:*:english:*:*:*:*`}", NULL,
     "cpe-format"},
    {"cpe inner wildcard", &SOFTWARE, "{`cpe`:`cpe:2.3:a:m:w*x:1:*:*:*:*:*:*:*`}", NULL,
     "cpe-format"},

    /* S6/S7: timestamps */
    {"timestamp month 13", &MAL,
     "{`created`:`2016-13-06T20:03:48.000Z`,"
     "`modified`:`2016-13-06T20:03:48.000Z`}",
     NULL, "timestamp-format"},
    {"timestamp with offset", &CAMPAIGN, "{`first_seen`:`2016-04-06T20:03:48+01:00`}", NULL,
     "timestamp-format"},
    {"timestamp not a string", &CAMPAIGN, "{`first_seen`:1460000000}", NULL, "timestamp-format"},
    {"created without ms", &MAL, "{`created`:`2016-04-06T20:03:48Z`}", NULL, "timestamp-precision"},
    {"created with 1 digit", &MAL, "{`created`:`2016-04-06T20:03:47.1Z`}", NULL,
     "timestamp-precision"},
    {"created with 2 digits", &MAL, "{`created`:`2016-04-06T20:03:47.12Z`}", NULL,
     "timestamp-precision"},
    {"modified with 2 digits", &MAL, "{`modified`:`2016-04-06T20:03:48.10Z`}", NULL,
     "timestamp-precision"},
    {"created with 3 digits is fine", &MAL, "{`created`:`2016-04-06T20:03:47.100Z`}", NULL, NULL},
    {"created second 60", &MAL,
     "{`created`:`2016-12-31T23:59:60.000Z`,`modified`:`2017-01-01T00:00:00.000Z`}", NULL,
     "timestamp-format"},
    {"first_seen second 60", &CAMPAIGN, "{`first_seen`:`2016-04-06T20:03:60Z`}", NULL,
     "timestamp-format"},
    {"first_seen second 59 is fine", &CAMPAIGN, "{`first_seen`:`2016-04-06T20:03:59Z`}", NULL,
     NULL},
    {"created with us is fine", &MAL, "{`created`:`2016-04-06T20:03:47.123456Z`}", NULL, NULL},
    {"first_seen without fraction fine", &CAMPAIGN, "{`first_seen`:`2016-04-06T20:03:48Z`}", NULL,
     NULL},
    {"modified before created", &MAL, "{`modified`:`2016-04-06T20:03:47.999Z`}", NULL,
     "modified-before-created"},

    /* S8: lists and dictionaries */
    {"empty labels", &MAL, "{`labels`:[]}", NULL, "empty-list"},
    {"empty custom list", &MAL, "{`x_acme_tags`:[]}", NULL, "empty-list"},
    {"labels ok", &MAL, "{`labels`:[`a`]}", NULL, NULL},
    {"empty hashes", &FILE_, "{`hashes`:{}}", NULL, "empty-dictionary"},
    {"dictionary key with space", &NT, "{`ipfix`:{`a b`:1}}", NULL, "dictionary-key"},
    {"hash wrong length", &FILE_, "{`hashes`:{`MD5`:`abcd`}}", NULL, "hash-value"},
    {"hash unknown algorithm is a warning", &FILE_,
     "{`hashes`:{`foo-hash`:`abcd`},`id`:`file--08bc4a3e-1aa5-5fb9-a0cd-85e8a56c2e2e`}", NULL,
     "w:"},
    {"null value", &MAL, "{`description`:null}", NULL, "null-value"},

    /* S9: enums and open vocabularies */
    {"opinion not in enum", &OPINION, "{`opinion`:`maybe`}", NULL, "enum-value"},
    {"open vocab off-list is a warning", &MAL, "{`malware_types`:[`spaceware`]}", NULL,
     "w:open-vocab"},
    {"extension_types not in enum", &EXTDEF, "{`extension_types`:[`new-thing`]}", NULL,
     "enum-value"},

    /* S10: integers */
    {"confidence 101", &MAL, "{`confidence`:101}", NULL, "integer-range"},
    {"confidence 100", &MAL, "{`confidence`:100}", NULL, NULL},
    {"confidence float", &MAL, "{`confidence`:50.5}", NULL, "property-type"},
    {"count too big", &SIGHT, "{`count`:1000000000}", NULL, "integer-range"},
    {"count 0", &SIGHT, "{`count`:0}", NULL, NULL},
    {"number_observed 0", &OBS, "{`number_observed`:0}", NULL, "integer-range"},
    {"integer beyond 2^53", &MAL, "{`x_acme_count`:9007199254740992}", NULL, "integer-range"},
    {"integer at 2^53-1", &MAL, "{`x_acme_count`:9007199254740991}", NULL, NULL},
    {"port 65536", &NT, "{`dst_port`:65536}", NULL, "integer-range"},

    /* S11/S12: external references, kill chain phases */
    {"external ref without id/url/description", &MAL,
     "{`external_references`:[{`source_name`:`x`}]}", NULL, "external-reference"},
    {"external ref without source_name", &MAL, "{`external_references`:[{`url`:`https://e`}]}",
     NULL, "required-property"},
    {"external ref ok", &MAL,
     "{`external_references`:[{`source_name`:`capec`,"
     "`external_id`:`CAPEC-163`}]}",
     NULL, NULL},
    {"kill chain phase without phase_name", &MAL,
     "{`kill_chain_phases`:[{`kill_chain_name`:`lockheed`}]}", NULL, "required-property"},
    {"kill chain phase upper case is a warning", &MAL,
     "{`kill_chain_phases`:[{`kill_chain_name`:`Lockheed`,`phase_name`:`recon`}]}", NULL,
     "w:kill-chain-format"},

    /* S13/S14: reserved names, confidence, lang, defanged */
    {"reserved severity", &MAL, "{`severity`:`high`}", NULL, "reserved-property"},
    {"lang bad", &MAL, "{`lang`:`english!`}", NULL, "language-tag"},
    {"lang ok", &MAL, "{`lang`:`pt-BR`}", NULL, NULL},
    {"lang a word, not a subtag", &MAL, "{`lang`:`english`}", NULL, "language-tag"},
    {"lang with script and region", &MAL, "{`lang`:`zh-Hant-TW`}", NULL, NULL},
    {"lang private use", &MAL, "{`lang`:`x-klingon`}", NULL, NULL},
    {"defanged on an SDO", &MAL, "{`defanged`:true}", NULL, "defanged-sco-only"},
    {"defanged on an SCO", &IPV4, "{`defanged`:true}", NULL, NULL},

    /* S15/S16: extensions and custom naming */
    {"extension key neither id nor -ext (deprecated custom extension)", &MAL,
     "{`extensions`:{`acme`:{`a`:1}}}", NULL, "extension-key"},
    /* §11.3.1: a custom extension's name MUST end in -ext; x- is a SHOULD */
    {"custom SCO extension without -ext", &FILE_, "{`extensions`:{`x-acme`:{`a`:1}}}", NULL,
     "extension-key"},
    {"custom SCO extension ending in -ext", &FILE_, "{`extensions`:{`x-acme-ext`:{`a`:1}}}", NULL,
     NULL},
    {"custom SCO extension -ext without x- is a warning", &FILE_,
     "{`extensions`:{`acme-ext`:{`a`:1}}}", NULL, "w:custom-prefix"},
    {"extension-definition id as extension key", &FILE_,
     "{`extensions`:{`extension-definition--" U1 "`:{`extension_type`:`property-extension`,"
     "`a`:1}}}",
     NULL, NULL},
    {"extension key not a name", &MAL, "{`extensions`:{`Acme Ext`:{`a`:1}}}", NULL,
     "extension-key"},
    {"predefined extension name on a custom type", &CUSTOM,
     "{`extensions`:{`archive-ext`:{`contains_refs`:[`file--" U1 "`]}}}", NULL, NULL},
    {"predefined extension of another type", &MAL, "{`extensions`:{`ntfs-ext`:{`sid`:`x`}}}", NULL,
     "extension-key"},
    {"http request_header values as strings", &NT,
     "{`extensions`:{`http-request-ext`:{`request_method`:`get`,`request_value`:`/`,"
     "`request_header`:{`Host`:`example.com`}}}}",
     NULL, NULL},
    {"http request_header value a number", &NT,
     "{`extensions`:{`http-request-ext`:{`request_method`:`get`,`request_value`:`/`,"
     "`request_header`:{`Host`:5}}}}",
     NULL, "property-type"},
    {"extension-definition extension without extension_type", &MAL,
     "{`extensions`:{`extension-definition--" U1 "`:{`rank`:5}}}", NULL, "required-property"},
    {"extension value empty", &MAL, "{`extensions`:{`extension-definition--" U1 "`:{}}}", NULL,
     "extension-value"},
    {"extension_type not in enum", &MAL,
     "{`extensions`:{`extension-definition--" U1 "`:{`extension_type`:`sideways`}}}", NULL,
     "enum-value"},
    {"property extension ok", &MAL,
     "{`extensions`:{`extension-definition--" U1 "`:{`extension_type`:`property-extension`,"
     "`rank`:2}}}",
     NULL, NULL},
    {"predefined extension on wrong type", &FILE_,
     "{`extensions`:{`tcp-ext`:{`src_flags_hex`:`00`}}}", NULL, "extension-key"},
    {"archive-ext needs contains_refs", &FILE_, "{`extensions`:{`archive-ext`:{`comment`:`c`}}}",
     NULL, "required-property"},
    {"ntfs-ext ok", &FILE_, "{`extensions`:{`ntfs-ext`:{`sid`:`1`}}}", NULL, "w:"},
    {"empty extensions", &MAL, "{`extensions`:{}}", NULL, "empty-dictionary"},
    {"custom property bad chars", &MAL, "{`x-acme`:1}", NULL, "property-name"},
    {"custom property too short", &MAL, "{`xy`:1}", NULL, "property-name"},
    {"custom property without x_ is a warning", &MAL, "{`acme_rank`:1}", NULL, "w:custom-prefix"},
    {"custom type without x- is a warning", &CUSTOM,
     "{`type`:`acme-widget`,`id`:`acme-widget--" U1 "`}", NULL, "w:custom-prefix"},
    {"new-sdo object needs created", &CUSTOM,
     "{`extensions`:{`extension-definition--" U1 "`:{`extension_type`:`new-sdo`}},"
     "`spec_version`:`2.1`,`modified`:" TS "}",
     NULL, "required-property"},
    {"new-sdo on a STIX type", &MAL,
     "{`extensions`:{`extension-definition--" U1 "`:{`extension_type`:`new-sdo`}}}", NULL,
     "extension-type"},

    /* per-type rules (§4-§7) */
    {"valid_until equal to valid_from", &IND, "{`valid_until`:" TS "}", NULL, "timestamp-order"},
    {"valid_until later", &IND, "{`valid_until`:`2016-04-06T20:03:48.001Z`}", NULL, NULL},
    {"pattern syntax", &IND, "{`pattern`:`[ipv4-addr:value = `}", NULL, "pattern-syntax"},
    {"pattern timestamp that does not exist", &IND,
     "{`pattern`:`[file:created = t'2023-02-29T00:00:00Z']`}", NULL, "pattern-syntax"},
    {"pattern leap second at the end of a day", &IND,
     "{`pattern`:`[file:created = t'2016-12-31T23:59:60Z']`}", NULL, NULL},
    {"pattern object type too short", &IND, "{`pattern`:`[ab:yz = 'something']`}", NULL,
     "pattern-syntax"},
    {"pattern custom object type", &IND, "{`pattern`:`[x-foo:x_name = 'a:b']`}", NULL, NULL},
    {"pattern colon inside a literal", &IND,
     "{`pattern`:`[file:name = 'ab:c \\\\' x:y'] AND [url:value = 'http://a']`}", NULL, NULL},
    {"language-content key not a property name", &LC, "{`contents`:{`es`:{`a`:`boo`}}}", NULL,
     "property-name"},
    {"custom object with created but no modified", &CUSTOM, "{`created`:" TS "}", NULL,
     "required-property"},
    {"custom object with modified but no created", &CUSTOM, "{`modified`:" TS "}", NULL,
     "required-property"},
    {"custom object with both", &CUSTOM, "{`created`:" TS ",`modified`:" TS "}", NULL, NULL},
    {"type action is reserved", &CUSTOM,
     "{`type`:`action`,`id`:`action--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f`}", NULL, "type-name"},
    {"ipv4 cidr", &IPV4, "{`value`:`192.168.0.1/32`}", NULL, NULL},
    {"ipv4 octet too big", &IPV4, "{`value`:`999.1.1.1`}", NULL, "ip-format"},
    {"ipv4 prefix too long", &IPV4, "{`value`:`192.168.0.1/33`}", NULL, "ip-format"},
    {"ipv4 prefix leading zero", &IPV4, "{`value`:`192.168.0.1/01`}", NULL, "ip-format"},
    {"ipv4 prefix empty", &IPV4, "{`value`:`192.168.0.1/`}", NULL, "ip-format"},
    {"ipv6 compressed", &IPV6, "{`value`:`fe80::1/64`}", NULL, NULL},
    {"ipv6 embedded ipv4", &IPV6, "{`value`:`::ffff:192.0.2.1`}", NULL, NULL},
    {"ipv6 two gaps", &IPV6, "{`value`:`1::2::3`}", NULL, "ip-format"},
    {"ipv6 nine groups", &IPV6, "{`value`:`1:2:3:4:5:6:7:8:9`}", NULL, "ip-format"},
    {"ipv6 prefix too long", &IPV6, "{`value`:`fe80::/129`}", NULL, "ip-format"},
    {"ipv6 given an ipv4", &IPV6, "{`value`:`198.51.100.3`}", NULL, "ip-format"},
    {"cve reference with a bad id", &VULN,
     "{`external_references`:[{`source_name`:`cve`,`external_id`:`CVE-20161234`}]}", NULL,
     "external-reference"},
    {"cve id under another source_name", &VULN,
     "{`external_references`:[{`source_name`:`CVE`,`external_id`:`CVE-2016-1234`}]}", NULL,
     "external-reference"},
    {"cve id with five digits", &VULN,
     "{`external_references`:[{`source_name`:`cve`,`external_id`:`CVE-2021-44228`}]}", NULL, NULL},
    {"capec reference without an id", &ATTACKP,
     "{`external_references`:[{`source_name`:`capec`,`description`:`d`}]}", NULL,
     "external-reference"},
    {"capec reference with an id", &ATTACKP,
     "{`external_references`:[{`source_name`:`capec`,`external_id`:`CAPEC-163`}]}", NULL, NULL},
    {"url value without a scheme", &URL_, "{`value`:`www.example.com/x`}", NULL, "url-format"},
    {"url value with a scheme", &URL_, "{`value`:`hxxp://example.com/x`}", NULL, NULL},
    {"artifact url without a scheme", &ARTIFACT,
     "{`url`:`foo`,`hashes`:{`MD5`:`B4D33B0C7306351B9ED96578465C5579`}}", "payload_bin",
     "url-format"},
    {"email value with a display name", &EMAILADDR, "{`value`:`J D <jd@example.com>`}", NULL,
     "email-format"},
    {"registry hive abbreviated", &REGKEY, "{`key`:`HKLM\\\\Software`}", NULL, "registry-hive"},
    {"registry hive in full", &REGKEY, "{`key`:`HKEY_LOCAL_MACHINE\\\\Software`}", NULL, NULL},
    {"non-stix pattern not parsed", &IND, "{`pattern_type`:`snort`,`pattern`:`alert tcp any`}",
     NULL, NULL},
    {"last_seen before first_seen", &CAMPAIGN,
     "{`first_seen`:`2016-04-06T20:03:48Z`,`last_seen`:`2016-04-05T20:03:48Z`}", NULL,
     "timestamp-order"},
    {"sighting last before first", &SIGHT,
     "{`first_seen`:`2016-04-06T20:03:48Z`,`last_seen`:`2016-04-05T20:03:48Z`}", NULL,
     "timestamp-order"},
    {"observed-data last before first", &OBS, "{`last_observed`:`2016-04-05T20:03:48Z`}", NULL,
     "timestamp-order"},
    {"relationship stop_time equal to start_time", &REL, "{`start_time`:" TS ",`stop_time`:" TS "}",
     NULL, "timestamp-order"},
    {"relationship_type upper case", &REL, "{`relationship_type`:`Indicates`}", NULL,
     "relationship-type-format"},
    {"location without region/country/coords", &LOC, "{`city`:`Bonn`}", "country",
     "location-required"},
    {"latitude without longitude", &LOC, "{`latitude`:10.0}", NULL, "location-coordinates"},
    {"latitude out of range", &LOC, "{`latitude`:91.0,`longitude`:1.0}", NULL, "number-range"},
    {"lat/long ok", &LOC, "{`latitude`:48.8566,`longitude`:2.3522}", "country", NULL},
    {"malware family needs name", &MAL, NULL, "name", "required-property"},
    {"malware not family, no name", &MAL, "{`is_family`:false}", "name", NULL},
    {"malware needs is_family", &MAL, NULL, "is_family", "required-property"},
    {"malware-analysis needs result or refs", &MA, NULL, "result", "required-property"},
    {"observed-data deprecated objects ok", &OBS,
     "{`objects`:{`0`:{`type`:`ipv4-addr`,`value`:`1.2.3.4`},"
     "`1`:{`type`:`network-traffic`,`dst_ref`:`0`,`protocols`:[`tcp`]}}}",
     "object_refs", "w:deprecated-property"},
    {"observed-data objects ref to a missing key", &OBS,
     "{`objects`:{`1`:{`type`:`network-traffic`,`dst_ref`:`0`,`protocols`:[`tcp`]}}}",
     "object_refs", "ref-unresolved"},
    {"observed-data objects ref of the wrong type", &OBS,
     "{`objects`:{`0`:{`type`:`file`,`name`:`a`},"
     "`1`:{`type`:`network-traffic`,`dst_ref`:`0`,`protocols`:[`tcp`]}}}",
     "object_refs", "ref-type"},
    {"observed-data objects holding an SDO", &OBS,
     "{`objects`:{`0`:{`type`:`malware`,`name`:`a`,`is_family`:true}}}", "object_refs",
     "observed-data-objects"},
    {"observed-data objects missing a required property", &OBS,
     "{`objects`:{`0`:{`type`:`ipv4-addr`}}}", "object_refs", "required-property"},
    {"observed-data objects and object_refs", &OBS,
     "{`objects`:{`0`:{`type`:`ipv4-addr`,`value`:`1.2.3.4`}}}", NULL, "observed-data-objects"},
    {"observed-data neither", &OBS, NULL, "object_refs", "observed-data-objects"},
    {"observed-data only SROs", &OBS, "{`object_refs`:[`relationship--" U1 "`]}", NULL,
     "observed-data-objects"},
    {"artifact payload and url", &ARTIFACT,
     "{`url`:`https://e/x`,`hashes`:{`MD5`:"
     "`1717b7fff97d37a1e1a0029d83492de1`}}",
     NULL, "artifact-content"},
    {"artifact needs payload_bin or url", &ARTIFACT, "{`mime_type`:`text/plain`}", "payload_bin",
     "required-property"},
    {"mime part without body", &EMAIL,
     "{`is_multipart`:true,`body_multipart`:[{`content_type`:`text/plain`}]}", NULL,
     "required-property"},
    {"mime part ok", &EMAIL, "{`is_multipart`:true,`body_multipart`:[{`body`:`hi`}]}", NULL, NULL},
    {"header fields must be lists", &EMAIL, "{`additional_header_fields`:{`X-Mailer`:`mutt`}}",
     NULL, "property-type"},
    {"header fields as lists", &EMAIL, "{`additional_header_fields`:{`X-Mailer`:[`mutt`]}}", NULL,
     NULL},
    {"environment variable not a string", &PROC, "{`environment_variables`:{`PATH`:1}}", NULL,
     "property-type"},
    {"software languages ok", &SOFTWARE, "{`languages`:[`en`,`pt-BR`]}", NULL, NULL},
    {"software language not a tag", &SOFTWARE, "{`languages`:[`english!`]}", NULL, "language-tag"},
    {"pebinary with pe_type only", &FILE_,
     "{`extensions`:{`windows-pebinary-ext`:{`pe_type`:`exe`}}}", NULL, "required-property"},
    {"email body with multipart", &EMAIL, "{`is_multipart`:true,`body`:`x`}", NULL, "email-body"},
    {"file needs hashes or name", &FILE_, "{`size`:3}", "name", "required-property"},
    {"network-traffic needs src or dst", &NT, NULL, "dst_ref", "required-property"},
    {"network-traffic active with end", &NT, "{`is_active`:true,`end`:" TS "}", NULL,
     "network-traffic-end"},
    {"mac upper case", &MAC, "{`value`:`D2:FB:49:24:37:18`}", NULL, "mac-format"},
    {"mac without leading zeros", &MAC, "{`value`:`2:fb:49:24:37:18`}", NULL, "mac-format"},
    {"mac ok", &MAC, NULL, NULL, NULL},
    {"observed-data refs an SCO and a sighting", &OBS,
     "{`object_refs`:[`ipv4-addr--" U1 "`,`sighting--" U1 "`]}", NULL, NULL},
    {"process with nothing", &PROC, NULL, "pid", "required-property"},
    {"x509 with nothing", &X509, NULL, "serial_number", "required-property"},
    {"extension_properties without toplevel", &EXTDEF, "{`extension_properties`:[`a_b`]}", NULL,
     "extension-properties"},
    {"language-content bad tag", &LC, "{`contents`:{`english!`:{`name`:`x`}}}", NULL,
     "language-tag"},

    /* refs point at the right types */
    {"created_by_ref not an identity", &MAL, "{`created_by_ref`:`malware--" U1 "`}", NULL,
     "ref-type"},
    {"relationship to a marking", &REL, "{`target_ref`:`marking-definition--" U1 "`}", NULL,
     "ref-type"},
    {"relationship to a custom object ok", &REL, "{`target_ref`:`x-acme-widget--" U1 "`}", NULL,
     NULL},
    {"relationship to an SCO ok", &REL, "{`target_ref`:`ipv4-addr--" U1 "`}", NULL, NULL},
    {"sighting of an SCO", &SIGHT, "{`sighting_of_ref`:`ipv4-addr--" U1 "`}", NULL, "ref-type"},
    {"where_sighted_refs malware", &SIGHT, "{`where_sighted_refs`:[`malware--" U1 "`]}", NULL,
     "ref-type"},
    {"observed_data_refs wrong type", &SIGHT, "{`observed_data_refs`:[`indicator--" U1 "`]}", NULL,
     "ref-type"},
    {"object_marking_refs not a marking", &MAL, "{`object_marking_refs`:[`" IDENT "`]}", NULL,
     "ref-type"},
    {"network dst_ref to a url", &NT, "{`dst_ref`:`url--" U1 "`}", NULL, "ref-type"},
    {"empty object_refs", &REPORT, "{`object_refs`:[]}", NULL, "empty-list"},

    /* markings (§7.2) */
    {"marking with modified", &STMT, "{`modified`:" TS "}", NULL, "forbidden-property"},
    {"marking with labels", &STMT, "{`labels`:[`a`]}", NULL, "forbidden-property"},
    {"marking without definition or extensions", &STMT, NULL, "definition", "marking-definition"},
    {"statement without statement", &STMT, "{`definition`:{`text`:`x`}}", NULL,
     "statement-marking"},
    {"marking marks itself", &STMT, "{`object_marking_refs`:[`marking-definition--" U1 "`]}", NULL,
     "marking-self-reference"},
    {"TLP 1.0 wrong level", &TLP1W, "{`definition`:{`tlp`:`red`}}", NULL, "tlp-canonical"},
    {"TLP 1.0 wrong created", &TLP1W, "{`created`:`2017-01-21T00:00:00.000Z`}", NULL,
     "tlp-canonical"},
    {"TLP 1.0 wrong name", &TLP1W, "{`name`:`TLP:CLEAR`}", NULL, "tlp-canonical"},
    {"TLP 1.0 extra property", &TLP1W, "{`created_by_ref`:`" IDENT "`}", NULL, "tlp-canonical"},
    {"tlp definition_type on another id", &STMT,
     "{`definition_type`:`tlp`,`definition`:{`tlp`:`green`}}", NULL, "tlp-canonical"},
    {"TLP 2.0 wrong level", &TLP2C,
     "{`extensions`:{`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`:"
     "{`extension_type`:`property-extension`,`tlp_2_0`:`red`}}}",
     NULL, "tlp-canonical"},
    {"TLP 2.0 without name", &TLP2C, NULL, "name", "tlp-canonical"},
    {"TLP 2.0 extension on another id", &TLP2C, "{`id`:`marking-definition--" U1 "`}", NULL,
     "tlp-canonical"},
    {"granular marking ok", &MAL,
     "{`granular_markings`:[{`selectors`:[`name`,`labels.[0]`],"
     "`marking_ref`:`marking-definition--" U1 "`}],`labels`:[`a`]}",
     NULL, NULL},
    {"granular selector missing property", &MAL,
     "{`granular_markings`:[{`selectors`:[`description`],`marking_ref`:`marking-definition--" U1
     "`}]}",
     NULL, "selector-unresolved"},
    {"granular selector index past end", &MAL,
     "{`labels`:[`a`],`granular_markings`:[{`selectors`:[`labels.[1]`],"
     "`marking_ref`:`marking-definition--" U1 "`}]}",
     NULL, "selector-unresolved"},
    {"granular selector index into a string", &MAL,
     "{`granular_markings`:[{`selectors`:[`name.[0]`],`marking_ref`:`marking-definition--" U1
     "`}]}",
     NULL, "selector-unresolved"},
    {"granular both marking_ref and lang", &MAL,
     "{`granular_markings`:[{`selectors`:[`name`],`lang`:`en`,"
     "`marking_ref`:`marking-definition--" U1 "`}]}",
     NULL, "granular-marking"},
    {"granular lang ok", &MAL, "{`granular_markings`:[{`selectors`:[`name`],`lang`:`en`}]}", NULL,
     NULL},
    {"granular empty selectors", &MAL,
     "{`granular_markings`:[{`selectors`:[],`marking_ref`:`marking-definition--" U1 "`}]}", NULL,
     "property-type"},
};

/* ` -> " so the table above stays readable. */
static char *dq(const char *s)
{
    char *d = strdup(s);

    assert_non_null(d);
    for (char *p = d; *p != '\0'; p++)
        if (*p == '`')
            *p = '"';
    return d;
}

static json_t *load(const char *s)
{
    char *t = dq(s);
    json_t *v = NULL;
    struct mrd_err err = {0};

    if (mrd_json_parse(t, strlen(t), NULL, &v, &err) != MRD_OK)
        fail_msg("bad test JSON (%s): %s", err.msg, t);
    free(t);
    return v;
}

static bool has_rule(const struct stix_report *rep, const char *rule, enum stix_severity sev)
{
    for (size_t i = 0; i < rep->nfindings; i++)
        if (strcmp(rep->findings[i].rule, rule) == 0 && rep->findings[i].severity == sev)
            return true;
    return false;
}

static void dump(const char *name, const struct stix_report *rep)
{
    char line[STIX_LINE_MAX];

    print_message("case '%s':\n", name);
    for (size_t i = 0; i < rep->nfindings; i++) {
        (void)stix_finding_format(&rep->findings[i], line, sizeof(line));
        print_message("  %s %s\n", stix_severity_str(rep->findings[i].severity), line);
    }
}

static void test_cases(void **state)
{
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct tcase *tc = &cases[i];
        json_t *obj = load(*tc->base);
        struct stix_report rep;
        struct mrd_err err = {0};
        bool ok;

        if (tc->patch != NULL) {
            json_t *p = load(tc->patch);
            assert_int_equal(json_object_update(obj, p), 0);
            json_decref(p);
        }
        if (tc->del != NULL && json_object_del(obj, tc->del) != 0) {
            print_error("case '%s': the base has no '%s' to delete\n", tc->name, tc->del);
            failed++;
        }
        stix_report_init(&rep);
        assert_int_equal(stix_validate_object(obj, 0, &rep, &err), MRD_OK);
        if (tc->rule == NULL)
            ok = stix_report_errors(&rep) == 0;
        else if (strncmp(tc->rule, "w:", 2) == 0)
            ok = stix_report_errors(&rep) == 0 &&
                 (tc->rule[2] == '\0' ? stix_report_warnings(&rep) > 0
                                      : has_rule(&rep, tc->rule + 2, STIX_WARNING));
        else
            ok = has_rule(&rep, tc->rule, STIX_ERROR);
        if (!ok) {
            dump(tc->name, &rep);
            print_error("case '%s': expected %s\n", tc->name, tc->rule ? tc->rule : "valid");
            failed++;
        }
        stix_report_release(&rep);
        json_decref(obj);
    }
    assert_int_equal(failed, 0);
}

/* STIX_STRICT turns every warning of a case into an error. */
static void test_strict(void **state)
{
    json_t *obj = load(MAL);
    json_t *p = load("{`malware_types`:[`spaceware`]}");
    struct stix_report rep;

    (void)state;
    assert_int_equal(json_object_update(obj, p), 0);
    stix_report_init(&rep);
    assert_int_equal(stix_validate_object(obj, 0, &rep, NULL), MRD_OK);
    assert_int_equal(stix_report_errors(&rep), 0);
    assert_int_equal(stix_report_warnings(&rep), 1);
    stix_report_reset(&rep);
    assert_int_equal(stix_validate_object(obj, STIX_STRICT, &rep, NULL), MRD_OK);
    assert_int_equal(stix_report_errors(&rep), 1);
    assert_int_equal(stix_report_warnings(&rep), 0);
    assert_true(has_rule(&rep, "open-vocab", STIX_ERROR));
    stix_report_reset(&rep);
    assert_int_equal(stix_validate_object(obj, STIX_NO_WARNINGS, &rep, NULL), MRD_OK);
    assert_int_equal(stix_report_warnings(&rep), 0);
    stix_report_release(&rep);
    json_decref(p);
    json_decref(obj);
}

/* A finding names the path, rule, section and a message. */
static void test_finding_fields(void **state)
{
    json_t *obj = load(MAL);
    json_t *p = load("{`x_acme_list`:[{`a_ref`:`nope`}]}");
    struct stix_report rep;
    char line[STIX_LINE_MAX];
    size_t n;

    (void)state;
    assert_int_equal(json_object_update(obj, p), 0);
    stix_report_init(&rep);
    assert_int_equal(stix_validate_object(obj, 0, &rep, NULL), MRD_OK);
    assert_int_equal(stix_report_errors(&rep), 0); /* nested custom content is not walked */
    stix_report_release(&rep);
    json_decref(p);
    json_decref(obj);

    obj = load(IND);
    p = load("{`kill_chain_phases`:[{`kill_chain_name`:`k`,`phase_name`:`p`},"
             "{`kill_chain_name`:`k`}]}");
    assert_int_equal(json_object_update(obj, p), 0);
    stix_report_init(&rep);
    assert_int_equal(stix_validate_object(obj, 0, &rep, NULL), MRD_OK);
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].path, "$.kill_chain_phases[1]");
    assert_string_equal(rep.findings[0].rule, "required-property");
    assert_string_equal(rep.findings[0].section, "STIX 2.1 §2.11");
    assert_int_equal(rep.findings[0].object, -1);
    n = stix_finding_format(&rep.findings[0], line, sizeof(line));
    assert_int_equal(n, strlen(line));
    assert_non_null(strstr(line, "$.kill_chain_phases[1]: required-property (STIX 2.1 §2.11): "));
    assert_non_null(strstr(line, "phase_name"));
    /* a short buffer truncates but reports the full length */
    assert_true(stix_finding_format(&rep.findings[0], line, 8) > 8);
    assert_int_equal(strlen(line), 7);
    stix_report_release(&rep);
    json_decref(p);
    json_decref(obj);
}

static void test_type_class(void **state)
{
    (void)state;
    assert_int_equal(stix_type_class("indicator", 9), STIX_CLASS_SDO);
    assert_int_equal(stix_type_class("sighting", 8), STIX_CLASS_SRO);
    assert_int_equal(stix_type_class("ipv4-addr", 9), STIX_CLASS_SCO);
    assert_int_equal(stix_type_class("marking-definition", 18), STIX_CLASS_META);
    assert_int_equal(stix_type_class("bundle", 6), STIX_CLASS_BUNDLE);
    assert_int_equal(stix_type_class("x-acme", 6), STIX_CLASS_CUSTOM);
    assert_int_equal(stix_type_class("indicatorx", 10), STIX_CLASS_CUSTOM);
    assert_int_equal(stix_type_class("indicator", 5), STIX_CLASS_CUSTOM); /* "indic" */
}

static void test_bad_args(void **state)
{
    struct stix_report rep;
    struct mrd_err err = {0};

    (void)state;
    stix_report_init(&rep);
    assert_int_equal(stix_validate_object(NULL, 0, &rep, &err), MRD_E_INVAL);
    assert_int_equal(stix_validate_document(NULL, 0, &rep, NULL), MRD_E_INVAL);
    stix_report_release(&rep);
    stix_report_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),          cmocka_unit_test(test_strict),
        cmocka_unit_test(test_finding_fields), cmocka_unit_test(test_type_class),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
