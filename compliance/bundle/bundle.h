// The evidence bundle: a directory of evidence files, a manifest of their
// SHA-256, an in-toto Statement v1 naming every file as a subject, and a
// DSSE envelope signing the statement with an Ed25519 key (security/crypto,
// purpose NODE_SIGNATURE; the node's attestation-bound key once the node
// exports bundles). Layout and the auditor's commands: docs/compliance/.
//
//   <bundle>/manifest.sha256        "<sha256>  <path>" per file, sorted
//   <bundle>/statement.intoto.json  the in-toto Statement (DSSE payload)
//   <bundle>/statement.dsse.json    the DSSE envelope
//   <bundle>/statement.sig          the raw 64-byte Ed25519 signature
//   <bundle>/attestation/quote.bin  TPM quote over the bundle digest (when a
//                                   QuoteProvider is given)
//   <bundle>/ledger/receipt.json    ledger receipt of the bundle digest
//                                   (when a LedgerAnchor is given)
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

// Limits when reading a bundle back.
inline constexpr size_t kMaxFileBytes = 256 * 1024 * 1024;
inline constexpr size_t kMaxMetaBytes =
    64 * 1024 * 1024;  // manifest, statement
inline constexpr size_t kMaxFiles = 20000;

using Digest = std::array<uint8_t, 32>;

// Produces a TPM quote whose nonce (qualifying data) is the bundle digest.
// Implemented by the node (security/tpm) later.
class QuoteProvider {
 public:
  virtual ~QuoteProvider() = default;
  virtual std::string format() const = 0;  // e.g. "tpm2-quote-v1"
  virtual absl::StatusOr<std::string> Quote(const Digest& nonce) = 0;
};

// Checks a quote offline: signed by a trusted attestation key, over an
// allowlisted measurement, with `nonce` as its qualifying data. A quote
// for another bundle (a stale quote) must fail.
class QuoteVerifier {
 public:
  virtual ~QuoteVerifier() = default;
  virtual absl::Status Verify(std::string_view quote,
                              const Digest& nonce) const = 0;
};

// Records the bundle digest in the ledger (an audit event) and returns the
// receipt (DESIGN §3 "Receipts as JSON"). Implemented by the node later.
class LedgerAnchor {
 public:
  virtual ~LedgerAnchor() = default;
  virtual absl::StatusOr<std::string> Anchor(const Digest& bundle_digest) = 0;
};

// Checks a receipt offline: it proves inclusion of an audit event that
// carries `bundle_digest`, under a header signed by a trusted node key.
class ReceiptVerifier {
 public:
  virtual ~ReceiptVerifier() = default;
  virtual absl::Status Verify(std::string_view receipt,
                              const Digest& bundle_digest) const = 0;
};

struct File {
  std::string path;  // relative, validated by security/path's rules
  std::string content;
};

struct WriteOptions {
  QuoteProvider* quote_provider = nullptr;  // not owned; may be null
  LedgerAnchor* ledger_anchor = nullptr;    // not owned; may be null
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
// error); without a verifier it is reported as present but unverified; an
// absent one is reported as absent with the reason the bundle states.
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
