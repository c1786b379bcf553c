#include "compliance/bundle/bundle.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "compliance/json/json.h"
#include "compliance/oscal/oscal.h"
#include "security/crypto/hash.h"
#include "src/common/encoding/base64.h"
#include "src/common/encoding/hex.h"

namespace virtengine::compliance::bundle {
namespace {

using json::Value;
using security::path::PathRoot;
using ::virtengine::security::crypto::v1::CONTENT_HASH;
using ::virtengine::security::crypto::v1::NODE_SIGNATURE;

Value S(std::string s) { return Value::Str(std::move(s)); }

std::string Hex(const Digest& d) {
  return encoding::HexEncode(absl::Span<const uint8_t>(d.data(), d.size()));
}

absl::StatusOr<Digest> Hash(std::string_view data) {
  return crypto::Sha256(CONTENT_HASH, crypto::AsBytes(data));
}

bool IsReserved(std::string_view path) {
  return path == kManifest || path == kStatement || path == kEnvelope ||
         path == kSignature ||
         absl::StartsWith(absl::string_view(path.data(), path.size()),
                          "attestation/") ||
         absl::StartsWith(absl::string_view(path.data(), path.size()),
                          "ledger/");
}

absl::Status WriteOne(const PathRoot& dir, const std::string& path,
                      std::string_view content) {
  if (absl::Status st = security::path::ValidateRelativePath(path); !st.ok()) {
    return st;
  }
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos) {
    if (absl::Status st = dir.MakeDirs(path.substr(0, slash), 0755); !st.ok()) {
      return st;
    }
  }
  return dir.WriteFileAtomic(path, content, 0644);
}

std::string KeyId(const crypto::Ed25519PublicKey& key) {
  absl::StatusOr<Digest> d = crypto::Sha256(CONTENT_HASH, key.view());
  return d.ok() ? Hex(*d) : std::string();
}

// Every regular file beneath `root`, as relative paths, sorted.
absl::Status ListFiles(const PathRoot& root, const std::string& prefix,
                       int depth, std::vector<std::string>* out) {
  if (depth > 8) {
    return absl::FailedPreconditionError(
        absl::StrCat("bundle: directories nested too deeply at ", prefix));
  }
  absl::StatusOr<std::vector<std::string>> names = root.List(".", kMaxFiles);
  if (!names.ok()) return names.status();
  for (const std::string& n : *names) {
    const std::string rel = prefix.empty() ? n : absl::StrCat(prefix, "/", n);
    absl::StatusOr<PathRoot> sub = root.Sub(n);
    if (sub.ok()) {
      if (absl::Status st = ListFiles(*sub, rel, depth + 1, out); !st.ok()) {
        return st;
      }
      continue;
    }
    absl::StatusOr<security::path::UniqueFd> fd = root.OpenRead(n);
    if (!fd.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("unexpected entry (not a regular file): ", rel, ": ",
                       fd.status().message()));
    }
    out->push_back(rel);
    if (out->size() > kMaxFiles) {
      return absl::ResourceExhaustedError(
          absl::StrCat("bundle: more than ", kMaxFiles, " files"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::string>> ParseManifest(
    std::string_view text) {
  std::map<std::string, std::string> out;
  size_t line_no = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    if (line.empty()) continue;
    if (line.size() < 67 || line.substr(64, 2) != "  ") {
      return absl::InvalidArgumentError(absl::StrCat(
          "manifest: line ", line_no, ": expected '<sha256>  <path>'"));
    }
    const std::string hex(line.substr(0, 64));
    for (char c : hex) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "manifest: line ", line_no, ": digest is not lowercase hex"));
      }
    }
    const std::string path(line.substr(66));
    if (absl::Status st = security::path::ValidateRelativePath(path);
        !st.ok() || IsReserved(path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest: line ", line_no, ": invalid path"));
    }
    if (!out.emplace(path, hex).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest: duplicate path ", path));
    }
  }
  return out;
}

}  // namespace

std::string Pae(std::string_view payload_type, std::string_view payload) {
  return absl::StrCat("DSSEv1 ", payload_type.size(), " ",
                      std::string(payload_type), " ", payload.size(), " ",
                      std::string(payload));
}

absl::StatusOr<crypto::Ed25519Signature> KeyStatementSigner::Sign(
    std::string_view statement, const Digest& /*bundle_digest*/) {
  return key_.Sign(crypto::AsBytes(Pae(kPayloadType, statement)));
}

absl::Status CheckStatementForSigning(std::string_view statement,
                                      const Digest& bundle_digest) {
  if (statement.empty() || statement.size() > kMaxStatementBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("statement: ", statement.size(), " bytes, want 1..",
                     kMaxStatementBytes));
  }
  json::Limits limits;
  limits.max_bytes = kMaxStatementBytes;
  limits.max_depth = 16;
  absl::StatusOr<Value> stmt = json::Parse(statement, limits);
  if (!stmt.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("statement: ", stmt.status().message()));
  }
  const std::string* type = stmt->FindString("_type");
  const std::string* ptype = stmt->FindString("predicateType");
  if (type == nullptr || *type != kStatementType) {
    return absl::InvalidArgumentError(
        absl::StrCat("statement: _type is not ", kStatementType));
  }
  if (ptype == nullptr || *ptype != kPredicateType) {
    return absl::InvalidArgumentError(
        absl::StrCat("statement: predicateType is not ", kPredicateType));
  }
  const Value* subjects = stmt->Find("subject");
  if (subjects == nullptr || !subjects->is_array() ||
      subjects->items().empty()) {
    return absl::InvalidArgumentError("statement: no subject");
  }
  for (const Value& sub : subjects->items()) {
    const std::string* name = sub.FindString("name");
    const Value* digest = sub.Find("digest");
    const std::string* sha =
        digest != nullptr ? digest->FindString("sha256") : nullptr;
    if (name == nullptr || name->empty() || sha == nullptr ||
        sha->size() != 64 ||
        sha->find_first_not_of("0123456789abcdef") != std::string::npos) {
      return absl::InvalidArgumentError(
          "statement: a subject without a name or a 64-hex sha256 digest");
    }
  }
  const std::string want = Hex(bundle_digest);
  const Value* predicate = stmt->Find("predicate");
  const std::string* manifest =
      predicate != nullptr ? predicate->FindString("manifest_sha256") : nullptr;
  const Value* att =
      predicate != nullptr ? predicate->Find("attestation") : nullptr;
  const std::string* att_digest =
      att != nullptr ? att->FindString("bundle_digest") : nullptr;
  if (manifest == nullptr || *manifest != want || att_digest == nullptr ||
      *att_digest != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "statement: predicate.manifest_sha256 and "
        "predicate.attestation.bundle_digest must both be the bundle digest ",
        want));
  }
  return absl::OkStatus();
}

std::string_view PartStateName(PartState s) {
  switch (s) {
    case PartState::kAbsent:
      return "ABSENT";
    case PartState::kPresentUnverified:
      return "PRESENT, NOT VERIFIED";
    case PartState::kVerified:
      return "verified";
  }
  return "?";
}

absl::StatusOr<WriteResult> WriteBundle(const PathRoot& dir,
                                        const std::vector<File>& files,
                                        const crypto::Ed25519PrivateKey& key,
                                        const WriteOptions& options) {
  KeyStatementSigner signer(key);
  return WriteBundle(dir, files, signer, options);
}

absl::StatusOr<WriteResult> WriteBundle(const PathRoot& dir,
                                        const std::vector<File>& files,
                                        StatementSigner& signer,
                                        const WriteOptions& options) {
  absl::StatusOr<std::vector<std::string>> existing = dir.List(".", 1);
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) {
    return absl::FailedPreconditionError("bundle directory is not empty");
  }
  if (files.size() > kMaxFiles) {
    return absl::ResourceExhaustedError("too many files for one bundle");
  }
  std::map<std::string, std::string> digests;  // path -> hex
  for (const File& f : files) {
    if (IsReserved(f.path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle file name is reserved: ", f.path));
    }
    absl::StatusOr<Digest> d = Hash(f.content);
    if (!d.ok()) return d.status();
    if (!digests.emplace(f.path, Hex(*d)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate bundle file: ", f.path));
    }
    if (absl::Status st = WriteOne(dir, f.path, f.content); !st.ok()) {
      return absl::Status(st.code(),
                          absl::StrCat("writing ", f.path, ": ", st.message()));
    }
  }
  std::string manifest;
  for (const auto& [path, hex] : digests) {
    absl::StrAppend(&manifest, hex, "  ", path, "\n");
  }
  if (absl::Status st = WriteOne(dir, kManifest, manifest); !st.ok()) return st;
  absl::StatusOr<Digest> bundle_digest = Hash(manifest);
  if (!bundle_digest.ok()) return bundle_digest.status();

  WriteResult result;
  result.bundle_digest = *bundle_digest;
  result.bundle_digest_hex = Hex(*bundle_digest);
  result.files = digests.size();

  Value attestation = Value::Object();
  attestation.Set("bundle_digest", S(result.bundle_digest_hex));
  if (options.quote_provider != nullptr) {
    absl::StatusOr<std::string> quote =
        options.quote_provider->Quote(*bundle_digest);
    if (!quote.ok()) {
      return absl::Status(
          quote.status().code(),
          absl::StrCat("TPM quote failed: ", quote.status().message()));
    }
    if (absl::Status st = WriteOne(dir, kQuoteFile, *quote); !st.ok()) {
      return st;
    }
    absl::StatusOr<Digest> qd = Hash(*quote);
    if (!qd.ok()) return qd.status();
    Value q = Value::Object();
    q.Set("file", S(kQuoteFile));
    q.Set("format", S(options.quote_provider->format()));
    q.Set("sha256", S(Hex(*qd)));
    q.Set("nonce", S("bundle_digest"));
    attestation.Set("quote", std::move(q));
    result.quoted = true;
  } else {
    result.quote_note =
        options.quote_absent_reason.empty()
            ? "no TPM quote: no QuoteProvider was configured for this export"
            : options.quote_absent_reason;
    attestation.Set("quote", Value::Null());
    attestation.Set("quote_absent_reason", S(result.quote_note));
  }

  Value statement = Value::Object();
  statement.Set("_type", S(kStatementType));
  Value subjects = Value::Array();
  for (const auto& [path, hex] : digests) {
    Value s = Value::Object();
    s.Set("name", S(path));
    Value d = Value::Object();
    d.Set("sha256", S(hex));
    s.Set("digest", std::move(d));
    subjects.Push(std::move(s));
  }
  statement.Set("subject", std::move(subjects));
  statement.Set("predicateType", S(kPredicateType));
  Value predicate = Value::Object();
  predicate.Set("system", S(options.system));
  predicate.Set("created", S(options.created));
  predicate.Set("tool", S(options.tool));
  predicate.Set("manifest", S(kManifest));
  predicate.Set("manifest_sha256", S(result.bundle_digest_hex));
  predicate.Set("attestation", std::move(attestation));
  predicate.Set("ledger_receipt", S(kReceiptFile));
  if (options.ledger_anchor != nullptr) {
    predicate.Set("ledger_tx", S(kTxFile));
  } else {
    result.receipt_note =
        options.receipt_absent_reason.empty()
            ? "no ledger receipt: no LedgerAnchor was configured for this "
              "export"
            : options.receipt_absent_reason;
    predicate.Set("ledger_receipt_absent_reason", S(result.receipt_note));
  }
  statement.Set("predicate", std::move(predicate));
  const std::string payload = json::Pretty(statement);
  const std::string pae = Pae(kPayloadType, payload);
  absl::StatusOr<crypto::Ed25519Signature> sig =
      signer.Sign(payload, *bundle_digest);
  if (!sig.ok()) {
    return absl::Status(
        sig.status().code(),
        absl::StrCat("signing the statement: ", sig.status().message()));
  }
  // A remote signer's answer is checked before anything depends on it.
  if (absl::Status st = signer.public_key().Verify(
          NODE_SIGNATURE, crypto::AsBytes(pae),
          crypto::ByteView(sig->data(), sig->size()));
      !st.ok()) {
    return absl::Status(
        st.code(),
        absl::StrCat("the statement signature does not verify with the "
                     "signer's key ",
                     KeyId(signer.public_key()), ": ", st.message()));
  }
  const std::string sig_bytes(reinterpret_cast<const char*>(sig->data()),
                              sig->size());
  Value envelope = Value::Object();
  envelope.Set("payloadType", S(kPayloadType));
  envelope.Set("payload", S(encoding::Base64Encode(payload)));
  Value sigs = Value::Array();
  Value s = Value::Object();
  s.Set("keyid", S(KeyId(signer.public_key())));
  s.Set("sig", S(encoding::Base64Encode(sig_bytes)));
  sigs.Push(std::move(s));
  envelope.Set("signatures", std::move(sigs));
  if (absl::Status st = WriteOne(dir, kStatement, payload); !st.ok()) return st;
  if (absl::Status st = WriteOne(dir, kSignature, sig_bytes); !st.ok()) {
    return st;
  }
  if (absl::Status st = WriteOne(dir, kEnvelope, json::Pretty(envelope));
      !st.ok()) {
    return st;
  }

  if (options.ledger_anchor != nullptr) {
    absl::StatusOr<LedgerRecord> record =
        options.ledger_anchor->Anchor(*bundle_digest);
    if (!record.ok()) {
      return absl::Status(
          record.status().code(),
          absl::StrCat("ledger anchoring failed: ", record.status().message()));
    }
    if (record->receipt.empty() || record->tx.empty()) {
      return absl::InternalError(
          "ledger anchoring failed: no receipt or no transaction");
    }
    if (absl::Status st = WriteOne(dir, kReceiptFile, record->receipt);
        !st.ok()) {
      return st;
    }
    if (absl::Status st = WriteOne(dir, kTxFile, record->tx); !st.ok()) {
      return st;
    }
    result.anchored = true;
  }
  return result;
}

absl::StatusOr<VerifyReport> VerifyBundle(
    const std::string& bundle_path,
    const crypto::Ed25519PublicKey& trusted_public_key,
    const VerifyOptions& options) {
  absl::StatusOr<PathRoot> root = PathRoot::Open(bundle_path);
  if (!root.ok()) return root.status();
  VerifyReport report;

  // 1. The envelope and its signature.
  absl::StatusOr<std::string> env_text =
      root->ReadFile(kEnvelope, kMaxMetaBytes);
  if (!env_text.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "missing file: ", kEnvelope, ": ", env_text.status().message()));
  }
  absl::StatusOr<Value> env = json::Parse(*env_text);
  if (!env.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kEnvelope, ": ", env.status().message()));
  }
  const std::string* payload_type = env->FindString("payloadType");
  const std::string* payload_b64 = env->FindString("payload");
  const Value* sigs = env->Find("signatures");
  if (payload_type == nullptr || payload_b64 == nullptr || sigs == nullptr ||
      !sigs->is_array() || sigs->items().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kEnvelope, ": needs payloadType, payload and a signature"));
  }
  if (*payload_type != kPayloadType) {
    return absl::InvalidArgumentError(
        absl::StrCat(kEnvelope, ": payloadType is '", *payload_type,
                     "', expected ", kPayloadType));
  }
  absl::StatusOr<std::vector<uint8_t>> payload_bytes =
      encoding::Base64Decode(*payload_b64, kMaxMetaBytes);
  if (!payload_bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        kEnvelope, ": payload: ", payload_bytes.status().message()));
  }
  const std::string payload(payload_bytes->begin(), payload_bytes->end());
  const std::string pae = Pae(*payload_type, payload);
  const std::string want_keyid = KeyId(trusted_public_key);
  bool verified = false;
  std::string sig_raw;
  std::string last_error = "no signature";
  for (const Value& s : sigs->items()) {
    const std::string* sig_b64 = s.FindString("sig");
    if (sig_b64 == nullptr) continue;
    absl::StatusOr<std::vector<uint8_t>> sig =
        encoding::Base64Decode(*sig_b64, 1024);
    if (!sig.ok()) {
      last_error = std::string(sig.status().message());
      continue;
    }
    absl::Status st =
        trusted_public_key.Verify(NODE_SIGNATURE, crypto::AsBytes(pae),
                                  crypto::ByteView(sig->data(), sig->size()));
    if (st.ok()) {
      verified = true;
      sig_raw.assign(sig->begin(), sig->end());
      const std::string* keyid = s.FindString("keyid");
      report.keyid = keyid != nullptr ? *keyid : "";
      break;
    }
    last_error = std::string(st.message());
  }
  if (!verified) {
    return absl::UnauthenticatedError(absl::StrCat(
        "signature: no signature in ", kEnvelope,
        " verifies with the trusted key ", want_keyid, " (", last_error, ")"));
  }
  report.lines.push_back(
      absl::StrCat("signature: ok (Ed25519, key ", want_keyid, ")"));

  // 2. The auditor's copies of the payload and signature.
  absl::StatusOr<std::string> stmt_copy =
      root->ReadFile(kStatement, kMaxMetaBytes);
  if (!stmt_copy.ok() || *stmt_copy != payload) {
    return absl::DataLossError(absl::StrCat("hash mismatch: ", kStatement,
                                            " is not the signed DSSE payload"));
  }
  absl::StatusOr<std::string> sig_copy = root->ReadFile(kSignature, 1024);
  if (!sig_copy.ok() || *sig_copy != sig_raw) {
    return absl::DataLossError(absl::StrCat(
        "hash mismatch: ", kSignature, " is not the envelope's signature"));
  }

  // 3. The statement.
  absl::StatusOr<Value> stmt = json::Parse(payload);
  if (!stmt.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("statement: ", stmt.status().message()));
  }
  const std::string* type = stmt->FindString("_type");
  const std::string* ptype = stmt->FindString("predicateType");
  const Value* subjects = stmt->Find("subject");
  const Value* predicate = stmt->Find("predicate");
  if (type == nullptr || *type != kStatementType || ptype == nullptr ||
      *ptype != kPredicateType || subjects == nullptr ||
      !subjects->is_array() || predicate == nullptr) {
    return absl::InvalidArgumentError(
        "statement: not an in-toto Statement v1 with the evidence-bundle "
        "predicate");
  }
  std::map<std::string, std::string> subject_digests;
  for (const Value& s : subjects->items()) {
    const std::string* name = s.FindString("name");
    const Value* digest = s.Find("digest");
    const std::string* sha =
        digest != nullptr ? digest->FindString("sha256") : nullptr;
    if (name == nullptr || sha == nullptr) {
      return absl::InvalidArgumentError(
          "statement: a subject without name or sha256 digest");
    }
    subject_digests[*name] = *sha;
  }

  // 4. The manifest is the signed one, and lists exactly the subjects.
  absl::StatusOr<std::string> manifest =
      root->ReadFile(kManifest, kMaxMetaBytes);
  if (!manifest.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("missing file: ", kManifest));
  }
  absl::StatusOr<Digest> manifest_digest = Hash(*manifest);
  if (!manifest_digest.ok()) return manifest_digest.status();
  report.bundle_digest_hex = Hex(*manifest_digest);
  const std::string* signed_manifest = predicate->FindString("manifest_sha256");
  if (signed_manifest == nullptr ||
      *signed_manifest != report.bundle_digest_hex) {
    return absl::DataLossError(
        absl::StrCat("hash mismatch: ", kManifest, ": statement says ",
                     signed_manifest != nullptr ? *signed_manifest : "(none)",
                     ", file has ", report.bundle_digest_hex));
  }
  absl::StatusOr<std::map<std::string, std::string>> entries =
      ParseManifest(*manifest);
  if (!entries.ok()) return entries.status();
  if (*entries != subject_digests) {
    return absl::FailedPreconditionError(
        "manifest and statement subjects differ");
  }

  // 5. Every file, and nothing else.
  std::vector<std::string> present;
  if (absl::Status st = ListFiles(*root, "", 0, &present); !st.ok()) return st;
  std::set<std::string> present_set(present.begin(), present.end());
  for (const auto& [path, hex] : *entries) {
    if (present_set.count(path) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("missing file: ", path));
    }
    absl::StatusOr<std::string> content = root->ReadFile(path, kMaxFileBytes);
    if (!content.ok()) {
      return absl::Status(content.status().code(),
                          absl::StrCat(path, ": ", content.status().message()));
    }
    absl::StatusOr<Digest> d = Hash(*content);
    if (!d.ok()) return d.status();
    if (Hex(*d) != hex) {
      return absl::DataLossError(absl::StrCat("hash mismatch: ", path,
                                              ": manifest says ", hex,
                                              ", file has ", Hex(*d)));
    }
  }
  for (const std::string& p : present) {
    if (entries->count(p) == 0 && !IsReserved(p)) {
      return absl::FailedPreconditionError(absl::StrCat("unlisted file: ", p));
    }
    if (IsReserved(p) && p != kManifest && p != kStatement && p != kEnvelope &&
        p != kSignature && p != kQuoteFile && p != kReceiptFile &&
        p != kTxFile) {
      return absl::FailedPreconditionError(absl::StrCat("unlisted file: ", p));
    }
  }
  report.files = entries->size();
  report.lines.push_back(absl::StrCat("files: ", report.files,
                                      " files, every SHA-256 matches the "
                                      "signed manifest, no unlisted file"));
  report.lines.push_back(
      absl::StrCat("bundle digest: ", report.bundle_digest_hex));

  // 6. The quote.
  const Value* att = predicate->Find("attestation");
  const Value* quote = att != nullptr ? att->Find("quote") : nullptr;
  if (quote == nullptr || quote->type() == Value::Type::kNull) {
    const std::string* why =
        att != nullptr ? att->FindString("quote_absent_reason") : nullptr;
    report.quote_note = why != nullptr ? *why : "the statement names no quote";
    if (present_set.count(kQuoteFile) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("unlisted file: ", kQuoteFile,
                       " (the signed statement names no quote)"));
    }
    if (options.require_quote) {
      return absl::FailedPreconditionError(
          absl::StrCat("quote: required but absent: ", report.quote_note));
    }
  } else {
    const std::string* qsha = quote->FindString("sha256");
    absl::StatusOr<std::string> qbytes =
        root->ReadFile(kQuoteFile, kMaxMetaBytes);
    if (!qbytes.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("missing file: ", kQuoteFile));
    }
    absl::StatusOr<Digest> qd = Hash(*qbytes);
    if (!qd.ok()) return qd.status();
    if (qsha == nullptr || *qsha != Hex(*qd)) {
      return absl::DataLossError(absl::StrCat(
          "hash mismatch: ", kQuoteFile, ": statement says ",
          qsha != nullptr ? *qsha : "(none)", ", file has ", Hex(*qd)));
    }
    if (options.quote_verifier != nullptr) {
      absl::StatusOr<std::string> what =
          options.quote_verifier->Verify(*qbytes, *manifest_digest);
      if (!what.ok()) {
        return absl::Status(what.status().code(),
                            absl::StrCat("quote: ", what.status().message()));
      }
      report.quote = PartState::kVerified;
      report.quote_note = *std::move(what);
    } else {
      report.quote = PartState::kPresentUnverified;
      report.quote_note = "no quote verifier configured";
      if (options.require_quote) {
        return absl::FailedPreconditionError(
            "quote: required but no quote verifier is configured");
      }
    }
  }
  report.lines.push_back(absl::StrCat(
      "tpm quote: ", std::string(PartStateName(report.quote)),
      report.quote_note.empty() ? ""
                                : absl::StrCat(" (", report.quote_note, ")")));

  // 7. The receipt and the transaction it proves.
  const bool has_receipt = present_set.count(kReceiptFile) != 0;
  const bool has_tx = present_set.count(kTxFile) != 0;
  if (!has_receipt && has_tx) {
    return absl::FailedPreconditionError(absl::StrCat(
        "unlisted file: ", kTxFile, " (the bundle carries no receipt)"));
  }
  if (!has_receipt) {
    const std::string* why =
        predicate->FindString("ledger_receipt_absent_reason");
    report.receipt_note =
        why != nullptr ? *why : "the bundle carries no ledger receipt";
    if (options.require_receipt) {
      return absl::FailedPreconditionError(
          absl::StrCat("receipt: required but absent: ", report.receipt_note));
    }
  } else {
    if (!has_tx) {
      return absl::FailedPreconditionError(absl::StrCat(
          "missing file: ", kTxFile, " (the transaction the receipt proves)"));
    }
    absl::StatusOr<std::string> receipt =
        root->ReadFile(kReceiptFile, kMaxMetaBytes);
    if (!receipt.ok()) return receipt.status();
    absl::StatusOr<std::string> tx = root->ReadFile(kTxFile, kMaxTxBytes);
    if (!tx.ok()) {
      return absl::Status(tx.status().code(),
                          absl::StrCat(kTxFile, ": ", tx.status().message()));
    }
    if (options.receipt_verifier != nullptr) {
      absl::StatusOr<std::string> what =
          options.receipt_verifier->Verify(*receipt, *tx, *manifest_digest);
      if (!what.ok()) {
        return absl::Status(what.status().code(),
                            absl::StrCat("receipt: ", what.status().message()));
      }
      report.receipt = PartState::kVerified;
      report.receipt_note = *std::move(what);
    } else {
      report.receipt = PartState::kPresentUnverified;
      report.receipt_note = "no receipt verifier configured";
      if (options.require_receipt) {
        return absl::FailedPreconditionError(
            "receipt: required but no receipt verifier is configured");
      }
    }
  }
  report.lines.push_back(absl::StrCat(
      "ledger receipt: ", std::string(PartStateName(report.receipt)),
      report.receipt_note.empty()
          ? ""
          : absl::StrCat(" (", report.receipt_note, ")")));
  return report;
}

absl::StatusOr<DiffReport> DiffBundles(const std::string& old_path,
                                       const std::string& new_path) {
  std::map<std::string, std::string> states[2];
  const std::string* paths[2] = {&old_path, &new_path};
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<PathRoot> root = PathRoot::Open(*paths[i]);
    if (!root.ok()) return root.status();
    absl::StatusOr<std::string> text =
        root->ReadFile("assessment-results.json", kMaxMetaBytes);
    if (!text.ok()) {
      return absl::Status(text.status().code(),
                          absl::StrCat(*paths[i], "/assessment-results.json: ",
                                       text.status().message()));
    }
    absl::StatusOr<Value> doc = json::Parse(*text);
    if (!doc.ok()) return doc.status();
    absl::StatusOr<std::map<std::string, std::string>> s =
        oscal::ReadFindingStates(*doc);
    if (!s.ok()) return s.status();
    states[i] = *std::move(s);
  }
  DiffReport report;
  std::set<std::string> ids;
  for (const auto& m : states) {
    for (const auto& [id, st] : m) ids.insert(id);
  }
  for (const std::string& id : ids) {
    const auto o = states[0].find(id);
    const auto n = states[1].find(id);
    const std::string old_state = o == states[0].end() ? "absent" : o->second;
    const std::string new_state = n == states[1].end() ? "absent" : n->second;
    if (old_state == new_state) continue;
    ControlChange c{id, old_state, new_state, false};
    c.worse = old_state == "satisfied";
    report.any_worse = report.any_worse || c.worse;
    report.changes.push_back(std::move(c));
  }
  return report;
}

}  // namespace virtengine::compliance::bundle
