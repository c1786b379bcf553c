#include "src/ledger/chain/ledger.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "security/crypto/hash.h"
#include "security/validate/identifier.h"
#include "src/api/tx/v1/tx.pb.h"
#include "src/common/encoding/big_endian.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/merkle/hasher.h"
#include "src/ledger/merkle/node_store.h"
#include "src/ledger/merkle/verify.h"
#include "src/modules/audit/audit.h"
#include "src/modules/bank/keeper.h"
#include "src/modules/bank/module.h"

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
constexpr char kMetaAppliedIndex[] = "meta/applied_index";
constexpr char kBlockPrefix[] = "block/";
constexpr char kTxLocPrefix[] = "txloc/";
constexpr char kMerklePrefix[] = "merkle/";
constexpr char kStateDigestDomain[] = "virtengine/state/v1";
constexpr size_t kMaxQueryPathBytes = 128;
constexpr size_t kMaxQueryRequestBytes = size_t{64} * 1024;

std::string U32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string Bytes(const crypto::Digest32& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string Hex(std::string_view b) { return encoding::HexEncode(b); }

absl::StatusOr<crypto::Digest32> DigestOf(std::string_view bytes) {
  return crypto::Sha256(cv1::CONTENT_HASH, crypto::AsBytes(bytes));
}

std::string SignedHeaderMessage(std::string_view header_bytes) {
  std::string m(kBlockSignDomain);
  m.push_back('\0');
  m.append(header_bytes);
  return m;
}

// SHA-256("virtengine/state/v1" 0x00 || previous || for each write in key
// order: u32be(len key) key flag u32be(len value) value).
absl::StatusOr<crypto::Digest32> ChainDigest(std::string_view previous,
                                             const WriteSet& writes) {
  std::string acc = absl::StrCat(kStateDigestDomain, std::string(1, '\0'),
                                 std::string(previous));
  for (const auto& [k, v] : writes) {
    absl::StrAppend(&acc, U32(static_cast<uint32_t>(k.size())), k,
                    v.has_value() ? std::string(1, '\1') : std::string(1, '\0'),
                    U32(v.has_value() ? static_cast<uint32_t>(v->size()) : 0),
                    v.value_or(""));
  }
  return DigestOf(acc);
}

// Refusals of the ante step and of messages at admission: the tx cannot be
// admitted in this state. Storage errors keep their code.
absl::Status AsPrecondition(const absl::Status& s, std::string_view prefix) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
      return absl::FailedPreconditionError(
          absl::StrCat(std::string(prefix), s.message()));
    default:
      return s;
  }
}

absl::Status BlockError(std::string_view what) {
  return absl::DataLossError(absl::StrCat("block: ", std::string(what)));
}

absl::Status Mismatch(std::string_view field, std::string_view header,
                      std::string_view computed) {
  return BlockError(absl::StrCat(std::string(field), " mismatch: header has ",
                                 Hex(header), ", re-execution computed ",
                                 Hex(computed)));
}

}  // namespace

// ---- signer -----------------------------------------------------------------

KeyBlockSigner::KeyBlockSigner(crypto::Ed25519PrivateKey key)
    : key_(std::move(key)) {}

const crypto::Ed25519PublicKey& KeyBlockSigner::public_key() const {
  return key_.public_key();
}

absl::StatusOr<crypto::Ed25519Signature> KeyBlockSigner::Sign(
    crypto::ByteView message) const {
  if (key_.purpose() != cv1::NODE_SIGNATURE) {
    return absl::PermissionDeniedError(
        "ledger: block signer key is not a NODE_SIGNATURE key");
  }
  return key_.Sign(message);
}

// ---- internal state
// -----------------------------------------------------------

// Ledger tree nodes in RocksDB under "merkle/" (read side only: new nodes
// are committed in the block's write batch).
class Ledger::StoreNodes : public merkle::NodeStore {
 public:
  explicit StoreNodes(const Store* store) : store_(store) {}

  absl::StatusOr<merkle::Hash> Get(const merkle::NodeKey& key) const override {
    absl::StatusOr<std::optional<std::string>> v =
        store_->Get(kMerklePrefix + merkle::EncodeNodeKey(key));
    if (!v.ok()) return v.status();
    if (!v->has_value()) {
      return absl::NotFoundError(
          absl::StrCat("ledger tree node ", merkle::NodeKeyName(key)));
    }
    return merkle::HashFromBytes(crypto::AsBytes(**v));
  }

  absl::Status Put(const merkle::NodeKey&, const merkle::Hash&) override {
    return absl::FailedPreconditionError(
        "ledger tree nodes are written with their block");
  }

 private:
  const Store* store_;
};

// A block executed on top of the committed state, not yet sealed.
struct Ledger::Executed {
  v1::Block block;         // txs and results; no header yet
  v1::BlockHeader header;  // every field but proposer
  WriteSet module_writes;
  WriteSet index_writes;  // txloc/ and merkle/
  std::unique_ptr<merkle::MerkleTree> tree;
  crypto::Digest32 digest{};
};

// A sealed block ready to commit: everything but the applied index.
struct Ledger::Pending {
  std::string block_bytes;
  uint64_t height = 0;
  int64_t time = 0;
  WriteSet writes;
  std::unique_ptr<merkle::MerkleTree> tree;
  crypto::Digest32 digest{};
  std::string header_hash;
  // The block's txs are the first admitted ones and all succeeded.
  bool all_ok = false;
  size_t carry_count = 0;  // admitted txs the block consumed
};

Ledger::Ledger(std::unique_ptr<Store> store, LedgerOptions options,
               std::unique_ptr<const Registry> registry)
    : store_(std::move(store)),
      options_(std::move(options)),
      registry_(std::move(registry)),
      nodes_(std::make_unique<StoreNodes>(store_.get())),
      cache_(std::make_unique<ReadCache>(store_.get())) {}

Ledger::~Ledger() = default;

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const std::string& db_dir,
                                                     LedgerOptions options) {
  Registry::Builder builder;
  builder.Add(std::make_shared<bank::BankModule>());
  builder.Add(std::make_shared<audit::AuditModule>());
  for (const auto& m : options.extra_modules) builder.Add(m);
  for (const auto& [url, req] : options.gate_requirements) {
    builder.SetRequirement(url, req);
  }
  absl::StatusOr<std::unique_ptr<const Registry>> registry = builder.Build();
  if (!registry.ok()) return registry.status();
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(db_dir, options.store);
  if (!store.ok()) return store.status();
  std::unique_ptr<Ledger> l(
      new Ledger(*std::move(store), std::move(options), *std::move(registry)));
  if (absl::Status s = l->Load(); !s.ok()) return s;
  return l;
}

absl::Status Ledger::Load() {
  absl::StatusOr<std::optional<std::string>> chain = store_->Get(kMetaChainId);
  if (!chain.ok()) return chain.status();
  uint64_t ledger_size = 0;
  if (chain->has_value()) {
    std::map<std::string, std::string> meta;
    for (const char* key : {kMetaHeight, kMetaTime, kMetaLedgerSize,
                            kMetaStateDigest, kMetaHeaderHash}) {
      absl::StatusOr<std::optional<std::string>> v = store_->Get(key);
      if (!v.ok()) return v.status();
      if (!v->has_value()) {
        return absl::DataLossError(absl::StrCat("ledger: missing ", key));
      }
      meta[key] = **v;
    }
    absl::StatusOr<std::optional<std::string>> applied =
        store_->Get(kMetaAppliedIndex);
    if (!applied.ok()) return applied.status();
    for (const char* key : {kMetaHeight, kMetaTime, kMetaLedgerSize}) {
      if (meta[key].size() != 8) {
        return absl::DataLossError(absl::StrCat("ledger: corrupt ", key));
      }
    }
    const std::string& digest = meta[kMetaStateDigest];
    if (digest.size() != state_digest_.size() ||
        (applied->has_value() && (*applied)->size() != 8)) {
      return absl::DataLossError("ledger: corrupt state digest or index");
    }
    chain_id_ = **chain;
    height_.store(encoding::ReadBigEndian64(meta[kMetaHeight]));
    last_time_ =
        static_cast<int64_t>(encoding::ReadBigEndian64(meta[kMetaTime]));
    ledger_size = encoding::ReadBigEndian64(meta[kMetaLedgerSize]);
    std::copy(digest.begin(), digest.end(), state_digest_.begin());
    last_header_hash_ = meta[kMetaHeaderHash];
    applied_index_.store(
        applied->has_value() ? encoding::ReadBigEndian64(**applied) : 0);
  }
  absl::StatusOr<merkle::MerkleTree> tree =
      merkle::MerkleTree::Open(nodes_.get(), ledger_size);
  if (!tree.ok()) return tree.status();
  tree_ = std::make_unique<merkle::MerkleTree>(*std::move(tree));
  ResetCheckState();
  has_chain_.store(chain->has_value(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Ledger::InitGenesis(const Genesis& genesis) {
  if (has_chain_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError(
        absl::StrCat("ledger: already initialised for chain ", chain_id_));
  }
  if (absl::Status s = validate::ValidateIdentifier(
          "genesis: chain_id", genesis.chain_id, validate::kChainId);
      !s.ok()) {
    return s;
  }
  if (genesis.genesis_time_unix_nano < 0) {
    return absl::InvalidArgumentError("genesis: time is negative");
  }
  for (const auto& [name, bytes] : genesis.modules) {
    if (name == bank::kModuleName || name == audit::kModuleName ||
        registry_->FindModule(name) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "genesis: modules[", name,
          "]: not an extra module (bank and audit have their own fields)"));
    }
  }
  StateView view(store_.get());
  const BlockInfo info{genesis.chain_id, 0, genesis.genesis_time_unix_nano};
  EventSink sink;  // genesis imports are not messages: no events recorded
  for (const Module* m : registry_->modules()) {
    std::string bytes;
    if (m->name() == bank::kModuleName) {
      bytes = genesis.bank.SerializeAsString();
    } else if (m->name() == audit::kModuleName) {
      bytes = genesis.audit.SerializeAsString();
    } else if (auto it = genesis.modules.find(std::string(m->name()));
               it != genesis.modules.end()) {
      bytes = it->second;
    }
    Context ctx(registry_.get(), m, &view, "", &info, &sink);
    if (absl::Status s = m->InitGenesis(ctx, bytes); !s.ok()) return s;
  }
  for (const Module* m : registry_->modules()) {
    PrefixView p(&view, std::string(m->name()));
    QueryContext q(&p, 0);
    if (absl::Status s = m->CheckInvariants(q); !s.ok()) return s;
  }
  // The genesis digest chains SHA-256 of the chain id with the genesis
  // writes, so nodes started from different genesis states disagree at the
  // first block.
  absl::StatusOr<crypto::Digest32> seed = DigestOf(
      absl::StrCat(kStateDigestDomain, std::string(1, '\0'), genesis.chain_id));
  if (!seed.ok()) return seed.status();
  absl::StatusOr<crypto::Digest32> digest =
      ChainDigest(Bytes(*seed), view.writes());
  if (!digest.ok()) return digest.status();
  WriteSet ws = view.writes();
  ws[kMetaChainId] = genesis.chain_id;
  ws[kMetaHeight] = encoding::BigEndian64(0);
  ws[kMetaTime] = encoding::BigEndian64(
      static_cast<uint64_t>(genesis.genesis_time_unix_nano));
  ws[kMetaLedgerSize] = encoding::BigEndian64(0);
  ws[kMetaStateDigest] = Bytes(*digest);
  ws[kMetaHeaderHash] = std::string();
  ws[kMetaAppliedIndex] = encoding::BigEndian64(0);
  cache_->Clear();
  if (absl::Status s = store_->Commit(ws); !s.ok()) return s;
  return Load();
}

// ---- admission
// ------------------------------------------------------------------

absl::StatusOr<DecodedTx> Ledger::PreCheckTx(std::string_view raw) const {
  if (!has_chain_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("ledger: no genesis");
  }
  absl::StatusOr<DecodedTx> tx = DecodeTx(raw, options_.limits);
  if (!tx.ok()) return tx.status();
  for (const auto& any : tx->body.messages()) {
    if (registry_->FindHandler(any.type_url()) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("tx: unknown message type ", any.type_url()));
    }
  }
  if (absl::Status s = VerifyTxSignature(*tx, chain_id_); !s.ok()) return s;
  return tx;
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

absl::Status Ledger::AdmitTx(const DecodedTx& tx) {
  if (!has_chain_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("ledger: no genesis");
  }
  const uint64_t next = height_.load() + 1;
  if (tx.body.timeout_height() != 0 && next > tx.body.timeout_height()) {
    return absl::DeadlineExceededError(
        absl::StrCat("tx: timeout height ", tx.body.timeout_height(),
                     " passed (next block is ", next, ")"));
  }
  StateView attempt(check_state_.get());
  if (absl::Status s = Ante(&attempt, tx); !s.ok()) {
    return AsPrecondition(s, "");
  }
  for (const auto& any : tx.body.messages()) {
    if (absl::Status s = registry_->CheckGate(&attempt, any.type_url(),
                                              tx.signer_address, last_time_);
        !s.ok()) {
      return s;
    }
  }
  const BlockInfo info{chain_id_, next, last_time_};
  EventSink sink;
  for (int i = 0; i < tx.body.messages_size(); ++i) {
    if (absl::Status s = registry_->Dispatch(&attempt, tx.body.messages(i),
                                             tx.signer_address, info, &sink);
        !s.ok()) {
      return AsPrecondition(s, absl::StrCat("message ", i, ": "));
    }
  }
  attempt.MergeInto(check_state_.get());
  admitted_.push_back(tx.hash);
  return absl::OkStatus();
}

absl::StatusOr<DecodedTx> Ledger::CheckTx(std::string_view raw) {
  absl::StatusOr<DecodedTx> tx = PreCheckTx(raw);
  if (!tx.ok()) return tx.status();
  if (absl::Status s = AdmitTx(*tx); !s.ok()) return s;
  return tx;
}

void Ledger::ResetCheckState() {
  check_state_ = std::make_unique<StateView>(cache_.get());
  admitted_.clear();
}

// ---- execution
// ------------------------------------------------------------------

v1::TxResult Ledger::Deliver(StateView* block, const DecodedTx& tx,
                             const BlockInfo& info,
                             uint32_t* event_index) const {
  v1::TxResult result;
  result.set_tx_hash(Bytes(tx.hash));
  auto fail = [&](TxCode code, std::string log) {
    result.set_code(code);
    result.set_log(std::move(log));
    return result;
  };
  if (tx.body.timeout_height() != 0 && info.height > tx.body.timeout_height()) {
    return fail(kTxExpired, absl::StrCat("timeout height ",
                                         tx.body.timeout_height(), " passed"));
  }
  StateView ante(block);
  if (absl::Status s = Ante(&ante, tx); !s.ok()) {
    return fail(kTxRejected, std::string(s.message()));
  }
  // Sequence and fee stay consumed even when the gate or a message refuses.
  ante.MergeInto(block);
  StateView msgs(block);
  for (const auto& any : tx.body.messages()) {
    if (registry_->FindHandler(any.type_url()) == nullptr) {
      return fail(kTxUnknownMessage,
                  absl::StrCat("unknown message type ", any.type_url()));
    }
  }
  for (const auto& any : tx.body.messages()) {
    if (absl::Status s = registry_->CheckGate(
            &msgs, any.type_url(), tx.signer_address, info.time_unix_nano);
        !s.ok()) {
      return fail(kTxGateRefused, std::string(s.message()));
    }
  }
  EventSink sink;
  for (int i = 0; i < tx.body.messages_size(); ++i) {
    if (absl::Status s = registry_->Dispatch(&msgs, tx.body.messages(i),
                                             tx.signer_address, info, &sink);
        !s.ok()) {
      return fail(kTxMessageFailed,
                  absl::StrCat("message ", i, ": ", s.message()));
    }
  }
  msgs.MergeInto(block);
  for (google::protobuf::Any& body : sink.Take()) {
    v1::Event* e = result.add_events();
    e->set_height(info.height);
    e->set_index((*event_index)++);
    e->set_tx_hash(Bytes(tx.hash));
    *e->mutable_body() = std::move(body);
  }
  result.set_code(kTxOk);
  return result;
}

absl::StatusOr<Ledger::Executed> Ledger::Execute(
    const std::vector<const DecodedTx*>& txs, uint64_t height,
    int64_t time) const {
  Executed ex;
  ex.tree = std::make_unique<merkle::MerkleTree>(*tree_);
  StateView block(cache_.get());
  const BlockInfo info{chain_id_, height, time};
  merkle::MemoryNodeStore tx_nodes;
  merkle::MerkleTree tx_tree(&tx_nodes);
  merkle::NodeBatch tx_batch;
  merkle::NodeBatch ledger_batch;
  uint32_t event_index = 0;
  for (size_t i = 0; i < txs.size(); ++i) {
    const DecodedTx& tx = *txs[i];
    *ex.block.add_results() = Deliver(&block, tx, info, &event_index);
    ex.block.add_txs(tx.raw);
    const crypto::ByteView leaf(tx.hash.data(), tx.hash.size());
    if (absl::Status s = tx_tree.Append(leaf, &tx_batch).status(); !s.ok()) {
      return s;
    }
    tx_batch.clear();  // the tx tree's root needs only its frontier
    absl::StatusOr<merkle::AppendResult> app =
        ex.tree->Append(leaf, &ledger_batch);
    if (!app.ok()) return app.status();
    ex.index_writes[kTxLocPrefix + Bytes(tx.hash)] =
        encoding::BigEndian64(height) + U32(static_cast<uint32_t>(i)) +
        encoding::BigEndian64(app->leaf_index);
  }
  for (const merkle::NodeWrite& w : ledger_batch) {
    ex.index_writes[kMerklePrefix + merkle::EncodeNodeKey(w.key)] =
        Bytes(w.hash);
  }
  // End-block hooks, modules in name order; they write state only.
  for (const Module* m : registry_->modules()) {
    EventSink sink;
    Context ctx(registry_.get(), m, &block, "", &info, &sink);
    if (absl::Status s = m->EndBlock(ctx); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("end block of ", std::string(m->name()), ": ",
                                 s.message()));
    }
    if (!sink.events().empty()) {
      return absl::InternalError(
          absl::StrCat("end block of ", std::string(m->name()),
                       ": block-level events are not supported"));
    }
  }
  absl::StatusOr<audit::ChainState> audit_chain =
      audit::ReadChain(PrefixView(&block, std::string(audit::kModuleName)));
  if (!audit_chain.ok()) return audit_chain.status();
  // The state digest chains the previous digest with this block's writes in
  // key order: every node executing the same block gets the same digest.
  absl::StatusOr<crypto::Digest32> digest =
      ChainDigest(Bytes(state_digest_), block.writes());
  if (!digest.ok()) return digest.status();
  absl::StatusOr<merkle::Hash> tx_root = tx_tree.Root();
  if (!tx_root.ok()) return tx_root.status();
  absl::StatusOr<merkle::Hash> ledger_root = ex.tree->Root();
  if (!ledger_root.ok()) return ledger_root.status();
  ex.digest = *digest;
  ex.module_writes = block.writes();
  ex.header.set_chain_id(chain_id_);
  ex.header.set_height(height);
  ex.header.set_time_unix_nano(time);
  ex.header.set_previous_hash(last_header_hash_);
  ex.header.set_tx_root(Bytes(*tx_root));
  ex.header.set_ledger_root(Bytes(*ledger_root));
  ex.header.set_ledger_size(ex.tree->size());
  ex.header.set_state_digest(Bytes(*digest));
  ex.header.set_audit_head(Bytes(audit_chain->head));
  return ex;
}

absl::StatusOr<std::unique_ptr<Ledger::Pending>> Ledger::Seal(
    Executed executed, const std::string& header_bytes,
    const std::string& block_bytes) const {
  absl::StatusOr<crypto::Digest32> header_hash = DigestOf(header_bytes);
  if (!header_hash.ok()) return header_hash.status();
  auto p = std::make_unique<Pending>();
  p->block_bytes = block_bytes;
  p->height = executed.header.height();
  p->time = executed.header.time_unix_nano();
  p->tree = std::move(executed.tree);
  p->digest = executed.digest;
  p->header_hash = Bytes(*header_hash);
  p->writes = std::move(executed.module_writes);
  for (auto& [k, v] : executed.index_writes) p->writes[k] = std::move(v);
  p->writes[kBlockPrefix + encoding::BigEndian64(p->height)] = block_bytes;
  p->writes[kMetaHeight] = encoding::BigEndian64(p->height);
  p->writes[kMetaTime] = encoding::BigEndian64(static_cast<uint64_t>(p->time));
  p->writes[kMetaLedgerSize] = encoding::BigEndian64(p->tree->size());
  p->writes[kMetaStateDigest] = Bytes(p->digest);
  p->writes[kMetaHeaderHash] = p->header_hash;
  return p;
}

absl::StatusOr<v1::Block> Ledger::ProposeBlock(
    const std::vector<DecodedTx>& txs, int64_t time_unix_nano,
    const BlockSigner& signer) {
  if (!has_chain_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("ledger: no genesis");
  }
  if (txs.size() > options_.max_block_txs) {
    return absl::InvalidArgumentError(absl::StrCat("block: ", txs.size(),
                                                   " txs exceeds the limit of ",
                                                   options_.max_block_txs));
  }
  std::vector<const DecodedTx*> ptrs;
  ptrs.reserve(txs.size());
  for (const DecodedTx& tx : txs) ptrs.push_back(&tx);
  const int64_t time = std::max(time_unix_nano, last_time_);
  absl::StatusOr<Executed> ex = Execute(ptrs, height_.load() + 1, time);
  if (!ex.ok()) return ex.status();
  ex->header.set_proposer(
      std::string(crypto::AsChars(signer.public_key().view())));
  const std::string header_bytes = ex->header.SerializeAsString();
  const std::string message = SignedHeaderMessage(header_bytes);
  absl::StatusOr<crypto::Ed25519Signature> sig =
      signer.Sign(crypto::AsBytes(message));
  if (!sig.ok()) return sig.status();
  // A signer that signs wrongly would halt every follower: check here.
  if (absl::Status s = signer.public_key().Verify(
          cv1::NODE_SIGNATURE, crypto::AsBytes(message),
          crypto::ByteView(sig->data(), sig->size()));
      !s.ok()) {
    return absl::InternalError(absl::StrCat(
        "block: the signer's signature does not verify: ", s.message()));
  }
  v1::Block block = std::move(ex->block);
  block.mutable_header()->set_header_bytes(header_bytes);
  block.mutable_header()->set_signature(sig->data(), sig->size());
  const std::string block_bytes = block.SerializeAsString();
  if (block_bytes.size() > options_.max_block_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "block: ", block_bytes.size(), " bytes exceeds the limit of ",
        options_.max_block_bytes, "; propose fewer transactions"));
  }
  absl::StatusOr<std::unique_ptr<Pending>> p =
      Seal(*std::move(ex), header_bytes, block_bytes);
  if (!p.ok()) return p.status();
  pending_ = *std::move(p);
  // The check state may carry over this block only if its txs are the
  // first ones admitted, in order, and all succeeded as at admission.
  bool carry = txs.size() <= admitted_.size();
  for (size_t i = 0; carry && i < txs.size(); ++i) {
    carry = txs[i].hash == admitted_[i] &&
            block.results(static_cast<int>(i)).code() == kTxOk;
  }
  pending_->carry_count = carry ? txs.size() : 0;
  pending_->all_ok = carry;
  return block;
}

absl::StatusOr<std::unique_ptr<Ledger::Pending>> Ledger::VerifyBlock(
    std::string_view block_bytes) const {
  if (block_bytes.size() > options_.max_block_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("block: ", block_bytes.size(),
                     " bytes exceeds the limit of ", options_.max_block_bytes));
  }
  v1::Block block;
  if (!block.ParseFromArray(block_bytes.data(),
                            static_cast<int>(block_bytes.size()))) {
    return BlockError("not a valid Block");
  }
  v1::BlockHeader header;
  const std::string& header_bytes = block.header().header_bytes();
  if (!header.ParseFromString(header_bytes)) {
    return BlockError("header is not a valid BlockHeader");
  }
  if (header.chain_id() != chain_id_) {
    return BlockError(absl::StrCat("chain_id mismatch: header has \"",
                                   header.chain_id(), "\", this chain is \"",
                                   chain_id_, "\""));
  }
  const uint64_t height = height_.load() + 1;
  if (header.height() != height) {
    return BlockError(absl::StrCat("height mismatch: header has ",
                                   header.height(), ", next height is ",
                                   height));
  }
  if (header.previous_hash() != last_header_hash_) {
    return BlockError(absl::StrCat(
        "previous_hash mismatch: header has ", Hex(header.previous_hash()),
        ", the last block's hash is ", Hex(last_header_hash_)));
  }
  absl::StatusOr<crypto::Ed25519PublicKey> proposer =
      crypto::Ed25519PublicKey::FromBytes(crypto::AsBytes(header.proposer()));
  if (!proposer.ok()) {
    return absl::UnauthenticatedError(
        "block: proposer is not an Ed25519 public key");
  }
  if (absl::Status s =
          proposer->Verify(cv1::NODE_SIGNATURE,
                           crypto::AsBytes(SignedHeaderMessage(header_bytes)),
                           crypto::AsBytes(block.header().signature()));
      !s.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("block: header signature does not verify for proposer ",
                     Hex(header.proposer()), ": ", s.message()));
  }
  if (options_.accept_proposer) {
    if (absl::Status s = options_.accept_proposer(header.proposer()); !s.ok()) {
      return absl::PermissionDeniedError(
          absl::StrCat("block: proposer ", Hex(header.proposer()),
                       " refused: ", s.message()));
    }
  }
  if (header.time_unix_nano() < last_time_) {
    return BlockError(absl::StrCat("time_unix_nano ", header.time_unix_nano(),
                                   " is before the previous block's ",
                                   last_time_));
  }
  if (static_cast<size_t>(block.txs_size()) > options_.max_block_txs) {
    return BlockError(absl::StrCat(block.txs_size(),
                                   " txs exceeds the limit of ",
                                   options_.max_block_txs));
  }
  std::vector<DecodedTx> txs;
  txs.reserve(static_cast<size_t>(block.txs_size()));
  for (int i = 0; i < block.txs_size(); ++i) {
    absl::StatusOr<DecodedTx> tx = DecodeTx(block.txs(i), options_.limits);
    if (!tx.ok()) {
      return BlockError(absl::StrCat("tx ", i, ": ", tx.status().message()));
    }
    if (options_.reverify_signatures) {
      if (absl::Status s = VerifyTxSignature(*tx, chain_id_); !s.ok()) {
        return absl::UnauthenticatedError(
            absl::StrCat("block: tx ", i, ": ", s.message()));
      }
    }
    txs.push_back(*std::move(tx));
  }
  std::vector<const DecodedTx*> ptrs;
  ptrs.reserve(txs.size());
  for (const DecodedTx& tx : txs) ptrs.push_back(&tx);
  absl::StatusOr<Executed> ex = Execute(ptrs, height, header.time_unix_nano());
  if (!ex.ok()) return ex.status();
  const v1::BlockHeader& want = ex->header;
  if (header.tx_root() != want.tx_root()) {
    return Mismatch("tx_root", header.tx_root(), want.tx_root());
  }
  if (header.ledger_size() != want.ledger_size()) {
    return BlockError(
        absl::StrCat("ledger_size mismatch: header has ", header.ledger_size(),
                     ", re-execution computed ", want.ledger_size()));
  }
  if (header.ledger_root() != want.ledger_root()) {
    return Mismatch("ledger_root", header.ledger_root(), want.ledger_root());
  }
  if (header.state_digest() != want.state_digest()) {
    return Mismatch("state_digest", header.state_digest(), want.state_digest());
  }
  if (header.audit_head() != want.audit_head()) {
    return Mismatch("audit_head", header.audit_head(), want.audit_head());
  }
  if (block.results_size() != ex->block.results_size()) {
    return BlockError(absl::StrCat("results: block has ", block.results_size(),
                                   ", re-execution has ",
                                   ex->block.results_size()));
  }
  for (int i = 0; i < block.results_size(); ++i) {
    if (block.results(i).SerializeAsString() !=
        ex->block.results(i).SerializeAsString()) {
      return BlockError(
          absl::StrCat("result of tx ", i, " differs: block has code ",
                       block.results(i).code(), " (", block.results(i).log(),
                       "), re-execution has code ", ex->block.results(i).code(),
                       " (", ex->block.results(i).log(), ")"));
    }
  }
  // Every byte must be the canonical encoding: nothing unsigned and
  // unchecked rides along in a committed block.
  v1::BlockHeader canonical = want;
  canonical.set_proposer(header.proposer());
  if (canonical.SerializeAsString() != header_bytes) {
    return BlockError("header is not in canonical encoding");
  }
  v1::Block rebuilt = ex->block;
  *rebuilt.mutable_header() = block.header();
  if (rebuilt.SerializeAsString() != block_bytes) {
    return BlockError("not in canonical encoding");
  }
  return Seal(*std::move(ex), header_bytes, std::string(block_bytes));
}

absl::Status Ledger::Commit(const Pending& pending, uint64_t index,
                            bool keep_check_state) {
  WriteSet ws = pending.writes;
  ws[kMetaAppliedIndex] = encoding::BigEndian64(index);
  if (absl::Status s = store_->Commit(ws); !s.ok()) {
    cache_->Clear();  // the store may or may not hold the batch
    return s;
  }
  cache_->Apply(ws);
  height_.store(pending.height);
  last_time_ = pending.time;
  state_digest_ = pending.digest;
  last_header_hash_ = pending.header_hash;
  *tree_ = *pending.tree;
  applied_index_.store(index);
  last_touched_.clear();
  for (const auto& [key, value] : ws) {
    const size_t slash = key.find('/');
    if (slash != std::string::npos) last_touched_.emplace(key, 0, slash);
  }
  check_state_reset_ = !keep_check_state;
  if (check_state_reset_) {
    ResetCheckState();
  } else {
    admitted_.erase(admitted_.begin(),
                    admitted_.begin() + static_cast<long>(pending.carry_count));
  }
  return absl::OkStatus();
}

absl::Status Ledger::ApplyBlock(std::string_view block_bytes, uint64_t index) {
  if (index <= applied_index_.load()) return absl::OkStatus();
  if (!has_chain_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("ledger: no genesis");
  }
  if (pending_ != nullptr && pending_->height == height_.load() + 1 &&
      pending_->block_bytes == block_bytes) {
    // The check state holds this block's txs (admitted first, in this
    // order, with these results) and then later admissions: when every tx
    // succeeded it already equals the new committed state plus the rest.
    if (absl::Status s = Commit(*pending_, index, pending_->all_ok); !s.ok()) {
      return s;
    }
    pending_.reset();
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Pending>> verified = VerifyBlock(block_bytes);
  if (!verified.ok()) return verified.status();
  if (absl::Status s = Commit(**verified, index, false); !s.ok()) return s;
  pending_.reset();  // proposed on the previous state: stale now
  return absl::OkStatus();
}

bool Ledger::LastBlockTouched(std::string_view module) const {
  return last_touched_.find(module) != last_touched_.end();
}

std::string_view Ledger::pending_block_bytes() const {
  return pending_ == nullptr ? std::string_view() : pending_->block_bytes;
}

std::vector<std::pair<std::string, uint64_t>> Ledger::StoreFigures() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const char* p :
       {"rocksdb.estimate-live-data-size", "rocksdb.total-sst-files-size",
        "rocksdb.cur-size-all-mem-tables"}) {
    uint64_t v = 0;
    if (store_->db()->GetIntProperty(p, &v)) out.emplace_back(p, v);
  }
  return out;
}

absl::StatusOr<v1::Block> Ledger::ExecuteBlock(
    const std::vector<DecodedTx>& txs, int64_t time_unix_nano,
    const BlockSigner& signer) {
  absl::StatusOr<v1::Block> block = ProposeBlock(txs, time_unix_nano, signer);
  if (!block.ok()) return block.status();
  const std::string bytes = pending_->block_bytes;
  if (absl::Status s = ApplyBlock(bytes, applied_index_.load() + 1); !s.ok()) {
    return s;
  }
  return block;
}

// ---- queries
// ------------------------------------------------------------------------

absl::StatusOr<std::string> Ledger::GetBlockBytes(uint64_t height) const {
  absl::StatusOr<std::optional<std::string>> v =
      store_->Get(kBlockPrefix + encoding::BigEndian64(height));
  if (!v.ok()) return v.status();
  if (!v->has_value()) {
    return absl::NotFoundError(absl::StrCat("no block at height ", height));
  }
  return **std::move(v);
}

absl::Status Ledger::ResetAppliedIndex() {
  WriteSet ws;
  ws[kMetaAppliedIndex] = encoding::BigEndian64(0);
  if (absl::Status s = store_->Commit(ws); !s.ok()) return s;
  applied_index_.store(0);
  return absl::OkStatus();
}

absl::Status Ledger::Sync() { return store_->Sync(); }

absl::Status Ledger::Checkpoint(const std::string& dir) const {
  return store_->Checkpoint(dir);
}

absl::Status Ledger::VerifyStoredChain(uint64_t trusted_height,
                                       std::string_view trusted_hash) const {
  const uint64_t tip = height_.load();
  if (trusted_height > tip) {
    return absl::DataLossError(absl::StrCat("chain: ends at height ", tip,
                                            ", below the trusted height ",
                                            trusted_height));
  }
  std::string prev_hash;
  v1::BlockHeader header;
  for (uint64_t h = std::max<uint64_t>(trusted_height, 1); h <= tip; ++h) {
    absl::StatusOr<v1::Block> block = GetBlock(h);
    if (!block.ok()) return block.status();
    const std::string& header_bytes = block->header().header_bytes();
    if (!header.ParseFromString(header_bytes) || header.height() != h) {
      return absl::DataLossError(
          absl::StrCat("chain: block ", h, " has no valid header"));
    }
    absl::StatusOr<crypto::Digest32> hash = DigestOf(header_bytes);
    if (!hash.ok()) return hash.status();
    if (h == trusted_height && Bytes(*hash) != trusted_hash) {
      return absl::DataLossError(absl::StrCat(
          "chain: block ", h, " is not the trusted block at that height"));
    }
    if (h > trusted_height && h > 1 && header.previous_hash() != prev_hash) {
      return absl::DataLossError(
          absl::StrCat("chain: block ", h, " does not link to block ", h - 1));
    }
    absl::StatusOr<crypto::Ed25519PublicKey> proposer =
        crypto::Ed25519PublicKey::FromBytes(crypto::AsBytes(header.proposer()));
    if (!proposer.ok() ||
        !proposer
             ->Verify(cv1::NODE_SIGNATURE,
                      crypto::AsBytes(SignedHeaderMessage(header_bytes)),
                      crypto::AsBytes(block->header().signature()))
             .ok()) {
      return absl::DataLossError(absl::StrCat(
          "chain: block ", h, ": header signature does not verify"));
    }
    prev_hash = Bytes(*hash);
  }
  if (tip > 0) {
    if (prev_hash != last_header_hash_) {
      return absl::DataLossError("chain: stored header hash is not the tip's");
    }
    if (header.state_digest() != Bytes(state_digest_)) {
      return absl::DataLossError(
          "chain: stored state digest is not the tip header's");
    }
    absl::StatusOr<merkle::Hash> root = tree_->Root();
    if (!root.ok()) return root.status();
    if (header.ledger_size() != tree_->size() ||
        header.ledger_root() !=
            std::string(reinterpret_cast<const char*>(root->data()),
                        root->size())) {
      return absl::DataLossError(
          "chain: the ledger tree does not match the tip header");
    }
  }
  return CheckInvariants();
}

absl::StatusOr<v1::Block> Ledger::GetBlock(uint64_t height) const {
  if (height == 0) height = height_.load();
  absl::StatusOr<std::optional<std::string>> v =
      store_->Get(kBlockPrefix + encoding::BigEndian64(height));
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
  // loc = u64be height || u32be index || u64be leaf
  const uint64_t height = encoding::ReadBigEndian64(loc);
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
  const uint64_t leaf = encoding::ReadBigEndian64(loc, 12);
  absl::StatusOr<v1::Block> block = GetBlock(encoding::ReadBigEndian64(loc));
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
  return bank::QueryBalance(PrefixView(&view, std::string(bank::kModuleName)),
                            address, denom, height_.load());
}

absl::Status Ledger::CheckInvariants() const {
  StateView view(store_.get());
  for (const Module* m : registry_->modules()) {
    PrefixView p(&view, std::string(m->name()));
    QueryContext q(&p, height_.load());
    if (absl::Status s = m->CheckInvariants(q); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Ledger::Query(
    std::string_view module, std::string_view path,
    std::string_view request_bytes) const {
  if (path.size() > kMaxQueryPathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: path of ", path.size(),
                     " bytes exceeds the limit of ", kMaxQueryPathBytes));
  }
  if (request_bytes.size() > kMaxQueryRequestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: request of ", request_bytes.size(),
                     " bytes exceeds the limit of ", kMaxQueryRequestBytes));
  }
  const Module* m = registry_->FindModule(module);
  if (m == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("query: unknown module \"", std::string(module), "\""));
  }
  StateView view(store_.get());
  PrefixView p(&view, std::string(m->name()));
  QueryContext q(&p, height_.load());
  return m->Query(q, path, request_bytes);
}

absl::StatusOr<Genesis> Ledger::ExportGenesis() const {
  if (!has_chain_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("ledger: no genesis");
  }
  Genesis g;
  g.chain_id = chain_id_;
  g.genesis_time_unix_nano = last_time_;
  StateView view(store_.get());
  for (const Module* m : registry_->modules()) {
    PrefixView p(&view, std::string(m->name()));
    QueryContext q(&p, height_.load());
    absl::StatusOr<std::string> bytes = m->ExportGenesis(q);
    if (!bytes.ok()) return bytes.status();
    if (m->name() == bank::kModuleName) {
      if (!g.bank.ParseFromString(*bytes)) {
        return absl::InternalError("export: bank genesis does not parse");
      }
    } else if (m->name() == audit::kModuleName) {
      if (!g.audit.ParseFromString(*bytes)) {
        return absl::InternalError("export: audit genesis does not parse");
      }
    } else {
      g.modules[std::string(m->name())] = *std::move(bytes);
    }
  }
  return g;
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
  if (receipt.audit_path_size() > 64) {
    return absl::InvalidArgumentError(
        "receipt: audit path longer than 64 hashes");
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
