// Writes fuzz/tx_decode/corpus: `make_corpus DIR`. Signed with a throwaway
// key generated at run time (no key material is committed).
#include <cstdio>
#include <fstream>
#include <string>

#include "security/crypto/ed25519.h"
#include "src/ledger/tx/tx.h"

namespace cv1 = ::virtengine::security::crypto::v1;
namespace txv1 = ::virtengine::tx::v1;

int main(int argc, char** argv) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto key = virtengine::crypto::Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  if (!key.ok()) return 1;
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  };
  txv1::TxBody body;
  auto* m = body.add_messages();
  m->set_type_url("/virtengine.bank.v1.MsgSend");
  m->set_value("\x0a\x03ve1");
  body.set_memo("seed");
  txv1::AuthInfo auth;
  auth.set_public_key(key->public_key().bytes().data(), 32);
  auth.set_sequence(3);
  auth.mutable_fee()->set_amount(10);
  auth.mutable_fee()->set_denom("uve");
  auto raw = virtengine::ledger::SignTx(body, auth, "virtengine-fuzz-1", *key);
  if (!raw.ok()) return 1;
  write("valid", *raw);
  write("truncated", raw->substr(0, raw->size() / 2));
  body.set_memo("bad \xc3\x28");
  write("bad_memo", *virtengine::ledger::SignTx(body, auth, "c", *key));
  body.clear_messages();
  write("no_messages", *virtengine::ledger::SignTx(body, auth, "c", *key));
  txv1::TxRaw no_sig;
  no_sig.ParseFromString(*raw);
  no_sig.clear_signature();
  write("no_signature", no_sig.SerializeAsString());
  return 0;
}
