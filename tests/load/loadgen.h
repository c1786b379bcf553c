#ifndef VIRTENGINE_TESTS_LOAD_LOADGEN_H_
#define VIRTENGINE_TESTS_LOAD_LOADGEN_H_

// Shared by the load generator and the node integration tests: benchmark
// accounts with keys derived from their index (fixtures generated at run
// time, never shipped, never used outside benchmarks and tests), and
// pre-signed bank transfers.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"
#include "security/crypto/ed25519.h"

namespace virtengine::loadgen {

// Key i: Ed25519 seed = HKDF-SHA256(fixed public IKM, info = u32be(i)).
absl::StatusOr<crypto::Ed25519PrivateKey> AccountKey(uint32_t index);
absl::StatusOr<std::string> AccountAddress(uint32_t index);

struct Transfer {
  std::string raw;   // TxRaw bytes
  std::string hash;  // SHA-256 of raw (32 bytes)
  uint32_t from = 0;
  uint64_t sequence = 0;
};

// A signed MsgSend of `amount` `denom` from account `from` to `to_address`,
// paying `fee` in `denom`.
absl::StatusOr<Transfer> MakeTransfer(
    const crypto::Ed25519PrivateKey& from_key, const std::string& to_address,
    uint64_t amount, uint64_t fee, const std::string& denom, uint64_t sequence,
    const std::string& chain_id, const std::string& memo = "");

// A signed tx of `messages` from `from_key`, paying `fee` in `denom`; the
// Transfer's hash is the SHA-256 of the TxRaw bytes (from is left 0).
absl::StatusOr<Transfer> MakeTx(
    const crypto::Ed25519PrivateKey& from_key,
    const std::vector<google::protobuf::Any>& messages, uint64_t fee,
    const std::string& denom, uint64_t sequence, const std::string& chain_id,
    const std::string& memo = "");

}  // namespace virtengine::loadgen

#endif  // VIRTENGINE_TESTS_LOAD_LOADGEN_H_
