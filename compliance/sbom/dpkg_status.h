// The dpkg status database (/var/lib/dpkg/status): deb822 paragraphs
// separated by blank lines, "Field: value" lines with continuation lines
// starting with a space or tab. Only the fields an SBOM needs are kept.
//
// Limits: the whole input is at most kMaxStatusBytes, a paragraph at most
// kMaxParagraphBytes, at most kMaxPackages paragraphs. Every paragraph must
// have Package, Status and Version; names, versions and architectures are
// checked against Debian policy's character sets so that nothing hostile
// reaches a purl or an SPDX id. Errors: InvalidArgument
// "dpkg status: line N: <what>" (ResourceExhausted for a limit).
#ifndef VIRTENGINE_COMPLIANCE_SBOM_DPKG_STATUS_H_
#define VIRTENGINE_COMPLIANCE_SBOM_DPKG_STATUS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace virtengine::compliance::sbom {

inline constexpr size_t kMaxStatusBytes = 64 * 1024 * 1024;
inline constexpr size_t kMaxParagraphBytes = 1024 * 1024;
inline constexpr size_t kMaxPackages = 100000;

struct DpkgPackage {
  std::string name;            // [a-z0-9][a-z0-9+.-]+
  std::string version;         // [A-Za-z0-9.+~:-]+ (epoch:upstream-revision)
  std::string architecture;    // [a-z0-9-]+ ("all", "amd64", ...); may be ""
  std::string status;          // e.g. "install ok installed"
  std::string source;          // source package name ("" = same as name)
  std::string source_version;  // "" = same as version
  std::string maintainer;      // printable, one line
  std::string homepage;        // printable, one line
  std::string summary;         // first line of Description

  bool installed() const;  // status ends in " installed"
  bool operator==(const DpkgPackage& o) const;
};

absl::StatusOr<std::vector<DpkgPackage>> ParseDpkgStatus(std::string_view text);

// Writes packages back in the status format (the fields above only), such
// that ParseDpkgStatus(FormatDpkgStatus(p)) == p.
std::string FormatDpkgStatus(const std::vector<DpkgPackage>& packages);

// Character-set checks used by the parser (exposed for the SBOM writer).
bool IsValidPackageName(std::string_view s);
bool IsValidVersion(std::string_view s);
bool IsValidArchitecture(std::string_view s);

}  // namespace virtengine::compliance::sbom

#endif  // VIRTENGINE_COMPLIANCE_SBOM_DPKG_STATUS_H_
