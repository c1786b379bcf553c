// RFC 6962 section 2.1 hashing for the ledger's Merkle tree.
//
//   leaf hash   = SHA-256(0x00 || leaf)
//   node hash   = SHA-256(0x01 || left || right)
//   empty tree  = SHA-256("")
//
// Every hash goes through security/crypto with Purpose MERKLE, so the active
// crypto policy decides (it allows only SHA-256 for MERKLE); a refusal comes
// back as PermissionDenied from the crypto layer.
#ifndef VIRTENGINE_SRC_LEDGER_MERKLE_HASHER_H_
#define VIRTENGINE_SRC_LEDGER_MERKLE_HASHER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"

namespace virtengine::ledger::merkle {

using Hash = crypto::Digest32;
inline constexpr size_t kHashSize = 32;

// Largest leaf accepted by HashLeaf (ledger leaves are 32-byte tx hashes).
inline constexpr size_t kMaxLeafBytes = 64 * 1024;

// MTH({}) = SHA-256 of the empty string.
absl::StatusOr<Hash> EmptyRoot();

// SHA-256(0x00 || leaf). InvalidArgument when leaf exceeds kMaxLeafBytes.
absl::StatusOr<Hash> HashLeaf(crypto::ByteView leaf);

// SHA-256(0x01 || left || right).
absl::StatusOr<Hash> HashChildren(const Hash& left, const Hash& right);

// Exactly 32 bytes, else InvalidArgument "merkle: hash must be 32 bytes, got
// N".
absl::StatusOr<Hash> HashFromBytes(crypto::ByteView bytes);

// 64 hex digits (either case), else InvalidArgument naming the problem.
absl::StatusOr<Hash> HashFromHex(std::string_view hex);

// Lowercase hex, 64 characters.
std::string HashToHex(const Hash& hash);

}  // namespace virtengine::ledger::merkle

#endif  // VIRTENGINE_SRC_LEDGER_MERKLE_HASHER_H_
