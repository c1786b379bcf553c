// Fuzzes encoding::HexDecode. Invariants:
//  - the decoder accepts exactly the inputs an independent check accepts
//    (even length, within the limit, every character a hex digit);
//  - an accepted input re-encodes to its lowercase form;
//  - a rejection is InvalidArgument with a "hex: " message;
//  - any byte string survives encode -> decode.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "src/common/encoding/hex.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

constexpr size_t kMaxBytes = 256;

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace enc = virtengine::encoding;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  bool expect_ok = size % 2 == 0 && size / 2 <= kMaxBytes;
  for (size_t i = 0; expect_ok && i < size; ++i) {
    expect_ok = IsHexDigit(in[i]);
  }
  const auto decoded = enc::HexDecode(in, kMaxBytes);
  FUZZ_CHECK(decoded.ok() == expect_ok);
  if (decoded.ok()) {
    FUZZ_CHECK(decoded->size() == size / 2);
    FUZZ_CHECK(enc::HexEncode(*decoded) == Lower(in));
  } else {
    FUZZ_CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(decoded.status().message().substr(0, 5) == "hex: ");
  }

  // Reverse direction: the input as raw bytes.
  const absl::Span<const uint8_t> raw(data, size);
  const std::string text = enc::HexEncode(raw);
  FUZZ_CHECK(text.size() == 2 * size);
  const auto back = enc::HexDecode(text, size);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == std::vector<uint8_t>(raw.begin(), raw.end()));
  return 0;
}
