// Fuzzes encoding::Base64Decode in both variants. Invariants:
//  - an accepted input re-encodes to exactly itself (one spelling per byte
//    string: padding, alphabet and trailing bits are canonical), and its
//    decoded size matches the size computed from the length;
//  - a rejection is InvalidArgument with the variant's message prefix;
//  - the standard and URL-safe decoders agree on inputs that use neither
//    alphabet's special characters nor padding and have a length that is a
//    multiple of 4;
//  - any byte string survives encode -> decode in both variants.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "src/common/encoding/base64.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

namespace enc = virtengine::encoding;

constexpr size_t kMaxBytes = 512;

void CheckOne(std::string_view in, enc::Base64Variant v, const char* prefix) {
  const auto decoded = enc::Base64Decode(in, kMaxBytes, v);
  if (decoded.ok()) {
    FUZZ_CHECK(decoded->size() <= kMaxBytes);
    FUZZ_CHECK(enc::Base64Encode(*decoded, v) == in);
  } else {
    FUZZ_CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string p = std::string(prefix) + ": ";
    FUZZ_CHECK(decoded.status().message().substr(0, p.size()) == p);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckOne(in, enc::Base64Variant::kStandard, "base64");
  CheckOne(in, enc::Base64Variant::kUrlSafe, "base64url");

  if (size % 4 == 0 && in.find_first_of("+/-_=") == std::string_view::npos) {
    const auto a =
        enc::Base64Decode(in, kMaxBytes, enc::Base64Variant::kStandard);
    const auto b =
        enc::Base64Decode(in, kMaxBytes, enc::Base64Variant::kUrlSafe);
    FUZZ_CHECK(a.ok() == b.ok());
    if (a.ok()) FUZZ_CHECK(*a == *b);
  }

  const absl::Span<const uint8_t> raw(data, size);
  const std::vector<uint8_t> want(raw.begin(), raw.end());
  for (auto v : {enc::Base64Variant::kStandard, enc::Base64Variant::kUrlSafe}) {
    const std::string text = enc::Base64Encode(raw, v);
    const auto back = enc::Base64Decode(text, size, v);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(*back == want);
  }
  return 0;
}
