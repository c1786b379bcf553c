// vectl status | query bank balance | query tx | receipt get | receipt verify.
#include <string>

#include "absl/strings/str_cat.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/cli/command.h"
#include "src/cli/files.h"
#include "src/cli/inputs.h"
#include "src/cli/json.h"
#include "src/cli/node_client.h"
#include "src/cli/receipt_json.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::cli {

namespace lv1 = ::virtengine::ledger::v1;

namespace {

constexpr char kMsgSendTypeUrl[] = "/virtengine.bank.v1.MsgSend";

std::string Hex(std::string_view b) { return encoding::HexEncode(b); }

absl::StatusOr<std::string> HashArg(const Context& ctx) {
  absl::StatusOr<std::string> h = ParseHash32("HASH", ctx.args[0]);
  if (!h.ok()) return UsageError(h.status());
  return h;
}

}  // namespace

absl::Status RunStatus(Context& ctx) {
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<node::v1::StatusResponse> s = client.Status();
  if (!s.ok())
    return Prefixed(absl::StrCat("Status from ", ctx.node), s.status());
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("chain_id")
        .String(s->chain_id())
        .Key("height")
        .Uint(s->height())
        .Key("last_block_hash")
        .String(Hex(s->last_block_hash()))
        .Key("node_public_key")
        .String(Hex(s->node_public_key()))
        .Key("version")
        .String(s->version())
        .Key("mempool_size")
        .Uint(s->mempool_size())
        .Key("is_leader")
        .Bool(s->is_leader())
        .Key("attested")
        .Bool(s->attested())
        .Key("insecure_no_tpm")
        .Bool(s->insecure_no_tpm())
        .Key("measurement_name")
        .String(s->measurement_name())
        .Key("measurement_version")
        .String(s->measurement_version())
        .EndObject();
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  // Strings from the node are shown escaped (TextSafe).
  ctx.out << "chain_id: " << TextSafe(s->chain_id()) << "\n"
          << "height: " << s->height() << "\n"
          << "last_block_hash: " << Hex(s->last_block_hash()) << "\n"
          << "node_public_key: " << Hex(s->node_public_key()) << "\n"
          << "version: " << TextSafe(s->version()) << "\n"
          << "mempool_size: " << s->mempool_size() << "\n"
          << "is_leader: " << (s->is_leader() ? "true" : "false") << "\n"
          << "attested: " << (s->attested() ? "true" : "false") << "\n";
  if (s->insecure_no_tpm()) {
    ctx.out << "insecure_no_tpm: true (no TPM: this node cannot prove what "
               "it runs)\n";
  }
  if (!s->measurement_name().empty()) {
    ctx.out << "measurement: " << TextSafe(s->measurement_name()) << " "
            << TextSafe(s->measurement_version()) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunQueryBankBalance(Context& ctx) {
  const std::string& address = ctx.args[0];
  if (absl::Status s = ValidateAccountAddress("ADDRESS", address); !s.ok()) {
    return UsageError(s);
  }
  const std::string denom = ctx.Flag("denom").value_or(kDefaultDenom);
  if (absl::Status s = ValidateDenom("--denom", denom); !s.ok()) {
    return UsageError(s);
  }
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<bank::v1::QueryBalanceResponse> r =
      client.QueryBalance(address, denom);
  if (!r.ok()) {
    return Prefixed(absl::StrCat("QueryBalance from ", ctx.node), r.status());
  }
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("address")
        .String(address)
        .Key("denom")
        .String(denom)
        .Key("amount")
        .Uint(r->balance().amount())
        .Key("sequence")
        .Uint(r->sequence())
        .Key("height")
        .Uint(r->height())
        .EndObject();
    ctx.out << w.str() << "\n";
  } else {
    ctx.out << "address: " << address << "\n"
            << "balance: " << r->balance().amount() << denom << "\n"
            << "sequence: " << r->sequence() << "\n"
            << "height: " << r->height() << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunQueryTx(Context& ctx) {
  absl::StatusOr<std::string> hash = HashArg(ctx);
  if (!hash.ok()) return hash.status();
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<node::v1::GetTxResponse> r = client.GetTx(*hash);
  if (!r.ok())
    return Prefixed(absl::StrCat("GetTx from ", ctx.node), r.status());
  absl::StatusOr<ledger::DecodedTx> tx = ledger::DecodeTx(r->tx());
  if (!tx.ok()) return Prefixed("the node's tx", tx.status());
  if (ledger::HexOf(tx->hash) != Hex(*hash)) {
    return absl::DataLossError(absl::StrCat("the node returned tx ",
                                            ledger::HexOf(tx->hash),
                                            " for hash ", Hex(*hash)));
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("tx_hash").String(Hex(*hash));
  w.Key("height").Uint(r->height());
  w.Key("code").Uint(r->result().code());
  w.Key("log").String(r->result().log());
  w.Key("signer").String(tx->signer_address);
  w.Key("sequence").Uint(tx->auth_info.sequence());
  w.Key("fee").String(
      absl::StrCat(tx->auth_info.fee().amount(), tx->auth_info.fee().denom()));
  w.Key("memo").String(tx->body.memo());
  w.Key("timeout_height").Uint(tx->body.timeout_height());
  w.Key("messages").BeginArray();
  std::string text_msgs;
  for (const google::protobuf::Any& m : tx->body.messages()) {
    w.BeginObject().Key("type").String(m.type_url());
    bank::v1::MsgSend send;
    if (m.type_url() == kMsgSendTypeUrl && send.ParseFromString(m.value())) {
      const std::string coin =
          absl::StrCat(send.amount().amount(), send.amount().denom());
      w.Key("from_address").String(send.from_address());
      w.Key("to_address").String(send.to_address());
      w.Key("amount").String(coin);
      absl::StrAppend(&text_msgs, "message: ", kMsgSendTypeUrl, " ",
                      send.from_address(), " -> ", send.to_address(), " ", coin,
                      "\n");
    } else {
      absl::StrAppend(&text_msgs, "message: ", m.type_url(), "\n");
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  if (ctx.json) {
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  std::string memo;
  AppendJsonString(&memo, tx->body.memo());
  ctx.out << "tx_hash: " << Hex(*hash) << "\n"
          << "height: " << r->height() << "\n"
          << "code: " << r->result().code() << "\n"
          << "log: " << TextSafe(r->result().log()) << "\n"
          << "signer: " << tx->signer_address << "\n"
          << "sequence: " << tx->auth_info.sequence() << "\n"
          << "fee: " << tx->auth_info.fee().amount()
          << TextSafe(tx->auth_info.fee().denom()) << "\n"
          << "memo: " << memo << "\n"
          << "timeout_height: " << tx->body.timeout_height() << "\n"
          << text_msgs;
  return absl::OkStatus();
}

absl::Status RunReceiptGet(Context& ctx) {
  absl::StatusOr<std::string> hash = HashArg(ctx);
  if (!hash.ok()) return hash.status();
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<node::v1::GetReceiptResponse> r = client.GetReceipt(*hash);
  if (!r.ok()) {
    return Prefixed(absl::StrCat("GetReceipt from ", ctx.node), r.status());
  }
  const lv1::Receipt& receipt = r->receipt();
  if (receipt.tx_hash() != *hash) {
    return absl::DataLossError(absl::StrCat("the node returned the receipt of ",
                                            Hex(receipt.tx_hash()),
                                            " for hash ", Hex(*hash)));
  }
  absl::StatusOr<std::string> json = ReceiptToJson(receipt);
  if (!json.ok()) return Prefixed("the node's receipt", json.status());
  if (ctx.json) {
    ctx.out << *json << "\n";
    return absl::OkStatus();
  }
  lv1::BlockHeader h;
  if (!h.ParseFromString(receipt.header().header_bytes())) {
    return absl::InternalError("receipt header does not parse");
  }
  ctx.out << "tx_hash: " << Hex(receipt.tx_hash()) << "\n"
          << "leaf_index: " << receipt.leaf_index() << "\n"
          << "tree_size: " << receipt.tree_size() << "\n"
          << "leaf_hash: " << Hex(receipt.leaf_hash()) << "\n";
  for (int i = 0; i < receipt.audit_path_size(); ++i) {
    ctx.out << "audit_path[" << i << "]: " << Hex(receipt.audit_path(i))
            << "\n";
  }
  ctx.out << "root: " << Hex(receipt.root()) << "\n"
          << "header.chain_id: " << TextSafe(h.chain_id()) << "\n"
          << "header.height: " << h.height() << "\n"
          << "header.time_unix_nano: " << h.time_unix_nano() << "\n"
          << "header.ledger_root: " << Hex(h.ledger_root()) << "\n"
          << "header.ledger_size: " << h.ledger_size() << "\n"
          << "header.state_digest: " << Hex(h.state_digest()) << "\n"
          << "signature: " << Hex(receipt.header().signature()) << "\n"
          << "signer_key: " << Hex(h.proposer()) << "\n"
          << "(save it with --output json; check it with 'vectl receipt "
             "verify FILE --node-key HEX')\n";
  return absl::OkStatus();
}

absl::Status RunReceiptVerify(Context& ctx) {
  std::string node_key;
  if (std::optional<std::string> k = ctx.Flag("node-key")) {
    absl::StatusOr<std::string> b = ParseHash32("--node-key", *k);
    if (!b.ok()) return UsageError(b.status());
    node_key = *b;
  }
  absl::StatusOr<std::string> file =
      ReadUserFile("FILE", ctx.env.cwd, ctx.args[0], kMaxReceiptJsonBytes);
  if (!file.ok()) return UsageError(file.status());
  absl::Status result;
  absl::StatusOr<lv1::Receipt> receipt = ReceiptFromJson(*file);
  if (!receipt.ok()) {
    result = receipt.status();
  } else {
    result = ledger::VerifyReceipt(*receipt, node_key);
  }
  if (!result.ok()) {
    if (ctx.json) {
      JsonWriter w;
      w.BeginObject().Key("ok").Bool(false).Key("reason").String(
          std::string(result.message()));
      w.EndObject();
      ctx.out << w.str() << "\n";
    } else {
      ctx.out << "FAILED: " << result.message() << "\n";
    }
    return absl::Status(result.code(), absl::StrCat("receipt does not verify: ",
                                                    result.message()));
  }
  lv1::BlockHeader h;
  if (!h.ParseFromString(receipt->header().header_bytes())) {
    return absl::InternalError("receipt header does not parse");
  }
  if (node_key.empty()) {
    ctx.err << "warning: no --node-key: the receipt was checked against the "
               "key it names itself ("
            << Hex(h.proposer())
            << "); compare that key with your node's public key\n";
  }
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("ok")
        .Bool(true)
        .Key("tx_hash")
        .String(Hex(receipt->tx_hash()))
        .Key("leaf_index")
        .Uint(receipt->leaf_index())
        .Key("tree_size")
        .Uint(receipt->tree_size())
        .Key("height")
        .Uint(h.height())
        .Key("chain_id")
        .String(h.chain_id())
        .Key("signer_key")
        .String(Hex(h.proposer()))
        .Key("node_key_pinned")
        .Bool(!node_key.empty())
        .EndObject();
    ctx.out << w.str() << "\n";
  } else {
    std::string chain;
    AppendJsonString(&chain, h.chain_id());
    ctx.out << "OK: tx " << Hex(receipt->tx_hash()) << " is leaf "
            << receipt->leaf_index() << " of " << receipt->tree_size()
            << " in the ledger at height " << h.height() << " of chain "
            << chain << ", header signed by " << Hex(h.proposer()) << "\n";
  }
  return absl::OkStatus();
}

}  // namespace virtengine::cli
