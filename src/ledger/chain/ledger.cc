#include "src/ledger/chain/ledger.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/crypto/hash.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/ledger/merkle/hasher.h"
#include "src/ledger/merkle/node_store.h"
#include "src/ledger/merkle/verify.h"
#include "src/modules/bank/keeper.h"

namespace virtengine::ledger {

namespace cv1 = ::virtengine::security::crypto::v1;

namespace {

// Keys outside the modules' prefixes (modules write only "<module>/...").
constexpr char kMetaChainId[] = "meta/chain_id";
constexpr char kMetaHeight[] = "meta/height";
constexpr char kMetaTime[] = "meta/time";
constexpr char kMetaHeaderHash[] = "meta/header_hash";
constexpr char kMetaStateDigest[] = "meta/state_digest";
constexpr char kMetaLedgerSize[] = "meta/ledger_size";
constexpr char kBlockPrefix[] = "block/";
constexpr char kTxLocPrefix[] = "txloc/";
constexpr char kMerklePrefix[] = "merkle/";
constexpr char kStateDigestDomain[] = "virtengine/state/v1";

std::string U64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t ReadU64(std::string_view b, size_t at = 0) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

std::string U32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string Bytes(const crypto::Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

absl::StatusOr<crypto::Digest32> DigestOf(std::string_view bytes) {
  return crypto::Sha256(cv1::CONTENT_HASH, crypto::AsBytes(bytes));
}

std::string SignedHeaderMessage(std::string_view header_bytes) {
  std::string m(kBlockSignDomain);
  m.push_back('\0');
  m.append(header_bytes);
  return m;
}

// Maps a status from Apply to a TxResult code.
uint32_t CodeOf(const absl::Status& s) {
  if (s.ok()) return kTxOk;
  if (s.code() == absl::StatusCode::kUnimplemented) return kTxUnknownMessage;
  if (s.code() == absl::StatusCode::kDeadlineExceeded) return kTxExpired;
  if (s.code() == absl::StatusCode::kAborted) return kTxMessageFailed;
  return kTxRejected;
}

}  // namespace

// Ledger tree nodes in RocksDB under "merkle/", plus the nodes appended in
// the block being executed (not yet committed).
class Ledger::StoreNodes : public merkle::NodeStore {
 public:
  explicit StoreNodes(const Store* store) : store_(store) {}

  absl::StatusOr<merkle::Hash> Get(const merkle::NodeKey& key) const override {
    const std::string k = kMerklePrefix + merkle::EncodeNodeKey(key);
    auto p = pending_.find(k);
    std::optional<std::string> v;
    if (p != pending_.end()) {
      v = p->second;
    } else {
      absl::StatusOr<std::optional<std::string>> got = store_->Get(k);
      if (!got.ok()) return got.status();
      v = *std::move(got);
    }
    if (!v.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("ledger tree node ", merkle::NodeKeyName(key)));
    }
    return merkle::HashFromBytes(crypto::AsBytes(*v));
  }

  absl::Status Put(const merkle::NodeKey& key,
                   const merkle::Hash& hash) override {
    pending_[kMerklePrefix + merkle::EncodeNodeKey(key)] = Bytes(hash);
    return absl::OkStatus();
  }

  // Moves the pending nodes into `ws` (committed with the block).
  void Drain(WriteSet* ws) {
    for (auto& [k, v] : pending_) (*ws)[k] = std::move(v);
    pending_.clear();
  }
  void Discard() { pending_.clear(); }

 private:
  const Store* store_;
  std::map<std::string, std::string> pending_;
};

Ledger::Ledger(std::unique_ptr<Store> store)
    : store_(std::move(store)),
      nodes_(std::make_unique<StoreNodes>(store_.get())) {}

Ledger::~Ledger() = default;

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const std::string& db_dir,
                                                     StoreOptions options) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(db_dir, options);
  if (!store.ok()) return store.status();
  std::unique_ptr<Ledger> l(new Ledger(*std::move(store)));
  if (absl::Status s = l->Load(); !s.ok()) return s;
  return l;
}

absl::Status Ledger::Load() {
  auto get = [&](const char* key) { return store_->Get(key); };
  absl::StatusOr<std::optional<std::string>> chain = get(kMetaChainId);
  if (!chain.ok()) return chain.status();
  uint64_t ledger_size = 0;
  if (chain->has_value()) {
    chain_id_ = **chain;
    for (const char* key : {kMetaHeight, kMetaTime, kMetaLedgerSize,
                            kMetaStateDigest, kMetaHeaderHash}) {
      absl::StatusOr<std::optional<std::string>> v = get(key);
      if (!v.ok()) return v.status();
      if (!v->has_value()) {
        return absl::DataLossError(absl::StrCat("ledger: missing ", key));
      }
    }
    height_ = ReadU64(**get(kMetaHeight));
    last_time_ = static_cast<int64_t>(ReadU64(**get(kMetaTime)));
    ledger_size = ReadU64(**get(kMetaLedgerSize));
    const std::string digest = **get(kMetaStateDigest);
    if (digest.size() != state_digest_.size()) {
      return absl::DataLossError("ledger: corrupt state digest");
    }
    std::copy(digest.begin(), digest.end(), state_digest_.begin());
    last_header_hash_ = **get(kMetaHeaderHash);
  }
  absl::StatusOr<merkle::MerkleTree> tree =
      merkle::MerkleTree::Open(nodes_.get(), ledger_size);
  if (!tree.ok()) return tree.status();
  tree_ = std::make_unique<merkle::MerkleTree>(*std::move(tree));
  check_state_ = std::make_unique<StateView>(store_.get());
  return absl::OkStatus();
}

absl::Status Ledger::InitGenesis(const Genesis& genesis) {
  if (!chain_id_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ledger: already initialised for chain ", chain_id_));
  }
  StateView view(store_.get());
  bank::Keeper bank(PrefixView(&view, std::string(bank::kModuleName)));
  if (absl::Status s = bank.InitGenesis(genesis.bank); !s.ok()) return s;
  if (absl::Status s = bank.CheckSupplyInvariant(); !s.ok()) return s;
  // The genesis state digest chains from SHA-256 of the chain id.
  absl::StatusOr<crypto::Digest32> seed = DigestOf(
      absl::StrCat(kStateDigestDomain, std::string(1, '\0'), genesis.chain_id));
  if (!seed.ok()) return seed.status();
  WriteSet ws = view.writes();
  ws[kMetaChainId] = genesis.chain_id;
  ws[kMetaHeight] = U64(0);
  ws[kMetaTime] = U64(static_cast<uint64_t>(genesis.genesis_time_unix_nano));
  ws[kMetaLedgerSize] = U64(0);
  ws[kMetaStateDigest] = Bytes(*seed);
  ws[kMetaHeaderHash] = std::string();
  if (absl::Status s = store_->Commit(ws); !s.ok()) return s;
  return Load();
}

absl::Status Ledger::Ante(StateView* view, const DecodedTx& tx) const {
  bank::Keeper bank(PrefixView(view, std::string(bank::kModuleName)));
  if (absl::Status s = bank.CheckAndIncrementSequence(tx.signer_address,
                                                      tx.auth_info.sequence());
      !s.ok()) {
    return s;
  }
  return bank.ChargeFee(tx.signer_address, tx.auth_info.fee().denom(),
                        tx.auth_info.fee().amount());
}

namespace {

// Executes the messages of `tx` on `view`. UNIMPLEMENTED for an unknown
// message type; ABORTED wrapping the first failing message's reason.
absl::Status RunMessages(StateView* view, const DecodedTx& tx,
                         std::vector<v1::Event>* events) {
  bank::Keeper bank(PrefixView(view, std::string(bank::kModuleName)));
  for (int i = 0; i < tx.body.messages_size(); ++i) {
    const google::protobuf::Any& any = tx.body.messages(i);
    if (any.type_url() != bank::kMsgSendType) {
      return absl::UnimplementedError(
          absl::StrCat("unknown message type ", any.type_url()));
    }
    bank::v1::MsgSend msg;
    if (!msg.ParseFromString(any.value())) {
      return absl::AbortedError(
          absl::StrCat("message ", i, ": not a valid MsgSend"));
    }
    if (absl::Status s = bank.HandleSend(tx.signer_address, msg); !s.ok()) {
      return absl::AbortedError(absl::StrCat("message ", i, ": ", s.message()));
    }
    if (events != nullptr) {
      bank::v1::EventTransfer ev;
      ev.set_from_address(msg.from_address());
      ev.set_to_address(msg.to_address());
      *ev.mutable_amount() = msg.amount();
      v1::Event e;
      e.mutable_body()->PackFrom(ev, "/");
      events->push_back(std::move(e));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DecodedTx> Ledger::CheckTx(std::string_view raw) {
  if (chain_id_.empty()) {
    return absl::FailedPreconditionError("ledger: no genesis");
  }
  absl::StatusOr<DecodedTx> tx = DecodeTx(raw);
  if (!tx.ok()) return tx.status();
  for (const auto& any : tx->body.messages()) {
    if (any.type_url() != bank::kMsgSendType) {
      return absl::InvalidArgumentError(
          absl::StrCat("tx: unknown message type ", any.type_url()));
    }
  }
  if (absl::Status s = VerifyTxSignature(*tx, chain_id_); !s.ok()) return s;
  const uint64_t next = height_ + 1;
  if (tx->body.timeout_height() != 0 && next > tx->body.timeout_height()) {
    return absl::DeadlineExceededError(
        absl::StrCat("tx: timeout height ", tx->body.timeout_height(),
                     " passed (next block is ", next, ")"));
  }
  StateView attempt(check_state_.get());
  if (absl::Status s = Ante(&attempt, *tx); !s.ok()) return s;
  if (absl::Status s = RunMessages(&attempt, *tx, nullptr); !s.ok()) {
    return absl::FailedPreconditionError(std::string(s.message()));
  }
  attempt.MergeInto(check_state_.get());
  return tx;
}

v1::TxResult Ledger::Deliver(StateView* block, const DecodedTx& tx,
                             uint64_t height, std::vector<v1::Event>* events) {
  v1::TxResult result;
  result.set_tx_hash(Bytes(tx.hash));
  absl::Status s;
  if (tx.body.timeout_height() != 0 && height > tx.body.timeout_height()) {
    s = absl::DeadlineExceededError("timeout height passed");
  }
  StateView ante(block);
  if (s.ok()) s = Ante(&ante, tx);
  if (s.ok()) {
    // Sequence and fee stay consumed even when a message fails.
    ante.MergeInto(block);
    StateView msgs(block);
    std::vector<v1::Event> tx_events;
    s = RunMessages(&msgs, tx, &tx_events);
    if (s.ok()) {
      msgs.MergeInto(block);
      for (v1::Event& e : tx_events) {
        e.set_height(height);
        e.set_tx_hash(Bytes(tx.hash));
        *result.add_events() = e;
        events->push_back(std::move(e));
      }
    }
  }
  result.set_code(CodeOf(s));
  if (!s.ok()) result.set_log(std::string(s.message()));
  return result;
}

absl::StatusOr<v1::Block> Ledger::ExecuteBlock(
    const std::vector<DecodedTx>& txs, int64_t time_unix_nano,
    const crypto::Ed25519PrivateKey& proposer) {
  if (chain_id_.empty()) {
    return absl::FailedPreconditionError("ledger: no genesis");
  }
  const uint64_t height = height_ + 1;
  const int64_t time = std::max(time_unix_nano, last_time_);
  StateView block(store_.get());
  std::vector<v1::Event> events;
  v1::Block out;
  merkle::MemoryNodeStore tx_nodes;
  merkle::MerkleTree tx_tree(&tx_nodes);
  merkle::NodeBatch tx_batch;
  merkle::NodeBatch ledger_batch;
  WriteSet index;
  // On any failure nothing was committed: drop the appended tree nodes and
  // reload the last committed state.
  auto fail = [&](const absl::Status& s) -> absl::Status {
    nodes_->Discard();
    absl::Status reload = Load();
    return reload.ok() ? s : reload;
  };
  for (size_t i = 0; i < txs.size(); ++i) {
    const DecodedTx& tx = txs[i];
    *out.add_results() = Deliver(&block, tx, height, &events);
    out.add_txs(tx.raw);
    const crypto::ByteView leaf(tx.hash.data(), tx.hash.size());
    if (absl::Status s = tx_tree.Append(leaf, &tx_batch).status(); !s.ok()) {
      return fail(s);
    }
    if (absl::Status s = tx_nodes.Write(tx_batch); !s.ok()) return fail(s);
    tx_batch.clear();
    absl::StatusOr<merkle::AppendResult> app =
        tree_->Append(leaf, &ledger_batch);
    if (!app.ok()) return fail(app.status());
    if (absl::Status s = nodes_->Write(ledger_batch); !s.ok()) return fail(s);
    ledger_batch.clear();
    index[kTxLocPrefix + Bytes(tx.hash)] =
        U64(height) + U32(static_cast<uint32_t>(i)) + U64(app->leaf_index);
  }
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].set_index(static_cast<uint32_t>(i));
  }
  // The state digest chains the previous digest with this block's writes in
  // key order: every node executing the same block gets the same digest.
  std::string acc = absl::StrCat(kStateDigestDomain, std::string(1, '\0'),
                                 Bytes(state_digest_));
  for (const auto& [k, v] : block.writes()) {
    absl::StrAppend(&acc, U32(static_cast<uint32_t>(k.size())), k,
                    v.has_value() ? std::string(1, '\1') : std::string(1, '\0'),
                    U32(v.has_value() ? static_cast<uint32_t>(v->size()) : 0),
                    v.value_or(""));
  }
  absl::StatusOr<crypto::Digest32> digest = DigestOf(acc);
  if (!digest.ok()) return fail(digest.status());
  absl::StatusOr<merkle::Hash> tx_root = tx_tree.Root();
  absl::StatusOr<merkle::Hash> ledger_root = tree_->Root();
  if (!tx_root.ok()) return fail(tx_root.status());
  if (!ledger_root.ok()) return fail(ledger_root.status());

  v1::BlockHeader header;
  header.set_chain_id(chain_id_);
  header.set_height(height);
  header.set_time_unix_nano(time);
  header.set_previous_hash(last_header_hash_);
  header.set_tx_root(Bytes(*tx_root));
  header.set_ledger_root(Bytes(*ledger_root));
  header.set_ledger_size(tree_->size());
  header.set_state_digest(Bytes(*digest));
  header.set_proposer(
      std::string(crypto::AsChars(proposer.public_key().view())));
  const std::string header_bytes = header.SerializeAsString();
  absl::StatusOr<crypto::Ed25519Signature> sig =
      proposer.Sign(crypto::AsBytes(SignedHeaderMessage(header_bytes)));
  if (!sig.ok()) return fail(sig.status());
  out.mutable_header()->set_header_bytes(header_bytes);
  out.mutable_header()->set_signature(sig->data(), sig->size());
  absl::StatusOr<crypto::Digest32> header_hash = DigestOf(header_bytes);
  if (!header_hash.ok()) return fail(header_hash.status());

  WriteSet ws = block.writes();
  for (auto& [k, v] : index) ws[k] = std::move(v);
  nodes_->Drain(&ws);
  ws[kBlockPrefix + U64(height)] = out.SerializeAsString();
  ws[kMetaHeight] = U64(height);
  ws[kMetaTime] = U64(static_cast<uint64_t>(time));
  ws[kMetaLedgerSize] = U64(tree_->size());
  ws[kMetaStateDigest] = Bytes(*digest);
  ws[kMetaHeaderHash] = Bytes(*header_hash);
  if (absl::Status s = store_->Commit(ws); !s.ok()) return fail(s);
  height_ = height;
  last_time_ = time;
  state_digest_ = *digest;
  last_header_hash_ = Bytes(*header_hash);
  // Admitted txs that were not in this block stay admitted only if they
  // still apply; the node re-checks its mempool after each block.
  check_state_ = std::make_unique<StateView>(store_.get());
  return out;
}

absl::StatusOr<v1::Block> Ledger::GetBlock(uint64_t height) const {
  if (height == 0) height = height_;
  absl::StatusOr<std::optional<std::string>> v =
      store_->Get(kBlockPrefix + U64(height));
  if (!v.ok()) return v.status();
  if (!v->has_value()) {
    return absl::NotFoundError(absl::StrCat("no block at height ", height));
  }
  v1::Block b;
  if (!b.ParseFromString(**v)) {
    return absl::DataLossError(absl::StrCat("corrupt block ", height));
  }
  return b;
}

namespace {
struct TxLoc {
  uint64_t height;
  uint32_t index;
  uint64_t leaf;
};
}  // namespace

absl::StatusOr<std::pair<v1::Block, uint32_t>> Ledger::GetTx(
    const crypto::Digest32& tx_hash) const {
  absl::StatusOr<std::optional<std::string>> v =
      store_->Get(kTxLocPrefix + Bytes(tx_hash));
  if (!v.ok()) return v.status();
  if (!v->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no committed tx ", HexOf(tx_hash)));
  }
  const std::string& loc = **v;
  if (loc.size() != 20) return absl::DataLossError("corrupt tx index");
  const uint64_t height = ReadU64(loc);
  // loc = u64be height || u32be index || u64be leaf
  const uint32_t index =
      (static_cast<uint32_t>(static_cast<uint8_t>(loc[8])) << 24) |
      (static_cast<uint32_t>(static_cast<uint8_t>(loc[9])) << 16) |
      (static_cast<uint32_t>(static_cast<uint8_t>(loc[10])) << 8) |
      static_cast<uint32_t>(static_cast<uint8_t>(loc[11]));
  absl::StatusOr<v1::Block> block = GetBlock(height);
  if (!block.ok()) return block.status();
  return std::make_pair(*std::move(block), index);
}

absl::StatusOr<v1::Receipt> Ledger::GetReceipt(
    const crypto::Digest32& tx_hash) const {
  absl::StatusOr<std::optional<std::string>> v =
      store_->Get(kTxLocPrefix + Bytes(tx_hash));
  if (!v.ok()) return v.status();
  if (!v->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no committed tx ", HexOf(tx_hash)));
  }
  const std::string& loc = **v;
  if (loc.size() != 20) return absl::DataLossError("corrupt tx index");
  const uint64_t leaf = ReadU64(loc, 12);
  absl::StatusOr<v1::Block> block = GetBlock(ReadU64(loc));
  if (!block.ok()) return block.status();
  v1::BlockHeader header;
  if (!header.ParseFromString(block->header().header_bytes())) {
    return absl::DataLossError("corrupt block header");
  }
  absl::StatusOr<std::vector<merkle::Hash>> path =
      tree_->InclusionProof(leaf, header.ledger_size());
  if (!path.ok()) return path.status();
  absl::StatusOr<merkle::Hash> leaf_hash =
      merkle::HashLeaf(crypto::ByteView(tx_hash.data(), tx_hash.size()));
  if (!leaf_hash.ok()) return leaf_hash.status();
  v1::Receipt r;
  r.set_tx_hash(Bytes(tx_hash));
  r.set_leaf_index(leaf);
  r.set_tree_size(header.ledger_size());
  r.set_leaf_hash(Bytes(*leaf_hash));
  for (const merkle::Hash& h : *path) r.add_audit_path(Bytes(h));
  r.set_root(header.ledger_root());
  *r.mutable_header() = block->header();
  return r;
}

absl::StatusOr<bank::v1::QueryBalanceResponse> Ledger::QueryBalance(
    std::string_view address, std::string_view denom) const {
  StateView view(store_.get());
  bank::Keeper bank(PrefixView(&view, std::string(bank::kModuleName)));
  if (absl::Status s = bank::ValidateAccount("address", address); !s.ok()) {
    return s;
  }
  absl::StatusOr<uint64_t> bal = bank.Balance(address, denom);
  if (!bal.ok()) return bal.status();
  absl::StatusOr<uint64_t> seq = bank.Sequence(address);
  if (!seq.ok()) return seq.status();
  bank::v1::QueryBalanceResponse r;
  r.mutable_balance()->set_denom(std::string(denom));
  r.mutable_balance()->set_amount(*bal);
  r.set_sequence(*seq);
  r.set_height(height_);
  return r;
}

absl::Status Ledger::CheckInvariants() const {
  StateView view(store_.get());
  bank::Keeper bank(PrefixView(&view, std::string(bank::kModuleName)));
  return bank.CheckSupplyInvariant();
}

absl::Status VerifyReceipt(const v1::Receipt& receipt,
                           std::string_view node_key) {
  v1::BlockHeader header;
  if (!header.ParseFromString(receipt.header().header_bytes())) {
    return absl::InvalidArgumentError("receipt: header is not a BlockHeader");
  }
  if (!node_key.empty() && header.proposer() != node_key) {
    return absl::PermissionDeniedError(
        "receipt: header signed by another key than the given node key");
  }
  absl::StatusOr<crypto::Ed25519PublicKey> key =
      crypto::Ed25519PublicKey::FromBytes(crypto::AsBytes(header.proposer()));
  if (!key.ok()) return key.status();
  if (absl::Status s = key->Verify(
          cv1::NODE_SIGNATURE,
          crypto::AsBytes(SignedHeaderMessage(receipt.header().header_bytes())),
          crypto::AsBytes(receipt.header().signature()));
      !s.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("receipt: header signature: ", s.message()));
  }
  if (receipt.root() != header.ledger_root() ||
      receipt.tree_size() != header.ledger_size()) {
    return absl::InvalidArgumentError(
        "receipt: root or tree size differs from the signed header");
  }
  if (receipt.tx_hash().size() != 32) {
    return absl::InvalidArgumentError("receipt: tx hash is not 32 bytes");
  }
  absl::StatusOr<merkle::Hash> leaf =
      merkle::HashLeaf(crypto::AsBytes(receipt.tx_hash()));
  if (!leaf.ok()) return leaf.status();
  if (Bytes(*leaf) != receipt.leaf_hash()) {
    return absl::InvalidArgumentError(
        "receipt: leaf hash is not the RFC 6962 hash of the tx hash");
  }
  std::vector<merkle::Hash> path;
  for (const std::string& p : receipt.audit_path()) {
    absl::StatusOr<merkle::Hash> h = merkle::HashFromBytes(crypto::AsBytes(p));
    if (!h.ok()) return h.status();
    path.push_back(*h);
  }
  absl::StatusOr<merkle::Hash> root =
      merkle::HashFromBytes(crypto::AsBytes(receipt.root()));
  if (!root.ok()) return root.status();
  return merkle::VerifyInclusion(*leaf, receipt.leaf_index(),
                                 receipt.tree_size(), path, *root);
}

}  // namespace virtengine::ledger
