#include "src/common/encoding/bech32.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/common/encoding/hex.h"

namespace virtengine::encoding {
namespace {

using ::testing::HasSubstr;

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// BIP-173, "Test vectors": valid Bech32 strings.
constexpr const char* kBip173Valid[] = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcha"
    "ractersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
    "qqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
};

TEST(Bech32Test, Bip173ValidVectorsDecodeAndReencode) {
  for (const char* s : kBip173Valid) {
    auto d = Bech32DecodeWords(s, kBech32MaxLength);
    ASSERT_TRUE(d.ok()) << s << ": " << d.status();
    auto again = Bech32EncodeWords(d->hrp, d->data);
    ASSERT_TRUE(again.ok()) << s << ": " << again.status();
    EXPECT_EQ(*again, Lower(s));
  }
}

TEST(Bech32Test, Bip173VectorDetails) {
  auto a = Bech32DecodeWords("A12UEL5L", 10);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->hrp, "a");
  EXPECT_TRUE(a->data.empty());

  auto abc = Bech32DecodeWords("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                               kBech32MaxLength);
  ASSERT_TRUE(abc.ok()) << abc.status();
  EXPECT_EQ(abc->hrp, "abcdef");
  ASSERT_EQ(abc->data.size(), 32u);
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(abc->data[i], i);  // the charset
}

// BIP-173, "Test vectors": invalid Bech32 strings, with the reason the BIP
// gives and the message this implementation reports.
struct Invalid {
  std::string text;
  const char* bip_reason;
  const char* message;
};

TEST(Bech32Test, Bip173InvalidVectorsAreRejectedForTheRightReason) {
  const Invalid kInvalid[] = {
      {std::string("\x20") + "1nwldj5", "HRP character out of range",
       "bech32: character 0x20 at position 0 out of range (33..126)"},
      {std::string("\x7f") + "1axkwrx", "HRP character out of range",
       "bech32: character 0x7f at position 0 out of range (33..126)"},
      {std::string("\x80") + "1eym55h", "HRP character out of range",
       "bech32: character 0x80 at position 0 out of range (33..126)"},
      {"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexclude"
       "dcharactersbio1569pvx",
       "overall max length exceeded", "bech32: length 91 exceeds maximum 90"},
      {"pzry9x0s0muk", "No separator character", "bech32: no separator '1'"},
      {"1pzry9x0s0muk", "Empty HRP", "bech32: empty human-readable part"},
      {"x1b4n0q5v", "Invalid data character",
       "bech32: invalid data character 'b' at position 2"},
      {"li1dgmt3", "Too short checksum",
       "bech32: data part too short (5 characters, at least 6 needed for the "
       "checksum)"},
      {std::string("de1lg7wt") + "\xff", "Invalid character in checksum",
       "bech32: character 0xff at position 8 out of range (33..126)"},
      {"A1G7SGD8", "checksum calculated with uppercase form of HRP",
       "bech32: checksum mismatch"},
      {"10a06t8", "empty HRP", "bech32: empty human-readable part"},
      {"1qzzfhee", "empty HRP", "bech32: empty human-readable part"},
  };
  for (const Invalid& v : kInvalid) {
    auto d = Bech32DecodeWords(v.text, kBech32MaxLength);
    ASSERT_FALSE(d.ok()) << v.bip_reason;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().message(), v.message) << v.bip_reason;
    // The byte-level decoder rejects them all the same way.
    EXPECT_EQ(Bech32Decode(v.text, 100).status().message(), v.message);
  }
}

// BIP-173 segwit addresses (version 0, checksum bech32): the data is the
// witness version word followed by the program regrouped 8->5 with padding.
TEST(Bech32Test, Bip173SegwitV0Addresses) {
  struct Segwit {
    const char* address;
    const char* program_hex;
  };
  const Segwit kSegwit[] = {
      {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
       "751e76e8199196d454941c45d1b3a323f1433bd6"},
      {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
       "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
  };
  for (const Segwit& s : kSegwit) {
    auto d = Bech32DecodeWords(s.address, kBech32MaxLength);
    ASSERT_TRUE(d.ok()) << s.address << ": " << d.status();
    ASSERT_FALSE(d->data.empty());
    EXPECT_EQ(d->data[0], 0);  // witness version 0
    auto program =
        ConvertBits5To8(absl::Span<const uint8_t>(d->data).subspan(1));
    ASSERT_TRUE(program.ok()) << program.status();
    EXPECT_EQ(HexEncode(*program), s.program_hex);
    // Re-encoding version + program gives the lowercase address.
    std::vector<uint8_t> words = {0};
    const std::vector<uint8_t> prog_words = ConvertBits8To5(*program);
    words.insert(words.end(), prog_words.begin(), prog_words.end());
    auto enc = Bech32EncodeWords(d->hrp, words);
    ASSERT_TRUE(enc.ok()) << enc.status();
    EXPECT_EQ(*enc, Lower(s.address));
  }
}

// BIP-173 invalid segwit addresses whose bech32 checksum is valid but whose
// program regrouping is not.
TEST(Bech32Test, Bip173InvalidPaddingVectors) {
  for (const char* s : {"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
                        "tb1pw508d6qejxtdg4y5r3zarqfsj6c3"}) {
    auto d = Bech32DecodeWords(s, kBech32MaxLength);
    ASSERT_TRUE(d.ok()) << s << ": " << d.status();
    auto program =
        ConvertBits5To8(absl::Span<const uint8_t>(d->data).subspan(1));
    EXPECT_FALSE(program.ok()) << s;
    EXPECT_THAT(program.status().message(),
                HasSubstr("bech32: invalid padding"));
  }
}

TEST(Bech32Test, RejectsMixedCase) {
  // BIP-173 invalid segwit address "Mixed case".
  auto d = Bech32DecodeWords(
      "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
      kBech32MaxLength);
  EXPECT_EQ(std::string(d.status().message()),
            "bech32: mixed case ('t' at position 0, 'L' at position 58)");
  EXPECT_EQ(std::string(Bech32Decode("a12UEL5L", 10).status().message()),
            "bech32: mixed case ('a' at position 0, 'U' at position 3)");
}

// Cosmos-SDK style: 20-byte account addresses under a short hrp. The
// expected strings were produced by an independent implementation of the
// BIP-173 reference code.
TEST(Bech32Test, CosmosStyleAddresses) {
  std::vector<uint8_t> seq(20);
  for (int i = 0; i < 20; ++i) seq[i] = static_cast<uint8_t>(i);
  auto enc = Bech32Encode("ve", seq);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ(*enc, "ve1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnlt2w73");
  auto dec = Bech32Decode(*enc, 20);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(dec->hrp, "ve");
  EXPECT_EQ(dec->data, seq);

  auto zeros = Bech32Encode("cosmos", std::vector<uint8_t>(20, 0));
  ASSERT_TRUE(zeros.ok());
  EXPECT_EQ(*zeros, "cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a");

  auto ones = Bech32Encode("ve", std::vector<uint8_t>(32, 0xff));
  ASSERT_TRUE(ones.ok());
  EXPECT_EQ(*ones,
            "ve1lllllllllllllllllllllllllllllllllllllllllllllllllllsm3fdgr");

  // Upper case decodes to the same bytes; the hrp comes back lowercase.
  std::string upper = *enc;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  auto up = Bech32Decode(upper, 20);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->hrp, "ve");
  EXPECT_EQ(up->data, seq);
}

TEST(Bech32Test, DetectsSingleCharacterErrors) {
  const std::string good = "ve1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnlt2w73";
  for (size_t i = 3; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = bad[i] == 'q' ? 'p' : 'q';
    EXPECT_EQ(Bech32Decode(bad, 20).status().message(),
              "bech32: checksum mismatch")
        << i;
  }
  // A changed hrp is caught by the checksum too.
  EXPECT_EQ(Bech32Decode("vf1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnlt2w73", 20)
                .status()
                .message(),
            "bech32: checksum mismatch");
}

TEST(Bech32Test, EnforcesTheNinetyCharacterLimitOnEncode) {
  // "ve" + "1" + 80 words + 6 = 89 characters.
  auto ok = Bech32Encode("ve", std::vector<uint8_t>(50, 7));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), 89u);
  auto dec = Bech32Decode(*ok, 50);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(dec->data, std::vector<uint8_t>(50, 7));
  // 51 bytes need 82 words: 91 characters.
  EXPECT_EQ(Bech32Encode("ve", std::vector<uint8_t>(51, 7)).status().message(),
            "bech32: encoded length 91 exceeds maximum 90");
  EXPECT_EQ(Bech32Decode(std::string(91, 'q'), 100).status().message(),
            "bech32: length 91 exceeds maximum 90");
}

TEST(Bech32Test, ChecksHrpOnEncode) {
  const std::vector<uint8_t> data = {1, 2, 3};
  EXPECT_EQ(Bech32Encode("", data).status().message(),
            "bech32: empty human-readable part");
  EXPECT_EQ(Bech32Encode(std::string(84, 'a'), {}).status().message(),
            "bech32: human-readable part length 84 exceeds maximum 83");
  EXPECT_EQ(Bech32Encode("v e", data).status().message(),
            "bech32: human-readable part character 0x20 at position 1 out of "
            "range (33..126)");
  EXPECT_EQ(Bech32Encode("v\x7f", data).status().message(),
            "bech32: human-readable part character 0x7f at position 1 out of "
            "range (33..126)");
  EXPECT_EQ(Bech32Encode("vE", data).status().message(),
            "bech32: human-readable part must be lowercase ('E' at position "
            "1)");
  // An 83-character hrp with no data is exactly 90 characters.
  auto max_hrp = Bech32Encode(std::string(83, 'a'), {});
  ASSERT_TRUE(max_hrp.ok()) << max_hrp.status();
  EXPECT_EQ(max_hrp->size(), 90u);
}

TEST(Bech32Test, ChecksHrpLengthOnDecode) {
  // 85-character hrp, separator, 4 data characters: 90 in all.
  const std::string s = std::string(85, 'a') + "1qqqq";
  EXPECT_EQ(Bech32DecodeWords(s, 90).status().message(),
            "bech32: human-readable part length 85 exceeds maximum 83");
}

TEST(Bech32Test, RejectsOutOfRangeWordsOnEncode) {
  EXPECT_EQ(Bech32EncodeWords("ve", std::vector<uint8_t>{1, 31, 32})
                .status()
                .message(),
            "bech32: data word 32 at index 2 out of range (0..31)");
}

TEST(Bech32Test, EnforcesOutputLimits) {
  const std::string addr = "ve1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnlt2w73";
  EXPECT_EQ(Bech32Decode(addr, 19).status().message(),
            "bech32: decoded size 20 bytes exceeds limit 19");
  EXPECT_EQ(Bech32DecodeWords(addr, 31).status().message(),
            "bech32: 32 data words exceed limit 31");
  EXPECT_TRUE(Bech32DecodeWords(addr, 32).ok());
}

TEST(Bech32Test, ByteDecodeRejectsBadPadding) {
  // 'l' is word 31: a single word is 5 bits, less than a byte, so the whole
  // word is spare.
  auto one = Bech32EncodeWords("ve", std::vector<uint8_t>{31});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Bech32Decode(*one, 10).status().message(),
            "bech32: invalid padding: 5 spare bits (a whole unused word)");
  // Two words = 10 bits: one byte and two spare bits that must be zero.
  auto two = Bech32EncodeWords("ve", std::vector<uint8_t>{0, 1});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(Bech32Decode(*two, 10).status().message(),
            "bech32: invalid padding: the 2 spare bits are not zero");
  auto canonical = Bech32EncodeWords("ve", std::vector<uint8_t>{0, 4});
  ASSERT_TRUE(canonical.ok());
  auto dec = Bech32Decode(*canonical, 10);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(dec->data, std::vector<uint8_t>{0x01});
}

TEST(Bech32Test, ConvertBitsRoundTrips) {
  for (size_t n = 0; n <= 50; ++n) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 73 + 11);
    const std::vector<uint8_t> words = ConvertBits8To5(bytes);
    EXPECT_EQ(words.size(), (n * 8 + 4) / 5);
    auto back = ConvertBits5To8(words);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(ConvertBits5To8(std::vector<uint8_t>{40}).status().message(),
            "bech32: data word 40 at index 0 out of range (0..31)");
}

}  // namespace
}  // namespace virtengine::encoding
