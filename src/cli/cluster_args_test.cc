// vectl cluster status|add|remove|set-role and admin backup: help, input
// validation (exit 2 before the key store, the node or the admin socket is
// touched), the admin socket path rules, and the validators themselves.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/cli/inputs.h"
#include "src/cli/test_util.h"
#include "src/cli/vectl.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

constexpr char kKey[] =
    "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";
constexpr char kRaft[] = "127.0.0.1:26656";

class ClusterArgsTest : public ::testing::Test {
 protected:
  // A home that does not exist: a command that got past validation fails
  // with "no vectl home" (or a socket error) instead of the expected usage.
  Env env_ = testutil::MakeEnv(testutil::NewDir("cargs") + "/missing-home");

  void ExpectUsage(const std::vector<std::string>& args,
                   const std::string& needle) {
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitUsage) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos)
        << "stderr: " << r.err << " (wanted: " << needle << ")";
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
};

TEST_F(ClusterArgsTest, HelpOnEveryNewCommand) {
  const std::vector<std::vector<std::string>> cases = {
      {"cluster", "--help"},
      {"cluster", "status", "--help"},
      {"cluster", "add", "--help"},
      {"cluster", "remove", "--help"},
      {"cluster", "set-role", "--help"},
      {"admin", "--help"},
      {"admin", "backup", "--help"},
  };
  for (const auto& args : cases) {
    RunResult r = Vectl(env_, args);
    EXPECT_EQ(r.code, kExitOk) << args[0];
    EXPECT_NE(r.out.find("usage: vectl"), std::string::npos) << r.out;
  }
  RunResult r = Vectl(env_, {"cluster", "add", "--help"});
  for (const char* want : {"--admin-socket", "--non-voter", "--grpc-address",
                           "--dry-run", "120s", "--passphrase-file"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  // The backup help says how to restore (offline, with ve-node).
  r = Vectl(env_, {"admin", "backup", "--help"});
  EXPECT_NE(r.out.find("ve-node restore --home"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no 'vectl admin restore'"), std::string::npos);
  // The top-level help lists the new commands.
  r = Vectl(env_, {"--help"});
  for (const char* want : {"cluster status",
                           "cluster add FROM_KEY RAFT_ID RAFT_ADDRESS "
                           "NODE_KEY_HEX",
                           "cluster remove FROM_KEY RAFT_ID",
                           "cluster set-role FROM_KEY RAFT_ID "
                           "ROLE",
                           "admin backup"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want;
  }
  // There is no restore through vectl.
  ExpectUsage({"admin", "restore"}, "unknown command 'restore'");
}

TEST_F(ClusterArgsTest, ClusterAddInputsAreValidatedFirst) {
  auto add = [](std::vector<std::string> extra) {
    std::vector<std::string> a = {"cluster", "add"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ExpectUsage(add({"op", "4", kRaft}), "missing argument NODE_KEY_HEX");
  ExpectUsage(add({"Op", "4", kRaft, kKey}), "FROM_KEY");
  ExpectUsage(add({"op", "0", kRaft, kKey}), "RAFT_ID: 0 is below minimum 1");
  ExpectUsage(add({"--", "op", "-1", kRaft, kKey}), "RAFT_ID");
  ExpectUsage(add({"op", "x", kRaft, kKey}), "RAFT_ID");
  ExpectUsage(add({"op", "18446744073709551616", kRaft, kKey}),
              "RAFT_ID: out of range");
  ExpectUsage(add({"op", "4", "localhost:26656", kKey}),
              "RAFT_ADDRESS: \"localhost:26656\" is not an IPv4");
  ExpectUsage(add({"op", "4", "127.0.0.1", kKey}), "no ':port'");
  ExpectUsage(add({"op", "4", "127.0.0.256:1", kKey}), "part above 255");
  ExpectUsage(add({"op", "4", "127.0.0.1:0", kKey}), "RAFT_ADDRESS");
  ExpectUsage(add({"op", "4", "127.0.0.1:65536", kKey}), "RAFT_ADDRESS");
  ExpectUsage(add({"op", "4", "[::1]:26656", kKey}), "RAFT_ADDRESS");
  ExpectUsage(add({"op", "4", kRaft, "abcd"}),
              "NODE_KEY_HEX: a node key is 64 hex digits, got 4");
  std::string upper = kKey;
  upper[0] = 'A';
  upper[1] = 'B';
  ExpectUsage(add({"op", "4", kRaft, upper}),
              "NODE_KEY_HEX: not lowercase hex at position 0");
  ExpectUsage(add({"op", "4", kRaft, std::string(63, 'a') + "g"}),
              "NODE_KEY_HEX: not lowercase hex at position 63");
  ExpectUsage(add({"op", "4", kRaft, kKey, "--grpc-address", "nohost"}),
              "--grpc-address: \"nohost\" is not host:port");
  ExpectUsage(add({"op", "4", kRaft, kKey, "--fee", "x"}), "--fee:");
  ExpectUsage(add({"op", "4", kRaft, kKey, "--chain-id", "Bad_Chain"}),
              "--chain-id");
  ExpectUsage(add({"op", "4", kRaft, kKey, "--wait"}),
              "unknown flag --wait for 'vectl cluster add'");
  ExpectUsage(add({"op", "4", kRaft, kKey, "--admin-socket", "rel/admin.sock"}),
              "--admin-socket: \"rel/admin.sock\" is not an absolute path");
  ExpectUsage(add({"op", "4", kRaft, kKey, "--admin-socket",
                   "/" + std::string(100, 's')}),
              "is longer than 100 bytes");
  // All valid: the next problem is the missing home (exit 2, config).
  ExpectUsage(add({"op", "4", kRaft, kKey, "--non-voter", "--grpc-address",
                   "127.0.0.1:9091", "--admin-socket", "/run/ve/admin.sock"}),
              "no vectl home");
}

TEST_F(ClusterArgsTest, RemoveSetRoleAndBackupInputs) {
  ExpectUsage({"cluster", "remove", "op"}, "missing argument RAFT_ID");
  ExpectUsage({"cluster", "remove", "op", "0"}, "RAFT_ID");
  ExpectUsage({"cluster", "remove", "op", "2", "--non-voter"},
              "unknown flag --non-voter for 'vectl cluster remove'");
  ExpectUsage({"cluster", "set-role", "op", "2", "leader"},
              "ROLE: \"leader\" is not voter or non-voter");
  ExpectUsage({"cluster", "set-role", "op", "0", "voter"}, "RAFT_ID");
  ExpectUsage({"cluster", "set-role", "op", "2", "voter", "--memo",
               std::string(257, 'm')},
              "--memo: size 257 bytes exceeds limit 256");
  ExpectUsage({"cluster", "set-role", "op", "2", "voter", "--admin-socket",
               "/a/../admin.sock"},
              "holds a '.' or '..' part");
  // No HOME: no default admin socket (checked before the key store).
  ExpectUsage({"cluster", "remove", "op", "2"}, "no admin socket");
  ExpectUsage({"cluster", "remove", "op", "2", "--admin-socket", "/a.sock"},
              "no vectl home");
  ExpectUsage({"cluster", "set-role", "op", "2", "non-voter"},
              "no admin socket");
  env_.vars["VECTL_ADMIN_SOCKET"] = "/run/ve/admin.sock";
  ExpectUsage({"cluster", "set-role", "op", "2", "non-voter"}, "no vectl home");
  env_.vars.erase("VECTL_ADMIN_SOCKET");

  ExpectUsage({"admin", "backup", "--name", "Bad"},
              "--name: \"Bad\" is not [a-z0-9][a-z0-9._-]{0,63}");
  ExpectUsage({"admin", "backup", "--name", ""}, "--name: length 0");
  ExpectUsage({"admin", "backup", "--name", std::string(65, 'b')},
              "--name: length 65");
  ExpectUsage({"admin", "backup", "--name", "../x"}, "--name");
  ExpectUsage({"admin", "backup", "--admin-socket", "admin.sock"},
              "not an absolute path");
  env_.vars["VECTL_ADMIN_SOCKET"] = "/tmp//admin.sock";
  ExpectUsage({"admin", "backup"}, "VECTL_ADMIN_SOCKET: \"/tmp//admin.sock\"");
  ExpectUsage({"cluster", "status"}, "VECTL_ADMIN_SOCKET:");
  env_.vars.erase("VECTL_ADMIN_SOCKET");
  // No HOME and no socket given: nothing to default to.
  env_.vars.erase("HOME");
  ExpectUsage({"admin", "backup"}, "no admin socket");
  // The default lives under $HOME and is held to the same rules.
  env_.vars["HOME"] = "/" + std::string(90, 'h');
  ExpectUsage({"admin", "backup"}, "HOME: ");
}

TEST_F(ClusterArgsTest, UnreachableSocketIsARuntimeError) {
  // Nothing listens there (and TEST_TMPDIR may be too deep for a socket).
  const std::string dir = "/nonexistent-vectl-test";
  RunResult r = Vectl(env_, {"admin", "backup", "--admin-socket",
                             dir + "/admin.sock", "--timeout", "2s"});
  EXPECT_EQ(r.code, kExitRuntime) << r.err;
  EXPECT_NE(r.err.find("Backup via " + dir + "/admin.sock"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  r = Vectl(env_, {"cluster", "status", "--admin-socket", dir + "/admin.sock",
                   "--timeout", "2s", "--output", "json"});
  EXPECT_EQ(r.code, kExitRuntime) << r.err;
  EXPECT_NE(r.err.find("ClusterStatus via"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  // Without a socket, cluster status asks --node.
  r = Vectl(env_,
            {"cluster", "status", "--node", "127.0.0.1:1", "--timeout", "2s"});
  EXPECT_EQ(r.code, kExitRuntime) << r.err;
  EXPECT_NE(r.err.find("Status from 127.0.0.1:1: UNAVAILABLE"),
            std::string::npos)
      << r.err;
}

TEST(ClusterInputs, Validators) {
  EXPECT_TRUE(ValidateIpv4Address("A", "0.0.0.0:1").ok());
  EXPECT_TRUE(ValidateIpv4Address("A", "255.255.255.255:65535").ok());
  EXPECT_TRUE(ValidateIpv4Address("A", "10.1.2.3:26656").ok());
  for (const char* bad :
       {"", ":1", "1.2.3:1", "1.2.3.4.5:1", "1.2.3.04:1", "1..3.4:1",
        "1.2.3.4:", "1.2.3.4:01", "1.2.3.4:1:2", "a.b.c.d:1", " 1.2.3.4:1",
        "1.2.3.4:1 ", "1.2.3.4 :1", "1000.2.3.4:1", "1.2.3.4:99999999999"}) {
    EXPECT_FALSE(ValidateIpv4Address("A", bad).ok()) << bad;
  }
  auto k = ParseNodeKeyHex("K", kKey);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>((*k)[0]), 0x3bu);
  EXPECT_FALSE(ParseNodeKeyHex("K", std::string(65, 'a')).ok());
  EXPECT_TRUE(ParseRaftId("R", "1").ok());
  EXPECT_EQ(*ParseRaftId("R", "18446744073709551615"), 18446744073709551615u);
  EXPECT_FALSE(ParseRaftId("R", "01").ok());
  EXPECT_FALSE(ParseRaftId("R", "").ok());
  EXPECT_TRUE(ValidateBackupName("N", "b1").ok());
  EXPECT_TRUE(ValidateBackupName("N", "0.a_b-c").ok());
  EXPECT_TRUE(ValidateBackupName("N", std::string(64, 'z')).ok());
  for (const char* bad : {".a", "-a", "_a", "a/b", "a b", "A"}) {
    EXPECT_FALSE(ValidateBackupName("N", bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateAdminSocketPath("S", "/a.sock").ok());
  EXPECT_TRUE(ValidateAdminSocketPath("S", "/" + std::string(99, 'x')).ok());
  for (const std::string& bad :
       {std::string(), std::string("a.sock"), std::string("/"),
        std::string("/a/"), std::string("/a//b"), std::string("/a/./b"),
        std::string("/a/b c"), std::string("/a/\x01"),
        std::string("/a/\xc3\xa4"), "/" + std::string(100, 'x')}) {
    EXPECT_FALSE(ValidateAdminSocketPath("S", bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace virtengine::cli
