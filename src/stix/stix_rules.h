/*
 * stix_rules: the per-type rules that tie properties together (rules.c),
 * called after the property table of the type has been checked. Each gets
 * the object (already known to be a JSON object of its type) with the
 * context's path at the object.
 */
#ifndef MRD_STIX_STIX_RULES_H
#define MRD_STIX_STIX_RULES_H

#include "stix/stix_int.h"

void stix__rule_seen(struct stix_ctx *c, const json_t *obj);
void stix__rule_indicator(struct stix_ctx *c, const json_t *obj);
void stix__rule_location(struct stix_ctx *c, const json_t *obj);
void stix__rule_malware(struct stix_ctx *c, const json_t *obj);
void stix__rule_malware_analysis(struct stix_ctx *c, const json_t *obj);
void stix__rule_observed_data(struct stix_ctx *c, const json_t *obj);
void stix__rule_relationship(struct stix_ctx *c, const json_t *obj);
void stix__rule_sighting(struct stix_ctx *c, const json_t *obj);
void stix__rule_artifact(struct stix_ctx *c, const json_t *obj);
void stix__rule_email_message(struct stix_ctx *c, const json_t *obj);
void stix__rule_file(struct stix_ctx *c, const json_t *obj);
void stix__rule_directory(struct stix_ctx *c, const json_t *obj);
void stix__rule_software(struct stix_ctx *c, const json_t *obj);
void stix__rule_network_traffic(struct stix_ctx *c, const json_t *obj);
void stix__rule_mac(struct stix_ctx *c, const json_t *obj);
void stix__rule_process(struct stix_ctx *c, const json_t *obj);
void stix__rule_at_least_one(struct stix_ctx *c, const json_t *obj);
void stix__rule_email_addr(struct stix_ctx *c, const json_t *obj);
void stix__rule_url(struct stix_ctx *c, const json_t *obj);
void stix__rule_attack_pattern(struct stix_ctx *c, const json_t *obj);
void stix__rule_vulnerability(struct stix_ctx *c, const json_t *obj);
void stix__rule_ipv4(struct stix_ctx *c, const json_t *obj);
void stix__rule_ipv6(struct stix_ctx *c, const json_t *obj);
void stix__rule_regkey(struct stix_ctx *c, const json_t *obj);
void stix__rule_language_content(struct stix_ctx *c, const json_t *obj);
void stix__rule_extension_definition(struct stix_ctx *c, const json_t *obj);

/* The extension-type-enum values (schema.c). */
const char *const *stix__ext_type_enum(void);

#endif
