/*
 * cli_hold: what `meridian evidence` borrows from `meridian hold`.
 */
#ifndef MRD_CLI_HOLD_H
#define MRD_CLI_HOLD_H

/* `meridian evidence export --case ID -o FILE`: packages the object
 * versions preserved by the case's active holds (their exact bytes, an
 * inclusion proof of each into a checkpoint signed now by the node key, the
 * node's public key and a signed manifest) and records the export as a
 * ledger leaf of each hold. data NULL: the default data directory. */
int cli_hold_export_case(const char *data, const char *case_id, const char *outp);

#endif
