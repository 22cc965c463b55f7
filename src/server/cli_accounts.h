/*
 * server/cli_accounts.h - `switchboard accounts connect|list` and `switchboard keys rotate`.
 */
#ifndef SB_SERVER_CLI_ACCOUNTS_H
#define SB_SERVER_CLI_ACCOUNTS_H

#include "core/config.h"

/* `accounts connect --user-token TOKEN|-` (TOKEN "-": read from stdin, so it stays out of `ps`
 * and the shell history) and `accounts list [--json]`. Returns the process exit code: 0, 1
 * runtime failure (one line on stderr), 2 usage. */
int cli_accounts(const struct config *cfg, int argc, const char **argv);

/* `keys rotate`: a new master key first in SB_DATA_DIR/master.key (or, with SB_MASTER_KEY set,
 * no new key), then every stored token re-sealed under the current key. Exit code as above. */
int cli_keys(const struct config *cfg, int argc, const char **argv);

#endif
