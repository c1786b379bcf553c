#include "security/keys/shamir.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/crypto/random.h"
#include "security/crypto/secret_bytes.h"
#include "security/keys/shamir_internal.h"

namespace virtengine::keys {
namespace {

using crypto::SecretBytes;
using internal::GfEvalPolynomial;
using internal::GfInterpolateAt;
using internal::GfInv;
using internal::GfMul;
using ::testing::HasSubstr;

// Textbook GF(2^8) multiplication (carry-less product, then reduction by
// 0x11b), written independently of the constant-time version.
uint8_t ReferenceMul(uint8_t a, uint8_t b) {
  uint16_t product = 0;
  for (int i = 0; i < 8; ++i) {
    if ((b >> i) & 1) product ^= static_cast<uint16_t>(a << i);
  }
  for (int bit = 14; bit >= 8; --bit) {
    if ((product >> bit) & 1)
      product ^= static_cast<uint16_t>(0x11b << (bit - 8));
  }
  return static_cast<uint8_t>(product);
}

std::string Text(const SecretBytes& s) {
  return std::string(crypto::AsChars(s.view()));
}

std::vector<ShamirShare> CloneShares(const std::vector<ShamirShare>& in,
                                     const std::vector<int>& pick) {
  std::vector<ShamirShare> out;
  for (int i : pick) {
    ShamirShare s;
    s.threshold = in[i].threshold;
    s.count = in[i].count;
    s.index = in[i].index;
    s.set_id = in[i].set_id;
    s.value = in[i].value.Clone();
    out.push_back(std::move(s));
  }
  return out;
}

// Every subset of {0..n-1} of size `size`, as index lists.
std::vector<std::vector<int>> Subsets(int n, int size) {
  std::vector<std::vector<int>> out;
  for (uint32_t mask = 0; mask < (1U << n); ++mask) {
    if (__builtin_popcount(mask) != size) continue;
    std::vector<int> s;
    for (int i = 0; i < n; ++i) {
      if ((mask >> i) & 1U) s.push_back(i);
    }
    out.push_back(s);
  }
  return out;
}

TEST(GaloisFieldTest, MatchesFips197Examples) {
  // FIPS-197 section 4.2: {57} . {83} = {c1}, {57} . {13} = {fe}.
  EXPECT_EQ(GfMul(0x57, 0x83), 0xc1);
  EXPECT_EQ(GfMul(0x57, 0x13), 0xfe);
  // Section 5.1.1 (S-box): {53} and {ca} are inverses.
  EXPECT_EQ(GfInv(0x53), 0xca);
  EXPECT_EQ(GfInv(0xca), 0x53);
}

TEST(GaloisFieldTest, MultiplicationMatchesReferenceForAllPairs) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      ASSERT_EQ(GfMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)),
                ReferenceMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)))
          << a << " * " << b;
    }
  }
}

TEST(GaloisFieldTest, EveryNonZeroElementHasItsInverse) {
  EXPECT_EQ(GfInv(0), 0);
  for (int a = 1; a < 256; ++a) {
    EXPECT_EQ(GfMul(static_cast<uint8_t>(a), GfInv(static_cast<uint8_t>(a))), 1)
        << a;
  }
}

TEST(GaloisFieldTest, InterpolationRecoversPolynomial) {
  const std::vector<uint8_t> coeffs = {0x42, 0x17, 0xe0, 0x01};
  const std::vector<uint8_t> xs = {3, 9, 200, 77};
  std::vector<uint8_t> ys(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    ys[i] = GfEvalPolynomial(coeffs, xs[i]);
  }
  for (int x = 0; x < 256; ++x) {
    EXPECT_EQ(GfInterpolateAt(xs, ys, static_cast<uint8_t>(x)),
              GfEvalPolynomial(coeffs, static_cast<uint8_t>(x)));
  }
}

struct Shape {
  int k;
  int n;
};

TEST(ShamirTest, AnyThresholdSubsetRecoversExhaustively) {
  const SecretBytes secret = crypto::RandomSecret(32);
  for (const Shape shape :
       {Shape{2, 2}, Shape{2, 3}, Shape{3, 5}, Shape{5, 5}, Shape{4, 7}}) {
    auto shares = SplitSecret(secret, shape.k, shape.n);
    ASSERT_TRUE(shares.ok()) << shares.status();
    ASSERT_EQ(shares->size(), static_cast<size_t>(shape.n));
    int tried = 0;
    for (int size = shape.k; size <= shape.n; ++size) {
      for (std::vector<int> pick : Subsets(shape.n, size)) {
        // The given order and the reverse order.
        for (int round = 0; round < 2; ++round) {
          auto subset = CloneShares(*shares, pick);
          auto got = CombineShares(subset);
          ASSERT_TRUE(got.ok()) << got.status();
          EXPECT_TRUE(got->Equals(secret))
              << shape.k << "-of-" << shape.n << " subset size " << size;
          std::reverse(pick.begin(), pick.end());
          ++tried;
        }
      }
    }
    EXPECT_GT(tried, 0);
    // Every (k-1)-subset is refused for being too small.
    for (const std::vector<int>& pick : Subsets(shape.n, shape.k - 1)) {
      auto got = CombineShares(CloneShares(*shares, pick));
      EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
    }
  }
}

TEST(ShamirTest, ThreeOfFiveHasTenMinimalSubsetsAllRecovering) {
  const SecretBytes secret = crypto::RandomSecret(32);
  auto shares = SplitSecret(secret, 3, 5);
  ASSERT_TRUE(shares.ok());
  const auto subsets = Subsets(5, 3);
  ASSERT_EQ(subsets.size(), 10U);
  for (const auto& pick : subsets) {
    auto got = CombineShares(CloneShares(*shares, pick));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->Equals(secret));
  }
}

TEST(ShamirTest, MaximumShapeWorks) {
  const SecretBytes secret = crypto::RandomSecret(kMaxShamirSecretBytes);
  auto shares = SplitSecret(secret, 255, 255);
  ASSERT_TRUE(shares.ok()) << shares.status();
  auto got = CombineShares(*shares);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->Equals(secret));
}

TEST(ShamirTest, SplitEvaluatesTheRandomPolynomialAtOneToN) {
  // The shares are f(1..n) of the polynomial with the given coefficients.
  const SecretBytes secret = SecretBytes::CopyFrom(std::string("\x11\x22", 2));
  const SecretBytes coeffs =
      SecretBytes::CopyFrom(std::string("\x01\x02\x03\x04", 4));
  auto shares =
      internal::SplitWithCoefficients(secret, coeffs, 3, 4, {1, 2, 3, 4});
  ASSERT_TRUE(shares.ok());
  for (const ShamirShare& s : *shares) {
    EXPECT_EQ(
        s.value.data()[0],
        GfEvalPolynomial(std::vector<uint8_t>{0x11, 0x01, 0x03}, s.index));
    EXPECT_EQ(
        s.value.data()[1],
        GfEvalPolynomial(std::vector<uint8_t>{0x22, 0x02, 0x04}, s.index));
  }
}

// Information-theoretic secrecy, the exhaustive way: for a 1-byte secret
// and threshold 3, the map from the two random coefficients (a1, a2) to the
// two shares (f(x1), f(x2)) is a bijection for every secret value. So the
// two shares are uniformly distributed whatever the secret is: they carry no
// information about it.
TEST(ShamirSecrecyTest, TwoSharesOfThreeAreUniformForEverySecret) {
  const std::array<std::array<uint8_t, 2>, 3> index_pairs = {
      {{1, 2}, {2, 5}, {3, 255}}};
  for (const auto& xs : index_pairs) {
    for (int s = 0; s < 256; s += 51) {  // 0, 51, ..., 255
      std::vector<bool> hit(65536, false);
      for (int a1 = 0; a1 < 256; ++a1) {
        for (int a2 = 0; a2 < 256; ++a2) {
          const std::vector<uint8_t> f = {static_cast<uint8_t>(s),
                                          static_cast<uint8_t>(a1),
                                          static_cast<uint8_t>(a2)};
          const int y1 = GfEvalPolynomial(f, xs[0]);
          const int y2 = GfEvalPolynomial(f, xs[1]);
          ASSERT_FALSE(hit[y1 * 256 + y2])
              << "two polynomials give the same shares for secret " << s;
          hit[y1 * 256 + y2] = true;
        }
      }
      // 65536 distinct outcomes from 65536 inputs: every pair occurs once.
    }
  }
}

// The same property through the public API: given k-1 real shares of a
// 1-byte secret, every one of the 256 possible secrets is consistent with
// them (there is exactly one k-th share that completes them to it).
TEST(ShamirSecrecyTest, KMinusOneSharesAreConsistentWithAll256Secrets) {
  for (const Shape shape : {Shape{2, 3}, Shape{3, 5}, Shape{4, 6}}) {
    const SecretBytes secret = crypto::RandomSecret(1);
    auto shares = SplitSecret(secret, shape.k, shape.n);
    ASSERT_TRUE(shares.ok());
    const int have = shape.k - 1;
    std::vector<uint8_t> xs = {0};
    std::vector<uint8_t> ys = {0};
    for (int i = 0; i < have; ++i) {
      xs.push_back((*shares)[i].index);
      ys.push_back((*shares)[i].value.data()[0]);
    }
    const uint8_t missing = (*shares)[shape.n - 1].index;
    std::set<int> completions;
    int consistent = 0;
    for (int candidate = 0; candidate < 256; ++candidate) {
      ys[0] = static_cast<uint8_t>(candidate);
      ShamirShare fake;
      fake.threshold = static_cast<uint8_t>(shape.k);
      fake.count = static_cast<uint8_t>(shape.n);
      fake.index = missing;
      fake.set_id = (*shares)[0].set_id;
      const uint8_t y = GfInterpolateAt(xs, ys, missing);
      fake.value = SecretBytes::CopyFrom(std::string(1, static_cast<char>(y)));
      completions.insert(y);
      std::vector<int> pick(static_cast<size_t>(have));
      for (int i = 0; i < have; ++i) pick[static_cast<size_t>(i)] = i;
      auto subset = CloneShares(*shares, pick);
      subset.push_back(std::move(fake));
      auto got = CombineShares(subset);
      ASSERT_TRUE(got.ok()) << got.status();
      if (got->data()[0] == candidate) ++consistent;
    }
    EXPECT_EQ(consistent, 256) << shape.k << "-of-" << shape.n;
    EXPECT_EQ(completions.size(), 256U);  // one completion per secret
  }
}

TEST(ShamirTest, RefusesBadShapes) {
  const SecretBytes secret = crypto::RandomSecret(32);
  for (const Shape shape : {Shape{1, 5}, Shape{0, 5}, Shape{-1, 5}, Shape{6, 5},
                            Shape{2, 256}, Shape{300, 300}}) {
    auto got = SplitSecret(secret, shape.k, shape.n);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << shape.k << "-of-" << shape.n;
  }
  EXPECT_THAT(SplitSecret(secret, 1, 3).status().message(),
              HasSubstr("below 2"));
  EXPECT_THAT(SplitSecret(secret, 4, 3).status().message(),
              HasSubstr("exceeds the share count"));
  EXPECT_EQ(SplitSecret(SecretBytes(), 2, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitSecret(crypto::RandomSecret(65), 2, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ShamirTest, RefusesDuplicateIndices) {
  const SecretBytes secret = crypto::RandomSecret(32);
  auto shares = SplitSecret(secret, 3, 5);
  ASSERT_TRUE(shares.ok());
  auto got = CombineShares(CloneShares(*shares, {0, 2, 0}));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("duplicate share index 1"));
  // Also when there are enough distinct ones besides.
  got = CombineShares(CloneShares(*shares, {0, 1, 2, 1}));
  EXPECT_THAT(got.status().message(), HasSubstr("duplicate share index 2"));
}

TEST(ShamirTest, RefusesSharesOfDifferentSplits) {
  const SecretBytes secret = crypto::RandomSecret(32);
  auto a = SplitSecret(secret, 2, 3);
  auto b = SplitSecret(secret, 2, 3);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_NE((*a)[0].set_id, (*b)[0].set_id);
  std::vector<ShamirShare> mixed = CloneShares(*a, {0});
  auto other = CloneShares(*b, {1});
  mixed.push_back(std::move(other[0]));
  auto got = CombineShares(mixed);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("different split"));
  EXPECT_EQ(CombineShares({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ShamirTest, ExtraShareThatIsWrongIsDetected) {
  const SecretBytes secret = crypto::RandomSecret(32);
  auto shares = SplitSecret(secret, 3, 5);
  ASSERT_TRUE(shares.ok());
  auto subset = CloneShares(*shares, {0, 1, 2, 3});
  subset[3].value.mutable_data()[7] ^= 0x01;
  auto got = CombineShares(subset);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  // The wrong share, re-encoded, has a valid checksum: only the redundancy
  // of a fourth share can reveal it.
  auto text = EncodeShare(subset[3]);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(DecodeShare(Text(*text)).ok());
}

TEST(ShareTextTest, RoundTripsAndHasTheDocumentedShape) {
  const SecretBytes secret = crypto::RandomSecret(32);
  auto shares = SplitSecret(secret, 3, 5);
  ASSERT_TRUE(shares.ok());
  for (const ShamirShare& s : *shares) {
    auto text = EncodeShare(s);
    ASSERT_TRUE(text.ok());
    const std::string t = Text(*text);
    ASSERT_EQ(t.size(), 8 + 2 * (8 + 32 + 4));
    EXPECT_EQ(t.substr(0, 8), "vkshare:");
    // version 01, k 03, n 05, index
    EXPECT_EQ(t.substr(8, 8),
              "010305" + std::string(1, '0') +
                  std::string(1, static_cast<char>('0' + s.index)));
    auto back = DecodeShare(t);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->threshold, 3);
    EXPECT_EQ(back->count, 5);
    EXPECT_EQ(back->index, s.index);
    EXPECT_EQ(back->set_id, s.set_id);
    EXPECT_TRUE(back->value.Equals(s.value));
    auto again = EncodeShare(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(Text(*again), t);
  }
}

TEST(ShareTextTest, EveryMistypedDigitIsDetected) {
  auto shares = SplitSecret(crypto::RandomSecret(32), 3, 5);
  ASSERT_TRUE(shares.ok());
  auto text = EncodeShare((*shares)[2]);
  ASSERT_TRUE(text.ok());
  const std::string good = Text(*text);
  int tried = 0;
  for (size_t pos = 8; pos < good.size(); ++pos) {
    for (char c : std::string("0123456789abcdef")) {
      if (c == good[pos]) continue;
      std::string bad = good;
      bad[pos] = c;
      auto got = DecodeShare(bad);
      ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss)
          << "position " << pos << " digit " << c;
      ++tried;
    }
  }
  EXPECT_EQ(tried, static_cast<int>(good.size() - 8) * 15);
  // Two adjacent digits swapped.
  std::string swapped = good;
  for (size_t pos = 8; pos + 1 < good.size(); ++pos) {
    if (good[pos] == good[pos + 1]) continue;
    std::swap(swapped[pos], swapped[pos + 1]);
    EXPECT_FALSE(DecodeShare(swapped).ok()) << pos;
    std::swap(swapped[pos], swapped[pos + 1]);
  }
}

TEST(ShareTextTest, StrictSyntax) {
  auto shares = SplitSecret(crypto::RandomSecret(16), 2, 2);
  ASSERT_TRUE(shares.ok());
  auto text = EncodeShare((*shares)[0]);
  ASSERT_TRUE(text.ok());
  const std::string good = Text(*text);
  std::string upper = good;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  EXPECT_EQ(DecodeShare(upper).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeShare(good + "0").status().code(),
            absl::StatusCode::kInvalidArgument);  // odd
  EXPECT_EQ(DecodeShare(good + "00").status().code(),
            absl::StatusCode::kDataLoss);  // checksum moves
  EXPECT_EQ(DecodeShare(good.substr(0, good.size() - 2)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeShare(" " + good).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeShare("vkshare:").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeShare("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeShare("vkshar3:" + good.substr(8)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DecodeShare(std::string(kMaxShareTextBytes + 1, 'a')).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ShareTextTest, FieldsOutOfRangeAreRefusedEvenWithAValidChecksum) {
  auto shares = SplitSecret(crypto::RandomSecret(8), 2, 3);
  ASSERT_TRUE(shares.ok());
  ShamirShare s;
  s.threshold = 2;
  s.count = 3;
  s.index = 4;  // > count
  s.value = crypto::RandomSecret(8);
  EXPECT_EQ(EncodeShare(s).status().code(), absl::StatusCode::kInvalidArgument);
  s.index = 0;
  EXPECT_EQ(EncodeShare(s).status().code(), absl::StatusCode::kInvalidArgument);
  s.index = 1;
  s.threshold = 1;
  EXPECT_EQ(EncodeShare(s).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ShareTextTest, NormalizeAcceptsWhatAnOperatorTypes) {
  auto shares = SplitSecret(crypto::RandomSecret(32), 3, 5);
  ASSERT_TRUE(shares.ok());
  auto text = EncodeShare((*shares)[4]);
  ASSERT_TRUE(text.ok());
  const std::string good = Text(*text);
  std::string typed = "  VKSHARE:";
  for (size_t i = 8; i < good.size(); ++i) {
    char c = good[i];
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    typed.push_back(c);
    if ((i - 8) % 4 == 3) typed += (i % 3 == 0) ? "-" : " ";
    if ((i - 8) % 32 == 31) typed += "\r\n";
  }
  const SecretBytes normal = NormalizeShareText(typed);
  EXPECT_EQ(Text(normal), good);
  auto back = DecodeShare(Text(normal));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->value.Equals((*shares)[4].value));
}

TEST(ShamirTest, FreshRandomnessPerSplit) {
  const SecretBytes secret = crypto::RandomSecret(32);
  auto a = SplitSecret(secret, 2, 2);
  auto b = SplitSecret(secret, 2, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE((*a)[0].value.Equals((*b)[0].value));
  EXPECT_FALSE((*a)[0].value.Equals(secret));
}

}  // namespace
}  // namespace virtengine::keys
