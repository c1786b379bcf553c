// Fuzz target: seccomp policy text -> ParsePolicy (size limit, text format,
// validation) -> ExportBpf in every mode (libseccomp compiles the filter and
// exports it into a memfd; nothing is loaded). Must never crash, and every
// accepted policy must satisfy the invariants below.
#include <seccomp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "security/seccomp/filter.h"
#include "security/seccomp/inspect.h"
#include "security/seccomp/policy.h"

namespace {

namespace sc = ::virtengine::security::seccomp;

void Check(bool ok, const char* what) {
  if (!ok) {
    (void)std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void CheckCompiles(const sc::Policy& policy) {
  for (sc::Mode mode :
       {sc::Mode::kEnforce, sc::Mode::kLog, sc::Mode::kReport}) {
    absl::StatusOr<std::string> bpf = sc::ExportBpf(policy, mode, 2);
    if (!bpf.ok()) {
      // The only admissible failure of a validated policy: too long a filter.
      Check(bpf.status().code() == absl::StatusCode::kInvalidArgument,
            "a validated policy failed to compile");
      Check(std::string(bpf.status().message()).find("kernel limit") !=
                std::string::npos,
            "compile failure other than the size limit");
      continue;
    }
    Check(!bpf->empty() && bpf->size() % 8 == 0, "BPF size not 8*n");
    Check(bpf->size() / 8 <= sc::kMaxBpfInstructions, "BPF over the limit");
    absl::StatusOr<std::string> again = sc::ExportBpf(policy, mode, 2);
    Check(again.ok() && *again == *bpf, "compilation not deterministic");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sc::Policy> policy = sc::ParsePolicy(text);
  if (size > sc::kMaxPolicyBytes) {
    Check(!policy.ok(), "oversized policy accepted");
    return 0;
  }
  if (!policy.ok()) {
    Check(policy.status().code() == absl::StatusCode::kInvalidArgument,
          "rejection is not InvalidArgument");
    Check(!policy.status().message().empty(), "rejection without a message");
    return 0;
  }
  const sc::v1::SeccompPolicy& p = policy->proto();
  Check(policy->sha256_hex() == sc::Sha256Hex(text),
        "hash is not of the bytes");
  Check(policy->sha256_hex().size() == 64, "hash length");
  Check(p.version() == 1 && p.arch() == "x86_64" && !p.name().empty(),
        "header fields not validated");
  Check(static_cast<int>(policy->syscall_numbers().size()) == p.syscall_size(),
        "one number per entry");
  Check(p.syscall_size() >= 1 && p.syscall_size() <= sc::kMaxSyscalls,
        "entry count");
  for (int i = 0; i < p.syscall_size(); ++i) {
    const int nr = policy->syscall_numbers()[static_cast<size_t>(i)];
    Check(nr >= 0 && nr != sc::kReportKillSyscall, "syscall number range");
    Check(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
                                            p.syscall(i).name().c_str()) == nr,
          "number does not match the name");
    for (int j = 0; j < i; ++j) {
      Check(p.syscall(j).name() != p.syscall(i).name(), "duplicate accepted");
    }
    for (const auto& w : p.syscall(i).when()) {
      Check(w.arg_size() >= 1 && w.arg_size() <= 6, "condition count");
      for (const auto& c : w.arg()) {
        Check(c.index() <= 5, "argument index");
        Check(c.op() == sc::v1::EQ || c.op() == sc::v1::MASKED_EQ, "operator");
        if (c.op() == sc::v1::MASKED_EQ) {
          Check((c.value() & ~c.mask()) == 0, "unmatchable MASKED_EQ accepted");
        }
      }
    }
  }
  Check(sc::CheckProductionReady(*policy).ok() ==
            (p.default_action() == sc::v1::KILL_PROCESS),
        "production check disagrees with the default action");

  CheckCompiles(*policy);

  // Round trip: the canonical text of the parsed message parses back to the
  // same message and the same numbers.
  std::string printed;
  Check(google::protobuf::TextFormat::PrintToString(p, &printed),
        "print failed");
  if (printed.size() <= sc::kMaxPolicyBytes) {
    absl::StatusOr<sc::Policy> back = sc::ParsePolicy(printed);
    Check(back.ok(), "canonical text of a valid policy rejected");
    Check(back->proto().SerializeAsString() == p.SerializeAsString(),
          "round trip changed the policy");
    Check(back->syscall_numbers() == policy->syscall_numbers(),
          "round trip changed the numbers");
  }

  // The inspect renderers handle whatever validation admits.
  const std::string text_out = sc::RenderText(*policy, 1);
  const std::string json_out = sc::RenderJson(*policy, 1);
  Check(text_out.find(policy->sha256_hex()) != std::string::npos,
        "text output lacks the hash");
  Check(json_out.find(policy->sha256_hex()) != std::string::npos,
        "json output lacks the hash");
  google::protobuf::Struct doc;
  Check(google::protobuf::util::JsonStringToMessage(json_out, &doc).ok(),
        "json output does not parse");
  Check(doc.fields().at("syscalls").list_value().values_size() ==
            p.syscall_size(),
        "json output lacks entries");
  return 0;
}
