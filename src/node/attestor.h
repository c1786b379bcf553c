#ifndef VIRTENGINE_SRC_NODE_ATTESTOR_H_
#define VIRTENGINE_SRC_NODE_ATTESTOR_H_

// The node's TPM: its attestation key (created once, stored as
// <home>/keys/ak.blob, 0600; useless on another TPM) and quotes over the
// configured PCRs bound to the node key (src/attest). A node without one
// runs only with --insecure-no-tpm (docs/operator/node.md).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "security/crypto/bytes.h"
#include "security/path/path.h"
#include "security/tpm/tpm.h"
#include "src/api/attest/v1/attest.pb.h"

namespace virtengine::node {

class Attestor {
 public:
  static constexpr char kAkFile[] = "keys/ak.blob";

  // Opens the TPM (`tcti`, security/tpm syntax), loads the AK from `home`
  // or creates and stores it, reads the EK certificate when the TPM has
  // one. UNAVAILABLE when the TPM cannot be reached.
  static absl::StatusOr<std::unique_ptr<Attestor>> Open(
      std::string_view tcti, const security::path::PathRoot& home,
      std::vector<uint32_t> pcrs, std::string node_public_key);

  // A quote for `purpose` over `nonce` (src/attest/evidence.h). Serialised:
  // one TPM command sequence at a time.
  absl::StatusOr<attest::v1::Evidence> Quote(std::string_view purpose,
                                             crypto::ByteView nonce)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::vector<uint32_t>& pcrs() const { return pcrs_; }
  bool has_ek_certificate() const { return !ek_certificate_.empty(); }

 private:
  Attestor(std::unique_ptr<tpm::Tpm> tpm, tpm::AkBlob ak,
           std::vector<uint32_t> pcrs, std::string node_public_key,
           crypto::Bytes ek_certificate);

  absl::Mutex mu_;
  std::unique_ptr<tpm::Tpm> tpm_ ABSL_GUARDED_BY(mu_);
  const tpm::AkBlob ak_;
  const std::vector<uint32_t> pcrs_;
  const std::string node_public_key_;
  const crypto::Bytes ek_certificate_;
};

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_ATTESTOR_H_
