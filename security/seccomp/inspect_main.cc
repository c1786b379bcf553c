#include <iostream>

#include "security/seccomp/inspect.h"

int main(int argc, char** argv) {
  return virtengine::security::seccomp::InspectMain(argc, argv, std::cout,
                                                    std::cerr);
}
