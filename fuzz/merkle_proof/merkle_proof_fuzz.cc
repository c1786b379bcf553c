// Fuzzes the Merkle proof verifier (src/ledger/merkle/verify.h) and, as a
// differential, proof generation (tree.h) against it and against the naive
// RFC 6962 reference (reference.h).
//
// Input (every read past the end yields zero bytes, so any input decodes):
//   Part A, raw verifier inputs:
//     u64le leaf_index, u64le tree_size, u8 k (path length, k % 66),
//     k x 32-byte path hashes, 32-byte root, 32-byte leaf hash.
//   Part B, differential:
//     u8 n (1 + n % 33 leaves), per leaf u8 len (len % 41) and len bytes,
//     u64le commit mask (commit the node batch after leaf i when bit i % 64
//     is set; always at the end), u8 s (RootAt(s % (n + 1)) is checked),
//     then selector bytes for two rounds of InclusionProbe and
//     ConsistencyProbe (7 to 9 bytes each; fuzz/merkle_proof/gen_corpus.py
//     builds seeds with chosen selectors).
//
// Invariants:
//   A. The verifier never crashes, and its status is exactly predictable
//      from the sizes: OutOfRange for index >= size (or size1 > size2),
//      InvalidArgument for a wrong proof length, otherwise OK iff the
//      recomputed root equals the expected one (Unauthenticated if not).
//   B. Over a tree built from fuzz-chosen leaves: generated roots and proofs
//      equal the reference; a probe built from real and corrupted parts
//      verifies when it is the generated proof for its claim; and when a
//      probe against a real root verifies, it IS a generated proof (of
//      some leaf and size: RFC 6962 proofs bind position only together with
//      the tree size, which is why both come from the signed header).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "security/crypto/bytes.h"
#include "src/ledger/merkle/hasher.h"
#include "src/ledger/merkle/node_store.h"
#include "src/ledger/merkle/reference.h"
#include "src/ledger/merkle/tree.h"
#include "src/ledger/merkle/verify.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

namespace m = ::virtengine::ledger::merkle;
namespace ref = ::virtengine::ledger::merkle::reference;
using m::Hash;

constexpr size_t kMaxLeaves = 33;

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{U8()} << (8 * i);
    return v;
  }
  Hash H() {
    Hash h;
    for (uint8_t& b : h) b = U8();
    return h;
  }
  virtengine::crypto::Bytes Bytes(size_t n) {
    virtengine::crypto::Bytes out(n);
    for (uint8_t& b : out) b = U8();
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

template <typename T>
T Must(absl::StatusOr<T> v) {
  FUZZ_CHECK(v.ok());
  return *std::move(v);
}

bool Contains(const std::string& s, const char* what) {
  return s.find(what) != std::string::npos;
}

// Part A.
struct Raw {
  uint64_t leaf_index;
  uint64_t tree_size;
  std::vector<Hash> path;
  Hash root;
  Hash leaf;
};

void CheckInclusionStatus(const Raw& r) {
  const absl::Status s =
      m::VerifyInclusion(r.leaf, r.leaf_index, r.tree_size, r.path, r.root);
  if (r.leaf_index >= r.tree_size) {
    FUZZ_CHECK(s.code() == absl::StatusCode::kOutOfRange);
    return;
  }
  const size_t want = m::InclusionProofSize(r.leaf_index, r.tree_size);
  FUZZ_CHECK(want <= m::kMaxInclusionProofHashes);
  if (r.path.size() != want) {
    FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(Contains(std::string(s.message()),
                        r.path.size() > want ? "too long" : "too short"));
    return;
  }
  const Hash got = Must(
      m::RootFromInclusionProof(r.leaf, r.leaf_index, r.tree_size, r.path));
  FUZZ_CHECK(s.ok() == (got == r.root));
  if (!s.ok()) FUZZ_CHECK(s.code() == absl::StatusCode::kUnauthenticated);
}

void CheckConsistencyStatus(uint64_t size1, uint64_t size2,
                            const std::vector<Hash>& proof, const Hash& root1,
                            const Hash& root2) {
  const absl::Status s =
      m::VerifyConsistency(size1, size2, proof, root1, root2);
  if (size1 > size2) {
    FUZZ_CHECK(s.code() == absl::StatusCode::kOutOfRange);
    return;
  }
  const size_t want = m::ConsistencyProofSize(size1, size2);
  FUZZ_CHECK(want <= m::kMaxConsistencyProofHashes);
  if (proof.size() != want) {
    FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  if (size1 == 0) {
    const Hash empty = Must(m::EmptyRoot());
    FUZZ_CHECK(s.ok() == (root1 == empty && (size2 != 0 || root2 == empty)));
  } else if (size1 == size2) {
    FUZZ_CHECK(s.ok() == (root1 == root2));
  }
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kUnauthenticated);
}

void PartA(const Raw& r) {
  CheckInclusionStatus(r);
  CheckConsistencyStatus(r.leaf_index, r.tree_size, r.path, r.root, r.leaf);
  // The same hashes against small sizes, with the path cut or padded to the
  // right length, so that the hashing loops run often.
  Raw small = r;
  small.tree_size = 1 + r.tree_size % 1024;
  small.leaf_index = r.leaf_index % small.tree_size;
  small.path.resize(m::InclusionProofSize(small.leaf_index, small.tree_size),
                    r.leaf);
  CheckInclusionStatus(small);
  const uint64_t size1 = 1 + r.leaf_index % small.tree_size;
  std::vector<Hash> proof = r.path;
  proof.resize(m::ConsistencyProofSize(size1, small.tree_size), r.root);
  CheckConsistencyStatus(size1, small.tree_size, proof, r.root, r.leaf);
}

// Part B.
struct Tree {
  std::vector<virtengine::crypto::Bytes> leaves;
  std::vector<Hash> leaf_hashes;
  std::vector<Hash> roots;  // roots[s] = MTH of the first s leaves
  m::MemoryNodeStore store;
  m::MerkleTree tree{&store};
};

void Flip(Hash* h, uint8_t where) { (*h)[where / 8 % 32] ^= 1u << (where % 8); }

std::vector<Hash> PickProof(Reader* in, const std::vector<Hash>& real,
                            const Raw& raw,
                            const std::vector<Hash>& other_real) {
  std::vector<Hash> p = real;
  switch (in->U8() % 6) {
    case 0:
      break;
    case 1: {
      const uint8_t i = in->U8();
      const uint8_t where = in->U8();
      if (!p.empty()) Flip(&p[i % p.size()], where);
      break;
    }
    case 2:
      p = other_real;
      break;
    case 3:
      p = raw.path;
      break;
    case 4:
      if (!p.empty()) p.pop_back();
      break;
    default:
      p.push_back(raw.root);
      break;
  }
  return p;
}

void InclusionProbe(Reader* in, Tree* t, const Raw& raw) {
  const uint64_t n = t->leaves.size();
  if (n == 0) return;  // PartB builds 1..kMaxLeaves leaves
  const uint64_t size = 1 + in->U8() % (n + 4);
  const uint64_t index = in->U8() % (size + 1);
  const bool real_claim = index < size && size <= n;
  const std::vector<Hash> real =
      real_claim ? Must(t->tree.InclusionProof(index, size)) : raw.path;
  if (real_claim) {
    FUZZ_CHECK(real ==
               ref::Path(index, ref::Leaves(t->leaves).subspan(0, size)));
  }
  const uint64_t size2 = 1 + in->U8() % n;
  const uint64_t index2 = in->U8() % size2;
  const std::vector<Hash> path =
      PickProof(in, real, raw, Must(t->tree.InclusionProof(index2, size2)));

  Hash leaf = index < n ? t->leaf_hashes[index] : raw.leaf;
  switch (in->U8() % 4) {
    case 0:
      break;
    case 1:
      leaf = t->leaf_hashes[in->U8() % n];
      break;
    case 2:  // a leaf hash of fuzz data, as a verifier computes it
      leaf = Must(m::HashLeaf(raw.leaf));
      break;
    default:
      Flip(&leaf, in->U8());
      break;
  }
  Hash root = t->roots[size <= n ? size : n];
  bool real_root = true;
  switch (in->U8() % 4) {
    case 0:
      break;
    case 1:
      root = t->roots[in->U8() % (n + 1)];
      break;
    case 2:
      root = raw.root;
      real_root = false;
      break;
    default:
      Flip(&root, in->U8());
      real_root = false;
      break;
  }
  const bool ok = m::VerifyInclusion(leaf, index, size, path, root).ok();
  const bool generated = real_claim && leaf == t->leaf_hashes[index] &&
                         path == real && root == t->roots[size];
  FUZZ_CHECK(!generated || ok);
  if (ok) FUZZ_CHECK(path.size() == m::InclusionProofSize(index, size));
  if (ok && !generated && real_root) {
    // Accepted against a real root: must be the generated proof of some
    // real leaf in some real tree size.
    bool found = false;
    for (uint64_t s = 1; s <= n && !found; ++s) {
      if (t->roots[s] != root) continue;
      for (uint64_t i = 0; i < s && !found; ++i) {
        found = t->leaf_hashes[i] == leaf &&
                Must(t->tree.InclusionProof(i, s)) == path;
      }
    }
    FUZZ_CHECK(found);
  }
}

void ConsistencyProbe(Reader* in, Tree* t, const Raw& raw) {
  const uint64_t n = t->leaves.size();
  if (n == 0) return;  // PartB builds 1..kMaxLeaves leaves
  const uint64_t size1 = in->U8() % (n + 2);
  const uint64_t size2 = in->U8() % (n + 4);
  const bool real_claim = size1 <= size2 && size2 <= n;
  const std::vector<Hash> real =
      real_claim ? Must(t->tree.ConsistencyProof(size1, size2)) : raw.path;
  if (real_claim) {
    FUZZ_CHECK(real ==
               ref::Proof(size1, ref::Leaves(t->leaves).subspan(0, size2)));
  }
  const uint64_t o2 = in->U8() % (n + 1);
  const uint64_t o1 = in->U8() % (o2 + 1);
  const std::vector<Hash> proof =
      PickProof(in, real, raw, Must(t->tree.ConsistencyProof(o1, o2)));
  auto pick_root = [&](uint64_t size, bool* is_real) {
    Hash r = t->roots[size <= n ? size : n];
    *is_real = true;
    switch (in->U8() % 4) {
      case 0:
        break;
      case 1:
        r = t->roots[in->U8() % (n + 1)];
        break;
      case 2:
        r = raw.leaf;
        *is_real = false;
        break;
      default:
        Flip(&r, in->U8());
        *is_real = false;
        break;
    }
    return r;
  };
  bool real1 = false;
  bool real2 = false;
  const Hash root1 = pick_root(size1, &real1);
  const Hash root2 = pick_root(size2, &real2);
  (void)real1;

  const bool ok = m::VerifyConsistency(size1, size2, proof, root1, root2).ok();
  const bool generated = real_claim && proof == real &&
                         root1 == t->roots[size1] && root2 == t->roots[size2];
  FUZZ_CHECK(!generated || ok);
  if (!ok) return;
  FUZZ_CHECK(size1 <= size2);
  FUZZ_CHECK(proof.size() == m::ConsistencyProofSize(size1, size2));
  if (size1 == 0) {
    FUZZ_CHECK(proof.empty() && root1 == t->roots[0]);
    FUZZ_CHECK(size2 != 0 || root2 == t->roots[0]);
    return;
  }
  if (size1 == size2) {
    FUZZ_CHECK(proof.empty() && root1 == root2);
    return;
  }
  if (!generated && real2) {
    // Accepted against a real new root: the proof is a generated one and
    // root1 a real older root.
    bool found = false;
    for (uint64_t s2 = 2; s2 <= n && !found; ++s2) {
      if (t->roots[s2] != root2) continue;
      for (uint64_t s1 = 1; s1 < s2 && !found; ++s1) {
        found = t->roots[s1] == root1 &&
                Must(t->tree.ConsistencyProof(s1, s2)) == proof;
      }
    }
    FUZZ_CHECK(found);
  }
}

void PartB(Reader* in, const Raw& raw) {
  Tree t;
  const size_t n = 1 + in->U8() % kMaxLeaves;
  for (size_t i = 0; i < n; ++i) t.leaves.push_back(in->Bytes(in->U8() % 41));
  const uint64_t commit_mask = in->U64();
  m::NodeBatch batch;
  t.roots.push_back(Must(t.tree.Root()));
  for (size_t i = 0; i < n; ++i) {
    const m::AppendResult r = Must(t.tree.Append(t.leaves[i], &batch));
    FUZZ_CHECK(r.leaf_index == i);
    FUZZ_CHECK(r.leaf_hash == ref::LeafHash(t.leaves[i]));
    t.leaf_hashes.push_back(r.leaf_hash);
    t.roots.push_back(Must(t.tree.Root()));
    if (((commit_mask >> (i % 64)) & 1) == 1 || i + 1 == n) {
      FUZZ_CHECK(t.store.Write(batch).ok());
      batch.clear();
    }
  }
  FUZZ_CHECK(t.roots[0] == ref::Mth({}));
  FUZZ_CHECK(t.roots[n] == ref::Mth(t.leaves));
  const uint64_t s = in->U8() % (n + 1);
  FUZZ_CHECK(Must(t.tree.RootAt(s)) == t.roots[s]);

  for (int probe = 0; probe < 2; ++probe) {
    InclusionProbe(in, &t, raw);
    ConsistencyProbe(in, &t, raw);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  Raw raw;
  raw.leaf_index = in.U64();
  raw.tree_size = in.U64();
  const size_t k = in.U8() % 66;
  for (size_t i = 0; i < k; ++i) raw.path.push_back(in.H());
  raw.root = in.H();
  raw.leaf = in.H();
  PartA(raw);
  PartB(&in, raw);
  return 0;
}
