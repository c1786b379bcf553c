#!/usr/bin/env python3
"""Writes the seed corpus of merkle_proof_fuzz (format in the .cc header).

Seeds: RFC 6962 / CT reference-tree proofs that verify (inclusion and
consistency), near-valid ones (one bit flipped, one hash short, wrong size),
64-bit edge sizes, and differential sections that build the 8-leaf CT tree
or small trees with the various probe selectors. Deterministic; rerun with
  python3 fuzz/merkle_proof/gen_corpus.py
"""
import hashlib
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]


def sha(b):
    return hashlib.sha256(b).digest()


def leaf(d):
    return sha(b"\x00" + d)


def node(l, r):
    return sha(b"\x01" + l + r)


def k_split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if not d:
        return sha(b"")
    if len(d) == 1:
        return leaf(d[0])
    k = k_split(len(d))
    return node(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) <= 1:
        return []
    k = k_split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    if m == len(d):
        return [] if b else [mth(d)]
    k = k_split(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def part_a(index, size, hashes, root, leaf_hash):
    return (struct.pack("<QQB", index, size, len(hashes)) + b"".join(hashes)
            + root + leaf_hash)


def part_b(leaves, mask, selectors, root_at=None):
    out = bytes([len(leaves) - 1])
    for l in leaves:
        out += bytes([len(l)]) + l
    if root_at is None:
        root_at = len(leaves) // 2
    return out + struct.pack("<Q", mask) + bytes([root_at]) + bytes(selectors)


def main():
    os.makedirs(OUT, exist_ok=True)
    ct = [bytes.fromhex(h) for h in CT_LEAVES]
    seeds = {}
    # Inclusion of leaf 5 in the 8-leaf tree, then the CT tree in part B with
    # all-real probes (selector 0 everywhere): inclusion 5/8, consistency 6->8.
    p = path(5, ct)
    a = part_a(5, 8, p, mth(ct), leaf(ct[5]))
    sel_real = [8 - 1, 5, 1, 0, 0, 0, 0,     # inclusion: size 8, index 5
                6, 8, 8, 3, 0, 0, 0, 0, 0] * 2  # consistency 6 -> 8
    seeds["ct_inclusion_5_of_8"] = a + part_b(ct, 0x55, sel_real)
    # Consistency 6 -> 8 in part A (size1 = index, size2 = size, root1, root2).
    c = subproof(6, ct, True)
    seeds["ct_consistency_6_8"] = part_a(6, 8, c, mth(ct[:6]), mth(ct)) + \
        part_b(ct, ~0 & 0xffffffffffffffff, sel_real)
    # Near-valid: one bit flipped in the path, one hash missing, wrong size.
    bad = list(p)
    bad[1] = bytes([bad[1][0] ^ 8]) + bad[1][1:]
    seeds["ct_flipped_bit"] = part_a(5, 8, bad, mth(ct), leaf(ct[5])) + \
        part_b(ct, 0, [7, 5, 0, 0, 1, 1, 9, 0, 0, 0, 0])
    seeds["ct_short_path"] = part_a(5, 8, p[:2], mth(ct), leaf(ct[5]))
    seeds["ct_wrong_size"] = part_a(5, 16, p, mth(ct), leaf(ct[5]))
    # Shape ambiguity: leaf 1 of 2 presented as leaf 2 of 3 (accepted).
    # Part B, n = 3: inclusion claim (2, 3) with P(1, 2), LH(1), R(2);
    # consistency claim (2 -> 3) with PROOF(1, 2), R(1), R(2). Both verify.
    seeds["shape_2_of_3"] = part_a(2, 3, [leaf(ct[0])], mth(ct[:2]),
                                   leaf(ct[1])) + \
        part_b(ct[:3], 1, [2, 2, 1, 1, 2, 1, 1, 1, 2,
                           2, 3, 2, 1, 2, 1, 1, 1, 2])
    # Part B, n = 3: inclusion claim (0, 4) with P(0, 3) and R(3) verifies.
    seeds["shape_0_of_4"] = part_a(0, 4, path(0, ct[:3]), mth(ct[:3]),
                                   leaf(ct[0])) + \
        part_b(ct[:3], 0, [3, 0, 2, 0, 2, 0, 1, 3,
                           1, 4, 3, 1, 2, 0, 0])
    # Edge sizes.
    zero = bytes(32)
    kmax = 2**64 - 1
    seeds["u64_max_inclusion"] = part_a(kmax - 1, kmax, [zero] * 63, zero, zero)
    seeds["u64_max_consistency"] = part_a(3, kmax, [zero] * 65, zero, zero)
    seeds["empty_tree"] = part_a(0, 0, [], sha(b""), sha(b""))
    seeds["index_out_of_range"] = part_a(9, 8, p, mth(ct), leaf(ct[5]))
    # Differential over small trees with every selector value.
    for n in (1, 2, 5, 17, 33):
        leaves = [bytes([i, i ^ 0x5a]) * (i % 4) for i in range(n)]
        sel = []
        for i in range(32):
            sel.append((i * 37 + n) % 256)
        seeds[f"tree_{n}"] = part_a(1, n, path(1 % n, leaves), mth(leaves),
                                    leaf(leaves[1 % n])) + \
            part_b(leaves, 0x0123456789abcdef, sel)
    # Duplicate leaves (identical hashes at several positions).
    dup = [b"x"] * 6
    seeds["duplicate_leaves"] = part_a(0, 6, path(0, dup), mth(dup),
                                       leaf(b"x")) + \
        part_b(dup, 0x3, [5, 3, 2, 4, 2, 1, 1, 0, 0, 4, 6, 2, 1, 2, 0, 0, 0])
    # Sizes 0 -> 0 with equal roots that are not SHA-256(""): refused
    # (found by fuzzing an earlier version), in part A and in part B.
    x = bytes([0x5a]) * 32
    seeds["consistency_0_0_not_empty_root"] = part_a(0, 0, [], x, x) + \
        part_b(ct[:2], 0, [0, 0, 0, 0, 0, 0, 0,
                           0, 0, 0, 0, 0, 2, 2])
    seeds["zeros"] = bytes(300)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
