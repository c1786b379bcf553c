// Strict decoders (and encoders, for round trips) of the TPM 2.0 wire
// structures a verifier receives: TPMS_ATTEST (quotes only), TPMT_SIGNATURE
// (ECDSA only) and TPM2B_PUBLIC (ECC P-256 restricted signing keys only).
// All integers are big-endian (TPM 2.0 Part 2). Every size field is checked
// against the structure's maximum and the bytes actually left before
// anything is copied; trailing bytes are refused. Errors are InvalidArgument
// naming the field, e.g. "tpms_attest: extraData size 80 exceeds 64".
// No TPM and no TSS library is involved: this is pure parsing.
#ifndef VIRTENGINE_SECURITY_ATTEST_WIRE_H_
#define VIRTENGINE_SECURITY_ATTEST_WIRE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"

namespace virtengine::attest {

using crypto::Bytes;
using crypto::ByteView;

inline constexpr uint32_t kTpmGeneratedValue = 0xff544347;  // "\xffTCG"
inline constexpr uint16_t kTpmStAttestQuote = 0x8018;
inline constexpr uint16_t kTpmAlgSha256 = 0x000b;
inline constexpr uint16_t kTpmAlgEcc = 0x0023;
inline constexpr uint16_t kTpmAlgEcdsa = 0x0018;
inline constexpr uint16_t kTpmAlgNull = 0x0010;
inline constexpr uint16_t kTpmEccNistP256 = 0x0003;

// Largest blobs accepted before parsing.
inline constexpr size_t kMaxAttestBytes = 1024;
inline constexpr size_t kMaxSignatureBytes = 256;
inline constexpr size_t kMaxPublicBytes = 1024;

// PCR numbers a selection may name (PC Client TPMs have 24).
inline constexpr uint32_t kNumPcrs = 24;

struct PcrSelectionBank {
  uint16_t hash = 0;
  // 3 or 4 bytes (PCR_SELECT_MIN..PCR_SELECT_MAX); bit i of byte j is PCR
  // 8*j+i. Bits for PCRs >= 24 must be clear.
  std::vector<uint8_t> select;
  // The PCR numbers selected, ascending.
  std::vector<uint32_t> Pcrs() const;
};

struct ClockInfo {
  uint64_t clock = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  bool safe = false;
};

// A decoded TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE.
struct QuoteAttest {
  Bytes qualified_signer;  // TPM2B_NAME contents
  Bytes extra_data;        // TPM2B_DATA contents: the caller's nonce
  ClockInfo clock_info;
  uint64_t firmware_version = 0;
  std::vector<PcrSelectionBank> pcr_select;  // TPML_PCR_SELECTION
  Bytes pcr_digest;                          // TPM2B_DIGEST contents
};

// magic, type, every size and enumerated value checked; no trailing bytes.
absl::StatusOr<QuoteAttest> ParseQuoteAttest(ByteView bytes);
Bytes SerializeQuoteAttest(const QuoteAttest& attest);

// A decoded TPMT_SIGNATURE with sigAlg TPM_ALG_ECDSA.
struct EcdsaSignature {
  uint16_t hash = 0;
  Bytes r;  // 1..32 bytes as the TPM sent them
  Bytes s;
};

absl::StatusOr<EcdsaSignature> ParseSignature(ByteView bytes);
Bytes SerializeSignature(const EcdsaSignature& sig);
// ASN.1 DER ECDSA-Sig-Value of (r, s) (what security/crypto verifies).
// InvalidArgument when r or s is zero.
absl::StatusOr<Bytes> SignatureToDer(const EcdsaSignature& sig);

// An attestation key's public area: ECC NIST P-256, restricted, sign,
// fixedTPM, fixedParent, sensitiveDataOrigin, not decrypt, scheme ECDSA with
// SHA-256, symmetric NULL, name algorithm SHA-256.
struct AkPublic {
  Bytes tpmt_public;  // the TPMT_PUBLIC bytes (what the name hashes)
  uint32_t object_attributes = 0;
  std::array<uint8_t, 65> sec1_point{};  // 0x04 || X || Y
  // TPM name: 0x000b || SHA-256(TPMT_PUBLIC).
  Bytes name;
  // DER SubjectPublicKeyInfo of the point (id-ecPublicKey, prime256v1).
  Bytes SubjectPublicKeyInfo() const;
};

// `bytes` is a marshalled TPM2B_PUBLIC (what Esys_ReadPublic, tpm2_createak
// -u and security/tpm export). Every attribute rule above is enforced, each
// with its own message ("ak public: key is not restricted", ...).
absl::StatusOr<AkPublic> ParseAkPublic(ByteView tpm2b_public);

// Big-endian bounded reader shared by the decoders here and the event log.
class WireReader {
 public:
  explicit WireReader(ByteView data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  size_t offset() const { return pos_; }
  bool done() const { return pos_ == data_.size(); }
  absl::Status U8(const char* what, uint8_t* out);
  absl::Status U16(const char* what, uint16_t* out);
  absl::Status U32(const char* what, uint32_t* out);
  absl::Status U64(const char* what, uint64_t* out);
  absl::Status Raw(const char* what, size_t n, Bytes* out);
  // A TPM2B: u16 size (<= max) then that many bytes.
  absl::Status Sized(const char* what, size_t max, Bytes* out);

 private:
  absl::Status Need(const char* what, size_t n) const;
  ByteView data_;
  size_t pos_ = 0;
};

void PutU8(Bytes* out, uint8_t v);
void PutU16(Bytes* out, uint16_t v);
void PutU32(Bytes* out, uint32_t v);
void PutU64(Bytes* out, uint64_t v);
void PutSized(Bytes* out, ByteView v);

}  // namespace virtengine::attest

#endif  // VIRTENGINE_SECURITY_ATTEST_WIRE_H_
