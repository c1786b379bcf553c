// Policy loading: size limit, parser errors, semantic validation, SHA-256
// evidence, files and directories.
#include "security/exec/policy.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace virtengine::exec {
namespace {

constexpr char kLimits[] =
    "limits { cpu_seconds: 1 address_space_bytes: 16777216 open_files: 4 "
    "processes: 1 file_size_bytes: 0 timeout_ms: 1 stdout_max_bytes: 0 "
    "stderr_max_bytes: 0 stdin_max_bytes: 0 }";

// A policy of adapter "t" with `body` inside one entry (id and limits
// supplied unless the body has them).
std::string OneEntry(const std::string& body, const std::string& roots = "") {
  std::string entry = body;
  if (!absl::StrContains(entry, "id:")) {
    entry = absl::StrCat("id: \"t.cmd\" ", entry);
  }
  if (!absl::StrContains(entry, "limits")) {
    entry = absl::StrCat(entry, " ", kLimits);
  }
  return absl::StrCat("schema_version: 1 adapter: \"t\" ", roots, " entry { ",
                      entry, " }");
}

absl::Status ParseStatus(const std::string& text,
                         CommandPolicy::Options options = {}) {
  return CommandPolicy::Parse(text, "p.textproto", options).status();
}

// Expects InvalidArgument whose message contains `needle`.
void ExpectInvalid(const std::string& text, const std::string& needle) {
  const absl::Status s = ParseStatus(text);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text << "\n" << s;
  EXPECT_TRUE(absl::StrContains(s.message(), needle))
      << "message: " << s.message() << "\nwanted: " << needle;
}

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return t == nullptr ? "/tmp" : t;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

TEST(CommandPolicyTest, CompilesAValidPolicy) {
  const std::string text = OneEntry(
      "binary: \"/usr/bin/tool\" description: \"d\" "
      "argv { word: \"--fixed\" } "
      "argv { placeholder { name: \"n\" prefix: \"--n=\" int { min: 1 max: 9 "
      "} } } "
      "argv { placeholder { name: \"id\" identifier { charset: \"a-z\" } "
      "max_len: 8 } } "
      "argv { placeholder { name: \"mode\" enum { values: \"a\" values: \"b\" "
      "} } } "
      "argv { placeholder { name: \"file\" path_beneath { root: \"data\" } } "
      "} "
      "argv { placeholder { name: \"rest\" min_count: 0 max_count: 3 max_len: "
      "10 string { charset: \"A-Z_.-\" } } } "
      "env { name: \"FOO\" value { int { min: 0 max: 1 } } } "
      "fixed_env { name: \"PATH\" value: \"/usr/bin\" }",
      "root { name: \"data\" path: \"/srv/data\" }");
  absl::StatusOr<CommandPolicy> p = CommandPolicy::Parse(text, "x");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->adapter(), "t");
  ASSERT_EQ(p->entries().size(), 1U);
  const Entry* e = p->Find("t.cmd");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(p->Find("t.other"), nullptr);
  EXPECT_EQ(e->binary, "/usr/bin/tool");
  EXPECT_EQ(e->description, "d");
  ASSERT_EQ(e->argv.size(), 6U);
  EXPECT_TRUE(e->argv[0].is_word);
  EXPECT_EQ(e->argv[0].word, "--fixed");
  EXPECT_EQ(e->argv[1].placeholder.type, PlaceholderType::kInt);
  EXPECT_EQ(e->argv[1].placeholder.prefix, "--n=");
  EXPECT_EQ(e->argv[2].placeholder.type, PlaceholderType::kIdentifier);
  EXPECT_EQ(e->argv[2].placeholder.Describe(), "identifier, ^[a-z]{1,8}$");
  EXPECT_EQ(e->argv[3].placeholder.type, PlaceholderType::kEnum);
  EXPECT_EQ(e->argv[4].placeholder.root_path, "/srv/data");
  EXPECT_EQ(e->argv[5].placeholder.max_count, 3U);
  EXPECT_EQ(e->min_args, 4U);
  EXPECT_EQ(e->max_args, 7U);
  ASSERT_EQ(e->env.size(), 1U);
  EXPECT_EQ(e->env[0].name, "FOO");
  ASSERT_EQ(e->fixed_env.size(), 1U);
  EXPECT_EQ(e->fixed_env[0].first, "PATH");
  EXPECT_TRUE(e->no_new_privs);
  EXPECT_EQ(e->limits.address_space_bytes, 16777216U);
  EXPECT_EQ(e->limits.open_files, 4U);
}

TEST(CommandPolicyTest, Sha256IsOfTheExactBytes) {
  // sha256sum of this exact text, computed independently.
  const std::string text =
      "schema_version: 1\nadapter: \"t\"\nentry {\n  id: \"t.true\"\n  "
      "binary: \"/bin/true\"\n  limits { cpu_seconds: 1 address_space_bytes: "
      "16777216 open_files: 4 processes: 1 file_size_bytes: 0 timeout_ms: 1 "
      "stdout_max_bytes: 0 stderr_max_bytes: 0 stdin_max_bytes: 0 }\n}\n";
  absl::StatusOr<CommandPolicy> p = CommandPolicy::Parse(text, "x");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->sha256_hex(),
            "e29bbd9daf2c6c02c7dad57cb0f522f3e2b9bcd7020f16ca6e049efb5e01cbb7");
  // The same policy with one more space hashes differently.
  absl::StatusOr<CommandPolicy> q = CommandPolicy::Parse(text + " ", "x");
  ASSERT_TRUE(q.ok());
  EXPECT_NE(q->sha256_hex(), p->sha256_hex());
}

TEST(CommandPolicyTest, SizeLimitIsCheckedBeforeParsing) {
  const std::string base = OneEntry("binary: \"/bin/true\"");
  std::string at_limit = base + "\n#";
  at_limit.append(kMaxPolicyBytes - at_limit.size(), 'x');
  ASSERT_EQ(at_limit.size(), kMaxPolicyBytes);
  EXPECT_TRUE(ParseStatus(at_limit).ok());
  const absl::Status s = ParseStatus(at_limit + "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "over the limit of 262144"));
}

TEST(CommandPolicyTest, SyntaxErrorsNameLineAndColumn) {
  const absl::Status s =
      ParseStatus("schema_version: 1\nadapter: \"t\"\nentry { id: }\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(s.message(), "p.textproto:3:")) << s;
  ExpectInvalid("schema_version: 1 adapter: \"t\" bogus: 1", "bogus");
  ExpectInvalid(
      "schema_version: 1 schema_version: 1 adapter: \"t\" entry { id: "
      "\"t.x\" }",
      "schema_version");
}

TEST(CommandPolicyTest, FileLevelFields) {
  ExpectInvalid("adapter: \"t\" entry { id: \"t.x\" }", "schema_version");
  ExpectInvalid("schema_version: 2 adapter: \"t\"", "schema_version must be 1");
  ExpectInvalid("schema_version: 1 adapter: \"T\"", "adapter must match");
  ExpectInvalid("schema_version: 1 adapter: \"t\"", "needs 1 to 256 entries");
  ExpectInvalid(
      OneEntry("binary: \"/bin/true\"", "root { name: \"r\" path: \"/\" }"),
      "not an absolute, normalized path other than /");
  ExpectInvalid(OneEntry("binary: \"/bin/true\"",
                         "root { name: \"r\" path: \"/a\" } "
                         "root { name: \"r\" path: \"/b\" }"),
                "duplicate root name");
  ExpectInvalid(OneEntry("binary: \"/bin/true\"",
                         "root { name: \"r\" path: \"/a/../b\" }"),
                "not an absolute, normalized path");
}

TEST(CommandPolicyTest, BinaryMustBeAbsoluteAndNormalized) {
  for (const char* bad :
       {"echo", "bin/echo", "./echo", "/bin/../bin/echo", "/bin//echo",
        "/bin/./echo", "/bin/echo/", "", "/bin/ec ho", "/bin/echo;x", "/"}) {
    SCOPED_TRACE(bad);
    ExpectInvalid(OneEntry(absl::StrCat("binary: \"", bad, "\"")),
                  "is not an absolute, normalized path");
  }
  EXPECT_TRUE(ParseStatus(OneEntry("binary: \"/usr/bin/true\"")).ok());
}

TEST(CommandPolicyTest, ShellsAndInterpretersNeedTheTestOption) {
  for (const char* bin :
       {"/bin/sh", "/bin/bash", "/usr/bin/dash", "/usr/bin/env",
        "/usr/bin/python3", "/usr/bin/python3.11", "/usr/bin/perl",
        "/usr/bin/xargs", "/usr/bin/sudo", "/usr/bin/busybox"}) {
    SCOPED_TRACE(bin);
    const std::string text = OneEntry(absl::StrCat("binary: \"", bin, "\""));
    ExpectInvalid(text, "is a shell, interpreter or command launcher");
    CommandPolicy::Options test_only;
    test_only.allow_interpreters = true;
    EXPECT_TRUE(ParseStatus(text, test_only).ok());
  }
  // Names that merely start like one are fine.
  EXPECT_TRUE(ParseStatus(OneEntry("binary: \"/usr/bin/shred\"")).ok());
  EXPECT_TRUE(ParseStatus(OneEntry("binary: \"/usr/bin/envsubst\"")).ok());
}

TEST(CommandPolicyTest, EntryIds) {
  ExpectInvalid(OneEntry("id: \"other.x\" binary: \"/bin/true\""),
                "id must be \"t.<name>\"");
  ExpectInvalid(OneEntry("id: \"t.\" binary: \"/bin/true\""), "id must be");
  ExpectInvalid(OneEntry("id: \"t.X\" binary: \"/bin/true\""), "id must be");
  const std::string two = absl::StrCat(
      "schema_version: 1 adapter: \"t\" entry { id: \"t.a\" binary: "
      "\"/bin/true\" ",
      kLimits, " } entry { id: \"t.a\" binary: \"/bin/false\" ", kLimits, " }");
  ExpectInvalid(two, "duplicate entry id \"t.a\"");
}

TEST(CommandPolicyTest, LimitsAreRequiredAndSane) {
  ExpectInvalid(absl::StrCat("schema_version: 1 adapter: \"t\" entry { id: "
                             "\"t.a\" binary: \"/bin/true\" }"),
                "limits are required");
  const std::string all =
      "cpu_seconds: 1 address_space_bytes: 16777216 open_files: 4 "
      "processes: 1 file_size_bytes: 0 timeout_ms: 1 stdout_max_bytes: 0 "
      "stderr_max_bytes: 0 stdin_max_bytes: 0";
  for (const char* field :
       {"cpu_seconds", "address_space_bytes", "open_files", "processes",
        "file_size_bytes", "timeout_ms", "stdout_max_bytes", "stderr_max_bytes",
        "stdin_max_bytes"}) {
    SCOPED_TRACE(field);
    // Drop the field: required.
    std::string without = all;
    const size_t at = without.find(field);
    const size_t end = without.find(' ', without.find(' ', at) + 1);
    without.erase(at,
                  end == std::string::npos ? std::string::npos : end - at + 1);
    ExpectInvalid(OneEntry(absl::StrCat("binary: \"/bin/true\" limits { ",
                                        without, " }")),
                  absl::StrCat("limits.", field, " is required"));
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"cpu_seconds: 1", "cpu_seconds: 0"},
      {"cpu_seconds: 1", "cpu_seconds: 604801"},
      {"address_space_bytes: 16777216", "address_space_bytes: 16777215"},
      {"open_files: 4", "open_files: 3"},
      {"processes: 1", "processes: 0"},
      {"timeout_ms: 1", "timeout_ms: 0"},
      {"stdout_max_bytes: 0", "stdout_max_bytes: 67108865"},
      {"stdin_max_bytes: 0", "stdin_max_bytes: 67108865"},
      {"file_size_bytes: 0", "file_size_bytes: 1099511627777"},
  };
  for (const auto& [from, to] : bad) {
    SCOPED_TRACE(to);
    ExpectInvalid(
        OneEntry(absl::StrCat("binary: \"/bin/true\" limits { ",
                              absl::StrReplaceAll(all, {{from, to}}), " }")),
        "is outside");
  }
}

TEST(CommandPolicyTest, PlaceholderRules) {
  const std::string roots = "root { name: \"data\" path: \"/srv/data\" }";
  auto ph = [&](const std::string& body) {
    return OneEntry(absl::StrCat("binary: \"/bin/true\" argv { placeholder { ",
                                 body, " } }"),
                    roots);
  };
  EXPECT_TRUE(ParseStatus(ph("name: \"a\" identifier {}")).ok());
  ExpectInvalid(ph("name: \"A\" identifier {}"), "placeholder name");
  ExpectInvalid(ph("name: \"a\""), "no type");
  ExpectInvalid(ph("name: \"a\" path_beneath { root: \"nope\" }"),
                "unknown root \"nope\"");
  ExpectInvalid(ph("name: \"a\" string { charset: \"a-z;\" } max_len: 4"),
                "shell metacharacter ';'");
  ExpectInvalid(ph("name: \"a\" string { charset: \"a-z \" } max_len: 4"),
                "shell metacharacter ' '");
  EXPECT_TRUE(ParseStatus(ph("name: \"a\" allow_shell_metachars: true "
                             "string { charset: \"a-z;\" } max_len: 4"))
                  .ok());
  ExpectInvalid(ph("name: \"a\" string { charset: \"z-a\" } max_len: 4"),
                "reversed");
  ExpectInvalid(ph("name: \"a\" string { charset: \"\" } max_len: 4"),
                "charset is empty");
  ExpectInvalid(ph("name: \"a\" string { charset: \"a\\tb\" } max_len: 4"),
                "control or non-ASCII");
  ExpectInvalid(ph("name: \"a\" string { charset: \"a-z\" }"),
                "max_len is required");
  ExpectInvalid(ph("name: \"a\" string { charset: \"a-z\" } max_len: 4097"),
                "1 <= max_len <= 4096");
  ExpectInvalid(ph("name: \"a\" string { charset: \"a-z\" } min_len: 5 "
                   "max_len: 4"),
                "min_len <= max_len");
  ExpectInvalid(ph("name: \"a\" identifier { charset: \"a-z/\" }"),
                "subset of A-Za-z0-9_.-");
  ExpectInvalid(ph("name: \"a\" identifier {} max_len: 256"),
                "1 <= max_len <= 255");
  ExpectInvalid(ph("name: \"a\" int { min: 2 max: 1 }"), "greater than max");
  ExpectInvalid(ph("name: \"a\" int { min: -1 max: 1 }"),
                "negative int range needs allow_leading_dash");
  EXPECT_TRUE(ParseStatus(ph("name: \"a\" allow_leading_dash: true int { "
                             "min: -1 max: 1 }"))
                  .ok());
  ExpectInvalid(ph("name: \"a\" int { min: 1 max: 2 } max_len: 3"),
                "int takes no min_len/max_len");
  ExpectInvalid(ph("name: \"a\" enum {}"), "enum needs 1 to 256 values");
  ExpectInvalid(ph("name: \"a\" enum { values: \"x\" values: \"x\" }"),
                "duplicate enum value");
  ExpectInvalid(ph("name: \"a\" enum { values: \"-x\" }"),
                "starts with '-' but allow_leading_dash is false");
  ExpectInvalid(ph("name: \"a\" enum { values: \"a|b\" }"),
                "shell metacharacter");
  ExpectInvalid(ph("name: \"a\" enum { values: \"a\\nb\" }"),
                "printable ASCII");
  ExpectInvalid(ph("name: \"a\" prefix: \"--x=\\n\" identifier {}"),
                "prefix must be printable ASCII");
  ExpectInvalid(ph("name: \"a\" min_count: 2 identifier {}"),
                "min_count > 1 needs max_count");
  ExpectInvalid(ph("name: \"a\" max_count: 257 identifier {}"), "counts");
  ExpectInvalid(ph("name: \"a\" min_count: 3 max_count: 2 identifier {}"),
                "counts");
  // Two variable-count placeholders would make the split ambiguous.
  ExpectInvalid(
      OneEntry("binary: \"/bin/true\" "
               "argv { placeholder { name: \"a\" min_count: 0 max_count: 2 "
               "identifier {} } } "
               "argv { placeholder { name: \"b\" min_count: 0 max_count: 2 "
               "identifier {} } }"),
      "only one placeholder per entry");
  ExpectInvalid(OneEntry("binary: \"/bin/true\" "
                         "argv { placeholder { name: \"a\" identifier {} } } "
                         "argv { placeholder { name: \"a\" identifier {} } }"),
                "duplicate placeholder name \"a\"");
  ExpectInvalid(OneEntry("binary: \"/bin/true\" argv { word: \"\" }"),
                "a word must be");
  ExpectInvalid(OneEntry("binary: \"/bin/true\" argv { }"),
                "needs word or placeholder");
}

TEST(CommandPolicyTest, EnvironmentRules) {
  auto env = [](const std::string& body) {
    return OneEntry(absl::StrCat("binary: \"/bin/true\" ", body));
  };
  const std::string v = "value { int { min: 0 max: 1 } }";
  EXPECT_TRUE(ParseStatus(env("env { name: \"FOO\" " + v + " }")).ok());
  for (const char* name :
       {"LD_PRELOAD", "LD_LIBRARY_PATH", "GCONV_PATH", "GLIBC_TUNABLES",
        "BASH_ENV", "IFS", "PATH", "MALLOC_CHECK_"}) {
    SCOPED_TRACE(name);
    ExpectInvalid(env(absl::StrCat("env { name: \"", name, "\" ", v, " }")),
                  "may not be set by callers");
  }
  ExpectInvalid(env("fixed_env { name: \"LD_PRELOAD\" value: \"/x.so\" }"),
                "changes how the loader");
  EXPECT_TRUE(
      ParseStatus(env("fixed_env { name: \"PATH\" value: \"/usr/bin\" }"))
          .ok());
  ExpectInvalid(env("env { name: \"1X\" " + v + " }"), "name must match");
  ExpectInvalid(env("env { name: \"A=B\" " + v + " }"), "name must match");
  ExpectInvalid(env("env { name: \"FOO\" }"), "needs a value type");
  ExpectInvalid(env("env { name: \"FOO\" " + v +
                    " } fixed_env { name: \"FOO\" value: \"x\" }"),
                "duplicate environment variable");
  ExpectInvalid(
      env("env { name: \"FOO\" value { name: \"x\" int { min: 0 max: 1 } } "
          "}"),
      "sets no name, prefix or counts");
  ExpectInvalid(env("fixed_env { name: \"FOO\" value: \"a\\nb\" }"),
                "printable ASCII");
}

TEST(CommandPolicyTest, LoadFileReadsRegularFilesOnly) {
  const std::string dir = TmpDir();
  const std::string text = OneEntry("binary: \"/bin/true\"");
  const std::string path = dir + "/one.textproto";
  WriteFile(path, text);
  absl::StatusOr<CommandPolicy> p = CommandPolicy::LoadFile(path);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->source(), path);
  EXPECT_EQ(p->sha256_hex(), CommandPolicy::Parse(text, "x")->sha256_hex());

  EXPECT_EQ(CommandPolicy::LoadFile(dir + "/missing.textproto").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CommandPolicy::LoadFile(dir).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string big = dir + "/big.textproto";
  WriteFile(big, text + "\n#" + std::string(kMaxPolicyBytes, 'x'));
  EXPECT_EQ(CommandPolicy::LoadFile(big).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(AllowlistTest, DirectoryLoadAndDuplicates) {
  const std::string dir = TmpDir() + "/commands";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  auto policy = [](const std::string& adapter, const std::string& id) {
    return absl::StrCat("schema_version: 1 adapter: \"", adapter,
                        "\" entry { id: \"", id, "\" binary: \"/bin/true\" ",
                        kLimits, " }");
  };
  WriteFile(dir + "/b.textproto", policy("b", "b.x"));
  WriteFile(dir + "/a.textproto", policy("a", "a.x"));
  WriteFile(dir + "/README.md", "not a policy");
  absl::StatusOr<Allowlist> list = Allowlist::LoadDirectory(dir);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->sources().size(), 2U);
  EXPECT_EQ(list->sources()[0].adapter, "a");
  EXPECT_EQ(list->sources()[1].adapter, "b");
  EXPECT_EQ(list->sources()[0].sha256_hex.size(), 64U);
  EXPECT_EQ(list->size(), 2U);
  EXPECT_NE(list->Find("a.x"), nullptr);
  EXPECT_EQ(list->Find("c.x"), nullptr);

  // The same adapter twice.
  Allowlist again = *list;
  absl::Status s = again.Add(*CommandPolicy::Parse(policy("a", "a.y"), "z"));
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;

  // A bad file fails the whole directory.
  WriteFile(dir + "/c.textproto", policy("c", "c.x") + " garbage");
  EXPECT_EQ(Allowlist::LoadDirectory(dir).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Allowlist::LoadDirectory(dir + "/none").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace virtengine::exec
