#include "tests/integration/vectl_run.h"

#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include "absl/status/statusor.h"
#include "security/crypto/secret_bytes.h"
#include "src/cli/vectl.h"

namespace virtengine::testing {

VectlRun RunVectlIn(const std::string& vhome, const std::string& pass,
                    const std::vector<std::string>& args,
                    const std::string& node, const std::string& home_env) {
  cli::Env env;
  env.vars = {{"VECTL_HOME", vhome},
              {"VECTL_PASSPHRASE_FILE", pass},
              {"HOME", home_env.empty() ? vhome : home_env}};
  if (!node.empty()) env.vars["VECTL_NODE"] = node;
  env.cwd = vhome;
  env.read_secret =
      [](const std::string&) -> absl::StatusOr<crypto::SecretBytes> {
    return absl::FailedPreconditionError("no terminal in tests");
  };
  std::ostringstream o, e;
  VectlRun r;
  r.code = cli::RunVectl(args, o, e, env);
  r.out = o.str();
  r.err = e.str();
  return r;
}

ShortTempDir::ShortTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

ShortTempDir::~ShortTempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace virtengine::testing
