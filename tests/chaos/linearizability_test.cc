#include "tests/chaos/linearizability.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace virtengine::chaos {
namespace {

RegisterOp W(int client, const std::string& v, int64_t t0, int64_t t1,
             Outcome o = Outcome::kOk) {
  RegisterOp op;
  op.client = client;
  op.kind = OpKind::kWrite;
  op.value = v;
  op.invoke_ns = t0;
  op.complete_ns = t1;
  op.outcome = o;
  return op;
}

RegisterOp R(int client, const std::string& v, int64_t t0, int64_t t1,
             Outcome o = Outcome::kOk) {
  RegisterOp op;
  op.client = client;
  op.kind = OpKind::kRead;
  op.value = v;
  op.found = true;
  op.invoke_ns = t0;
  op.complete_ns = t1;
  op.outcome = o;
  return op;
}

RegisterOp RUnset(int client, int64_t t0, int64_t t1) {
  RegisterOp op = R(client, "", t0, t1);
  op.found = false;
  return op;
}

Verdict Check(const std::vector<RegisterOp>& h, const CheckOptions& o = {}) {
  absl::StatusOr<CheckResult> r = CheckRegisterHistory(h, o);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return Verdict::kUnknown;
  if (r->verdict != Verdict::kLinearizable) {
    std::cerr << r->explanation << "\n" << FormatHistory(h);
  }
  return r->verdict;
}

TEST(Linearizability, EmptyAndSequentialHistoriesLinearize) {
  EXPECT_EQ(Check({}), Verdict::kLinearizable);
  std::vector<RegisterOp> h = {RUnset(0, 0, 1), W(0, "1", 2, 3),
                               R(1, "1", 4, 5), W(1, "2", 6, 7),
                               R(0, "2", 8, 9)};
  absl::StatusOr<CheckResult> r = CheckRegisterHistory(h, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable);
  EXPECT_EQ(r->order, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(Linearizability, InitialValueIsRespected) {
  CheckOptions o;
  o.initial = "genesis";
  EXPECT_EQ(Check({R(0, "genesis", 0, 1)}, o), Verdict::kLinearizable);
  EXPECT_EQ(Check({RUnset(0, 0, 1)}, o), Verdict::kNotLinearizable);
}

TEST(Linearizability, ConcurrentReadMaySeeOldOrNewValue) {
  EXPECT_EQ(Check({W(0, "1", 0, 100), R(1, "1", 10, 20)}),
            Verdict::kLinearizable);
  EXPECT_EQ(Check({W(0, "1", 0, 100), RUnset(1, 10, 20)}),
            Verdict::kLinearizable);
  // Reads concurrent with the write but ordered among themselves: once the
  // new value is seen, a later read may not go back.
  EXPECT_EQ(Check({W(0, "1", 0, 100), R(1, "1", 10, 20), RUnset(2, 30, 40)}),
            Verdict::kNotLinearizable);
  EXPECT_EQ(Check({W(0, "1", 0, 100), RUnset(1, 10, 20), R(2, "1", 30, 40)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, StaleReadIsCaught) {
  EXPECT_EQ(Check({W(0, "1", 0, 10), W(0, "2", 20, 30), R(1, "1", 40, 50)}),
            Verdict::kNotLinearizable);
  // A follower-style stale read after the write completed.
  absl::StatusOr<CheckResult> r =
      CheckRegisterHistory({W(0, "1", 0, 10), W(1, "2", 20, 30),
                            R(2, "2", 31, 32), R(2, "1", 40, 50)},
                           {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r->explanation.find("read \"1\""), std::string::npos)
      << r->explanation;
}

TEST(Linearizability, LostAcknowledgedWriteIsCaught) {
  EXPECT_EQ(Check({W(0, "1", 0, 10), RUnset(1, 20, 30)}),
            Verdict::kNotLinearizable);
  EXPECT_EQ(Check({W(0, "1", 0, 10), W(0, "2", 11, 20), R(1, "1", 30, 40)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, FailedWriteMustNotBeVisible) {
  EXPECT_EQ(Check({W(0, "1", 0, 10, Outcome::kFail), R(1, "1", 20, 30)}),
            Verdict::kNotLinearizable);
  EXPECT_EQ(Check({W(0, "1", 0, 10, Outcome::kFail), RUnset(1, 20, 30)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, IndeterminateWritesMayOrMayNotTakeEffect) {
  // Never seen: fine.
  EXPECT_EQ(Check({W(0, "1", 0, 0, Outcome::kUnknown), RUnset(1, 20, 30)}),
            Verdict::kLinearizable);
  // Seen long after its invoke: fine (it may take effect late).
  EXPECT_EQ(Check({W(0, "1", 0, 0, Outcome::kUnknown), RUnset(1, 20, 30),
                   R(1, "1", 500, 510)}),
            Verdict::kLinearizable);
  // Taking effect after a later acknowledged write...
  EXPECT_EQ(Check({W(0, "1", 0, 0, Outcome::kUnknown), W(1, "2", 10, 20),
                   R(2, "1", 30, 40)}),
            Verdict::kLinearizable);
  // ...but then the older value cannot come back.
  EXPECT_EQ(Check({W(0, "1", 0, 0, Outcome::kUnknown), W(1, "2", 10, 20),
                   R(2, "1", 30, 40), R(2, "2", 50, 60)}),
            Verdict::kNotLinearizable);
  // Once seen, it cannot disappear.
  EXPECT_EQ(Check({W(0, "1", 0, 0, Outcome::kUnknown), R(1, "1", 20, 30),
                   RUnset(1, 40, 50)}),
            Verdict::kNotLinearizable);
  // It cannot take effect before it was invoked.
  EXPECT_EQ(Check({R(1, "1", 0, 10), W(0, "1", 20, 0, Outcome::kUnknown)}),
            Verdict::kNotLinearizable);
  // Unknown reads carry no information.
  EXPECT_EQ(Check({W(0, "1", 0, 10), R(1, "zzz", 20, 0, Outcome::kUnknown)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, ValueNobodyWroteIsCaughtAtOnce) {
  absl::StatusOr<CheckResult> r =
      CheckRegisterHistory({W(0, "1", 0, 10), R(1, "7", 20, 30)}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r->explanation.find("no write produced"), std::string::npos);
}

// A long history from a simulated atomic register: 4 clients, overlapping
// operations, each taking effect at a point inside its interval; some
// writes time out (unknown) after taking effect or without it.
std::vector<RegisterOp> Simulated(size_t ops) {
  std::vector<RegisterOp> h;
  std::string value;
  bool set = false;
  int64_t t = 0;
  for (size_t i = 0; i < ops; ++i) {
    const int client = static_cast<int>(i % 4);
    // Interval [t - span, t + span] around the effect point t.
    const int64_t span = 5 + static_cast<int64_t>((i * 7) % 13);
    t += 10;
    if (i % 3 == 0) {
      const std::string v = std::to_string(i);
      Outcome o = Outcome::kOk;
      if (i % 37 == 0) o = Outcome::kUnknown;  // took effect, unacknowledged
      if (i % 41 == 0) {
        h.push_back(W(client, v, t - span, t + span, Outcome::kUnknown));
        continue;  // never took effect
      }
      value = v;
      set = true;
      h.push_back(W(client, v, t - span, t + span, o));
    } else {
      RegisterOp r = set ? R(client, value, t - span, t + span)
                         : RUnset(client, t - span, t + span);
      h.push_back(r);
    }
  }
  return h;
}

TEST(Linearizability, LongSimulatedHistoryLinearizesAndOneStaleReadBreaksIt) {
  std::vector<RegisterOp> h = Simulated(3000);
  absl::StatusOr<CheckResult> r = CheckRegisterHistory(h, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable) << r->explanation;
  // Make one late read return a value overwritten long before.
  for (size_t i = h.size() - 1; i > 0; --i) {
    if (h[i].kind == OpKind::kRead) {
      h[i].value = "3";
      h[i].found = true;
      break;
    }
  }
  r = CheckRegisterHistory(h, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
}

TEST(Linearizability, SearchBoundGivesUnknownNotAVerdict) {
  // Many mutually concurrent writes, then a read of a value that cannot
  // be last: the search must explore many orders.
  std::vector<RegisterOp> h;
  h.reserve(14);
  for (int i = 0; i < 12; ++i) h.push_back(W(i, std::to_string(i), 0, 100));
  h.push_back(R(20, "0", 200, 210));
  h.push_back(R(21, "1", 220, 230));
  CheckOptions o;
  o.max_configurations = 50;
  absl::StatusOr<CheckResult> r = CheckRegisterHistory(h, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnknown);
  r = CheckRegisterHistory(h, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
}

TEST(Linearizability, MalformedHistoryIsRefused) {
  EXPECT_EQ(CheckRegisterHistory({W(0, "1", 10, 5)}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::chaos
