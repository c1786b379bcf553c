// Offline verification of RFC 6962 / RFC 9162 Merkle proofs: inclusion
// (audit path) and consistency. Pure functions: no storage, no clock, only
// SHA-256 through security/crypto. Used by receipts (`vectl receipt verify`)
// and by anyone who holds a signed root.
//
// Errors (docs/ledger/merkle.md lists them with examples):
//   OutOfRange       leaf index >= tree size; size1 > size2
//   InvalidArgument  proof with the wrong number of hashes ("too long" or
//                    "too short"; the message names the expected count)
//   Unauthenticated  the recomputed root differs from the expected one
//                    ("root mismatch", "root1 mismatch", "root2 mismatch")
//   PermissionDenied the crypto policy refuses SHA-256 for MERKLE
#ifndef VIRTENGINE_SRC_LEDGER_MERKLE_VERIFY_H_
#define VIRTENGINE_SRC_LEDGER_MERKLE_VERIFY_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "src/ledger/merkle/hasher.h"

namespace virtengine::ledger::merkle {

// No valid proof over 64-bit tree sizes has more hashes than these (an audit
// path has one hash per level of a tree of height <= 64; a consistency proof
// can add the old tree's root-side node, e.g. 3 -> 2^64 - 1 needs 65).
inline constexpr size_t kMaxInclusionProofHashes = 64;
inline constexpr size_t kMaxConsistencyProofHashes = 65;

// Number of hashes in PATH(leaf_index, D[tree_size]); 0 when
// leaf_index >= tree_size (no proof exists).
size_t InclusionProofSize(uint64_t leaf_index, uint64_t tree_size);

// Number of hashes in PROOF(size1, D[size2]) (RFC 6962 2.1.2); 0 when
// size1 == 0, size1 >= size2.
size_t ConsistencyProofSize(uint64_t size1, uint64_t size2);

// RFC 9162 2.1.3.2: the root that `audit_path` leads to from `leaf_hash` at
// `leaf_index` in a tree of `tree_size` leaves. Checks the index and the
// path length first.
absl::StatusOr<Hash> RootFromInclusionProof(const Hash& leaf_hash,
                                            uint64_t leaf_index,
                                            uint64_t tree_size,
                                            absl::Span<const Hash> audit_path);

// OK when `audit_path` proves that `leaf_hash` (= SHA-256(0x00 || leaf)) is
// leaf number `leaf_index` (zero-based) of the tree of `tree_size` leaves
// whose root is `root`.
absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index,
                             uint64_t tree_size,
                             absl::Span<const Hash> audit_path,
                             const Hash& root);

// RFC 9162 2.1.4.2: OK when `proof` shows that the tree of `size2` leaves
// with root `root2` extends the tree of `size1` leaves with root `root1`.
// Edge cases: size1 == 0 needs an empty proof and root1 == SHA-256("")
// (root2 is not constrained unless size2 == 0 too, when it must be
// SHA-256("") as well); size1 == size2 > 0 needs an empty proof and
// root1 == root2.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               absl::Span<const Hash> proof, const Hash& root1,
                               const Hash& root2);

}  // namespace virtengine::ledger::merkle

#endif  // VIRTENGINE_SRC_LEDGER_MERKLE_VERIFY_H_
