// See BUILD.bazel.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/event_log.h"

namespace {

using virtengine::attest::MeasurementEvent;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const virtengine::crypto::ByteView in(data, size);
  absl::StatusOr<std::vector<MeasurementEvent>> events =
      virtengine::attest::ParseEventLog(in);
  if (!events.ok()) {
    Check(events.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const virtengine::crypto::Bytes input(data, data + size);
  Check(virtengine::attest::SerializeEventLog(*events) == input);
  Check(events->size() <= virtengine::attest::kMaxEventLogRecords);
  absl::StatusOr<std::map<uint32_t, virtengine::crypto::Digest32>> replay =
      virtengine::attest::ReplayEventLog(*events);
  Check(replay.ok());
  for (const MeasurementEvent& e : *events) {
    Check(e.pcr == virtengine::attest::PcrForKind(e.kind));
    Check(virtengine::attest::SerializeEvent(e).ok());
  }
  // Flip bytes at up to 64 positions spread over the input (every byte of a
  // small log), so large inputs stay fast.
  const size_t steps = size < 64 ? size : 64;
  virtengine::crypto::Bytes mutated = input;
  for (size_t k = 0; k < steps; ++k) {
    const size_t i = k * size / steps;
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      mutated[i] ^= mask;
      absl::StatusOr<std::vector<MeasurementEvent>> m =
          virtengine::attest::ParseEventLog(mutated);
      if (m.ok()) {
        absl::StatusOr<std::map<uint32_t, virtengine::crypto::Digest32>> r =
            virtengine::attest::ReplayEventLog(*m);
        Check(r.ok() && *r != *replay);
      }
      mutated[i] ^= mask;
    }
  }
  return 0;
}
