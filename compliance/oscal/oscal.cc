#include "compliance/oscal/oscal.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compliance/common/common.h"

namespace virtengine::compliance::oscal {
namespace {

using json::Value;

constexpr char kOscalVersion[] = "1.2.1";

Value S(std::string s) { return Value::Str(std::move(s)); }

Value Prop(std::string name, std::string value, bool own_ns = true) {
  Value p = Value::Object();
  p.Set("name", S(std::move(name)));
  if (own_ns) p.Set("ns", S(kNs));
  p.Set("value", S(std::move(value)));
  return p;
}

absl::Status CollectControls(const Value& node, std::string_view file,
                             size_t depth, std::vector<Control>* out) {
  if (depth > 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(file), ": groups nested too deeply"));
  }
  if (const Value* groups = node.Find("groups"); groups != nullptr) {
    if (!groups->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(file), ": groups is not an array"));
    }
    for (const Value& g : groups->items()) {
      if (absl::Status st = CollectControls(g, file, depth + 1, out);
          !st.ok()) {
        return st;
      }
    }
  }
  if (const Value* controls = node.Find("controls"); controls != nullptr) {
    if (!controls->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(file), ": controls is not an array"));
    }
    for (const Value& c : controls->items()) {
      const std::string* id = c.FindString("id");
      const std::string* title = c.FindString("title");
      if (id == nullptr || title == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(std::string(file), ": a control without id or title"));
      }
      Control ctl{*id, *id, *title, std::string(file)};
      if (const Value* props = c.Find("props"); props != nullptr) {
        for (const Value& p : props->items()) {
          const std::string* n = p.FindString("name");
          const std::string* v = p.FindString("value");
          if (n != nullptr && v != nullptr && *n == "label") ctl.label = *v;
        }
      }
      out->push_back(std::move(ctl));
      if (absl::Status st = CollectControls(c, file, depth + 1, out);
          !st.ok()) {
        return st;
      }
    }
  }
  return absl::OkStatus();
}

Value Metadata(const DocumentContext& ctx, std::string title) {
  Value m = Value::Object();
  m.Set("title", S(std::move(title)));
  m.Set("published", S(ctx.published));
  m.Set("last-modified", S(ctx.finished));
  m.Set("version", S(ctx.version));
  m.Set("oscal-version", S(kOscalVersion));
  Value& props = m.Set("props", Value::Array());
  props.Push(Prop("system", ctx.system_name));
  return m;
}

Value ReviewedControls(const std::vector<Control>& controls) {
  Value rc = Value::Object();
  rc.Set("description",
         S("Every control of the VirtEngine SOC 2 and GDPR catalogs."));
  Value sels = Value::Array();
  Value sel = Value::Object();
  Value inc = Value::Array();
  for (const Control& c : controls) {
    Value one = Value::Object();
    one.Set("control-id", S(c.id));
    inc.Push(std::move(one));
  }
  sel.Set("include-controls", std::move(inc));
  sels.Push(std::move(sel));
  rc.Set("control-selections", std::move(sels));
  return rc;
}

Value ControlSelection(const std::vector<std::string>& ids) {
  Value rc = Value::Object();
  Value sels = Value::Array();
  Value sel = Value::Object();
  Value inc = Value::Array();
  for (const std::string& id : ids) {
    Value one = Value::Object();
    one.Set("control-id", S(id));
    inc.Push(std::move(one));
  }
  sel.Set("include-controls", std::move(inc));
  sels.Push(std::move(sel));
  rc.Set("control-selections", std::move(sels));
  return rc;
}

}  // namespace

absl::StatusOr<std::vector<Control>> ReadCatalog(const json::Value& doc,
                                                 std::string_view file_name) {
  const Value* cat = doc.Find("catalog");
  if (cat == nullptr || !cat->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(file_name), ": not an OSCAL catalog"));
  }
  std::vector<Control> out;
  if (absl::Status st = CollectControls(*cat, file_name, 0, &out); !st.ok()) {
    return st;
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(file_name), ": catalog has no controls"));
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>>
ReadCheckMapping(const json::Value& component_definition) {
  const Value* cd = component_definition.Find("component-definition");
  const Value* comps = cd != nullptr ? cd->Find("components") : nullptr;
  if (comps == nullptr || !comps->is_array()) {
    return absl::InvalidArgumentError(
        "component definition: no component-definition.components");
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const Value& comp : comps->items()) {
    const Value* cis = comp.Find("control-implementations");
    if (cis == nullptr) continue;
    for (const Value& ci : cis->items()) {
      const Value* reqs = ci.Find("implemented-requirements");
      if (reqs == nullptr) continue;
      for (const Value& req : reqs->items()) {
        const std::string* control = req.FindString("control-id");
        const Value* props = req.Find("props");
        if (control == nullptr || props == nullptr) continue;
        for (const Value& p : props->items()) {
          const std::string* n = p.FindString("name");
          const std::string* v = p.FindString("value");
          if (n == nullptr || v == nullptr || *n != "check") continue;
          std::vector<std::string>& checks = out[*control];
          if (std::find(checks.begin(), checks.end(), *v) == checks.end()) {
            checks.push_back(*v);
          }
        }
      }
    }
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        "component definition: no implemented requirement names a check");
  }
  return out;
}

std::vector<Finding> ComputeFindings(
    const std::vector<Control>& controls,
    const std::map<std::string, std::vector<std::string>>& check_mapping,
    const std::vector<Observation>& observations) {
  std::vector<Finding> out;
  for (const Control& c : controls) {
    Finding f;
    f.control_id = c.id;
    const auto it = check_mapping.find(c.id);
    std::set<std::string> checks;
    if (it != check_mapping.end())
      checks.insert(it->second.begin(), it->second.end());
    for (size_t i = 0; i < observations.size(); ++i) {
      const Observation& o = observations[i];
      const bool mapped = checks.count(o.check_id) != 0;
      const bool extra =
          std::find(o.extra_controls.begin(), o.extra_controls.end(), c.id) !=
          o.extra_controls.end();
      if (mapped || extra) f.observations.push_back(i);
    }
    if (checks.empty() && f.observations.empty()) {
      f.manual = true;
      f.satisfied = false;
      f.reason =
          "requires manual evidence (INTERVIEW/EXAMINE): no automated check "
          "of the appliance implements this control";
      out.push_back(std::move(f));
      continue;
    }
    std::vector<std::string> failing;
    std::set<std::string> seen_checks;
    for (size_t i : f.observations) {
      seen_checks.insert(observations[i].check_id);
      if (!observations[i].satisfied) {
        failing.push_back(absl::StrCat(observations[i].check_id, ": ",
                                       observations[i].reason));
      }
    }
    std::vector<std::string> missing;
    for (const std::string& chk : checks) {
      if (seen_checks.count(chk) == 0) missing.push_back(chk);
    }
    if (!missing.empty()) {
      failing.push_back(absl::StrCat("no observation from check(s) ",
                                     absl::StrJoin(missing, ", "),
                                     " (not run or cannot be evaluated)"));
    }
    f.satisfied = failing.empty() && !f.observations.empty();
    if (f.satisfied) {
      f.reason = absl::StrCat("all ", f.observations.size(),
                              " observation(s) satisfied");
    } else {
      if (failing.size() > 20) {
        const size_t more = failing.size() - 20;
        failing.resize(20);
        failing.push_back(absl::StrCat("and ", more, " more"));
      }
      f.reason = absl::StrJoin(failing, "; ");
    }
    out.push_back(std::move(f));
  }
  return out;
}

json::Value BuildAssessmentPlan(
    const DocumentContext& ctx, const std::vector<Control>& controls,
    const std::map<std::string, std::vector<std::string>>& check_mapping) {
  Value ap = Value::Object();
  ap.Set("uuid", S(DerivedUuid(ctx.seed, "assessment-plan")));
  ap.Set("metadata",
         Metadata(ctx, absl::StrCat("Assessment plan: ", ctx.title)));
  const std::string ssp_resource = DerivedUuid(ctx.seed, "resource/ssp");
  Value imp = Value::Object();
  imp.Set("href", S(absl::StrCat("#", ssp_resource)));
  imp.Set("remarks",
          S("The appliance does not hold its operator's system security plan; "
            "the back-matter resource says where it comes from."));
  ap.Set("import-ssp", std::move(imp));

  // One activity per automated check (method TEST) and one for the manual
  // controls (INTERVIEW/EXAMINE).
  std::map<std::string, std::vector<std::string>> controls_by_check;
  std::vector<std::string> manual;
  for (const Control& c : controls) {
    const auto it = check_mapping.find(c.id);
    if (it == check_mapping.end()) {
      manual.push_back(c.id);
      continue;
    }
    for (const std::string& chk : it->second) {
      controls_by_check[chk].push_back(c.id);
    }
  }
  Value local = Value::Object();
  Value acts = Value::Array();
  for (const auto& [check, ids] : controls_by_check) {
    Value a = Value::Object();
    a.Set("uuid", S(DerivedUuid(ctx.seed, absl::StrCat("activity/", check))));
    a.Set("title", S(absl::StrCat("Automated check ", check)));
    a.Set("description",
          S(absl::StrCat("The appliance runs check '", check,
                         "' and records an observation with its evidence "
                         "(docs/compliance/controls.md).")));
    Value props = Value::Array();
    props.Push(Prop("method", "TEST", false));
    props.Push(Prop("check", check));
    a.Set("props", std::move(props));
    a.Set("related-controls", ControlSelection(ids));
    acts.Push(std::move(a));
  }
  if (!manual.empty()) {
    Value a = Value::Object();
    a.Set("uuid", S(DerivedUuid(ctx.seed, "activity/manual")));
    a.Set("title", S("Manual evidence"));
    a.Set("description",
          S("Controls that depend on people and organisation (policies, "
            "training, vendor management, ...): the assessor interviews "
            "staff and examines documents. The appliance does not assess "
            "them."));
    Value props = Value::Array();
    props.Push(Prop("method", "INTERVIEW", false));
    props.Push(Prop("method", "EXAMINE", false));
    a.Set("props", std::move(props));
    a.Set("related-controls", ControlSelection(manual));
    acts.Push(std::move(a));
  }
  local.Set("activities", std::move(acts));
  ap.Set("local-definitions", std::move(local));
  ap.Set("reviewed-controls", ReviewedControls(controls));
  Value subjects = Value::Array();
  Value subj = Value::Object();
  subj.Set("type", S("component"));
  subj.Set("description", S(absl::StrCat("The appliance node ", ctx.system_name,
                                         " and the daemons it runs.")));
  subj.Set("include-all", Value::Object());
  subjects.Push(std::move(subj));
  ap.Set("assessment-subjects", std::move(subjects));

  Value back = Value::Object();
  Value res = Value::Array();
  {
    Value r = Value::Object();
    r.Set("uuid", S(ssp_resource));
    r.Set("title", S("System security plan (held by the operator)"));
    r.Set("description",
          S("The operator's SSP for this deployment. The appliance's own "
            "implementation statements are the component definition."));
    Value rl = Value::Array();
    Value link = Value::Object();
    link.Set("href", S(ctx.component_definition_file));
    link.Set("media-type", S("application/json"));
    rl.Push(std::move(link));
    r.Set("rlinks", std::move(rl));
    res.Push(std::move(r));
  }
  for (const std::string& f : ctx.catalog_files) {
    Value r = Value::Object();
    r.Set("uuid", S(DerivedUuid(ctx.seed, absl::StrCat("resource/", f))));
    r.Set("title", S(absl::StrCat("Control catalog ", f)));
    Value rl = Value::Array();
    Value link = Value::Object();
    link.Set("href", S(f));
    link.Set("media-type", S("application/json"));
    rl.Push(std::move(link));
    r.Set("rlinks", std::move(rl));
    res.Push(std::move(r));
  }
  back.Set("resources", std::move(res));
  ap.Set("back-matter", std::move(back));

  Value doc = Value::Object();
  doc.Set("assessment-plan", std::move(ap));
  return doc;
}

json::Value BuildAssessmentResults(const DocumentContext& ctx,
                                   const std::vector<Control>& controls,
                                   const std::vector<Observation>& observations,
                                   const std::vector<Finding>& findings) {
  Value ar = Value::Object();
  ar.Set("uuid", S(DerivedUuid(ctx.seed, "assessment-results")));
  ar.Set("metadata",
         Metadata(ctx, absl::StrCat("Assessment results: ", ctx.title)));
  Value imp = Value::Object();
  imp.Set("href", S(ctx.assessment_plan_file));
  ar.Set("import-ap", std::move(imp));

  const std::string component_uuid =
      DerivedUuid(ctx.seed, "component/appliance");
  Value result = Value::Object();
  result.Set("uuid", S(DerivedUuid(ctx.seed, "result")));
  result.Set("title",
             S(absl::StrCat("Automated assessment of ", ctx.system_name)));
  result.Set("description",
             S("Observations of the appliance's automated checks and one "
               "finding per control. A check that could not be evaluated is "
               "not-satisfied; controls needing people are marked for manual "
               "evidence."));
  result.Set("start", S(ctx.published));
  result.Set("end", S(ctx.finished));
  {
    Value local = Value::Object();
    Value comps = Value::Array();
    Value c = Value::Object();
    c.Set("uuid", S(component_uuid));
    c.Set("type", S("this-system"));
    c.Set("title", S(absl::StrCat("VirtEngine appliance ", ctx.system_name)));
    c.Set("description",
          S("The appliance node this evidence was collected on."));
    Value status = Value::Object();
    status.Set("state", S("operational"));
    c.Set("status", std::move(status));
    comps.Push(std::move(c));
    local.Set("components", std::move(comps));
    result.Set("local-definitions", std::move(local));
  }
  result.Set("reviewed-controls", ReviewedControls(controls));

  std::vector<std::string> obs_uuids;
  Value obs_list = Value::Array();
  for (size_t i = 0; i < observations.size(); ++i) {
    const Observation& o = observations[i];
    const std::string uuid =
        DerivedUuid(ctx.seed, absl::StrCat("observation/", i, "/", o.check_id));
    obs_uuids.push_back(uuid);
    Value v = Value::Object();
    v.Set("uuid", S(uuid));
    v.Set("title", S(o.title));
    v.Set("description", S(o.description));
    Value props = Value::Array();
    props.Push(Prop("check", o.check_id));
    props.Push(Prop("result", o.satisfied ? "pass" : "fail"));
    v.Set("props", std::move(props));
    Value methods = Value::Array();
    methods.Push(S(o.method));
    v.Set("methods", std::move(methods));
    Value types = Value::Array();
    types.Push(S(o.satisfied ? "control-objective" : "finding"));
    v.Set("types", std::move(types));
    Value subjects = Value::Array();
    Value subj = Value::Object();
    subj.Set("subject-uuid", S(component_uuid));
    subj.Set("type", S("component"));
    subj.Set("title", S(o.subject.empty() ? ctx.system_name : o.subject));
    subjects.Push(std::move(subj));
    v.Set("subjects", std::move(subjects));
    if (!o.evidence.empty()) {
      Value ev = Value::Array();
      for (const Evidence& e : o.evidence) {
        Value x = Value::Object();
        x.Set("href", S(e.href));
        x.Set("description", S(e.description));
        Value ep = Value::Array();
        ep.Push(Prop("sha256", e.sha256_hex));
        x.Set("props", std::move(ep));
        ev.Push(std::move(x));
      }
      v.Set("relevant-evidence", std::move(ev));
    }
    v.Set("collected", S(o.collected));
    v.Set("remarks", S(o.reason));
    obs_list.Push(std::move(v));
  }
  if (!observations.empty()) result.Set("observations", std::move(obs_list));

  std::map<std::string, const Control*> by_id;
  for (const Control& c : controls) by_id[c.id] = &c;
  Value finds = Value::Array();
  for (const Finding& f : findings) {
    const Control* c = by_id[f.control_id];
    Value v = Value::Object();
    v.Set("uuid",
          S(DerivedUuid(ctx.seed, absl::StrCat("finding/", f.control_id))));
    v.Set("title", S(c != nullptr ? absl::StrCat(c->label, ": ", c->title)
                                  : f.control_id));
    v.Set(
        "description",
        S(f.manual ? "Not assessed by the appliance: manual evidence required."
                   : absl::StrCat("Determined from ", f.observations.size(),
                                  " automated observation(s).")));
    Value props = Value::Array();
    props.Push(Prop("assessment", f.manual ? "manual" : "automated"));
    v.Set("props", std::move(props));
    Value target = Value::Object();
    target.Set("type", S("objective-id"));
    target.Set("target-id", S(f.control_id));
    Value status = Value::Object();
    status.Set("state", S(f.satisfied ? "satisfied" : "not-satisfied"));
    status.Set("reason",
               S(f.manual ? "other" : (f.satisfied ? "pass" : "fail")));
    status.Set("remarks", S(f.reason));
    target.Set("status", std::move(status));
    v.Set("target", std::move(target));
    if (!f.observations.empty()) {
      Value rel = Value::Array();
      for (size_t i : f.observations) {
        Value r = Value::Object();
        r.Set("observation-uuid", S(obs_uuids[i]));
        rel.Push(std::move(r));
      }
      v.Set("related-observations", std::move(rel));
    }
    finds.Push(std::move(v));
  }
  if (!findings.empty()) result.Set("findings", std::move(finds));

  Value results = Value::Array();
  results.Push(std::move(result));
  ar.Set("results", std::move(results));
  Value doc = Value::Object();
  doc.Set("assessment-results", std::move(ar));
  return doc;
}

absl::StatusOr<std::map<std::string, std::string>> ReadFindingStates(
    const json::Value& assessment_results) {
  const Value* ar = assessment_results.Find("assessment-results");
  const Value* results = ar != nullptr ? ar->Find("results") : nullptr;
  if (results == nullptr || !results->is_array() || results->items().empty()) {
    return absl::InvalidArgumentError(
        "assessment results: no assessment-results.results");
  }
  std::map<std::string, std::string> out;
  const Value* findings = results->items().back().Find("findings");
  if (findings == nullptr) return out;
  for (const Value& f : findings->items()) {
    const Value* target = f.Find("target");
    const std::string* id =
        target != nullptr ? target->FindString("target-id") : nullptr;
    const Value* status = target != nullptr ? target->Find("status") : nullptr;
    const std::string* state =
        status != nullptr ? status->FindString("state") : nullptr;
    if (id == nullptr || state == nullptr) {
      return absl::InvalidArgumentError(
          "assessment results: a finding without target-id or status.state");
    }
    out[*id] = *state;
  }
  return out;
}

}  // namespace virtengine::compliance::oscal
