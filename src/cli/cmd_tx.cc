// Signed transactions: the shared builder (flags, key store signing,
// self-check) and vectl tx bank send.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/hash.h"
#include "security/keys/key_record.h"
#include "security/validate/number.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/cli/command.h"
#include "src/cli/inputs.h"
#include "src/cli/json.h"
#include "src/cli/node_client.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::cli {

namespace cv1 = ::virtengine::security::crypto::v1;

namespace {

constexpr char kMsgSendTypeUrl[] = "/virtengine.bank.v1.MsgSend";

}  // namespace

absl::StatusOr<TxFlags> ParseTxFlags(const Context& ctx) {
  TxFlags f;
  absl::StatusOr<bank::v1::Coin> fee =
      ParseCoin("--fee", ctx.Flag("fee").value_or(kDefaultFee));
  if (!fee.ok()) return UsageError(fee.status());
  f.fee = *std::move(fee);
  f.memo = ctx.Flag("memo").value_or("");
  if (absl::Status s = ValidateMemo("--memo", f.memo); !s.ok()) {
    return UsageError(s);
  }
  if (std::optional<std::string> t = ctx.Flag("timeout-height")) {
    absl::StatusOr<uint64_t> n = validate::ParseUint64("--timeout-height", *t);
    if (!n.ok()) return UsageError(n.status());
    f.timeout_height = *n;
  }
  f.chain_id = ctx.Flag("chain-id");
  if (f.chain_id.has_value()) {
    if (absl::Status s = ValidateChainId("--chain-id", *f.chain_id); !s.ok()) {
      return UsageError(s);
    }
  }
  if (std::optional<std::string> q = ctx.Flag("sequence")) {
    absl::StatusOr<uint64_t> n = validate::ParseUint64("--sequence", *q);
    if (!n.ok()) return UsageError(n.status());
    f.sequence = *n;
  }
  f.dry_run = ctx.Has("dry-run");
  f.wait = ctx.Has("wait");
  if (f.dry_run && f.wait) {
    return UsageError("--dry-run and --wait exclude each other");
  }
  return f;
}

absl::StatusOr<SignedTx> BuildSignedTx(const Context& ctx,
                                       const std::string& from_key,
                                       const TxFlags& flags,
                                       const TxMessages& messages) {
  absl::StatusOr<OpenedStore> st = OpenStore(ctx, false);
  if (!st.ok()) return st.status();
  absl::StatusOr<keys::KeyInfo> key = st->store->ActiveKey(from_key);
  if (!key.ok())
    return Prefixed(absl::StrCat("FROM_KEY ", from_key), key.status());
  if (key->algorithm != keys::KeyAlgorithm::kEd25519 ||
      key->purpose != cv1::TX_SIGNATURE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "FROM_KEY ", from_key, " is ", keys::KeyAlgorithmName(key->algorithm),
        " ", crypto::PurposeName(key->purpose),
        "; transactions are signed with Ed25519 TX_SIGNATURE keys"));
  }
  absl::StatusOr<crypto::Ed25519PublicKey> pub =
      crypto::Ed25519PublicKey::FromBytes(
          crypto::ByteView(key->public_key.data(), key->public_key.size()));
  if (!pub.ok()) return pub.status();
  SignedTx out;
  out.signer = ledger::AddressFromPublicKey(*pub);

  std::optional<std::string> chain_id = flags.chain_id;
  std::optional<uint64_t> sequence = flags.sequence;
  std::optional<NodeClient> client;
  if (!chain_id.has_value() || !sequence.has_value()) {
    client.emplace(ctx.node, ctx.timeout);
  }
  if (!chain_id.has_value()) {
    absl::StatusOr<node::v1::StatusResponse> status = client->Status();
    if (!status.ok()) {
      return Prefixed(absl::StrCat("Status from ", ctx.node,
                                   " (for the chain id; or pass --chain-id)"),
                      status.status());
    }
    if (absl::Status s = ValidateChainId("node chain id", status->chain_id());
        !s.ok()) {
      return s;
    }
    chain_id = status->chain_id();
  }
  if (!sequence.has_value()) {
    absl::StatusOr<bank::v1::QueryBalanceResponse> bal =
        client->QueryBalance(out.signer, flags.fee.denom());
    if (!bal.ok()) {
      return Prefixed(absl::StrCat("QueryBalance from ", ctx.node,
                                   " (for the sequence; or pass --sequence)"),
                      bal.status());
    }
    sequence = bal->sequence();
  }

  absl::StatusOr<std::vector<google::protobuf::Any>> msgs =
      messages(out.signer);
  if (!msgs.ok()) return msgs.status();
  tx::v1::TxBody body;
  for (google::protobuf::Any& m : *msgs) *body.add_messages() = std::move(m);
  body.set_memo(flags.memo);
  body.set_timeout_height(flags.timeout_height);
  tx::v1::AuthInfo auth;
  auth.set_public_key(std::string(crypto::AsChars(pub->view())));
  auth.set_sequence(*sequence);
  auth.mutable_fee()->set_amount(flags.fee.amount());
  auth.mutable_fee()->set_denom(flags.fee.denom());

  tx::v1::TxRaw raw;
  if (!body.SerializeToString(raw.mutable_body_bytes()) ||
      !auth.SerializeToString(raw.mutable_auth_info_bytes())) {
    return absl::InternalError("cannot serialise the transaction");
  }
  // The key store signs; the key's secret never leaves it.
  const std::string sign_bytes =
      ledger::SignBytes(*chain_id, raw.body_bytes(), raw.auth_info_bytes());
  absl::StatusOr<keys::SignedBy> sig =
      st->store->SignAsActive(from_key, crypto::AsBytes(sign_bytes));
  if (!sig.ok()) return Prefixed("signing", sig.status());
  raw.set_signature(sig->signature.data(), sig->signature.size());
  if (!raw.SerializeToString(&out.bytes)) {
    return absl::InternalError("cannot serialise the transaction");
  }
  // Self-check: what the node will check first.
  absl::StatusOr<ledger::DecodedTx> decoded = ledger::DecodeTx(out.bytes);
  if (!decoded.ok()) return Prefixed("built transaction", decoded.status());
  if (absl::Status s = ledger::VerifyTxSignature(*decoded, *chain_id);
      !s.ok()) {
    return Prefixed("built transaction", s);
  }
  out.hash_hex = ledger::HexOf(decoded->hash);
  out.chain_id = *std::move(chain_id);
  out.sequence = *sequence;
  return out;
}

void PrintDryRun(const Context& ctx, const SignedTx& tx) {
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("tx")
        .String(encoding::HexEncode(tx.bytes))
        .Key("tx_hash")
        .String(tx.hash_hex)
        .Key("chain_id")
        .String(tx.chain_id)
        .Key("sequence")
        .Uint(tx.sequence)
        .EndObject();
    ctx.out << w.str() << "\n";
  } else {
    ctx.out << encoding::HexEncode(tx.bytes) << "\n";
  }
}

absl::Status RunTxBankSend(Context& ctx) {
  const std::string& from_key = ctx.args[0];
  const std::string& to = ctx.args[1];
  // Every input is checked before the key store or the node is touched.
  if (absl::Status s = keys::ValidateKeyName(from_key); !s.ok()) {
    return UsageError(Prefixed("FROM_KEY", s));
  }
  if (absl::Status s = ValidateAccountAddress("TO_ADDRESS", to); !s.ok()) {
    return UsageError(s);
  }
  absl::StatusOr<bank::v1::Coin> amount = ParseCoin("AMOUNT", ctx.args[2], 1);
  if (!amount.ok()) return UsageError(amount.status());
  absl::StatusOr<TxFlags> flags = ParseTxFlags(ctx);
  if (!flags.ok()) return flags.status();

  absl::StatusOr<SignedTx> tx =
      BuildSignedTx(ctx, from_key, *flags,
                    [&](const std::string& from)
                        -> absl::StatusOr<std::vector<google::protobuf::Any>> {
                      bank::v1::MsgSend msg;
                      msg.set_from_address(from);
                      msg.set_to_address(to);
                      *msg.mutable_amount() = *amount;
                      std::vector<google::protobuf::Any> msgs(1);
                      msgs[0].set_type_url(kMsgSendTypeUrl);
                      msgs[0].set_value(msg.SerializeAsString());
                      return msgs;
                    });
  if (!tx.ok()) return tx.status();
  if (flags->dry_run) {
    PrintDryRun(ctx, *tx);
    return absl::OkStatus();
  }
  const std::string& hash_hex = tx->hash_hex;
  const bool wait = flags->wait;

  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<node::v1::SubmitTxResponse> resp =
      client.SubmitTx(tx->bytes, wait);
  if (!resp.ok()) {
    return Prefixed(absl::StrCat("SubmitTx ", hash_hex), resp.status());
  }
  const std::string node_hash =
      resp->tx_hash().empty() ? hash_hex : encoding::HexEncode(resp->tx_hash());
  const uint32_t code = resp->result().code();
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject().Key("tx_hash").String(node_hash);
    w.Key("code").Uint(code).Key("log").String(resp->result().log());
    if (wait) w.Key("height").Uint(resp->height());
    w.EndObject();
    ctx.out << w.str() << "\n";
  } else {
    ctx.out << "tx_hash: " << node_hash << "\n"
            << "code: " << code << (code == 0 ? " (ok)" : "") << "\n";
    if (!resp->result().log().empty()) {
      ctx.out << "log: " << TextSafe(resp->result().log()) << "\n";
    }
    if (wait) ctx.out << "height: " << resp->height() << "\n";
  }
  if (node_hash != hash_hex) {
    return absl::DataLossError(absl::StrCat(
        "the node reports tx hash ", node_hash, " but the tx is ", hash_hex));
  }
  if (code != 0) {
    return absl::AbortedError(absl::StrCat("transaction ", node_hash,
                                           " failed with code ", code, ": ",
                                           resp->result().log()));
  }
  return absl::OkStatus();
}

}  // namespace virtengine::cli
