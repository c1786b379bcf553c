// vectl image install|status: help, arguments, and the bundle checks that
// happen before the admin socket is touched (a ustar archive of exactly
// manifest.json, uki.efi, root.erofs and root.verity).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "src/cli/test_util.h"
#include "src/cli/vectl.h"

namespace virtengine::cli {
namespace {

using testutil::RunResult;
using testutil::Vectl;

// `v` in octal, zero-padded to `width` digits.
std::string Octal(uint64_t v, size_t width) {
  std::string out(width, '0');
  for (size_t i = width; i > 0 && v != 0; --i, v >>= 3) {
    out[i - 1] = static_cast<char>('0' + (v & 7));
  }
  return out;
}

// One ustar member: header (name, mode, size in octal, type, magic,
// checksum) and the data padded to 512 bytes.
std::string Member(const std::string& name, const std::string& data,
                   char type = '0') {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  h.replace(100, 7, "0000644");
  h.replace(124, 11, Octal(data.size(), 11));
  h.replace(136, 11, "00000000000");
  h[156] = type;
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  h.replace(148, 7, Octal(sum, 6) + '\0');
  std::string padded = data;
  padded.resize((data.size() + 511) / 512 * 512, '\0');
  return h + padded;
}

std::string Tar(const std::vector<std::pair<std::string, std::string>>& m) {
  std::string t;
  for (const auto& [name, data] : m) t += Member(name, data);
  return t + std::string(1024, '\0');
}

// Absolute, short enough, and never a socket.
constexpr char kNoSocket[] = "/nonexistent/ve-image-test.sock";

class ImageArgsTest : public ::testing::Test {
 protected:
  std::string dir_ = testutil::NewDir("imgargs");
  Env env_ = testutil::MakeEnv(dir_ + "/home");

  RunResult Install(const std::string& tar_bytes) {
    const std::string path = dir_ + "/bundle.tar";
    testutil::WriteFile(path, tar_bytes);
    // A socket that does not exist: a bundle that passes vectl's checks
    // fails on the connection instead.
    return Vectl(env_, {"image", "install", path, "--admin-socket", kNoSocket,
                        "--timeout", "2s"});
  }
};

TEST_F(ImageArgsTest, Help) {
  RunResult r = Vectl(env_, {"image", "install", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const char* want :
       {"usage: vectl image install [flags] FILE", "update.tar", "downgrade",
        "--admin-socket", "30m"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  r = Vectl(env_, {"image", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("image status"), std::string::npos) << r.out;
}

TEST_F(ImageArgsTest, ArgumentsAreChecked) {
  RunResult r = Vectl(env_, {"image", "install", "--admin-socket", "/a.sock"});
  EXPECT_EQ(r.code, kExitUsage) << r.err;
  EXPECT_NE(r.err.find("missing argument FILE"), std::string::npos) << r.err;
  r = Vectl(env_,
            {"image", "install", "x.tar", "--admin-socket", "relative.sock"});
  EXPECT_EQ(r.code, kExitUsage) << r.err;
}

TEST_F(ImageArgsTest, RefusesWhatIsNotABundle) {
  const std::string ok_manifest = "{}";
  struct Case {
    std::string tar;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"not a tar at all", "bundle: truncated (no end-of-archive blocks)"},
      {std::string(512, 'x') + std::string(1024, '\0'),
       "bundle: not a ustar archive"},
      {Tar({{"manifest.json", ok_manifest},
            {"uki.efi", "u"},
            {"root.erofs", "r"}}),
       "bundle: no root.verity member"},
      {Tar({{"manifest.json", ok_manifest},
            {"../etc/passwd", "x"},
            {"uki.efi", "u"},
            {"root.erofs", "r"},
            {"root.verity", "v"}}),
       "bundle: unexpected member '../etc/passwd'"},
      {Tar({{"manifest.json", ok_manifest},
            {"uki.efi", "u"},
            {"uki.efi", "u2"},
            {"root.erofs", "r"},
            {"root.verity", "v"}}),
       "bundle: uki.efi appears twice"},
      {Member("uki.efi", "", '2') + std::string(1024, '\0'),
       "bundle: uki.efi is not a regular file"},
      {Tar({{"manifest.json", std::string(256 * 1024 + 1, ' ')},
            {"uki.efi", "u"},
            {"root.erofs", "r"},
            {"root.verity", "v"}}),
       "bundle: manifest.json over 256 KiB"},
  };
  for (const Case& c : cases) {
    RunResult r = Install(c.tar);
    EXPECT_EQ(r.code, kExitRuntime) << c.want << ": " << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos)
        << "stderr: " << r.err << " (wanted: " << c.want << ")";
  }
  // A truncated member.
  std::string t = Tar({{"manifest.json", ok_manifest},
                       {"uki.efi", std::string(5000, 'u')},
                       {"root.erofs", "r"},
                       {"root.verity", "v"}});
  RunResult r = Install(t.substr(0, 512 + 512 + 512 + 2048));
  EXPECT_EQ(r.code, kExitRuntime);
  EXPECT_NE(r.err.find("bundle: uki.efi is truncated"), std::string::npos)
      << r.err;
}

TEST_F(ImageArgsTest, AWellFormedBundleGoesToTheSocket) {
  RunResult r = Install(Tar({{"manifest.json", "{}"},
                             {"uki.efi", "u"},
                             {"root.erofs", "r"},
                             {"root.verity", "v"}}));
  EXPECT_EQ(r.code, kExitRuntime) << r.err;
  EXPECT_NE(
      r.err.find(std::string("Install via ") + kNoSocket + ": UNAVAILABLE"),
      std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace virtengine::cli
