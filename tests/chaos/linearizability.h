// A linearizability checker for the client-visible history of one
// read/write register (tests/chaos: the profile key "reg" of one account).
//
// Each operation carries the client's invoke and completion times and an
// outcome:
//   kOk       it took effect exactly once between invoke and completion;
//             a read returns what it saw (found + value);
//   kFail     it certainly did not take effect (dropped from the check);
//   kUnknown  the client does not know (timeout, connection lost): a write
//             may take effect at any time after its invoke, or never; an
//             unknown read carries no information (dropped).
//
// The search is Wing & Gong's, with Lowe's memoisation of (set of
// linearized operations, register value) configurations, bounded by
// `max_configurations`: when the bound is hit the answer is "unknown", not
// a verdict. Write values should be unique (the chaos workload writes a
// fresh counter each time): then an unknown write whose value nobody read is
// dropped without loss of precision, which keeps the search small.
#ifndef VIRTENGINE_TESTS_CHAOS_LINEARIZABILITY_H_
#define VIRTENGINE_TESTS_CHAOS_LINEARIZABILITY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace virtengine::chaos {

enum class OpKind { kWrite, kRead };
enum class Outcome { kOk, kFail, kUnknown };

struct RegisterOp {
  int client = 0;
  OpKind kind = OpKind::kWrite;
  Outcome outcome = Outcome::kOk;
  // Write: the value written (found is ignored). Read (ok): what was seen;
  // found = false means "no value yet" (value ignored).
  std::string value;
  bool found = true;
  int64_t invoke_ns = 0;
  int64_t complete_ns = 0;  // ignored for kUnknown (treated as +infinity)
};

struct CheckOptions {
  // The register's value before the history; nullopt = not set.
  std::optional<std::string> initial;
  uint64_t max_configurations = 2'000'000;
};

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };

struct CheckResult {
  Verdict verdict = Verdict::kUnknown;
  // Operations considered (ok ops + unknown writes whose value was read or
  // that could matter) and configurations explored.
  size_t operations = 0;
  uint64_t configurations = 0;
  // For kLinearizable: indices into the input history in linearization
  // order (unknown writes that never took effect are absent). Otherwise a
  // human-readable reason naming the operation that could not be placed.
  std::vector<size_t> order;
  std::string explanation;
};

// INVALID_ARGUMENT for a malformed history (completion before invoke of a
// completed op, more than 100,000 operations).
absl::StatusOr<CheckResult> CheckRegisterHistory(
    const std::vector<RegisterOp>& history, const CheckOptions& options);

// One line per operation, for failure messages and logs.
std::string FormatHistory(const std::vector<RegisterOp>& history);

}  // namespace virtengine::chaos

#endif  // VIRTENGINE_TESTS_CHAOS_LINEARIZABILITY_H_
