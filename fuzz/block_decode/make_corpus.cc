// Writes fuzz/block_decode/corpus: `make_corpus DIR`. Valid height-1 blocks
// over the fuzz genesis (fuzz_chain.h), proposed by a node key generated at
// run time, and near-valid variants (one field or byte changed).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz/block_decode/fuzz_chain.h"

namespace cv1 = ::virtengine::security::crypto::v1;
namespace fz = ::virtengine::ledger::fuzz;
namespace lv1 = ::virtengine::ledger::v1;

int main(int argc, char** argv) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  };
  auto key =
      virtengine::crypto::Ed25519PrivateKey::Generate(cv1::NODE_SIGNATURE);
  if (!key.ok()) return 1;
  virtengine::ledger::KeyBlockSigner signer(*std::move(key));
  const std::string tmp = fz::NewTempDir();
  auto ledger = fz::FuzzLedger(tmp);
  const auto blocks = fz::ValidBlocks(*ledger, signer);
  for (const auto& [name, bytes] : blocks) write(name, bytes);

  const std::string& base = blocks.at("valid_transfers");
  lv1::Block b;
  b.ParseFromString(base);
  write("truncated", base.substr(0, base.size() / 2));
  lv1::Block sig = b;
  std::string s = sig.header().signature();
  s[0] = static_cast<char>(s[0] ^ 1);
  sig.mutable_header()->set_signature(s);
  write("bad_signature", sig.SerializeAsString());
  lv1::Block tx = b;
  std::string t = tx.txs(0);
  t[t.size() - 1] = static_cast<char>(t[t.size() - 1] ^ 1);
  tx.set_txs(0, t);
  write("tx_byte", tx.SerializeAsString());
  lv1::Block res = b;
  res.mutable_results(0)->set_code(3);
  write("bad_result", res.SerializeAsString());
  // Re-signed header changes: a proposer that computed something else.
  auto resign = [&](const std::string& name, auto edit) {
    lv1::Block c = b;
    lv1::BlockHeader h;
    h.ParseFromString(c.header().header_bytes());
    edit(&h);
    const std::string hb = h.SerializeAsString();
    std::string msg(virtengine::ledger::kBlockSignDomain);
    msg.push_back('\0');
    msg += hb;
    auto sg = signer.Sign(virtengine::crypto::AsBytes(msg));
    c.mutable_header()->set_header_bytes(hb);
    c.mutable_header()->set_signature(sg->data(), sg->size());
    write(name, c.SerializeAsString());
  };
  resign("height_2", [](lv1::BlockHeader* h) { h->set_height(2); });
  resign("chain_other", [](lv1::BlockHeader* h) { h->set_chain_id("x-1"); });
  resign("state_digest", [](lv1::BlockHeader* h) {
    std::string d = h->state_digest();
    d[0] = static_cast<char>(d[0] ^ 1);
    h->set_state_digest(d);
  });
  resign("audit_head", [](lv1::BlockHeader* h) {
    std::string d = h->audit_head();
    d[31] = static_cast<char>(d[31] ^ 1);
    h->set_audit_head(d);
  });
  ledger.reset();
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  return 0;
}
