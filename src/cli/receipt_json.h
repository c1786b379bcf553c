// Receipts as JSON (DESIGN.md §3; docs/cli/vectl.md "Receipt JSON"):
//
//   {"tx_hash":"<64 hex>","leaf_index":N,"tree_size":N,"leaf_hash":"<64 hex>",
//    "audit_path":["<64 hex>",...],"root":"<64 hex>",
//    "header":{"header_bytes":"<hex>","chain_id":"...","height":N,
//              "time_unix_nano":N,"previous_hash":"<hex>","tx_root":"<hex>",
//              "ledger_root":"<hex>","ledger_size":N,"state_digest":"<hex>",
//              "proposer":"<hex>","audit_head":"<hex>"},
//    "signature":"<128 hex>","signer_key":"<64 hex>"}
//
// Byte strings are lowercase hex, integers plain decimal JSON numbers (exact
// 64-bit values; read them as integers, not doubles). header_bytes is what
// the node signed; the other header members are its decoded fields, shown
// for people and checked against header_bytes when a receipt is read.
#ifndef VIRTENGINE_SRC_CLI_RECEIPT_JSON_H_
#define VIRTENGINE_SRC_CLI_RECEIPT_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "src/api/ledger/v1/ledger.pb.h"

namespace virtengine::cli {

// Receipt files are at most this long.
inline constexpr size_t kMaxReceiptJsonBytes = 64 * 1024;
// header_bytes is at most this long (a header is a few hundred bytes).
inline constexpr size_t kMaxHeaderBytes = 4096;

// The canonical one-line JSON of a receipt (no trailing newline).
// InvalidArgument when the receipt cannot be shown faithfully: header_bytes
// that is not a BlockHeader or carries fields this version does not know, a
// chain id that is not UTF-8, a byte string of the wrong size.
absl::StatusOr<std::string> ReceiptToJson(const ledger::v1::Receipt& receipt);

// Parses a receipt file strictly: at most kMaxReceiptJsonBytes, every member
// present exactly once and no other, lowercase hex of the exact sizes (32
// bytes for hashes and keys, 64 for the signature, at most 64 audit path
// entries), integers without sign, fraction or exponent, the decoded header
// members equal to what header_bytes holds and signer_key equal to its
// proposer. InvalidArgument naming the member ("receipt: audit_path[2]: ...")
// otherwise. A parsed receipt re-encodes (ReceiptToJson) to an equal one.
absl::StatusOr<ledger::v1::Receipt> ReceiptFromJson(std::string_view json);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_RECEIPT_JSON_H_
