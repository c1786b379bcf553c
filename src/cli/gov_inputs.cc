#include "src/cli/gov_inputs.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "compliance/json/json.h"
#include "security/validate/encoded.h"
#include "security/validate/number.h"
#include "security/validate/utf8.h"
#include "src/cli/json.h"

namespace virtengine::cli {

namespace gv1 = ::virtengine::gov::v1;
namespace cjson = ::virtengine::compliance::json;

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kShown = 80;
constexpr uint64_t kMaxThresholdBps = 10000;
constexpr uint64_t kMaxVotingPeriod = 10'000'000;

absl::Status Bad(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", std::string(what)));
}

// `s` quoted for an error message: escaped, at most 80 bytes shown.
std::string Quoted(std::string_view s) {
  return absl::StrCat("\"", TextSafe(s.substr(0, kShown)),
                      s.size() > kShown ? "..." : "", "\"");
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The gov module's name rule: 1..64 bytes; the first an alphanumeric
// (uppercase only if `upper_ok`), the others also from `extra`.
absl::Status CheckName(std::string_view field, std::string_view text,
                       bool upper_ok, std::string_view extra,
                       std::string_view pattern) {
  if (text.empty() || text.size() > kMaxNameBytes) {
    return Bad(field, absl::StrCat("length ", text.size(), " is not 1..",
                                   kMaxNameBytes, " (want ",
                                   std::string(pattern), ")"));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = IsLower(c) || IsDigit(c) || (upper_ok && IsUpper(c));
    if (!alnum && (i == 0 || extra.find(c) == std::string_view::npos)) {
      return Bad(field, absl::StrCat(Quoted(text), " is not ",
                                     std::string(pattern), " (byte ", i, ")"));
    }
  }
  return absl::OkStatus();
}

// 64 hex digits -> 32 bytes; lowercase only when `lower_only`.
absl::StatusOr<std::string> Sha256Hex(std::string_view field,
                                      std::string_view text, bool lower_only) {
  if (text.size() != 64) {
    return Bad(field, absl::StrCat("a SHA-256 PCR value is 64 hex digits, got ",
                                   text.size(), " characters"));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = IsDigit(c) || (c >= 'a' && c <= 'f') ||
                    (!lower_only && c >= 'A' && c <= 'F');
    if (!ok) {
      return Bad(field, absl::StrCat("not ", lower_only ? "lowercase " : "",
                                     "hex at position ", i));
    }
  }
  absl::StatusOr<std::vector<uint8_t>> b =
      validate::DecodeHexExact(field, text, 32);
  if (!b.ok()) return b.status();
  return std::string(b->begin(), b->end());
}

// The string member `name` of object `obj` (at `where`, "" = top level).
absl::StatusOr<std::string> StringMember(std::string_view where,
                                         const cjson::Value& obj,
                                         std::string_view name) {
  const std::string path =
      where.empty() ? std::string(name)
                    : absl::StrCat(std::string(where), ".", std::string(name));
  const cjson::Value* v = obj.Find(name);
  if (v == nullptr) return Bad(path, "missing");
  if (!v->is_string()) {
    return Bad(path,
               absl::StrCat("is ", std::string(cjson::TypeName(v->type())),
                            ", want a string"));
  }
  return v->str();
}

}  // namespace

absl::Status ValidateMeasurementName(std::string_view field,
                                     std::string_view text) {
  return CheckName(field, text, false, "._-", "[a-z0-9][a-z0-9._-]{0,63}");
}

absl::Status ValidateMeasurementVersion(std::string_view field,
                                        std::string_view text) {
  return CheckName(field, text, true, "._+-",
                   "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
}

absl::Status ValidateProposalTitle(std::string_view field,
                                   std::string_view text) {
  if (text.empty()) return Bad(field, "empty; a proposal needs a title");
  return validate::ValidateText(field, text, kMaxTitleBytes);
}

absl::StatusOr<gv1::PcrValue> ParsePcrValue(std::string_view field,
                                            std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Bad(field, absl::StrCat(Quoted(text),
                                   " is not N=HEX (a PCR index 0..23, '=', "
                                   "64 hex digits)"));
  }
  const std::string index_field = absl::StrCat(std::string(field), " index");
  absl::StatusOr<uint64_t> pcr =
      validate::ParseUint64(index_field, text.substr(0, eq), 0, kMaxPcr);
  if (!pcr.ok()) return pcr.status();
  absl::StatusOr<std::string> value =
      Sha256Hex(absl::StrCat(std::string(field), " ", *pcr),
                text.substr(eq + 1), /*lower_only=*/false);
  if (!value.ok()) return value.status();
  gv1::PcrValue out;
  out.set_pcr(static_cast<uint32_t>(*pcr));
  out.set_sha256(*std::move(value));
  return out;
}

absl::StatusOr<gv1::Measurement> MeasurementFromFlags(
    std::string_view name_field, std::string_view name,
    std::string_view version_field, std::string_view version,
    std::string_view pcr_field, const std::vector<std::string>& pcrs) {
  if (absl::Status s = ValidateMeasurementName(name_field, name); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateMeasurementVersion(version_field, version);
      !s.ok()) {
    return s;
  }
  if (pcrs.empty()) {
    return Bad(pcr_field, "at least one N=HEX value is needed");
  }
  std::vector<gv1::PcrValue> values;
  std::set<uint32_t> seen;
  for (const std::string& p : pcrs) {
    absl::StatusOr<gv1::PcrValue> v = ParsePcrValue(pcr_field, p);
    if (!v.ok()) return v.status();
    if (!seen.insert(v->pcr()).second) {
      return Bad(pcr_field, absl::StrCat("PCR ", v->pcr(), " given twice"));
    }
    values.push_back(*std::move(v));
  }
  std::sort(values.begin(), values.end(),
            [](const gv1::PcrValue& a, const gv1::PcrValue& b) {
              return a.pcr() < b.pcr();
            });
  gv1::Measurement m;
  m.set_name(std::string(name));
  m.set_version(std::string(version));
  for (gv1::PcrValue& v : values) *m.add_values() = std::move(v);
  return m;
}

absl::StatusOr<gv1::SetParam> ParseSetParam(std::string_view field,
                                            std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Bad(field, absl::StrCat(Quoted(text), " is not KEY=VALUE"));
  }
  const std::string_view key = text.substr(0, eq);
  const std::string_view value = text.substr(eq + 1);
  const std::string vfield =
      absl::StrCat(std::string(field), " ", std::string(key));
  if (key == "threshold_bps" || key == "voting_period_blocks") {
    absl::StatusOr<uint64_t> n = validate::ParseUint64(
        vfield, value, 1,
        key == "threshold_bps" ? kMaxThresholdBps : kMaxVotingPeriod);
    if (!n.ok()) return n.status();
  } else if (key == "attestation_required") {
    if (value != "true" && value != "false") {
      return Bad(vfield, absl::StrCat(Quoted(value), " is not true or false"));
    }
  } else {
    return Bad(field, absl::StrCat("unknown parameter ", Quoted(key),
                                   " (threshold_bps, voting_period_blocks or "
                                   "attestation_required)"));
  }
  gv1::SetParam p;
  p.set_key(std::string(key));
  p.set_value(std::string(value));
  return p;
}

absl::StatusOr<gv1::Measurement> MeasurementFromManifest(std::string_view field,
                                                         std::string_view json,
                                                         bool* debug) {
  const std::string f(field);
  auto wrap = [&f](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(f, ": ", s.message()));
  };
  cjson::Limits limits;
  limits.max_bytes = kMaxManifestBytes;
  limits.max_depth = kMaxManifestDepth;
  absl::StatusOr<cjson::Value> doc = cjson::Parse(json, limits);
  if (!doc.ok()) return wrap(doc.status());
  if (!doc->is_object()) {
    return wrap(
        Bad("manifest",
            absl::StrCat("is ", std::string(cjson::TypeName(doc->type())),
                         ", want a JSON object")));
  }
  absl::StatusOr<std::string> schema = StringMember("", *doc, "schema");
  if (!schema.ok()) return wrap(schema.status());
  if (*schema != kManifestSchema) {
    return wrap(Bad(
        "schema", absl::StrCat(Quoted(*schema), " is not ", kManifestSchema)));
  }
  absl::StatusOr<std::string> name = StringMember("", *doc, "image_id");
  if (!name.ok()) return wrap(name.status());
  if (absl::Status s = ValidateMeasurementName("image_id", *name); !s.ok()) {
    return wrap(s);
  }
  absl::StatusOr<std::string> version = StringMember("", *doc, "version");
  if (!version.ok()) return wrap(version.status());
  if (absl::Status s = ValidateMeasurementVersion("version", *version);
      !s.ok()) {
    return wrap(s);
  }
  bool is_debug = false;
  if (doc->Find("variant") != nullptr) {
    absl::StatusOr<std::string> variant = StringMember("", *doc, "variant");
    if (!variant.ok()) return wrap(variant.status());
    if (*variant != "production" && *variant != "debug") {
      return wrap(Bad("variant", absl::StrCat(Quoted(*variant),
                                              " is not production or debug")));
    }
    is_debug = *variant == "debug";
  }
  if (debug != nullptr) *debug = is_debug;
  const cjson::Value* meas = doc->Find("measurements");
  if (meas == nullptr) return wrap(Bad("measurements", "missing"));
  if (!meas->is_object()) {
    return wrap(
        Bad("measurements",
            absl::StrCat("is ", std::string(cjson::TypeName(meas->type())),
                         ", want an object")));
  }
  absl::StatusOr<std::string> pcr11 =
      StringMember("measurements", *meas, "pcr11_running");
  if (!pcr11.ok()) return wrap(pcr11.status());
  absl::StatusOr<std::string> value =
      Sha256Hex("measurements.pcr11_running", *pcr11, /*lower_only=*/true);
  if (!value.ok()) return wrap(value.status());
  gv1::Measurement m;
  m.set_name(*std::move(name));
  m.set_version(*std::move(version));
  gv1::PcrValue* v = m.add_values();
  v->set_pcr(kManifestPcr);
  v->set_sha256(*std::move(value));
  return m;
}

}  // namespace virtengine::cli
