// Fuzzes the receipt file parser of `vectl receipt verify`: never crash;
// anything accepted re-encodes (ReceiptToJson) to canonical JSON that parses
// back to the identical receipt and re-encodes to the identical text; every
// refusal is INVALID_ARGUMENT; offline verification of an accepted receipt
// returns OK or one of the documented failure codes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/api/ledger/v1/ledger.pb.h"
#include "src/cli/receipt_json.h"
#include "src/ledger/chain/ledger.h"

using virtengine::cli::ReceiptFromJson;
using virtengine::cli::ReceiptToJson;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto receipt = ReceiptFromJson(text);
  if (!receipt.ok()) {
    if (receipt.status().code() != absl::StatusCode::kInvalidArgument) {
      std::abort();
    }
    return 0;
  }
  auto canonical = ReceiptToJson(*receipt);
  if (!canonical.ok()) std::abort();
  auto again = ReceiptFromJson(*canonical);
  if (!again.ok()) std::abort();
  if (again->SerializeAsString() != receipt->SerializeAsString()) std::abort();
  auto canonical2 = ReceiptToJson(*again);
  if (!canonical2.ok() || *canonical2 != *canonical) std::abort();
  if (canonical->size() > virtengine::cli::kMaxReceiptJsonBytes) std::abort();
  // Verification never crashes; its failures are the documented ones.
  const absl::Status v = virtengine::ledger::VerifyReceipt(*receipt, "");
  switch (v.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kOutOfRange:
      break;
    default:
      std::abort();
  }
  return 0;
}
