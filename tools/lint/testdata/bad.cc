// Deliberately bad code: tools/lint/lint_gate_test.sh expects tools/lint.sh
// to reject it. Not compiled into anything.
#include <cstdlib>
#include <cstring>
#include <string>

int   Bad( const char* arg ) {  // clang-format: spacing
  char buf[8];
  strcpy(buf, arg);  // clang-tidy: cert / clang-analyzer insecure API
  std::string s = "x";
  if (s.size() == 0) return rand();  // readability + forbidden rand()
  return system(buf);                // forbidden shell string
}
