// Reading a secret from the terminal without echo (vectl's passphrase
// prompt when no passphrase file is given).
#ifndef VIRTENGINE_SRC_CLI_TERMINAL_H_
#define VIRTENGINE_SRC_CLI_TERMINAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::cli {

// True when standard input is a terminal.
bool StdinIsTerminal();

// Prints `prompt` on standard error, turns echo off on standard input (a
// terminal), reads one line of at most 1024 bytes, restores the terminal
// settings and returns the line without its newline. FailedPrecondition when
// standard input is not a terminal; InvalidArgument for an overlong line;
// Cancelled at end of input.
absl::StatusOr<crypto::SecretBytes> ReadSecretFromTerminal(
    const std::string& prompt);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_TERMINAL_H_
