#include "security/keys/key_store.h"

#include <sys/stat.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/random.h"
#include "security/keys/key_record.h"
#include "security/keys/shamir.h"
#include "security/path/path.h"
#include "src/common/encoding/hex.h"

namespace virtengine::keys {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;
using crypto::SecretBytes;
using ::testing::HasSubstr;

constexpr char kPassphrase[] = "correct horse battery staple";

// RFC 8032 section 7.1, test 1.
constexpr char kEdSeedHex[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kEdPublicHex[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
// sha256 of the public key above (computed with sha256sum).
constexpr char kEdFingerprint[] =
    "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";
// RFC 7748 section 6.1, Alice.
constexpr char kXSecretHex[] =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr char kXPublicHex[] =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr char kXFingerprint[] =
    "300c9c9603b92a4b39ed3958bf9240114804db4fd373012c0ca47432d63425ae";

SecretBytes FromHex(std::string_view hex) {
  auto b = encoding::HexDecode(hex, 64);
  EXPECT_TRUE(b.ok());
  return SecretBytes::CopyFrom(crypto::ByteView(*b));
}

std::string Hex(crypto::ByteView b) { return encoding::HexEncode(b); }

class FakeClock final : public WallClock {
 public:
  absl::Time Now() override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

// A KEK provider without Argon2 (for tests that open a store many times):
// the KEK is fixed. Also shows the provider interface is all a new KEK
// source (a TPM) has to implement.
class FixedKekProvider final : public KekProvider {
 public:
  explicit FixedKekProvider(uint8_t fill) : fill_(fill) {}
  std::string kind() const override { return "test-fixed"; }
  absl::StatusOr<NewKek> CreateKek() override { return NewKek{Kek(), "fixed"}; }
  absl::StatusOr<SecretBytes> UnlockKek(std::string_view params) override {
    if (params != "fixed") return absl::InvalidArgumentError("params");
    return Kek();
  }

 private:
  SecretBytes Kek() const {
    SecretBytes k(kKekSize);
    for (size_t i = 0; i < k.size(); ++i) k.mutable_data()[i] = fill_;
    return k;
  }
  uint8_t fill_;
};

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp =
        std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    ASSERT_NE(tmp, nullptr);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    home_path_ = absl::StrCat(tmp, "/", info->name());
    ASSERT_EQ(::mkdir(home_path_.c_str(), 0700), 0);
    auto root = security::path::PathRoot::Open(home_path_);
    ASSERT_TRUE(root.ok()) << root.status();
    home_ = std::make_unique<security::path::PathRoot>(*std::move(root));
  }

  PassphraseKekProvider Pass(std::string_view p = kPassphrase) {
    return PassphraseKekProvider(SecretBytes::CopyFrom(p));
  }

  std::unique_ptr<KeyStore> MustCreate(KekProvider& kek) {
    auto s = KeyStore::Create(*home_, kek, &clock_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
  std::unique_ptr<KeyStore> MustOpen(KekProvider& kek) {
    auto s = KeyStore::Open(*home_, kek, &clock_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  std::string Read(const std::string& rel) {
    auto data = home_->ReadFile(rel, 1 << 20);
    EXPECT_TRUE(data.ok()) << data.status();
    return data.ok() ? *data : "";
  }
  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(home_->WriteFileAtomic(rel, data, 0600).ok());
  }
  std::vector<std::string> KeyFiles() {
    auto names = home_->List("keys");
    EXPECT_TRUE(names.ok());
    std::vector<std::string> out;
    for (const std::string& n : *names) {
      if (n.size() > 4 && n.substr(n.size() - 4) == ".key") out.push_back(n);
    }
    return out;
  }
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> out;
    auto names = home_->List("keys");
    EXPECT_TRUE(names.ok());
    for (const std::string& n : *names) {
      out[n] = Read("keys/" + n);
    }
    return out;
  }
  mode_t Mode(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::stat((home_path_ + "/" + rel).c_str(), &st), 0) << rel;
    return st.st_mode & 07777;
  }

  std::string home_path_;
  std::unique_ptr<security::path::PathRoot> home_;
  FakeClock clock_;
};

crypto::ByteView Msg(std::string_view s) { return crypto::AsBytes(s); }

TEST_F(KeyStoreTest, CreateGenerateReopen) {
  auto kek = Pass();
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  auto node =
      store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->state, KeyState::kActive);
  EXPECT_EQ(node->generation, 1U);
  EXPECT_EQ(node->created_at, clock_.now_);  // the injected clock
  EXPECT_EQ(node->key_id.size(), 32U);
  EXPECT_EQ(node->fingerprint.size(), 64U);
  clock_.Advance(absl::Seconds(5));
  auto enclave =
      store->Generate("enclave", KeyAlgorithm::kX25519, v1::ENVELOPE);
  ASSERT_TRUE(enclave.ok()) << enclave.status();
  EXPECT_EQ(enclave->created_at, clock_.now_);
  const auto before = store->List();
  ASSERT_EQ(before.size(), 2U);
  auto sig = store->Sign(node->key_id, Msg("hello"));
  ASSERT_TRUE(sig.ok()) << sig.status();
  store.reset();

  auto again = MustOpen(kek);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->List(), before);
  EXPECT_TRUE(again
                  ->Verify(node->key_id, Msg("hello"),
                           crypto::ByteView(sig->data(), sig->size()))
                  .ok());
  // An independent check with the public key alone.
  auto pk = crypto::Ed25519PublicKey::FromBytes(node->public_key);
  ASSERT_TRUE(pk.ok());
  EXPECT_TRUE(pk->Verify(v1::NODE_SIGNATURE, Msg("hello"),
                         crypto::ByteView(sig->data(), sig->size()))
                  .ok());
  EXPECT_FALSE(again
                   ->Verify(node->key_id, Msg("hellO"),
                            crypto::ByteView(sig->data(), sig->size()))
                   .ok());
}

TEST_F(KeyStoreTest, ExportsOnlyActiveEd25519Seeds) {
  auto kek = Pass();
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  const SecretBytes ed_seed = FromHex(kEdSeedHex);
  auto imported = store->Import("account-alice", KeyAlgorithm::kEd25519,
                                v1::TX_SIGNATURE, ed_seed);
  ASSERT_TRUE(imported.ok()) << imported.status();
  auto seed = store->ExportEd25519Seed(imported->key_id);
  ASSERT_TRUE(seed.ok()) << seed.status();
  EXPECT_TRUE(crypto::ConstantTimeEquals(seed->view(), ed_seed.view()));
  auto x = store->Generate("enclave", KeyAlgorithm::kX25519, v1::ENVELOPE);
  ASSERT_TRUE(x.ok());
  EXPECT_FALSE(store->ExportEd25519Seed(x->key_id).ok());  // not Ed25519
  auto next = store->Rotate("account-alice");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(store->ExportEd25519Seed(imported->key_id).status().code(),
            absl::StatusCode::kFailedPrecondition);  // rotated
  EXPECT_TRUE(store->ExportEd25519Seed(next->key_id).ok());
  ASSERT_TRUE(store->Revoke(next->key_id).ok());
  EXPECT_EQ(store->ExportEd25519Seed(next->key_id).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(KeyStoreTest, FilesArePrivateAndHoldNoPlaintextSecret) {
  auto kek = Pass();
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  const SecretBytes ed_seed = FromHex(kEdSeedHex);
  const SecretBytes x_secret = FromHex(kXSecretHex);
  auto ed = store->Import("operator", KeyAlgorithm::kEd25519,
                          v1::OPERATOR_SIGNATURE, ed_seed);
  ASSERT_TRUE(ed.ok()) << ed.status();
  auto x =
      store->Import("enclave", KeyAlgorithm::kX25519, v1::ENVELOPE, x_secret);
  ASSERT_TRUE(x.ok()) << x.status();
  // Public keys and fingerprints against the RFC vectors.
  EXPECT_EQ(Hex(ed->public_key), kEdPublicHex);
  EXPECT_EQ(ed->fingerprint, kEdFingerprint);
  EXPECT_EQ(Hex(x->public_key), kXPublicHex);
  EXPECT_EQ(x->fingerprint, kXFingerprint);
  auto fp = Fingerprint(ed->public_key);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(*fp, kEdFingerprint);

  EXPECT_EQ(Mode("keys"), 0700U);
  const auto files = Snapshot();
  ASSERT_EQ(files.size(), 3U);  // meta + 2 records
  const std::string seed_raw(crypto::AsChars(ed_seed.view()));
  const std::string x_raw(crypto::AsChars(x_secret.view()));
  for (const auto& [name, bytes] : files) {
    EXPECT_EQ(Mode("keys/" + name), 0600U) << name;
    EXPECT_EQ(bytes.find(seed_raw), std::string::npos) << name;
    EXPECT_EQ(bytes.find(x_raw), std::string::npos) << name;
    EXPECT_EQ(bytes.find(kEdSeedHex), std::string::npos) << name;
    EXPECT_EQ(bytes.find(kXSecretHex), std::string::npos) << name;
    // Not even a 8-byte window of the secrets.
    EXPECT_EQ(bytes.find(seed_raw.substr(12, 8)), std::string::npos) << name;
    EXPECT_EQ(bytes.find(kPassphrase), std::string::npos) << name;
  }
  // The test is able to see a secret when one is there.
  EXPECT_NE((seed_raw + "x").find(seed_raw), std::string::npos);

  // The X25519 secret comes back out; the Ed25519 key signs like RFC 8032's.
  auto xs = store->X25519SecretKey(x->key_id);
  ASSERT_TRUE(xs.ok());
  EXPECT_TRUE(xs->Equals(x_secret));
  auto sig = store->Sign(ed->key_id, crypto::ByteView());
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(Hex(crypto::ByteView(sig->data(), sig->size())),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  // Key type mix-ups are refused.
  EXPECT_EQ(store->Sign(x->key_id, Msg("m")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->X25519SecretKey(ed->key_id).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyStoreTest, WrongPassphraseFailsCleanly) {
  {
    auto kek = Pass();
    auto store = MustCreate(kek);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE)
            .ok());
  }
  const auto before = Snapshot();
  auto wrong = Pass("correct horse battery stapler");
  auto got = KeyStore::Open(*home_, wrong, &clock_);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(got.status().message(), HasSubstr("KEK check failed"));
  EXPECT_EQ(Snapshot(), before);  // nothing touched
  auto empty = Pass("");
  EXPECT_FALSE(KeyStore::Open(*home_, empty, &clock_).ok());
  auto right = Pass();
  auto store = MustOpen(right);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->List().size(), 1U);
  // Another provider kind is refused before any KEK is derived.
  FixedKekProvider fixed(1);
  EXPECT_EQ(KeyStore::Open(*home_, fixed, &clock_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyStoreTest, ShortPassphraseRefusedForNewStore) {
  auto kek = Pass("short");
  EXPECT_EQ(KeyStore::Create(*home_, kek, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(KeyStoreTest, CreateTwiceAndOpenMissing) {
  FixedKekProvider kek(1);
  EXPECT_EQ(KeyStore::Open(*home_, kek, &clock_).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_NE(MustCreate(kek), nullptr);
  EXPECT_EQ(KeyStore::Create(*home_, kek, &clock_).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(KeyStoreTest, EveryTamperedByteOfARecordIsDetected) {
  FixedKekProvider kek(7);
  std::string file;
  {
    auto store = MustCreate(kek);
    ASSERT_NE(store, nullptr);
    auto k =
        store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
    ASSERT_TRUE(k.ok());
    file = "keys/" + k->key_id + ".key";
  }
  const std::string good = Read(file);
  int unauthenticated = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      Write(file, bad);
      auto got = KeyStore::Open(*home_, kek, &clock_);
      ASSERT_FALSE(got.ok()) << "byte " << i << " flip " << int{flip};
      if (DecodeKeyRecord(bad).ok()) {
        // Structurally fine, so only the AEAD can catch it.
        EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated)
            << "byte " << i << ": " << got.status();
        ++unauthenticated;
      }
    }
  }
  // The id, timestamps, public key and sealed bytes are all such fields.
  EXPECT_GT(unauthenticated, 2 * (16 + 32 + 72));
  Write(file, good);
  EXPECT_NE(MustOpen(kek), nullptr);
}

TEST_F(KeyStoreTest, SwappedCiphertextsAndRenamedRecordsAreDetected) {
  FixedKekProvider kek(7);
  std::string a;
  std::string b;
  {
    auto store = MustCreate(kek);
    ASSERT_NE(store, nullptr);
    auto ka =
        store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
    auto kb = store->Generate("operator", KeyAlgorithm::kEd25519,
                              v1::OPERATOR_SIGNATURE);
    ASSERT_TRUE(ka.ok() && kb.ok());
    a = "keys/" + ka->key_id + ".key";
    b = "keys/" + kb->key_id + ".key";
  }
  const std::string ra = Read(a);
  const std::string rb = Read(b);
  // Swap the sealed secrets (the last 72 bytes of each record).
  const size_t sealed = kSealOverhead + 32;
  Write(a, ra.substr(0, ra.size() - sealed) + rb.substr(rb.size() - sealed));
  Write(b, rb.substr(0, rb.size() - sealed) + ra.substr(ra.size() - sealed));
  auto got = KeyStore::Open(*home_, kek, &clock_);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(got.status().message(), HasSubstr("failed authentication"));
  // Swap whole files.
  Write(a, rb);
  Write(b, ra);
  got = KeyStore::Open(*home_, kek, &clock_);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(got.status().message(), HasSubstr("renamed or swapped"));
  Write(a, ra);
  Write(b, rb);
  EXPECT_NE(MustOpen(kek), nullptr);
}

TEST_F(KeyStoreTest, RecordFromAnotherStoreWithTheSameKekIsRefused) {
  FixedKekProvider kek(7);
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  store.reset();
  // A second store, same KEK, in another home.
  const std::string other_path = home_path_ + "-other";
  ASSERT_EQ(::mkdir(other_path.c_str(), 0700), 0);
  auto other_root = security::path::PathRoot::Open(other_path);
  ASSERT_TRUE(other_root.ok());
  auto other = KeyStore::Create(*other_root, kek, &clock_);
  ASSERT_TRUE(other.ok());
  auto k =
      (*other)->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
  ASSERT_TRUE(k.ok());
  auto bytes = other_root->ReadFile("keys/" + k->key_id + ".key", 4096);
  ASSERT_TRUE(bytes.ok());
  Write("keys/" + k->key_id + ".key", *bytes);
  EXPECT_EQ(KeyStore::Open(*home_, kek, &clock_).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(KeyStoreTest, RotationKeepsOldPublicKeysVerifiable) {
  auto kek = Pass();
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  auto k1 = store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
  ASSERT_TRUE(k1.ok());
  auto s1 = store->SignAsActive("node", Msg("block 1"));
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->key_id, k1->key_id);
  clock_.Advance(absl::Hours(24));
  auto k2 = store->Rotate("node");
  ASSERT_TRUE(k2.ok()) << k2.status();
  EXPECT_EQ(k2->generation, 2U);
  EXPECT_NE(k2->public_key, k1->public_key);
  auto s2 = store->SignAsActive("node", Msg("block 2"));
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->key_id, k2->key_id);

  auto old = store->Get(k1->key_id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->state, KeyState::kRotated);
  EXPECT_EQ(old->rotated_at, clock_.now_);
  const crypto::ByteView sig1(s1->signature.data(), s1->signature.size());
  EXPECT_TRUE(store->Verify(k1->key_id, Msg("block 1"), sig1).ok());
  EXPECT_EQ(store->Verify(k1->key_id, Msg("block 2"), sig1).code(),
            absl::StatusCode::kUnauthenticated);
  auto refused = store->Sign(k1->key_id, Msg("late"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("only the active key"));

  // Survives a reopen.
  store.reset();
  store = MustOpen(kek);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Verify(k1->key_id, Msg("block 1"), sig1).ok());
  auto active = store->ActiveKey("node");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->key_id, k2->key_id);

  // Retirement ends verification; active keys do not retire.
  EXPECT_EQ(store->Retire(k2->key_id).code(),
            absl::StatusCode::kFailedPrecondition);
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(store->Retire(k1->key_id).ok());
  EXPECT_EQ(store->Verify(k1->key_id, Msg("block 1"), sig1).code(),
            absl::StatusCode::kFailedPrecondition);
  auto retired = store->Get(k1->key_id);
  ASSERT_TRUE(retired.ok());
  EXPECT_EQ(retired->retired_at, clock_.now_);
  // A retired record keeps no secret: its sealed field is the bare overhead.
  const std::string bytes = Read("keys/" + k1->key_id + ".key");
  auto rec = DecodeKeyRecord(bytes);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->sealed.size(), kSealOverhead);

  EXPECT_EQ(store->Rotate("nobody").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(KeyStoreTest, RevokedKeyNeverSignsAgain) {
  FixedKekProvider kek(3);
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  const SecretBytes seed = FromHex(kEdSeedHex);
  auto k = store->Import("operator", KeyAlgorithm::kEd25519,
                         v1::OPERATOR_SIGNATURE, seed);
  ASSERT_TRUE(k.ok());
  auto sig = store->Sign(k->key_id, Msg("vote"));
  ASSERT_TRUE(sig.ok());
  const crypto::ByteView sv(sig->data(), sig->size());
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(store->Revoke(k->key_id).ok());

  auto refused = store->Sign(k->key_id, Msg("vote 2"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("revoked"));
  EXPECT_EQ(store->SignAsActive("operator", Msg("x")).status().code(),
            absl::StatusCode::kNotFound);
  // A signature that is mathematically valid is still reported as revoked.
  auto verify = store->Verify(k->key_id, Msg("vote"), sv);
  EXPECT_EQ(verify.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(verify.message(), HasSubstr("revoked"));
  EXPECT_EQ(store->Revoke(k->key_id).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Retire(k->key_id).code(),
            absl::StatusCode::kFailedPrecondition);
  auto info = store->Get(k->key_id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->revoked_at, clock_.now_);

  // Rotation makes a new key; the revoked one stays revoked.
  auto next = store->Rotate("operator");
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->key_id, k->key_id);
  EXPECT_EQ(next->generation, 2U);
  store.reset();
  store = MustOpen(kek);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Sign(k->key_id, Msg("vote 3")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store->Get(k->key_id)->state, KeyState::kRevoked);
  // Its secret is gone from disk.
  auto rec = DecodeKeyRecord(Read("keys/" + k->key_id + ".key"));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->sealed.size(), kSealOverhead);
  // Nor can the revoked key come back by importing its seed again.
  auto again = store->Import("operator-2", KeyAlgorithm::kEd25519,
                             v1::OPERATOR_SIGNATURE, seed);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(KeyStoreTest, BackupWipeRestoreWithThreeOfFiveShares) {
  std::vector<KeyInfo> before;
  std::map<std::string, std::string> signatures;  // key id -> hex sig
  std::string x_id;
  SecretBytes x_secret;
  std::vector<std::string> share_texts;
  {
    auto kek = Pass();
    auto store = MustCreate(kek);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE)
            .ok());
    clock_.Advance(absl::Hours(1));
    ASSERT_TRUE(store->Rotate("node").ok());
    ASSERT_TRUE(store
                    ->Generate("operator", KeyAlgorithm::kEd25519,
                               v1::OPERATOR_SIGNATURE)
                    .ok());
    auto alice = store->Generate("account-alice", KeyAlgorithm::kEd25519,
                                 v1::TX_SIGNATURE);
    ASSERT_TRUE(alice.ok());
    clock_.Advance(absl::Hours(1));
    ASSERT_TRUE(store->Revoke(alice->key_id).ok());
    auto x = store->Generate("enclave", KeyAlgorithm::kX25519, v1::ENVELOPE);
    ASSERT_TRUE(x.ok());
    x_id = x->key_id;
    auto xs = store->X25519SecretKey(x_id);
    ASSERT_TRUE(xs.ok());
    x_secret = *std::move(xs);
    before = store->List();
    ASSERT_EQ(before.size(), 5U);
    for (const KeyInfo& k : before) {
      if (k.algorithm == KeyAlgorithm::kEd25519 &&
          k.state == KeyState::kActive) {
        auto sig = store->Sign(k.key_id, Msg("same message"));
        ASSERT_TRUE(sig.ok());
        signatures[k.key_id] = Hex(crypto::ByteView(sig->data(), sig->size()));
      }
    }
    ASSERT_EQ(signatures.size(), 2U);

    auto backup = store->ExportBackup();
    ASSERT_TRUE(backup.ok()) << backup.status();
    EXPECT_EQ(backup->key_count, 5U);
    EXPECT_EQ(backup->backup_key.size(), 32U);
    Write("node-backup.vekb", backup->file);
    // The backup holds no secret in the clear either.
    EXPECT_EQ(backup->file.find(std::string(crypto::AsChars(x_secret.view()))),
              std::string::npos);
    auto shares = SplitSecret(backup->backup_key, 3, 5);
    ASSERT_TRUE(shares.ok());
    for (const ShamirShare& s : *shares) {
      auto t = EncodeShare(s);
      ASSERT_TRUE(t.ok());
      share_texts.emplace_back(crypto::AsChars(t->view()));
    }
    // Every 3-subset recovers the same backup key.
    for (int a = 0; a < 5; ++a) {
      for (int b = a + 1; b < 5; ++b) {
        for (int c = b + 1; c < 5; ++c) {
          std::vector<ShamirShare> pick;
          for (int i : {a, b, c}) pick.push_back(*DecodeShare(share_texts[i]));
          auto key = CombineShares(pick);
          ASSERT_TRUE(key.ok());
          EXPECT_TRUE(key->Equals(backup->backup_key));
        }
      }
    }
  }

  // Wipe the key store completely.
  auto names = home_->List("keys");
  ASSERT_TRUE(names.ok());
  for (const std::string& n : *names) {
    ASSERT_TRUE(home_->Remove("keys/" + n).ok());
  }
  ASSERT_TRUE(home_->Remove("keys").ok());
  auto none = Pass();
  EXPECT_EQ(KeyStore::Open(*home_, none, &clock_).status().code(),
            absl::StatusCode::kNotFound);

  // Recovery: a new store (new passphrase), the backup file, shares 1, 3, 5.
  clock_.Advance(absl::Hours(100));
  auto kek2 = Pass("a brand new passphrase for the new machine");
  auto store = MustCreate(kek2);
  ASSERT_NE(store, nullptr);
  std::vector<ShamirShare> typed;
  for (int i : {0, 2, 4}) {
    const SecretBytes normal = NormalizeShareText(share_texts[i]);
    auto s = DecodeShare(crypto::AsChars(normal.view()));
    ASSERT_TRUE(s.ok()) << s.status();
    typed.push_back(*std::move(s));
  }
  auto backup_key = CombineShares(typed);
  ASSERT_TRUE(backup_key.ok());
  auto restored = store->RestoreBackup(Read("node-backup.vekb"), *backup_key);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, 5U);

  auto check = [&](const KeyStore& s) {
    EXPECT_EQ(s.List(), before);
    for (const auto& [id, hex] : signatures) {
      auto sig = s.Sign(id, Msg("same message"));
      ASSERT_TRUE(sig.ok()) << sig.status();
      // Ed25519 is deterministic: the same seed gives the same signature.
      EXPECT_EQ(Hex(crypto::ByteView(sig->data(), sig->size())), hex);
    }
    auto xs = s.X25519SecretKey(x_id);
    ASSERT_TRUE(xs.ok());
    EXPECT_TRUE(xs->Equals(x_secret));
  };
  check(*store);
  store.reset();
  store = MustOpen(kek2);
  ASSERT_NE(store, nullptr);
  check(*store);
  for (const std::string& f : KeyFiles()) EXPECT_EQ(Mode("keys/" + f), 0600U);
}

TEST_F(KeyStoreTest, RestoreRefusesWrongKeyAndAlteredFile) {
  FixedKekProvider kek(5);
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE).ok());
  auto backup = store->ExportBackup();
  ASSERT_TRUE(backup.ok());
  const SecretBytes wrong = crypto::RandomSecret(32);
  EXPECT_EQ(store->RestoreBackup(backup->file, wrong).status().code(),
            absl::StatusCode::kUnauthenticated);
  for (size_t i : {size_t{5}, size_t{22}, backup->file.size() - 1}) {
    std::string bad = backup->file;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    EXPECT_EQ(store->RestoreBackup(bad, backup->backup_key).status().code(),
              absl::StatusCode::kUnauthenticated)
        << i;
  }
  EXPECT_EQ(store->RestoreBackup(backup->file.substr(1), backup->backup_key)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->RestoreBackup(backup->file, SecretBytes(16)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Restoring into the store it came from changes nothing.
  auto same = store->RestoreBackup(backup->file, backup->backup_key);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, 0U);
}

TEST_F(KeyStoreTest, RestoreNeverResurrectsARevokedKey) {
  FixedKekProvider kek(5);
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  auto k = store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
  ASSERT_TRUE(k.ok());
  auto backup = store->ExportBackup();  // taken while the key was active
  ASSERT_TRUE(backup.ok());
  ASSERT_TRUE(store->Revoke(k->key_id).ok());
  auto n = store->RestoreBackup(backup->file, backup->backup_key);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0U);
  EXPECT_EQ(store->Get(k->key_id)->state, KeyState::kRevoked);
  EXPECT_EQ(store->Sign(k->key_id, Msg("m")).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(KeyStoreTest, RestoreRefusesAConflictingBackupAndWritesNothing) {
  FixedKekProvider kek(5);
  // A backup from some other store with its own "node" key.
  const std::string other_path = home_path_ + "-other";
  ASSERT_EQ(::mkdir(other_path.c_str(), 0700), 0);
  auto other_root = security::path::PathRoot::Open(other_path);
  ASSERT_TRUE(other_root.ok());
  auto other = KeyStore::Create(*other_root, kek, &clock_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)
                  ->Generate("extra", KeyAlgorithm::kEd25519, v1::TX_SIGNATURE)
                  .ok());
  ASSERT_TRUE((*other)
                  ->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE)
                  .ok());
  auto backup = (*other)->ExportBackup();
  ASSERT_TRUE(backup.ok());

  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE).ok());
  const auto before = Snapshot();
  auto got = store->RestoreBackup(backup->file, backup->backup_key);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(got.status().message(), HasSubstr("generation 1"));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(store->List().size(), 1U);
}

TEST_F(KeyStoreTest, LeftoverTempFileIsIgnored) {
  FixedKekProvider kek(9);
  {
    auto store = MustCreate(kek);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE)
            .ok());
  }
  // What an interrupted WriteFileAtomic leaves: a half-written temp file.
  Write("keys/.ve-tmp-0123456789abcdef0123456789abcdef", "VEKR\x01garbage");
  auto store = MustOpen(kek);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->List().size(), 1U);
  // A stray non-record file is ignored as well; a malformed *.key name is not.
  Write("keys/README", "operator notes");
  EXPECT_NE(MustOpen(kek), nullptr);
  Write("keys/NODE.key", "x");
  EXPECT_EQ(KeyStore::Open(*home_, kek, &clock_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyStoreTest, InterruptedRotationIsRepairedOnOpen) {
  FixedKekProvider kek(9);
  std::string k1_id;
  std::string k1_bytes;
  std::string k2_id;
  absl::Time k2_created;
  {
    auto store = MustCreate(kek);
    ASSERT_NE(store, nullptr);
    auto k1 =
        store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
    ASSERT_TRUE(k1.ok());
    k1_id = k1->key_id;
    k1_bytes = Read("keys/" + k1_id + ".key");
    clock_.Advance(absl::Hours(2));
    auto k2 = store->Rotate("node");
    ASSERT_TRUE(k2.ok());
    k2_id = k2->key_id;
    k2_created = k2->created_at;
  }
  // The state a crash between the two writes of Rotate leaves: the new key
  // is on disk, the old record still says active.
  Write("keys/" + k1_id + ".key", k1_bytes);
  clock_.Advance(absl::Hours(5));
  auto store = MustOpen(kek);
  ASSERT_NE(store, nullptr);
  auto active = store->ActiveKey("node");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->key_id, k2_id);
  auto old = store->Get(k1_id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->state, KeyState::kRotated);
  EXPECT_EQ(old->rotated_at, k2_created);
  // The repair was written back.
  auto rec = DecodeKeyRecord(Read("keys/" + k1_id + ".key"));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->header.state, KeyState::kRotated);
}

TEST_F(KeyStoreTest, GroupOrWorldReadableRecordIsRefused) {
  FixedKekProvider kek(9);
  std::string file;
  {
    auto store = MustCreate(kek);
    ASSERT_NE(store, nullptr);
    auto k =
        store->Generate("node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE);
    ASSERT_TRUE(k.ok());
    file = home_path_ + "/keys/" + k->key_id + ".key";
  }
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  auto got = KeyStore::Open(*home_, kek, &clock_);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(got.status().message(), HasSubstr("0644"));
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_NE(MustOpen(kek), nullptr);
}

TEST_F(KeyStoreTest, RefusesBadNamesPurposesAndDuplicates) {
  FixedKekProvider kek(9);
  auto store = MustCreate(kek);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Generate("Node", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Generate("../x", KeyAlgorithm::kEd25519, v1::NODE_SIGNATURE)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Generate("enc", KeyAlgorithm::kX25519, v1::TX_SIGNATURE)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store->Generate("k", KeyAlgorithm::kEd25519, v1::MERKLE).status().code(),
      absl::StatusCode::kInvalidArgument);
  const SecretBytes seed = FromHex(kEdSeedHex);
  ASSERT_TRUE(
      store->Import("a", KeyAlgorithm::kEd25519, v1::TX_SIGNATURE, seed).ok());
  EXPECT_EQ(store->Import("b", KeyAlgorithm::kEd25519, v1::TX_SIGNATURE, seed)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store
                ->Import("c", KeyAlgorithm::kEd25519, v1::TX_SIGNATURE,
                         crypto::RandomSecret(31))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get("zz").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get(std::string(32, '0')).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Revoke(std::string(32, '0')).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace virtengine::keys
