#include "security/keys/key_record.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/crypto/random.h"

namespace virtengine::keys {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;
using ::testing::HasSubstr;

KeyRecordHeader SampleHeader() {
  KeyRecordHeader h;
  h.algorithm = KeyAlgorithm::kEd25519;
  h.purpose = v1::NODE_SIGNATURE;
  h.state = KeyState::kActive;
  for (size_t i = 0; i < h.key_id.size(); ++i) {
    h.key_id[i] = static_cast<uint8_t>(0xa0 + i);
  }
  h.generation = 1;
  h.created_at = 1700000000;
  h.public_key.assign(32, 0x5a);
  h.name = "node";
  return h;
}

KeyRecord SampleRecord() {
  KeyRecord r;
  r.header = SampleHeader();
  r.sealed.assign(SealedSize(r.header), 0x33);
  return r;
}

TEST(KeyRecordTest, LayoutIsAsDocumented) {
  const std::string bytes = EncodeKeyRecord(SampleRecord());
  // 4 magic, 1 version, 1 alg, 1 purpose, 1 state, 16 id, 4 generation,
  // 4 x 8 timestamps, 1 + 32 public key, 1 + 4 name, 2 + 72 sealed.
  ASSERT_EQ(bytes.size(), 4 + 1 + 3 + 16 + 4 + 32 + 33 + 5 + 2 + 72U);
  EXPECT_EQ(bytes.substr(0, 4), "VEKR");
  EXPECT_EQ(bytes[4], 1);
  EXPECT_EQ(bytes[5], 1);  // ed25519
  EXPECT_EQ(bytes[6], 2);  // NODE_SIGNATURE
  EXPECT_EQ(bytes[7], 1);  // active
  EXPECT_EQ(static_cast<uint8_t>(bytes[8]), 0xa0);
  EXPECT_EQ(bytes.substr(24, 4), std::string("\0\0\0\1", 4));
  // created_at 1700000000 = 0x6553f100, big-endian in 8 bytes.
  EXPECT_EQ(bytes.substr(28, 8), std::string("\0\0\0\0\x65\x53\xf1\x00", 8));
  EXPECT_EQ(bytes[60], 32);
  EXPECT_EQ(bytes[93], 4);
  EXPECT_EQ(bytes.substr(94, 4), "node");
  EXPECT_EQ(bytes.substr(98, 2), std::string("\0\x48", 2));  // 72
  EXPECT_EQ(EncodeHeader(SampleHeader()), bytes.substr(0, 98));
}

TEST(KeyRecordTest, RoundTrips) {
  for (KeyState state : {KeyState::kActive, KeyState::kRotated,
                         KeyState::kRetired, KeyState::kRevoked}) {
    KeyRecord r = SampleRecord();
    r.header.state = state;
    if (state != KeyState::kActive) r.header.rotated_at = 1700000100;
    if (state == KeyState::kRetired) r.header.retired_at = 1700000200;
    if (state == KeyState::kRevoked) r.header.revoked_at = 1700000300;
    r.sealed.assign(SealedSize(r.header), 0x44);
    ASSERT_TRUE(ValidateHeader(r.header).ok()) << KeyStateName(state);
    const std::string bytes = EncodeKeyRecord(r);
    auto back = DecodeKeyRecord(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->header, r.header);
    EXPECT_EQ(back->sealed, r.sealed);
    EXPECT_EQ(EncodeKeyRecord(*back), bytes);
  }
}

TEST(KeyRecordTest, EveryTruncationAndAnyTrailingByteIsRefused) {
  const std::string bytes = EncodeKeyRecord(SampleRecord());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_EQ(DecodeKeyRecord(bytes.substr(0, len)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << len;
  }
  EXPECT_THAT(DecodeKeyRecord(bytes + "x").status().message(),
              HasSubstr("trailing"));
}

TEST(KeyRecordTest, RefusesOutOfRangeFields) {
  const std::string good = EncodeKeyRecord(SampleRecord());
  struct Case {
    size_t offset;
    char value;
    const char* why;
  };
  const Case cases[] = {
      {0, 'X', "magic"},
      {4, 2, "version"},
      {5, 3, "algorithm"},
      {5, 2, "purpose"},  // x25519 + NODE_SIG
      {6, 4, "purpose"},
      {6, 99, "purpose"},
      {7, 0, "state"},
      {7, 5, "state"},
      {7, 2, "timestamps"},  // rotated without
                             // rotated_at
      {27, 0, "generation"},
      {60, 31, "public key"},
      {94, 'N', "name"},
      {94, '.', "name"},
      {93, 0, "name"},
      {99, 0x47, "sealed"},
  };
  for (const Case& c : cases) {
    std::string bad = good;
    bad[c.offset] = c.value;
    auto got = DecodeKeyRecord(bad);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << c.why << " at " << c.offset;
  }
  // Negative timestamp.
  std::string bad = good;
  bad[36] = static_cast<char>(0x80);
  EXPECT_THAT(DecodeKeyRecord(bad).status().message(), HasSubstr("negative"));
  EXPECT_EQ(
      DecodeKeyRecord(std::string(kMaxRecordBytes + 1, 'a')).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(KeyRecordTest, StateTimestampRules) {
  KeyRecordHeader h = SampleHeader();
  h.revoked_at = 5;  // active with a revocation time
  EXPECT_FALSE(ValidateHeader(h).ok());
  h = SampleHeader();
  h.state = KeyState::kRevoked;
  h.revoked_at = 5;
  EXPECT_TRUE(ValidateHeader(h).ok());
  h.retired_at = 4;  // retired but never rotated
  EXPECT_FALSE(ValidateHeader(h).ok());
  h.rotated_at = 3;
  EXPECT_TRUE(ValidateHeader(h).ok());
  h = SampleHeader();
  h.created_at = 0;
  EXPECT_FALSE(ValidateHeader(h).ok());
}

TEST(KeyRecordTest, NameRules) {
  EXPECT_TRUE(ValidateKeyName("node").ok());
  EXPECT_TRUE(ValidateKeyName("account-alice.2_x").ok());
  EXPECT_TRUE(ValidateKeyName(std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateKeyName(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateKeyName("").ok());
  EXPECT_FALSE(ValidateKeyName("-x").ok());
  EXPECT_FALSE(ValidateKeyName("Node").ok());
  EXPECT_FALSE(ValidateKeyName("a/b").ok());
  EXPECT_FALSE(ValidateKeyName("a b").ok());
}

TEST(KeyRecordTest, AlgorithmPurposePairs) {
  EXPECT_TRUE(
      CheckAlgorithmPurpose(KeyAlgorithm::kEd25519, v1::TX_SIGNATURE).ok());
  EXPECT_TRUE(
      CheckAlgorithmPurpose(KeyAlgorithm::kEd25519, v1::OPERATOR_SIGNATURE)
          .ok());
  EXPECT_FALSE(
      CheckAlgorithmPurpose(KeyAlgorithm::kEd25519, v1::ENVELOPE).ok());
  EXPECT_TRUE(CheckAlgorithmPurpose(KeyAlgorithm::kX25519, v1::ENVELOPE).ok());
  EXPECT_FALSE(
      CheckAlgorithmPurpose(KeyAlgorithm::kX25519, v1::TX_SIGNATURE).ok());
}

TEST(StoreMetaTest, RoundTripsAndIsStrict) {
  StoreMeta m;
  m.store_id.fill(7);
  m.kek_kind = "passphrase-argon2id";
  m.kek_params = std::string(33, 'p');
  m.kek_check.assign(kSealOverhead, 9);
  const std::string bytes = EncodeStoreMeta(m);
  EXPECT_EQ(bytes.size(), 4 + 1 + 16 + 1 + 19 + 2 + 33 + 40U);
  auto back = DecodeStoreMeta(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EncodeStoreMeta(*back), bytes);
  EXPECT_FALSE(DecodeStoreMeta(bytes + "x").ok());
  EXPECT_FALSE(DecodeStoreMeta(bytes.substr(0, bytes.size() - 1)).ok());
  m.kek_kind = "Passphrase";
  EXPECT_FALSE(DecodeStoreMeta(EncodeStoreMeta(m)).ok());
}

TEST(BackupFormatTest, FileAndPayloadRoundTrip) {
  BackupFile f;
  f.backup_id.fill(1);
  f.created_at = 1700000000;
  f.sealed.assign(100, 2);
  const std::string bytes = EncodeBackupFile(f);
  EXPECT_EQ(bytes.size(), 4 + 1 + 16 + 8 + 4 + 100U);
  auto back = DecodeBackupFile(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(EncodeBackupFile(*back), bytes);
  EXPECT_FALSE(DecodeBackupFile(bytes + "x").ok());

  std::vector<BackupEntry> entries;
  entries.push_back(BackupEntry{SampleHeader(), crypto::RandomSecret(32)});
  KeyRecordHeader revoked = SampleHeader();
  revoked.state = KeyState::kRevoked;
  revoked.revoked_at = 1700000001;
  revoked.generation = 2;
  entries.push_back(BackupEntry{revoked, crypto::SecretBytes()});
  const crypto::SecretBytes payload = EncodeBackupPayload(entries);
  auto decoded = DecodeBackupPayload(payload.view());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 2U);
  EXPECT_EQ((*decoded)[0].header, entries[0].header);
  EXPECT_TRUE((*decoded)[0].secret.Equals(entries[0].secret));
  EXPECT_EQ((*decoded)[1].header, revoked);
  EXPECT_TRUE((*decoded)[1].secret.empty());
  // A revoked entry carrying a secret is refused.
  entries[1].secret = crypto::RandomSecret(32);
  EXPECT_FALSE(DecodeBackupPayload(EncodeBackupPayload(entries).view()).ok());
}

}  // namespace
}  // namespace virtengine::keys
