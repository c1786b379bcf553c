// A clean file: tools/lint.sh must accept it.
#include <string>

int Good(const std::string& s) {
  if (s.empty()) {
    return 0;
  }
  return static_cast<int>(s.size());
}
