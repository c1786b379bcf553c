// The audit module: an append-only, hash-chained log of audit records in
// ledger state under "audit/". Its head after each block goes into
// BlockHeader.audit_head, so every signed block anchors it.
//
// State (under the module's prefix):
//   head               -> u64be count || 32-byte head (absent: 0, zeros)
//   rec/<u64be seq>    -> 32-byte head after it || its canonical bytes
//
// Other modules record through the AuditSink keeper (declare "audit" in
// keeper_dependencies()). The bank records nothing per transfer.
#ifndef VIRTENGINE_SRC_MODULES_AUDIT_AUDIT_H_
#define VIRTENGINE_SRC_MODULES_AUDIT_AUDIT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/ledger/module/module.h"
#include "src/ledger/store/state_view.h"
#include "src/modules/audit/record.h"

namespace virtengine::audit {

inline constexpr std::string_view kModuleName = "audit";
inline constexpr std::string_view kMsgRecordAuditType =
    "/virtengine.audit.v1.MsgRecordAudit";

// What other modules call (ctx.GetKeeper<audit::AuditSink>("audit")).
class AuditSink : public ledger::KeeperInterface {
 public:
  // Appends a record at the current block height and returns its seq.
  // INVALID_ARGUMENT naming the field when one is malformed (record.h).
  virtual absl::StatusOr<uint64_t> Record(std::string_view kind,
                                          std::string_view subject,
                                          std::string_view actor,
                                          std::string_view digest,
                                          const Details& details) = 0;
};

// Records through ctx's AuditSink (the calling module must declare "audit"
// in keeper_dependencies()): the actor is ctx's signer ("genesis" at
// genesis), the digest the SHA-256 of `message`'s serialisation.
absl::Status RecordMessage(ledger::Context& ctx, std::string_view kind,
                           std::string_view subject,
                           const google::protobuf::MessageLite& message,
                           const Details& details);

struct ChainState {
  uint64_t count = 0;  // records so far (= seq of the last one)
  Head head{};         // all zero before the first record
};

// Reads the chain's count and head from the module's own prefix.
absl::StatusOr<ChainState> ReadChain(const ledger::PrefixView& store);

class AuditModule final : public ledger::Module {
 public:
  std::string_view name() const override { return kModuleName; }
  std::vector<ledger::MessageSpec> messages() const override;
  absl::Status Handle(ledger::Context& ctx,
                      const google::protobuf::Any& msg) const override;
  // "head" (QueryHeadRequest -> QueryHeadResponse) and "record"
  // (QueryRecordRequest -> QueryRecordResponse; NOT_FOUND for an unknown
  // seq).
  absl::StatusOr<std::string> Query(const ledger::QueryContext& ctx,
                                    std::string_view path,
                                    std::string_view request) const override;
  // GenesisState: records seq 1..n, re-chained on import.
  absl::Status InitGenesis(ledger::Context& ctx,
                           std::string_view genesis) const override;
  absl::StatusOr<std::string> ExportGenesis(
      const ledger::QueryContext& ctx) const override;
  // The stored records, seq 1..count without gaps, recompute to the stored
  // head.
  absl::Status CheckInvariants(const ledger::QueryContext& ctx) const override;
  std::unique_ptr<ledger::KeeperInterface> NewKeeper(
      ledger::Context& own) const override;
};

}  // namespace virtengine::audit

#endif  // VIRTENGINE_SRC_MODULES_AUDIT_AUDIT_H_
