#include "src/node/home.h"

#include <sys/stat.h>

#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "security/keys/kek.h"
#include "security/tpm/tpm.h"
#include "security/validate/address.h"
#include "security/validate/identifier.h"
#include "security/validate/number.h"
#include "src/node/files.h"

namespace virtengine::node {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
using security::path::PathRoot;

constexpr char kDefaultGrpc[] = "127.0.0.1:9090";
constexpr char kDefaultRaft[] = "127.0.0.1:26656";
constexpr char kDefaultMetrics[] = "127.0.0.1:26660";

// "host:port" with a port in 1..65535 and a non-empty host.
absl::Status ValidateHostPort(std::string_view field, std::string_view v,
                              bool allow_empty) {
  if (v.empty() && allow_empty) return absl::OkStatus();
  const size_t colon = v.rfind(':');
  if (v.size() > 255 || colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(field), ": want host:port, got \"", std::string(v), "\""));
  }
  absl::StatusOr<uint64_t> port =
      validate::ParseUint64(field, v.substr(colon + 1), 1, 65535);
  return port.status();
}

}  // namespace

void ApplyDefaults(v1::NodeConfig* c) {
  if (c->raft_id() == 0) c->set_raft_id(1);
  if (c->grpc_address().empty()) c->set_grpc_address(kDefaultGrpc);
  if (c->raft_address().empty()) c->set_raft_address(kDefaultRaft);
  if (c->log_level().empty()) c->set_log_level("info");
  if (c->seccomp().empty()) c->set_seccomp("enforce");
  v1::BlockConfig* b = c->mutable_block();
  if (b->max_txs() == 0) b->set_max_txs(5000);
  if (b->max_bytes() == 0) b->set_max_bytes(8 << 20);
  if (b->interval_ms() == 0) b->set_interval_ms(20);
  v1::MempoolConfig* m = c->mutable_mempool();
  if (m->max_txs() == 0) m->set_max_txs(50000);
  if (m->max_bytes() == 0) m->set_max_bytes(uint64_t{256} << 20);
  v1::ApiConfig* a = c->mutable_api();
  if (a->max_request_bytes() == 0) a->set_max_request_bytes(4 << 20);
  if (a->max_batch_txs() == 0) a->set_max_batch_txs(2000);
  if (a->max_wait_ms() == 0) a->set_max_wait_ms(30000);
  if (a->max_streams() == 0) a->set_max_streams(64);
  v1::RaftConfig* r = c->mutable_raft();
  if (r->heartbeat_ms() == 0) r->set_heartbeat_ms(100);
  if (r->election_timeout_ms() == 0) r->set_election_timeout_ms(1000);
  if (r->snapshot_threshold() == 0) r->set_snapshot_threshold(4096);
  if (r->snapshot_trailing() == 0) r->set_snapshot_trailing(1024);
  if (r->segment_size_bytes() == 0) r->set_segment_size_bytes(8 << 20);
  if (c->tpm().pcrs().empty()) c->mutable_tpm()->add_pcrs(11);
}

absl::Status ValidateConfig(const v1::NodeConfig& c) {
  if (c.moniker().size() > 64) {
    return absl::InvalidArgumentError("moniker: longer than 64 bytes");
  }
  for (auto [field, value, empty_ok] :
       {std::tuple<const char*, const std::string&, bool>{
            "grpc_address", c.grpc_address(), false},
        {"raft_address", c.raft_address(), false},
        {"metrics_address", c.metrics_address(), true}}) {
    if (absl::Status s = ValidateHostPort(field, value, empty_ok); !s.ok()) {
      return s;
    }
  }
  if (c.seccomp() != "enforce" && c.seccomp() != "log" &&
      c.seccomp() != "off") {
    return absl::InvalidArgumentError("seccomp: must be enforce, log or off");
  }
  if (c.log_level() != "debug" && c.log_level() != "info" &&
      c.log_level() != "warn" && c.log_level() != "error") {
    return absl::InvalidArgumentError(
        "log_level: must be debug, info, warn or error");
  }
  const auto range = [](const char* field, uint64_t v, uint64_t lo,
                        uint64_t hi) {
    return validate::CheckRange<uint64_t>(field, v, lo, hi);
  };
  for (const absl::Status& s :
       {range("block.max_txs", c.block().max_txs(), 1, 100000),
        range("block.max_bytes", c.block().max_bytes(), 1 << 16, 64 << 20),
        range("block.interval_ms", c.block().interval_ms(), 1, 60000),
        range("mempool.max_txs", c.mempool().max_txs(), 1, 10000000),
        range("mempool.max_bytes", c.mempool().max_bytes(), 1 << 20,
              uint64_t{16} << 30),
        range("api.max_request_bytes", c.api().max_request_bytes(), 1 << 16,
              64 << 20),
        range("api.max_batch_txs", c.api().max_batch_txs(), 1, 100000),
        range("api.max_wait_ms", c.api().max_wait_ms(), 1, 600000),
        range("api.max_streams", c.api().max_streams(), 1, 10000),
        range("api.verify_threads", c.api().verify_threads(), 0, 256),
        range("raft.heartbeat_ms", c.raft().heartbeat_ms(), 10, 10000),
        range("raft.election_timeout_ms", c.raft().election_timeout_ms(),
              2 * uint64_t{c.raft().heartbeat_ms()}, 60000),
        range("raft.snapshot_threshold", c.raft().snapshot_threshold(), 8,
              1 << 24),
        range("raft.snapshot_trailing", c.raft().snapshot_trailing(), 1,
              1 << 24),
        range("raft.segment_size_bytes", c.raft().segment_size_bytes(),
              64 << 10, 1 << 30)}) {
    if (!s.ok()) return s;
  }
  if (!c.tpm().tcti().empty()) {
    if (absl::Status s = tpm::ValidateTctiConfig(c.tpm().tcti()); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tpm.tcti: ", s.message()));
    }
  }
  if (c.tpm().pcrs().size() > 24) {
    return absl::InvalidArgumentError("tpm.pcrs: more than 24");
  }
  for (int i = 0; i < c.tpm().pcrs_size(); ++i) {
    if (c.tpm().pcrs(i) > 23 ||
        (i > 0 && c.tpm().pcrs(i) <= c.tpm().pcrs(i - 1))) {
      return absl::InvalidArgumentError(
          "tpm.pcrs: PCR numbers 0..23, ascending, no repeats");
    }
  }
  if (c.admin_socket().size() > 100 ||
      (!c.admin_socket().empty() && c.admin_socket()[0] != '/')) {
    return absl::InvalidArgumentError(
        "admin_socket: must be an absolute path of at most 100 bytes");
  }
  return absl::OkStatus();
}

absl::Status ValidateGenesis(const v1::GenesisDoc& g) {
  if (absl::Status s = validate::ValidateIdentifier("chain_id", g.chain_id(),
                                                    validate::kChainId);
      !s.ok()) {
    return s;
  }
  if (g.voters_size() == 0) {
    return absl::InvalidArgumentError("voters: at least one voter is needed");
  }
  std::set<uint64_t> ids;
  for (int i = 0; i < g.voters_size(); ++i) {
    const v1::GenesisVoter& v = g.voters(i);
    const std::string field = absl::StrCat("voters[", i, "]");
    if (v.raft_id() == 0 || !ids.insert(v.raft_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".raft_id: must be unique and non-zero"));
    }
    if (absl::Status s =
            ValidateHostPort(field + ".raft_address", v.raft_address(), false);
        !s.ok()) {
      return s;
    }
    if (v.node_public_key().size() != crypto::Ed25519PublicKey::kSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".node_public_key: must be 32 bytes"));
    }
    if (absl::Status s =
            ValidateHostPort(field + ".grpc_address", v.grpc_address(), true);
        !s.ok()) {
      return s;
    }
  }
  std::set<std::string> ops;
  for (int i = 0; i < g.operators_size(); ++i) {
    const std::string field = absl::StrCat("operators[", i, "]");
    if (auto a = validate::ValidateAddress(field, g.operators(i)); !a.ok()) {
      return a.status();
    }
    if (!ops.insert(g.operators(i)).second) {
      return absl::InvalidArgumentError(field + ": duplicate operator");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::NodeConfig> ParseConfig(std::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError("config: larger than 1 MiB");
  }
  v1::NodeConfig c;
  google::protobuf::TextFormat::Parser parser;
  struct Collector : google::protobuf::io::ErrorCollector {
    std::string first;
    void AddError(int line, int column, const std::string& message) override {
      if (first.empty()) {
        first = absl::StrCat("line ", line + 1, " column ", column + 1, ": ",
                             message);
      }
    }
  } errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &c)) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", errors.first));
  }
  ApplyDefaults(&c);
  if (absl::Status s = ValidateConfig(c); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", s.message()));
  }
  return c;
}

absl::StatusOr<v1::GenesisDoc> ParseGenesis(std::string_view json) {
  if (json.size() > kMaxGenesisBytes) {
    return absl::InvalidArgumentError("genesis: larger than 64 MiB");
  }
  v1::GenesisDoc g;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                           &g, opts);
      !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("genesis: ", std::string(s.message())));
  }
  if (absl::Status s = ValidateGenesis(g); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("genesis: ", s.message()));
  }
  return g;
}

absl::StatusOr<std::string> GenesisToJson(const v1::GenesisDoc& genesis) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  if (auto s = google::protobuf::util::MessageToJsonString(genesis, &out, opts);
      !s.ok()) {
    return absl::InternalError(std::string(s.message()));
  }
  return out;
}

absl::StatusOr<PathRoot> OpenDir(const std::string& absolute, bool create) {
  absl::StatusOr<PathRoot> root = PathRoot::Open(absolute);
  if (root.ok() || !create ||
      root.status().code() != absl::StatusCode::kNotFound) {
    return root;
  }
  const auto [parent, name] = SplitPath(absolute);
  absl::StatusOr<PathRoot> p = PathRoot::Open(parent);
  if (!p.ok()) return p.status();
  if (absl::Status s = p->MakeDirs(name, 0700); !s.ok()) return s;
  return PathRoot::Open(absolute);
}

absl::StatusOr<crypto::SecretBytes> ReadPassphraseFile(
    const std::string& absolute) {
  if (absolute.empty() || absolute[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("passphrase file must be an absolute path: ", absolute));
  }
  const auto [parent, name] = SplitPath(absolute);
  absl::StatusOr<PathRoot> p = PathRoot::Open(parent);
  if (!p.ok()) return p.status();
  {
    absl::StatusOr<security::path::UniqueFd> fd = p->OpenRead(name);
    if (!fd.ok()) return fd.status();
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) {
      return absl::InternalError("fstat of the passphrase file failed");
    }
    if ((st.st_mode & 0077) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("passphrase file ", absolute,
                       " is readable by group or others; chmod 600 it"));
    }
  }
  absl::StatusOr<std::string> text =
      p->ReadFile(name, keys::PassphraseKekProvider::kMaxPassphraseBytes + 2);
  if (!text.ok()) return text.status();
  std::string pass = *std::move(text);
  if (!pass.empty() && pass.back() == '\n') pass.pop_back();
  if (!pass.empty() && pass.back() == '\r') pass.pop_back();
  crypto::SecretBytes secret = crypto::SecretBytes::CopyFrom(pass);
  std::fill(pass.begin(), pass.end(), '\0');
  return secret;
}

absl::Status InitHome(const InitOptions& o) {
  if (absl::Status s = validate::ValidateIdentifier("--chain-id", o.chain_id,
                                                    validate::kChainId);
      !s.ok()) {
    return s;
  }
  v1::NodeConfig config;
  config.set_moniker(o.moniker.empty() ? "node" : o.moniker);
  config.set_raft_id(o.raft_id);
  config.set_join(o.join);
  config.set_grpc_address(o.grpc_address);
  config.set_raft_address(o.raft_address);
  config.set_metrics_address(o.metrics_address.empty() ? kDefaultMetrics
                                                       : o.metrics_address);
  ApplyDefaults(&config);
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;

  v1::GenesisDoc genesis;
  genesis.set_chain_id(o.chain_id);
  // Genesis time is the one wall-clock reading of the chain's life; every
  // later time comes from block headers.
  genesis.set_genesis_time_unix_nano(absl::GetCurrentTimeNanos());
  genesis.mutable_bank()->set_fee_denom(o.fee_denom);
  genesis.mutable_bank()->set_min_fee(o.min_fee);
  for (const std::string& op : o.operators) genesis.add_operators(op);
  for (const std::string& entry : o.genesis_accounts) {
    const std::vector<std::string> parts = absl::StrSplit(entry, '=');
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--genesis-account: want ADDRESS=AMOUNTDENOM, got \"", entry, "\""));
    }
    if (auto a = validate::ValidateAddress("--genesis-account", parts[0]);
        !a.ok()) {
      return a.status();
    }
    size_t digits = 0;
    while (digits < parts[1].size() && parts[1][digits] >= '0' &&
           parts[1][digits] <= '9') {
      ++digits;
    }
    absl::StatusOr<uint64_t> amount =
        validate::ParseUint64("--genesis-account amount",
                              std::string_view(parts[1]).substr(0, digits));
    if (!amount.ok()) return amount.status();
    const std::string denom = parts[1].substr(digits);
    if (absl::Status s = validate::ValidateIdentifier("--genesis-account denom",
                                                      denom, validate::kDenom);
        !s.ok()) {
      return s;
    }
    bank::v1::Balance* b = genesis.mutable_bank()->add_balances();
    b->set_address(parts[0]);
    bank::v1::Coin* coin = b->add_coins();
    coin->set_denom(denom);
    coin->set_amount(*amount);
  }

  absl::StatusOr<crypto::SecretBytes> pass =
      ReadPassphraseFile(o.passphrase_file);
  if (!pass.ok()) return pass.status();
  // Everything given was validated: only now is anything created.
  absl::StatusOr<PathRoot> home = OpenDir(o.home, /*create=*/true);
  if (!home.ok()) return home.status();
  if (absl::StatusOr<std::string> existing =
          home->ReadFile("config/genesis.json", kMaxGenesisBytes);
      existing.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(
        o.home, " already holds config/genesis.json; use another --home"));
  }
  keys::PassphraseKekProvider kek(*std::move(pass));
  absl::StatusOr<std::unique_ptr<keys::KeyStore>> store =
      keys::KeyStore::Create(*home, kek, keys::SystemWallClock::Get());
  if (!store.ok()) return store.status();
  absl::StatusOr<keys::KeyInfo> key = (*store)->Generate(
      kNodeKeyName, keys::KeyAlgorithm::kEd25519, cv1::NODE_SIGNATURE);
  if (!key.ok()) return key.status();
  v1::GenesisVoter* voter = genesis.add_voters();
  voter->set_raft_id(config.raft_id());
  voter->set_raft_address(config.raft_address());
  voter->set_grpc_address(config.grpc_address());
  voter->set_node_public_key(std::string(crypto::AsChars(
      crypto::ByteView(key->public_key.data(), key->public_key.size()))));
  if (absl::Status s = ValidateGenesis(genesis); !s.ok()) return s;

  if (absl::Status s = home->MakeDirs("config", 0700); !s.ok()) return s;
  if (absl::Status s = home->MakeDirs("data", 0700); !s.ok()) return s;
  std::string config_text;
  google::protobuf::TextFormat::PrintToString(config, &config_text);
  config_text = absl::StrCat(
      "# ve-node configuration (docs/operator/node.md).\n", config_text);
  if (absl::Status s =
          home->WriteFileAtomic("config/node.conf", config_text, 0600);
      !s.ok()) {
    return s;
  }
  std::string own;
  if (!google::protobuf::util::MessageToJsonString(*voter, &own).ok()) {
    return absl::InternalError("own voter: JSON encoding failed");
  }
  if (absl::Status s =
          home->WriteFileAtomic("config/own-voter.json", own + "\n", 0600);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> json = GenesisToJson(genesis);
  if (!json.ok()) return json.status();
  return home->WriteFileAtomic("config/genesis.json", *json, 0600);
}

namespace {

// The home's genesis and config, refusing once the node has started.
struct HomeFiles {
  PathRoot root;
  v1::NodeConfig config;
  v1::GenesisDoc genesis;
};

absl::StatusOr<HomeFiles> OpenUnstartedHome(const std::string& home) {
  absl::StatusOr<PathRoot> root = OpenDir(home, false);
  if (!root.ok()) return root.status();
  if (root->Sub("data/ledger").ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        home,
        " has started already (data/ledger exists): its genesis is "
        "fixed"));
  }
  absl::StatusOr<std::string> ctext =
      root->ReadFile("config/node.conf", kMaxConfigBytes);
  if (!ctext.ok()) return ctext.status();
  absl::StatusOr<v1::NodeConfig> config = ParseConfig(*ctext);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::string> gtext =
      root->ReadFile("config/genesis.json", kMaxGenesisBytes);
  if (!gtext.ok()) return gtext.status();
  absl::StatusOr<v1::GenesisDoc> genesis = ParseGenesis(*gtext);
  if (!genesis.ok()) return genesis.status();
  return HomeFiles{*std::move(root), *std::move(config), *std::move(genesis)};
}

absl::Status WriteGenesis(const PathRoot& root, const v1::GenesisDoc& g) {
  if (absl::Status s = ValidateGenesis(g); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("genesis: ", s.message()));
  }
  absl::StatusOr<std::string> json = GenesisToJson(g);
  if (!json.ok()) return json.status();
  return root.WriteFileAtomic("config/genesis.json", *json, 0600);
}

}  // namespace

absl::Status AddGenesisVoter(const std::string& home,
                             const v1::GenesisVoter& voter) {
  absl::StatusOr<HomeFiles> h = OpenUnstartedHome(home);
  if (!h.ok()) return h.status();
  for (const v1::GenesisVoter& v : h->genesis.voters()) {
    if (v.raft_id() == voter.raft_id() ||
        v.raft_address() == voter.raft_address() ||
        v.node_public_key() == voter.node_public_key()) {
      return absl::InvalidArgumentError(
          absl::StrCat("genesis already lists a voter with raft id ",
                       v.raft_id(), " (same id, raft address or key)"));
    }
  }
  *h->genesis.add_voters() = voter;
  return WriteGenesis(h->root, h->genesis);
}

absl::Status ImportGenesis(const std::string& home, const std::string& file) {
  absl::StatusOr<HomeFiles> h = OpenUnstartedHome(home);
  if (!h.ok()) return h.status();
  absl::StatusOr<std::string> text = ReadAbsolute(file, kMaxGenesisBytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<v1::GenesisDoc> g = ParseGenesis(*text);
  if (!g.ok()) return g.status();
  if (g->chain_id() != h->genesis.chain_id()) {
    return absl::InvalidArgumentError(
        absl::StrCat("genesis is for chain \"", g->chain_id(),
                     "\", this home "
                     "was initialised for \"",
                     h->genesis.chain_id(), "\""));
  }
  absl::StatusOr<v1::GenesisVoter> own = OwnVoter(home);
  if (!own.ok()) return own.status();
  bool listed = false;
  for (const v1::GenesisVoter& v : g->voters()) {
    if (v.raft_id() == h->config.raft_id()) {
      if (v.node_public_key() != own->node_public_key()) {
        return absl::InvalidArgumentError(
            absl::StrCat("genesis lists raft id ", v.raft_id(),
                         " with another node key than this home's"));
      }
      listed = true;
    }
  }
  if (!listed && !h->config.join()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "genesis does not list this node (raft id ", h->config.raft_id(),
        ") as a voter; a node joining later is initialised with --join"));
  }
  return WriteGenesis(h->root, *g);
}

absl::StatusOr<v1::GenesisVoter> OwnVoter(const std::string& home) {
  absl::StatusOr<PathRoot> root = OpenDir(home, false);
  if (!root.ok()) return root.status();
  absl::StatusOr<std::string> text =
      root->ReadFile("config/own-voter.json", kMaxConfigBytes);
  if (!text.ok()) return text.status();
  v1::GenesisVoter v;
  google::protobuf::util::JsonParseOptions opts;
  if (!google::protobuf::util::JsonStringToMessage(*text, &v, opts).ok()) {
    return absl::DataLossError("config/own-voter.json does not parse");
  }
  return v;
}

absl::StatusOr<std::unique_ptr<StoreBlockSigner>> StoreBlockSigner::Open(
    std::unique_ptr<keys::KeyStore> store) {
  absl::StatusOr<keys::KeyInfo> info = store->ActiveKey(kNodeKeyName);
  if (!info.ok()) return info.status();
  if (info->algorithm != keys::KeyAlgorithm::kEd25519 ||
      info->purpose != cv1::NODE_SIGNATURE) {
    return absl::FailedPreconditionError(
        "key store: \"node\" is not an Ed25519 NODE_SIGNATURE key");
  }
  absl::StatusOr<crypto::Ed25519PublicKey> pk =
      crypto::Ed25519PublicKey::FromBytes(
          crypto::ByteView(info->public_key.data(), info->public_key.size()));
  if (!pk.ok()) return pk.status();
  return std::unique_ptr<StoreBlockSigner>(
      new StoreBlockSigner(std::move(store), info->key_id, *pk));
}

absl::StatusOr<crypto::Ed25519Signature> StoreBlockSigner::Sign(
    crypto::ByteView message) const {
  return store_->Sign(key_id_, message);
}

}  // namespace virtengine::node
