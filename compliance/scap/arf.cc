#include "compliance/scap/arf.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace virtengine::compliance::scap {
namespace {

constexpr char kXccdfNs[] = "http://checklists.nist.gov/xccdf/1.2";

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct XmlFree {
  void operator()(xmlChar* s) const { xmlFree(s); }
};

bool IsXccdf(const xmlNode* n, const char* local) {
  return n->type == XML_ELEMENT_NODE && n->ns != nullptr &&
         n->ns->href != nullptr &&
         xmlStrEqual(n->ns->href, reinterpret_cast<const xmlChar*>(kXccdfNs)) &&
         xmlStrEqual(n->name, reinterpret_cast<const xmlChar*>(local));
}

// Collapses runs of XML whitespace to one space, trims, and cuts to
// kMaxTextBytes at a UTF-8 character boundary.
std::string Clean(const xmlChar* raw) {
  std::string out;
  if (raw == nullptr) return out;
  bool space = false;
  for (const xmlChar* p = raw; *p != 0; ++p) {
    const char c = static_cast<char>(*p);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
    if (out.size() > kMaxTextBytes + 8) break;
  }
  if (out.size() > kMaxTextBytes) {
    size_t cut = kMaxTextBytes;
    while (cut > 0 && (static_cast<uint8_t>(out[cut]) & 0xC0U) == 0x80U) --cut;
    out.resize(cut);
    while (!out.empty() && out.back() == ' ') out.pop_back();
  }
  return out;
}

std::string Attr(const xmlNode* n, const char* name) {
  std::unique_ptr<xmlChar, XmlFree> v(
      xmlGetProp(n, reinterpret_cast<const xmlChar*>(name)));
  return Clean(v.get());
}

std::string Text(const xmlNode* n) {
  std::unique_ptr<xmlChar, XmlFree> v(xmlNodeGetContent(n));
  return Clean(v.get());
}

struct RuleDef {
  std::string title;
  std::vector<RuleReference> references;
};

struct Walker {
  std::map<std::string, RuleDef> rules;
  std::vector<const xmlNode*> test_results;
  absl::Status status;

  void Walk(const xmlNode* n) {
    for (; n != nullptr && status.ok(); n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      if (IsXccdf(n, "Rule")) {
        AddRule(n);
        continue;  // Rules do not nest
      }
      if (IsXccdf(n, "TestResult")) {
        test_results.push_back(n);
        continue;
      }
      Walk(n->children);
    }
  }

  void AddRule(const xmlNode* n) {
    const std::string id = Attr(n, "id");
    if (id.empty()) {
      status = absl::InvalidArgumentError("arf: Rule without id");
      return;
    }
    if (rules.count(id) != 0) return;  // first definition wins
    if (rules.size() >= kMaxRules) {
      status = absl::ResourceExhaustedError(
          absl::StrCat("arf: more than ", kMaxRules, " Rule definitions"));
      return;
    }
    RuleDef def;
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (IsXccdf(c, "title") && def.title.empty()) {
        def.title = Text(c);
      } else if (IsXccdf(c, "reference")) {
        if (def.references.size() >= kMaxReferences) {
          status = absl::ResourceExhaustedError(
              absl::StrCat("arf: Rule ", id, " has more than ", kMaxReferences,
                           " references"));
          return;
        }
        def.references.push_back(RuleReference{Attr(c, "href"), Text(c)});
      }
    }
    rules.emplace(id, std::move(def));
  }
};

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

void AppendEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      default:
        out->push_back(c);
    }
  }
}

}  // namespace

bool IsKnownResult(std::string_view r) {
  return r == "pass" || r == "fail" || r == "error" || r == "unknown" ||
         r == "notapplicable" || r == "notchecked" || r == "notselected" ||
         r == "informational" || r == "fixed";
}

bool IsPassing(std::string_view r) {
  return r == "pass" || r == "fixed" || r == "notapplicable";
}

absl::StatusOr<ArfReport> ParseArf(std::string_view xml) {
  if (xml.size() > kMaxArfBytes || xml.size() > static_cast<size_t>(INT_MAX)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "arf: ", xml.size(), " bytes, more than the limit of ", kMaxArfBytes));
  }
  InitOnce();
  std::unique_ptr<xmlDoc, DocFree> doc(xmlReadMemory(
      xml.data(), static_cast<int>(xml.size()), "arf.xml", nullptr,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (doc == nullptr) {
    const xmlError* err = xmlGetLastError();
    std::string why =
        err != nullptr && err->message != nullptr
            ? Clean(reinterpret_cast<const xmlChar*>(err->message))
            : "not well-formed";
    if (err != nullptr) {
      why = absl::StrCat("line ", err->line, ": ", why);
    }
    xmlResetLastError();
    return absl::InvalidArgumentError(absl::StrCat("arf: ", why));
  }
  Walker w;
  w.Walk(xmlDocGetRootElement(doc.get()));
  if (!w.status.ok()) return w.status;
  if (w.test_results.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("arf: expected exactly one XCCDF 1.2 TestResult, found ",
                     w.test_results.size()));
  }
  const xmlNode* tr = w.test_results[0];
  ArfReport report;
  report.test_result_id = Attr(tr, "id");
  report.start_time = Attr(tr, "start-time");
  report.end_time = Attr(tr, "end-time");
  report.test_system = Attr(tr, "test-system");
  for (const xmlNode* c = tr->children; c != nullptr; c = c->next) {
    if (IsXccdf(c, "profile") && report.profile_id.empty()) {
      report.profile_id = Attr(c, "idref");
      continue;
    }
    if (!IsXccdf(c, "rule-result")) continue;
    RuleResult r;
    r.rule_id = Attr(c, "idref");
    if (r.rule_id.empty()) {
      return absl::InvalidArgumentError("arf: rule-result without idref");
    }
    r.time = Attr(c, "time");
    r.severity = Attr(c, "severity");
    bool have_result = false;
    for (const xmlNode* e = c->children; e != nullptr; e = e->next) {
      if (IsXccdf(e, "result")) {
        r.result = Text(e);
        have_result = true;
        break;
      }
    }
    if (!have_result || !IsKnownResult(r.result)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "arf: rule-result for ", r.rule_id, " has no valid result element"));
    }
    if (r.result == "notselected") continue;
    if (report.results.size() >= kMaxResults) {
      return absl::ResourceExhaustedError(
          absl::StrCat("arf: more than ", kMaxResults, " rule results"));
    }
    const auto it = w.rules.find(r.rule_id);
    if (it != w.rules.end()) {
      r.title = it->second.title;
      r.references = it->second.references;
    }
    report.results.push_back(std::move(r));
  }
  return report;
}

std::string WriteXccdf(const ArfReport& report) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Benchmark xmlns=\"http://checklists.nist.gov/xccdf/1.2\" "
      "id=\"xccdf_org.virtengine_benchmark_results\">\n";
  std::set<std::string> written;
  for (const RuleResult& r : report.results) {
    if (!written.insert(r.rule_id).second) continue;
    out.append("<Rule id=\"");
    AppendEscaped(&out, r.rule_id);
    out.append("\">");
    if (!r.title.empty()) {
      out.append("<title>");
      AppendEscaped(&out, r.title);
      out.append("</title>");
    }
    for (const RuleReference& ref : r.references) {
      out.append("<reference href=\"");
      AppendEscaped(&out, ref.href);
      out.append("\">");
      AppendEscaped(&out, ref.id);
      out.append("</reference>");
    }
    out.append("</Rule>\n");
  }
  out.append("<TestResult id=\"");
  AppendEscaped(&out, report.test_result_id);
  out.append("\" start-time=\"");
  AppendEscaped(&out, report.start_time);
  out.append("\" end-time=\"");
  AppendEscaped(&out, report.end_time);
  out.append("\" test-system=\"");
  AppendEscaped(&out, report.test_system);
  out.append("\">\n");
  if (!report.profile_id.empty()) {
    out.append("<profile idref=\"");
    AppendEscaped(&out, report.profile_id);
    out.append("\"/>\n");
  }
  for (const RuleResult& r : report.results) {
    out.append("<rule-result idref=\"");
    AppendEscaped(&out, r.rule_id);
    out.append("\" time=\"");
    AppendEscaped(&out, r.time);
    out.append("\" severity=\"");
    AppendEscaped(&out, r.severity);
    out.append("\"><result>");
    AppendEscaped(&out, r.result);
    out.append("</result></rule-result>\n");
  }
  out.append("</TestResult>\n</Benchmark>\n");
  return out;
}

absl::StatusOr<std::vector<ReferenceMapping>> ParseReferenceMappings(
    const json::Value& doc) {
  const json::Value* list = doc.Find("mappings");
  if (list == nullptr || !list->is_array()) {
    return absl::InvalidArgumentError(
        "scap reference mappings: no \"mappings\" array");
  }
  std::vector<ReferenceMapping> out;
  for (const json::Value& m : list->items()) {
    const std::string* href = m.FindString("href_contains");
    const std::string* prefix = m.FindString("id_prefix");
    const json::Value* controls = m.Find("controls");
    if (href == nullptr || prefix == nullptr || controls == nullptr ||
        !controls->is_array() || href->empty()) {
      return absl::InvalidArgumentError(
          "scap reference mappings: each mapping needs href_contains, "
          "id_prefix and controls");
    }
    ReferenceMapping rm{*href, *prefix, {}};
    for (const json::Value& c : controls->items()) {
      if (!c.is_string() || c.str().empty()) {
        return absl::InvalidArgumentError(
            "scap reference mappings: controls must be strings");
      }
      rm.controls.push_back(c.str());
    }
    out.push_back(std::move(rm));
  }
  return out;
}

std::vector<std::string> ControlsForRule(
    const RuleResult& rule, const std::vector<ReferenceMapping>& mappings) {
  std::set<std::string> out;
  for (const RuleReference& ref : rule.references) {
    for (const ReferenceMapping& m : mappings) {
      if (ref.href.find(m.href_contains) == std::string::npos) continue;
      if (ref.id.compare(0, m.id_prefix.size(), m.id_prefix) != 0) continue;
      out.insert(m.controls.begin(), m.controls.end());
    }
  }
  return std::vector<std::string>(out.begin(), out.end());
}

}  // namespace virtengine::compliance::scap
