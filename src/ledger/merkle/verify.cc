#include "src/ledger/merkle/verify.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace virtengine::ledger::merkle {

namespace {

// Number of significant bits (0 for 0).
size_t BitLength(uint64_t x) {
  size_t n = 0;
  while (x != 0) {
    ++n;
    x >>= 1;
  }
  return n;
}

size_t PopCount(uint64_t x) {
  size_t n = 0;
  while (x != 0) {
    x &= x - 1;
    ++n;
  }
  return n;
}

size_t TrailingZeros(uint64_t x) {  // x != 0
  size_t n = 0;
  while ((x & 1) == 0) {
    ++n;
    x >>= 1;
  }
  return n;
}

absl::Status CheckLength(const char* what, size_t got, size_t want,
                         const std::string& context) {
  if (got == want) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("merkle: ", what, got > want ? " too long" : " too short",
                   ": ", got, " hashes, ", context, " needs ", want));
}

absl::Status Mismatch(const char* what, const Hash& computed,
                      const Hash& expected) {
  return absl::UnauthenticatedError(
      absl::StrCat("merkle: ", what, " mismatch: computed ",
                   HashToHex(computed), ", expected ", HashToHex(expected)));
}

}  // namespace

size_t InclusionProofSize(uint64_t leaf_index, uint64_t tree_size) {
  if (leaf_index >= tree_size) return 0;
  // Levels where leaf_index and the last leaf are in different subtrees each
  // contribute a sibling ("inner"); above them, the path runs along the
  // right border and takes one hash per left neighbour ("border").
  const size_t inner = BitLength(leaf_index ^ (tree_size - 1));
  const size_t border = inner >= 64 ? 0 : PopCount(leaf_index >> inner);
  return inner + border;
}

size_t ConsistencyProofSize(uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 >= size2) return 0;
  // The old root is the (level, index) node reached from its last leaf by
  // dropping the trailing perfect levels; the proof is that node's audit path
  // in the new tree, plus the node itself unless it is the whole old tree.
  const size_t level = TrailingZeros(size1);
  const uint64_t index = (size1 - 1) >> level;
  const uint64_t size = ((size2 - 1) >> level) + 1;
  return InclusionProofSize(index, size) + (index == 0 ? 0 : 1);
}

absl::StatusOr<Hash> RootFromInclusionProof(const Hash& leaf_hash,
                                            uint64_t leaf_index,
                                            uint64_t tree_size,
                                            absl::Span<const Hash> audit_path) {
  if (leaf_index >= tree_size) {
    return absl::OutOfRangeError(absl::StrCat("merkle: leaf index ", leaf_index,
                                              " out of range for tree size ",
                                              tree_size));
  }
  const size_t want = InclusionProofSize(leaf_index, tree_size);
  if (absl::Status s = CheckLength(
          "audit path", audit_path.size(), want,
          absl::StrCat("leaf ", leaf_index, " of a tree of size ", tree_size));
      !s.ok()) {
    return s;
  }
  // RFC 9162 2.1.3.2.
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : audit_path) {
    if (sn == 0) {  // unreachable after the length check; kept as in the RFC
      return absl::InvalidArgumentError("merkle: audit path too long");
    }
    absl::StatusOr<Hash> next;
    if ((fn & 1) == 1 || fn == sn) {
      next = HashChildren(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      next = HashChildren(r, p);
    }
    if (!next.ok()) return next.status();
    r = *next;
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {  // unreachable after the length check
    return absl::InvalidArgumentError("merkle: audit path too short");
  }
  return r;
}

absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index,
                             uint64_t tree_size,
                             absl::Span<const Hash> audit_path,
                             const Hash& root) {
  absl::StatusOr<Hash> got =
      RootFromInclusionProof(leaf_hash, leaf_index, tree_size, audit_path);
  if (!got.ok()) return got.status();
  if (*got != root) return Mismatch("root", *got, root);
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               absl::Span<const Hash> proof, const Hash& root1,
                               const Hash& root2) {
  if (size1 > size2) {
    return absl::OutOfRangeError(absl::StrCat("merkle: consistency: size1 ",
                                              size1, " exceeds size2 ", size2));
  }
  const std::string context =
      absl::StrCat("consistency of sizes ", size1, " and ", size2);
  if (size1 == size2 || size1 == 0) {
    if (absl::Status s =
            CheckLength("consistency proof", proof.size(), 0, context);
        !s.ok()) {
      return s;
    }
    if (size1 == 0) {
      // Every tree extends the empty one, whose root is SHA-256("").
      absl::StatusOr<Hash> empty = EmptyRoot();
      if (!empty.ok()) return empty.status();
      if (root1 != *empty) return Mismatch("consistency: root1", *empty, root1);
      if (size2 == 0 && root2 != *empty) {
        return Mismatch("consistency: root2", *empty, root2);
      }
      return absl::OkStatus();
    }
    if (root1 != root2) {
      return absl::UnauthenticatedError(absl::StrCat(
          "merkle: consistency: root1 mismatch: trees of equal size ", size1,
          " have different roots ", HashToHex(root1), " and ",
          HashToHex(root2)));
    }
    return absl::OkStatus();
  }
  // Now 0 < size1 < size2.
  if (absl::Status s = CheckLength("consistency proof", proof.size(),
                                   ConsistencyProofSize(size1, size2), context);
      !s.ok()) {
    return s;
  }
  // RFC 9162 2.1.4.2. When size1 is a power of two the old root is itself a
  // node of the new tree and is not in the proof: start from root1.
  const bool power_of_two = (size1 & (size1 - 1)) == 0;
  absl::Span<const Hash> rest = proof;
  Hash seed = root1;
  if (!power_of_two) {
    seed = proof.front();
    rest = proof.subspan(1);
  }
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = seed;
  Hash sr = seed;
  for (const Hash& c : rest) {
    if (sn == 0) {  // unreachable after the length check
      return absl::InvalidArgumentError("merkle: consistency proof too long");
    }
    if ((fn & 1) == 1 || fn == sn) {
      absl::StatusOr<Hash> f = HashChildren(c, fr);
      if (!f.ok()) return f.status();
      absl::StatusOr<Hash> s = HashChildren(c, sr);
      if (!s.ok()) return s.status();
      fr = *f;
      sr = *s;
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      absl::StatusOr<Hash> s = HashChildren(sr, c);
      if (!s.ok()) return s.status();
      sr = *s;
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {  // unreachable after the length check
    return absl::InvalidArgumentError("merkle: consistency proof too short");
  }
  if (fr != root1) return Mismatch("consistency: root1", fr, root1);
  if (sr != root2) return Mismatch("consistency: root2", sr, root2);
  return absl::OkStatus();
}

}  // namespace virtengine::ledger::merkle
