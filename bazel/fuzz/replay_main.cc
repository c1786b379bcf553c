// Regression-test main for libFuzzer targets: feeds each file named on the
// command line to LLVMFuzzerTestOneInput once. A crash, sanitizer report or
// abort fails the test; an unreadable or empty corpus fails it too, so a
// target whose corpus went missing cannot pass silently.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv)
    __attribute__((weak));

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    (void)std::fprintf(stderr, "replay: no corpus files given\n");
    return 2;
  }
  int replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      (void)std::fprintf(stderr, "replay: cannot read %s\n", argv[i]);
      return 2;
    }
    std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
    ++replayed;
  }
  std::printf("replayed %d corpus inputs\n", replayed);
  return 0;
}
