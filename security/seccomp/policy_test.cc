// Parsing and validation of seccomp policies, and properties of the real
// daemon policies in policy/seccomp/.
#include "security/seccomp/policy.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace virtengine::security::seccomp {
namespace {

constexpr char kHead[] =
    "version: 1\nname: \"t\"\narch: \"x86_64\"\ndefault_action: "
    "KILL_PROCESS\n";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DaemonPath(const std::string& d) {
  return "policy/seccomp/" + d + ".textproto";
}

const v1::Syscall* Find(const Policy& p, const std::string& name) {
  for (const v1::Syscall& s : p.proto().syscall()) {
    if (s.name() == name) return &s;
  }
  return nullptr;
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ParsePolicyTest, MinimalPolicyParsesAndResolvesNumbers) {
  absl::StatusOr<Policy> p =
      ParsePolicy(std::string(kHead) +
                  "syscall { name: \"read\" }\n"
                  "syscall { name: \"socket\" when { arg { index: 0 op: EQ "
                  "value: 1 } } when { arg { index: 0 op: EQ value: 0xA } } "
                  "reason: \"r\" }\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->syscall_numbers(), (std::vector<int>{0, 41}));
  EXPECT_EQ(p->proto().syscall(1).when(1).arg(0).value(), 10u);  // hex
  EXPECT_TRUE(CheckProductionReady(*p).ok());
}

TEST(ParsePolicyTest, UnknownSyscallNameIsRefusedWithAPreciseMessage) {
  absl::StatusOr<Policy> p = ParsePolicy(std::string(kHead) +
                                         "syscall { name: \"read\" }\n"
                                         "syscall { name: \"sockett\" }\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(),
            "seccomp policy: syscall[1] \"sockett\": unknown system call name "
            "on x86_64 (libseccomp 2.5)");
}

TEST(ParsePolicyTest, RejectsBrokenPolicies) {
  const std::string s = "syscall { name: \"read\" }\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "version must be 1, got 0"},
      {"version: 2\nname: \"t\"\narch: \"x86_64\"\ndefault_action: "
       "KILL_PROCESS\n" +
           s,
       "version must be 1, got 2"},
      {"version: 1\narch: \"x86_64\"\ndefault_action: KILL_PROCESS\n" + s,
       "name is empty"},
      {"version: 1\nname: \"t\"\narch: \"aarch64\"\ndefault_action: "
       "KILL_PROCESS\n" +
           s,
       "arch must be \"x86_64\", got \"aarch64\""},
      {"version: 1\nname: \"t\"\narch: \"x86_64\"\n" + s,
       "default_action must be KILL_PROCESS, KILL_THREAD, LOG, ERRNO or TRAP"},
      {"version: 1\nname: \"t\"\narch: \"x86_64\"\ndefault_action: ALLOW\n" + s,
       "Unknown enumeration value of \"ALLOW\" for field \"default_action\""},
      {"version: 1\nname: \"t\"\narch: \"x86_64\"\ndefault_action: ERRNO\n" + s,
       "default_action ERRNO needs default_errno 1..4095, got 0"},
      {std::string(kHead) + "default_errno: 1\n" + s,
       "default_errno is only meaningful with default_action ERRNO"},
      {kHead, "no syscall entries"},
      {std::string(kHead) + s + s,
       "syscall[1] \"read\": duplicate of syscall[0]"},
      {std::string(kHead) + "syscall { name: \"socketcall\" }\n",
       "syscall[0] \"socketcall\": system call does not exist on x86_64"},
      {std::string(kHead) + "syscall { name: \"Read\" }\n",
       "name may hold only [a-z0-9_] characters"},
      {std::string(kHead) + "syscall { }\n", "syscall[0]: name is empty"},
      {std::string(kHead) + "syscall { name: \"read\" bogus: 1 }\n",
       "line 5 column 29: Message type "
       "\"virtengine.security.seccomp.v1.Syscall\" has no field named "
       "\"bogus\""},
      {std::string(kHead) + "syscall { name: \"read\" ",
       "line 5 column 24: Expected identifier, got: "},
      {std::string(kHead) + "syscall { name: \"read\" when { } }\n",
       "when[0]: empty `when`"},
      {std::string(kHead) +
           "syscall { name: \"read\" when { arg { index: 6 op: EQ } } }\n",
       "argument index 6 out of range 0..5"},
      {std::string(kHead) +
           "syscall { name: \"read\" when { arg { index: 0 } } }\n",
       "op must be EQ or MASKED_EQ"},
      {std::string(kHead) + "syscall { name: \"read\" when { arg { index: 0 "
                            "op: EQ mask: 1 } } }\n",
       "mask is only meaningful with MASKED_EQ"},
      {std::string(kHead) + "syscall { name: \"read\" when { arg { index: 0 "
                            "op: MASKED_EQ value: 3 mask: 1 } } }\n",
       "value 0x3 has bits outside mask 0x1 and can never match"},
      {std::string(kHead) + "syscall { name: \"read\" when { arg { index: 0 "
                            "op: MASKED_EQ value: 0 } } }\n",
       "MASKED_EQ needs a non-zero mask"},
      {std::string(kHead) + "syscall { name: \"read\" when { arg { index: 0 "
                            "op: EQ } arg { index: 0 op: EQ value: 1 } } }\n",
       "argument 0 is compared twice in one `when`"},
      {std::string(kHead) + "syscall { name: \"read\" action: DENY_ERRNO }\n",
       "DENY_ERRNO needs errno_value 1..4095, got 0"},
      {std::string(kHead) +
           "syscall { name: \"read\" action: DENY_ERRNO errno_value: 4096 }\n",
       "DENY_ERRNO needs errno_value 1..4095, got 4096"},
      {std::string(kHead) + "syscall { name: \"read\" errno_value: 1 }\n",
       "errno_value is only meaningful with action DENY_ERRNO"},
      {std::string(kHead) + "syscall { name: \"read\" reason: \"\\xff\" }\n",
       "reason must be UTF-8 text without control characters"},
      {std::string(kHead) + "syscall { name: \"read\" reason: \"a\\tb\" }\n",
       "reason must be UTF-8 text without control characters"},
      {std::string(kHead) +
           "syscall { name: \"read\" reason: \"\\xed\\xa0\\x80\" }\n",
       "reason must be UTF-8 text without control characters"},
      {"version: 1\nname: \"t\"\narch: \"x86_64\"\ndefault_action: ERRNO\n"
       "default_errno: 1\n"
       "syscall { name: \"read\" action: DENY_ERRNO errno_value: 1 }\n",
       "action equals the default action (ERRNO 1)"},
  };
  for (const auto& [text, want] : cases) {
    absl::StatusOr<Policy> p = ParsePolicy(text);
    ASSERT_FALSE(p.ok()) << "accepted:\n" << text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(want), absl::string_view::npos)
        << "want \"" << want << "\" in \"" << p.status().message() << "\"";
  }
}

TEST(ParsePolicyTest, ReasonMayHoldUtf8Text) {
  absl::StatusOr<Policy> p = ParsePolicy(
      std::string(kHead) +
      "syscall { name: \"read\" reason: \"caf\xc3\xa9 \xe2\x9c\x93\" }");
  ASSERT_TRUE(p.ok()) << p.status();
}

TEST(ParsePolicyTest, SizeLimitIsCheckedBeforeParsing) {
  std::string big = std::string(kHead) + "syscall { name: \"read\" }\n";
  big.append(kMaxPolicyBytes + 1 - big.size(), '\n');
  absl::StatusOr<Policy> p = ParsePolicy(big);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("the limit is 65536"),
            absl::string_view::npos)
      << p.status();
  big.pop_back();  // exactly at the limit: accepted
  EXPECT_TRUE(ParsePolicy(big).ok());
}

TEST(ParsePolicyTest, TooManyRulesAreRefused) {
  std::string text = kHead;
  text += "syscall { name: \"read\" ";
  for (int i = 0; i <= kMaxRulesPerSyscall; ++i) {
    text +=
        "when { arg { index: 0 op: EQ value: " + std::to_string(i) + " } } ";
  }
  text += "}\n";
  absl::StatusOr<Policy> p = ParsePolicy(text);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("more than 16 `when` blocks"),
            absl::string_view::npos);
}

TEST(CheckProductionReadyTest, OnlyKillProcess) {
  for (const char* action : {"KILL_THREAD", "LOG", "TRAP"}) {
    absl::StatusOr<Policy> p =
        ParsePolicy(std::string("version: 1 name: \"t\" arch: \"x86_64\" "
                                "syscall { name: \"read\" } default_action: ") +
                    action);
    ASSERT_TRUE(p.ok()) << p.status();
    absl::Status st = CheckProductionReady(*p);
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << action;
    EXPECT_NE(st.message().find("production requires KILL_PROCESS"),
              absl::string_view::npos);
  }
}

TEST(ReadPolicyFileTest, ErrorsNameThePath) {
  absl::StatusOr<Policy> p = ReadPolicyFile("/nonexistent/x.textproto");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/x.textproto: cannot open"),
            absl::string_view::npos);
  p = ReadPolicyFile("/proc/self");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("not a regular file"),
            absl::string_view::npos);

  const std::string dir =
      getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  const std::string bad = dir + "/bad.textproto";
  std::ofstream(bad) << kHead << "syscall { name: \"nope\" }\n";
  p = ReadPolicyFile(bad);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            bad +
                ": seccomp policy: syscall[0] \"nope\": unknown system call "
                "name on x86_64 (libseccomp 2.5)");
  const std::string big = dir + "/big.textproto";
  std::ofstream(big) << std::string(kMaxPolicyBytes + 10, '#');
  p = ReadPolicyFile(big);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("larger than 65536 bytes"),
            absl::string_view::npos);
}

// ---- the real daemon policies ---------------------------------------------

class DaemonPolicyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DaemonPolicyTest, ParsesIsProductionReadyAndHashesItsBytes) {
  const std::string path = DaemonPath(GetParam());
  absl::StatusOr<Policy> p = ReadPolicyFile(path);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->proto().name(), GetParam());
  EXPECT_TRUE(CheckProductionReady(*p).ok());
  EXPECT_EQ(p->sha256_hex(), Sha256Hex(ReadAll(path)));
  EXPECT_EQ(p->sha256_hex().size(), 64u);
  for (const v1::Syscall& s : p->proto().syscall()) {
    EXPECT_FALSE(s.reason().empty()) << s.name() << " has no reason";
  }
}

TEST_P(DaemonPolicyTest, NoDaemonMayUseIoUringPtraceOrKernelAdministration) {
  absl::StatusOr<Policy> p = ReadPolicyFile(DaemonPath(GetParam()));
  ASSERT_TRUE(p.ok()) << p.status();
  for (const char* name : {"io_uring_setup",
                           "io_uring_enter",
                           "io_uring_register",
                           "ptrace",
                           "process_vm_readv",
                           "process_vm_writev",
                           "bpf",
                           "perf_event_open",
                           "init_module",
                           "finit_module",
                           "kexec_load",
                           "mount",
                           "umount2",
                           "pivot_root",
                           "chroot",
                           "setns",
                           "unshare",
                           "userfaultfd",
                           "keyctl",
                           "add_key",
                           "personality",
                           "fork",
                           "vfork",
                           "execveat",
                           "seccomp",
                           "setuid",
                           "setgid",
                           "setresuid",
                           "capset",
                           "reboot",
                           "swapon",
                           "iopl",
                           "ioperm",
                           "open_by_handle_at",
                           "name_to_handle_at"}) {
    EXPECT_EQ(Find(*p, name), nullptr) << GetParam() << " allows " << name;
  }
  // clone3's struct argument cannot be filtered: it must fail with ENOSYS
  // so glibc falls back to clone(), whose flags every policy checks.
  const v1::Syscall* clone3 = Find(*p, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->action(), v1::DENY_ERRNO);
  EXPECT_EQ(clone3->errno_value(), 38u);  // ENOSYS
  const v1::Syscall* clone = Find(*p, "clone");
  ASSERT_NE(clone, nullptr);
  ASSERT_GE(clone->when_size(), 1);
  for (const v1::ArgRule& w : clone->when()) {
    ASSERT_EQ(w.arg_size(), 1);
    EXPECT_EQ(w.arg(0).index(), 0u);
    EXPECT_EQ(w.arg(0).op(), v1::MASKED_EQ);
    // Every clone() form requires CLONE_VM and forbids new namespaces.
    EXPECT_EQ(w.arg(0).value() & 0x100u, 0x100u);
    EXPECT_EQ(w.arg(0).mask() & 0x7E020000u, 0x7E020000u);
    EXPECT_EQ(w.arg(0).value() & 0x7E020000u, 0u);
  }
  // ioctl and socket are always restricted by argument.
  for (const char* name : {"ioctl", "socket", "prctl"}) {
    const v1::Syscall* s = Find(*p, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_GE(s->when_size(), 1) << name << " is unrestricted";
  }
}

INSTANTIATE_TEST_SUITE_P(All, DaemonPolicyTest,
                         ::testing::Values("ve-node", "ve-provider",
                                           "ve-enclave", "vectl"));

std::set<uint64_t> EqValues(const v1::Syscall& s, uint32_t index) {
  std::set<uint64_t> out;
  for (const v1::ArgRule& w : s.when()) {
    for (const v1::ArgCondition& c : w.arg()) {
      if (c.index() == index && c.op() == v1::EQ) out.insert(c.value());
    }
  }
  return out;
}

TEST(EnclavePolicyTest, IsTheTightest) {
  absl::StatusOr<Policy> enclave = ReadPolicyFile(DaemonPath("ve-enclave"));
  ASSERT_TRUE(enclave.ok()) << enclave.status();
  // Sockets: AF_UNIX only.
  EXPECT_EQ(EqValues(*Find(*enclave, "socket"), 0), std::set<uint64_t>{1});
  EXPECT_EQ(EqValues(*Find(*enclave, "socketpair"), 0), std::set<uint64_t>{1});
  // No exec, no process creation other than threads, no listening after
  // start-up, no UDP, no new executable memory.
  for (const char* name :
       {"execve", "wait4", "waitid", "kill", "bind", "listen", "sendto",
        "recvfrom", "sendmmsg", "io_setup", "link", "linkat"}) {
    EXPECT_EQ(Find(*enclave, name), nullptr) << name;
  }
  const v1::Syscall& clone = *Find(*enclave, "clone");
  ASSERT_EQ(clone.when_size(), 1);
  EXPECT_EQ(clone.when(0).arg(0).value() & 0x10000u, 0x10000u);  // THREAD
  for (const char* name : {"mmap", "mprotect"}) {
    const v1::Syscall& s = *Find(*enclave, name);
    ASSERT_EQ(s.when_size(), 1) << name;
    EXPECT_EQ(s.when(0).arg(0).index(), 2u);
    EXPECT_EQ(s.when(0).arg(0).mask(), 4u);  // PROT_EXEC
    EXPECT_EQ(s.when(0).arg(0).value(), 0u);
  }
  // Smaller than every other daemon's.
  for (const char* other : {"ve-node", "ve-provider", "vectl"}) {
    absl::StatusOr<Policy> p = ReadPolicyFile(DaemonPath(other));
    ASSERT_TRUE(p.ok());
    EXPECT_LT(enclave->proto().syscall_size(), p->proto().syscall_size())
        << other;
  }
}

TEST(VectlPolicyTest, IsAClientOnly) {
  absl::StatusOr<Policy> p = ReadPolicyFile(DaemonPath("vectl"));
  ASSERT_TRUE(p.ok()) << p.status();
  for (const char* name : {"listen", "accept4", "execve", "io_setup"}) {
    EXPECT_EQ(Find(*p, name), nullptr) << name;
  }
}

TEST(NodePolicyTest, NoExecButThreadsAndRaftAio) {
  absl::StatusOr<Policy> p = ReadPolicyFile(DaemonPath("ve-node"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Find(*p, "execve"), nullptr);
  EXPECT_EQ(Find(*p, "kill"), nullptr);
  EXPECT_EQ(Find(*p, "clone")->when_size(), 1);
  for (const char* name : {"io_setup", "io_submit", "io_getevents"}) {
    EXPECT_NE(Find(*p, name), nullptr) << name;
  }
}

TEST(ProviderPolicyTest, SpawnsButDoesNotFork) {
  absl::StatusOr<Policy> p = ReadPolicyFile(DaemonPath("ve-provider"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_NE(Find(*p, "execve"), nullptr);
  // Threads and posix_spawn (CLONE_VM|CLONE_VFORK), nothing else.
  const v1::Syscall& clone = *Find(*p, "clone");
  ASSERT_EQ(clone.when_size(), 2);
  // kill() only with SIGTERM, SIGKILL or 0.
  EXPECT_EQ(EqValues(*Find(*p, "kill"), 1), (std::set<uint64_t>{0, 9, 15}));
}

}  // namespace
}  // namespace virtengine::security::seccomp
