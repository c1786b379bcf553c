// Fuzzes envelope decoding and opening: arbitrary bytes go through
// ParseHeader and through Open with a fixed key. Neither may crash, and:
//  - ParseHeader either refuses with InvalidArgument or returns a header
//    whose size is exactly the input's and whose Encode() is byte for byte
//    the input's header;
//  - Open refuses exactly what ParseHeader refuses (same status), and
//    otherwise fails only with NotFound (precisely when the key's
//    fingerprint is absent) or Unauthenticated;
//  - an envelope that opens re-parses identically, opens again to the same
//    plaintext of payload_length bytes, and its plaintext survives a fresh
//    Seal/Open round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz/envelope_open/fuzz_key.h"
#include "security/crypto/secret_bytes.h"
#include "security/envelope/envelope.h"

namespace env = ::virtengine::envelope;
using virtengine::crypto::Bytes;
using virtengine::crypto::ByteView;
using virtengine::crypto::SecretBytes;

namespace {

const env::EnvelopePrivateKey& FuzzKey() {
  static const env::EnvelopePrivateKey* key = [] {
    auto k = env::EnvelopePrivateKey::FromBytes(SecretBytes::CopyFrom(
        ByteView(env::fuzz::kFuzzSecretKey, sizeof env::fuzz::kFuzzSecretKey)));
    if (!k.ok()) std::abort();
    return new env::EnvelopePrivateKey(std::move(*k));
  }();
  return *key;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  const env::EnvelopePrivateKey& key = FuzzKey();

  absl::StatusOr<env::EnvelopeHeader> h = env::ParseHeader(in);
  absl::StatusOr<SecretBytes> opened = env::Open(in, key);
  if (!h.ok()) {
    Check(h.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!opened.ok() && opened.status() == h.status());
    return 0;
  }
  Check(h->version == env::kVersion);
  Check(h->algorithm == env::kAlgorithmX25519XSalsa20Poly1305);
  Check(!h->recipients.empty() && h->recipients.size() <= env::kMaxRecipients);
  Check(h->payload_length <= env::kMaxPayloadBytes);
  Check(h->envelope_size() == size);
  const Bytes enc = h->Encode();
  Check(enc.size() == h->header_size());
  Check(ByteView(enc) == in.subspan(0, enc.size()));

  const bool addressed = h->FindRecipient(key.public_key().fingerprint()) >= 0;
  if (!opened.ok()) {
    const absl::StatusCode code = opened.status().code();
    Check(addressed ? code == absl::StatusCode::kUnauthenticated
                    : code == absl::StatusCode::kNotFound);
    return 0;
  }
  Check(addressed);
  Check(opened->size() == h->payload_length);
  absl::StatusOr<env::EnvelopeHeader> again = env::ParseHeader(in);
  Check(again.ok() && *again == *h);
  absl::StatusOr<SecretBytes> twice = env::Open(in, key);
  Check(twice.ok() && twice->Equals(*opened));

  absl::StatusOr<Bytes> resealed =
      env::Seal(opened->view(), {key.public_key()});
  Check(resealed.ok());
  absl::StatusOr<SecretBytes> reopened = env::Open(*resealed, key);
  Check(reopened.ok() && reopened->Equals(*opened));
  return 0;
}
