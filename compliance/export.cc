#include "compliance/export.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "compliance/common/common.h"
#include "compliance/json/json.h"
#include "compliance/oscal/oscal.h"
#include "compliance/sbom/sbom.h"
#include "compliance/scap/arf.h"
#include "security/path/path.h"

namespace virtengine::compliance {
namespace {

using security::path::PathRoot;

constexpr size_t kMaxDataFileBytes = size_t{8} * 1024 * 1024;
constexpr size_t kMaxBinaryBytes = size_t{512} * 1024 * 1024;
constexpr char kCatalogs[][24] = {"catalog-soc2.json", "catalog-gdpr.json"};
constexpr char kComponentDefinition[] = "component-definition.json";
constexpr char kScapMappings[] = "mappings/scap-references.json";

absl::Status Annotate(const absl::Status& st, std::string_view what) {
  return absl::Status(st.code(),
                      absl::StrCat(std::string(what), ": ", st.message()));
}

// Splits "/a/b/c" into a root "/a/b" and the name "c".
absl::StatusOr<std::pair<std::string, std::string>> SplitPath(
    const std::string& path) {
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos ||
      slash + 1 >= path.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an absolute file path: ", path));
  }
  return std::make_pair(slash == 0 ? std::string("/") : path.substr(0, slash),
                        path.substr(slash + 1));
}

std::vector<oscal::Observation> ScapObservations(
    const scap::ArfReport& report,
    const std::vector<scap::ReferenceMapping>& mappings,
    const std::string& arf_href, const std::string& arf_sha,
    const std::string& collected) {
  std::vector<oscal::Observation> out;
  for (const scap::RuleResult& r : report.results) {
    oscal::Observation o;
    o.check_id = absl::StrCat("openscap.", r.rule_id);
    o.title = r.title.empty() ? r.rule_id : r.title;
    o.description = absl::StrCat(
        "OpenSCAP rule ", r.rule_id, " of profile ", report.profile_id,
        " (severity ", r.severity.empty() ? "unknown" : r.severity, ").");
    o.collected = r.time.empty() ? collected : r.time;
    o.subject = "operating system";
    o.satisfied = scap::IsPassing(r.result);
    o.reason = absl::StrCat("XCCDF result: ", r.result);
    o.evidence.push_back(oscal::Evidence{
        arf_href, "OpenSCAP ARF report (all rule results)", arf_sha});
    o.extra_controls = scap::ControlsForRule(r, mappings);
    // Every evaluated rule also bears on the configuration baseline check.
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

absl::StatusOr<ExportResult> ExportBundle(const ExportOptions& options,
                                          const crypto::Ed25519PrivateKey& key,
                                          const std::string& out_dir) {
  bundle::KeyStatementSigner signer(key);
  return ExportBundle(options, signer, out_dir);
}

absl::StatusOr<ExportResult> ExportBundle(const ExportOptions& options,
                                          bundle::StatementSigner& signer,
                                          const std::string& out_dir) {
  const auto clock = options.clock ? options.clock : [] { return absl::Now(); };
  const absl::Time start = clock();
  const auto progress = [&](std::string_view line) {
    if (options.progress) options.progress(line);
  };
  ExportResult result;
  std::vector<bundle::File> files;

  // 1. Control data.
  progress("[1/7] control catalogs and component definition");
  absl::StatusOr<PathRoot> data = PathRoot::Open(options.data_dir);
  if (!data.ok()) return Annotate(data.status(), "data directory");
  std::vector<oscal::Control> controls;
  for (const char* name : kCatalogs) {
    absl::StatusOr<std::string> text = data->ReadFile(name, kMaxDataFileBytes);
    if (!text.ok()) return Annotate(text.status(), name);
    absl::StatusOr<json::Value> doc = json::Parse(*text);
    if (!doc.ok()) return Annotate(doc.status(), name);
    absl::StatusOr<std::vector<oscal::Control>> c =
        oscal::ReadCatalog(*doc, name);
    if (!c.ok()) return c.status();
    controls.insert(controls.end(), c->begin(), c->end());
    files.push_back(bundle::File{name, *std::move(text)});
  }
  absl::StatusOr<std::string> cd_text =
      data->ReadFile(kComponentDefinition, kMaxDataFileBytes);
  if (!cd_text.ok()) return Annotate(cd_text.status(), kComponentDefinition);
  absl::StatusOr<json::Value> cd = json::Parse(*cd_text);
  if (!cd.ok()) return Annotate(cd.status(), kComponentDefinition);
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> mapping =
      oscal::ReadCheckMapping(*cd);
  if (!mapping.ok()) return mapping.status();
  files.push_back(bundle::File{kComponentDefinition, *std::move(cd_text)});
  absl::StatusOr<std::string> map_text =
      data->ReadFile(kScapMappings, kMaxDataFileBytes);
  if (!map_text.ok()) return Annotate(map_text.status(), kScapMappings);
  absl::StatusOr<json::Value> map_doc = json::Parse(*map_text);
  if (!map_doc.ok()) return Annotate(map_doc.status(), kScapMappings);
  absl::StatusOr<std::vector<scap::ReferenceMapping>> scap_mappings =
      scap::ParseReferenceMappings(*map_doc);
  if (!scap_mappings.ok()) return scap_mappings.status();
  files.push_back(bundle::File{kScapMappings, *std::move(map_text)});

  // 2. Checks.
  progress("[2/7] automated checks");
  checks::Context ctx = options.checks;
  ctx.now = start;
  std::vector<oscal::Observation> observations;
  for (checks::CheckOutput& c : checks::RunAllChecks(ctx)) {
    progress(
        absl::StrCat("      ", c.observation.check_id, ": ",
                     c.observation.satisfied ? "satisfied" : "NOT satisfied"));
    for (checks::EvidenceFile& f : c.files) {
      files.push_back(bundle::File{std::move(f.path), std::move(f.content)});
    }
    observations.push_back(std::move(c.observation));
  }

  // 3. OpenSCAP.
  if (options.runner != nullptr) {
    progress(absl::StrCat("[3/7] OpenSCAP profile ", options.openscap.profile,
                          " (this can take minutes)"));
    absl::StatusOr<scap::OpenScapRun> run =
        scap::RunOpenScap(*options.runner, options.openscap);
    oscal::Observation o;
    o.check_id = "openscap.scan";
    o.title = "OpenSCAP scan of the operating system";
    o.description =
        absl::StrCat("oscap xccdf eval of profile ", options.openscap.profile,
                     " through the allowlisted runner.");
    o.collected = Rfc3339(clock());
    o.subject = "operating system";
    if (!run.ok()) {
      o.satisfied = false;
      o.reason = absl::StrCat("cannot be evaluated: ", run.status().message());
      observations.push_back(std::move(o));
    } else {
      result.openscap_ran = true;
      result.openscap_duration = run->duration;
      absl::StatusOr<scap::ArfReport> report = scap::ParseArf(run->arf);
      absl::StatusOr<std::string> sha = Sha256Hex(run->arf);
      if (!report.ok() || !sha.ok()) {
        o.satisfied = false;
        o.reason = absl::StrCat(
            "cannot be evaluated: ARF report: ",
            !report.ok() ? report.status().message() : sha.status().message());
        observations.push_back(std::move(o));
      } else {
        const std::string href = "openscap/arf.xml";
        size_t failed = 0;
        for (const scap::RuleResult& r : report->results) {
          if (!scap::IsPassing(r.result)) ++failed;
        }
        o.satisfied = failed == 0 && !report->results.empty();
        o.reason =
            absl::StrCat(report->results.size(), " rules evaluated, ", failed,
                         " not passing (oscap exit ", run->exit_code, ")");
        o.evidence.push_back(
            oscal::Evidence{href, "OpenSCAP ARF report", *sha});
        observations.push_back(std::move(o));
        for (oscal::Observation& ro : ScapObservations(
                 *report, *scap_mappings, href, *sha, Rfc3339(clock()))) {
          observations.push_back(std::move(ro));
        }
        files.push_back(bundle::File{href, std::move(run->arf)});
        progress(absl::StrCat("      ", report->results.size(), " rules, ",
                              failed, " not passing"));
      }
    }
  } else {
    progress(absl::StrCat("[3/7] OpenSCAP: not run: ",
                          options.openscap_skip_reason));
    oscal::Observation o;
    o.check_id = "openscap.scan";
    o.title = "OpenSCAP scan of the operating system";
    o.description = "oscap xccdf eval through the allowlisted runner.";
    o.collected = Rfc3339(clock());
    o.subject = "operating system";
    o.satisfied = false;
    o.reason = absl::StrCat("cannot be evaluated: not run: ",
                            options.openscap_skip_reason);
    observations.push_back(std::move(o));
  }

  // 4. SBOMs and licence audit.
  progress("[4/7] SBOM from the dpkg database");
  absl::StatusOr<PathRoot> sys = PathRoot::Open(options.system_root);
  if (!sys.ok()) return Annotate(sys.status(), "system root");
  absl::StatusOr<sbom::Inventory> inv = sbom::ReadInventory(*sys);
  if (!inv.ok()) return inv.status();
  for (const BinarySpec& b : options.binaries) {
    absl::StatusOr<std::pair<std::string, std::string>> split =
        SplitPath(b.path);
    if (!split.ok()) return split.status();
    absl::StatusOr<PathRoot> dir = PathRoot::Open(split->first);
    if (!dir.ok()) return Annotate(dir.status(), b.path);
    absl::StatusOr<std::string> bytes =
        dir->ReadFile(split->second, kMaxBinaryBytes);
    if (!bytes.ok()) return Annotate(bytes.status(), b.path);
    absl::StatusOr<std::string> sha = Sha256Hex(*bytes);
    if (!sha.ok()) return sha.status();
    inv->binaries.push_back(sbom::Binary{split->second, b.path, *sha, b.version,
                                         b.commit, b.builder});
  }
  result.packages = inv->packages.size();
  const std::string seed =
      absl::StrCat(options.system_name, "\n", Rfc3339(start));
  sbom::DocumentInfo info{options.system_name, Rfc3339(start),
                          DerivedUuid(seed, "sbom"), kToolVersion,
                          options.product_version};
  files.push_back(bundle::File{"sbom.spdx.json",
                               json::Pretty(sbom::BuildSpdx(*inv, info))});
  files.push_back(bundle::File{"sbom.cdx.json",
                               json::Pretty(sbom::BuildCycloneDx(*inv, info))});
  progress(absl::StrCat("      ", inv->packages.size(), " packages, ",
                        inv->binaries.size(), " project binaries"));
  {
    absl::StatusOr<PathRoot> policy = PathRoot::Open(ctx.policy_dir);
    absl::StatusOr<std::string> allow =
        policy.ok()
            ? policy->ReadFile("licenses/allowlist.txt", size_t{64} * 1024)
            : absl::StatusOr<std::string>(policy.status());
    oscal::Observation o;
    o.check_id = "licenses.audit";
    o.title = "Package licences within the allowlist";
    o.description =
        "Every installed package's declared licence (from its DEP-5 "
        "copyright file) is in policy/licenses/allowlist.txt.";
    o.collected = Rfc3339(clock());
    o.subject = "installed packages";
    if (!allow.ok()) {
      o.reason = absl::StrCat("cannot be evaluated: licence allowlist: ",
                              allow.status().message());
    } else {
      absl::StatusOr<std::vector<std::string>> ids =
          sbom::ParseLicenseAllowlist(*allow);
      absl::StatusOr<std::string> allow_sha = Sha256Hex(*allow);
      if (!ids.ok() || !allow_sha.ok()) {
        o.reason = absl::StrCat(
            "cannot be evaluated: licence allowlist: ",
            !ids.ok() ? ids.status().message() : allow_sha.status().message());
      } else {
        const sbom::LicenseAudit audit =
            sbom::AuditLicenses(*inv, *ids, *allow_sha);
        const std::string text = json::Pretty(sbom::LicenseAuditJson(audit));
        absl::StatusOr<std::string> sha = Sha256Hex(text);
        size_t disallowed = 0;
        for (const auto& e : audit.flagged)
          disallowed += e.no_assertion ? 0 : 1;
        o.satisfied = disallowed == 0 && audit.no_assertion == 0;
        o.reason = absl::StrCat(
            audit.packages, " packages: ", audit.allowed, " allowlisted, ",
            disallowed, " with a licence outside the allowlist, ",
            audit.no_assertion, " without a machine-readable licence");
        o.evidence.push_back(oscal::Evidence{
            "license-audit.json", "Licence audit against the allowlist",
            sha.ok() ? *sha : ""});
        o.evidence.push_back(
            oscal::Evidence{"evidence/policy/licenses/allowlist.txt",
                            "The licence allowlist", *allow_sha});
        files.push_back(bundle::File{"license-audit.json", text});
        files.push_back(
            bundle::File{"evidence/policy/licenses/allowlist.txt", *allow});
      }
    }
    observations.push_back(std::move(o));
  }

  for (const bundle::File& f : options.extra_files) files.push_back(f);

  // 5. OSCAL assessment plan and results.
  progress("[5/7] OSCAL assessment plan and results");
  const absl::Time end = clock();
  oscal::DocumentContext dctx;
  dctx.seed = seed;
  dctx.title = absl::StrCat("VirtEngine appliance ", options.system_name);
  dctx.published = Rfc3339(start);
  dctx.finished = Rfc3339(end);
  dctx.version = options.product_version;
  dctx.system_name = options.system_name;
  dctx.catalog_files = {kCatalogs[0], kCatalogs[1]};
  dctx.component_definition_file = kComponentDefinition;
  const std::vector<oscal::Finding> findings =
      oscal::ComputeFindings(controls, *mapping, observations);
  for (const oscal::Finding& f : findings) {
    if (f.manual) {
      ++result.findings_manual;
    } else if (f.satisfied) {
      ++result.findings_satisfied;
    } else {
      ++result.findings_not_satisfied;
    }
  }
  result.observations = observations.size();
  files.push_back(bundle::File{
      "assessment-plan.json",
      json::Pretty(oscal::BuildAssessmentPlan(dctx, controls, *mapping))});
  files.push_back(bundle::File{"assessment-results.json",
                               json::Pretty(oscal::BuildAssessmentResults(
                                   dctx, controls, observations, findings))});

  // 6. The bundle.
  progress("[6/7] writing and signing the bundle");
  absl::StatusOr<std::pair<std::string, std::string>> split =
      SplitPath(out_dir);
  if (!split.ok()) return split.status();
  absl::StatusOr<PathRoot> parent = PathRoot::Open(split->first);
  if (!parent.ok()) return Annotate(parent.status(), "output parent directory");
  if (absl::Status st = parent->MakeDirs(split->second, 0755); !st.ok()) {
    return Annotate(st, out_dir);
  }
  absl::StatusOr<PathRoot> out = parent->Sub(split->second);
  if (!out.ok()) return Annotate(out.status(), out_dir);
  bundle::WriteOptions wopts;
  wopts.quote_provider = options.quote_provider;
  wopts.ledger_anchor = options.ledger_anchor;
  wopts.quote_absent_reason = options.quote_absent_reason;
  wopts.receipt_absent_reason = options.receipt_absent_reason;
  wopts.system = options.system_name;
  wopts.created = Rfc3339(start);
  wopts.tool = kToolVersion;
  absl::StatusOr<bundle::WriteResult> written =
      bundle::WriteBundle(*out, files, signer, wopts);
  if (!written.ok()) return written.status();
  result.bundle = *std::move(written);
  result.duration = clock() - start;
  progress(absl::StrCat("[7/7] done: ", result.bundle.files, " files, digest ",
                        result.bundle.bundle_digest_hex));
  if (!result.bundle.quoted)
    progress(absl::StrCat("      ", result.bundle.quote_note));
  if (!result.bundle.anchored) {
    progress(absl::StrCat("      ", result.bundle.receipt_note));
  }
  return result;
}

}  // namespace virtengine::compliance
