// End-to-end tests of the evidence bundle on real files: a node home in
// TEST_TMPDIR with a real audit log (security/audit), a real key store and
// backup (security/keys), the shipped policy/ and compliance/data/ files
// and this machine's dpkg database. Exports bundles, verifies them, tampers
// with them and checks that each tampering fails with a precise reason.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "compliance/bundle/bundle.h"
#include "compliance/checks/checks.h"
#include "compliance/export.h"
#include "compliance/json/json.h"
#include "gtest/gtest.h"
#include "security/audit/audit_log.h"
#include "security/audit/verifier.h"
#include "security/crypto/ed25519.h"
#include "security/keys/kek.h"
#include "security/keys/key_store.h"
#include "security/path/path.h"
#include "src/common/encoding/hex.h"

namespace virtengine::compliance {
namespace {

using security::path::PathRoot;
using ::virtengine::security::crypto::v1::NODE_SIGNATURE;

const absl::Time kNow = absl::FromUnixSeconds(1796300000);  // 2026-12-03

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl =
      absl::StrCat(t != nullptr ? t : "/tmp", "/", name, ".XXXXXX");
  const char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  return made;
}

// The source directory of a runfile (runfiles are symlinks, which
// security/path refuses to follow beneath a root).
std::string SourceDirOf(const std::string& runfile, int up) {
  const char* srcdir = std::getenv("TEST_SRCDIR");  // NOLINT
  const std::string p =
      absl::StrCat(srcdir != nullptr ? srcdir : ".", "/virtengine/", runfile);
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) std::abort();
  std::string dir = buf;
  for (int i = 0; i < up + 1; ++i) dir = dir.substr(0, dir.rfind('/'));
  return dir;
}

std::string ReadRaw(const std::string& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void WriteRaw(const std::string& p, const std::string& data) {
  const int fd =
      ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  ASSERT_EQ(::close(fd), 0);
}

class FakeWallClock final : public keys::WallClock {
 public:
  explicit FakeWallClock(absl::Time t) : t_(t) {}
  absl::Time Now() override { return t_; }

 private:
  absl::Time t_;
};

// A quote that is only "fake-quote:<hex nonce>": enough to exercise the
// slot, the signed digest and the nonce check (the real one is a TPM quote).
class FakeQuoteProvider final : public bundle::QuoteProvider {
 public:
  explicit FakeQuoteProvider(std::string fixed = "")
      : fixed_(std::move(fixed)) {}
  std::string format() const override { return "test-fake-quote-v1"; }
  absl::StatusOr<std::string> Quote(const bundle::Digest& nonce) override {
    if (!fixed_.empty()) return fixed_;  // a replayed (stale) quote
    return absl::StrCat("fake-quote:",
                        encoding::HexEncode(absl::Span<const uint8_t>(
                            nonce.data(), nonce.size())));
  }

 private:
  std::string fixed_;
};

class FakeQuoteVerifier final : public bundle::QuoteVerifier {
 public:
  absl::StatusOr<std::string> Verify(
      std::string_view quote, const bundle::Digest& nonce) const override {
    const std::string want = absl::StrCat(
        "fake-quote:", encoding::HexEncode(absl::Span<const uint8_t>(
                           nonce.data(), nonce.size())));
    if (quote != want) {
      return absl::FailedPreconditionError(
          "stale quote: its nonce is not this bundle's digest");
    }
    return std::string("fake quote matches");
  }
};

class FakeAnchor final : public bundle::LedgerAnchor {
 public:
  absl::StatusOr<bundle::LedgerRecord> Anchor(
      const bundle::Digest& d) override {
    const std::string hex =
        encoding::HexEncode(absl::Span<const uint8_t>(d.data(), d.size()));
    return bundle::LedgerRecord{
        absl::StrCat("{\"bundle_digest\":\"", hex, "\"}\n"),
        absl::StrCat("tx:", hex)};
  }
};

class FakeReceiptVerifier final : public bundle::ReceiptVerifier {
 public:
  absl::StatusOr<std::string> Verify(std::string_view receipt,
                                     std::string_view tx,
                                     const bundle::Digest& d) const override {
    const std::string hex =
        encoding::HexEncode(absl::Span<const uint8_t>(d.data(), d.size()));
    if (!absl::StrContains(absl::string_view(receipt.data(), receipt.size()),
                           hex) ||
        tx != absl::StrCat("tx:", hex)) {
      return absl::FailedPreconditionError("receipt is for another digest");
    }
    return std::string("fake receipt matches");
  }
};

class EvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = SourceDirOf("compliance/data/catalog-soc2.json", 0);
    policy_dir_ = SourceDirOf("policy/crypto/crypto_policy.textproto", 1);
    home_ = TmpDir("home");
    absl::StatusOr<PathRoot> home = PathRoot::Open(home_);
    ASSERT_TRUE(home.ok()) << home.status();
    // Audit log with a restore drill and an erasure.
    security::audit::AuditLogOptions opts;
    opts.clock = [] { return kNow - absl::Hours(48); };
    auto log = security::audit::AuditLog::Open(*home, opts);
    ASSERT_TRUE(log.ok()) << log.status();
    security::audit::Entry e;
    e.actor = "operator:alice";
    e.action = "key.rotate";
    e.object = "keys/node";
    ASSERT_TRUE((*log)->Append(e).ok());
    e.action = checks::kRestoreDrillAction;
    e.object = "backups";
    ASSERT_TRUE((*log)->Append(e).ok());
    e.action = checks::kErasureAction;
    e.object = "veid:subject-1";
    ASSERT_TRUE((*log)->Append(e).ok());
    log->reset();
    // Key store (created 10 days ago) and a backup (1 hour ago).
    FakeWallClock created(kNow - absl::Hours(240));
    keys::PassphraseKekProvider kek(crypto::SecretBytes::CopyFrom(
        std::string_view("correct horse battery")));
    auto store = keys::KeyStore::Create(*home, kek, &created);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(
        (*store)
            ->Generate("node", keys::KeyAlgorithm::kEd25519, NODE_SIGNATURE)
            .ok());
    store->reset();
    FakeWallClock later(kNow - absl::Hours(1));
    auto reopened = keys::KeyStore::Open(*home, kek, &later);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    auto backup = (*reopened)->ExportBackup();
    ASSERT_TRUE(backup.ok()) << backup.status();
    ASSERT_TRUE(home->MakeDirs("backups").ok());
    ASSERT_TRUE(
        home->WriteFileAtomic("backups/keys-1.vebackup", backup->file).ok());

    auto key = crypto::Ed25519PrivateKey::FromSeed(
        NODE_SIGNATURE, crypto::SecretBytes::CopyFrom(std::string_view(
                            "0123456789abcdef0123456789abcdef")));
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<crypto::Ed25519PrivateKey>(*std::move(key));
  }

  ExportOptions Options() const {
    ExportOptions o;
    o.data_dir = data_dir_;
    o.checks.policy_dir = policy_dir_;
    o.checks.home_dir = home_;
    o.checks.daemons = {
        checks::Daemon{"ve-node", {static_cast<int>(::getpid())}}};
    o.system_name = "test-node";
    o.clock = [] { return kNow; };
    o.openscap_skip_reason = "not requested by the test";
    return o;
  }

  std::string Export(const ExportOptions& o) {
    std::string out = absl::StrCat(TmpDir("out"), "/bundle");
    absl::StatusOr<ExportResult> r = ExportBundle(o, *key_, out);
    EXPECT_TRUE(r.ok()) << r.status();
    return out;
  }

  static json::Value Results(const std::string& bundle) {
    absl::StatusOr<json::Value> doc =
        json::Parse(ReadRaw(bundle + "/assessment-results.json"));
    EXPECT_TRUE(doc.ok()) << doc.status();
    return doc.ok() ? *doc : json::Value();
  }

  // "satisfied"/"not-satisfied" of observation `check` and its remarks.
  static std::pair<bool, std::string> Obs(const json::Value& ar,
                                          const std::string& check) {
    const json::Value& result =
        ar.Find("assessment-results")->Find("results")->items()[0];
    for (const json::Value& o : result.Find("observations")->items()) {
      const std::vector<json::Value>& props = o.Find("props")->items();
      if (*props[0].FindString("value") == check) {
        return {*props[1].FindString("value") == "pass",
                *o.FindString("remarks")};
      }
    }
    ADD_FAILURE() << "no observation " << check;
    return {false, ""};
  }

  static std::string FindingState(const json::Value& ar,
                                  const std::string& id) {
    const json::Value& result =
        ar.Find("assessment-results")->Find("results")->items()[0];
    for (const json::Value& f : result.Find("findings")->items()) {
      const json::Value* t = f.Find("target");
      if (*t->FindString("target-id") == id) {
        return *t->Find("status")->FindString("state");
      }
    }
    return "absent";
  }

  std::string data_dir_;
  std::string policy_dir_;
  std::string home_;
  std::unique_ptr<crypto::Ed25519PrivateKey> key_;
};

TEST_F(EvidenceTest, ExportVerifiesAndIsDeterministic) {
  const std::string a = Export(Options());
  const std::string b = Export(Options());
  // Same inputs and clock: byte-identical documents and manifest.
  EXPECT_EQ(ReadRaw(a + "/manifest.sha256"), ReadRaw(b + "/manifest.sha256"));
  EXPECT_EQ(ReadRaw(a + "/assessment-results.json"),
            ReadRaw(b + "/assessment-results.json"));
  EXPECT_EQ(ReadRaw(a + "/statement.dsse.json"),
            ReadRaw(b + "/statement.dsse.json"));

  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a, key_->public_key());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->files, 15U);
  // No quote and no receipt: said explicitly, never a silent pass.
  EXPECT_EQ(r->quote, bundle::PartState::kAbsent);
  EXPECT_EQ(r->receipt, bundle::PartState::kAbsent);
  EXPECT_TRUE(absl::StrContains(r->quote_note, "no QuoteProvider"));
  bool quote_line = false;
  for (const std::string& l : r->lines) {
    quote_line = quote_line || absl::StartsWith(l, "tpm quote: ABSENT");
  }
  EXPECT_TRUE(quote_line);
  bundle::VerifyOptions strict;
  strict.require_quote = true;
  absl::StatusOr<bundle::VerifyReport> s =
      bundle::VerifyBundle(a, key_->public_key(), strict);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);

  const json::Value ar = Results(a);
  EXPECT_TRUE(Obs(ar, "audit.chain").first) << Obs(ar, "audit.chain").second;
  EXPECT_TRUE(Obs(ar, "backup.recent").first)
      << Obs(ar, "backup.recent").second;
  EXPECT_TRUE(Obs(ar, "backup.restore_drill").first);
  EXPECT_TRUE(Obs(ar, "keys.rotation").first)
      << Obs(ar, "keys.rotation").second;
  EXPECT_TRUE(Obs(ar, "crypto.policy").first)
      << Obs(ar, "crypto.policy").second;
  EXPECT_TRUE(Obs(ar, "exec.allowlists").first);
  EXPECT_TRUE(Obs(ar, "retention.rules").first)
      << Obs(ar, "retention.rules").second;
  EXPECT_TRUE(
      absl::StrContains(Obs(ar, "retention.rules").second, "1 erasure event"));
  // What cannot be evaluated is not-satisfied, with the reason.
  EXPECT_FALSE(Obs(ar, "mfa.enforced").first);
  EXPECT_TRUE(
      absl::StrContains(Obs(ar, "mfa.enforced").second, "cannot be evaluated"));
  EXPECT_FALSE(Obs(ar, "tls.settings").first);
  EXPECT_FALSE(Obs(ar, "audit.anchor").first);
  EXPECT_FALSE(Obs(ar, "openscap.scan").first);
  // This test process runs without a seccomp filter.
  EXPECT_FALSE(Obs(ar, "seccomp.daemons").first);
  EXPECT_TRUE(
      absl::StrContains(Obs(ar, "seccomp.daemons").second, "Seccomp mode 0"));
  // Findings: A1.3 rests on the restore drill alone; CC6.1 includes MFA;
  // CC1.1 needs people.
  EXPECT_EQ(FindingState(ar, "a1.3"), "satisfied");
  EXPECT_EQ(FindingState(ar, "cc6.1"), "not-satisfied");
  EXPECT_EQ(FindingState(ar, "cc1.1"), "not-satisfied");
  EXPECT_EQ(FindingState(ar, "gdpr-art30"), "not-satisfied");
}

TEST_F(EvidenceTest, TamperedFileFailsWithItsName) {
  const std::string a = Export(Options());
  std::string keys = ReadRaw(a + "/evidence/keys.json");
  keys[keys.size() / 2] ^= 1;
  WriteRaw(a + "/evidence/keys.json", keys);
  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a, key_->public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StartsWith(r.status().message(),
                               "hash mismatch: evidence/keys.json"))
      << r.status();
}

TEST_F(EvidenceTest, TamperedManifestOrStatementFails) {
  const std::string a = Export(Options());
  const std::string manifest = ReadRaw(a + "/manifest.sha256");
  WriteRaw(a + "/manifest.sha256", manifest + manifest.substr(0, 66) + "x\n");
  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a, key_->public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "manifest.sha256"));
  WriteRaw(a + "/manifest.sha256", manifest);
  std::string stmt = ReadRaw(a + "/statement.intoto.json");
  stmt.insert(stmt.size() - 2, " ");
  WriteRaw(a + "/statement.intoto.json", stmt);
  r = bundle::VerifyBundle(a, key_->public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
}

TEST_F(EvidenceTest, ExtraOrMissingFileFails) {
  const std::string a = Export(Options());
  WriteRaw(a + "/evidence/planted.txt", "x");
  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a, key_->public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "unlisted file: evidence/planted.txt");
  ASSERT_EQ(::unlink((a + "/evidence/planted.txt").c_str()), 0);
  ASSERT_EQ(::unlink((a + "/sbom.cdx.json").c_str()), 0);
  r = bundle::VerifyBundle(a, key_->public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "missing file: sbom.cdx.json");
}

TEST_F(EvidenceTest, WrongKeyOrSignatureFails) {
  const std::string a = Export(Options());
  auto other = crypto::Ed25519PrivateKey::Generate(NODE_SIGNATURE);
  ASSERT_TRUE(other.ok());
  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a, other->public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "signature: "))
      << r.status();
  // A flipped bit in the envelope's signature.
  std::string env = ReadRaw(a + "/statement.dsse.json");
  const size_t at = env.find("\"sig\": \"") + 9;
  env[at] = env[at] == 'A' ? 'B' : 'A';
  WriteRaw(a + "/statement.dsse.json", env);
  r = bundle::VerifyBundle(a, key_->public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated)
      << r.status();
}

TEST_F(EvidenceTest, BrokenAuditChainIsNotSatisfiedAndDiffSaysWorse) {
  const std::string good = Export(Options());
  const std::string seg = home_ + "/audit/audit-000001.log";
  std::string log = ReadRaw(seg);
  const size_t at = log.find("operator:alice");
  ASSERT_NE(at, std::string::npos);
  log[at] = 'O';
  WriteRaw(seg, log);
  const std::string bad = Export(Options());
  ASSERT_TRUE(bundle::VerifyBundle(bad, key_->public_key()).ok());
  const json::Value ar = Results(bad);
  EXPECT_FALSE(Obs(ar, "audit.chain").first);
  EXPECT_TRUE(absl::StrContains(Obs(ar, "audit.chain").second,
                                "chain broken: hash_mismatch"))
      << Obs(ar, "audit.chain").second;
  absl::StatusOr<bundle::DiffReport> d = bundle::DiffBundles(good, bad);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->any_worse);
  bool cc41 = false;
  for (const auto& c : d->changes) {
    if (c.control_id == "cc4.1") {
      cc41 = true;
      EXPECT_EQ(c.old_state, "satisfied");
      EXPECT_EQ(c.new_state, "not-satisfied");
      EXPECT_TRUE(c.worse);
    }
  }
  EXPECT_TRUE(cc41);
  // The other way round is an improvement, not worse.
  d = bundle::DiffBundles(bad, good);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->any_worse);
  EXPECT_FALSE(d->changes.empty());
  d = bundle::DiffBundles(good, good);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->changes.empty());
}

TEST_F(EvidenceTest, QuoteAndReceiptSlots) {
  FakeQuoteProvider quote;
  FakeAnchor anchor;
  ExportOptions o = Options();
  o.quote_provider = &quote;
  o.ledger_anchor = &anchor;
  const std::string a = Export(o);
  FakeQuoteVerifier qv;
  FakeReceiptVerifier rv;
  bundle::VerifyOptions vo;
  vo.quote_verifier = &qv;
  vo.receipt_verifier = &rv;
  vo.require_quote = true;
  vo.require_receipt = true;
  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a, key_->public_key(), vo);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->quote, bundle::PartState::kVerified);
  EXPECT_EQ(r->receipt, bundle::PartState::kVerified);
  // Without verifiers: present, reported as not verified.
  r = bundle::VerifyBundle(a, key_->public_key());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->quote, bundle::PartState::kPresentUnverified);
  // A swapped quote file no longer matches the signed statement.
  WriteRaw(a + "/attestation/quote.bin", "fake-quote:00");
  r = bundle::VerifyBundle(a, key_->public_key(), vo);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();

  // A stale quote (made for an earlier bundle), even when signed into the
  // statement, fails the nonce check.
  FakeQuoteProvider stale(ReadRaw(Export(o) + "/attestation/quote.bin"));
  ExportOptions later = Options();
  later.clock = [] { return kNow + absl::Hours(1); };
  later.quote_provider = &stale;
  const std::string b = Export(later);
  r = bundle::VerifyBundle(b, key_->public_key(), vo);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "quote: stale quote"))
      << r.status();
}

TEST_F(EvidenceTest, ReceiptNeedsItsTransactionAndAbsentReasonsAreSigned) {
  FakeAnchor anchor;
  ExportOptions o = Options();
  o.ledger_anchor = &anchor;
  const std::string a = Export(o);
  FakeReceiptVerifier rv;
  bundle::VerifyOptions vo;
  vo.receipt_verifier = &rv;
  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a, key_->public_key(), vo);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->receipt, bundle::PartState::kVerified);
  EXPECT_EQ(r->receipt_note, "fake receipt matches");
  // The transaction the receipt proves, changed.
  WriteRaw(a + "/ledger/tx.bin", "tx:00");
  r = bundle::VerifyBundle(a, key_->public_key(), vo);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "receipt: "))
      << r.status();
  // A receipt without its transaction, and a transaction without receipt.
  ASSERT_EQ(::unlink((a + "/ledger/tx.bin").c_str()), 0);
  r = bundle::VerifyBundle(a, key_->public_key(), vo);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      absl::StartsWith(r.status().message(), "missing file: ledger/tx.bin"))
      << r.status();
  WriteRaw(a + "/ledger/tx.bin", "tx");
  ASSERT_EQ(::unlink((a + "/ledger/receipt.json").c_str()), 0);
  r = bundle::VerifyBundle(a, key_->public_key(), vo);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      absl::StartsWith(r.status().message(), "unlisted file: ledger/tx.bin"))
      << r.status();

  // Absent parts: the reasons given are signed into the statement and
  // reported by verify.
  ExportOptions none = Options();
  none.quote_absent_reason = "no TPM quote: the node runs without a TPM";
  none.receipt_absent_reason = "no ledger receipt: no --from key";
  const std::string b = Export(none);
  r = bundle::VerifyBundle(b, key_->public_key());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->quote_note, "no TPM quote: the node runs without a TPM");
  EXPECT_EQ(r->receipt_note, "no ledger receipt: no --from key");
  EXPECT_TRUE(absl::StrContains(ReadRaw(b + "/statement.intoto.json"),
                                "\"ledger_receipt_absent_reason\": \"no "
                                "ledger receipt: no --from key\""));
  bundle::VerifyOptions strict;
  strict.require_receipt = true;
  r = bundle::VerifyBundle(b, key_->public_key(), strict);
  EXPECT_EQ(r.status().message(),
            "receipt: required but absent: no ledger receipt: no --from key");
}

// A remote signer (the node) is checked: a signature by another key, or a
// statement that is not this bundle's, never makes a bundle.
class OtherKeySigner final : public bundle::StatementSigner {
 public:
  OtherKeySigner(const crypto::Ed25519PublicKey& claimed,
                 const crypto::Ed25519PrivateKey& actual)
      : claimed_(claimed), actual_(actual) {}
  const crypto::Ed25519PublicKey& public_key() const override {
    return claimed_;
  }
  absl::StatusOr<crypto::Ed25519Signature> Sign(
      std::string_view statement, const bundle::Digest& digest) override {
    if (absl::Status s = bundle::CheckStatementForSigning(statement, digest);
        !s.ok()) {
      return s;
    }
    return actual_.Sign(
        crypto::AsBytes(bundle::Pae(bundle::kPayloadType, statement)));
  }

 private:
  const crypto::Ed25519PublicKey& claimed_;
  const crypto::Ed25519PrivateKey& actual_;
};

TEST_F(EvidenceTest, RemoteSignerIsChecked) {
  auto other = crypto::Ed25519PrivateKey::Generate(NODE_SIGNATURE);
  ASSERT_TRUE(other.ok());
  OtherKeySigner liar(key_->public_key(), *other);
  const std::string out = absl::StrCat(TmpDir("out"), "/bundle");
  absl::StatusOr<ExportResult> r = ExportBundle(Options(), liar, out);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "the statement signature does not verify"))
      << r.status();
  OtherKeySigner honest(other->public_key(), *other);
  const std::string out2 = absl::StrCat(TmpDir("out"), "/bundle");
  r = ExportBundle(Options(), honest, out2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(bundle::VerifyBundle(out2, other->public_key()).ok());
}

TEST(StatementCheckTest, OnlyThisBundlesStatementIsSigned) {
  bundle::Digest d{};
  d.fill(0xab);
  const std::string hex(64, 'a');  // not d's hex
  std::string good_hex;
  for (int i = 0; i < 32; ++i) good_hex += "ab";
  const auto stmt = [](const std::string& digest_hex, const std::string& type) {
    return absl::StrCat(
        "{\"_type\": \"", type, "\", \"subject\": [{\"name\": \"a.json\", ",
        "\"digest\": {\"sha256\": \"", std::string(64, '0'), "\"}}], ",
        "\"predicateType\": \"", bundle::kPredicateType, "\", ",
        "\"predicate\": {\"manifest_sha256\": \"", digest_hex, "\", ",
        "\"attestation\": {\"bundle_digest\": \"", digest_hex, "\"}}}");
  };
  EXPECT_TRUE(bundle::CheckStatementForSigning(
                  stmt(good_hex, bundle::kStatementType), d)
                  .ok());
  absl::Status s =
      bundle::CheckStatementForSigning(stmt(hex, bundle::kStatementType), d);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "must both be the bundle digest"));
  s = bundle::CheckStatementForSigning(stmt(good_hex, "other"), d);
  EXPECT_TRUE(absl::StrContains(s.message(), "_type")) << s;
  EXPECT_FALSE(bundle::CheckStatementForSigning("not json", d).ok());
  EXPECT_FALSE(bundle::CheckStatementForSigning("", d).ok());
  // A block header message (domain-tagged bytes) is not a statement.
  EXPECT_FALSE(bundle::CheckStatementForSigning(
                   std::string("virtengine/block\0x", 18), d)
                   .ok());
  EXPECT_FALSE(bundle::CheckStatementForSigning(
                   std::string(bundle::kMaxStatementBytes + 1, ' '), d)
                   .ok());
}

TEST(CheckTlsTest, PlaintextListenersAreNotSatisfied) {
  checks::Context ctx;
  ctx.now = kNow;
  checks::CheckOutput none = checks::CheckTls(ctx);
  EXPECT_FALSE(none.observation.satisfied);
  EXPECT_TRUE(absl::StartsWith(none.observation.reason, "cannot be evaluated"));
  ctx.listeners = std::vector<checks::Listener>{
      {"api", "127.0.0.1:9090", "plaintext", "no TLS"},
      {"admin", "/run/ve/admin.sock", "unix-socket", ""}};
  checks::CheckOutput plain = checks::CheckTls(ctx);
  EXPECT_FALSE(plain.observation.satisfied);
  EXPECT_EQ(plain.observation.reason,
            "not mutual TLS 1.3: api 127.0.0.1:9090: plaintext (no TLS)");
  ASSERT_EQ(plain.files.size(), 1U);
  EXPECT_EQ(plain.files[0].path, "evidence/tls.json");
  (*ctx.listeners)[0].transport = "tls1.3-mutual";
  EXPECT_TRUE(checks::CheckTls(ctx).observation.satisfied);
}

TEST_F(EvidenceTest, AuditAnchorAndNodeFacts) {
  // The head of the test log (3 records).
  absl::StatusOr<PathRoot> home = PathRoot::Open(home_);
  ASSERT_TRUE(home.ok());
  absl::StatusOr<PathRoot> dir = home->Sub("audit");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<security::audit::VerifyResult> v =
      security::audit::VerifyLogDir(*dir);
  ASSERT_TRUE(v.ok() && v->ok());
  checks::Context ctx;
  ctx.now = kNow;
  ctx.home_dir = home_;
  ctx.audit_anchor_unavailable = "no --from key was given";
  checks::CheckOutput none = checks::CheckAuditAnchor(ctx);
  EXPECT_EQ(none.observation.reason,
            "cannot be evaluated: no --from key was given");
  security::audit::Anchor anchor;
  anchor.seq = v->head_seq;
  anchor.hash = v->head_hash;
  ctx.audit_anchor = anchor;
  ctx.audit_anchor_note = "tx 00 at height 2";
  ctx.audit_anchor_files = {{"evidence/audit-anchor/receipt.json", "{}"}};
  checks::CheckOutput ok = checks::CheckAuditAnchor(ctx);
  EXPECT_TRUE(ok.observation.satisfied) << ok.observation.reason;
  EXPECT_TRUE(absl::StrContains(ok.observation.reason, "tx 00 at height 2"));
  ASSERT_EQ(ok.files.size(), 1U);
  ctx.audit_anchor->hash[0] ^= 1;
  EXPECT_FALSE(checks::CheckAuditAnchor(ctx).observation.satisfied);

  // The node's crypto policy and self-reported seccomp mode count too.
  ExportOptions o = Options();
  o.checks.node_crypto_policy_sha256 = std::string(64, '0');
  o.checks.reported_seccomp_mode["ve-node"] = 0;
  const json::Value ar = Results(Export(o));
  EXPECT_FALSE(Obs(ar, "crypto.policy").first);
  EXPECT_TRUE(absl::StrContains(Obs(ar, "crypto.policy").second,
                                "the node enforces crypto policy sha256 000"))
      << Obs(ar, "crypto.policy").second;
  EXPECT_TRUE(absl::StrContains(Obs(ar, "seccomp.daemons").second,
                                "ve-node: reports Seccomp mode 0"))
      << Obs(ar, "seccomp.daemons").second;
}

TEST(CheckSeccompTest, ModeTwoAndMatchingHashIsSatisfied) {
  const std::string proc = TmpDir("proc");
  ASSERT_EQ(::mkdir((proc + "/4242").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((proc + "/77").c_str(), 0755), 0);
  WriteRaw(proc + "/4242/comm", "ve-node\n");
  WriteRaw(proc + "/4242/status",
           "Name:\tve-node\nSeccomp:\t2\nSeccomp_filters:\t1\n");
  WriteRaw(proc + "/77/comm", "bash\n");
  WriteRaw(proc + "/77/status", "Name:\tbash\nSeccomp:\t0\n");
  checks::Context ctx;
  ctx.now = kNow;
  ctx.policy_dir = SourceDirOf("policy/crypto/crypto_policy.textproto", 1);
  ctx.proc_dir = proc;
  ctx.daemons = {checks::Daemon{"ve-node", {}}};
  checks::CheckOutput first = checks::CheckSeccomp(ctx);
  EXPECT_FALSE(first.observation.satisfied);  // loaded hash not reported
  EXPECT_TRUE(absl::StrContains(first.observation.reason, "not reported"));
  std::string file_sha;
  for (const auto& e : first.observation.evidence) {
    if (e.href == "evidence/policy/seccomp/ve-node.textproto")
      file_sha = e.sha256_hex;
  }
  ASSERT_EQ(file_sha.size(), 64U);
  ctx.loaded_seccomp_sha256["ve-node"] = file_sha;
  checks::CheckOutput ok = checks::CheckSeccomp(ctx);
  EXPECT_TRUE(ok.observation.satisfied) << ok.observation.reason;
  ctx.loaded_seccomp_sha256["ve-node"] = std::string(64, '0');
  EXPECT_FALSE(checks::CheckSeccomp(ctx).observation.satisfied);
  // A filter-less process named like the daemon fails.
  ctx.loaded_seccomp_sha256["ve-node"] = file_sha;
  WriteRaw(proc + "/77/comm", "ve-node\n");
  checks::CheckOutput two = checks::CheckSeccomp(ctx);
  EXPECT_FALSE(two.observation.satisfied);
  EXPECT_TRUE(
      absl::StrContains(two.observation.reason, "pid 77: Seccomp mode 0"))
      << two.observation.reason;
}

}  // namespace
}  // namespace virtengine::compliance
