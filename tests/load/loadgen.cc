#include "tests/load/loadgen.h"

#include "absl/strings/str_cat.h"
#include "security/crypto/hash.h"
#include "security/crypto/secret_bytes.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::loadgen {

namespace cv1 = ::virtengine::security::crypto::v1;

absl::StatusOr<crypto::Ed25519PrivateKey> AccountKey(uint32_t index) {
  // Public, fixed input keying material: these keys protect nothing.
  static constexpr char kIkm[] = "virtengine/loadgen/v1 benchmark accounts";
  std::string info;
  for (int shift = 24; shift >= 0; shift -= 8) {
    info.push_back(static_cast<char>((index >> shift) & 0xff));
  }
  absl::StatusOr<crypto::SecretBytes> seed = crypto::HkdfSha256(
      cv1::KEY_DERIVATION,
      crypto::SecretBytes::CopyFrom(std::string_view(kIkm)), crypto::ByteView(),
      crypto::AsBytes(info), crypto::Ed25519PrivateKey::kSeedSize);
  if (!seed.ok()) return seed.status();
  return crypto::Ed25519PrivateKey::FromSeed(cv1::TX_SIGNATURE, *seed);
}

absl::StatusOr<std::string> AccountAddress(uint32_t index) {
  absl::StatusOr<crypto::Ed25519PrivateKey> key = AccountKey(index);
  if (!key.ok()) return key.status();
  return ledger::AddressFromPublicKey(key->public_key());
}

absl::StatusOr<Transfer> MakeTx(
    const crypto::Ed25519PrivateKey& from_key,
    const std::vector<google::protobuf::Any>& messages, uint64_t fee,
    const std::string& denom, uint64_t sequence, const std::string& chain_id,
    const std::string& memo) {
  tx::v1::TxBody body;
  for (const google::protobuf::Any& m : messages) *body.add_messages() = m;
  body.set_memo(memo);
  tx::v1::AuthInfo auth;
  auth.set_public_key(
      std::string(crypto::AsChars(from_key.public_key().view())));
  auth.set_sequence(sequence);
  auth.mutable_fee()->set_amount(fee);
  auth.mutable_fee()->set_denom(denom);
  absl::StatusOr<std::string> raw =
      ledger::SignTx(body, auth, chain_id, from_key);
  if (!raw.ok()) return raw.status();
  absl::StatusOr<crypto::Digest32> h =
      crypto::Sha256(cv1::CONTENT_HASH, crypto::AsBytes(*raw));
  if (!h.ok()) return h.status();
  Transfer t;
  t.raw = *std::move(raw);
  t.hash.assign(reinterpret_cast<const char*>(h->data()), h->size());
  t.sequence = sequence;
  return t;
}

absl::StatusOr<Transfer> MakeTransfer(
    const crypto::Ed25519PrivateKey& from_key, const std::string& to_address,
    uint64_t amount, uint64_t fee, const std::string& denom, uint64_t sequence,
    const std::string& chain_id, const std::string& memo) {
  bank::v1::MsgSend msg;
  msg.set_from_address(ledger::AddressFromPublicKey(from_key.public_key()));
  msg.set_to_address(to_address);
  msg.mutable_amount()->set_denom(denom);
  msg.mutable_amount()->set_amount(amount);
  google::protobuf::Any any;
  any.PackFrom(msg, "/");
  return MakeTx(from_key, {any}, fee, denom, sequence, chain_id, memo);
}

}  // namespace virtengine::loadgen
