// ve-audit-verify: see verify_cli.h.
#include <iostream>
#include <string>
#include <vector>

#include "security/audit/verify_cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return virtengine::security::audit::RunVerifyCli(args, std::cout, std::cerr);
}
