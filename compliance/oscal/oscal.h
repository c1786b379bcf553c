// OSCAL 1.2.1 documents of the evidence bundle: the control catalogs and
// component definition are data (compliance/data/); this library reads them
// and builds the assessment plan and the assessment results (observations
// from the checks, one finding per control).
//
// Determinism: every UUID is DerivedUuid(seed, stable key), and every list
// follows catalog or check order, so the same inputs (including the seed and
// the times) give byte-identical documents.
#ifndef VIRTENGINE_COMPLIANCE_OSCAL_OSCAL_H_
#define VIRTENGINE_COMPLIANCE_OSCAL_OSCAL_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "compliance/json/json.h"

namespace virtengine::compliance::oscal {

// The namespace of VirtEngine's own OSCAL property names.
inline constexpr char kNs[] = "https://virtengine.invalid/ns/oscal";

struct Control {
  std::string id;     // "cc6.1", "gdpr-art32"
  std::string label;  // "CC6.1", "Art. 32"
  std::string title;
  std::string catalog;  // the catalog file name, "catalog-soc2.json"
};

// Every control of an OSCAL catalog (groups and nested controls, in
// document order).
absl::StatusOr<std::vector<Control>> ReadCatalog(const json::Value& doc,
                                                 std::string_view file_name);

// From the component definition: for each control id, the automated checks
// (property "check") that implement it. Controls absent from the map need
// manual evidence.
absl::StatusOr<std::map<std::string, std::vector<std::string>>>
ReadCheckMapping(const json::Value& component_definition);

struct Evidence {
  std::string
      href;  // path inside the bundle, "evidence/crypto_policy.textproto"
  std::string description;
  std::string sha256_hex;
};

struct Observation {
  std::string check_id;  // "crypto.policy", "openscap.<rule id>"
  std::string title;
  std::string description;
  std::string method = "TEST";
  std::string collected;  // RFC 3339
  std::string subject;    // what was looked at, "ve-node (pid 812)"
  bool satisfied = false;
  std::string reason;  // one sentence, always set
  std::vector<Evidence> evidence;
  // Controls this observation bears on beyond the component definition's
  // mapping (OpenSCAP rules, through their references).
  std::vector<std::string> extra_controls;
};

struct Finding {
  std::string control_id;
  bool satisfied = false;
  bool manual = false;  // requires manual evidence
  std::string reason;
  std::vector<size_t> observations;  // indexes into the observation list
};

// One finding per control, in catalog order: satisfied only when at least
// one observation bears on it and all of them are satisfied; controls no
// check implements are not-satisfied and marked as needing manual evidence
// (INTERVIEW/EXAMINE).
std::vector<Finding> ComputeFindings(
    const std::vector<Control>& controls,
    const std::map<std::string, std::vector<std::string>>& check_mapping,
    const std::vector<Observation>& observations);

struct DocumentContext {
  std::string seed;                        // for DerivedUuid
  std::string title;                       // "VirtEngine appliance node-1"
  std::string published;                   // RFC 3339: the export's start
  std::string finished;                    // RFC 3339: the export's end
  std::string version;                     // product version
  std::string system_name;                 // "node-1"
  std::vector<std::string> catalog_files;  // hrefs of the catalogs
  std::string component_definition_file;
  std::string assessment_plan_file = "assessment-plan.json";
};

json::Value BuildAssessmentPlan(
    const DocumentContext& ctx, const std::vector<Control>& controls,
    const std::map<std::string, std::vector<std::string>>& check_mapping);

json::Value BuildAssessmentResults(const DocumentContext& ctx,
                                   const std::vector<Control>& controls,
                                   const std::vector<Observation>& observations,
                                   const std::vector<Finding>& findings);

// Control id -> "satisfied" / "not-satisfied", read back from an assessment
// results document (for DiffBundles).
absl::StatusOr<std::map<std::string, std::string>> ReadFindingStates(
    const json::Value& assessment_results);

}  // namespace virtengine::compliance::oscal

#endif  // VIRTENGINE_COMPLIANCE_OSCAL_OSCAL_H_
