#include "src/ledger/tx/tx.h"

#include <cstdint>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "security/validate/utf8.h"
#include "src/common/encoding/bech32.h"
#include "src/common/encoding/hex.h"

namespace virtengine::ledger {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

void AppendU32(std::string* out, size_t n) {
  const auto v = static_cast<uint32_t>(n);
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

// Parses `bytes` into `msg`, refusing unknown fields: a signed body must
// mean the same to every reader.
absl::Status ParseStrict(std::string_view what, std::string_view bytes,
                         google::protobuf::Message* msg) {
  if (!msg->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tx: ", std::string(what), " is not a valid protobuf message"));
  }
  if (!msg->GetReflection()->GetUnknownFields(*msg).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tx: ", std::string(what), " carries unknown fields"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string AddressFromPublicKey(const crypto::Ed25519PublicKey& key) {
  absl::StatusOr<crypto::Digest32> d =
      crypto::Sha256(v1::FINGERPRINT, key.view());
  if (!d.ok()) std::abort();  // the shipped policy allows SHA-256 here
  absl::StatusOr<std::string> a = encoding::Bech32Encode(
      kAddressHrp, absl::Span<const uint8_t>(d->data(), kAddressBytes));
  if (!a.ok()) std::abort();  // 20 bytes under "ve" always encode
  return *a;
}

std::string SignBytes(std::string_view chain_id, std::string_view body_bytes,
                      std::string_view auth_info_bytes) {
  std::string out;
  out.reserve(kTxSignDomain.size() + 13 + chain_id.size() + body_bytes.size() +
              auth_info_bytes.size());
  out.append(kTxSignDomain);
  out.push_back('\0');
  AppendU32(&out, chain_id.size());
  out.append(chain_id);
  AppendU32(&out, body_bytes.size());
  out.append(body_bytes);
  AppendU32(&out, auth_info_bytes.size());
  out.append(auth_info_bytes);
  return out;
}

absl::StatusOr<DecodedTx> DecodeTx(std::string_view raw,
                                   const TxLimits& limits) {
  if (raw.empty()) return absl::InvalidArgumentError("tx: empty");
  if (raw.size() > limits.max_tx_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("tx: ", raw.size(), " bytes exceeds the limit of ",
                     limits.max_tx_bytes));
  }
  DecodedTx tx;
  tx::v1::TxRaw tx_raw;
  if (absl::Status s = ParseStrict("TxRaw", raw, &tx_raw); !s.ok()) return s;
  if (absl::Status s = ParseStrict("TxBody", tx_raw.body_bytes(), &tx.body);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ParseStrict("AuthInfo", tx_raw.auth_info_bytes(), &tx.auth_info);
      !s.ok()) {
    return s;
  }
  const int n = tx.body.messages_size();
  if (n == 0) return absl::InvalidArgumentError("tx: no messages");
  if (static_cast<size_t>(n) > limits.max_messages) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tx: ", n, " messages exceeds the limit of ", limits.max_messages));
  }
  for (int i = 0; i < n; ++i) {
    const auto& m = tx.body.messages(i);
    if (m.type_url().empty() ||
        m.type_url().size() > limits.max_type_url_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("tx: message ", i, " has an empty or oversize type"));
    }
    if (m.value().size() > limits.max_message_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tx: message ", i, " of ", m.value().size(),
          " bytes exceeds the limit of ", limits.max_message_bytes));
    }
  }
  if (tx.body.memo().size() > limits.max_memo_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("tx: memo of ", tx.body.memo().size(),
                     " bytes exceeds the limit of ", limits.max_memo_bytes));
  }
  if (absl::Status s = validate::ValidateUtf8("tx: memo", tx.body.memo());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<crypto::Ed25519PublicKey> key =
      crypto::Ed25519PublicKey::FromBytes(
          crypto::AsBytes(tx.auth_info.public_key()));
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tx: signer public key is ", tx.auth_info.public_key().size(),
        " bytes, want 32 (Ed25519)"));
  }
  if (tx_raw.signature().size() != 64) {
    return absl::InvalidArgumentError(
        tx_raw.signature().empty()
            ? std::string("tx: missing signature")
            : absl::StrCat("tx: signature is ", tx_raw.signature().size(),
                           " bytes, want 64 (Ed25519)"));
  }
  absl::StatusOr<crypto::Digest32> hash =
      crypto::Sha256(v1::CONTENT_HASH, crypto::AsBytes(raw));
  if (!hash.ok()) return hash.status();
  tx.raw = std::string(raw);
  tx.hash = *hash;
  tx.signer = *key;
  tx.signer_address = AddressFromPublicKey(*key);
  tx.body_bytes = std::move(*tx_raw.mutable_body_bytes());
  tx.auth_info_bytes = std::move(*tx_raw.mutable_auth_info_bytes());
  tx.signature = std::move(*tx_raw.mutable_signature());
  return tx;
}

absl::Status VerifyTxSignature(const DecodedTx& tx, std::string_view chain_id) {
  if (!tx.signer.has_value()) {
    return absl::InvalidArgumentError("tx: no signer");
  }
  const std::string msg =
      SignBytes(chain_id, tx.body_bytes, tx.auth_info_bytes);
  absl::Status s = tx.signer->Verify(v1::TX_SIGNATURE, crypto::AsBytes(msg),
                                     crypto::AsBytes(tx.signature));
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(absl::StrCat(
        "tx: signature does not verify for chain ", std::string(chain_id)));
  }
  return s;
}

absl::StatusOr<std::string> SignTx(const tx::v1::TxBody& body,
                                   const tx::v1::AuthInfo& auth_info,
                                   std::string_view chain_id,
                                   const crypto::Ed25519PrivateKey& key) {
  tx::v1::TxRaw raw;
  if (!body.SerializeToString(raw.mutable_body_bytes()) ||
      !auth_info.SerializeToString(raw.mutable_auth_info_bytes())) {
    return absl::InternalError("tx: cannot serialise");
  }
  const std::string msg =
      SignBytes(chain_id, raw.body_bytes(), raw.auth_info_bytes());
  absl::StatusOr<crypto::Ed25519Signature> sig = key.Sign(crypto::AsBytes(msg));
  if (!sig.ok()) return sig.status();
  raw.set_signature(sig->data(), sig->size());
  std::string out;
  if (!raw.SerializeToString(&out)) {
    return absl::InternalError("tx: cannot serialise");
  }
  return out;
}

std::string HexOf(const crypto::Digest32& digest) {
  return encoding::HexEncode(
      absl::Span<const uint8_t>(digest.data(), digest.size()));
}

}  // namespace virtengine::ledger
