/*
 * server/cli_kb.h - `switchboard kb add PATH... | kb list | kb search QUERY`.
 */
#ifndef SB_SERVER_CLI_KB_H
#define SB_SERVER_CLI_KB_H

#include "core/config.h"

/* Runs one kb subcommand against the store of cfg (embeddings from SB_EMBED_URL and
 * SB_EMBED_MODEL, with SB_LLM_API_KEY, when set). Returns the process exit code: 0, 1 runtime
 * failure (a missing path, a file named on the command line that could not be indexed, a
 * store error; one line on stderr each), 2 usage. */
int cli_kb(const struct config *cfg, int argc, const char **argv);

#endif
