#include "compliance/sbom/sbom.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "compliance/json/json.h"
#include "compliance/sbom/dep5.h"
#include "compliance/sbom/dpkg_status.h"
#include "gtest/gtest.h"
#include "security/path/path.h"

namespace virtengine::compliance::sbom {
namespace {

constexpr char kStatus[] =
    "Package: libfoo1\n"
    "Status: install ok installed\n"
    "Priority: optional\n"
    "Architecture: amd64\n"
    "Multi-Arch: same\n"
    "Maintainer: Foo Team <foo@example.org>\n"
    "Source: foo (1:2.0-1)\n"
    "Version: 1:2.0-1+b1\n"
    "Depends: libc6 (>= 2.34)\n"
    "Description: the foo library\n"
    " Long description line.\n"
    " .\n"
    " More.\n"
    "Homepage: https://foo.example.org\n"
    "\n"
    "Package: oldpkg\n"
    "Status: deinstall ok config-files\n"
    "Architecture: all\n"
    "\n"
    "Package: bar-utils\n"
    "Status: install ok installed\n"
    "Architecture: all\n"
    "Version: 0.9~rc1\n"
    "Description: bar tools\n";

TEST(DpkgStatusTest, ParsesAndRoundTrips) {
  absl::StatusOr<std::vector<DpkgPackage>> p = ParseDpkgStatus(kStatus);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 2U);  // config-files-only package has no Version
  const DpkgPackage& foo = (*p)[0];
  EXPECT_EQ(foo.name, "libfoo1");
  EXPECT_EQ(foo.version, "1:2.0-1+b1");
  EXPECT_EQ(foo.architecture, "amd64");
  EXPECT_EQ(foo.source, "foo");
  EXPECT_EQ(foo.source_version, "1:2.0-1");
  EXPECT_EQ(foo.summary, "the foo library");
  EXPECT_TRUE(foo.installed());
  EXPECT_EQ(
      DebPurl(foo),
      "pkg:deb/debian/libfoo1@1%3A2.0-1%2Bb1?arch=amd64&distro=debian-12");
  absl::StatusOr<std::vector<DpkgPackage>> again =
      ParseDpkgStatus(FormatDpkgStatus(*p));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *p);
}

TEST(DpkgStatusTest, RefusesHostileInput) {
  EXPECT_FALSE(ParseDpkgStatus("Package: a\n").ok());  // too short name
  EXPECT_FALSE(ParseDpkgStatus("Package: Foo\nStatus: x\nVersion: 1\n").ok());
  EXPECT_FALSE(
      ParseDpkgStatus("Package: foo\nStatus: install ok installed\n").ok());
  EXPECT_FALSE(ParseDpkgStatus(
                   "Package: foo\nStatus: install ok installed\nVersion: 1 2\n")
                   .ok());
  EXPECT_FALSE(ParseDpkgStatus(" continuation first\n").ok());
  EXPECT_FALSE(ParseDpkgStatus("Package: foo\r\n").ok());
  absl::StatusOr<std::vector<DpkgPackage>> e = ParseDpkgStatus(
      "Package: foo\nStatus: install ok installed\n"
      "Version: 1\nArchitecture: AMD64\n");
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(absl::StartsWith(e.status().message(), "dpkg status: line 4"));
  std::string big(kMaxParagraphBytes + 10, 'x');
  EXPECT_EQ(ParseDpkgStatus(absl::StrCat("Package: foo\nX: ", big, "\n"))
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(Dep5Test, LicencesAndSpdxExpressions) {
  constexpr char kCopyright[] =
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/"
      "1.0/\n"
      "Upstream-Name: foo\n"
      "\n"
      "Files: *\n"
      "Copyright: 2020 Foo\n"
      "License: GPL-2+\n"
      " This program is free software...\n"
      "\n"
      "Files: lib/*\n"
      "Copyright: 2021 Bar\n"
      "License: LGPL-2.1+ or BSD-3-clause\n"
      "\n"
      "Files: debian/*\n"
      "License: GPL-2+\n"
      "\n"
      "License: BSD-3-clause\n"
      " Redistribution and use ...\n";
  absl::StatusOr<Dep5> d = ParseDep5(kCopyright);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->licenses.size(), 2U);  // standalone License paragraph ignored
  EXPECT_EQ(PackageExpression(d->licenses),
            "GPL-2.0-or-later AND (LGPL-2.1-or-later OR BSD-3-Clause)");
  EXPECT_EQ(ToSpdxExpression("Expat"), "MIT");
  EXPECT_EQ(ToSpdxExpression("GPL-2+ with OpenSSL exception"),
            "LicenseRef-GPL-2--with-OpenSSL");
  EXPECT_EQ(ToSpdxExpression("public-domain"), "LicenseRef-public-domain");
  EXPECT_EQ(
      LicenseIds("GPL-2.0-or-later AND (MIT OR LicenseRef-x)"),
      (std::vector<std::string>{"GPL-2.0-or-later", "MIT", "LicenseRef-x"}));
  EXPECT_EQ(ParseDep5("This is a free-form copyright file.\n").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      ParseDep5("Upstream-Name: x\n\nFiles: *\nLicense: MIT\n").status().code(),
      absl::StatusCode::kFailedPrecondition);
}

void Write(const std::string& p, const std::string& data) {
  const int fd =
      ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  ::close(fd);
}

TEST(SbomTest, InventoryDocumentsAndAudit) {
  const char* tmp = std::getenv("TEST_TMPDIR");  // NOLINT
  const std::string root =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/sysroot");
  for (const char* d :
       {"", "/var", "/var/lib", "/var/lib/dpkg", "/usr", "/usr/share",
        "/usr/share/doc", "/usr/share/doc/libfoo1"}) {
    ::mkdir((root + d).c_str(), 0755);
  }
  Write(root + "/var/lib/dpkg/status", kStatus);
  Write(root + "/usr/share/doc/libfoo1/copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/"
        "copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: x/*\n"
        "License: Beerware\n");
  absl::StatusOr<security::path::PathRoot> r =
      security::path::PathRoot::Open(root);
  ASSERT_TRUE(r.ok());
  absl::StatusOr<Inventory> inv = ReadInventory(*r);
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_EQ(inv->packages.size(), 2U);
  EXPECT_EQ(inv->packages[0].name, "bar-utils");  // sorted
  EXPECT_EQ(inv->licenses[0].expression, "NOASSERTION");
  EXPECT_FALSE(inv->licenses[0].note.empty());
  EXPECT_EQ(inv->licenses[1].expression,
            "GPL-2.0-or-later AND LicenseRef-Beerware");
  inv->binaries.push_back(Binary{"ve-node", "/usr/bin/ve-node",
                                 std::string(64, 'a'), "0.1.0", "abc123",
                                 "bazel"});
  DocumentInfo info{"appliance", "2026-12-03T12:00:00Z",
                    "01234567-89ab-4cde-8f01-23456789abcd", "ve-evidence",
                    "0.1.0"};
  const std::string spdx = json::Pretty(BuildSpdx(*inv, info));
  EXPECT_TRUE(absl::StrContains(spdx, "\"filesAnalyzed\": false"));
  EXPECT_TRUE(absl::StrContains(
      spdx, "pkg:deb/debian/bar-utils@0.9~rc1?arch=all&distro=debian-12"));
  EXPECT_TRUE(
      absl::StrContains(spdx, "\"licenseId\": \"LicenseRef-Beerware\""));
  EXPECT_TRUE(absl::StrContains(spdx, "built from commit abc123 by bazel"));
  const std::string cdx = json::Pretty(BuildCycloneDx(*inv, info));
  EXPECT_TRUE(absl::StrContains(
      cdx, "\"expression\": \"GPL-2.0-or-later AND LicenseRef-Beerware\""));
  EXPECT_TRUE(absl::StrContains(cdx, "\"alg\": \"SHA-256\""));

  absl::StatusOr<std::vector<std::string>> allow =
      ParseLicenseAllowlist("# ok\nGPL-2.0-or-later\n MIT \n");
  ASSERT_TRUE(allow.ok());
  LicenseAudit audit = AuditLicenses(*inv, *allow, "sha");
  EXPECT_EQ(audit.packages, 2U);
  EXPECT_EQ(audit.allowed, 0U);
  EXPECT_EQ(audit.no_assertion, 1U);
  ASSERT_EQ(audit.flagged.size(), 2U);
  EXPECT_EQ(audit.flagged[1].disallowed,
            std::vector<std::string>{"LicenseRef-Beerware"});
  EXPECT_FALSE(ParseLicenseAllowlist("GPL 2\n").ok());
}

}  // namespace
}  // namespace virtengine::compliance::sbom
