#include "src/ledger/module/registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/validate/identifier.h"

namespace virtengine::ledger {

namespace {

// "/" then [A-Za-z0-9._]: a protobuf type URL without a host.
constexpr validate::IdentifierPattern kTypeUrl = {
    2,   128, 0, "/", validate::kLower | validate::kUpper | validate::kDigit,
    "._"};

std::string S(std::string_view v) { return std::string(v); }

}  // namespace

Registry::Builder& Registry::Builder::Add(
    std::shared_ptr<const Module> module) {
  modules_.push_back(std::move(module));
  return *this;
}

Registry::Builder& Registry::Builder::SetRequirement(
    std::string type_url, GateRequirement requirement) {
  overrides_.emplace_back(std::move(type_url), std::move(requirement));
  return *this;
}

absl::StatusOr<std::unique_ptr<const Registry>> Registry::Builder::Build()
    const {
  std::unique_ptr<Registry> r(new Registry());
  for (const std::shared_ptr<const Module>& m : modules_) {
    if (m == nullptr)
      return absl::InvalidArgumentError("registry: null module");
    const std::string name(m->name());
    if (absl::Status s = validate::ValidateIdentifier(
            "registry: module name", name, validate::kLowerIdentifier);
        !s.ok()) {
      return s;
    }
    if (std::find(kReservedPrefixes.begin(), kReservedPrefixes.end(), name) !=
        kReservedPrefixes.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "registry: module name ", name, " is reserved for the chain"));
    }
    if (!r->modules_.emplace(name, m).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("registry: duplicate module ", name));
    }
    for (const MessageSpec& spec : m->messages()) {
      if (absl::Status s = validate::ValidateIdentifier(
              absl::StrCat("registry: message type of module ", name),
              spec.type_url, kTypeUrl);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = ValidateRequirement(
              absl::StrCat("registry: requirement of ", spec.type_url),
              spec.requirement);
          !s.ok()) {
        return s;
      }
      auto [it, added] =
          r->routes_.emplace(spec.type_url, Route{m.get(), spec.requirement});
      if (!added) {
        return absl::InvalidArgumentError(absl::StrCat(
            "registry: message type ", spec.type_url, " is handled by both ",
            S(it->second.module->name()), " and ", name));
      }
    }
    std::set<std::string, std::less<>>& deps = r->deps_[name];
    for (const std::string& d : m->keeper_dependencies()) deps.insert(d);
    for (GateFact f : m->provided_gate_facts()) {
      const auto i = static_cast<size_t>(f);
      if (i >= r->providers_.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("registry: module ", name, " provides unknown facts"));
      }
      if (r->providers_[i] != nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "registry: ", S(GateFactName(f)), " facts are provided by both ",
            S(r->providers_[i]->name()), " and ", name));
      }
      r->providers_[i] = m.get();
    }
  }
  for (const auto& [name, deps] : r->deps_) {
    for (const std::string& d : deps) {
      if (d == name) {
        return absl::InvalidArgumentError(
            absl::StrCat("registry: module ", name, " depends on itself"));
      }
      if (r->modules_.find(d) == r->modules_.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "registry: module ", name,
            " declares a keeper dependency on unknown module ", d));
      }
    }
  }
  for (const auto& [type_url, requirement] : overrides_) {
    auto it = r->routes_.find(type_url);
    if (it == r->routes_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "registry: requirement for unregistered message type ", type_url));
    }
    if (absl::Status s = ValidateRequirement(
            absl::StrCat("registry: requirement of ", type_url), requirement);
        !s.ok()) {
      return s;
    }
    it->second.requirement = requirement;
  }
  return std::unique_ptr<const Registry>(std::move(r));
}

const Module* Registry::FindModule(std::string_view name) const {
  auto it = modules_.find(name);
  return it == modules_.end() ? nullptr : it->second.get();
}

const Module* Registry::FindHandler(std::string_view type_url) const {
  auto it = routes_.find(type_url);
  return it == routes_.end() ? nullptr : it->second.module;
}

const GateRequirement* Registry::FindRequirement(
    std::string_view type_url) const {
  auto it = routes_.find(type_url);
  return it == routes_.end() ? nullptr : &it->second.requirement;
}

bool Registry::DependsOn(std::string_view module,
                         std::string_view dependency) const {
  auto it = deps_.find(module);
  return it != deps_.end() && it->second.find(dependency) != it->second.end();
}

std::vector<const Module*> Registry::modules() const {
  std::vector<const Module*> out;
  out.reserve(modules_.size());
  for (const auto& [name, m] : modules_) out.push_back(m.get());
  return out;
}

std::vector<std::pair<std::string, GateRequirement>> Registry::requirements()
    const {
  std::vector<std::pair<std::string, GateRequirement>> out;
  out.reserve(routes_.size());
  for (const auto& [url, route] : routes_) {
    out.emplace_back(url, route.requirement);
  }
  return out;
}

absl::Status Registry::CheckGate(StateView* view, std::string_view type_url,
                                 std::string_view signer,
                                 int64_t block_time_unix_nano) const {
  const GateRequirement* req = FindRequirement(type_url);
  if (req == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("gate: unknown message type ", S(type_url)));
  }
  if (req->none()) return absl::OkStatus();
  // Bind each registered provider to its own module's prefix. One module
  // may provide several facts: one reader serves them all.
  std::map<const Module*,
           std::pair<std::unique_ptr<PrefixView>, std::unique_ptr<GateFacts>>>
      bound;
  std::array<const GateFacts*, 3> facts{};
  for (size_t i = 0; i < providers_.size(); ++i) {
    const Module* m = providers_[i];
    if (m == nullptr) continue;
    auto& b = bound[m];
    if (b.second == nullptr) {
      b.first = std::make_unique<PrefixView>(view, std::string(m->name()));
      b.second = m->NewGateFacts(*b.first);
    }
    facts[i] = b.second.get();
  }
  GateProviders providers;
  providers.veid = facts[static_cast<size_t>(GateFact::kVeid)];
  providers.mfa = facts[static_cast<size_t>(GateFact::kMfa)];
  providers.roles = facts[static_cast<size_t>(GateFact::kRole)];
  return EvaluateGate(type_url, *req, signer, block_time_unix_nano, providers);
}

absl::Status Registry::Dispatch(StateView* view,
                                const google::protobuf::Any& msg,
                                std::string_view signer, const BlockInfo& block,
                                EventSink* events) const {
  const Module* m = FindHandler(msg.type_url());
  if (m == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("unknown message type ", msg.type_url()));
  }
  Context ctx(this, m, view, std::string(signer), &block, events);
  return m->Handle(ctx, msg);
}

}  // namespace virtengine::ledger
