// The registry of modules, message handlers and gate requirements. Built
// once at start-up and immutable afterwards, so it may be read from any
// thread (PreCheckTx runs concurrently).
#ifndef VIRTENGINE_SRC_LEDGER_MODULE_REGISTRY_H_
#define VIRTENGINE_SRC_LEDGER_MODULE_REGISTRY_H_

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"
#include "src/ledger/module/gate.h"
#include "src/ledger/module/module.h"
#include "src/ledger/store/state_view.h"

namespace virtengine::ledger {

// Key prefixes the chain itself uses; no module may be named after them.
inline constexpr std::array<std::string_view, 4> kReservedPrefixes = {
    "block", "merkle", "meta", "txloc"};

class Registry {
 public:
  class Builder {
   public:
    Builder& Add(std::shared_ptr<const Module> module);
    // Replaces the requirement a module declared for `type_url` (e.g. a
    // genesis or governance parameter). The type must be registered.
    Builder& SetRequirement(std::string type_url, GateRequirement requirement);
    // INVALID_ARGUMENT naming the problem: a malformed or reserved module
    // name, a duplicate module, a malformed or duplicate message type, an
    // invalid requirement, an override of an unknown type, a keeper
    // dependency on an unknown module or on itself, two providers of the
    // same gate fact.
    absl::StatusOr<std::unique_ptr<const Registry>> Build() const;

   private:
    std::vector<std::shared_ptr<const Module>> modules_;
    std::vector<std::pair<std::string, GateRequirement>> overrides_;
  };

  // nullptr when unknown.
  const Module* FindModule(std::string_view name) const;
  const Module* FindHandler(std::string_view type_url) const;
  const GateRequirement* FindRequirement(std::string_view type_url) const;
  bool DependsOn(std::string_view module, std::string_view dependency) const;

  // Modules in name order (the order of end-block hooks, invariants and
  // genesis import).
  std::vector<const Module*> modules() const;
  // Every registered message type with its effective requirement.
  std::vector<std::pair<std::string, GateRequirement>> requirements() const;

  // Evaluates the gate of `type_url` for `signer` against `view`
  // (EvaluateGate with the registered providers bound to their prefixes).
  // INVALID_ARGUMENT for an unregistered type.
  absl::Status CheckGate(StateView* view, std::string_view type_url,
                         std::string_view signer,
                         int64_t block_time_unix_nano) const;

  // Runs the handler of `msg.type_url()` in a Context over `view`.
  // UNIMPLEMENTED "unknown message type <url>" when no module handles it.
  absl::Status Dispatch(StateView* view, const google::protobuf::Any& msg,
                        std::string_view signer, const BlockInfo& block,
                        EventSink* events) const;

 private:
  struct Route {
    const Module* module = nullptr;
    GateRequirement requirement;
  };
  Registry() = default;

  std::map<std::string, std::shared_ptr<const Module>, std::less<>> modules_;
  std::map<std::string, Route, std::less<>> routes_;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> deps_;
  // Provider module per GateFact (index = enum value); null = none.
  std::array<const Module*, 3> providers_{};
};

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_MODULE_REGISTRY_H_
