// Fuzzes ApplyBlock (decoding, verification, re-execution) with arbitrary
// block bytes on a ledger at genesis. Invariants: never crash; a refusal is
// DATA_LOSS, INVALID_ARGUMENT or UNAUTHENTICATED and leaves the ledger
// exactly at genesis; a block that commits verifies independently (decodes,
// height 1 on this chain, header signed by its proposer, state digest and
// stored bytes match, invariants and receipts hold) and replaying it is a
// no-op. At start-up a self-test checks that a valid block does commit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/block_decode/fuzz_chain.h"
#include "google/protobuf/stubs/logging.h"
#include "security/crypto/ed25519.h"
#include "src/ledger/chain/ledger.h"

namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
namespace crypto = ::virtengine::crypto;
namespace fz = ::virtengine::ledger::fuzz;
using virtengine::ledger::Ledger;

struct Env {
  std::string dir;
  std::unique_ptr<Ledger> ledger;
  crypto::Digest32 genesis_digest{};
};

Env* env = nullptr;

void Check(bool ok, const char* what) {
  if (!ok) {
    (void)std::fprintf(stderr, "block_decode invariant broken: %s\n", what);
    std::abort();
  }
}

void Fresh() {
  if (env->ledger != nullptr) {
    env->ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(env->dir, ec);
  }
  env->dir = fz::NewTempDir();
  env->ledger = fz::FuzzLedger(env->dir);
  env->genesis_digest = env->ledger->state_digest();
}

// Everything a committed block must satisfy, checked without trusting the
// ledger's own verification path.
void CheckCommitted(std::string_view bytes) {
  Ledger& l = *env->ledger;
  Check(l.height() == 1 && l.applied_index() == 1, "height/index after commit");
  virtengine::ledger::v1::Block block;
  Check(block.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())),
        "committed bytes decode");
  virtengine::ledger::v1::BlockHeader h;
  Check(h.ParseFromString(block.header().header_bytes()), "header decodes");
  Check(h.chain_id() == fz::kChainId && h.height() == 1 &&
            h.previous_hash().empty(),
        "chain id, height, previous hash");
  auto key = crypto::Ed25519PublicKey::FromBytes(crypto::AsBytes(h.proposer()));
  Check(key.ok(), "proposer key");
  std::string msg(virtengine::ledger::kBlockSignDomain);
  msg.push_back('\0');
  msg += block.header().header_bytes();
  Check(key->Verify(cv1::NODE_SIGNATURE, crypto::AsBytes(msg),
                    crypto::AsBytes(block.header().signature()))
            .ok(),
        "header signature");
  Check(h.state_digest() ==
            std::string(reinterpret_cast<const char*>(l.state_digest().data()),
                        32),
        "state digest");
  auto stored = l.GetBlock(1);
  Check(stored.ok() && stored->SerializeAsString() == bytes, "stored block");
  Check(l.CheckInvariants().ok(), "module invariants");
  for (const std::string& raw : block.txs()) {
    auto tx = virtengine::ledger::DecodeTx(raw);
    Check(tx.ok(), "committed tx decodes");
    auto receipt = l.GetReceipt(tx->hash);
    Check(receipt.ok(), "receipt exists");
    Check(virtengine::ledger::VerifyReceipt(*receipt, h.proposer()).ok(),
          "receipt verifies");
  }
  Check(l.ApplyBlock(bytes, 1).ok() && l.height() == 1, "replay is a no-op");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Protobuf logs every string field with invalid UTF-8 it parses; the
  // fuzzer produces millions of them.
  google::protobuf::SetLogHandler(nullptr);
  env = new Env();  // NOLINT: lives for the whole run
  Fresh();
  // Self-test: the valid blocks this target's corpus is made of commit.
  auto signer_key = crypto::Ed25519PrivateKey::Generate(cv1::NODE_SIGNATURE);
  Check(signer_key.ok(), "node key");
  virtengine::ledger::KeyBlockSigner signer(*std::move(signer_key));
  std::string dir = fz::NewTempDir();
  {
    std::unique_ptr<Ledger> proposer = fz::FuzzLedger(dir);
    for (const auto& [name, bytes] : fz::ValidBlocks(*proposer, signer)) {
      Check(env->ledger->ApplyBlock(bytes, 1).ok(), "a valid block commits");
      CheckCommitted(bytes);
      Fresh();
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Ledger& l = *env->ledger;
  absl::Status s = l.ApplyBlock(bytes, 1);
  if (!s.ok()) {
    Check(s.code() == absl::StatusCode::kDataLoss ||
              s.code() == absl::StatusCode::kInvalidArgument ||
              s.code() == absl::StatusCode::kUnauthenticated,
          "refusal code");
    Check(l.height() == 0 && l.applied_index() == 0 &&
              l.state_digest() == env->genesis_digest &&
              l.GetBlock(1).status().code() == absl::StatusCode::kNotFound,
          "a refused block leaves the ledger at genesis");
    return 0;
  }
  CheckCommitted(bytes);
  Fresh();
  return 0;
}
