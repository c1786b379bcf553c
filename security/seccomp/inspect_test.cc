// ve-seccomp-inspect: output for people and as JSON, exit codes, run both
// in-process (InspectMain) and as the real binary.
#include "security/seccomp/inspect.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "security/seccomp/policy.h"

namespace virtengine::security::seccomp {
namespace {

struct CmdResult {
  int code = -1;
  std::string out;
  std::string err;
};

CmdResult InProcess(std::vector<const char*> args) {
  args.insert(args.begin(), "ve-seccomp-inspect");
  std::ostringstream out;
  std::ostringstream err;
  CmdResult r;
  r.code = InspectMain(static_cast<int>(args.size()), args.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return d != nullptr ? d : "/tmp";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the real binary with stdout/stderr to files.
CmdResult Binary(const std::vector<std::string>& args) {
  const std::string dir = TmpDir();
  const std::string out = dir + "/inspect.out";
  const std::string err = dir + "/inspect.err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> all = {"security/seccomp/ve-seccomp-inspect"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(all.size() + 1);
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  CmdResult r;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = TmpDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(InspectTest, TextShowsDefaultActionSyscallsConditionsAndHash) {
  const std::string path = "policy/seccomp/ve-enclave.textproto";
  absl::StatusOr<Policy> p = ReadPolicyFile(path);
  ASSERT_TRUE(p.ok()) << p.status();
  const CmdResult r = InProcess({path.c_str()});
  ASSERT_EQ(r.code, kInspectOk) << r.err;
  EXPECT_NE(r.out.find("policy:         ve-enclave (schema version 1, x86_64)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sha256:         " + p->sha256_hex()),
            std::string::npos);
  EXPECT_NE(r.out.find("default action: KILL_PROCESS (production-ready)"),
            std::string::npos);
  EXPECT_NE(r.out.find("  41  socket               allow            when "
                       "arg0 == 0x1 (AF_UNIX)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(" 435  clone3               errno ENOSYS(38) always"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(arg2 & 0x4) == 0x0 (PROT_EXEC clear)"),
            std::string::npos);
  EXPECT_NE(r.out.find("CLONE_VM|CLONE_SIGHAND|CLONE_THREAD set"),
            std::string::npos);
  EXPECT_NE(r.out.find("arg1 == 0x5401 (TCGETS)"), std::string::npos);
  EXPECT_EQ(r.out.find("execve"), std::string::npos);
}

TEST(InspectTest, TextListsAlternativesAndAndedConditions) {
  const CmdResult r = InProcess({"policy/seccomp/ve-node.textproto"});
  ASSERT_EQ(r.code, kInspectOk) << r.err;
  EXPECT_NE(r.out.find("or   arg0 == 0x2 (AF_INET)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("or   arg0 == 0x10 (AF_NETLINK) and arg2 == 0x0"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("arg0 == 0xf (PR_SET_NAME)"), std::string::npos);
}

TEST(InspectTest, JsonIsValidAndComplete) {
  for (const char* d : {"ve-node", "ve-provider", "ve-enclave", "vectl"}) {
    const std::string path = std::string("policy/seccomp/") + d + ".textproto";
    absl::StatusOr<Policy> p = ReadPolicyFile(path);
    ASSERT_TRUE(p.ok()) << p.status();
    const CmdResult r = InProcess({"--output", "json", path.c_str()});
    ASSERT_EQ(r.code, kInspectOk) << r.err;
    google::protobuf::Struct doc;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &doc).ok())
        << r.out;
    const auto& f = doc.fields();
    EXPECT_EQ(f.at("name").string_value(), d);
    EXPECT_EQ(f.at("sha256").string_value(), p->sha256_hex());
    EXPECT_EQ(f.at("default_action").string_value(), "KILL_PROCESS");
    EXPECT_TRUE(f.at("production_ready").bool_value());
    EXPECT_GT(f.at("bpf_instructions").number_value(), 0);
    const auto& list = f.at("syscalls").list_value().values();
    ASSERT_EQ(list.size(), p->proto().syscall_size());
    for (int i = 0; i < list.size(); ++i) {
      const auto& e = list[i].struct_value().fields();
      EXPECT_EQ(e.at("name").string_value(), p->proto().syscall(i).name());
      EXPECT_EQ(e.at("number").number_value(), p->syscall_numbers()[i]);
      EXPECT_EQ(e.at("when").list_value().values_size(),
                p->proto().syscall(i).when_size());
    }
  }
  EXPECT_EQ(InProcess({"--output=json", "policy/seccomp/vectl.textproto"}).code,
            kInspectOk);
}

TEST(InspectTest, JsonEscapesReasons) {
  const std::string path =
      WriteTemp("quote.textproto",
                "version: 1 name: \"q\" arch: \"x86_64\" default_action: TRAP "
                "syscall { name: \"read\" reason: \"a \\\"quoted\\\"\\\\ "
                "caf\xc3\xa9\" }");
  const CmdResult r = InProcess({"-o", "json", path.c_str()});
  ASSERT_EQ(r.code, kInspectOk) << r.err;
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &doc).ok())
      << r.out;
  EXPECT_FALSE(doc.fields().at("production_ready").bool_value());
  EXPECT_EQ(doc.fields()
                .at("syscalls")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("reason")
                .string_value(),
            "a \"quoted\"\\ caf\xc3\xa9");
}

TEST(InspectTest, UsageErrorsAndInvalidPoliciesExitWithTwo) {
  EXPECT_EQ(InProcess({}).code, kInspectUsageOrInvalid);
  EXPECT_EQ(InProcess({"--bogus", "x"}).code, kInspectUsageOrInvalid);
  EXPECT_EQ(InProcess({"--output", "yaml", "x"}).code, kInspectUsageOrInvalid);
  EXPECT_EQ(InProcess({"--output"}).code, kInspectUsageOrInvalid);
  EXPECT_EQ(InProcess({"a", "b"}).code, kInspectUsageOrInvalid);
  EXPECT_EQ(InProcess({"/nonexistent.textproto"}).code, kInspectUsageOrInvalid);
  const std::string bad = WriteTemp(
      "bad.textproto",
      "version: 1 name: \"b\" arch: \"x86_64\" default_action: KILL_PROCESS "
      "syscall { name: \"read\" } syscall { name: \"opne\" }");
  const CmdResult r = InProcess({bad.c_str()});
  EXPECT_EQ(r.code, kInspectUsageOrInvalid);
  EXPECT_EQ(r.err, "ve-seccomp-inspect: invalid policy: " + bad +
                       ": seccomp policy: syscall[1] \"opne\": unknown system "
                       "call name on x86_64 (libseccomp 2.5)\n");
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(InProcess({"--help"}).code, kInspectOk);
  EXPECT_EQ(InProcess({"--version"}).code, kInspectOk);
}

TEST(InspectBinaryTest, ExitCodesAndOutput) {
  CmdResult r = Binary({"policy/seccomp/ve-node.textproto"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("policy:         ve-node"), std::string::npos);
  r = Binary({"--output", "json", "policy/seccomp/ve-provider.textproto"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\n  \"name\": \"ve-provider\"", 0), 0u) << r.out;
  r = Binary({});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("usage: ve-seccomp-inspect"), std::string::npos);
  r = Binary({"/nonexistent.textproto"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace virtengine::security::seccomp
