#include "security/envelope/envelope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "security/crypto/policy.h"
#include "security/crypto/random.h"
#include "src/common/encoding/hex.h"

namespace virtengine::envelope {
namespace {

using ::testing::HasSubstr;
Bytes H(std::string_view hex) {
  auto b = encoding::HexDecode(hex, 1 << 20);
  if (!b.ok()) std::abort();
  return *b;
}

template <typename C>
std::string Hex(const C& bytes) {
  return encoding::HexEncode(ByteView(bytes.data(), bytes.size()));
}

constexpr size_t kEntry0 = kFixedHeaderSize;

EnvelopePrivateKey NewKey() {
  auto k = EnvelopePrivateKey::Generate();
  if (!k.ok()) std::abort();
  return std::move(*k);
}

std::vector<EnvelopeRecipientKey> Pubs(
    const std::vector<EnvelopePrivateKey>& keys) {
  std::vector<EnvelopeRecipientKey> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(k.public_key());
  return out;
}

std::vector<EnvelopePrivateKey> NewKeys(size_t n) {
  std::vector<EnvelopePrivateKey> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(NewKey());
  return keys;
}

std::string Str(const SecretBytes& s) { return crypto::ToString(s.view()); }

Bytes TaggedSha256(std::string_view tag, ByteView data) {
  Bytes in(tag.begin(), tag.end());
  in.insert(in.end(), data.begin(), data.end());
  Bytes out(32);
  crypto_hash_sha256(out.data(), in.data(), in.size());
  return out;
}

// ---- keys -------------------------------------------------------------------

TEST(EnvelopeKeyTest, GenerateDerivesThePublicKeyAndFingerprint) {
  EnvelopePrivateKey k = NewKey();
  ASSERT_EQ(k.secret().size(), 32u);
  uint8_t pk[32];
  ASSERT_EQ(crypto_scalarmult_base(pk, k.secret().data()), 0);
  EXPECT_EQ(0, std::memcmp(pk, k.public_key().bytes().data(), 32));
  Bytes d = TaggedSha256("VirtEngine-Envelope-X25519-Fingerprint-v1",
                         k.public_key().view());
  EXPECT_EQ(Hex(k.public_key().fingerprint()), Hex(d).substr(0, 32));

  auto again = EnvelopePrivateKey::FromBytes(k.secret());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->public_key(), k.public_key());
  EXPECT_FALSE(NewKey().public_key() == k.public_key());
}

TEST(EnvelopeKeyTest, RefusesWrongSizesAndSmallOrderPoints) {
  EXPECT_THAT(EnvelopeRecipientKey::FromBytes(Bytes(31, 9)).status().message(),
              HasSubstr("public key is 31 bytes, want 32"));
  EXPECT_THAT(EnvelopePrivateKey::FromBytes(SecretBytes(33)).status().message(),
              HasSubstr("secret key is 33 bytes, want 32"));
  for (const char* small : {
           "0000000000000000000000000000000000000000000000000000000000000000",
           "0100000000000000000000000000000000000000000000000000000000000000",
           "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
           "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
           "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
       }) {
    auto k = EnvelopeRecipientKey::FromBytes(H(small));
    ASSERT_FALSE(k.ok()) << small;
    EXPECT_EQ(k.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(k.status().message(), HasSubstr("small order"));
  }
}

// ---- round trips ------------------------------------------------------------

TEST(EnvelopeTest, EveryRecipientOpensEverySize) {
  for (size_t n : {1u, 3u, 16u}) {
    std::vector<EnvelopePrivateKey> keys = NewKeys(n);
    for (size_t size : {0u, 1u, 1024u, 65537u}) {
      Bytes plain = crypto::RandomBytes(size);
      auto env = Seal(plain, Pubs(keys));
      ASSERT_TRUE(env.ok()) << env.status();
      EXPECT_EQ(env->size(), 44 + 120 * n + 16 + size);
      for (const auto& k : keys) {
        auto out = Open(*env, k);
        ASSERT_TRUE(out.ok()) << out.status();
        EXPECT_EQ(out->size(), size);
        EXPECT_TRUE(crypto::ConstantTimeEquals(out->view(), ByteView(plain)));
      }
    }
  }
}

TEST(EnvelopeTest, MaximumPayloadAndOneByteMore) {
  EnvelopePrivateKey k = NewKey();
  Bytes plain(kMaxPayloadBytes, 0xab);
  auto env = Seal(plain, {k.public_key()});
  ASSERT_TRUE(env.ok()) << env.status();
  auto out = Open(*env, k);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), kMaxPayloadBytes);
  plain.push_back(0);
  auto big = Seal(plain, {k.public_key()});
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(big.status().message(),
              HasSubstr("plaintext of 16777217 bytes exceeds the limit of "
                        "16777216"));
}

TEST(EnvelopeTest, SealRefusesBadRecipientLists) {
  std::vector<EnvelopePrivateKey> keys = NewKeys(17);
  std::vector<EnvelopeRecipientKey> pubs = Pubs(keys);
  auto none = Seal(crypto::AsBytes("x"), {});
  EXPECT_THAT(none.status().message(), HasSubstr("no recipients"));
  auto many = Seal(crypto::AsBytes("x"), pubs);
  EXPECT_THAT(many.status().message(),
              HasSubstr("17 recipients exceed the limit of 16"));
  auto dup = Seal(crypto::AsBytes("x"), {pubs[0], pubs[1], pubs[0]});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().message(),
              HasSubstr("recipients 0 and 2 are the same key"));
}

TEST(EnvelopeTest, EachSealIsFreshlyRandom) {
  std::vector<EnvelopePrivateKey> keys = NewKeys(2);
  auto a = Seal(crypto::AsBytes("same"), Pubs(keys));
  auto b = Seal(crypto::AsBytes("same"), Pubs(keys));
  ASSERT_TRUE(a.ok() && b.ok());
  auto ha = ParseHeader(*a);
  auto hb = ParseHeader(*b);
  ASSERT_TRUE(ha.ok() && hb.ok());
  EXPECT_NE(ha->key_commitment, hb->key_commitment);
  EXPECT_NE(ha->recipients[0].ephemeral_public_key,
            ha->recipients[1].ephemeral_public_key);
  EXPECT_NE(ha->recipients[0].key_nonce, ha->recipients[1].key_nonce);
  EXPECT_NE(ha->recipients[0].ephemeral_public_key,
            hb->recipients[0].ephemeral_public_key);
}

TEST(EnvelopeTest, KeyNotAmongRecipientsIsNotFound) {
  std::vector<EnvelopePrivateKey> keys = NewKeys(2);
  EnvelopePrivateKey stranger = NewKey();
  auto env = Seal(crypto::AsBytes("secret"), Pubs(keys));
  ASSERT_TRUE(env.ok());
  auto out = Open(*env, stranger);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(out.status().message(),
              HasSubstr(absl::StrCat(
                  "no recipient entry for this key (fingerprint ",
                  FingerprintHex(stranger.public_key().fingerprint()))));
  EXPECT_THAT(out.status().message(),
              HasSubstr(FingerprintHex(keys[1].public_key().fingerprint())));
}

// ---- header -----------------------------------------------------------------

TEST(EnvelopeHeaderTest, ParseListsRecipientsAndReEncodes) {
  std::vector<EnvelopePrivateKey> keys = NewKeys(3);
  auto env = Seal(crypto::AsBytes("twelve bytes"), Pubs(keys));
  ASSERT_TRUE(env.ok());
  auto h = ParseHeader(*env);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->version, 1);
  EXPECT_EQ(h->algorithm, 1);
  EXPECT_EQ(h->payload_length, 12u);
  ASSERT_EQ(h->recipients.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(h->recipients[i].fingerprint, keys[i].public_key().fingerprint());
    EXPECT_EQ(h->FindRecipient(keys[i].public_key().fingerprint()),
              static_cast<int>(i));
  }
  EXPECT_EQ(h->header_size(), 44u + 360u);
  EXPECT_EQ(h->envelope_size(), env->size());
  Bytes enc = h->Encode();
  EXPECT_EQ(enc, Bytes(env->begin(), env->begin() + h->header_size()));
  EXPECT_EQ(Hex(Bytes(env->begin(), env->begin() + 12)),
            "56454e5601010003"
            "0000000c");
}

// Builds a valid 2-recipient envelope and a copy edited by `edit`.
struct Fixture {
  std::vector<EnvelopePrivateKey> keys = NewKeys(2);
  Bytes env;
  Fixture() {
    auto e = Seal(crypto::AsBytes("payload of exactly forty bytes, really!!"),
                  Pubs(keys));
    if (!e.ok()) std::abort();
    env = std::move(*e);
  }
};

absl::Status ParseStatus(const Bytes& b) { return ParseHeader(b).status(); }

TEST(EnvelopeHeaderTest, StrictDecodingMessages) {
  Fixture f;
  auto with = [&](size_t off, uint8_t v) {
    Bytes b = f.env;
    b[off] = v;
    return b;
  };
  struct Case {
    Bytes input;
    std::string want;
  } cases[] = {
      {Bytes(f.env.begin(), f.env.begin() + 43),
       "43 bytes, shorter than the 44-byte fixed header"},
      {Bytes(), "0 bytes, shorter than the 44-byte fixed header"},
      {with(0, 'X'), "bad magic 0x58454e56, want 0x56454e56 (\"VENV\")"},
      {with(4, 2),
       "unsupported version 2 (this implementation reads version 1)"},
      {with(4, 0), "unsupported version 0"},
      {with(5, 2), "unsupported algorithm id 2 (version 1 defines only 1"},
      {with(7, 0), "recipient count is 0, must be 1..16"},
      {with(7, 17), "recipient count 17 exceeds the limit of 16"},
      {with(6, 1), "recipient count 258 exceeds the limit of 16"},
      {with(8, 1), "payload length 16777256 exceeds the limit of 16777216"},
      {with(11, 41), "truncated: 340 bytes, the header announces 341"},
      {with(7, 3), "truncated: 340 bytes, the header announces 460"},
      {with(7, 1),
       "120 trailing bytes after the payload (the header "
       "announces 220 bytes)"},
  };
  for (const Case& c : cases) {
    absl::Status s = ParseStatus(c.input);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.want;
    EXPECT_THAT(s.message(), HasSubstr(c.want));
  }
  Bytes trailing = f.env;
  trailing.push_back(0);
  EXPECT_THAT(ParseStatus(trailing).message(),
              HasSubstr("1 trailing bytes after the payload"));
  Bytes dup = f.env;
  std::memcpy(dup.data() + kEntry0 + 120, dup.data() + kEntry0, 16);
  EXPECT_THAT(ParseStatus(dup).message(),
              HasSubstr(absl::StrCat(
                  "recipient entries 0 and 1 have the same fingerprint ",
                  FingerprintHex(f.keys[0].public_key().fingerprint()))));
  // Open reports the same structural errors before any crypto.
  EXPECT_EQ(Open(dup, f.keys[0]).status(), ParseStatus(dup));
}

TEST(EnvelopeHeaderTest, EveryTruncationIsRejected) {
  Fixture f;
  for (size_t n = 0; n < f.env.size(); ++n) {
    Bytes cut(f.env.data(), f.env.data() + n);
    EXPECT_EQ(ParseStatus(cut).code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_FALSE(Open(cut, f.keys[0]).ok()) << n;
  }
}

// ---- authentication
// -----------------------------------------------------------

TEST(EnvelopeAuthTest, EveryHeaderAndPayloadBitFlipIsRejected) {
  Fixture f;
  const size_t header = 44 + 2 * 120;
  for (size_t i = 0; i < f.env.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      Bytes b = f.env;
      b[i] ^= mask;
      for (const auto& k : f.keys) {
        auto out = Open(b, k);
        ASSERT_FALSE(out.ok()) << "byte " << i << " mask " << int{mask};
        if (i >= header) {
          EXPECT_EQ(out.status().code(), absl::StatusCode::kUnauthenticated);
          EXPECT_THAT(out.status().message(),
                      HasSubstr("payload failed authentication"));
        }
      }
    }
  }
}

TEST(EnvelopeAuthTest, AlteredHeaderFieldsFailAuthenticationPrecisely) {
  Fixture f;
  // The other recipient's entry (nonce byte): only the payload check sees it.
  Bytes other = f.env;
  other[kEntry0 + 120 + 50] ^= 1;
  auto s = Open(other, f.keys[0]).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("payload failed authentication"));
  // Own sealed key.
  Bytes own = f.env;
  own[kEntry0 + 100] ^= 1;
  s = Open(own, f.keys[0]).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(),
              HasSubstr("recipient entry 0 failed authentication"));
  // Commitment.
  Bytes commit = f.env;
  commit[20] ^= 1;
  s = Open(commit, f.keys[1]).status();
  EXPECT_THAT(s.message(),
              HasSubstr("content key in recipient entry 1 does not match the "
                        "header's key commitment"));
  // Own fingerprint: the key no longer finds its entry.
  Bytes fp = f.env;
  fp[kEntry0] ^= 1;
  EXPECT_EQ(Open(fp, f.keys[0]).status().code(), absl::StatusCode::kNotFound);
  // A small-order ephemeral key in the entry.
  Bytes eph = f.env;
  std::memset(eph.data() + kEntry0 + 16, 0, 32);
  EXPECT_EQ(Open(eph, f.keys[0]).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(EnvelopeAuthTest, SplicedEntryFromAnotherEnvelopeIsRejected) {
  EnvelopePrivateKey k = NewKey();
  auto a = Seal(crypto::AsBytes("message A"), {k.public_key()});
  auto b = Seal(crypto::AsBytes("message B"), {k.public_key()});
  ASSERT_TRUE(a.ok() && b.ok());
  Bytes spliced = *a;
  std::memcpy(spliced.data() + kEntry0, b->data() + kEntry0, 120);
  auto s = Open(spliced, k).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("key commitment"));
  // Moving B's commitment along changes the payload nonce.
  std::memcpy(spliced.data() + 12, b->data() + 12, 32);
  s = Open(spliced, k).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("payload failed authentication"));
}

// A sender that seals a different content key to the second recipient (so
// that the two would read different plaintexts) is caught by the commitment.
TEST(EnvelopeAuthTest, RecipientsCannotBeGivenDifferentContentKeys) {
  std::vector<EnvelopePrivateKey> keys = NewKeys(2);
  auto env = Seal(crypto::AsBytes("x"), Pubs(keys));
  ASSERT_TRUE(env.ok());
  Bytes b = *env;
  uint8_t* e1 = b.data() + kEntry0 + 120;
  uint8_t esk[32];
  crypto_box_keypair(e1 + 16, esk);
  Bytes other_key = crypto::RandomBytes(32);
  ASSERT_EQ(crypto_box_easy(e1 + 72, other_key.data(), 32, e1 + 48,
                            keys[1].public_key().bytes().data(), esk),
            0);
  EXPECT_THAT(Open(b, keys[1]).status().message(),
              HasSubstr("does not match the header's key commitment"));
}

TEST(EnvelopeAuthTest, PolicyIsEnforced) {
  auto strict = crypto::CryptoPolicy::Parse(
      "version: 1\nrule { purpose: FINGERPRINT allow: SHA256 }\n"
      "min_hmac_key_bytes: 16 min_hkdf_ikm_bytes: 16 "
      "argon2id { min_ops_limit: 2 min_mem_limit_bytes: 67108864 }\n");
  ASSERT_TRUE(strict.ok()) << strict.status();
  EnvelopePrivateKey k = NewKey();
  auto env = Seal(crypto::AsBytes("x"), {k.public_key()});
  ASSERT_TRUE(env.ok());
  crypto::InstallPolicy(*strict);
  EXPECT_EQ(Seal(crypto::AsBytes("x"), {k.public_key()}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Open(*env, k).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(EnvelopePrivateKey::Generate().status().code(),
            absl::StatusCode::kPermissionDenied);
  crypto::InstallPolicy(crypto::CryptoPolicy::Embedded());
  EXPECT_TRUE(Open(*env, k).ok());
}

// ---- the worked example of docs/security/envelope.md
// ----------------------------

constexpr char kExampleSk[] =
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
constexpr char kExampleEnvelope[] =
    "56454e56010100010000001165fe5eb8b24e8e21380e97953534fb68f3ba8482"
    "8851d66fda56fe898208b9037eaffeed468d04f70af5ca603b8c74a5605a725d"
    "2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23cc0c1c2c3"
    "c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7eb8a11e3235990fb093a574c"
    "daea3f364644d71c42bdf6644ecb7488f4fc22459e28b257e8731412fa4b0595"
    "43215a7993783dcf8e9969ecd34959e7e6dc2779a7e64b79ad8a72d1df6d6e65"
    "44d9b64648";

TEST(EnvelopeWorkedExampleTest, OpensToTheDocumentedPlaintext) {
  auto key =
      EnvelopePrivateKey::FromBytes(SecretBytes::CopyFrom(H(kExampleSk)));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(Hex(key->public_key().bytes()),
            "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c");
  EXPECT_EQ(FingerprintHex(key->public_key().fingerprint()),
            "7eaffeed468d04f70af5ca603b8c74a5");
  Bytes env = H(kExampleEnvelope);
  auto h = ParseHeader(env);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->payload_length, 17u);
  EXPECT_EQ(Hex(h->key_commitment),
            "65fe5eb8b24e8e21380e97953534fb68f3ba84828851d66fda56fe898208b903");
  auto out = Open(env, *key);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Str(*out), "hello, VirtEngine");
}

TEST(EnvelopeWorkedExampleTest, LibsodiumStepByStepGivesTheDocumentedBytes) {
  auto seq = [](uint8_t start, size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(start + i);
    return b;
  };
  const Bytes sk = seq(0x01, 32), k = seq(0x80, 32), esk = seq(0xa0, 32),
              nonce = seq(0xc0, 24);
  const std::string plain = "hello, VirtEngine";
  uint8_t pk[32], epk[32];
  ASSERT_EQ(crypto_scalarmult_base(pk, sk.data()), 0);
  ASSERT_EQ(crypto_scalarmult_base(epk, esk.data()), 0);
  Bytes env = {'V', 'E', 'N', 'V', 1, 1, 0, 1, 0, 0, 0, 17};
  Bytes kc = TaggedSha256("VirtEngine-Envelope-Key-Commitment-v1", k);
  env.insert(env.end(), kc.begin(), kc.end());
  Bytes fp = TaggedSha256("VirtEngine-Envelope-X25519-Fingerprint-v1",
                          ByteView(pk, 32));
  env.insert(env.end(), fp.begin(), fp.begin() + 16);
  env.insert(env.end(), epk, epk + 32);
  env.insert(env.end(), nonce.begin(), nonce.end());
  uint8_t sealed[48];
  ASSERT_EQ(crypto_box_easy(sealed, k.data(), 32, nonce.data(), pk, esk.data()),
            0);
  env.insert(env.end(), sealed, sealed + 48);
  ASSERT_EQ(env.size(), 164u);
  Bytes np = TaggedSha256("VirtEngine-Envelope-Payload-Nonce-v1", env);
  Bytes box(16 + plain.size());
  crypto_secretbox_easy(box.data(),
                        reinterpret_cast<const uint8_t*>(plain.data()),
                        plain.size(), np.data(), k.data());
  env.insert(env.end(), box.begin(), box.end());
  EXPECT_EQ(Hex(env), kExampleEnvelope);
}

}  // namespace
}  // namespace virtengine::envelope
