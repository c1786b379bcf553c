#include <iostream>

#include "compliance/evidence_cli.h"

int main(int argc, char** argv) {
  return virtengine::compliance::EvidenceMain(argc, argv, std::cout, std::cerr);
}
