// TEST ONLY: vectl in-process (src/cli's RunVectl) as the integration tests
// drive it, and a short temporary directory for Unix sockets.
#ifndef VIRTENGINE_TESTS_INTEGRATION_VECTL_RUN_H_
#define VIRTENGINE_TESTS_INTEGRATION_VECTL_RUN_H_

#include <string>
#include <vector>

namespace virtengine::testing {

struct VectlRun {
  int code = -1;
  std::string out, err;
};

// Runs vectl with VECTL_HOME = `vhome` (also the working directory),
// VECTL_PASSPHRASE_FILE = `pass`, HOME = `home_env` (default `vhome`: where
// the default admin socket path is looked up) and, when set, VECTL_NODE =
// `node`. There is no terminal: a passphrase prompt fails.
VectlRun RunVectlIn(const std::string& vhome, const std::string& pass,
                    const std::vector<std::string>& args,
                    const std::string& node = "",
                    const std::string& home_env = "");

// A fresh directory /tmp/<prefix>-XXXXXX (Unix socket paths must stay short;
// TEST_TMPDIR is too deep), removed with everything in it on destruction.
class ShortTempDir {
 public:
  explicit ShortTempDir(const std::string& prefix);
  ~ShortTempDir();
  ShortTempDir(const ShortTempDir&) = delete;
  ShortTempDir& operator=(const ShortTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace virtengine::testing

#endif  // VIRTENGINE_TESTS_INTEGRATION_VECTL_RUN_H_
