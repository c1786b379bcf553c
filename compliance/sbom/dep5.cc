#include "compliance/sbom/dep5.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace virtengine::compliance::sbom {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// DEP-5 short names (lower-cased) -> SPDX ids.
const std::map<std::string, std::string>& Known() {
  static const auto* m = new std::map<std::string, std::string>{
      {"apache-2.0", "Apache-2.0"},
      {"apache-2", "Apache-2.0"},
      {"fsfullr", "FSFULLR"},
      {"fsfap", "FSFAP"},
      {"fsful", "FSFUL"},
      {"bsd-1-clause", "BSD-1-Clause"},
      {"afl-2.1", "AFL-2.1"},
      {"cddl-1", "CDDL-1.0"},
      {"cddl-1.0", "CDDL-1.0"},
      {"unicode", "Unicode-DFS-2016"},
      {"artistic", "Artistic-1.0-Perl"},
      {"artistic-1.0", "Artistic-1.0"},
      {"artistic-2.0", "Artistic-2.0"},
      {"bsd-2-clause", "BSD-2-Clause"},
      {"bsd-3-clause", "BSD-3-Clause"},
      {"bsd-4-clause", "BSD-4-Clause"},
      {"bsl-1.0", "BSL-1.0"},
      {"cc0-1.0", "CC0-1.0"},
      {"cc0", "CC0-1.0"},
      {"cc-by-3.0", "CC-BY-3.0"},
      {"cc-by-4.0", "CC-BY-4.0"},
      {"cc-by-sa-3.0", "CC-BY-SA-3.0"},
      {"cc-by-sa-4.0", "CC-BY-SA-4.0"},
      {"expat", "MIT"},
      {"mit", "MIT"},
      {"x11", "X11"},
      {"isc", "ISC"},
      {"zlib", "Zlib"},
      {"mpl-1.1", "MPL-1.1"},
      {"mpl-2.0", "MPL-2.0"},
      {"openssl", "OpenSSL"},
      {"python", "Python-2.0"},
      {"psf-2", "PSF-2.0"},
      {"unicode-dfs-2016", "Unicode-DFS-2016"},
      {"curl", "curl"},
      {"ftl", "FTL"},
      {"ofl-1.1", "OFL-1.1"},
      {"wtfpl", "WTFPL"},
      {"0bsd", "0BSD"},
      {"gpl-1", "GPL-1.0-only"},
      {"gpl-1+", "GPL-1.0-or-later"},
      {"gpl-2", "GPL-2.0-only"},
      {"gpl-2+", "GPL-2.0-or-later"},
      {"gpl-2.0", "GPL-2.0-only"},
      {"gpl-2.0+", "GPL-2.0-or-later"},
      {"gpl-3", "GPL-3.0-only"},
      {"gpl-3+", "GPL-3.0-or-later"},
      {"gpl-3.0", "GPL-3.0-only"},
      {"gpl-3.0+", "GPL-3.0-or-later"},
      {"lgpl-2", "LGPL-2.0-only"},
      {"lgpl-2+", "LGPL-2.0-or-later"},
      {"lgpl-2.0", "LGPL-2.0-only"},
      {"lgpl-2.0+", "LGPL-2.0-or-later"},
      {"lgpl-2.1", "LGPL-2.1-only"},
      {"lgpl-2.1+", "LGPL-2.1-or-later"},
      {"lgpl-3", "LGPL-3.0-only"},
      {"lgpl-3+", "LGPL-3.0-or-later"},
      {"lgpl-3.0", "LGPL-3.0-only"},
      {"lgpl-3.0+", "LGPL-3.0-or-later"},
      {"agpl-3", "AGPL-3.0-only"},
      {"agpl-3+", "AGPL-3.0-or-later"},
      {"gfdl-1.2", "GFDL-1.2-only"},
      {"gfdl-1.2+", "GFDL-1.2-or-later"},
      {"gfdl-1.3", "GFDL-1.3-only"},
      {"gfdl-1.3+", "GFDL-1.3-or-later"},
      {"epl-1.0", "EPL-1.0"},
      {"epl-2.0", "EPL-2.0"},
  };
  return *m;
}

std::string LicenseRef(std::string_view name) {
  std::string out = "LicenseRef-";
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                    c == '.' || c == '-';
    out.push_back(ok ? c : '-');
  }
  if (out.size() > 96) out.resize(96);
  return out;
}

std::string MapTerm(std::string_view term) {
  const std::string lower = absl::AsciiStrToLower(std::string(term));
  const auto it = Known().find(lower);
  if (it != Known().end()) return it->second;
  return LicenseRef(term);
}

}  // namespace

absl::StatusOr<Dep5> ParseDep5(std::string_view text) {
  if (text.size() > kMaxCopyrightBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("copyright file: ", text.size(),
                     " bytes, more than the limit of ", kMaxCopyrightBytes));
  }
  Dep5 out;
  bool first_para = true;
  bool saw_format = false;
  bool para_has_files = false;
  bool para_is_header = true;
  std::string para_license;  // License: first line of this paragraph
  const auto end_para = [&]() -> absl::Status {
    if (first_para) {
      if (!saw_format) {
        return absl::FailedPreconditionError(
            "copyright file is not machine-readable (no DEP-5 Format "
            "header)");
      }
      first_para = false;
    }
    if ((para_is_header || para_has_files) && !para_license.empty()) {
      if (std::find(out.licenses.begin(), out.licenses.end(), para_license) ==
          out.licenses.end()) {
        if (out.licenses.size() >= kMaxLicenses) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "copyright file: more than ", kMaxLicenses, " licences"));
        }
        out.licenses.push_back(para_license);
      }
    }
    para_license.clear();
    para_has_files = false;
    para_is_header = false;
    return absl::OkStatus();
  };
  bool in_para = false;
  size_t line_no = 0;
  for (absl::string_view aline :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    std::string_view line(aline.data(), aline.size());
    ++line_no;
    if (Trim(line).empty()) {
      if (in_para) {
        if (absl::Status st = end_para(); !st.ok()) return st;
        in_para = false;
      }
      continue;
    }
    in_para = true;
    if (line[0] == ' ' || line[0] == '\t' || line[0] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (first_para) {
        return absl::FailedPreconditionError(
            "copyright file is not machine-readable (first paragraph is not "
            "deb822)");
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "copyright file: line ", line_no, ": expected 'Field: value'"));
    }
    const std::string field =
        absl::AsciiStrToLower(std::string(line.substr(0, colon)));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (first_para && field == "format") {
      saw_format =
          value.find("copyright-format/1.0") != std::string_view::npos ||
          value.find("dep5") != std::string_view::npos ||
          value.find("dep/5") != std::string_view::npos;
    } else if (field == "files") {
      para_has_files = true;
    } else if (field == "license") {
      // Normalize internal whitespace.
      std::vector<absl::string_view> words =
          absl::StrSplit(absl::string_view(value.data(), value.size()),
                         absl::ByAnyChar(" \t"), absl::SkipEmpty());
      std::string joined = absl::StrJoin(words, " ");
      if (joined.size() > 256) {
        return absl::InvalidArgumentError(absl::StrCat(
            "copyright file: line ", line_no, ": licence name too long"));
      }
      para_license = std::move(joined);
    }
  }
  if (in_para) {
    if (absl::Status st = end_para(); !st.ok()) return st;
  }
  if (first_para) {
    return absl::FailedPreconditionError(
        "copyright file is not machine-readable (empty)");
  }
  return out;
}

std::string ToSpdxExpression(std::string_view dep5_expression) {
  // Tokens: licence names, "or"/"and" (and "|" / ","), "with X exception".
  std::vector<absl::string_view> words = absl::StrSplit(
      absl::string_view(dep5_expression.data(), dep5_expression.size()),
      absl::ByAnyChar(" \t,"), absl::SkipEmpty());
  std::vector<std::string> terms;
  std::vector<std::string> ops;
  std::string current;
  bool in_with = false;
  std::string with_text;
  const auto flush = [&]() {
    if (current.empty()) return;
    if (!with_text.empty()) {
      terms.push_back(LicenseRef(absl::StrCat(current, "-with-", with_text)));
    } else {
      terms.push_back(MapTerm(current));
    }
    current.clear();
    with_text.clear();
    in_with = false;
  };
  for (absl::string_view w : words) {
    const std::string lw = absl::AsciiStrToLower(std::string(w));
    if (lw == "or" || lw == "and" || lw == "|") {
      flush();
      if (!terms.empty() && ops.size() + 1 == terms.size()) {
        ops.push_back(lw == "and" ? "AND" : "OR");
      }
      continue;
    }
    if (lw == "with" && !current.empty()) {
      in_with = true;
      continue;
    }
    if (in_with) {
      if (lw == "exception") continue;
      with_text += with_text.empty() ? std::string(w) : absl::StrCat("-", w);
      continue;
    }
    if (!current.empty()) {
      // Two names without an operator: one name with a space.
      current = absl::StrCat(current, "-", w);
    } else {
      current = std::string(w);
    }
  }
  flush();
  if (terms.empty()) return "NOASSERTION";
  std::string out = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    const std::string& op = i - 1 < ops.size() ? ops[i - 1] : "AND";
    absl::StrAppend(&out, " ", op, " ", terms[i]);
  }
  return out;
}

std::string PackageExpression(const std::vector<std::string>& dep5_licenses) {
  std::vector<std::string> parts;
  for (const std::string& l : dep5_licenses) {
    std::string e = ToSpdxExpression(l);
    if (e == "NOASSERTION") continue;
    if (e.find(' ') != std::string::npos) e = absl::StrCat("(", e, ")");
    if (std::find(parts.begin(), parts.end(), e) == parts.end()) {
      parts.push_back(std::move(e));
    }
  }
  if (parts.empty()) return "NOASSERTION";
  if (parts.size() == 1 && parts[0].front() == '(') {
    return parts[0].substr(1, parts[0].size() - 2);
  }
  return absl::StrJoin(parts, " AND ");
}

std::vector<std::string> LicenseIds(std::string_view spdx_expression) {
  std::vector<std::string> out;
  for (absl::string_view w : absl::StrSplit(
           absl::string_view(spdx_expression.data(), spdx_expression.size()),
           absl::ByAnyChar(" ()"), absl::SkipEmpty())) {
    if (w == "AND" || w == "OR" || w == "WITH" || w == "NOASSERTION") continue;
    std::string id(w);
    if (std::find(out.begin(), out.end(), id) == out.end()) {
      out.push_back(std::move(id));
    }
  }
  return out;
}

}  // namespace virtengine::compliance::sbom
