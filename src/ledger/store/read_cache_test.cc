#include "src/ledger/store/read_cache.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace virtengine::ledger {
namespace {

std::unique_ptr<Store> OpenStore(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  auto s = Store::Open(std::string(t != nullptr ? t : "/tmp") + "/" + name);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

TEST(ReadCacheTest, ServesCommittedValuesAndStaysCoherent) {
  std::unique_ptr<Store> store = OpenStore("cache1");
  ASSERT_TRUE(store->Commit({{"a", "1"}, {"b", "2"}}).ok());
  ReadCache cache(store.get());
  EXPECT_EQ(**cache.Get("a"), "1");
  EXPECT_FALSE(cache.Get("missing")->has_value());
  EXPECT_EQ(cache.size(), 2u);
  // A commit applied to the cache is seen; one not applied would not be,
  // which is why the ledger applies every commit.
  WriteSet ws = {{"a", "9"}, {"missing", "now"}, {"b", std::nullopt}};
  ASSERT_TRUE(store->Commit(ws).ok());
  cache.Apply(ws);
  EXPECT_EQ(**cache.Get("a"), "9");
  EXPECT_EQ(**cache.Get("missing"), "now");
  EXPECT_FALSE(cache.Get("b")->has_value());
}

TEST(ReadCacheTest, IsBounded) {
  std::unique_ptr<Store> store = OpenStore("cache2");
  ReadCache cache(store.get(), 3);
  for (const char* k : {"a", "b", "c", "d"}) ASSERT_TRUE(cache.Get(k).ok());
  EXPECT_LE(cache.size(), 3u);
}

}  // namespace
}  // namespace virtengine::ledger
