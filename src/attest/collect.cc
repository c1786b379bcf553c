#include "src/attest/collect.h"

#include <string>

#include "src/attest/evidence.h"

namespace virtengine::attestation {

absl::StatusOr<v1::Evidence> Collect(tpm::Tpm& tpm, const tpm::AkBlob& ak,
                                     std::string_view purpose,
                                     crypto::ByteView nonce,
                                     crypto::ByteView node_public_key,
                                     crypto::ByteView ek_certificate,
                                     const std::vector<uint32_t>& pcrs) {
  absl::StatusOr<crypto::Digest32> binding =
      BindingDigest(purpose, nonce, node_public_key, ek_certificate);
  if (!binding.ok()) return binding.status();
  absl::StatusOr<tpm::Quote> q = tpm.QuotePcrs(ak, *binding, pcrs);
  if (!q.ok()) return q.status();
  v1::Evidence e;
  e.set_purpose(std::string(purpose));
  e.set_nonce(nonce.data(), nonce.size());
  e.set_node_public_key(node_public_key.data(), node_public_key.size());
  e.set_ak_public(ak.public_area.data(), ak.public_area.size());
  e.set_quote_attest(q->attest.data(), q->attest.size());
  e.set_quote_signature(q->signature.data(), q->signature.size());
  for (const auto& [pcr, value] : q->pcr_values) {
    v1::PcrValue* p = e.add_pcrs();
    p->set_pcr(pcr);
    p->set_sha256(value.data(), value.size());
  }
  e.set_ek_certificate(ek_certificate.data(), ek_certificate.size());
  if (absl::Status s = ValidateEvidence(e); !s.ok()) return s;
  return e;
}

}  // namespace virtengine::attestation
