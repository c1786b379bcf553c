// Fuzzes VerifyReceipt on arbitrary Receipt bytes. Invariants: never crash;
// refusals carry INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED or
// OUT_OF_RANGE; a receipt that verifies under the fixed node key has exactly
// the semantics of a genuine receipt (same tx hash, leaf index, tree size,
// leaf hash, audit path, root, header bytes and signature: only bytes the
// verifier ignores, such as unknown fields, may differ); verifying with an
// empty key is verifying with the header's own proposer key.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/receipt_verify/receipts.h"
#include "google/protobuf/stubs/logging.h"
#include "src/ledger/chain/ledger.h"

namespace {

namespace lv1 = ::virtengine::ledger::v1;
namespace fr = ::virtengine::ledger::fuzz_receipt;
using virtengine::ledger::VerifyReceipt;

std::vector<lv1::Receipt>* genuine = nullptr;
std::string* node_key = nullptr;

void Check(bool ok, const char* what) {
  if (!ok) {
    (void)std::fprintf(stderr, "receipt_verify invariant broken: %s\n", what);
    std::abort();
  }
}

bool SameSemantics(const lv1::Receipt& a, const lv1::Receipt& b) {
  if (a.tx_hash() != b.tx_hash() || a.leaf_index() != b.leaf_index() ||
      a.tree_size() != b.tree_size() || a.leaf_hash() != b.leaf_hash() ||
      a.root() != b.root() ||
      a.header().header_bytes() != b.header().header_bytes() ||
      a.header().signature() != b.header().signature() ||
      a.audit_path_size() != b.audit_path_size()) {
    return false;
  }
  for (int i = 0; i < a.audit_path_size(); ++i) {
    if (a.audit_path(i) != b.audit_path(i)) return false;
  }
  return true;
}

bool AllowedRefusal(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Protobuf logs every string field with invalid UTF-8 it parses; the
  // fuzzer produces millions of them.
  google::protobuf::SetLogHandler(nullptr);
  genuine = new std::vector<lv1::Receipt>(fr::GenuineReceipts());  // NOLINT
  node_key = new std::string(fr::NodeKey());                       // NOLINT
  // Self-test: the genuine receipts verify, and one flipped bit does not.
  Check(genuine->size() == 5, "five genuine receipts");
  for (const lv1::Receipt& r : *genuine) {
    Check(VerifyReceipt(r, *node_key).ok(), "a genuine receipt verifies");
    lv1::Receipt bad = r;
    std::string root = bad.root();
    root[7] = static_cast<char>(root[7] ^ 0x10);
    bad.set_root(root);
    Check(!VerifyReceipt(bad, *node_key).ok(), "a changed root fails");
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > size_t{64} * 1024) return 0;  // receipts are far smaller
  lv1::Receipt r;
  if (!r.ParseFromArray(data, static_cast<int>(size))) return 0;
  const absl::Status with_key = VerifyReceipt(r, *node_key);
  const absl::Status any_key = VerifyReceipt(r, "");
  Check(with_key.ok() || AllowedRefusal(with_key), "refusal code (node key)");
  Check(any_key.ok() || AllowedRefusal(any_key), "refusal code (any key)");
  if (with_key.ok()) {
    bool found = false;
    for (const lv1::Receipt& g : *genuine) found = found || SameSemantics(r, g);
    Check(found, "a verifying receipt is a genuine one");
    Check(any_key.ok(), "node-key success implies header-key success");
  }
  lv1::BlockHeader h;
  if (h.ParseFromString(r.header().header_bytes()) && !h.proposer().empty()) {
    Check(VerifyReceipt(r, h.proposer()).ok() == any_key.ok(),
          "an empty key means the header's proposer key");
  }
  return 0;
}
