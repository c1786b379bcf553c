#ifndef VIRTENGINE_SECURITY_CRYPTO_ECDSA_H_
#define VIRTENGINE_SECURITY_CRYPTO_ECDSA_H_

#include "absl/status/status.h"
#include "security/crypto/bytes.h"
#include "security/crypto/policy.h"

namespace virtengine::crypto {

// ECDSA P-256 with SHA-256 verification (WebAuthn ES256), through OpenSSL 3.
// `public_key` is a SEC1 point (65-byte uncompressed or 33-byte compressed),
// `der_signature` an ASN.1 DER ECDSA-Sig-Value. Verify only: VirtEngine never
// holds P-256 private keys (authenticators do).
absl::Status VerifyEcdsaP256Sha256(Purpose purpose, ByteView public_key,
                                   ByteView message, ByteView der_signature);

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_ECDSA_H_
