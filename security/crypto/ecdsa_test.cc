#include "security/crypto/ecdsa.h"

#include <gtest/gtest.h>

#include "security/crypto/test_util.h"

namespace virtengine::crypto {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;
using testing::H;

// DER ECDSA-Sig-Value from big-endian r and s.
Bytes Der(const Bytes& r, const Bytes& s) {
  auto integer = [](Bytes v) {
    size_t i = 0;
    while (i + 1 < v.size() && v[i] == 0 && v[i + 1] < 0x80) ++i;
    v.erase(v.begin(), v.begin() + static_cast<long>(i));
    if (v[0] & 0x80) v.insert(v.begin(), 0);
    Bytes out = {0x02, static_cast<uint8_t>(v.size())};
    out.insert(out.end(), v.begin(), v.end());
    return out;
  };
  Bytes ri = integer(r), si = integer(s);
  Bytes out = {0x30, static_cast<uint8_t>(ri.size() + si.size())};
  out.insert(out.end(), ri.begin(), ri.end());
  out.insert(out.end(), si.begin(), si.end());
  return out;
}

// RFC 6979 A.2.5 (P-256), SHA-256 signatures of "sample" and "test".
const char kUx[] =
    "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
const char kUy[] =
    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";

Bytes PublicKey() {
  Bytes p = {0x04};
  Bytes x = H(kUx), y = H(kUy);
  p.insert(p.end(), x.begin(), x.end());
  p.insert(p.end(), y.begin(), y.end());
  return p;
}

TEST(EcdsaTest, Rfc6979Vectors) {
  Bytes sample = Der(
      H("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"),
      H("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"));
  Bytes test = Der(
      H("F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"),
      H("019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"));
  EXPECT_TRUE(VerifyEcdsaP256Sha256(v1::WEBAUTHN, PublicKey(),
                                    AsBytes("sample"), sample)
                  .ok());
  EXPECT_TRUE(
      VerifyEcdsaP256Sha256(v1::WEBAUTHN, PublicKey(), AsBytes("test"), test)
          .ok());
  // Swapped messages must fail.
  EXPECT_EQ(
      VerifyEcdsaP256Sha256(v1::WEBAUTHN, PublicKey(), AsBytes("test"), sample)
          .code(),
      absl::StatusCode::kUnauthenticated);
}

TEST(EcdsaTest, RejectsBadKeysAndEncodings) {
  Bytes sig = Der(
      H("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"),
      H("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"));
  Bytes off_curve = PublicKey();
  off_curve[64] ^= 1;
  EXPECT_EQ(
      VerifyEcdsaP256Sha256(v1::WEBAUTHN, off_curve, AsBytes("sample"), sig)
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      VerifyEcdsaP256Sha256(v1::WEBAUTHN, H("0400"), AsBytes("sample"), sig)
          .code(),
      absl::StatusCode::kInvalidArgument);
  // Non-canonical DER (a redundant leading zero in r) must not verify.
  Bytes loose = sig;
  loose.insert(loose.begin() + 4, 0x00);
  loose[3] += 1;
  loose[1] += 1;
  EXPECT_FALSE(
      VerifyEcdsaP256Sha256(v1::WEBAUTHN, PublicKey(), AsBytes("sample"), loose)
          .ok());
  EXPECT_EQ(VerifyEcdsaP256Sha256(v1::TX_SIGNATURE, PublicKey(),
                                  AsBytes("sample"), sig)
                .code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace virtengine::crypto
