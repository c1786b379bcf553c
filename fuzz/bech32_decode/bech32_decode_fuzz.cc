// Fuzzes the bech32 decoders. Invariants:
//  - an accepted string is at most 90 characters, not mixed case, and
//    re-encodes (same hrp, same words or bytes) to its lowercase form;
//  - the byte decoder accepts only strings the word decoder accepts;
//  - rejections are InvalidArgument with a "bech32: " message;
//  - an hrp and payload derived from the input survive encode -> decode.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "src/common/encoding/bech32.h"

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

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool MixedCase(std::string_view s) {
  bool lower = false;
  bool upper = false;
  for (const char c : s) {
    lower = lower || (c >= 'a' && c <= 'z');
    upper = upper || (c >= 'A' && c <= 'Z');
  }
  return lower && upper;
}

void CheckRejected(const absl::Status& s) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  FUZZ_CHECK(s.message().substr(0, 8) == "bech32: ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const auto words = enc::Bech32DecodeWords(in, enc::kBech32MaxLength);
  if (words.ok()) {
    FUZZ_CHECK(size <= enc::kBech32MaxLength);
    FUZZ_CHECK(!MixedCase(in));
    FUZZ_CHECK(!words->hrp.empty());
    const auto again = enc::Bech32EncodeWords(words->hrp, words->data);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == Lower(in));
  } else {
    CheckRejected(words.status());
  }

  const auto bytes = enc::Bech32Decode(in, 64);
  if (bytes.ok()) {
    FUZZ_CHECK(words.ok());
    FUZZ_CHECK(bytes->hrp == words->hrp);
    const auto again = enc::Bech32Encode(bytes->hrp, bytes->data);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == Lower(in));
  } else {
    CheckRejected(bytes.status());
  }

  // Reverse direction: hrp of 1..16 printable lowercase-safe characters and
  // a payload of the following bytes.
  if (size >= 1) {
    const size_t hrp_len = std::min<size_t>(1 + data[0] % 16, size - 1);
    if (hrp_len >= 1) {
      std::string hrp;
      for (size_t i = 0; i < hrp_len; ++i) {
        char c = static_cast<char>(33 + data[1 + i] % 94);
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        hrp.push_back(c);
      }
      const absl::Span<const uint8_t> payload =
          absl::Span<const uint8_t>(data, size).subspan(1 + hrp_len);
      const auto enc_s = enc::Bech32Encode(hrp, payload);
      const size_t want_len = hrp.size() + 1 + (payload.size() * 8 + 4) / 5 + 6;
      FUZZ_CHECK(enc_s.ok() == (want_len <= enc::kBech32MaxLength));
      if (enc_s.ok()) {
        FUZZ_CHECK(enc_s->size() == want_len);
        const auto dec = enc::Bech32Decode(*enc_s, payload.size());
        FUZZ_CHECK(dec.ok());
        FUZZ_CHECK(dec->hrp == hrp);
        FUZZ_CHECK(dec->data ==
                   std::vector<uint8_t>(payload.begin(), payload.end()));
      }
    }
  }
  return 0;
}
