// Fuzzes compliance::sbom::ParseDep5 and the SPDX expression mapping.
// Invariants:
//  - errors are FailedPrecondition (not machine-readable), InvalidArgument
//    or ResourceExhausted;
//  - at most kMaxLicenses distinct licences, each non-empty, at most 256
//    bytes, without tab or newline;
//  - the package expression only contains SPDX id characters, spaces,
//    parentheses and the operators AND/OR; its ids are SPDX-shaped and
//    balanced parentheses; mapping is deterministic;
//  - every id LicenseIds extracts occurs in the expression.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "compliance/sbom/dep5.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

namespace {

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+';
}

void CheckExpression(const std::string& e) {
  namespace sbom = virtengine::compliance::sbom;
  FUZZ_CHECK(!e.empty());
  int depth = 0;
  for (char c : e) {
    FUZZ_CHECK(IdChar(c) || c == ' ' || c == '(' || c == ')');
    if (c == '(') ++depth;
    if (c == ')') --depth;
    FUZZ_CHECK(depth >= 0);
  }
  FUZZ_CHECK(depth == 0);
  for (const std::string& id : sbom::LicenseIds(e)) {
    FUZZ_CHECK(!id.empty());
    FUZZ_CHECK(e.find(id) != std::string::npos);
    for (char c : id) FUZZ_CHECK(IdChar(c));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sbom = virtengine::compliance::sbom;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // The expression mapping on its own, on the raw input's first line.
  const std::string first(in.substr(0, std::min<size_t>(in.find('\n'), 512)));
  const std::string direct = sbom::ToSpdxExpression(first);
  FUZZ_CHECK(direct == sbom::ToSpdxExpression(first));
  CheckExpression(direct);

  const auto parsed = sbom::ParseDep5(in);
  if (!parsed.ok()) {
    const auto code = parsed.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kFailedPrecondition ||
               code == absl::StatusCode::kInvalidArgument ||
               code == absl::StatusCode::kResourceExhausted);
    return 0;
  }
  FUZZ_CHECK(parsed->licenses.size() <= sbom::kMaxLicenses);
  for (size_t i = 0; i < parsed->licenses.size(); ++i) {
    const std::string& l = parsed->licenses[i];
    FUZZ_CHECK(!l.empty() && l.size() <= 256);
    FUZZ_CHECK(l.find('\t') == std::string::npos &&
               l.find('\n') == std::string::npos);
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(parsed->licenses[j] != l);
  }
  CheckExpression(sbom::PackageExpression(parsed->licenses));
  return 0;
}
