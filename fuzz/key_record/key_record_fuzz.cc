// Fuzzes the key store's file decoders (security/keys/key_record.h) with one
// input fed to each of them. Invariants:
//  - no decoder crashes, and a rejection is InvalidArgument;
//  - strictness: an accepted input re-encodes to exactly the same bytes
//    (one encoding per value, no slack, no trailing bytes);
//  - an accepted record's header validates and its sealed field has the size
//    its state and algorithm dictate; an accepted header prefix decodes the
//    same way inside a backup payload.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "security/crypto/bytes.h"
#include "security/keys/key_record.h"

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

template <typename T>
void CheckRejection(const T& result) {
  FUZZ_CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const auto record = keys::DecodeKeyRecord(in);
  if (record.ok()) {
    FUZZ_CHECK(keys::EncodeKeyRecord(*record) == in);
    FUZZ_CHECK(keys::ValidateHeader(record->header).ok());
    FUZZ_CHECK(record->sealed.size() == keys::SealedSize(record->header));
    FUZZ_CHECK(keys::EncodeHeader(record->header) ==
               in.substr(0, in.size() - 2 - record->sealed.size()));
    size_t used = 0;
    const auto header = keys::DecodeHeaderPrefix(in, &used);
    FUZZ_CHECK(header.ok());
    FUZZ_CHECK(*header == record->header);
    FUZZ_CHECK(used == in.size() - 2 - record->sealed.size());
  } else {
    CheckRejection(record);
  }

  const auto meta = keys::DecodeStoreMeta(in);
  if (meta.ok()) {
    FUZZ_CHECK(keys::EncodeStoreMeta(*meta) == in);
    FUZZ_CHECK(meta->kek_check.size() == keys::kSealOverhead);
  } else {
    CheckRejection(meta);
  }

  const auto backup = keys::DecodeBackupFile(in);
  if (backup.ok()) {
    FUZZ_CHECK(keys::EncodeBackupFile(*backup) == in);
    FUZZ_CHECK(keys::EncodeBackupPrefix(*backup) ==
               in.substr(0, in.size() - 4 - backup->sealed.size()));
  } else {
    CheckRejection(backup);
  }

  const auto payload =
      keys::DecodeBackupPayload(virtengine::crypto::ByteView(data, size));
  if (payload.ok()) {
    const auto again = keys::EncodeBackupPayload(*payload);
    FUZZ_CHECK(virtengine::crypto::AsChars(again.view()) == in);
    for (const auto& e : *payload) {
      FUZZ_CHECK(keys::ValidateHeader(e.header).ok());
      FUZZ_CHECK(e.secret.size() + keys::kSealOverhead ==
                 keys::SealedSize(e.header));
    }
  } else {
    CheckRejection(payload);
  }
  return 0;
}
