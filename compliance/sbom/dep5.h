// Machine-readable Debian copyright files (DEP-5,
// https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/) and
// the mapping of their licence short names to SPDX license expressions.
//
// ParseDep5 returns NotFound-free results: a file that is not in the
// machine-readable format (no "Format:" header naming copyright-format/1.0
// or dep5) is FailedPrecondition "not machine-readable", and the SBOM then
// says NOASSERTION. Limits: at most kMaxCopyrightBytes of input, at most
// kMaxLicenses distinct licence expressions, each at most 256 bytes.
#ifndef VIRTENGINE_COMPLIANCE_SBOM_DEP5_H_
#define VIRTENGINE_COMPLIANCE_SBOM_DEP5_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace virtengine::compliance::sbom {

inline constexpr size_t kMaxCopyrightBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxLicenses = 256;

struct Dep5 {
  // The first line of every "License:" field of the header and the Files
  // paragraphs, whitespace-normalized, distinct, in order of appearance.
  std::vector<std::string> licenses;
};

absl::StatusOr<Dep5> ParseDep5(std::string_view text);

// One DEP-5 licence expression ("GPL-2+ or Artistic-1.0", "BSD-3-clause",
// "LGPL-2.1+ with OpenSSL exception") as an SPDX expression
// ("GPL-2.0-or-later OR Artistic-1.0", ...). Names without an SPDX
// equivalent become "LicenseRef-<name>" with characters outside
// [A-Za-z0-9.-] replaced by '-'; "with ... exception" becomes a
// LicenseRef for the whole term. The result always matches the SPDX
// expression grammar used by the SBOMs.
std::string ToSpdxExpression(std::string_view dep5_expression);

// The SPDX expression of a whole package: its licences joined with AND
// (each compound term in parentheses), or "NOASSERTION" when empty.
std::string PackageExpression(const std::vector<std::string>& dep5_licenses);

// The simple licence ids (and LicenseRef-s) an SPDX expression mentions.
std::vector<std::string> LicenseIds(std::string_view spdx_expression);

}  // namespace virtengine::compliance::sbom

#endif  // VIRTENGINE_COMPLIANCE_SBOM_DEP5_H_
