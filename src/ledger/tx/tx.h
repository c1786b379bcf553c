#ifndef VIRTENGINE_SRC_LEDGER_TX_TX_H_
#define VIRTENGINE_SRC_LEDGER_TX_TX_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/hash.h"
#include "src/api/tx/v1/tx.pb.h"

namespace virtengine::ledger {

// Limits on what a transaction may carry. Defaults are the genesis defaults.
struct TxLimits {
  size_t max_tx_bytes = 64 * 1024;
  size_t max_messages = 32;
  size_t max_message_bytes = 16 * 1024;
  size_t max_memo_bytes = 256;
  size_t max_type_url_bytes = 128;
};

inline constexpr std::string_view kAddressHrp = "ve";
inline constexpr size_t kAddressBytes = 20;
inline constexpr std::string_view kTxSignDomain = "virtengine/tx/v1";

// ve1... : bech32 of the first 20 bytes of SHA-256(public key).
std::string AddressFromPublicKey(const crypto::Ed25519PublicKey& key);

// The exact bytes a signer signs (docs/ledger/transactions.md):
//   "virtengine/tx/v1" 0x00 || u32be(len) chain_id || u32be(len) body_bytes
//   || u32be(len) auth_info_bytes
std::string SignBytes(std::string_view chain_id, std::string_view body_bytes,
                      std::string_view auth_info_bytes);

// A transaction decoded and checked for structure and limits; the signature
// is not yet verified (VerifyTxSignature).
struct DecodedTx {
  std::string raw;          // the TxRaw bytes as received
  crypto::Digest32 hash{};  // SHA-256 of `raw`: the tx hash
  std::string body_bytes;
  std::string auth_info_bytes;
  std::string signature;
  tx::v1::TxBody body;
  tx::v1::AuthInfo auth_info;
  std::optional<crypto::Ed25519PublicKey> signer;
  std::string signer_address;
};

// Decodes TxRaw bytes. INVALID_ARGUMENT, with a reason starting "tx: ", for:
// oversize tx, undecodable or unknown fields in TxRaw/TxBody/AuthInfo, no
// messages or too many, an oversize message or type URL, a memo over the
// limit or not valid UTF-8, a public key that is not 32 bytes, a signature
// that is not 64 bytes.
absl::StatusOr<DecodedTx> DecodeTx(std::string_view raw,
                                   const TxLimits& limits = TxLimits());

// UNAUTHENTICATED "tx: signature does not verify for chain <id>" unless the
// signature is the signer's over SignBytes(chain_id, ...).
absl::Status VerifyTxSignature(const DecodedTx& tx, std::string_view chain_id);

// Client side: serialises body and auth info, signs, returns TxRaw bytes.
absl::StatusOr<std::string> SignTx(const tx::v1::TxBody& body,
                                   const tx::v1::AuthInfo& auth_info,
                                   std::string_view chain_id,
                                   const crypto::Ed25519PrivateKey& key);

std::string HexOf(const crypto::Digest32& digest);

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_TX_TX_H_
