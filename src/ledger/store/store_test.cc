#include "src/ledger/store/store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "src/ledger/store/state_view.h"

namespace virtengine::ledger {
namespace {

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return std::string(t != nullptr ? t : "/tmp") + "/" + name;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs ScanAll(const KvReader& r, std::string_view prefix) {
  Pairs out;
  absl::Status s = r.Scan(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(StoreTest, CommitIsDurableAcrossReopen) {
  const std::string dir = TempDir("durable");
  {
    auto store = Store::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    WriteSet ws;
    ws["bank/a"] = "1";
    ws["bank/b"] = "2";
    ws["meta/height"] = "7";
    ASSERT_TRUE((*store)->Commit(ws).ok());
    WriteSet del;
    del["bank/a"] = std::nullopt;
    ASSERT_TRUE((*store)->Commit(del).ok());
  }
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_FALSE((*store)->Get("bank/a")->has_value());
  EXPECT_EQ(**(*store)->Get("bank/b"), "2");
  EXPECT_EQ(**(*store)->Get("meta/height"), "7");
}

// Unsynced commits (the node's default) then Sync: reopened, everything is
// there; a read-only store's Sync is a no-op.
TEST(StoreTest, UnsyncedCommitsThenSync) {
  const std::string dir = TempDir("unsynced");
  {
    StoreOptions o;
    o.sync_writes = false;
    auto store = Store::Open(dir, o);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 100; ++i) {
      WriteSet ws;
      ws["k" + std::to_string(i)] = std::to_string(i);
      ASSERT_TRUE((*store)->Commit(ws).ok());
    }
    EXPECT_TRUE((*store)->Sync().ok());
  }
  StoreOptions ro;
  ro.read_only = true;
  auto store = Store::Open(dir, ro);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(**(*store)->Get("k99"), "99");
  EXPECT_TRUE((*store)->Sync().ok());
}

TEST(StoreTest, OpenFailureIsAStatus) {
  auto store = Store::Open("/proc/virtengine-cannot-create-here");
  EXPECT_FALSE(store.ok());
}

TEST(StateViewTest, OverlayShadowsBaseInGetAndScan) {
  auto store = Store::Open(TempDir("overlay"));
  ASSERT_TRUE(store.ok());
  WriteSet ws = {{"p/a", "base-a"},
                 {"p/b", "base-b"},
                 {"p/d", "base-d"},
                 {"q/x", "other"}};
  ASSERT_TRUE((*store)->Commit(ws).ok());

  StateView block(store->get());
  block.Put("p/b", "new-b");
  block.Delete("p/d");
  block.Put("p/c", "new-c");
  block.Delete("p/zz");  // delete of a missing key is harmless
  EXPECT_EQ(**block.Get("p/b"), "new-b");
  EXPECT_FALSE(block.Get("p/d")->has_value());
  EXPECT_EQ(ScanAll(block, "p/"),
            (Pairs{{"p/a", "base-a"}, {"p/b", "new-b"}, {"p/c", "new-c"}}));
  // The store itself is untouched until commit.
  EXPECT_EQ(**(*store)->Get("p/b"), "base-b");
  ASSERT_TRUE((*store)->Commit(block.writes()).ok());
  EXPECT_EQ(ScanAll(**store, "p/"),
            (Pairs{{"p/a", "base-a"}, {"p/b", "new-b"}, {"p/c", "new-c"}}));
}

TEST(StateViewTest, ChildIsAllOrNothing) {
  auto store = Store::Open(TempDir("child"));
  ASSERT_TRUE(store.ok());
  StateView block(store->get());
  block.Put("k/1", "a");
  {
    StateView failed_tx(&block);
    failed_tx.Put("k/1", "changed");
    failed_tx.Put("k/2", "b");
    // dropped without MergeInto: a failed transaction leaves nothing
  }
  EXPECT_EQ(**block.Get("k/1"), "a");
  EXPECT_FALSE(block.Get("k/2")->has_value());
  StateView ok_tx(&block);
  ok_tx.Put("k/2", "b");
  ok_tx.MergeInto(&block);
  EXPECT_EQ(**block.Get("k/2"), "b");
}

TEST(PrefixViewTest, ModulesAreIsolated) {
  auto store = Store::Open(TempDir("prefix"));
  ASSERT_TRUE(store.ok());
  StateView block(store->get());
  PrefixView bank(&block, "bank");
  PrefixView audit(&block, "audit");
  bank.Put("balance/ve1x", "5");
  audit.Put("balance/ve1x", "not a balance");
  EXPECT_EQ(**bank.Get("balance/ve1x"), "5");
  EXPECT_EQ(**block.Get("bank/balance/ve1x"), "5");
  Pairs seen;
  ASSERT_TRUE(bank.Scan("",
                        [&](std::string_view k, std::string_view v) {
                          seen.emplace_back(k, v);
                          return true;
                        })
                  .ok());
  EXPECT_EQ(seen, (Pairs{{"balance/ve1x", "5"}}));
}

}  // namespace
}  // namespace virtengine::ledger
