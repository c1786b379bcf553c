// Fuzzes transaction decoding and signature verification: never crash; a
// decoded tx keeps its limits, its hash is the SHA-256 of the input, and
// verification either succeeds or fails with UNAUTHENTICATED.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "security/crypto/hash.h"
#include "src/ledger/tx/tx.h"

namespace cv1 = ::virtengine::security::crypto::v1;
using virtengine::ledger::DecodeTx;
using virtengine::ledger::TxLimits;
using virtengine::ledger::VerifyTxSignature;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  const TxLimits limits;
  auto tx = DecodeTx(raw, limits);
  if (!tx.ok()) {
    if (tx.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (tx->raw != raw) std::abort();
  if (tx->body.messages_size() == 0 ||
      static_cast<size_t>(tx->body.messages_size()) > limits.max_messages) {
    std::abort();
  }
  if (tx->body.memo().size() > limits.max_memo_bytes) std::abort();
  auto h = virtengine::crypto::Sha256(cv1::CONTENT_HASH,
                                      virtengine::crypto::AsBytes(raw));
  if (!h.ok() || *h != tx->hash) std::abort();
  if (tx->signer_address.rfind("ve1", 0) != 0) std::abort();
  absl::Status s = VerifyTxSignature(*tx, "virtengine-fuzz-1");
  if (!s.ok() && s.code() != absl::StatusCode::kUnauthenticated) std::abort();
  return 0;
}
