#include "compliance/scap/openscap.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "compliance/scap/arf.h"

namespace virtengine::compliance::scap {
namespace {

std::string Tail(const std::string& s) {
  constexpr size_t kTail = 2048;
  return s.size() <= kTail ? s : s.substr(s.size() - kTail);
}

}  // namespace

absl::StatusOr<OpenScapRun> RunOpenScap(const exec::Runner& runner,
                                        const OpenScapRequest& request) {
  absl::StatusOr<security::path::PathRoot> out_dir =
      security::path::PathRoot::Open(request.results_dir_path);
  if (!out_dir.ok()) return out_dir.status();
  const std::string results =
      absl::StrCat(request.results_dir_path, "/", request.results_name);
  std::vector<std::string> args;
  const char* entry = "oscap.eval";
  if (!request.tailoring_path.empty()) {
    entry = "oscap.eval_tailored";
    args.push_back(request.tailoring_path);
  }
  args.push_back(request.profile);
  args.push_back(results);
  args.push_back(request.datastream_path);
  absl::StatusOr<exec::Result> r = runner.Run(entry, args);
  if (!r.ok()) return r.status();
  OpenScapRun run;
  run.duration = r->duration;
  run.stderr_tail = Tail(r->stderr_bytes);
  if (r->timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(
        "oscap timed out after ", absl::FormatDuration(r->duration),
        "; stderr: ", run.stderr_tail));
  }
  if (!r->exited) {
    return absl::InternalError(absl::StrCat(
        "oscap killed by signal ", r->signal, "; stderr: ", run.stderr_tail));
  }
  run.exit_code = r->exit_code;
  if (r->exit_code != 0 && r->exit_code != 2) {
    return absl::InternalError(absl::StrCat("oscap exited with ", r->exit_code,
                                            "; stderr: ", run.stderr_tail));
  }
  absl::StatusOr<std::string> arf =
      out_dir->ReadFile(request.results_name, kMaxArfBytes);
  if (!arf.ok()) {
    return absl::Status(arf.status().code(),
                        absl::StrCat("reading oscap results ", results, ": ",
                                     arf.status().message()));
  }
  run.arf = *std::move(arf);
  return run;
}

}  // namespace virtengine::compliance::scap
