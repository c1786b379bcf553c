// Request validation: every injection attempt is refused with a message that
// names the rule; accepted requests produce exactly the expected argv.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "security/exec/policy.h"

namespace virtengine::exec {
namespace {

constexpr char kPolicy[] = R"pb(
  schema_version: 1
  adapter: "t"
  root { name: "jobs" path: "/var/lib/ve/jobs" }
  entry {
    id: "t.sbatch"
    binary: "/usr/bin/sbatch"
    argv { word: "--parsable" }
    argv {
      placeholder {
        name: "account"
        prefix: "--account="
        identifier {}
      }
    }
    argv {
      placeholder {
        name: "partition"
        prefix: "--partition="
        identifier {}
      }
    }
    argv {
      placeholder {
        name: "job_name"
        prefix: "--job-name="
        identifier {}
      }
    }
    argv {
      placeholder {
        name: "nodes"
        prefix: "--nodes="
        int { min: 1 max: 64 }
      }
    }
    argv {
      placeholder {
        name: "script"
        path_beneath { root: "jobs" }
      }
    }
    env {
      name: "SLURM_CONF"
      value {
        max_len: 64
        string { charset: "a-z/." }
      }
    }
    env {
      name: "LEVEL"
      value { enum { values: "low" values: "high" } }
    }
    fixed_env { name: "LC_ALL" value: "C" }
    fixed_env { name: "TZ" value: "UTC" }
    limits {
      cpu_seconds: 1
      address_space_bytes: 16777216
      open_files: 4
      processes: 1
      file_size_bytes: 0
      timeout_ms: 1
      stdout_max_bytes: 0
      stderr_max_bytes: 0
      stdin_max_bytes: 16
    }
  }
  entry {
    id: "t.variadic"
    binary: "/usr/bin/tool"
    argv { word: "run" }
    argv {
      placeholder {
        name: "first"
        int { min: -5 max: 5 }
        allow_leading_dash: true
      }
    }
    argv {
      placeholder {
        name: "files"
        min_count: 0
        max_count: 3
        path_beneath { root: "jobs" }
      }
    }
    argv { word: "--" }
    argv {
      placeholder {
        name: "mode"
        enum { values: "fast" values: "slow" }
      }
    }
    limits {
      cpu_seconds: 1
      address_space_bytes: 16777216
      open_files: 4
      processes: 1
      file_size_bytes: 0
      timeout_ms: 1
      stdout_max_bytes: 0
      stderr_max_bytes: 0
      stdin_max_bytes: 0
    }
  }
  entry {
    id: "t.optin"
    binary: "/usr/bin/tool"
    argv {
      placeholder {
        name: "flag"
        max_len: 8
        allow_leading_dash: true
        string { charset: "a-z-" }
      }
    }
    argv {
      placeholder {
        name: "expr"
        max_len: 16
        allow_shell_metachars: true
        string { charset: "a-z ;|" }
      }
    }
    argv {
      placeholder {
        name: "big"
        min_count: 0
        max_count: 256
        max_len: 4096
        string { charset: "a" }
      }
    }
    limits {
      cpu_seconds: 1
      address_space_bytes: 16777216
      open_files: 4
      processes: 1
      file_size_bytes: 0
      timeout_ms: 1
      stdout_max_bytes: 0
      stderr_max_bytes: 0
      stdin_max_bytes: 0
    }
  }
)pb";

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CommandPolicy> p = CommandPolicy::Parse(kPolicy, "t");
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(list_.Add(*p).ok());
  }

  absl::StatusOr<Invocation> Sbatch(
      const std::vector<std::string>& args,
      const std::map<std::string, std::string>& env = {},
      std::optional<size_t> stdin_size = {}) {
    return list_.Validate("t.sbatch", args, env, stdin_size);
  }

  // Valid sbatch arguments with argument `index` replaced by `value`.
  static std::vector<std::string> With(size_t index, const std::string& value) {
    std::vector<std::string> args = {"acct", "batch", "job1", "2",
                                     "/var/lib/ve/jobs/j1/run.sh"};
    args[index] = value;
    return args;
  }

  Allowlist list_;
};

TEST_F(ValidateTest, AcceptedRequestBuildsTheExactArgvAndEnvironment) {
  absl::StatusOr<Invocation> inv = Sbatch(
      With(0, "acct"), {{"SLURM_CONF", "/etc/slurm/x.conf"}, {"LEVEL", "low"}});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->entry->id, "t.sbatch");
  const std::vector<std::string> want = {
      "/usr/bin/sbatch",           "--parsable",      "--account=acct",
      "--partition=batch",         "--job-name=job1", "--nodes=2",
      "/var/lib/ve/jobs/j1/run.sh"};
  EXPECT_EQ(inv->argv, want);
  const std::vector<std::string> env = {
      "LC_ALL=C", "LEVEL=low", "SLURM_CONF=/etc/slurm/x.conf", "TZ=UTC"};
  EXPECT_EQ(inv->envp, env);
}

TEST_F(ValidateTest, RefusalNamesEntryArgPlaceholderAndRule) {
  const absl::Status s = Sbatch(With(2, "--output=/etc/x")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StartsWith(
      s.message(),
      "entry \"t.sbatch\" arg 2 (\"--output=/etc/x\") does not match "
      "placeholder \"job_name\" (identifier, ^[A-Za-z0-9_.-]{1,64}$): "
      "starts with '-'"))
      << s;
  const absl::Status t = Sbatch(With(2, "a/b")).status();
  EXPECT_TRUE(absl::StrContains(t.message(),
                                "): character '/' at offset 1 is not allowed"))
      << t;
}

TEST_F(ValidateTest, InjectionAttemptsAreRefused) {
  const std::vector<std::string> attacks = {
      ";",
      "job;rm",
      "$(id)",
      "`id`",
      "a\nb",
      "a\rb",
      std::string("a\0b", 3),
      std::string(1, '\0'),
      "a|b",
      "a&b",
      "a&&b",
      "a>b",
      "a<b",
      "a b",
      "a\tb",
      "'a'",
      "\"a\"",
      "a\\b",
      "*",
      "a?",
      "~root",
      "#x",
      "!x",
      "{a,b}",
      "-x",
      "--output=/etc/x",
      "-",
      "",
      ".",
      "..",
      "../etc",
      "a/b",
      "\xc3\xa4",
      "\x7f",
      std::string(65, 'a'),
  };
  for (size_t index : {0U, 1U, 2U}) {
    for (const std::string& attack : attacks) {
      SCOPED_TRACE(absl::StrCat("arg ", index, " = ", QuoteForMessage(attack)));
      const absl::Status s = Sbatch(With(index, attack)).status();
      EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
      EXPECT_TRUE(absl::StrContains(s.message(), absl::StrCat(" arg ", index)));
      // The message never carries the raw bytes (no log injection).
      EXPECT_FALSE(absl::StrContains(s.message(), "\n"));
      EXPECT_FALSE(absl::StrContains(s.message(), std::string(1, '\0')));
    }
  }
}

TEST_F(ValidateTest, IntegersMustBeCanonicalAndInRange) {
  for (const char* bad : {"0", "65", "-1", "01", "+1", "1e3", " 1", "1 ", "",
                          "0x10", "99999999999999999999", "-0", "1.0", "--1"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Sbatch(With(3, bad)).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
  EXPECT_TRUE(Sbatch(With(3, "1")).ok());
  EXPECT_TRUE(Sbatch(With(3, "64")).ok());
  // A negative range must be allowed explicitly (t.variadic's "first").
  EXPECT_TRUE(list_.Validate("t.variadic", {"-5", "fast"}, {}, {}).ok());
  EXPECT_FALSE(list_.Validate("t.variadic", {"-6", "fast"}, {}, {}).ok());
  EXPECT_FALSE(list_.Validate("t.variadic", {"-0", "fast"}, {}, {}).ok());
}

TEST_F(ValidateTest, PathsMustBeNormalizedAndStrictlyBeneathTheRoot) {
  for (const char* bad :
       {"/var/lib/ve/jobs", "/var/lib/ve/jobs/", "/var/lib/ve/jobs2/x",
        "/var/lib/ve/jobs/../x", "/var/lib/ve/jobs/a/../../x",
        "/var/lib/ve/jobs/./x", "/var/lib/ve/jobs//x", "/var/lib/ve/jobs/x/",
        "/var/lib/ve/jobs/a b", "/var/lib/ve/jobs/x;rm", "/var/lib/ve/jobs/$x",
        "/var/lib/ve/jobs/a%j", "var/lib/ve/jobs/x", "/etc/passwd",
        "/var/lib/ve/jobs/a\nb", "jobs/x", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Sbatch(With(4, bad)).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
  for (const char* good :
       {"/var/lib/ve/jobs/x", "/var/lib/ve/jobs/a/b/c.sh",
        "/var/lib/ve/jobs/...", "/var/lib/ve/jobs/.hidden",
        "/var/lib/ve/jobs/-x", "/var/lib/ve/jobs/a=b,c+d@e:f"}) {
    SCOPED_TRACE(good);
    EXPECT_TRUE(Sbatch(With(4, good)).ok());
  }
  EXPECT_FALSE(
      Sbatch(With(4, "/var/lib/ve/jobs/" + std::string(256, 'a'))).ok());
  EXPECT_TRUE(
      Sbatch(With(4, "/var/lib/ve/jobs/" + std::string(255, 'a'))).ok());
}

TEST_F(ValidateTest, ArgumentCounts) {
  const absl::Status few = Sbatch({"a", "b"}).status();
  EXPECT_EQ(few.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(
      few.message(), "entry \"t.sbatch\" takes 5 argument(s), got 2"))
      << few;
  std::vector<std::string> many = With(0, "a");
  many.emplace_back("extra");
  EXPECT_EQ(Sbatch(many).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Sbatch({}).status().code(), absl::StatusCode::kPermissionDenied);

  // t.variadic takes 2 (first, mode) to 5 (+3 files).
  const absl::Status v = list_.Validate("t.variadic", {"1"}, {}, {}).status();
  EXPECT_TRUE(absl::StrContains(v.message(), "takes 2 to 5 argument(s), got 1"))
      << v;
  EXPECT_FALSE(
      list_
          .Validate("t.variadic",
                    {"1", "/var/lib/ve/jobs/a", "/var/lib/ve/jobs/b",
                     "/var/lib/ve/jobs/c", "/var/lib/ve/jobs/d", "fast"},
                    {}, {})
          .ok());
}

TEST_F(ValidateTest, VariableCountPlaceholderTakesTheRest) {
  absl::StatusOr<Invocation> none =
      list_.Validate("t.variadic", {"1", "fast"}, {}, {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->argv, (std::vector<std::string>{"/usr/bin/tool", "run", "1",
                                                  "--", "fast"}));
  absl::StatusOr<Invocation> two = list_.Validate(
      "t.variadic", {"1", "/var/lib/ve/jobs/a", "/var/lib/ve/jobs/b", "slow"},
      {}, {});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->argv, (std::vector<std::string>{
                           "/usr/bin/tool", "run", "1", "/var/lib/ve/jobs/a",
                           "/var/lib/ve/jobs/b", "--", "slow"}));
  // The second file is checked against "files", and named with its index.
  const absl::Status s =
      list_
          .Validate("t.variadic", {"1", "/var/lib/ve/jobs/a", "-rf", "slow"},
                    {}, {})
          .status();
  EXPECT_TRUE(absl::StrContains(
      s.message(), "arg 2 (\"-rf\") does not match placeholder \"files\""))
      << s;
  // An enum takes only its values, exactly.
  for (const char* bad : {"FAST", "fast ", "fas", "fast;id"}) {
    EXPECT_FALSE(list_.Validate("t.variadic", {"1", bad}, {}, {}).ok()) << bad;
  }
}

TEST_F(ValidateTest, LeadingDashAndMetacharactersOnlyWhenOptedIn) {
  EXPECT_TRUE(list_.Validate("t.optin", {"-v", "a b;c|d"}, {}, {}).ok());
  EXPECT_TRUE(list_.Validate("t.optin", {"--x", "|"}, {}, {}).ok());
  // Opting in to some metacharacters does not let others through.
  EXPECT_FALSE(list_.Validate("t.optin", {"-v", "a$b"}, {}, {}).ok());
  EXPECT_FALSE(list_.Validate("t.optin", {"-v", "a\nb"}, {}, {}).ok());
  EXPECT_FALSE(list_.Validate("t.optin", {"-v", "a&b"}, {}, {}).ok());
}

TEST_F(ValidateTest, OverlongValuesAndArgvAreRefused) {
  EXPECT_TRUE(
      list_.Validate("t.optin", {"-v", "a", std::string(4096, 'a')}, {}, {})
          .ok());
  const absl::Status one =
      list_.Validate("t.optin", {"-v", "a", std::string(4097, 'a')}, {}, {})
          .status();
  EXPECT_TRUE(
      absl::StrContains(one.message(), "length 4097 is outside 1..4096"))
      << one;
  EXPECT_FALSE(
      list_.Validate("t.optin", {"-v", std::string(17, 'a')}, {}, {}).ok());
  // 100 values of 4096 bytes: each fine, together over kMaxArgvBytes.
  std::vector<std::string> args = {"-v", "a"};
  for (int i = 0; i < 100; ++i) args.emplace_back(4096, 'a');
  const absl::Status all = list_.Validate("t.optin", args, {}, {}).status();
  EXPECT_EQ(all.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(all.message(), "over the limit")) << all;
}

TEST_F(ValidateTest, EnvironmentOnlyNamedTypedVariables) {
  const absl::Status path =
      Sbatch(With(0, "a"), {{"PATH", "/tmp/evil"}}).status();
  EXPECT_EQ(path.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(
      path.message(),
      "does not allow environment variable \"PATH\" (allowed: SLURM_CONF, "
      "LEVEL)"))
      << path;
  EXPECT_FALSE(Sbatch(With(0, "a"), {{"LD_PRELOAD", "/x.so"}}).ok());
  EXPECT_FALSE(Sbatch(With(0, "a"), {{"LC_ALL", "x"}}).ok());  // fixed only
  EXPECT_FALSE(Sbatch(With(0, "a"), {{"LEVEL", "medium"}}).ok());
  const absl::Status bad =
      Sbatch(With(0, "a"), {{"SLURM_CONF", "/etc/$(id)"}}).status();
  EXPECT_TRUE(
      absl::StrContains(bad.message(), "environment variable \"SLURM_CONF\""))
      << bad;
  EXPECT_FALSE(
      Sbatch(With(0, "a"), {{std::string("SLURM_CONF\0X", 12), "/etc"}}).ok());
  const absl::Status none =
      list_.Validate("t.variadic", {"1", "fast"}, {{"A", "b"}}, {}).status();
  EXPECT_TRUE(absl::StrContains(none.message(), "(allowed: none)")) << none;
}

TEST_F(ValidateTest, StdinSizeAndPermission) {
  EXPECT_TRUE(Sbatch(With(0, "a"), {}, 16).ok());
  EXPECT_TRUE(Sbatch(With(0, "a"), {}, 0).ok());
  const absl::Status big = Sbatch(With(0, "a"), {}, 17).status();
  EXPECT_EQ(big.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(big.message(), "exceeds the limit of 16"));
  const absl::Status no =
      list_.Validate("t.variadic", {"1", "fast"}, {}, 1).status();
  EXPECT_TRUE(absl::StrContains(no.message(), "does not accept stdin")) << no;
}

TEST_F(ValidateTest, UnknownEntry) {
  const absl::Status s = list_.Validate("t.nope", {}, {}, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "no allowlist entry \"t.nope\"");
  const absl::Status esc =
      list_.Validate(std::string("t.x\n\0", 5), {}, {}, {}).status();
  EXPECT_EQ(esc.message(), "no allowlist entry \"t.x\\n\\x00\"");
}

}  // namespace
}  // namespace virtengine::exec
