// Small helpers shared by the compliance libraries: content hashes,
// content-derived UUIDs and timestamps.
#ifndef VIRTENGINE_COMPLIANCE_COMMON_COMMON_H_
#define VIRTENGINE_COMPLIANCE_COMMON_COMMON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace virtengine::compliance {

// Lowercase hex SHA-256 (security/crypto, purpose CONTENT_HASH). Only fails
// when the crypto policy refuses SHA-256 for CONTENT_HASH.
absl::StatusOr<std::string> Sha256Hex(std::string_view data);

// A UUID derived from content: the first 16 bytes of
// SHA-256("virtengine.compliance.uuid.v1\0" || seed || "\0" || name) with the
// RFC 4122 variant bits and version nibble 4 set. Name-based UUIDs would be
// version 5, which is defined over SHA-1, an algorithm policy/crypto
// forbids; OSCAL accepts only versions 4 and 5, so these carry version 4
// ("pseudorandom"). The same seed and name always give the same UUID.
std::string DerivedUuid(std::string_view seed, std::string_view name);

// A random version 4 UUID from the CSPRNG (security/crypto).
std::string RandomUuid();

// "2026-12-03T12:00:00Z" (UTC, whole seconds).
std::string Rfc3339(absl::Time t);

}  // namespace virtengine::compliance

#endif  // VIRTENGINE_COMPLIANCE_COMMON_COMMON_H_
