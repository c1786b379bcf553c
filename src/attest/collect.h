// Collecting attestation evidence on a machine with a TPM: quotes the
// configured SHA-256 PCRs with the binding digest (evidence.h) as
// qualifying data, signed by the attestation key.
#ifndef VIRTENGINE_SRC_ATTEST_COLLECT_H_
#define VIRTENGINE_SRC_ATTEST_COLLECT_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/tpm/tpm.h"
#include "src/api/attest/v1/attest.pb.h"

namespace virtengine::attestation {

namespace v1 = ::virtengine::attest::v1;

// `ek_certificate` is the DER certificate (empty when the TPM has none).
absl::StatusOr<v1::Evidence> Collect(tpm::Tpm& tpm, const tpm::AkBlob& ak,
                                     std::string_view purpose,
                                     crypto::ByteView nonce,
                                     crypto::ByteView node_public_key,
                                     crypto::ByteView ek_certificate,
                                     const std::vector<uint32_t>& pcrs);

}  // namespace virtengine::attestation

#endif  // VIRTENGINE_SRC_ATTEST_COLLECT_H_
