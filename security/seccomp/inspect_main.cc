#include <iostream>

#include "security/seccomp/inspect.h"

int main(int argc, char** argv) {
  return ve::security::seccomp::InspectMain(argc, argv, std::cout, std::cerr);
}
