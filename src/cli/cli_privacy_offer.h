/* `meridian privacy offer|offers|withdraw` (cli_privacy_offer.c): argv[0]
 * is the subcommand. Each returns the exit status. */
#ifndef MRD_CLI_PRIVACY_OFFER_H
#define MRD_CLI_PRIVACY_OFFER_H

int cli_privacy_offer(int argc, char **argv);
int cli_privacy_offers(int argc, char **argv);
int cli_privacy_withdraw(int argc, char **argv);

#endif
