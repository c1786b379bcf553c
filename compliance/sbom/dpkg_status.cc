#include "compliance/sbom/dpkg_status.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace virtengine::compliance::sbom {
namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// One printable line (no control characters, no DEL); UTF-8 bytes >= 0x80
// are accepted as they are.
bool IsOneLine(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

absl::Status LineError(size_t line, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("dpkg status: line ", line, ": ", std::string(what)));
}

struct Para {
  size_t first_line = 0;
  DpkgPackage pkg;
  bool has_package = false;
  bool has_status = false;
  bool has_version = false;
};

absl::Status Finish(const Para& p, std::vector<DpkgPackage>* out) {
  if (!p.has_package)
    return LineError(p.first_line, "paragraph has no Package");
  if (!p.has_status) {
    return LineError(p.first_line,
                     absl::StrCat("package '", p.pkg.name, "' has no Status"));
  }
  if (!p.has_version) {
    // Packages that were removed but keep configuration files have no
    // Version; they are not part of the running system.
    if (p.pkg.installed()) {
      return LineError(p.first_line, absl::StrCat("package '", p.pkg.name,
                                                  "' has no Version"));
    }
    return absl::OkStatus();
  }
  if (out->size() >= kMaxPackages) {
    return absl::ResourceExhaustedError(
        absl::StrCat("dpkg status: more than ", kMaxPackages, " packages"));
  }
  out->push_back(p.pkg);
  return absl::OkStatus();
}

absl::Status SetField(Para* p, std::string_view name, std::string_view value,
                      size_t line) {
  DpkgPackage& pkg = p->pkg;
  if (name == "Package") {
    if (p->has_package) return LineError(line, "duplicate Package field");
    if (!IsValidPackageName(value)) {
      return LineError(line, "invalid package name");
    }
    pkg.name = std::string(value);
    p->has_package = true;
  } else if (name == "Status") {
    if (!IsOneLine(value) || value.size() > 64) {
      return LineError(line, "invalid Status");
    }
    pkg.status = std::string(value);
    p->has_status = true;
  } else if (name == "Version") {
    if (!IsValidVersion(value)) return LineError(line, "invalid Version");
    pkg.version = std::string(value);
    p->has_version = true;
  } else if (name == "Architecture") {
    if (!IsValidArchitecture(value)) {
      return LineError(line, "invalid Architecture");
    }
    pkg.architecture = std::string(value);
  } else if (name == "Source") {
    // "name" or "name (version)".
    std::string_view src = value;
    std::string_view ver;
    const size_t sp = src.find(' ');
    if (sp != std::string_view::npos) {
      ver = Trim(src.substr(sp + 1));
      src = src.substr(0, sp);
      if (ver.size() < 3 || ver.front() != '(' || ver.back() != ')') {
        return LineError(line, "invalid Source version");
      }
      ver = ver.substr(1, ver.size() - 2);
      if (!IsValidVersion(ver))
        return LineError(line, "invalid Source version");
    }
    if (!IsValidPackageName(src)) return LineError(line, "invalid Source name");
    pkg.source = std::string(src);
    pkg.source_version = std::string(ver);
  } else if (name == "Maintainer" || name == "Homepage") {
    if (!IsOneLine(value) || value.size() > 1024) {
      return LineError(line, absl::StrCat("invalid ", std::string(name)));
    }
    (name == "Maintainer" ? pkg.maintainer : pkg.homepage) = std::string(value);
  } else if (name == "Description") {
    if (!IsOneLine(value) || value.size() > 1024) {
      return LineError(line, "invalid Description summary");
    }
    pkg.summary = std::string(value);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidPackageName(std::string_view s) {
  if (s.size() < 2 || s.size() > 128 || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '+' && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsValidVersion(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  if (s[0] < '0' || s[0] > '9') {
    // Debian policy: the upstream version (after any epoch) starts with a
    // digit; the epoch is digits. Accept a leading digit only.
    return false;
  }
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '+' ||
                    c == '~' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidArchitecture(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool DpkgPackage::installed() const {
  constexpr std::string_view kSuffix = " installed";
  return status.size() >= kSuffix.size() &&
         std::string_view(status).substr(status.size() - kSuffix.size()) ==
             kSuffix;
}

bool DpkgPackage::operator==(const DpkgPackage& o) const {
  return name == o.name && version == o.version &&
         architecture == o.architecture && status == o.status &&
         source == o.source && source_version == o.source_version &&
         maintainer == o.maintainer && homepage == o.homepage &&
         summary == o.summary;
}

absl::StatusOr<std::vector<DpkgPackage>> ParseDpkgStatus(
    std::string_view text) {
  if (text.size() > kMaxStatusBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("dpkg status: ", text.size(),
                     " bytes, more than the limit of ", kMaxStatusBytes));
  }
  std::vector<DpkgPackage> out;
  Para para;
  bool in_para = false;
  size_t para_bytes = 0;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      return LineError(line_no, "carriage return not allowed");
    }
    if (Trim(line).empty()) {
      if (in_para) {
        if (absl::Status st = Finish(para, &out); !st.ok()) return st;
        para = Para();
        in_para = false;
        para_bytes = 0;
      }
      continue;
    }
    para_bytes += line.size() + 1;
    if (para_bytes > kMaxParagraphBytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "dpkg status: line ", line_no, ": paragraph longer than ",
          kMaxParagraphBytes, " bytes"));
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!in_para)
        return LineError(line_no, "continuation line outside a field");
      continue;  // continuation of a multi-line field: not kept
    }
    if (line[0] == '#') {
      return LineError(line_no, "comment lines are not allowed");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return LineError(line_no, "expected 'Field: value'");
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f)
        return LineError(line_no, "invalid field name");
    }
    if (!in_para) {
      in_para = true;
      para.first_line = line_no;
    }
    if (absl::Status st =
            SetField(&para, name, Trim(line.substr(colon + 1)), line_no);
        !st.ok()) {
      return st;
    }
  }
  if (in_para) {
    if (absl::Status st = Finish(para, &out); !st.ok()) return st;
  }
  return out;
}

std::string FormatDpkgStatus(const std::vector<DpkgPackage>& packages) {
  std::string out;
  for (const DpkgPackage& p : packages) {
    absl::StrAppend(&out, "Package: ", p.name, "\n");
    absl::StrAppend(&out, "Status: ", p.status, "\n");
    if (!p.architecture.empty()) {
      absl::StrAppend(&out, "Architecture: ", p.architecture, "\n");
    }
    if (!p.maintainer.empty()) {
      absl::StrAppend(&out, "Maintainer: ", p.maintainer, "\n");
    }
    if (!p.source.empty()) {
      absl::StrAppend(&out, "Source: ", p.source);
      if (!p.source_version.empty()) {
        absl::StrAppend(&out, " (", p.source_version, ")");
      }
      out.push_back('\n');
    }
    absl::StrAppend(&out, "Version: ", p.version, "\n");
    if (!p.homepage.empty()) {
      absl::StrAppend(&out, "Homepage: ", p.homepage, "\n");
    }
    if (!p.summary.empty()) {
      absl::StrAppend(&out, "Description: ", p.summary, "\n");
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace virtengine::compliance::sbom
