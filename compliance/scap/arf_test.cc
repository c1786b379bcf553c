#include "compliance/scap/arf.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "compliance/json/json.h"
#include "gtest/gtest.h"

namespace virtengine::compliance::scap {
namespace {

std::string ReadRunfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");  // NOLINT
  const std::string p =
      std::string(srcdir != nullptr ? srcdir : ".") + "/virtengine/" + rel;
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << p;
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Real `oscap xccdf eval` output (Debian 12's openscap-scanner 1.3.7, the
// tailored five-rule profile), trimmed to the Rules and the TestResult.
TEST(ArfTest, ParsesRealResults) {
  absl::StatusOr<ArfReport> r =
      ParseArf(ReadRunfile("compliance/scap/testdata/tiny-results.xml"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->profile_id, "xccdf_org.virtengine_profile_tiny");
  ASSERT_EQ(r->results.size(), 5U);
  const RuleResult* telnet = nullptr;
  for (const RuleResult& rr : r->results) {
    if (absl::EndsWith(rr.rule_id, "package_telnet_removed")) telnet = &rr;
    EXPECT_TRUE(IsKnownResult(rr.result));
  }
  ASSERT_NE(telnet, nullptr);
  EXPECT_EQ(telnet->result, "pass");
  EXPECT_EQ(telnet->title, "Remove telnet Clients");
  EXPECT_GT(telnet->references.size(), 5U);

  absl::StatusOr<json::Value> mdoc =
      json::Parse(ReadRunfile("compliance/data/mappings/scap-references.json"));
  ASSERT_TRUE(mdoc.ok());
  absl::StatusOr<std::vector<ReferenceMapping>> m =
      ParseReferenceMappings(*mdoc);
  ASSERT_TRUE(m.ok()) << m.status();
  const std::vector<std::string> controls = ControlsForRule(*telnet, *m);
  // ISO 27001 A.13.x and NIST 800-171 3.1.13 references.
  EXPECT_NE(std::find(controls.begin(), controls.end(), "cc6.6"),
            controls.end());
  EXPECT_NE(std::find(controls.begin(), controls.end(), "cc6.1"),
            controls.end());

  absl::StatusOr<ArfReport> again = ParseArf(WriteXccdf(*r));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *r);
}

TEST(ArfTest, RefusesMalformedAndHostileXml) {
  EXPECT_FALSE(ParseArf("<not closed").ok());
  EXPECT_FALSE(ParseArf("<a/>").ok());  // no TestResult
  // No external entity is ever fetched or expanded.
  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM "
      "\"file:///etc/passwd\">]>"
      "<Benchmark xmlns=\"http://checklists.nist.gov/xccdf/1.2\">"
      "<Rule id=\"r\"><title>&e;</title></Rule>"
      "<TestResult id=\"t\"><rule-result idref=\"r\"><result>pass</result>"
      "</rule-result></TestResult></Benchmark>";
  absl::StatusOr<ArfReport> r = ParseArf(xxe);
  if (r.ok()) {
    ASSERT_EQ(r->results.size(), 1U);
    EXPECT_FALSE(absl::StrContains(r->results[0].title, "root:"));
  }
  const std::string bad_result =
      "<TestResult xmlns=\"http://checklists.nist.gov/xccdf/1.2\" id=\"t\">"
      "<rule-result idref=\"r\"><result>maybe</result></rule-result>"
      "</TestResult>";
  EXPECT_FALSE(ParseArf(bad_result).ok());
  const std::string two =
      "<x xmlns=\"http://checklists.nist.gov/xccdf/1.2\"><TestResult/>"
      "<TestResult/></x>";
  EXPECT_FALSE(ParseArf(two).ok());
}

}  // namespace
}  // namespace virtengine::compliance::scap
