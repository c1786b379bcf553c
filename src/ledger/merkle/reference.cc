#include "src/ledger/merkle/reference.h"

#include <cstdio>
#include <cstdlib>

namespace virtengine::ledger::merkle::reference {

namespace {

namespace v1 = ::virtengine::security::crypto::v1;

Digest Sha(const crypto::Bytes& data) {
  absl::StatusOr<Digest> d = crypto::Sha256(v1::MERKLE, data);
  if (!d.ok()) {
    (void)std::fprintf(stderr, "reference: sha256 refused\n");
    std::abort();
  }
  return *d;
}

// The largest power of two smaller than n (n > 1), as the RFC states it.
uint64_t K(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

std::vector<Digest> SubProof(uint64_t m, Leaves d, bool b) {
  const uint64_t n = d.size();
  if (m == n) {
    if (b) return {};
    return {Mth(d)};
  }
  const uint64_t k = K(n);
  std::vector<Digest> out;
  if (m <= k) {
    out = SubProof(m, d.subspan(0, k), b);
    out.push_back(Mth(d.subspan(k)));
  } else {
    out = SubProof(m - k, d.subspan(k), false);
    out.push_back(Mth(d.subspan(0, k)));
  }
  return out;
}

}  // namespace

Digest LeafHash(const crypto::Bytes& leaf) {
  crypto::Bytes buf = {0x00};
  buf.insert(buf.end(), leaf.begin(), leaf.end());
  return Sha(buf);
}

Digest NodeHash(const Digest& left, const Digest& right) {
  crypto::Bytes buf = {0x01};
  buf.insert(buf.end(), left.begin(), left.end());
  buf.insert(buf.end(), right.begin(), right.end());
  return Sha(buf);
}

Digest Mth(Leaves d) {
  const uint64_t n = d.size();
  if (n == 0) return Sha({});
  if (n == 1) return LeafHash(d[0]);
  const uint64_t k = K(n);
  return NodeHash(Mth(d.subspan(0, k)), Mth(d.subspan(k)));
}

std::vector<Digest> Path(uint64_t m, Leaves d) {
  const uint64_t n = d.size();
  if (n <= 1) return {};
  const uint64_t k = K(n);
  std::vector<Digest> out;
  if (m < k) {
    out = Path(m, d.subspan(0, k));
    out.push_back(Mth(d.subspan(k)));
  } else {
    out = Path(m - k, d.subspan(k));
    out.push_back(Mth(d.subspan(0, k)));
  }
  return out;
}

std::vector<Digest> Proof(uint64_t m, Leaves d) {
  if (m == 0 || m == d.size()) return {};
  return SubProof(m, d, true);
}

}  // namespace virtengine::ledger::merkle::reference
