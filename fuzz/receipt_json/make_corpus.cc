// Writes fuzz/receipt_json/corpus: `make_corpus DIR SCRATCH_DIR`. A real
// ledger in SCRATCH_DIR (a fresh directory) commits one block of three
// transfers signed with throwaway keys; the receipt of the second one is
// written as JSON, followed by near-valid variants.
#include <cstdio>
#include <fstream>
#include <string>

#include "src/cli/receipt_json.h"
#include "src/cli/test_util.h"

namespace {

std::string Replace(std::string s, const std::string& from,
                    const std::string& to) {
  const size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string Pretty(const std::string& s) {
  std::string out;
  for (const char c : s) {
    out.push_back(c);
    if (c == ',' || c == '{' || c == '[') out += "\n  ";
  }
  return out + "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    (void)std::fprintf(stderr, "usage: make_corpus DIR SCRATCH_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto chain =
      virtengine::cli::testutil::NewChain(std::string(argv[2]) + "/db");
  if (chain.ledger == nullptr) return 1;
  const auto receipt = virtengine::cli::testutil::CommitAndGetReceipt(chain);
  auto json = virtengine::cli::ReceiptToJson(receipt);
  if (!json.ok()) return 1;
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  };
  write("valid", *json);
  write("valid_pretty", Pretty(*json));
  write("flipped_height", Replace(*json, "\"height\":1,", "\"height\":2,"));
  write("missing_signer", Replace(*json, ",\"signer_key\"", ",\"signer_kez\""));
  write("uppercase_hex", Replace(*json, "\"root\":\"", "\"root\":\"AB"));
  write("truncated", json->substr(0, json->size() / 2));
  write("escapes", "{\"tx_hash\":\"\\u0041\\ud83d\\ude00\",\"a\":[1,-0,2e5]}");
  write("nested", "[[[[[[{\"a\":[true,false,null]}]]]]]]");
  return 0;
}
