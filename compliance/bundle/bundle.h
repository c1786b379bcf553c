// The evidence bundle: a directory of evidence files, a manifest of their
// SHA-256, an in-toto Statement v1 naming every file as a subject, and a
// DSSE envelope signing the statement with an Ed25519 key (security/crypto,
// purpose NODE_SIGNATURE): the node's attestation-bound key when the node
// signs through its admin API (StatementSigner), or a local key. Layout and
// the auditor's commands: docs/compliance/.
//
//   <bundle>/manifest.sha256        "<sha256>  <path>" per file, sorted
//   <bundle>/statement.intoto.json  the in-toto Statement (DSSE payload)
//   <bundle>/statement.dsse.json    the DSSE envelope
//   <bundle>/statement.sig          the raw 64-byte Ed25519 signature
//   <bundle>/attestation/quote.bin  TPM quote over the bundle digest (when a
//                                   QuoteProvider is given)
//   <bundle>/ledger/receipt.json    ledger receipt (DESIGN §3 receipt JSON)
//   <bundle>/ledger/tx.bin          the anchoring transaction (TxRaw) the
//                                   receipt proves (when a LedgerAnchor is
//                                   given)
//   <bundle>/<everything else>      evidence files, all in the manifest
//
// The bundle digest is SHA-256 of manifest.sha256's bytes. It is the quote's
// nonce and what the ledger records. The statement's predicate carries the
// manifest digest and the quote's digest (or why there is none), so the
// signature covers the quote too; the receipt comes after signing and is
// checked against the bundle digest.
#ifndef VIRTENGINE_COMPLIANCE_BUNDLE_BUNDLE_H_
#define VIRTENGINE_COMPLIANCE_BUNDLE_BUNDLE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/ed25519.h"
#include "security/path/path.h"

namespace virtengine::compliance::bundle {

inline constexpr char kPayloadType[] = "application/vnd.in-toto+json";
inline constexpr char kStatementType[] = "https://in-toto.io/Statement/v1";
inline constexpr char kPredicateType[] =
    "https://virtengine.invalid/attestation/evidence-bundle/v1";
inline constexpr char kManifest[] = "manifest.sha256";
inline constexpr char kStatement[] = "statement.intoto.json";
inline constexpr char kEnvelope[] = "statement.dsse.json";
inline constexpr char kSignature[] = "statement.sig";
inline constexpr char kQuoteFile[] = "attestation/quote.bin";
inline constexpr char kReceiptFile[] = "ledger/receipt.json";
inline constexpr char kTxFile[] = "ledger/tx.bin";

// Limits when reading a bundle back.
inline constexpr size_t kMaxFileBytes = 256 * 1024 * 1024;
inline constexpr size_t kMaxMetaBytes =
    64 * 1024 * 1024;  // manifest, statement
inline constexpr size_t kMaxFiles = 20000;
// What a remote signer (the node's admin API) accepts as a statement.
inline constexpr size_t kMaxStatementBytes = 768 * 1024;
// The anchoring transaction (a TxRaw is at most 64 KiB).
inline constexpr size_t kMaxTxBytes = 64 * 1024;

using Digest = std::array<uint8_t, 32>;

// Produces a TPM quote whose nonce (qualifying data) is the bundle digest:
// the node's admin API (src/cli/evidence_node.h).
class QuoteProvider {
 public:
  virtual ~QuoteProvider() = default;
  virtual std::string format() const = 0;  // e.g. "virtengine-attest-v1"
  virtual absl::StatusOr<std::string> Quote(const Digest& nonce) = 0;
};

// Checks a quote offline: signed by a trusted attestation key, over an
// allowlisted measurement, with `nonce` as its qualifying data. A quote
// for another bundle (a stale quote) must fail. OK carries one line saying
// what was verified (e.g. the measurement that matched).
class QuoteVerifier {
 public:
  virtual ~QuoteVerifier() = default;
  virtual absl::StatusOr<std::string> Verify(std::string_view quote,
                                             const Digest& nonce) const = 0;
};

// What the ledger gave back for an anchored digest: the receipt (DESIGN §3
// "Receipts as JSON") and the transaction it proves, which carries the
// digest.
struct LedgerRecord {
  std::string receipt;
  std::string tx;
};

// Records the bundle digest in the ledger (an audit event) and returns the
// receipt and the transaction.
class LedgerAnchor {
 public:
  virtual ~LedgerAnchor() = default;
  virtual absl::StatusOr<LedgerRecord> Anchor(const Digest& bundle_digest) = 0;
};

// Checks a receipt offline: it proves inclusion of `tx`, an audit event that
// carries `bundle_digest`, under a header signed by a trusted node key. OK
// carries one line saying what was verified.
class ReceiptVerifier {
 public:
  virtual ~ReceiptVerifier() = default;
  virtual absl::StatusOr<std::string> Verify(
      std::string_view receipt, std::string_view tx,
      const Digest& bundle_digest) const = 0;
};

// Signs the statement: an Ed25519 signature (purpose NODE_SIGNATURE) over
// Pae(kPayloadType, statement). The node signs through its admin API with
// its attestation-bound key, which never leaves it.
class StatementSigner {
 public:
  virtual ~StatementSigner() = default;
  virtual const crypto::Ed25519PublicKey& public_key() const = 0;
  virtual absl::StatusOr<crypto::Ed25519Signature> Sign(
      std::string_view statement, const Digest& bundle_digest) = 0;
};

// A StatementSigner over a local key (offline exports, tests).
class KeyStatementSigner final : public StatementSigner {
 public:
  explicit KeyStatementSigner(const crypto::Ed25519PrivateKey& key)
      : key_(key) {}
  const crypto::Ed25519PublicKey& public_key() const override {
    return key_.public_key();
  }
  absl::StatusOr<crypto::Ed25519Signature> Sign(
      std::string_view statement, const Digest& bundle_digest) override;

 private:
  const crypto::Ed25519PrivateKey& key_;
};

// What a signer checks before it signs `statement` for `bundle_digest`: at
// most kMaxStatementBytes of JSON, an in-toto Statement v1 (`_type`) with the
// evidence-bundle predicate type, at least one subject each with a name and
// a 64-hex sha256, and a predicate whose manifest_sha256 and
// attestation.bundle_digest are the digest's lowercase hex.
// INVALID_ARGUMENT "statement: ..." otherwise.
absl::Status CheckStatementForSigning(std::string_view statement,
                                      const Digest& bundle_digest);

struct File {
  std::string path;  // relative, validated by security/path's rules
  std::string content;
};

struct WriteOptions {
  QuoteProvider* quote_provider = nullptr;  // not owned; may be null
  LedgerAnchor* ledger_anchor = nullptr;    // not owned; may be null
  // Why there is no quote / receipt when the provider is null (signed into
  // the statement); a default sentence when empty.
  std::string quote_absent_reason;
  std::string receipt_absent_reason;
  // Extra members for the predicate (system name, creation time, tool).
  std::string system;
  std::string created;  // RFC 3339
  std::string tool;
};

struct WriteResult {
  Digest bundle_digest{};
  std::string bundle_digest_hex;
  size_t files = 0;
  bool quoted = false;
  bool anchored = false;
  std::string quote_note;    // why there is no quote, when there is none
  std::string receipt_note;  // why there is no receipt
};

// DSSE pre-authentication encoding:
// "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (LEN in ASCII decimal).
std::string Pae(std::string_view payload_type, std::string_view payload);

// Writes `files` and the manifest, statement and signature into `dir`
// (which must be empty), asks for a quote and an anchor when given. Files
// are 0644, directories 0755 (a bundle is meant to be handed out). A failing
// QuoteProvider or LedgerAnchor fails the export (never a silent gap); when
// none is given the bundle states why it has none.
// The signature `signer` returns is checked against its public key before
// anything is written.
absl::StatusOr<WriteResult> WriteBundle(const security::path::PathRoot& dir,
                                        const std::vector<File>& files,
                                        StatementSigner& signer,
                                        const WriteOptions& options);
absl::StatusOr<WriteResult> WriteBundle(const security::path::PathRoot& dir,
                                        const std::vector<File>& files,
                                        const crypto::Ed25519PrivateKey& key,
                                        const WriteOptions& options);

enum class PartState { kAbsent, kPresentUnverified, kVerified };
std::string_view PartStateName(PartState s);

struct VerifyOptions {
  const QuoteVerifier* quote_verifier = nullptr;
  const ReceiptVerifier* receipt_verifier = nullptr;
  bool require_quote = false;    // absent or unverified quote fails
  bool require_receipt = false;  // absent or unverified receipt fails
};

struct VerifyReport {
  size_t files = 0;
  std::string bundle_digest_hex;
  std::string keyid;
  PartState quote = PartState::kAbsent;
  PartState receipt = PartState::kAbsent;
  std::string quote_note;
  std::string receipt_note;
  // Human-readable lines, one per check, e.g. "signature: ok (Ed25519 ...)".
  std::vector<std::string> lines;
};

// Verifies a bundle offline. OK only when the DSSE signature verifies with
// `trusted_public_key`, the statement copy and raw signature match the
// envelope, the manifest is the one signed, every manifest file exists with
// its digest, the statement's subjects equal the manifest, and no other
// file is present. Errors name the first problem:
//   Unauthenticated  "signature: ..."
//   DataLoss         "hash mismatch: <path>: manifest says X, file has Y"
//   FailedPrecondition "unlisted file: <path>", "missing file: <path>", ...
//   InvalidArgument  malformed envelope/statement/manifest
// A present quote/receipt is checked with the given verifier (failure is an
// error, its message prefixed "quote: " / "receipt: "); without a verifier
// it is reported as present but unverified; an absent one is reported as
// absent with the reason the bundle states. A receipt needs its
// transaction (ledger/tx.bin) and the other way round.
absl::StatusOr<VerifyReport> VerifyBundle(
    const std::string& bundle_path,
    const crypto::Ed25519PublicKey& trusted_public_key,
    const VerifyOptions& options = {});

struct ControlChange {
  std::string control_id;
  std::string old_state;  // "satisfied", "not-satisfied" or "absent"
  std::string new_state;
  bool worse = false;
};

struct DiffReport {
  std::vector<ControlChange> changes;  // sorted by control id
  bool any_worse = false;
};

// Compares the findings of two bundles' assessment-results.json. Worse:
// satisfied -> not-satisfied or satisfied -> absent. Does not verify
// signatures (run VerifyBundle first).
absl::StatusOr<DiffReport> DiffBundles(const std::string& old_path,
                                       const std::string& new_path);

}  // namespace virtengine::compliance::bundle

#endif  // VIRTENGINE_COMPLIANCE_BUNDLE_BUNDLE_H_
