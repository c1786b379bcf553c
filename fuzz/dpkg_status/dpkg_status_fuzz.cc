// Fuzzes compliance::sbom::ParseDpkgStatus. Invariants:
//  - errors are InvalidArgument or ResourceExhausted with a "dpkg status: "
//    message;
//  - every parsed package has a valid name, version and architecture (the
//    characters a purl or an SPDX id will carry) and no control character
//    in any field;
//  - FormatDpkgStatus(parsed) parses back to exactly the same packages, and
//    formatting is idempotent.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "compliance/sbom/dpkg_status.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

bool NoControl(const std::string& s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sbom = virtengine::compliance::sbom;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto parsed = sbom::ParseDpkgStatus(in);
  if (!parsed.ok()) {
    const auto code = parsed.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
               code == absl::StatusCode::kResourceExhausted);
    FUZZ_CHECK(
        std::string(parsed.status().message()).rfind("dpkg status: ", 0) == 0);
    return 0;
  }
  for (const sbom::DpkgPackage& p : *parsed) {
    FUZZ_CHECK(sbom::IsValidPackageName(p.name));
    FUZZ_CHECK(sbom::IsValidVersion(p.version));
    FUZZ_CHECK(p.architecture.empty() ||
               sbom::IsValidArchitecture(p.architecture));
    FUZZ_CHECK(p.source.empty() || sbom::IsValidPackageName(p.source));
    FUZZ_CHECK(NoControl(p.status) && NoControl(p.maintainer) &&
               NoControl(p.homepage) && NoControl(p.summary));
  }
  const std::string text = sbom::FormatDpkgStatus(*parsed);
  const auto again = sbom::ParseDpkgStatus(text);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *parsed);
  FUZZ_CHECK(sbom::FormatDpkgStatus(*again) == text);
  return 0;
}
