// The module framework (docs/ledger/modules.md): a module owns one key
// prefix ("<name>/"), handles the message types it declares, answers
// queries on committed state, imports and exports its genesis, checks its
// invariants and may run at the end of each block. Modules call each other
// only through narrow keeper interfaces they declare (e.g. audit's
// AuditSink); they never see another module's keys.
#ifndef VIRTENGINE_SRC_LEDGER_MODULE_MODULE_H_
#define VIRTENGINE_SRC_LEDGER_MODULE_MODULE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"
#include "src/ledger/module/gate.h"
#include "src/ledger/store/state_view.h"

namespace virtengine::ledger {

class Module;
class Registry;

// Collects the typed events of one message (or of one genesis import).
// Each event is packed as a google.protobuf.Any with the type URL
// "/<full message name>", e.g. "/virtengine.bank.v1.EventTransfer".
class EventSink {
 public:
  void Emit(const google::protobuf::Message& event);
  const std::vector<google::protobuf::Any>& events() const { return events_; }
  std::vector<google::protobuf::Any> Take() { return std::move(events_); }

 private:
  std::vector<google::protobuf::Any> events_;
};

// Base of every narrow interface a module offers to other modules.
class KeeperInterface {
 public:
  virtual ~KeeperInterface() = default;
};

// The block a handler runs in. At admission (CheckTx) height is the next
// block's and time the last committed block's.
struct BlockInfo {
  std::string chain_id;
  uint64_t height = 0;
  int64_t time_unix_nano = 0;
};

// What a handler, genesis import or end-block hook sees: the signer, the
// block, a window onto ITS OWN prefix of the transactional state, an event
// sink and the keepers of the modules it declared.
class Context {
 public:
  // `signer` is empty at genesis and at end block. Pointers must outlive the
  // context.
  Context(const Registry* registry, const Module* module, StateView* view,
          std::string signer, const BlockInfo* block, EventSink* events);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  std::string_view module_name() const;
  const std::string& signer() const { return signer_; }
  uint64_t height() const { return block_->height; }
  int64_t block_time_unix_nano() const { return block_->time_unix_nano; }
  const std::string& chain_id() const { return block_->chain_id; }
  PrefixView& store() { return store_; }
  EventSink& events() { return *events_; }

  // The keeper interface `module` offers, bound to the same state, signer,
  // block and event sink. FAILED_PRECONDITION when this module did not
  // declare `module` in keeper_dependencies() or `module` offers none;
  // INTERNAL when it is not a T.
  template <typename T>
  absl::StatusOr<T*> GetKeeper(std::string_view module) {
    absl::StatusOr<KeeperInterface*> k = KeeperFor(module);
    if (!k.ok()) return k.status();
    T* t = dynamic_cast<T*>(*k);
    if (t == nullptr) {
      return absl::InternalError(
          absl::StrCat("module ", std::string(module),
                       ": keeper is not of the requested interface"));
    }
    return t;
  }

 private:
  absl::StatusOr<KeeperInterface*> KeeperFor(std::string_view module);

  struct Bound {
    std::unique_ptr<Context> context;
    std::unique_ptr<KeeperInterface> keeper;
  };
  const Registry* registry_;
  const Module* module_;
  StateView* view_;
  std::string signer_;
  const BlockInfo* block_;
  EventSink* events_;
  PrefixView store_;
  std::map<std::string, Bound, std::less<>> keepers_;
};

// Read-only access to a module's own prefix of committed state.
class QueryContext {
 public:
  QueryContext(const PrefixView* store, uint64_t height)
      : store_(store), height_(height) {}
  const PrefixView& store() const { return *store_; }
  uint64_t height() const { return height_; }  // committed height read at

 private:
  const PrefixView* store_;
  uint64_t height_;
};

// A message type a module handles and what the gate requires of its signer.
struct MessageSpec {
  std::string type_url;  // "/virtengine.<area>.v1.<Msg>"
  GateRequirement requirement;
};

// A ledger module. Implementations are stateless (all state lives under
// their prefix) and deterministic: no wall clock, no floating point, no
// unordered iteration. Methods are const; one instance serves every block.
class Module {
 public:
  virtual ~Module() = default;

  // [a-z][a-z0-9_]{0,63}; also the key prefix ("<name>/").
  virtual std::string_view name() const = 0;
  // Message types this module handles, with their gate requirements.
  virtual std::vector<MessageSpec> messages() const { return {}; }
  // Modules whose keeper interfaces this module may use.
  virtual std::vector<std::string> keeper_dependencies() const { return {}; }

  // Executes one message of a declared type. Runs after fees and the gate;
  // writes go to a view that is discarded when any message of the tx fails.
  virtual absl::Status Handle(Context& ctx,
                              const google::protobuf::Any& msg) const;
  // A query on committed state: `request` and the result are serialised
  // protos of the module's own API. NOT_FOUND for an unknown path.
  virtual absl::StatusOr<std::string> Query(const QueryContext& ctx,
                                            std::string_view path,
                                            std::string_view request) const;
  // Imports the module's genesis (its serialised GenesisState; empty = the
  // defaults) and exports it back.
  virtual absl::Status InitGenesis(Context& ctx,
                                   std::string_view genesis) const;
  virtual absl::StatusOr<std::string> ExportGenesis(
      const QueryContext& ctx) const;
  // INTERNAL (or DATA_LOSS) naming the broken invariant.
  virtual absl::Status CheckInvariants(const QueryContext& ctx) const;
  // Runs after the block's transactions, modules in name order. The
  // signer is empty; emitting events here is refused (blocks carry no
  // block-level events yet).
  virtual absl::Status EndBlock(Context& ctx) const;

  // The keeper this module offers to the modules that declare it, bound to
  // `own` (this module's context over the caller's state). nullptr: none.
  virtual std::unique_ptr<KeeperInterface> NewKeeper(Context& own) const;

  // The gate facts this module provides and a reader of them over its own
  // prefix of the state being executed.
  virtual std::vector<GateFact> provided_gate_facts() const { return {}; }
  virtual std::unique_ptr<GateFacts> NewGateFacts(const PrefixView& own) const;
};

// Parses `bytes` into `msg`; INVALID_ARGUMENT "<what> is not a valid <Type>"
// or "<what> carries unknown fields" (a signed message must mean the same to
// every reader).
absl::Status ParseStrict(std::string_view what, std::string_view bytes,
                         google::protobuf::Message* msg);

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_MODULE_MODULE_H_
