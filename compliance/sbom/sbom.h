// SBOMs of the running system, or of an image's root file system: SPDX 2.3
// and CycloneDX 1.6 JSON from the dpkg status database, licences from
// machine-readable copyright files, plus the project's own binaries with
// SHA-256 and build provenance; and the licence audit against an allowlist.
//
// Files are read beneath a root through security/path (the system root "/"
// on a node, an unpacked image in tests). A copyright file that is absent,
// a symlink (refused by the path validator), too large or not DEP-5 gives
// NOASSERTION for that package, with the reason kept in PackageLicense.
#ifndef VIRTENGINE_COMPLIANCE_SBOM_SBOM_H_
#define VIRTENGINE_COMPLIANCE_SBOM_SBOM_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "compliance/json/json.h"
#include "compliance/sbom/dpkg_status.h"
#include "security/path/path.h"

namespace virtengine::compliance::sbom {

struct PackageLicense {
  std::string expression;  // SPDX expression or "NOASSERTION"
  std::string source;      // "usr/share/doc/<pkg>/copyright" or ""
  std::string note;        // why NOASSERTION, when it is
};

// One of the project's own binaries.
struct Binary {
  std::string name;        // "ve-node"
  std::string path;        // where it was read (absolute, for people)
  std::string sha256_hex;  // of the file's bytes
  std::string version;     // product version
  std::string commit;      // source commit it was built from
  std::string builder;     // who/what built it ("bazel 4.2.3 on host x")
};

struct Inventory {
  std::vector<DpkgPackage> packages;     // installed ones, sorted by name/arch
  std::vector<PackageLicense> licenses;  // same order as packages
  std::vector<Binary> binaries;
};

// Reads var/lib/dpkg/status and usr/share/doc/<pkg>/copyright beneath
// `root`. Only installed packages are kept.
absl::StatusOr<Inventory> ReadInventory(const security::path::PathRoot& root);

struct DocumentInfo {
  std::string name;           // "virtengine-appliance"
  std::string created;        // RFC 3339 UTC, "2026-12-03T12:00:00Z"
  std::string document_uuid;  // UUID for namespace / serial number
  std::string tool;           // "ve-evidence-0.1.0"
  std::string product_version;
};

// purl "pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12"
// (name and version percent-encoded).
std::string DebPurl(const DpkgPackage& p);

json::Value BuildSpdx(const Inventory& inv, const DocumentInfo& info);
json::Value BuildCycloneDx(const Inventory& inv, const DocumentInfo& info);

// An allowlist file: one SPDX licence id per line, '#' comments, blank lines
// ignored; at most 64 KiB and 1024 ids; ids [A-Za-z0-9.+-]+ or LicenseRef-*.
absl::StatusOr<std::vector<std::string>> ParseLicenseAllowlist(
    std::string_view text);

struct LicenseAuditEntry {
  std::string package;
  std::string version;
  std::string expression;
  std::vector<std::string> disallowed;  // ids not in the allowlist
  bool no_assertion = false;            // licence unknown
};

struct LicenseAudit {
  std::string allowlist_sha256_hex;
  size_t packages = 0;
  size_t allowed = 0;  // every id of the expression allowlisted
  size_t no_assertion = 0;
  std::vector<LicenseAuditEntry> flagged;  // disallowed or no assertion
};

LicenseAudit AuditLicenses(const Inventory& inv,
                           const std::vector<std::string>& allowlist,
                           std::string allowlist_sha256_hex);
json::Value LicenseAuditJson(const LicenseAudit& audit);

}  // namespace virtengine::compliance::sbom

#endif  // VIRTENGINE_COMPLIANCE_SBOM_SBOM_H_
