/*
 * cli_rules.c: the rule verbs of privacy-policy.json and retention.json.
 */
#ifndef MRD_CLI_RULES_H
#define MRD_CLI_RULES_H

/* `meridian privacy policy add|list|remove ...` (argv[0] = "policy"). */
int cli_privacy_policy(int argc, char **argv);
/* `meridian retention add|list|remove ...` (argv[0] = the subcommand). */
int cli_retention_rules(int argc, char **argv);

#endif
