#include "security/tpm/swtpm_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "security/exec/policy.h"
#include "security/path/path.h"

namespace virtengine::tpm::testing {

namespace {

using security::path::PathRoot;

std::string Cwd() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof(buf)) == nullptr ? "" : std::string(buf);
}

// A loopback TCP port that is free now (the kernel picks it), with port+1
// free as well (swtpm's control channel).
// True while `pid` exists and is not a zombie.
bool Alive(int pid) {
  absl::StatusOr<PathRoot> proc = PathRoot::Open("/proc");
  if (!proc.ok()) return false;
  absl::StatusOr<std::string> stat =
      proc->ReadFile(absl::StrCat(pid, "/stat"), 4096);
  if (!stat.ok()) return false;
  const size_t paren = stat->rfind(')');
  return paren == std::string::npos || paren + 2 >= stat->size() ||
         ((*stat)[paren + 2] != 'Z' && (*stat)[paren + 2] != 'X');
}

std::optional<int> FreePortPair() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = -1;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    const int fd2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool pair_free = false;
    if (fd2 >= 0 && port > 0 && port < 65535) {
      sockaddr_in a2 = addr;
      a2.sin_port = htons(static_cast<uint16_t>(port + 1));
      pair_free = bind(fd2, reinterpret_cast<sockaddr*>(&a2), sizeof(a2)) == 0;
    }
    if (fd2 >= 0) close(fd2);
    close(fd);
    if (pair_free) return port;
  }
  return std::nullopt;
}

absl::Status Check(const absl::StatusOr<exec::Result>& r,
                   const std::string& what) {
  if (!r.ok()) return r.status();
  if (!r->exited || r->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(what, " failed (exit ", r->exit_code, ", signal ",
                     r->signal, "): ", r->stderr_bytes, r->stdout_bytes));
  }
  return absl::OkStatus();
}

}  // namespace

std::string TestTmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  char real[PATH_MAX];
  if (t == nullptr || realpath(t, real) == nullptr) return "/tmp";
  return real;
}

absl::StatusOr<std::shared_ptr<exec::Runner>> TestRunner() {
  // Runfiles are symlinks, which security/path never follows: read the
  // test allowlist directly (test code only).
  std::ifstream in("security/tpm/testdata/tpm_test_commands.textproto");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.empty()) {
    return absl::NotFoundError(
        "security/tpm/testdata/tpm_test_commands.textproto");
  }
  absl::StatusOr<exec::CommandPolicy> policy = exec::CommandPolicy::Parse(
      absl::StrReplaceAll(text, {{"@TMPDIR@", TestTmpDir()}}),
      "tpm_test_commands.textproto");
  if (!policy.ok()) return policy.status();
  auto list = std::make_shared<exec::Allowlist>();
  if (absl::Status s = list->Add(*policy); !s.ok()) return s;
  exec::RunnerOptions options;
  options.trampoline_path = Cwd() + "/security/exec/ve-exec-trampoline";
  options.drain_grace = absl::Milliseconds(200);
  absl::StatusOr<std::unique_ptr<exec::Runner>> runner =
      exec::Runner::Create(std::move(list), options);
  if (!runner.ok()) return runner.status();
  return std::shared_ptr<exec::Runner>(std::move(*runner));
}

absl::StatusOr<std::unique_ptr<Swtpm>> Swtpm::Start(const Options& options) {
  static std::atomic<int> counter{0};
  absl::StatusOr<std::shared_ptr<exec::Runner>> runner = TestRunner();
  if (!runner.ok()) return runner.status();
  const std::string tmp = TestTmpDir();
  absl::StatusOr<PathRoot> root = PathRoot::Open(tmp);
  if (!root.ok()) return root.status();
  const std::string name = absl::StrCat("swtpm-", getpid(), "-", counter++);
  if (absl::Status s = root->MakeDirs(name + "/state"); !s.ok()) return s;
  const std::string dir = absl::StrCat(tmp, "/", name);

  if (options.with_ek_cert) {
    if (absl::Status s = root->MakeDirs(name + "/ca"); !s.ok()) return s;
    absl::Status s = root->WriteFileAtomic(
        name + "/localca.conf",
        absl::StrCat("statedir = ", dir, "/ca\nsigningkey = ", dir,
                     "/ca/signkey.pem\nissuercert = ", dir,
                     "/ca/issuercert.pem\ncertserial = ", dir,
                     "/ca/certserial\n"),
        0644);
    if (s.ok()) s = root->WriteFileAtomic(name + "/localca.options", "", 0644);
    if (s.ok()) {
      s = root->WriteFileAtomic(
          name + "/setup.conf",
          absl::StrCat("create_certs_tool = /usr/bin/swtpm_localca\n"
                       "create_certs_tool_config = ",
                       dir, "/localca.conf\ncreate_certs_tool_options = ", dir,
                       "/localca.options\nactive_pcr_banks = sha256\n"),
          0644);
    }
    if (!s.ok()) return s;
    s = Check((*runner)->Run("tpmtest.swtpm_setup",
                             {dir + "/state", dir + "/setup.conf"}),
              "swtpm_setup");
    if (!s.ok()) return s;
  }

  absl::Status last = absl::InternalError("no free port pair");
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::optional<int> port = FreePortPair();
    if (!port.has_value()) continue;
    absl::StatusOr<exec::Result> r = (*runner)->Run(
        "tpmtest.swtpm_start",
        {absl::StrCat(*port), absl::StrCat(*port + 1), dir + "/state",
         dir + "/swtpm.pid", dir + "/swtpm.log"});
    last = Check(r, "swtpm");
    if (last.ok()) {
      return std::unique_ptr<Swtpm>(new Swtpm(*std::move(runner), dir, *port));
    }
  }
  return last;
}

Swtpm::~Swtpm() { (void)Stop(); }

std::string Swtpm::tcti() const {
  return absl::StrCat("swtpm:host=127.0.0.1,port=", port_);
}

absl::Status Swtpm::RunTool(const std::string& entry,
                            const std::vector<std::string>& args) const {
  return Check(
      runner_->Run(entry, args, {{"TPM2TOOLS_TCTI", tcti()}}, std::nullopt),
      entry);
}

absl::Status Swtpm::Stop() {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  absl::Status s =
      Check(runner_->Run("tpmtest.swtpm_stop", {absl::StrCat(port_ + 1)}),
            "swtpm_ioctl -s");
  // Whatever happened, make sure the daemon is gone.
  absl::StatusOr<PathRoot> root = PathRoot::Open(dir_);
  if (!root.ok()) return root.status();
  absl::StatusOr<std::string> pid_text = root->ReadFile("swtpm.pid", 64);
  int pid = 0;
  if (pid_text.ok() &&
      absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid_text), &pid) &&
      pid > 1) {
    for (int i = 0; i < 200 && Alive(pid); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (Alive(pid)) (void)kill(pid, SIGKILL);
  }
  return s;
}

absl::StatusOr<BootedTpm> StartBootedTpm(uint8_t image) {
  BootedTpm b;
  absl::StatusOr<std::unique_ptr<Swtpm>> sw = Swtpm::Start();
  if (!sw.ok()) return sw.status();
  b.swtpm = *std::move(sw);
  absl::StatusOr<std::unique_ptr<Tpm>> t = Tpm::Open(b.swtpm->tcti());
  if (!t.ok()) return t.status();
  b.tpm = *std::move(t);
  absl::StatusOr<AkBlob> ak = b.tpm->CreateAk();
  if (!ak.ok()) return ak.status();
  b.ak = *std::move(ak);
  if (image != 0) {
    crypto::Digest32 d{};
    d.fill(image);
    if (absl::Status s = b.tpm->PcrExtend(11, d); !s.ok()) return s;
  }
  absl::StatusOr<attest::PcrValues> pcrs = b.tpm->PcrRead({11});
  if (!pcrs.ok()) return pcrs.status();
  b.pcr11 = pcrs->at(11);
  return b;
}

}  // namespace virtengine::tpm::testing
