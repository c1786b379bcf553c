// See BUILD.bazel.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/verifier.h"
#include "security/attest/wire.h"
#include "src/common/encoding/hex.h"

namespace {

using virtengine::attest::AkPublic;
using virtengine::attest::Bytes;
using virtengine::attest::ByteView;

// A quote by tpm2-tools against swtpm (security/attest/testdata):
// sha256:0,8,9, PCR 8 = extend(0, SHA-256("abc")), nonce 00..1f.
constexpr char kAttestHex[] =
    "ff54434780180022000b10782d2d4fd7629e2021cf3a31e47f924fb0f50c64dd45c53b06"
    "ec90291a637e0020000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
    "1c1d1e1f000000000002ae2f000000020000000001201910230016363600000001000b03"
    "010300002035788d3d328b5e07b6daba729e2682793af779d4eedd082fe41283f7588e72"
    "00";
constexpr char kSigHex[] =
    "0018000b0020d0a04855475c6be3821fc4c8350105eadc4d010ed89c207babb9a19db423"
    "45d90020bee8ca4115c934a45c957b77820a39fa749ed6551ed9ccfc6ed873224ee5721c";
constexpr char kAkHex[] =
    "00580023000b00050072000000100018000b000300100020d6c8c825dafd7064c979e6a5"
    "1878a1c68382de137ff778f1fbfce0737f1c707d0020c552027c15ec6ef9b310d0bd9bf5"
    "d96bfb2722038886499daee7938faf0c6567";
constexpr char kPcr8Hex[] =
    "589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d";

Bytes Hex(const char* hex) {
  return *virtengine::encoding::HexDecode(hex, 4096);
}

Bytes StripZeros(const Bytes& v) {
  size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  return Bytes(v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
}

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Fixture {
  Bytes attest = Hex(kAttestHex);
  Bytes sig = Hex(kSigHex);
  AkPublic ak = *virtengine::attest::ParseAkPublic(Hex(kAkHex));
  virtengine::attest::QuoteEvidence evidence;
  Bytes nonce;
  std::vector<virtengine::attest::Measurement> allow;
  Fixture() {
    evidence.attest = attest;
    evidence.signature = sig;
    Bytes p8 = Hex(kPcr8Hex);
    evidence.pcr_values[0] = {};
    std::copy(p8.begin(), p8.end(), evidence.pcr_values[8].begin());
    evidence.pcr_values[9] = {};
    for (uint8_t i = 0; i < 32; ++i) nonce.push_back(i);
    allow.push_back({"appliance", "1", {{8, evidence.pcr_values[8]}}, false});
    // The fixture itself must verify, or the invariants below prove nothing.
    Check(virtengine::attest::VerifyQuote(ak, evidence, nonce, allow).ok());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* const fx = new Fixture();
  const ByteView in(data, size);
  const Bytes input(data, data + size);

  absl::StatusOr<virtengine::attest::QuoteAttest> q =
      virtengine::attest::ParseQuoteAttest(in);
  if (q.ok()) {
    Check(virtengine::attest::SerializeQuoteAttest(*q) == input);
    Check(q->extra_data.size() <= 64 && q->pcr_digest.size() <= 64);
    for (const auto& bank : q->pcr_select) {
      for (uint32_t pcr : bank.Pcrs()) Check(pcr < 24);
    }
  } else {
    Check(q.status().code() == absl::StatusCode::kInvalidArgument);
  }

  absl::StatusOr<virtengine::attest::EcdsaSignature> s =
      virtengine::attest::ParseSignature(in);
  if (s.ok()) {
    Check(virtengine::attest::SerializeSignature(*s) == input);
    absl::StatusOr<Bytes> der = virtengine::attest::SignatureToDer(*s);
    if (der.ok()) Check(der->size() <= 72 && (*der)[0] == 0x30);
  } else {
    Check(s.status().code() == absl::StatusCode::kInvalidArgument);
  }

  absl::StatusOr<AkPublic> ak = virtengine::attest::ParseAkPublic(in);
  if (ak.ok()) {
    Check((ak->object_attributes & (1u << 16)) != 0);  // restricted
    Check((ak->object_attributes & (1u << 18)) != 0);  // sign
    Check((ak->object_attributes & (1u << 17)) == 0);  // not decrypt
    Check(ak->name.size() == 34 && ak->sec1_point[0] == 0x04);
  }

  // The input in place of the signed attest: accepted only if unchanged.
  virtengine::attest::QuoteEvidence e = fx->evidence;
  e.attest = input;
  const bool attest_ok =
      virtengine::attest::VerifyQuote(fx->ak, e, fx->nonce, fx->allow).ok();
  Check(attest_ok == (input == fx->attest));

  // The input in place of the signature: ECDSA signatures are malleable
  // (r, n - s), but an accepted one must carry the genuine r.
  e = fx->evidence;
  e.signature = input;
  if (virtengine::attest::VerifyQuote(fx->ak, e, fx->nonce, fx->allow).ok()) {
    absl::StatusOr<virtengine::attest::EcdsaSignature> mine =
        virtengine::attest::ParseSignature(input);
    absl::StatusOr<virtengine::attest::EcdsaSignature> genuine =
        virtengine::attest::ParseSignature(fx->sig);
    Check(mine.ok() && genuine.ok() &&
          StripZeros(mine->r) == StripZeros(genuine->r));
  }
  return 0;
}
