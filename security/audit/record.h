// One audit record: its fields, limits, validation, time format and the
// canonical byte encoding its hash is computed over.
//
// docs/security/audit.md documents every field, limit and the canonical
// encoding byte for byte (with a worked example) so that an auditor can
// re-verify a log with nothing but a JSON parser and SHA-256.
#ifndef VIRTENGINE_SECURITY_AUDIT_RECORD_H_
#define VIRTENGINE_SECURITY_AUDIT_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace virtengine::security::audit {

// Field limits, in bytes of UTF-8 (not characters).
inline constexpr size_t kMaxActorBytes = 256;
inline constexpr size_t kMaxActionBytes = 128;
inline constexpr size_t kMaxObjectBytes = 1024;
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr size_t kMaxDetails = 32;
inline constexpr size_t kMaxDetailKeyBytes = 64;
inline constexpr size_t kMaxDetailValueBytes = 1024;
// Sum over all details of key bytes + value bytes.
inline constexpr size_t kMaxDetailsTotalBytes = 8192;
// Largest JSON line (without its '\n'). Every valid record fits well within
// it (at most about 27 KiB even when every byte needs escaping).
inline constexpr size_t kMaxLineBytes = 65536;
// Sequence numbers run from 1 to this (int64 max, so that consumers in any
// language can hold them).
inline constexpr uint64_t kMaxSeq = 9223372036854775807ULL;

// The domain tag that opens the canonical encoding (format version 1).
inline constexpr std::string_view kDomainTag = "virtengine.audit.v1";

using Hash = std::array<uint8_t, 32>;

enum class Outcome { kSuccess, kFailure, kDenied };

// "success", "failure", "denied".
std::string_view OutcomeName(Outcome outcome);
std::optional<Outcome> ParseOutcome(std::string_view name);

// Details are sorted by key (bytewise) and keys are unique by construction.
using Details = std::map<std::string, std::string>;

// What a caller records.
//   actor   1..256 bytes, UTF-8, no control characters (who: an address,
//           "node:<id>", "operator:<name>", ...)
//   action  1..128 bytes matching [a-z0-9][a-z0-9_.-]* ("key.rotate")
//   object  0..1024 bytes, UTF-8, no control characters (what it acted on)
//   outcome success | failure | denied
//   reason  0..1024 bytes, UTF-8, no control characters; required (non-empty)
//           when the outcome is failure or denied
//   details at most 32 entries, total key+value bytes at most 8192;
//           key 1..64 bytes matching [a-z0-9_][a-z0-9_.-]*, value 0..1024
//           bytes of UTF-8 in which TAB, LF and CR are the only control
//           characters allowed
struct Entry {
  std::string actor;
  std::string action;
  std::string object;
  Outcome outcome = Outcome::kSuccess;
  std::string reason;
  Details details;
};

// A record as stored: the entry plus what the log adds.
struct Record {
  uint64_t seq = 0;             // 1 for the first record, then +1 each
  int64_t time_unix_nanos = 0;  // from the injected clock; >= 0
  Entry entry;
  Hash prev{};  // hash of the previous record; all zero for seq 1
  Hash hash{};  // SHA-256 of CanonicalEncoding(*this)
};

// OK, or InvalidArgument naming the field and the broken rule, e.g.
//   "actor: size 300 bytes exceeds limit 256"
//   "object: control character U+000A at byte 4"
//   "action: 'Key Rotate' does not match [a-z0-9][a-z0-9_.-]* (byte 0)"
//   "reason: required when the outcome is denied"
//   "details: 33 items exceeds limit 32"
//   "details key 'a b': 'a b' does not match [a-z0-9_][a-z0-9_.-]* (byte 1)"
//   "details['note']: not valid UTF-8 at byte 2: overlong encoding"
absl::Status ValidateEntry(const Entry& entry);

// ValidateEntry plus seq in 1..kMaxSeq and a time >= 0. Does not check the
// hash (that is the verifier's job).
absl::Status ValidateRecord(const Record& record);

// RFC 3339 UTC with exactly nine fractional digits, e.g.
// "2026-11-25T14:10:06.123456789Z" (always 30 bytes). `unix_nanos` >= 0.
std::string FormatTime(int64_t unix_nanos);
// The exact inverse of FormatTime: anything FormatTime would not have
// produced (other lengths, offsets, lowercase 't'/'z', leap seconds,
// impossible dates, years outside 1970..2262) is InvalidArgument.
absl::StatusOr<int64_t> ParseTime(std::string_view text);

// The bytes the record hash covers (see docs/security/audit.md):
//   str(kDomainTag) || u64be(seq) || str(time) || str(actor) || str(action)
//   || str(object) || str(outcome) || str(reason) || u32be(#details)
//   || { str(key) || str(value) } in key order || prev (32 raw bytes)
// where str(x) = u32be(byte length of x) || x and time is FormatTime's text.
// The stored `hash` is not part of it.
std::string CanonicalEncoding(const Record& record);

// SHA-256 (purpose AUDIT_CHAIN) of CanonicalEncoding(record). Fails only
// when the crypto policy refuses SHA-256 for AUDIT_CHAIN.
absl::StatusOr<Hash> ComputeHash(const Record& record);

// Lowercase hex of a hash (64 characters).
std::string HashHex(const Hash& hash);
// Exactly 64 lowercase hex digits, else InvalidArgument.
absl::StatusOr<Hash> ParseHashHex(std::string_view hex);

}  // namespace virtengine::security::audit

#endif  // VIRTENGINE_SECURITY_AUDIT_RECORD_H_
