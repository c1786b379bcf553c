// A naive RFC 6962 section 2.1 implementation for cross-checking (testonly):
// MTH, PATH and PROOF written as the RFC's recursive definitions over the
// list of leaves, hashing by byte concatenation through crypto::Sha256. It
// shares no code with hasher.cc, verify.cc or tree.cc and is O(n) per call.
#ifndef VIRTENGINE_SRC_LEDGER_MERKLE_REFERENCE_H_
#define VIRTENGINE_SRC_LEDGER_MERKLE_REFERENCE_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"

namespace virtengine::ledger::merkle::reference {

using Digest = crypto::Digest32;
using Leaves = absl::Span<const crypto::Bytes>;

// SHA-256(0x00 || leaf).
Digest LeafHash(const crypto::Bytes& leaf);
// SHA-256(0x01 || left || right).
Digest NodeHash(const Digest& left, const Digest& right);
// MTH(D[n]).
Digest Mth(Leaves leaves);
// PATH(m, D[n]); m < n.
std::vector<Digest> Path(uint64_t m, Leaves leaves);
// PROOF(m, D[n]); 0 <= m <= n (empty for m == 0 and m == n).
std::vector<Digest> Proof(uint64_t m, Leaves leaves);

}  // namespace virtengine::ledger::merkle::reference

#endif  // VIRTENGINE_SRC_LEDGER_MERKLE_REFERENCE_H_
