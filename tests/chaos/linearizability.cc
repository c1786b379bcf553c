#include "tests/chaos/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace virtengine::chaos {
namespace {

constexpr size_t kMaxOps = 100'000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// A deterministic 64-bit mixer (splitmix64): Zobrist keys for the memo.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Entry {
  size_t input = 0;  // index in the caller's history
  bool write = false;
  bool required = true;  // ok op: must be linearized
  int value = 0;         // interned; 0 = "not set"
  int64_t invoke = 0, complete = kNever;
  uint64_t z1 = 0, z2 = 0;
};

struct Key {
  uint64_t a, b;
  bool operator==(const Key& o) const { return a == o.a && b == o.b; }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    return static_cast<size_t>(k.a ^ (k.b * 0x9e3779b97f4a7c15ULL));
  }
};

std::string Describe(const RegisterOp& op) {
  std::string v = op.kind == OpKind::kRead && !op.found
                      ? std::string("<unset>")
                      : absl::StrCat("\"", op.value, "\"");
  const char* outcome = op.outcome == Outcome::kOk     ? "ok"
                        : op.outcome == Outcome::kFail ? "fail"
                                                       : "unknown";
  return absl::StrCat(
      "client ", op.client, " ", op.kind == OpKind::kWrite ? "write " : "read ",
      v, " ", outcome, " [", op.invoke_ns, ", ",
      op.outcome == Outcome::kUnknown ? std::string("?")
                                      : absl::StrCat(op.complete_ns),
      "]");
}

}  // namespace

std::string FormatHistory(const std::vector<RegisterOp>& history) {
  std::string out;
  for (size_t i = 0; i < history.size(); ++i) {
    absl::StrAppend(&out, i, ": ", Describe(history[i]), "\n");
  }
  return out;
}

absl::StatusOr<CheckResult> CheckRegisterHistory(
    const std::vector<RegisterOp>& history, const CheckOptions& options) {
  if (history.size() > kMaxOps) {
    return absl::InvalidArgumentError(absl::StrCat(
        "history has ", history.size(), " operations; at most ", kMaxOps));
  }
  // Intern values; 0 = not set.
  std::map<std::string, int> ids;
  auto intern = [&ids](const std::string& v) {
    auto [it, inserted] = ids.emplace(v, static_cast<int>(ids.size()) + 1);
    return it->second;
  };
  std::set<int> read_values;
  std::set<int> written_values;
  for (size_t i = 0; i < history.size(); ++i) {
    const RegisterOp& op = history[i];
    if (op.outcome == Outcome::kOk && op.complete_ns < op.invoke_ns) {
      return absl::InvalidArgumentError(
          absl::StrCat("operation ", i, " completes before it is invoked"));
    }
    if (op.kind == OpKind::kRead && op.outcome == Outcome::kOk) {
      read_values.insert(op.found ? intern(op.value) : 0);
    }
    if (op.kind == OpKind::kWrite && op.outcome != Outcome::kFail) {
      written_values.insert(intern(op.value));
    }
  }
  const int initial = options.initial ? intern(*options.initial) : 0;

  CheckResult result;
  // A read of a value nobody could have written is decided at once.
  for (size_t i = 0; i < history.size(); ++i) {
    const RegisterOp& op = history[i];
    if (op.kind != OpKind::kRead || op.outcome != Outcome::kOk) continue;
    const int v = op.found ? intern(op.value) : 0;
    if (v != initial && written_values.count(v) == 0) {
      result.verdict = Verdict::kNotLinearizable;
      result.explanation = absl::StrCat("operation ", i, " (", Describe(op),
                                        ") read a value no write produced");
      return result;
    }
  }

  std::vector<Entry> entries;
  for (size_t i = 0; i < history.size(); ++i) {
    const RegisterOp& op = history[i];
    if (op.outcome == Outcome::kFail) continue;
    Entry e;
    e.input = i;
    e.write = op.kind == OpKind::kWrite;
    e.value = e.write || op.found ? intern(op.value) : 0;
    e.invoke = op.invoke_ns;
    if (op.outcome == Outcome::kUnknown) {
      // An unknown read tells nothing; an unknown write nobody read can be
      // assumed lost (values are unique: leaving it out never hurts).
      if (!e.write || read_values.count(e.value) == 0) continue;
      e.required = false;
      e.complete = kNever;
    } else {
      e.complete = op.complete_ns;
    }
    entries.push_back(e);
  }
  std::stable_sort(
      entries.begin(), entries.end(),
      [](const Entry& a, const Entry& b) { return a.invoke < b.invoke; });
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].z1 = Mix(2 * i + 1);
    entries[i].z2 = Mix(Mix(2 * i + 2));
  }
  result.operations = entries.size();
  const size_t n = entries.size();
  size_t required_total = 0;
  for (const Entry& e : entries) required_total += e.required ? 1 : 0;

  std::vector<char> done(n, 0);
  size_t low = 0;  // every entry below is linearized
  size_t required_done = 0;
  int value = initial;
  uint64_t ha = 0, hb = 0;
  std::unordered_set<Key, KeyHash> seen;
  auto value_key = [](int v) {
    return Mix(0xabcdef ^ static_cast<uint64_t>(v));
  };

  // Candidates that may be linearized next from the current configuration.
  auto candidates = [&]() {
    std::vector<size_t> c;
    int64_t min_complete = kNever;
    for (size_t i = low; i < n; ++i) {
      if (entries[i].invoke > min_complete) break;
      if (done[i]) continue;
      if (entries[i].required) {
        min_complete = std::min(min_complete, entries[i].complete);
      }
    }
    for (size_t i = low; i < n; ++i) {
      if (entries[i].invoke > min_complete) break;
      if (!done[i]) c.push_back(i);
    }
    return c;
  };

  struct Frame {
    std::vector<size_t> cands;
    size_t next = 0;
    size_t applied = SIZE_MAX;  // entry applied to reach the child
    int prev_value = 0;
    size_t prev_low = 0;
  };
  std::vector<Frame> stack;
  std::vector<size_t> path;
  size_t best_depth = 0;
  int best_value = initial;
  std::vector<size_t> best_stuck;

  seen.insert(Key{ha ^ value_key(value), hb});
  stack.push_back(Frame{candidates(), 0, SIZE_MAX, value, low});
  best_stuck = stack.back().cands;
  result.configurations = 1;
  bool found = required_done == required_total;
  while (!found && !stack.empty()) {
    Frame& f = stack.back();
    if (f.next >= f.cands.size()) {
      // Exhausted: undo the move that led here.
      const size_t applied = f.applied;
      const int prev_value = f.prev_value;
      const size_t prev_low = f.prev_low;
      stack.pop_back();
      if (applied != SIZE_MAX) {
        done[applied] = 0;
        if (entries[applied].required) --required_done;
        ha ^= entries[applied].z1;
        hb ^= entries[applied].z2;
        value = prev_value;
        low = prev_low;
        path.pop_back();
      }
      continue;
    }
    const size_t i = f.cands[f.next++];
    const Entry& e = entries[i];
    if (!e.write && e.value != value) continue;  // read does not match
    const int new_value = e.write ? e.value : value;
    const Key k{ha ^ e.z1 ^ value_key(new_value), hb ^ e.z2};
    if (!seen.insert(k).second) continue;
    if (++result.configurations > options.max_configurations) {
      result.verdict = Verdict::kUnknown;
      result.explanation =
          absl::StrCat("search bound of ", options.max_configurations,
                       " configurations reached after linearizing ", best_depth,
                       " of ", n, " operations");
      return result;
    }
    Frame child;
    child.applied = i;
    child.prev_value = value;
    child.prev_low = low;
    done[i] = 1;
    if (e.required) ++required_done;
    ha ^= e.z1;
    hb ^= e.z2;
    value = new_value;
    while (low < n && done[low]) ++low;
    path.push_back(i);
    if (required_done == required_total) {
      found = true;
      break;
    }
    child.cands = candidates();
    if (path.size() > best_depth) {
      best_depth = path.size();
      best_value = value;
      best_stuck = child.cands;
    }
    stack.push_back(std::move(child));
  }
  if (found) {
    result.verdict = Verdict::kLinearizable;
    for (size_t i : path) result.order.push_back(entries[i].input);
    return result;
  }
  result.verdict = Verdict::kNotLinearizable;
  std::string stuck;
  for (size_t i : best_stuck) {
    if (!stuck.empty()) stuck += "; ";
    absl::StrAppend(&stuck, entries[i].input, " (",
                    Describe(history[entries[i].input]), ")");
  }
  std::string current = "<unset>";
  for (const auto& [v, id] : ids) {
    if (id == best_value) current = absl::StrCat("\"", v, "\"");
  }
  result.explanation = absl::StrCat(
      "no linearization: at best ", best_depth, " of ", n,
      " operations linearize, leaving the register at ", current,
      "; none of the operations that could come next fits: ", stuck);
  return result;
}

}  // namespace virtengine::chaos
