// security/tpm: the TPM 2.0 client (TPM2-TSS 3.2 ESAPI) the appliance uses
// for attestation keys, PCRs, quotes and sealing. The pure verifier of what
// it produces is security/attest. Formats, key hierarchy and error reasons:
// docs/security/tpm.md.
//
//   auto tpm = Tpm::Open("device:/dev/tpmrm0");   // tests:
//   "swtpm:host=..,port=N" auto ak = (*tpm)->CreateAk();                  //
//   store ak->Serialize() (0600) auto q = (*tpm)->Quote(*ak, nonce, {8, 9}); //
//   attest + signature + PCRs
//
// Key hierarchy: the endorsement key (EK) is re-created on demand from the
// TCG EK Credential Profile template (ECC P-256, template L-2; RSA 2048,
// template L-1), which always yields the same key on the same TPM. The
// attestation key (AK) is an ECC P-256 restricted ECDSA-SHA256 signing key,
// a child of the ECC EK (like tpm2_createak); it is persisted as an AkBlob
// (its TPM2B_PUBLIC and TPM2B_PRIVATE; the private part is encrypted by the
// EK and useless on another TPM) and loaded for each quote. Sealed objects
// are children of a storage root key re-created from a fixed ECC P-256
// template in the owner hierarchy. No persistent handles and no owner or
// endorsement passwords are used (an appliance's hierarchies have empty
// auth); every transient object and session is flushed before a call
// returns, so the client also works on a TPM without a resource manager.
//
// A Tpm is not thread-safe: use one per thread or guard it.
#ifndef VIRTENGINE_SECURITY_TPM_TPM_H_
#define VIRTENGINE_SECURITY_TPM_TPM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/verifier.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::tpm {

using crypto::Bytes;
using crypto::ByteView;

// NV indices of EK certificates (TCG EK Credential Profile 2.0).
inline constexpr uint32_t kEkCertNvRsa2048 = 0x01c00002;
inline constexpr uint32_t kEkCertNvEccP256 = 0x01c0000a;
inline constexpr size_t kMaxEkCertBytes = 4096;
// Largest secret Seal accepts (MAX_SYM_DATA).
inline constexpr size_t kMaxSealedSecretBytes = 128;
inline constexpr size_t kMaxQualifyingDataBytes = 32;

enum class EkType { kRsa2048, kEccP256 };

// "device:/dev/tpmrm0", "device:/dev/tpm0", "swtpm:host=H,port=N",
// "mssim:host=H,port=N": at most 256 bytes of [A-Za-z0-9/._:=,-].
// InvalidArgument otherwise.
absl::Status ValidateTctiConfig(std::string_view config);

// An attestation key as stored on disk.
//   "VEAK" | version u8 (=1) | u16 BE len | TPM2B_PUBLIC | u16 BE len |
//   TPM2B_PRIVATE
struct AkBlob {
  Bytes public_area;   // marshalled TPM2B_PUBLIC
  Bytes private_area;  // marshalled TPM2B_PRIVATE
  Bytes Serialize() const;
  static absl::StatusOr<AkBlob> Parse(ByteView bytes);
};

// What Quote returns: the raw TPMS_ATTEST and TPMT_SIGNATURE bytes as the
// TPM produced them, and the quoted PCR values (read right after the quote
// and checked against its pcrDigest).
struct Quote {
  Bytes attest;
  Bytes signature;
  attest::PcrValues pcr_values;
};

class Tpm {
 public:
  // Opens the TCTI (Tss2_TctiLdr_Initialize) and an ESAPI context.
  // Unavailable when the TPM cannot be reached.
  static absl::StatusOr<std::unique_ptr<Tpm>> Open(std::string_view config);
  ~Tpm();
  Tpm(const Tpm&) = delete;
  Tpm& operator=(const Tpm&) = delete;

  // The EK's TPM2B_PUBLIC (marshalled).
  absl::StatusOr<Bytes> EkPublic(EkType type);
  // The DER EK certificate from NV; NotFound when the TPM has none.
  absl::StatusOr<Bytes> EkCertificate(EkType type);

  // Creates a new AK under the ECC EK.
  absl::StatusOr<AkBlob> CreateAk();
  // Loads `ak` under the EK and returns its public area as the TPM reports
  // it (a check that the blob belongs to this TPM).
  absl::StatusOr<Bytes> LoadAkPublic(const AkBlob& ak);

  // SHA-256 bank. PCR numbers 0..23, ascending, no duplicates.
  absl::StatusOr<attest::PcrValues> PcrRead(const std::vector<uint32_t>& pcrs);
  absl::Status PcrExtend(uint32_t pcr, const crypto::Digest32& digest);

  // TPM2_Quote over the SHA-256 PCRs `pcrs` with `nonce` (1..32 bytes) as
  // qualifying data, signed by `ak`. Aborted when the PCRs kept changing
  // between the quote and the read-back (three attempts).
  absl::StatusOr<Quote> QuotePcrs(const AkBlob& ak, ByteView nonce,
                                  const std::vector<uint32_t>& pcrs);

  // Seals `secret` (1..128 bytes) under a PolicyPCR policy over the SHA-256
  // PCRs in `pcrs` with exactly these values (use PcrRead for the current
  // ones). Returns the sealed blob (docs/security/tpm.md).
  absl::StatusOr<Bytes> Seal(const crypto::SecretBytes& secret,
                             const attest::PcrValues& pcrs);
  // FailedPrecondition "PCR N differs from the sealed policy" when a PCR
  // does not have its sealed value (checked before the TPM is asked, and
  // enforced by the TPM's PolicyPCR); InvalidArgument for a malformed blob.
  absl::StatusOr<crypto::SecretBytes> Unseal(ByteView sealed);

 private:
  struct Impl;
  explicit Tpm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace virtengine::tpm

#endif  // VIRTENGINE_SECURITY_TPM_TPM_H_
