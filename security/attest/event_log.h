// The VirtEngine measurement event log (format version 1), written by
// ve-measure (security/tpm) and replayed by the verifier. Byte format,
// PCR assignments and error reasons: docs/security/tpm.md.
//
//   header  = "VEML" | version u8 (=1) | hash u8 (=1, SHA-256) | reserved u16
//   (=0) record  = pcr u8 | kind u8 | name_len u16 BE | name |
//   content_digest[32]
//
// A record means: the SHA-256 PCR `pcr` was extended with
//   event_digest = SHA-256("virtengine/measure/v1\0" || pcr || kind ||
//                          name_len || name || content_digest)
// so the names and kinds in the log are bound to the PCR as much as the
// content digests are. Replay starts every PCR at 32 zero bytes (the value
// after TPM reset).
#ifndef VIRTENGINE_SECURITY_ATTEST_EVENT_LOG_H_
#define VIRTENGINE_SECURITY_ATTEST_EVENT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"

namespace virtengine::attest {

inline constexpr char kEventLogMagic[] = "VEML";
inline constexpr uint8_t kEventLogVersion = 1;
inline constexpr uint8_t kEventLogHashSha256 = 1;
inline constexpr size_t kEventLogHeaderBytes = 8;
inline constexpr size_t kMaxEventLogBytes = 1024 * 1024;
inline constexpr size_t kMaxEventLogRecords = 4096;
inline constexpr size_t kMaxEventNameBytes = 128;

// What was measured. The kind fixes the PCR (PcrForKind).
enum class MeasureKind : uint8_t {
  kImageRootHash = 1,  // dm-verity root hash of the appliance image
  kKernel = 2,
  kInitrd = 3,
  kCmdline = 4,
  kPolicyBundle = 5,  // policy/ bundle (hash of the bundle file)
  kBinary = 6,        // a daemon or tool binary
};

// PCR 8: boot identity (image root hash, kernel, initrd, cmdline).
// PCR 9: software and policy (policy bundle, binaries).
inline constexpr uint32_t kPcrBoot = 8;
inline constexpr uint32_t kPcrSoftware = 9;
// The PCRs a VirtEngine event log accounts for completely.
inline constexpr uint32_t kMeasuredPcrs[] = {kPcrBoot, kPcrSoftware};

// InvalidArgument for a value that is not a MeasureKind.
absl::StatusOr<MeasureKind> MeasureKindFromByte(uint8_t v);
uint32_t PcrForKind(MeasureKind kind);
// "image-root-hash", "kernel", "initrd", "cmdline", "policy-bundle",
// "binary".
const char* MeasureKindName(MeasureKind kind);

struct MeasurementEvent {
  uint32_t pcr = 0;
  MeasureKind kind = MeasureKind::kBinary;
  std::string name;  // 1..128 bytes of [A-Za-z0-9._:/@+-]
  crypto::Digest32 content_digest{};
};

// OK when the name is 1..128 bytes of the allowed characters.
absl::Status ValidateEventName(std::string_view name);

// The digest extended into the PCR for `event`.
absl::StatusOr<crypto::Digest32> EventDigest(const MeasurementEvent& event);

// Header bytes of an empty log.
crypto::Bytes EventLogHeader();
// One record (validated: pcr must equal PcrForKind(kind), name rules).
absl::StatusOr<crypto::Bytes> SerializeEvent(const MeasurementEvent& event);

// Parses a whole log: header, then records to the last byte. Refuses
// (InvalidArgument, with the record index and offset): oversize input, bad
// magic, unknown version or hash, nonzero reserved bytes, a truncated record,
// an unknown kind, a PCR that does not belong to the kind, a bad name, more
// than kMaxEventLogRecords records.
absl::StatusOr<std::vector<MeasurementEvent>> ParseEventLog(
    crypto::ByteView bytes);
crypto::Bytes SerializeEventLog(const std::vector<MeasurementEvent>& events);

// PCR index -> value after replaying `events` from zero. Every PCR of
// kMeasuredPcrs is present (zero when no event touched it).
absl::StatusOr<std::map<uint32_t, crypto::Digest32>> ReplayEventLog(
    const std::vector<MeasurementEvent>& events);

}  // namespace virtengine::attest

#endif  // VIRTENGINE_SECURITY_ATTEST_EVENT_LOG_H_
