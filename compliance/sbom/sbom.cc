#include "compliance/sbom/sbom.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "compliance/common/common.h"
#include "compliance/sbom/dep5.h"

namespace virtengine::compliance::sbom {
namespace {

using json::Value;

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4U]);
      out.push_back(kHex[c & 0xfU]);
    }
  }
  return out;
}

// SPDX ids allow [A-Za-z0-9.-] only.
std::string SpdxIdPart(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                    c == '.' || c == '-';
    if (ok) {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "-x", static_cast<int>(static_cast<uint8_t>(c)),
                      "-");
    }
  }
  return out;
}

std::string PackageSpdxId(const DpkgPackage& p) {
  return absl::StrCat(
      "SPDXRef-deb-", SpdxIdPart(p.name), "-",
      SpdxIdPart(p.architecture.empty() ? "none" : p.architecture));
}

Value StrArray(const std::vector<std::string>& v) {
  Value a = Value::Array();
  for (const std::string& s : v) a.Push(Value::Str(s));
  return a;
}

Value Prop(std::string_view name, std::string_view value) {
  Value p = Value::Object();
  p.Set("name", Value::Str(std::string(name)));
  p.Set("value", Value::Str(std::string(value)));
  return p;
}

}  // namespace

std::string DebPurl(const DpkgPackage& p) {
  std::string purl = absl::StrCat("pkg:deb/debian/", PercentEncode(p.name), "@",
                                  PercentEncode(p.version), "?");
  if (!p.architecture.empty()) {
    absl::StrAppend(&purl, "arch=", PercentEncode(p.architecture), "&");
  }
  absl::StrAppend(&purl, "distro=debian-12");
  return purl;
}

absl::StatusOr<Inventory> ReadInventory(const security::path::PathRoot& root) {
  absl::StatusOr<std::string> status =
      root.ReadFile("var/lib/dpkg/status", kMaxStatusBytes);
  if (!status.ok()) {
    return absl::Status(status.status().code(),
                        absl::StrCat("reading var/lib/dpkg/status: ",
                                     status.status().message()));
  }
  absl::StatusOr<std::vector<DpkgPackage>> all = ParseDpkgStatus(*status);
  if (!all.ok()) return all.status();
  Inventory inv;
  for (DpkgPackage& p : *all) {
    if (p.installed()) inv.packages.push_back(std::move(p));
  }
  std::sort(inv.packages.begin(), inv.packages.end(),
            [](const DpkgPackage& a, const DpkgPackage& b) {
              return std::tie(a.name, a.architecture) <
                     std::tie(b.name, b.architecture);
            });
  for (const DpkgPackage& p : inv.packages) {
    PackageLicense lic;
    // Multi-arch packages share /usr/share/doc/<name>.
    lic.source = absl::StrCat("usr/share/doc/", p.name, "/copyright");
    absl::StatusOr<std::string> text =
        root.ReadFile(lic.source, kMaxCopyrightBytes);
    if (!text.ok()) {
      lic.expression = "NOASSERTION";
      lic.note = std::string(text.status().message());
    } else {
      absl::StatusOr<Dep5> dep5 = ParseDep5(*text);
      if (!dep5.ok()) {
        lic.expression = "NOASSERTION";
        lic.note = std::string(dep5.status().message());
      } else {
        lic.expression = PackageExpression(dep5->licenses);
        if (lic.expression == "NOASSERTION") {
          lic.note = "machine-readable copyright file names no licence";
        }
      }
    }
    inv.licenses.push_back(std::move(lic));
  }
  return inv;
}

json::Value BuildSpdx(const Inventory& inv, const DocumentInfo& info) {
  Value doc = Value::Object();
  doc.Set("spdxVersion", Value::Str("SPDX-2.3"));
  doc.Set("dataLicense", Value::Str("CC0-1.0"));
  doc.Set("SPDXID", Value::Str("SPDXRef-DOCUMENT"));
  doc.Set("name", Value::Str(info.name));
  doc.Set("documentNamespace",
          Value::Str(absl::StrCat("https://virtengine.invalid/spdx/", info.name,
                                  "/", info.document_uuid)));
  Value& ci = doc.Set("creationInfo", Value::Object());
  ci.Set("created", Value::Str(info.created));
  Value& creators = ci.Set("creators", Value::Array());
  creators.Push(Value::Str(absl::StrCat("Tool: ", info.tool)));
  creators.Push(Value::Str("Organization: VirtEngine operator"));
  ci.Set("comment",
         Value::Str("Packages from the dpkg status database; licences from "
                    "machine-readable (DEP-5) copyright files, NOASSERTION "
                    "otherwise; files not analyzed."));

  std::set<std::string> refs;  // LicenseRef-* used
  Value& packages = doc.Set("packages", Value::Array());
  Value relationships = Value::Array();

  Value root = Value::Object();
  root.Set("name", Value::Str(info.name));
  root.Set("SPDXID", Value::Str("SPDXRef-appliance"));
  root.Set("versionInfo", Value::Str(info.product_version));
  root.Set("downloadLocation", Value::Str("NOASSERTION"));
  root.Set("filesAnalyzed", Value::Bool(false));
  root.Set("licenseConcluded", Value::Str("NOASSERTION"));
  root.Set("licenseDeclared", Value::Str("NOASSERTION"));
  root.Set("copyrightText", Value::Str("NOASSERTION"));
  root.Set("primaryPackagePurpose", Value::Str("OPERATING_SYSTEM"));
  packages.Push(std::move(root));
  {
    Value r = Value::Object();
    r.Set("spdxElementId", Value::Str("SPDXRef-DOCUMENT"));
    r.Set("relationshipType", Value::Str("DESCRIBES"));
    r.Set("relatedSpdxElement", Value::Str("SPDXRef-appliance"));
    relationships.Push(std::move(r));
  }

  for (size_t i = 0; i < inv.packages.size(); ++i) {
    const DpkgPackage& p = inv.packages[i];
    const std::string& expr = inv.licenses[i].expression;
    Value pkg = Value::Object();
    pkg.Set("name", Value::Str(p.name));
    pkg.Set("SPDXID", Value::Str(PackageSpdxId(p)));
    pkg.Set("versionInfo", Value::Str(p.version));
    pkg.Set("supplier", Value::Str("Organization: Debian"));
    pkg.Set("downloadLocation", Value::Str("NOASSERTION"));
    pkg.Set("filesAnalyzed", Value::Bool(false));
    pkg.Set("licenseConcluded", Value::Str("NOASSERTION"));
    pkg.Set("licenseDeclared", Value::Str(expr));
    pkg.Set("copyrightText", Value::Str("NOASSERTION"));
    if (!p.summary.empty()) pkg.Set("summary", Value::Str(p.summary));
    if (!inv.licenses[i].note.empty()) {
      pkg.Set("licenseComments", Value::Str(inv.licenses[i].note));
    }
    Value& ext = pkg.Set("externalRefs", Value::Array());
    Value ref = Value::Object();
    ref.Set("referenceCategory", Value::Str("PACKAGE-MANAGER"));
    ref.Set("referenceType", Value::Str("purl"));
    ref.Set("referenceLocator", Value::Str(DebPurl(p)));
    ext.Push(std::move(ref));
    for (const std::string& id : LicenseIds(expr)) {
      if (id.rfind("LicenseRef-", 0) == 0) refs.insert(id);
    }
    Value r = Value::Object();
    r.Set("spdxElementId", Value::Str("SPDXRef-appliance"));
    r.Set("relationshipType", Value::Str("CONTAINS"));
    r.Set("relatedSpdxElement", Value::Str(PackageSpdxId(p)));
    relationships.Push(std::move(r));
    packages.Push(std::move(pkg));
  }
  for (const Binary& b : inv.binaries) {
    const std::string id = absl::StrCat("SPDXRef-bin-", SpdxIdPart(b.name));
    Value pkg = Value::Object();
    pkg.Set("name", Value::Str(b.name));
    pkg.Set("SPDXID", Value::Str(id));
    pkg.Set("versionInfo", Value::Str(b.version));
    pkg.Set("supplier", Value::Str("Organization: VirtEngine"));
    pkg.Set("downloadLocation", Value::Str("NOASSERTION"));
    pkg.Set("filesAnalyzed", Value::Bool(false));
    Value& sums = pkg.Set("checksums", Value::Array());
    Value sum = Value::Object();
    sum.Set("algorithm", Value::Str("SHA256"));
    sum.Set("checksumValue", Value::Str(b.sha256_hex));
    sums.Push(std::move(sum));
    pkg.Set("sourceInfo",
            Value::Str(absl::StrCat("built from commit ", b.commit, " by ",
                                    b.builder, "; installed at ", b.path)));
    pkg.Set("licenseConcluded", Value::Str("NOASSERTION"));
    pkg.Set("licenseDeclared", Value::Str("NOASSERTION"));
    pkg.Set("copyrightText", Value::Str("NOASSERTION"));
    pkg.Set("primaryPackagePurpose", Value::Str("APPLICATION"));
    Value r = Value::Object();
    r.Set("spdxElementId", Value::Str("SPDXRef-appliance"));
    r.Set("relationshipType", Value::Str("CONTAINS"));
    r.Set("relatedSpdxElement", Value::Str(id));
    relationships.Push(std::move(r));
    packages.Push(std::move(pkg));
  }
  if (!refs.empty()) {
    Value& extracted = doc.Set("hasExtractedLicensingInfos", Value::Array());
    for (const std::string& id : refs) {
      Value e = Value::Object();
      e.Set("licenseId", Value::Str(id));
      e.Set("extractedText",
            Value::Str("A licence named in a Debian copyright file without an "
                       "SPDX identifier; its text is in "
                       "/usr/share/doc/<package>/copyright."));
      extracted.Push(std::move(e));
    }
  }
  doc.Set("relationships", std::move(relationships));
  return doc;
}

json::Value BuildCycloneDx(const Inventory& inv, const DocumentInfo& info) {
  Value doc = Value::Object();
  doc.Set("$schema",
          Value::Str("http://cyclonedx.org/schema/bom-1.6.schema.json"));
  doc.Set("bomFormat", Value::Str("CycloneDX"));
  doc.Set("specVersion", Value::Str("1.6"));
  doc.Set("serialNumber",
          Value::Str(absl::StrCat("urn:uuid:", info.document_uuid)));
  doc.Set("version", Value::Int(1));
  Value& meta = doc.Set("metadata", Value::Object());
  meta.Set("timestamp", Value::Str(info.created));
  Value& tools = meta.Set("tools", Value::Object());
  Value& tcomps = tools.Set("components", Value::Array());
  Value tool = Value::Object();
  tool.Set("type", Value::Str("application"));
  tool.Set("name", Value::Str(info.tool));
  tcomps.Push(std::move(tool));
  Value& comp = meta.Set("component", Value::Object());
  comp.Set("type", Value::Str("operating-system"));
  comp.Set("bom-ref", Value::Str("appliance"));
  comp.Set("name", Value::Str(info.name));
  comp.Set("version", Value::Str(info.product_version));

  Value& comps = doc.Set("components", Value::Array());
  Value deps = Value::Array();
  Value root_dep = Value::Object();
  root_dep.Set("ref", Value::Str("appliance"));
  Value depends_on = Value::Array();
  std::set<std::string> seen_refs;
  for (size_t i = 0; i < inv.packages.size(); ++i) {
    const DpkgPackage& p = inv.packages[i];
    const std::string purl = DebPurl(p);
    if (!seen_refs.insert(purl).second) continue;  // bom-ref must be unique
    Value c = Value::Object();
    c.Set("type", Value::Str("library"));
    c.Set("bom-ref", Value::Str(purl));
    Value& sup = c.Set("supplier", Value::Object());
    sup.Set("name", Value::Str("Debian"));
    c.Set("name", Value::Str(p.name));
    c.Set("version", Value::Str(p.version));
    if (!p.summary.empty()) c.Set("description", Value::Str(p.summary));
    const std::string& expr = inv.licenses[i].expression;
    if (expr != "NOASSERTION") {
      Value& lics = c.Set("licenses", Value::Array());
      Value l = Value::Object();
      l.Set("expression", Value::Str(expr));
      lics.Push(std::move(l));
    }
    c.Set("purl", Value::Str(purl));
    Value& props = c.Set("properties", Value::Array());
    props.Push(Prop("virtengine:dpkg:architecture",
                    p.architecture.empty() ? "none" : p.architecture));
    if (!p.source.empty()) props.Push(Prop("virtengine:dpkg:source", p.source));
    if (!inv.licenses[i].note.empty()) {
      props.Push(Prop("virtengine:license:note", inv.licenses[i].note));
    }
    depends_on.Push(Value::Str(purl));
    comps.Push(std::move(c));
  }
  for (const Binary& b : inv.binaries) {
    const std::string ref = absl::StrCat("virtengine-bin:", b.name);
    Value c = Value::Object();
    c.Set("type", Value::Str("application"));
    c.Set("bom-ref", Value::Str(ref));
    c.Set("name", Value::Str(b.name));
    c.Set("version", Value::Str(b.version));
    Value& hashes = c.Set("hashes", Value::Array());
    Value h = Value::Object();
    h.Set("alg", Value::Str("SHA-256"));
    h.Set("content", Value::Str(b.sha256_hex));
    hashes.Push(std::move(h));
    Value& props = c.Set("properties", Value::Array());
    props.Push(Prop("virtengine:build:commit", b.commit));
    props.Push(Prop("virtengine:build:builder", b.builder));
    props.Push(Prop("virtengine:install:path", b.path));
    depends_on.Push(Value::Str(ref));
    comps.Push(std::move(c));
  }
  root_dep.Set("dependsOn", std::move(depends_on));
  deps.Push(std::move(root_dep));
  doc.Set("dependencies", std::move(deps));
  return doc;
}

absl::StatusOr<std::vector<std::string>> ParseLicenseAllowlist(
    std::string_view text) {
  if (text.size() > size_t{64} * 1024) {
    return absl::ResourceExhaustedError("licence allowlist larger than 64 KiB");
  }
  std::vector<std::string> out;
  size_t line_no = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    if (line.empty()) continue;
    bool ok = line.size() <= 128;
    for (char c : line) {
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                  c == '.' || c == '-' || c == '+');
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "licence allowlist: line ", line_no, ": not an SPDX licence id"));
    }
    if (out.size() >= 1024) {
      return absl::ResourceExhaustedError("licence allowlist: over 1024 ids");
    }
    out.emplace_back(line);
  }
  return out;
}

LicenseAudit AuditLicenses(const Inventory& inv,
                           const std::vector<std::string>& allowlist,
                           std::string allowlist_sha256_hex) {
  LicenseAudit audit;
  audit.allowlist_sha256_hex = std::move(allowlist_sha256_hex);
  const std::set<std::string> allowed(allowlist.begin(), allowlist.end());
  for (size_t i = 0; i < inv.packages.size(); ++i) {
    ++audit.packages;
    LicenseAuditEntry e;
    e.package = inv.packages[i].name;
    e.version = inv.packages[i].version;
    e.expression = inv.licenses[i].expression;
    if (e.expression == "NOASSERTION") {
      e.no_assertion = true;
      ++audit.no_assertion;
      audit.flagged.push_back(std::move(e));
      continue;
    }
    for (const std::string& id : LicenseIds(e.expression)) {
      if (allowed.count(id) == 0) e.disallowed.push_back(id);
    }
    if (e.disallowed.empty()) {
      ++audit.allowed;
    } else {
      audit.flagged.push_back(std::move(e));
    }
  }
  return audit;
}

json::Value LicenseAuditJson(const LicenseAudit& audit) {
  Value doc = Value::Object();
  doc.Set("format", Value::Str("virtengine.license-audit.v1"));
  doc.Set("allowlist_sha256", Value::Str(audit.allowlist_sha256_hex));
  doc.Set("packages", Value::Int(static_cast<int64_t>(audit.packages)));
  doc.Set("allowed", Value::Int(static_cast<int64_t>(audit.allowed)));
  doc.Set("no_assertion", Value::Int(static_cast<int64_t>(audit.no_assertion)));
  size_t disallowed = 0;
  Value& flagged = doc.Set("flagged", Value::Array());
  for (const LicenseAuditEntry& e : audit.flagged) {
    Value f = Value::Object();
    f.Set("package", Value::Str(e.package));
    f.Set("version", Value::Str(e.version));
    f.Set("expression", Value::Str(e.expression));
    f.Set("reason", Value::Str(e.no_assertion ? "no-assertion"
                                              : "licence-not-allowlisted"));
    if (!e.disallowed.empty()) {
      ++disallowed;
      f.Set("disallowed", StrArray(e.disallowed));
    }
    flagged.Push(std::move(f));
  }
  doc.Set("disallowed", Value::Int(static_cast<int64_t>(disallowed)));
  return doc;
}

}  // namespace virtengine::compliance::sbom
