#include "src/ledger/module/module.h"

#include <vector>

#include "google/protobuf/descriptor.h"
#include "src/ledger/module/registry.h"

namespace virtengine::ledger {

namespace {

bool HasUnknownFields(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (HasUnknownFields(r->GetRepeatedMessage(m, f, i))) return true;
      }
    } else if (HasUnknownFields(r->GetMessage(m, f))) {
      return true;
    }
  }
  return false;
}

}  // namespace

void EventSink::Emit(const google::protobuf::Message& event) {
  google::protobuf::Any any;
  any.PackFrom(event, "/");
  events_.push_back(std::move(any));
}

Context::Context(const Registry* registry, const Module* module,
                 StateView* view, std::string signer, const BlockInfo* block,
                 EventSink* events)
    : registry_(registry),
      module_(module),
      view_(view),
      signer_(std::move(signer)),
      block_(block),
      events_(events),
      store_(view, std::string(module->name())) {}

Context::~Context() = default;

std::string_view Context::module_name() const { return module_->name(); }

absl::StatusOr<KeeperInterface*> Context::KeeperFor(std::string_view module) {
  auto it = keepers_.find(module);
  if (it != keepers_.end()) return it->second.keeper.get();
  const std::string own(module_->name());
  if (registry_ == nullptr || !registry_->DependsOn(own, module)) {
    return absl::FailedPreconditionError(
        absl::StrCat("module ", own, " did not declare a keeper dependency on ",
                     std::string(module)));
  }
  const Module* target = registry_->FindModule(module);
  if (target == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("module ", std::string(module), " is not registered"));
  }
  Bound bound;
  bound.context = std::make_unique<Context>(registry_, target, view_, signer_,
                                            block_, events_);
  bound.keeper = target->NewKeeper(*bound.context);
  if (bound.keeper == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("module ", std::string(module), " offers no keeper"));
  }
  KeeperInterface* k = bound.keeper.get();
  keepers_.emplace(std::string(module), std::move(bound));
  return k;
}

absl::Status Module::Handle(Context&, const google::protobuf::Any& msg) const {
  return absl::UnimplementedError(absl::StrCat(
      "module ", std::string(name()), " does not handle ", msg.type_url()));
}

absl::StatusOr<std::string> Module::Query(const QueryContext&,
                                          std::string_view path,
                                          std::string_view) const {
  return absl::NotFoundError(absl::StrCat(
      std::string(name()), ": unknown query path \"", std::string(path), "\""));
}

absl::Status Module::InitGenesis(Context&, std::string_view genesis) const {
  if (!genesis.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(name()), " genesis: this module takes no genesis state"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Module::ExportGenesis(const QueryContext&) const {
  return std::string();
}

absl::Status Module::CheckInvariants(const QueryContext&) const {
  return absl::OkStatus();
}

absl::Status Module::EndBlock(Context&) const { return absl::OkStatus(); }

std::unique_ptr<KeeperInterface> Module::NewKeeper(Context&) const {
  return nullptr;
}

std::unique_ptr<GateFacts> Module::NewGateFacts(const PrefixView&) const {
  return nullptr;
}

absl::Status ParseStrict(std::string_view what, std::string_view bytes,
                         google::protobuf::Message* msg) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !msg->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(what), " is not a valid ", msg->GetDescriptor()->name()));
  }
  if (HasUnknownFields(*msg)) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " carries unknown fields"));
  }
  return absl::OkStatus();
}

}  // namespace virtengine::ledger
