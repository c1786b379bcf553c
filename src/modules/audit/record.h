// Audit records of the ledger's audit chain: fields, limits, the canonical
// byte encoding and the chain hash (docs/ledger/modules.md, "The audit
// module").
#ifndef VIRTENGINE_SRC_MODULES_AUDIT_RECORD_H_
#define VIRTENGINE_SRC_MODULES_AUDIT_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/hash.h"
#include "src/api/audit/v1/audit.pb.h"

namespace virtengine::audit {

inline constexpr std::string_view kChainDomain = "virtengine/audit/v1";
inline constexpr size_t kMaxKindBytes = 64;
inline constexpr size_t kMaxSubjectBytes = 256;
inline constexpr size_t kMaxActorBytes = 128;
inline constexpr size_t kDigestBytes = 32;
inline constexpr size_t kMaxDetails = 16;
inline constexpr size_t kMaxDetailKeyBytes = 64;
inline constexpr size_t kMaxDetailValueBytes = 256;
// Largest canonical encoding of a valid record.
inline constexpr size_t kMaxRecordBytes =
    8 + 8 + 4 * 4 + kMaxKindBytes + kMaxSubjectBytes + kMaxActorBytes +
    kDigestBytes + 4 +
    kMaxDetails * (8 + kMaxDetailKeyBytes + kMaxDetailValueBytes);

using Head = crypto::Digest32;
// Details are sorted by key and unique by construction.
using Details = std::map<std::string, std::string>;

struct Record {
  uint64_t seq = 0;
  uint64_t height = 0;
  std::string kind;
  std::string subject;
  std::string actor;
  std::string digest;  // 32 bytes
  Details details;
};

// INVALID_ARGUMENT naming the field (prefix `field`, e.g. "MsgRecordAudit"):
//   kind     1..64 bytes of [a-z0-9][a-z0-9_.-]*
//   subject  1..256 bytes of UTF-8 without control characters
//   actor    1..128 bytes of UTF-8 without control characters
//   digest   exactly 32 bytes
//   details  at most 16; key 1..64 bytes of [a-z0-9_][a-z0-9_.-]*, value
//            0..256 bytes of UTF-8 without control characters
absl::Status ValidateKind(std::string_view field, std::string_view kind);
absl::Status ValidateSubject(std::string_view field, std::string_view subject);
absl::Status ValidateDigest(std::string_view field, std::string_view digest);
absl::Status ValidateRecord(std::string_view field, const Record& record);

// The canonical encoding the chain hashes (all integers big-endian):
//   u64 seq, u64 height, u32 len + kind, u32 len + subject, u32 len + actor,
//   u32 len + digest, u32 number of details, then per detail in key order
//   u32 len + key, u32 len + value.
std::string EncodeRecord(const Record& record);
// Inverse of EncodeRecord for valid records only: DATA_LOSS for truncated,
// trailing or non-canonical bytes or invalid fields.
absl::StatusOr<Record> DecodeRecord(std::string_view bytes);

// head_n = SHA-256("virtengine/audit/v1" 0x00 || head_{n-1} || record_bytes)
// through security/crypto (purpose AUDIT_CHAIN). head_0 is 32 zero bytes.
absl::StatusOr<Head> ChainHead(const Head& previous,
                               std::string_view record_bytes);

v1::AuditRecord ToProto(const Record& record);
// INVALID_ARGUMENT (ValidateRecord) when the proto holds an invalid record,
// duplicate or unsorted detail keys.
absl::StatusOr<Record> FromProto(const v1::AuditRecord& proto);

}  // namespace virtengine::audit

#endif  // VIRTENGINE_SRC_MODULES_AUDIT_RECORD_H_
