// vectl: the one command-line tool (docs/cli/vectl.md).
//
//   vectl [global flags] <command> [<subcommand>] [flags] [arguments]
//
// RunVectl is the whole tool in-process (the binary's main only builds an
// Env from the process and calls it), so every command is testable without
// spawning: give it argv without the program name, two streams and an Env.
//
// Exit status: 0 ok; 1 runtime error (the node refused or failed, a receipt
// does not verify, a wrong passphrase, an unreachable node); 2 usage or
// configuration error (unknown command or flag, a malformed argument, a
// missing passphrase source).
#ifndef VIRTENGINE_SRC_CLI_VECTL_H_
#define VIRTENGINE_SRC_CLI_VECTL_H_

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

inline constexpr char kVectlVersion[] = "0.1.0";

// What vectl reads from its surroundings, injected so that tests control it.
struct Env {
  // The environment (HOME, VECTL_HOME, VECTL_NODE, VECTL_PASSPHRASE_FILE,
  // VECTL_EXPORT_PASSPHRASE_FILE, VECTL_ADMIN_SOCKET are read; nothing
  // else).
  std::map<std::string, std::string> vars;
  // The working directory relative paths are resolved against (absolute).
  std::string cwd;
  // Reads one secret line from the controlling terminal without echo, after
  // printing `prompt` (to the terminal, not to stdout). Empty when there is
  // no terminal: then a passphrase must come from a file.
  std::function<absl::StatusOr<crypto::SecretBytes>(const std::string& prompt)>
      read_secret;
};

// Runs vectl with `args` (without the program name). Results go to `out`,
// diagnostics to `err`. Returns the exit status.
int RunVectl(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err, Env& env);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_VECTL_H_
