// TEST ONLY: starts a real swtpm (TPM 2.0 over TCP on a free loopback port)
// for the duration of a test, through security/exec's allowlisted runner
// (testdata/tpm_test_commands.textproto), and runs tpm2-tools the same way.
// swtpm runs with --daemon; Stop() (and the destructor) shuts it down over
// its control channel (swtpm_ioctl -s) and, should that fail, kills the pid
// from its pid file.
#ifndef VIRTENGINE_SECURITY_TPM_SWTPM_TEST_UTIL_H_
#define VIRTENGINE_SECURITY_TPM_SWTPM_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/hash.h"
#include "security/exec/runner.h"
#include "security/tpm/tpm.h"

namespace virtengine::tpm::testing {

// The test's TEST_TMPDIR, resolved (the allowlist root).
std::string TestTmpDir();

// A runner over testdata/tpm_test_commands.textproto and the real
// ve-exec-trampoline from the runfiles.
absl::StatusOr<std::shared_ptr<exec::Runner>> TestRunner();

class Swtpm {
 public:
  struct Options {
    // Manufacture the state with swtpm_setup --create-ek-cert first (RSA EK
    // certificate in NV 0x01c00002; about 3 s).
    bool with_ek_cert = false;
  };
  // Starts a fresh swtpm with its state in a new directory under
  // TEST_TMPDIR.
  static absl::StatusOr<std::unique_ptr<Swtpm>> Start(const Options& options);
  static absl::StatusOr<std::unique_ptr<Swtpm>> Start() {
    return Start(Options());
  }
  ~Swtpm();

  // "swtpm:host=127.0.0.1,port=N"
  std::string tcti() const;
  int port() const { return port_; }
  // Runs a tpmtest.* allowlist entry with TPM2TOOLS_TCTI set to tcti();
  // an error unless it exits 0.
  absl::Status RunTool(const std::string& entry,
                       const std::vector<std::string>& args) const;
  absl::Status Stop();

 private:
  Swtpm(std::shared_ptr<exec::Runner> runner, std::string dir, int port)
      : runner_(std::move(runner)), dir_(std::move(dir)), port_(port) {}
  std::shared_ptr<exec::Runner> runner_;
  std::string dir_;
  int port_;
  bool stopped_ = false;
};

// A fresh swtpm, a client on it and a new attestation key, with PCR 11
// extended once by 32 bytes of `image` (a booted "appliance image"; 0 =
// left as reset). `pcr11` is the resulting value.
struct BootedTpm {
  std::unique_ptr<Swtpm> swtpm;
  std::unique_ptr<Tpm> tpm;
  AkBlob ak;
  crypto::Digest32 pcr11{};
};
absl::StatusOr<BootedTpm> StartBootedTpm(uint8_t image);

}  // namespace virtengine::tpm::testing

#endif  // VIRTENGINE_SECURITY_TPM_SWTPM_TEST_UTIL_H_
