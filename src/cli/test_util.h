// Test helpers for src/cli (testonly): scratch directories and files in
// TEST_TMPDIR, running vectl in-process, and a real ledger that commits a
// block so that tests get genuine receipts.
#ifndef VIRTENGINE_SRC_CLI_TEST_UTIL_H_
#define VIRTENGINE_SRC_CLI_TEST_UTIL_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "security/crypto/ed25519.h"
#include "src/api/ledger/v1/ledger.pb.h"
#include "src/cli/vectl.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::cli::testutil {

inline constexpr char kChain[] = "virtengine-test-1";
inline constexpr char kPassphrase[] = "correct horse battery staple";

// A new, empty directory beneath TEST_TMPDIR (absolute path).
std::string NewDir(const std::string& name);
void WriteFile(const std::string& path, std::string_view data,
               mode_t mode = 0600);
std::string ReadFile(const std::string& path);

// An Env with VECTL_HOME = home, VECTL_PASSPHRASE_FILE = a file holding
// kPassphrase (0600, written beside the home), cwd = TEST_TMPDIR, and no
// terminal.
Env MakeEnv(const std::string& home);

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};
RunResult Vectl(Env& env, const std::vector<std::string>& args);

// A ledger at genesis (alice funded with 1,000,000uve, min fee 10uve) in
// `db_dir` and a node key.
struct TestChain {
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<ledger::KeyBlockSigner> signer;  // the node key
  std::unique_ptr<crypto::Ed25519PrivateKey> alice;
  std::string alice_address;
  uint64_t alice_seq = 0;

  std::string node_public_key() const;
  // A signed MsgSend from alice (next sequence).
  std::string SendFromAlice(const std::string& to, uint64_t amount);
};
// `funded` (ve1...) also gets 1,000,000uve when not empty.
TestChain NewChain(const std::string& db_dir, const std::string& funded = "");

// Commits one block of three transfers and returns the receipt of the
// second (leaf 1 of 3: an audit path of two hashes).
ledger::v1::Receipt CommitAndGetReceipt(TestChain& chain);

}  // namespace virtengine::cli::testutil

#endif  // VIRTENGINE_SRC_CLI_TEST_UTIL_H_
