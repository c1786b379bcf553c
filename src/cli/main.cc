// vectl: the binary. Everything happens in RunVectl (vectl.h); main only
// collects the environment, the working directory and the terminal.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "src/cli/terminal.h"
#include "src/cli/vectl.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

int main(int argc, char** argv) {
  virtengine::cli::Env env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    env.vars.emplace(std::string(*e, static_cast<size_t>(eq - *e)),
                     std::string(eq + 1));
  }
  std::vector<char> cwd(4096);
  if (::getcwd(cwd.data(), cwd.size()) != nullptr) env.cwd = cwd.data();
  if (virtengine::cli::StdinIsTerminal()) {
    env.read_secret = virtengine::cli::ReadSecretFromTerminal;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  const int code = virtengine::cli::RunVectl(args, std::cout, std::cerr, env);
  std::cout.flush();
  return code;
}
