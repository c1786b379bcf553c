// ve-measure: see measure_cli.h and docs/security/tpm.md.
#include <iostream>
#include <string>
#include <vector>

#include "security/tpm/measure_cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return virtengine::tpm::RunMeasureCli(args, std::cout, std::cerr);
}
