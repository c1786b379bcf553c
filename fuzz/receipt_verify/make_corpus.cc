// Writes fuzz/receipt_verify/corpus: `make_corpus DIR`. The genuine receipts
// (receipts.h) and near-valid variants (one field changed).
#include <cstdio>
#include <fstream>
#include <string>

#include "fuzz/receipt_verify/receipts.h"

namespace lv1 = ::virtengine::ledger::v1;
namespace fr = ::virtengine::ledger::fuzz_receipt;

int main(int argc, char** argv) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto write = [&](const std::string& name, const lv1::Receipt& r) {
    std::ofstream(dir + "/" + name, std::ios::binary) << r.SerializeAsString();
  };
  const auto receipts = fr::GenuineReceipts();
  for (size_t i = 0; i < receipts.size(); ++i) {
    write("valid_" + std::to_string(i), receipts[i]);
  }
  auto flip = [](std::string s, size_t at) {
    s[at % s.size()] = static_cast<char>(s[at % s.size()] ^ 1);
    return s;
  };
  const lv1::Receipt& r = receipts[2];  // leaf 2 of a tree of 4: a 2-hash path
  lv1::Receipt v = r;
  v.set_audit_path(0, flip(v.audit_path(0), 3));
  write("path_byte", v);
  v = r;
  v.set_leaf_index(3);
  write("leaf_index", v);
  v = r;
  v.set_tree_size(5);
  write("tree_size", v);
  v = r;
  v.set_root(flip(v.root(), 0));
  write("root", v);
  v = r;
  v.set_tx_hash(flip(v.tx_hash(), 31));
  write("tx_hash", v);
  v = r;
  v.mutable_audit_path()->RemoveLast();
  write("short_path", v);
  v = r;
  v.mutable_header()->set_signature(flip(v.header().signature(), 10));
  write("signature", v);
  v = r;
  v.mutable_header()->set_header_bytes(flip(v.header().header_bytes(), 40));
  write("header_byte", v);
  return 0;
}
