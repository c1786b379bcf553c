// The measurement step of the appliance (ve-measure): hash what booted and
// what runs, append it to the VirtEngine event log (security/attest's
// format, docs/security/tpm.md) and extend it into PCR 8 (boot identity) or
// PCR 9 (software and policy).
#ifndef VIRTENGINE_SECURITY_TPM_MEASURE_H_
#define VIRTENGINE_SECURITY_TPM_MEASURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/event_log.h"
#include "security/crypto/hash.h"
#include "security/tpm/tpm.h"

namespace virtengine::tpm {

// Largest file ve-measure hashes.
inline constexpr uint64_t kMaxMeasuredFileBytes = 4ull << 30;

// SHA-256 of a regular file (absolute path, opened through security/path,
// read in chunks). ResourceExhausted past kMaxMeasuredFileBytes.
absl::StatusOr<crypto::Digest32> HashFile(const std::string& absolute_path);

// An event for `kind` (PCR from PcrForKind) after validating `name`.
absl::StatusOr<attest::MeasurementEvent> MakeEvent(
    attest::MeasureKind kind, const std::string& name,
    const crypto::Digest32& content_digest);

// Appends `events` to the log at `log_path` (absolute; created with the
// header, mode 0644, when missing; an existing log must parse, or nothing is
// written), fsyncs it, then extends each event digest into its PCR in order.
// The log is written first: a failure between the two leaves a log that no
// longer replays to the PCRs, so attestation fails closed.
absl::Status Measure(Tpm& tpm, const std::string& log_path,
                     const std::vector<attest::MeasurementEvent>& events);

// Reads and parses a log (absolute path, at most kMaxEventLogBytes).
absl::StatusOr<std::vector<attest::MeasurementEvent>> ReadEventLog(
    const std::string& log_path);

}  // namespace virtengine::tpm

#endif  // VIRTENGINE_SECURITY_TPM_MEASURE_H_
