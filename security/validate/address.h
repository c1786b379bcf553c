// Account addresses: bech32 (BIP-173) with the project prefix "ve" and a
// 20-byte payload, as Cosmos-SDK account addresses.
#ifndef VIRTENGINE_SECURITY_VALIDATE_ADDRESS_H_
#define VIRTENGINE_SECURITY_VALIDATE_ADDRESS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace virtengine::validate {

inline constexpr std::string_view kAddressHrp = "ve";
inline constexpr size_t kAddressPayloadBytes = 20;

// Decodes and checks an address; returns its payload. Only the canonical
// (all-lowercase) spelling is accepted, so that one account has exactly one
// string form. InvalidArgument, in this order:
//   "<field>: empty address"
//   "<field>: address must be lowercase ('A' at position P)"
//   "<field>: invalid address: bech32: <reason>"   (see encoding/bech32.h)
//   "<field>: address prefix \"cosmos\" is not the expected \"ve\""
//   "<field>: address payload is 32 bytes, want 20"
absl::StatusOr<std::vector<uint8_t>> ValidateAddress(
    std::string_view field, std::string_view value,
    std::string_view expected_hrp = kAddressHrp,
    size_t payload_bytes = kAddressPayloadBytes);

}  // namespace virtengine::validate

#endif  // VIRTENGINE_SECURITY_VALIDATE_ADDRESS_H_
