#include "src/ledger/merkle/hasher.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "security/crypto/policy.h"
#include "src/ledger/merkle/reference.h"
#include "src/ledger/merkle/test_vectors.h"

namespace virtengine::ledger::merkle {
namespace {

using testdata::Hex;
using testdata::Unhex;
using testdata::Unhex32;

Hash Must(const absl::StatusOr<Hash>& h) {
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : Hash{};
}

// transparency-dev/merkle rfc6962/rfc6962_test.go.
TEST(HasherTest, Rfc6962KnownAnswers) {
  // echo -n | sha256sum
  EXPECT_EQ(Hex(Must(EmptyRoot())), testdata::kEmptyTreeHash);
  // echo -n 00 | xxd -r -p | sha256sum
  EXPECT_EQ(Hex(Must(HashLeaf({}))),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  // echo -n 004C313233343536 | xxd -r -p | sha256sum
  EXPECT_EQ(Hex(Must(HashLeaf(crypto::AsBytes("L123456")))),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
}

TEST(HasherTest, NodeHashIsRootOfTwoLeafTree) {
  const Hash l0 = Must(HashLeaf(Unhex(testdata::kLeaves[0])));
  const Hash l1 = Must(HashLeaf(Unhex(testdata::kLeaves[1])));
  EXPECT_EQ(Hex(Must(HashChildren(l0, l1))), testdata::kRoots[1]);
  EXPECT_EQ(Must(HashChildren(l0, l1)), reference::NodeHash(l0, l1));
}

TEST(HasherTest, DomainSeparationAndOrder) {
  const Hash a = Must(HashLeaf(crypto::AsBytes("Hello")));
  const Hash b = Must(HashLeaf(crypto::AsBytes("World")));
  EXPECT_NE(a, b);
  const Hash ab = Must(HashChildren(a, b));
  EXPECT_NE(ab, Must(HashChildren(b, a)));
  std::vector<uint8_t> concat(a.begin(), a.end());
  concat.insert(concat.end(), b.begin(), b.end());
  // A node can never be passed off as a leaf of the concatenated children.
  EXPECT_NE(ab, Must(HashLeaf(concat)));
}

TEST(HasherTest, LeafSizes) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{32}, size_t{63}, size_t{64},
                   size_t{65}, size_t{1000}, kMaxLeafBytes}) {
    std::vector<uint8_t> leaf(n, static_cast<uint8_t>(n));
    EXPECT_EQ(Must(HashLeaf(leaf)), reference::LeafHash(leaf)) << n;
  }
  std::vector<uint8_t> big(kMaxLeafBytes + 1, 0);
  absl::StatusOr<Hash> h = HashLeaf(big);
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find("exceeds the limit"), std::string::npos);
}

TEST(HasherTest, HexAndBytes) {
  const std::string hex(testdata::kRoots[7]);
  absl::StatusOr<Hash> h = HashFromHex(hex);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, Unhex32(hex));
  EXPECT_EQ(HashToHex(*h), hex);
  std::string upper = hex;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  EXPECT_EQ(Must(HashFromHex(upper)), *h);

  EXPECT_EQ(HashFromHex(hex.substr(2)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(HashFromHex(hex + "00").status().message().find("64 characters"),
            std::string::npos);
  std::string bad = hex;
  bad[10] = 'g';
  absl::StatusOr<Hash> b = HashFromHex(bad);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("position 10"), std::string::npos)
      << b.status();

  std::vector<uint8_t> raw = Unhex(hex);
  EXPECT_EQ(Must(HashFromBytes(raw)), *h);
  raw.pop_back();
  EXPECT_EQ(HashFromBytes(raw).status().message(),
            "merkle: hash must be 32 bytes, got 31");
}

TEST(HasherTest, PolicyRefusalPropagates) {
  absl::StatusOr<crypto::CryptoPolicy> no_sha256 = crypto::CryptoPolicy::Parse(
      "version: 1\n"
      "rule { purpose: MERKLE allow: SHA512 }\n"
      "min_hmac_key_bytes: 16 min_hkdf_ikm_bytes: 16 "
      "argon2id { min_ops_limit: 2 min_mem_limit_bytes: 67108864 }\n");
  ASSERT_TRUE(no_sha256.ok()) << no_sha256.status();
  crypto::InstallPolicy(*no_sha256);
  const Hash zero{};
  EXPECT_EQ(HashLeaf({}).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(HashChildren(zero, zero).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(EmptyRoot().status().code(), absl::StatusCode::kPermissionDenied);
  crypto::InstallPolicy(crypto::CryptoPolicy::Embedded());
  EXPECT_TRUE(HashLeaf({}).ok());
}

}  // namespace
}  // namespace virtengine::ledger::merkle
