// Fuzzes compliance::scap::ParseArf (libxml2). Invariants:
//  - errors are InvalidArgument or ResourceExhausted with an "arf: " message;
//  - every kept result has a non-empty rule id, a known XCCDF result other
//    than "notselected", strings within kMaxTextBytes, at most
//    kMaxReferences references;
//  - WriteXccdf(report) parses back to the identical report (round trip).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "compliance/scap/arf.h"

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      (void)std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
                         __LINE__, #cond);                              \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace scap = virtengine::compliance::scap;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto parsed = scap::ParseArf(in);
  if (!parsed.ok()) {
    const auto code = parsed.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
               code == absl::StatusCode::kResourceExhausted);
    FUZZ_CHECK(std::string(parsed.status().message()).rfind("arf: ", 0) == 0);
    return 0;
  }
  for (const scap::RuleResult& r : parsed->results) {
    FUZZ_CHECK(!r.rule_id.empty());
    FUZZ_CHECK(scap::IsKnownResult(r.result) && r.result != "notselected");
    FUZZ_CHECK(r.rule_id.size() <= scap::kMaxTextBytes);
    FUZZ_CHECK(r.title.size() <= scap::kMaxTextBytes);
    FUZZ_CHECK(r.references.size() <= scap::kMaxReferences);
  }
  const std::string xml = scap::WriteXccdf(*parsed);
  const auto again = scap::ParseArf(xml);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *parsed);
  return 0;
}
