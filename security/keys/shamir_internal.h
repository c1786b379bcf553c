// Internals of shamir.cc, exposed for its tests only (field arithmetic and
// the split with caller-chosen coefficients used by the
// information-theoretic checks). Not part of the key store's API.
#ifndef VIRTENGINE_SECURITY_KEYS_SHAMIR_INTERNAL_H_
#define VIRTENGINE_SECURITY_KEYS_SHAMIR_INTERNAL_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "security/crypto/secret_bytes.h"
#include "security/keys/shamir.h"

namespace virtengine::keys::internal {

// GF(2^8) modulo 0x11b, constant time in both operands.
uint8_t GfMul(uint8_t a, uint8_t b);
// Multiplicative inverse (a^254); GfInv(0) is 0.
uint8_t GfInv(uint8_t a);
// coeffs[0] + coeffs[1] x + ... (Horner).
uint8_t GfEvalPolynomial(absl::Span<const uint8_t> coeffs, uint8_t x);
// The value at `x` of the polynomial of degree < xs.size() through the
// points (xs[i], ys[i]); xs distinct.
uint8_t GfInterpolateAt(absl::Span<const uint8_t> xs,
                        absl::Span<const uint8_t> ys, uint8_t x);

// SplitSecret with given coefficients: `coefficients` holds
// (threshold - 1) * secret.size() bytes, coefficient j (1-based) of secret
// byte b at [(j - 1) * secret.size() + b].
absl::StatusOr<std::vector<ShamirShare>> SplitWithCoefficients(
    const crypto::SecretBytes& secret, const crypto::SecretBytes& coefficients,
    int threshold, int count, const std::array<uint8_t, kShareSetIdSize>& id);

}  // namespace virtengine::keys::internal

#endif  // VIRTENGINE_SECURITY_KEYS_SHAMIR_INTERNAL_H_
