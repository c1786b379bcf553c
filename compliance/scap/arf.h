// OpenSCAP results: the ARF report (or a bare XCCDF 1.2 results document)
// that `oscap xccdf eval --results-arf` writes, parsed with libxml2, and the
// mapping of each rule's references to our controls.
//
// Parsing: at most kMaxArfBytes; no network, no DTD loading, no entity
// substitution (libxml2 defaults without XML_PARSE_NOENT/DTDLOAD), libxml2's
// own nesting and text-node limits (no XML_PARSE_HUGE); at most kMaxRules
// Rule definitions, kMaxResults rule-results and kMaxReferences references
// per rule; every kept string is whitespace-collapsed and cut to
// kMaxTextBytes. Exactly one XCCDF 1.2 TestResult must be present.
// Rule results "notselected" are dropped (they are not part of the profile).
#ifndef VIRTENGINE_COMPLIANCE_SCAP_ARF_H_
#define VIRTENGINE_COMPLIANCE_SCAP_ARF_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "compliance/json/json.h"

namespace virtengine::compliance::scap {

inline constexpr size_t kMaxArfBytes = 128 * 1024 * 1024;
inline constexpr size_t kMaxRules = 50000;
inline constexpr size_t kMaxResults = 50000;
inline constexpr size_t kMaxReferences = 256;
inline constexpr size_t kMaxTextBytes = 1024;

struct RuleReference {
  std::string href;
  std::string id;
  bool operator==(const RuleReference& o) const {
    return href == o.href && id == o.id;
  }
};

struct RuleResult {
  std::string rule_id;
  std::string title;     // from the Rule definition ("" if not found)
  std::string result;    // pass, fail, error, unknown, notapplicable, ...
  std::string time;      // the rule-result's time attribute
  std::string severity;  // the rule-result's severity attribute
  std::vector<RuleReference> references;  // from the Rule definition
  bool operator==(const RuleResult& o) const {
    return rule_id == o.rule_id && title == o.title && result == o.result &&
           time == o.time && severity == o.severity &&
           references == o.references;
  }
};

struct ArfReport {
  std::string test_result_id;
  std::string profile_id;
  std::string start_time;
  std::string end_time;
  std::string test_system;
  std::vector<RuleResult> results;  // document order
  bool operator==(const ArfReport& o) const {
    return test_result_id == o.test_result_id && profile_id == o.profile_id &&
           start_time == o.start_time && end_time == o.end_time &&
           test_system == o.test_system && results == o.results;
  }
};

// InvalidArgument "arf: ..." for anything malformed, ResourceExhausted for a
// limit.
absl::StatusOr<ArfReport> ParseArf(std::string_view xml);

// A minimal XCCDF 1.2 document (Benchmark with the Rules and one TestResult)
// carrying exactly what ParseArf keeps: ParseArf(WriteXccdf(r)) == r.
std::string WriteXccdf(const ArfReport& report);

// Results that are XCCDF "pass", "fixed" or "notapplicable" count as
// passing; "fail", "error", "unknown", "notchecked" do not.
bool IsPassing(std::string_view result);
bool IsKnownResult(std::string_view result);

// One rule of compliance/data/mappings/scap-references.json: a reference
// whose href contains `href_contains` and whose id starts with `id_prefix`
// maps the rule to `controls`.
struct ReferenceMapping {
  std::string href_contains;
  std::string id_prefix;
  std::vector<std::string> controls;
};

absl::StatusOr<std::vector<ReferenceMapping>> ParseReferenceMappings(
    const json::Value& doc);

// The control ids (sorted, distinct) a rule maps to.
std::vector<std::string> ControlsForRule(
    const RuleResult& rule, const std::vector<ReferenceMapping>& mappings);

}  // namespace virtengine::compliance::scap

#endif  // VIRTENGINE_COMPLIANCE_SCAP_ARF_H_
