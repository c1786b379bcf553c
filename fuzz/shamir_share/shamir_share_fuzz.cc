// Fuzzes the text form of Shamir shares (security/keys/shamir.h).
// Invariants:
//  - DecodeShare never crashes; a rejection is InvalidArgument (syntax or a
//    field out of range) or DataLoss (checksum);
//  - an accepted share has its fields in range and re-encodes to exactly the
//    input (the text form is canonical);
//  - the same holds after NormalizeShareText, whose output is idempotent;
//  - a share never combines with itself (duplicate index) nor alone
//    (threshold is at least 2).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "security/crypto/bytes.h"
#include "security/crypto/secret_bytes.h"
#include "security/keys/shamir.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

namespace keys = virtengine::keys;
using virtengine::crypto::AsChars;

void CheckOne(std::string_view text) {
  auto share = keys::DecodeShare(text);
  if (!share.ok()) {
    const auto code = share.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
               code == absl::StatusCode::kDataLoss);
    return;
  }
  FUZZ_CHECK(share->threshold >= 2);
  FUZZ_CHECK(share->count >= share->threshold);
  FUZZ_CHECK(share->index >= 1 && share->index <= share->count);
  FUZZ_CHECK(!share->value.empty() &&
             share->value.size() <= keys::kMaxShamirSecretBytes);
  auto again = keys::EncodeShare(*share);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(AsChars(again->view()) == text);

  keys::ShamirShare copy;
  copy.threshold = share->threshold;
  copy.count = share->count;
  copy.index = share->index;
  copy.set_id = share->set_id;
  copy.value = share->value.Clone();
  std::vector<keys::ShamirShare> two;
  two.push_back(*std::move(share));
  FUZZ_CHECK(keys::CombineShares(two).status().code() ==
             absl::StatusCode::kFailedPrecondition);
  two.push_back(std::move(copy));
  FUZZ_CHECK(keys::CombineShares(two).status().code() ==
             absl::StatusCode::kInvalidArgument);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckOne(in);
  const virtengine::crypto::SecretBytes normal = keys::NormalizeShareText(in);
  CheckOne(AsChars(normal.view()));
  const virtengine::crypto::SecretBytes twice =
      keys::NormalizeShareText(AsChars(normal.view()));
  FUZZ_CHECK(twice.Equals(normal));
  return 0;
}
