// Fuzz target for attestation evidence as vectl reads it: arbitrary bytes
// as the protobuf JSON of virtengine.attest.v1.Evidence, then the shape
// checks and the full verifier (src/attest/evidence.h) against a one-entry
// allowlist. Nothing may crash, and a mutated document is never accepted
// unless it is the genuine quote. The corpus holds a real quote from swtpm
// (via ve-node's Quote RPC, PCR 11 extended with 0x42 * 32) and near-valid
// variants.
#include <cstddef>
#include <cstdint>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "security/attest/verifier.h"
#include "src/api/attest/v1/attest.pb.h"
#include "src/attest/evidence.h"
#include "src/common/encoding/hex.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > size_t{256} * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  virtengine::attest::v1::Evidence e;
  google::protobuf::util::JsonParseOptions po;
  if (!google::protobuf::util::JsonStringToMessage(text, &e, po).ok()) {
    return 0;
  }
  (void)virtengine::attestation::ValidateEvidence(e);
  // The allowlist is built once.
  static const std::vector<virtengine::attest::Measurement> allowlist = [] {
    virtengine::attest::Measurement m;
    m.name = "virtengine";
    m.version = "1.0.0";
    // PCR 11 after one extend of 32 bytes 0x42 from zero.
    auto v = virtengine::encoding::HexDecode(
        "e9c403e7ba0d724ff342cb3a7ca7d2841bfdecded8a55b2848ee6424c456026f", 32);
    virtengine::crypto::Digest32 d{};
    if (v.ok()) std::copy(v->begin(), v->end(), d.begin());
    m.pcrs[11] = d;
    return std::vector<virtengine::attest::Measurement>{m};
  }();
  for (std::string_view purpose : {"quote", "join", "evidence"}) {
    (void)virtengine::attestation::VerifyEvidence(
        e, purpose, virtengine::crypto::AsBytes(e.nonce()), allowlist);
  }
  return 0;
}
