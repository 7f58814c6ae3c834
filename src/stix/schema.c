/*
 * schema: the property tables of STIX 2.1, one per object type, plus the
 * vocabularies and enumerations they use.
 *
 * Taken from the property tables of STIX 2.1 §4 (SDOs), §5 (SROs), §6
 * (SCOs) and §7 (meta objects). A property not in a type's table (nor in
 * the common table of its class) is a custom property: allowed, checked
 * only for naming (check.c). Rules that tie properties together (one of
 * two required, ordering of timestamps...) are the `extra` functions in
 * rules.c.
 */
#include <string.h>

#include "stix/stix_int.h"
#include "stix/stix_rules.h"

/* ---- vocabularies (open: warnings) and enumerations (closed: errors) ---- */

static const char *const v_attack_motivation[] = {"accidental",
                                                  "coercion",
                                                  "dominance",
                                                  "ideology",
                                                  "notoriety",
                                                  "organizational-gain",
                                                  "personal-gain",
                                                  "personal-satisfaction",
                                                  "revenge",
                                                  "unpredictable",
                                                  NULL};
static const char *const v_resource_level[] = {"individual",   "club",       "contest", "team",
                                               "organization", "government", NULL};
static const char *const v_grouping_context[] = {"suspicious-activity", "malware-analysis",
                                                 "unspecified", NULL};
static const char *const v_identity_class[] = {"individual", "group",   "system", "organization",
                                               "class",      "unknown", NULL};
static const char *const v_impl_lang[] = {
    "applescript",  "bash",       "c",      "c++",         "c#",    "go",
    "java",         "javascript", "lua",    "objective-c", "perl",  "php",
    "powershell",   "python",     "ruby",   "scala",       "swift", "typescript",
    "visual-basic", "x86-32",     "x86-64", NULL};
static const char *const v_indicator_type[] = {
    "anomalous-activity", "anonymization", "benign",  "compromised",
    "malicious-activity", "attribution",   "unknown", NULL};
static const char *const v_industry_sector[] = {"agriculture",
                                                "aerospace",
                                                "automotive",
                                                "chemical",
                                                "commercial",
                                                "communications",
                                                "construction",
                                                "defense",
                                                "education",
                                                "energy",
                                                "entertainment",
                                                "financial-services",
                                                "government",
                                                "government-emergency-services",
                                                "government-local",
                                                "government-national",
                                                "government-public-services",
                                                "government-regional",
                                                "healthcare",
                                                "hospitality-leisure",
                                                "infrastructure",
                                                "infrastructure-dams",
                                                "infrastructure-nuclear",
                                                "infrastructure-water",
                                                "insurance",
                                                "manufacturing",
                                                "mining",
                                                "non-profit",
                                                "pharmaceuticals",
                                                "retail",
                                                "technology",
                                                "telecommunications",
                                                "transportation",
                                                "utilities",
                                                NULL};
static const char *const v_infra_type[] = {"amplification",
                                           "anonymization",
                                           "botnet",
                                           "command-and-control",
                                           "control-system",
                                           "exfiltration",
                                           "firewall",
                                           "hosting-malware",
                                           "hosting-target-lists",
                                           "phishing",
                                           "reconnaissance",
                                           "routers-switches",
                                           "staging",
                                           "workstation",
                                           "unknown",
                                           NULL};
static const char *const v_malware_result[] = {"malicious", "suspicious", "benign", "unknown",
                                               NULL};
static const char *const v_malware_cap[] = {"accesses-remote-machines",
                                            "anti-debugging",
                                            "anti-disassembly",
                                            "anti-emulation",
                                            "anti-memory-forensics",
                                            "anti-sandbox",
                                            "anti-vm",
                                            "captures-input-peripherals",
                                            "captures-output-peripherals",
                                            "captures-system-state-data",
                                            "cleans-traces-of-infection",
                                            "commits-fraud",
                                            "communicates-with-c2",
                                            "compromises-data-availability",
                                            "compromises-data-integrity",
                                            "compromises-system-availability",
                                            "controls-local-machine",
                                            "degrades-security-software",
                                            "degrades-system-updates",
                                            "determines-c2-server",
                                            "emails-spam",
                                            "escalates-privileges",
                                            "evades-av",
                                            "exfiltrates-data",
                                            "fingerprints-host",
                                            "hides-artifacts",
                                            "hides-executing-code",
                                            "infects-files",
                                            "infects-remote-machines",
                                            "installs-other-components",
                                            "persists-after-system-reboot",
                                            "prevents-artifact-access",
                                            "prevents-artifact-deletion",
                                            "probes-network-environment",
                                            "self-modifies",
                                            "steals-authentication-credentials",
                                            "violates-system-operational-integrity",
                                            NULL};
static const char *const v_malware_type[] = {"adware",
                                             "backdoor",
                                             "bot",
                                             "bootkit",
                                             "ddos",
                                             "downloader",
                                             "dropper",
                                             "exploit-kit",
                                             "keylogger",
                                             "ransomware",
                                             "remote-access-trojan",
                                             "resource-exploitation",
                                             "rogue-security-software",
                                             "rootkit",
                                             "screen-capture",
                                             "spyware",
                                             "trojan",
                                             "unknown",
                                             "virus",
                                             "webshell",
                                             "wiper",
                                             "worm",
                                             NULL};
static const char *const v_pattern_type[] = {"stix",     "pcre", "sigma", "snort",
                                             "suricata", "yara", NULL};
static const char *const v_proc_arch[] = {"alpha", "arm", "ia-64",  "mips", "powerpc",
                                          "sparc", "x86", "x86-64", NULL};
static const char *const v_region[] = {"africa",
                                       "eastern-africa",
                                       "middle-africa",
                                       "northern-africa",
                                       "southern-africa",
                                       "western-africa",
                                       "americas",
                                       "caribbean",
                                       "central-america",
                                       "latin-america-caribbean",
                                       "northern-america",
                                       "south-america",
                                       "asia",
                                       "central-asia",
                                       "eastern-asia",
                                       "southern-asia",
                                       "south-eastern-asia",
                                       "western-asia",
                                       "europe",
                                       "eastern-europe",
                                       "northern-europe",
                                       "southern-europe",
                                       "western-europe",
                                       "oceania",
                                       "antarctica",
                                       "australia-new-zealand",
                                       "melanesia",
                                       "micronesia",
                                       "polynesia",
                                       NULL};
static const char *const v_report_type[] = {
    "attack-pattern", "campaign",     "identity",      "indicator", "intrusion-set", "malware",
    "observed-data",  "threat-actor", "threat-report", "tool",      "vulnerability", NULL};
static const char *const v_ta_type[] = {"activist",
                                        "competitor",
                                        "crime-syndicate",
                                        "criminal",
                                        "hacker",
                                        "insider-accidental",
                                        "insider-disgruntled",
                                        "nation-state",
                                        "sensationalist",
                                        "spy",
                                        "terrorist",
                                        "unknown",
                                        NULL};
static const char *const v_ta_role[] = {"agent",
                                        "director",
                                        "independent",
                                        "infrastructure-architect",
                                        "infrastructure-operator",
                                        "malware-author",
                                        "sponsor",
                                        NULL};
static const char *const v_ta_soph[] = {"none",   "minimal",   "intermediate", "advanced",
                                        "expert", "innovator", "strategic",    NULL};
static const char *const v_tool_type[] = {"denial-of-service",
                                          "exploitation",
                                          "information-gathering",
                                          "network-capture",
                                          "credential-exploitation",
                                          "remote-access",
                                          "vulnerability-scanning",
                                          "unknown",
                                          NULL};
static const char *const v_account_type[] = {
    "facebook", "ldap",    "nis",  "openid",        "radius",         "skype",
    "tacacs",   "twitter", "unix", "windows-local", "windows-domain", NULL};
static const char *const v_pebin_type[] = {"dll", "exe", "sys", NULL};

static const char *const e_opinion[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                        "strongly-agree",    NULL};
static const char *const e_encryption[] = {"AES-256-GCM", "ChaCha20-Poly1305",
                                           "mime-type-indicated", NULL};
static const char *const e_ext_type[] = {
    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension", NULL};
static const char *const e_addr_family[] = {"AF_UNSPEC",    "AF_INET",    "AF_IPX",
                                            "AF_APPLETALK", "AF_NETBIOS", "AF_INET6",
                                            "AF_IRDA",      "AF_BTH",     NULL};
static const char *const e_socket_type[] = {"SOCK_STREAM", "SOCK_DGRAM",     "SOCK_RAW",
                                            "SOCK_RDM",    "SOCK_SEQPACKET", NULL};
static const char *const e_integrity[] = {"low", "medium", "high", "system", NULL};
static const char *const e_start_type[] = {"SERVICE_AUTO_START",   "SERVICE_BOOT_START",
                                           "SERVICE_DEMAND_START", "SERVICE_DISABLED",
                                           "SERVICE_SYSTEM_ALERT", NULL};
static const char *const e_service_type[] = {"SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER",
                                             "SERVICE_WIN32_OWN_PROCESS",
                                             "SERVICE_WIN32_SHARE_PROCESS", NULL};
static const char *const e_service_status[] = {
    "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED",  "SERVICE_RUNNING",
    "SERVICE_START_PENDING",    "SERVICE_STOP_PENDING",  "SERVICE_STOPPED", NULL};
static const char *const e_reg_datatype[] = {"REG_NONE",
                                             "REG_SZ",
                                             "REG_EXPAND_SZ",
                                             "REG_BINARY",
                                             "REG_DWORD",
                                             "REG_DWORD_BIG_ENDIAN",
                                             "REG_DWORD_LITTLE_ENDIAN",
                                             "REG_LINK",
                                             "REG_MULTI_SZ",
                                             "REG_RESOURCE_LIST",
                                             "REG_FULL_RESOURCE_DESCRIPTION",
                                             "REG_RESOURCE_REQUIREMENTS_LIST",
                                             "REG_QWORD",
                                             "REG_INVALID_TYPE",
                                             NULL};

/* ---- table helpers ---- */

#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }
#define STR(n)                                                                                     \
    {                                                                                              \
        .name = n, .kind = PK_STR                                                                  \
    }
#define STR_R(n)                                                                                   \
    {                                                                                              \
        .name = n, .kind = PK_STR, .flags = P_REQ                                                  \
    }
#define TS(n)                                                                                      \
    {                                                                                              \
        .name = n, .kind = PK_TS                                                                   \
    }
#define TS_R(n)                                                                                    \
    {                                                                                              \
        .name = n, .kind = PK_TS, .flags = P_REQ                                                   \
    }
#define REF(n, t)                                                                                  \
    {                                                                                              \
        .name = n, .kind = PK_REF, .arg = t                                                        \
    }
#define REF_R(n, t)                                                                                \
    {                                                                                              \
        .name = n, .kind = PK_REF, .flags = P_REQ, .arg = t                                        \
    }
#define REFS(n, t)                                                                                 \
    {                                                                                              \
        .name = n, .kind = PK_REFS, .arg = t                                                       \
    }
#define REFS_R(n, t)                                                                               \
    {                                                                                              \
        .name = n, .kind = PK_REFS, .flags = P_REQ, .arg = t                                       \
    }
#define INT(n)                                                                                     \
    {                                                                                              \
        .name = n, .kind = PK_INT                                                                  \
    }
#define INTR(n, lo, hi)                                                                            \
    {                                                                                              \
        .name = n, .kind = PK_INT, .flags = P_RANGE, .min = lo, .max = hi                          \
    }
#define INTR_R(n, lo, hi)                                                                          \
    {                                                                                              \
        .name = n, .kind = PK_INT, .flags = P_REQ | P_RANGE, .min = lo, .max = hi                  \
    }
#define NUMR(n, lo, hi)                                                                            \
    {                                                                                              \
        .name = n, .kind = PK_NUM, .flags = P_RANGE, .min = lo, .max = hi                          \
    }
#define BOOL(n)                                                                                    \
    {                                                                                              \
        .name = n, .kind = PK_BOOL                                                                 \
    }
#define BOOL_R(n)                                                                                  \
    {                                                                                              \
        .name = n, .kind = PK_BOOL, .flags = P_REQ                                                 \
    }
#define STRS(n)                                                                                    \
    {                                                                                              \
        .name = n, .kind = PK_STRS                                                                 \
    }
#define STRS_R(n)                                                                                  \
    {                                                                                              \
        .name = n, .kind = PK_STRS, .flags = P_REQ                                                 \
    }
#define OV(n, v, vn)                                                                               \
    {                                                                                              \
        .name = n, .kind = PK_OV, .arg = vn, .vocab = v                                            \
    }
#define OV_R(n, v, vn)                                                                             \
    {                                                                                              \
        .name = n, .kind = PK_OV, .flags = P_REQ, .arg = vn, .vocab = v                            \
    }
#define OVS(n, v, vn)                                                                              \
    {                                                                                              \
        .name = n, .kind = PK_OVS, .arg = vn, .vocab = v                                           \
    }
#define ENUM(n, v, vn)                                                                             \
    {                                                                                              \
        .name = n, .kind = PK_ENUM, .arg = vn, .vocab = v                                          \
    }
#define ENUM_R(n, v, vn)                                                                           \
    {                                                                                              \
        .name = n, .kind = PK_ENUM, .flags = P_REQ, .arg = vn, .vocab = v                          \
    }
#define ENUMS_R(n, v, vn)                                                                          \
    {                                                                                              \
        .name = n, .kind = PK_ENUMS, .flags = P_REQ, .arg = vn, .vocab = v                         \
    }
#define KCPS(n)                                                                                    \
    {                                                                                              \
        .name = n, .kind = PK_KCPS                                                                 \
    }
#define HASHES(n)                                                                                  \
    {                                                                                              \
        .name = n, .kind = PK_HASHES                                                               \
    }
#define DICT(n)                                                                                    \
    {                                                                                              \
        .name = n, .kind = PK_DICT                                                                 \
    }
/* Dictionaries whose values the spec types: "S" strings, "LS" lists of
 * strings, "SLS" either, "I" integers, "IS" integers or strings. */
#define DICTV(n, v)                                                                                \
    {                                                                                              \
        .name = n, .kind = PK_DICT, .arg = v                                                       \
    }
#define BIN(n)                                                                                     \
    {                                                                                              \
        .name = n, .kind = PK_BIN                                                                  \
    }
#define HEX(n)                                                                                     \
    {                                                                                              \
        .name = n, .kind = PK_HEX                                                                  \
    }
#define HEX_R(n)                                                                                   \
    {                                                                                              \
        .name = n, .kind = PK_HEX, .flags = P_REQ                                                  \
    }
#define OBJ(n, s)                                                                                  \
    {                                                                                              \
        .name = n, .kind = PK_OBJ, .sub = s                                                        \
    }
#define OBJS(n, s)                                                                                 \
    {                                                                                              \
        .name = n, .kind = PK_OBJS, .sub = s                                                       \
    }
#define ANY(n)                                                                                     \
    {                                                                                              \
        .name = n, .kind = PK_ANY                                                                  \
    }
#define FORBID(n)                                                                                  \
    {                                                                                              \
        .name = n, .kind = PK_ANY, .flags = P_FORBID                                               \
    }

/* Targets of reference properties: type names and classes (check.c). */
#define T_IDENTITY "identity"
#define T_MARKING "marking-definition"

/* ---- common properties (STIX 2.1 §3.2) ---- */

static const struct stix_prop common_sdo[] = {
    STR_R("type"),
    {.name = "spec_version", .kind = PK_SPECVER, .flags = P_REQ},
    STR_R("id"),
    REF("created_by_ref", T_IDENTITY),
    TS_R("created"),
    TS_R("modified"),
    BOOL("revoked"),
    STRS("labels"),
    INTR("confidence", 0, 100),
    {.name = "lang", .kind = PK_LANG},
    {.name = "external_references", .kind = PK_EXTREFS},
    {.name = "object_marking_refs", .kind = PK_MARKREFS},
    {.name = "granular_markings", .kind = PK_GRANULAR},
    {.name = "extensions", .kind = PK_EXTS},
    END};

static const struct stix_prop common_sco[] = {STR_R("type"),
                                              {.name = "spec_version", .kind = PK_SPECVER},
                                              STR_R("id"),
                                              {.name = "object_marking_refs", .kind = PK_MARKREFS},
                                              {.name = "granular_markings", .kind = PK_GRANULAR},
                                              BOOL("defanged"),
                                              {.name = "extensions", .kind = PK_EXTS},
                                              END};

/* §7.2.1: no modified, revoked, labels, confidence, lang. */
static const struct stix_prop common_marking[] = {
    STR_R("type"),
    {.name = "spec_version", .kind = PK_SPECVER, .flags = P_REQ},
    STR_R("id"),
    REF("created_by_ref", T_IDENTITY),
    TS_R("created"),
    FORBID("modified"),
    FORBID("revoked"),
    FORBID("labels"),
    FORBID("confidence"),
    FORBID("lang"),
    {.name = "external_references", .kind = PK_EXTREFS},
    {.name = "object_marking_refs", .kind = PK_MARKREFS},
    {.name = "granular_markings", .kind = PK_GRANULAR},
    {.name = "extensions", .kind = PK_EXTS},
    END};

/* ---- nested types ---- */

static const struct stix_prop p_alt_stream[] = {STR_R("name"), HASHES("hashes"),
                                                INTR("size", 0, 9007199254740991.0), END};
static const struct stix_prop p_mime_part[] = {STR("body"), REF("body_raw_ref", "artifact file"),
                                               STR("content_type"), STR("content_disposition"),
                                               END};
static const struct stix_prop p_reg_value[] = {
    STR("name"), STR("data"), ENUM("data_type", e_reg_datatype, "windows-registry-datatype-enum"),
    END};
static const struct stix_prop p_x509_ext[] = {STR("basic_constraints"),
                                              STR("name_constraints"),
                                              STR("policy_constraints"),
                                              STR("key_usage"),
                                              STR("extended_key_usage"),
                                              STR("subject_key_identifier"),
                                              STR("authority_key_identifier"),
                                              STR("subject_alternative_name"),
                                              STR("issuer_alternative_name"),
                                              STR("subject_directory_attributes"),
                                              STR("crl_distribution_points"),
                                              STR("inhibit_any_policy"),
                                              TS("private_key_usage_period_not_before"),
                                              TS("private_key_usage_period_not_after"),
                                              STR("certificate_policies"),
                                              STR("policy_mappings"),
                                              END};
static const struct stix_prop p_pe_section[] = {STR_R("name"), INT("size"), NUMR("entropy", 0, 8),
                                                HASHES("hashes"), END};

/* ---- predefined extensions (§6.x.2) ---- */

static const struct stix_prop x_archive[] = {REFS_R("contains_refs", "file directory"),
                                             STR("comment"), END};
static const struct stix_prop x_ntfs[] = {STR("sid"), OBJS("alternate_data_streams", p_alt_stream),
                                          END};
static const struct stix_prop x_pdf[] = {
    STR("version"), BOOL("is_optimized"), DICTV("document_info_dict", "S"),
    STR("pdfid0"),  STR("pdfid1"),        END};
static const struct stix_prop x_raster[] = {INT("image_height"), INT("image_width"),
                                            INT("bits_per_pixel"), DICTV("exif_tags", "IS"), END};
static const struct stix_prop x_pebin[] = {
    OV_R("pe_type", v_pebin_type, "windows-pebinary-type-ov"),
    STR("imphash"),
    HEX("machine_hex"),
    INTR("number_of_sections", 0, 9007199254740991.0),
    TS("time_date_stamp"),
    HEX("pointer_to_symbol_table_hex"),
    INTR("number_of_symbols", 0, 9007199254740991.0),
    INTR("size_of_optional_header", 0, 9007199254740991.0),
    HEX("characteristics_hex"),
    HASHES("file_header_hashes"),
    DICT("optional_header"),
    OBJS("sections", p_pe_section),
    END};
static const struct stix_prop x_http[] = {STR_R("request_method"),
                                          STR_R("request_value"),
                                          STR("request_version"),
                                          DICTV("request_header", "SLS"),
                                          INT("message_body_length"),
                                          REF("message_body_data_ref", "artifact"),
                                          END};
static const struct stix_prop x_icmp[] = {HEX_R("icmp_type_hex"), HEX_R("icmp_code_hex"), END};
static const struct stix_prop x_socket[] = {
    ENUM_R("address_family", e_addr_family, "network-socket-address-family-enum"),
    BOOL("is_blocking"),
    BOOL("is_listening"),
    DICTV("options", "I"),
    ENUM("socket_type", e_socket_type, "network-socket-type-enum"),
    INT("socket_descriptor"),
    INT("socket_handle"),
    END};
static const struct stix_prop x_tcp[] = {HEX("src_flags_hex"), HEX("dst_flags_hex"), END};
static const struct stix_prop x_winproc[] = {
    BOOL("aslr_enabled"),
    BOOL("dep_enabled"),
    STR("priority"),
    STR("owner_sid"),
    STR("window_title"),
    DICT("startup_info"),
    ENUM("integrity_level", e_integrity, "windows-integrity-level-enum"),
    END};
static const struct stix_prop x_winsvc[] = {
    STR("service_name"),
    STRS("descriptions"),
    STR("display_name"),
    STR("group_name"),
    ENUM("start_type", e_start_type, "windows-service-start-type-enum"),
    REFS("service_dll_refs", "file"),
    ENUM("service_type", e_service_type, "windows-service-type-enum"),
    ENUM("service_status", e_service_status, "windows-service-status-enum"),
    END};
static const struct stix_prop x_unix[] = {INT("gid"), STRS("groups"), STR("home_dir"), STR("shell"),
                                          END};

static const struct {
    const char *name;
    const struct stix_prop *props;
} ext_table[] = {
    {"archive-ext", x_archive},
    {"ntfs-ext", x_ntfs},
    {"pdf-ext", x_pdf},
    {"raster-image-ext", x_raster},
    {"windows-pebinary-ext", x_pebin},
    {"http-request-ext", x_http},
    {"icmp-ext", x_icmp},
    {"socket-ext", x_socket},
    {"tcp-ext", x_tcp},
    {"windows-process-ext", x_winproc},
    {"windows-service-ext", x_winsvc},
    {"unix-account-ext", x_unix},
};

static const char *const ext_file[] = {
    "archive-ext", "ntfs-ext", "pdf-ext", "raster-image-ext", "windows-pebinary-ext", NULL};
static const char *const ext_traffic[] = {"http-request-ext", "icmp-ext", "socket-ext", "tcp-ext",
                                          NULL};
static const char *const ext_process[] = {"windows-process-ext", "windows-service-ext", NULL};
static const char *const ext_account[] = {"unix-account-ext", NULL};
static const char *const ext_none[] = {NULL};

/* ---- SDOs (§4) ---- */

static const struct stix_prop t_attack_pattern[] = {
    STR_R("name"), STR("description"), STRS("aliases"), KCPS("kill_chain_phases"), END};
static const struct stix_prop t_campaign[] = {STR_R("name"),
                                              STR("description"),
                                              STRS("aliases"),
                                              TS("first_seen"),
                                              TS("last_seen"),
                                              STR("objective"),
                                              END};
static const struct stix_prop t_coa[] = {STR_R("name"), STR("description"), END};
static const struct stix_prop t_grouping[] = {
    STR("name"), STR("description"), OV_R("context", v_grouping_context, "grouping-context-ov"),
    REFS_R("object_refs", "ANY"), END};
static const struct stix_prop t_identity[] = {
    STR_R("name"),
    STR("description"),
    STRS("roles"),
    OV("identity_class", v_identity_class, "identity-class-ov"),
    OVS("sectors", v_industry_sector, "industry-sector-ov"),
    STR("contact_information"),
    END};
static const struct stix_prop t_incident[] = {STR_R("name"), STR("description"),
                                              KCPS("kill_chain_phases"), END};
static const struct stix_prop t_indicator[] = {
    STR("name"),
    STR("description"),
    OVS("indicator_types", v_indicator_type, "indicator-type-ov"),
    STR_R("pattern"),
    OV_R("pattern_type", v_pattern_type, "pattern-type-ov"),
    STR("pattern_version"),
    TS_R("valid_from"),
    TS("valid_until"),
    KCPS("kill_chain_phases"),
    END};
static const struct stix_prop t_infrastructure[] = {
    STR_R("name"),
    STR("description"),
    OVS("infrastructure_types", v_infra_type, "infrastructure-type-ov"),
    STRS("aliases"),
    KCPS("kill_chain_phases"),
    TS("first_seen"),
    TS("last_seen"),
    END};
static const struct stix_prop t_intrusion_set[] = {
    STR_R("name"),
    STR("description"),
    STRS("aliases"),
    TS("first_seen"),
    TS("last_seen"),
    STRS("goals"),
    OV("resource_level", v_resource_level, "attack-resource-level-ov"),
    OV("primary_motivation", v_attack_motivation, "attack-motivation-ov"),
    OVS("secondary_motivations", v_attack_motivation, "attack-motivation-ov"),
    END};
static const struct stix_prop t_location[] = {STR("name"),
                                              STR("description"),
                                              NUMR("latitude", -90.0, 90.0),
                                              NUMR("longitude", -180.0, 180.0),
                                              NUMR("precision", 0.0, 1.0e300),
                                              OV("region", v_region, "region-ov"),
                                              STR("country"),
                                              STR("administrative_area"),
                                              STR("city"),
                                              STR("street_address"),
                                              STR("postal_code"),
                                              END};
static const struct stix_prop t_malware[] = {
    STR("name"),
    STR("description"),
    OVS("malware_types", v_malware_type, "malware-type-ov"),
    BOOL_R("is_family"),
    STRS("aliases"),
    KCPS("kill_chain_phases"),
    TS("first_seen"),
    TS("last_seen"),
    REFS("operating_system_refs", "software"),
    OVS("architecture_execution_envs", v_proc_arch, "processor-architecture-ov"),
    OVS("implementation_languages", v_impl_lang, "implementation-language-ov"),
    OVS("capabilities", v_malware_cap, "malware-capabilities-ov"),
    REFS("sample_refs", "file artifact"),
    END};
static const struct stix_prop t_malware_analysis[] = {
    STR_R("product"),
    STR("version"),
    REF("host_vm_ref", "software"),
    REF("operating_system_ref", "software"),
    REFS("installed_software_refs", "software"),
    STR("configuration_version"),
    STRS("modules"),
    STR("analysis_engine_version"),
    STR("analysis_definition_version"),
    TS("submitted"),
    TS("analysis_started"),
    TS("analysis_ended"),
    STR("result_name"),
    OV("result", v_malware_result, "malware-result-ov"),
    REFS("analysis_sco_refs", "SCO"),
    REF("sample_ref", "file network-traffic artifact"),
    END};
static const struct stix_prop t_note[] = {STR("abstract"), STR_R("content"), STRS("authors"),
                                          REFS_R("object_refs", "ANY"), END};
static const struct stix_prop t_observed_data[] = {
    TS_R("first_observed"), TS_R("last_observed"),          INTR_R("number_observed", 1, 999999999),
    DICT("objects"),        REFS("object_refs", "SCO SRO"), END};
static const struct stix_prop t_opinion[] = {STR("explanation"), STRS("authors"),
                                             ENUM_R("opinion", e_opinion, "opinion-enum"),
                                             REFS_R("object_refs", "ANY"), END};
static const struct stix_prop t_report[] = {STR_R("name"),
                                            STR("description"),
                                            OVS("report_types", v_report_type, "report-type-ov"),
                                            TS_R("published"),
                                            REFS_R("object_refs", "ANY"),
                                            END};
static const struct stix_prop t_threat_actor[] = {
    STR_R("name"),
    STR("description"),
    OVS("threat_actor_types", v_ta_type, "threat-actor-type-ov"),
    STRS("aliases"),
    TS("first_seen"),
    TS("last_seen"),
    OVS("roles", v_ta_role, "threat-actor-role-ov"),
    STRS("goals"),
    OV("sophistication", v_ta_soph, "threat-actor-sophistication-ov"),
    OV("resource_level", v_resource_level, "attack-resource-level-ov"),
    OV("primary_motivation", v_attack_motivation, "attack-motivation-ov"),
    OVS("secondary_motivations", v_attack_motivation, "attack-motivation-ov"),
    OVS("personal_motivations", v_attack_motivation, "attack-motivation-ov"),
    END};
static const struct stix_prop t_tool[] = {STR_R("name"),
                                          STR("description"),
                                          OVS("tool_types", v_tool_type, "tool-type-ov"),
                                          STRS("aliases"),
                                          KCPS("kill_chain_phases"),
                                          STR("tool_version"),
                                          END};
static const struct stix_prop t_vulnerability[] = {STR_R("name"), STR("description"), END};

/* ---- SROs (§5) ---- */

static const struct stix_prop t_relationship[] = {STR_R("relationship_type"),
                                                  STR("description"),
                                                  REF_R("source_ref", "SDO SCO"),
                                                  REF_R("target_ref", "SDO SCO"),
                                                  TS("start_time"),
                                                  TS("stop_time"),
                                                  END};
static const struct stix_prop t_sighting[] = {STR("description"),
                                              TS("first_seen"),
                                              TS("last_seen"),
                                              INTR("count", 0, 999999999),
                                              REF_R("sighting_of_ref", "SDO"),
                                              REFS("observed_data_refs", "observed-data"),
                                              REFS("where_sighted_refs", "identity location"),
                                              BOOL("summary"),
                                              END};

/* ---- SCOs (§6) ---- */

static const struct stix_prop t_artifact[] = {
    STR("mime_type"),
    BIN("payload_bin"),
    STR("url"),
    HASHES("hashes"),
    ENUM("encryption_algorithm", e_encryption, "encryption-algorithm-enum"),
    STR("decryption_key"),
    END};
static const struct stix_prop t_as[] = {INTR_R("number", 0, 4294967295.0), STR("name"), STR("rir"),
                                        END};
static const struct stix_prop t_directory[] = {STR_R("path"),
                                               STR("path_enc"),
                                               TS("ctime"),
                                               TS("mtime"),
                                               TS("atime"),
                                               REFS("contains_refs", "file directory"),
                                               END};
static const struct stix_prop t_domain[] = {
    STR_R("value"), REFS("resolves_to_refs", "ipv4-addr ipv6-addr domain-name"), END};
static const struct stix_prop t_email_addr[] = {STR_R("value"), STR("display_name"),
                                                REF("belongs_to_ref", "user-account"), END};
static const struct stix_prop t_email_msg[] = {BOOL_R("is_multipart"),
                                               TS("date"),
                                               STR("content_type"),
                                               REF("from_ref", "email-addr"),
                                               REF("sender_ref", "email-addr"),
                                               REFS("to_refs", "email-addr"),
                                               REFS("cc_refs", "email-addr"),
                                               REFS("bcc_refs", "email-addr"),
                                               STR("message_id"),
                                               STR("subject"),
                                               STRS("received_lines"),
                                               DICTV("additional_header_fields", "LS"),
                                               STR("body"),
                                               OBJS("body_multipart", p_mime_part),
                                               REF("raw_email_ref", "artifact"),
                                               END};
static const struct stix_prop t_file[] = {HASHES("hashes"),
                                          INTR("size", 0, 9007199254740991.0),
                                          STR("name"),
                                          STR("name_enc"),
                                          HEX("magic_number_hex"),
                                          STR("mime_type"),
                                          TS("ctime"),
                                          TS("mtime"),
                                          TS("atime"),
                                          REF("parent_directory_ref", "directory"),
                                          REFS("contains_refs", "SCO"),
                                          REF("content_ref", "artifact"),
                                          END};
static const struct stix_prop t_ipv4[] = {STR_R("value"), REFS("resolves_to_refs", "mac-addr"),
                                          REFS("belongs_to_refs", "autonomous-system"), END};
static const struct stix_prop t_mac[] = {STR_R("value"), END};
static const struct stix_prop t_mutex[] = {STR_R("name"), END};
static const struct stix_prop t_traffic[] = {
    TS("start"),
    TS("end"),
    BOOL("is_active"),
    REF("src_ref", "ipv4-addr ipv6-addr mac-addr domain-name"),
    REF("dst_ref", "ipv4-addr ipv6-addr mac-addr domain-name"),
    INTR("src_port", 0, 65535),
    INTR("dst_port", 0, 65535),
    STRS_R("protocols"),
    INTR("src_byte_count", 0, 9007199254740991.0),
    INTR("dst_byte_count", 0, 9007199254740991.0),
    INTR("src_packets", 0, 9007199254740991.0),
    INTR("dst_packets", 0, 9007199254740991.0),
    DICTV("ipfix", "IS"),
    REF("src_payload_ref", "artifact"),
    REF("dst_payload_ref", "artifact"),
    REFS("encapsulates_refs", "network-traffic"),
    REF("encapsulated_by_ref", "network-traffic"),
    END};
static const struct stix_prop t_process[] = {BOOL("is_hidden"),
                                             INT("pid"),
                                             TS("created_time"),
                                             STR("cwd"),
                                             STR("command_line"),
                                             DICTV("environment_variables", "S"),
                                             REFS("opened_connection_refs", "network-traffic"),
                                             REF("creator_user_ref", "user-account"),
                                             REF("image_ref", "file"),
                                             REF("parent_ref", "process"),
                                             REFS("child_refs", "process"),
                                             END};
static const struct stix_prop t_software[] = {
    STR_R("name"), STR("cpe"),     STR("swid"), {.name = "languages", .kind = PK_LANGS},
    STR("vendor"), STR("version"), END};
static const struct stix_prop t_url[] = {STR_R("value"), END};
static const struct stix_prop t_account[] = {STR("user_id"),
                                             STR("credential"),
                                             STR("account_login"),
                                             OV("account_type", v_account_type, "account-type-ov"),
                                             STR("display_name"),
                                             BOOL("is_service_account"),
                                             BOOL("is_privileged"),
                                             BOOL("can_escalate_privs"),
                                             BOOL("is_disabled"),
                                             TS("account_created"),
                                             TS("account_expires"),
                                             TS("credential_last_changed"),
                                             TS("account_first_login"),
                                             TS("account_last_login"),
                                             END};
static const struct stix_prop t_regkey[] = {STR("key"),
                                            OBJS("values", p_reg_value),
                                            TS("modified_time"),
                                            REF("creator_user_ref", "user-account"),
                                            INT("number_of_subkeys"),
                                            END};
static const struct stix_prop t_x509[] = {BOOL("is_self_signed"),
                                          HASHES("hashes"),
                                          STR("version"),
                                          STR("serial_number"),
                                          STR("signature_algorithm"),
                                          STR("issuer"),
                                          TS("validity_not_before"),
                                          TS("validity_not_after"),
                                          STR("subject"),
                                          STR("subject_public_key_algorithm"),
                                          STR("subject_public_key_modulus"),
                                          INT("subject_public_key_exponent"),
                                          OBJ("x509_v3_extensions", p_x509_ext),
                                          END};

/* ---- meta objects (§7) ---- */

static const struct stix_prop t_marking[] = {STR("name"), STR("definition_type"), ANY("definition"),
                                             END};
static const struct stix_prop t_language[] = {REF_R("object_ref", "ANY"), TS("object_modified"),
                                              DICT("contents"), END};
static const struct stix_prop t_extdef[] = {
    REF_R("created_by_ref", T_IDENTITY),
    STR_R("name"),
    STR("description"),
    STR_R("schema"),
    STR_R("version"),
    ENUMS_R("extension_types", e_ext_type, "extension-type-enum"),
    STRS("extension_properties"),
    END};

#define SDO(n, t, sec, fn)                                                                         \
    {                                                                                              \
        n, STIX_CLASS_SDO, "STIX 2.1 " sec, t, fn, NULL                                            \
    }
#define SCO(n, t, sec, fn, x)                                                                      \
    {                                                                                              \
        n, STIX_CLASS_SCO, "STIX 2.1 " sec, t, fn, x                                               \
    }

/* Sorted by name: looked up by binary search. */
static const struct stix_type types[] = {
    SCO("artifact", t_artifact, "§6.1", stix__rule_artifact, ext_none),
    SDO("attack-pattern", t_attack_pattern, "§4.1", stix__rule_attack_pattern),
    SCO("autonomous-system", t_as, "§6.2", NULL, ext_none),
    {"bundle", STIX_CLASS_BUNDLE, "STIX 2.1 §8", NULL, NULL, NULL},
    SDO("campaign", t_campaign, "§4.2", stix__rule_seen),
    SDO("course-of-action", t_coa, "§4.3", NULL),
    SCO("directory", t_directory, "§6.3", stix__rule_directory, ext_none),
    SCO("domain-name", t_domain, "§6.4", NULL, ext_none),
    SCO("email-addr", t_email_addr, "§6.5", stix__rule_email_addr, ext_none),
    SCO("email-message", t_email_msg, "§6.6", stix__rule_email_message, ext_none),
    {"extension-definition", STIX_CLASS_META, "STIX 2.1 §7.3", t_extdef,
     stix__rule_extension_definition, NULL},
    SCO("file", t_file, "§6.7", stix__rule_file, ext_file),
    SDO("grouping", t_grouping, "§4.4", NULL),
    SDO("identity", t_identity, "§4.5", NULL),
    SDO("incident", t_incident, "§4.6", NULL),
    SDO("indicator", t_indicator, "§4.7", stix__rule_indicator),
    SDO("infrastructure", t_infrastructure, "§4.8", stix__rule_seen),
    SDO("intrusion-set", t_intrusion_set, "§4.9", stix__rule_seen),
    SCO("ipv4-addr", t_ipv4, "§6.8", stix__rule_ipv4, ext_none),
    SCO("ipv6-addr", t_ipv4, "§6.9", stix__rule_ipv6, ext_none),
    {"language-content", STIX_CLASS_META, "STIX 2.1 §7.1", t_language, stix__rule_language_content,
     NULL},
    SDO("location", t_location, "§4.10", stix__rule_location),
    SCO("mac-addr", t_mac, "§6.10", stix__rule_mac, ext_none),
    SDO("malware", t_malware, "§4.11", stix__rule_malware),
    SDO("malware-analysis", t_malware_analysis, "§4.12", stix__rule_malware_analysis),
    {"marking-definition", STIX_CLASS_META, "STIX 2.1 §7.2.1", t_marking,
     stix__check_marking_definition, NULL},
    SCO("mutex", t_mutex, "§6.11", NULL, ext_none),
    SCO("network-traffic", t_traffic, "§6.12", stix__rule_network_traffic, ext_traffic),
    SDO("note", t_note, "§4.13", NULL),
    SDO("observed-data", t_observed_data, "§4.14", stix__rule_observed_data),
    SDO("opinion", t_opinion, "§4.15", NULL),
    SCO("process", t_process, "§6.13", stix__rule_process, ext_process),
    {"relationship", STIX_CLASS_SRO, "STIX 2.1 §5.1", t_relationship, stix__rule_relationship,
     NULL},
    SDO("report", t_report, "§4.16", NULL),
    {"sighting", STIX_CLASS_SRO, "STIX 2.1 §5.2", t_sighting, stix__rule_sighting, NULL},
    SCO("software", t_software, "§6.14", stix__rule_software, ext_none),
    SDO("threat-actor", t_threat_actor, "§4.17", stix__rule_seen),
    SDO("tool", t_tool, "§4.18", NULL),
    SCO("url", t_url, "§6.15", stix__rule_url, ext_none),
    SCO("user-account", t_account, "§6.16", NULL, ext_account),
    SDO("vulnerability", t_vulnerability, "§4.19", stix__rule_vulnerability),
    SCO("windows-registry-key", t_regkey, "§6.17", stix__rule_regkey, ext_none),
    SCO("x509-certificate", t_x509, "§6.18", stix__rule_at_least_one, ext_none),
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

const struct stix_type *stix__type_find(const char *name, size_t len)
{
    size_t lo = 0;
    size_t hi = NTYPES;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *t = types[mid].name;
        int cmp = strncmp(name, t, len);
        if (cmp == 0 && t[len] != '\0')
            cmp = -1; /* name is a proper prefix of t */
        if (cmp == 0)
            return &types[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

enum stix_class stix_type_class(const char *type, size_t len)
{
    const struct stix_type *t = stix__type_find(type, len);

    return t != NULL ? t->cls : STIX_CLASS_CUSTOM;
}

const struct stix_prop *stix__common_props(enum stix_class cls, const char *type)
{
    if (cls == STIX_CLASS_SCO)
        return common_sco;
    if (cls == STIX_CLASS_META && strcmp(type, "marking-definition") == 0)
        return common_marking;
    return common_sdo;
}

const struct stix_prop *stix__prop_find(const struct stix_prop *t, const char *name)
{
    for (; t->name != NULL; t++)
        if (t->name[0] == name[0] && strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

const struct stix_prop *stix__ext_props(const char *name)
{
    for (size_t i = 0; i < sizeof(ext_table) / sizeof(ext_table[0]); i++)
        if (strcmp(ext_table[i].name, name) == 0)
            return ext_table[i].props;
    return NULL;
}

bool stix__in_vocab(const char *const *vocab, const char *s)
{
    for (; *vocab != NULL; vocab++)
        if (strcmp(*vocab, s) == 0)
            return true;
    return false;
}

const char *const *stix__ext_type_enum(void)
{
    return e_ext_type;
}
