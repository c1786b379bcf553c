// Inputs of vectl's governance commands (docs/cli/vectl.md, "Governance"):
// measurement names and versions as src/api/gov/v1/gov.proto says, PCR
// values (--pcr N=HEX), parameters (--set-param KEY=VALUE) and the appliance
// image manifest (manifest.json written by image/build). Every function
// returns InvalidArgument naming the flag or the manifest member, so that the
// command exits 2 with a precise message before the key store or the node is
// touched.
#ifndef VIRTENGINE_SRC_CLI_GOV_INPUTS_H_
#define VIRTENGINE_SRC_CLI_GOV_INPUTS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/api/gov/v1/gov.pb.h"

namespace virtengine::cli {

// An image manifest is at most 1 MiB (today's is ~18 KiB) and nests at most
// 16 levels.
inline constexpr size_t kMaxManifestBytes = 1 << 20;
inline constexpr size_t kMaxManifestDepth = 16;
// The manifest format vectl reads; another schema is refused.
inline constexpr char kManifestSchema[] = "virtengine.image.manifest/1";
// The PCR a manifest's measurements.pcr11_running goes to.
inline constexpr uint32_t kManifestPcr = 11;
inline constexpr uint32_t kMaxPcr = 23;
inline constexpr size_t kMaxTitleBytes = 256;

// [a-z0-9][a-z0-9._-]{0,63}.
absl::Status ValidateMeasurementName(std::string_view field,
                                     std::string_view text);
// [A-Za-z0-9][A-Za-z0-9._+-]{0,63}.
absl::Status ValidateMeasurementVersion(std::string_view field,
                                        std::string_view text);
// A proposal title: valid UTF-8, 1..256 bytes, no control characters.
absl::Status ValidateProposalTitle(std::string_view field,
                                   std::string_view text);

// "N=HEX": N a PCR index 0..23 (decimal, no leading zero), HEX its SHA-256
// bank value, exactly 64 hex digits (either case).
absl::StatusOr<gov::v1::PcrValue> ParsePcrValue(std::string_view field,
                                                std::string_view text);

// A measurement from NAME, VERSION and one or more "N=HEX" values (in any
// order; each PCR at most once), values sorted by PCR as the gov module
// requires.
absl::StatusOr<gov::v1::Measurement> MeasurementFromFlags(
    std::string_view name_field, std::string_view name,
    std::string_view version_field, std::string_view version,
    std::string_view pcr_field, const std::vector<std::string>& pcrs);

// "KEY=VALUE" for the gov parameters: threshold_bps 1..10000,
// voting_period_blocks 1..10000000 (decimal, no leading zero),
// attestation_required true|false. Any other key is refused.
absl::StatusOr<gov::v1::SetParam> ParseSetParam(std::string_view field,
                                                std::string_view text);

// The measurement an image manifest approves: name = "image_id", version =
// "version", one value: PCR 11 = "measurements"."pcr11_running" (64
// lowercase hex digits). The document must be a JSON object (strict parser,
// at most kMaxManifestBytes and kMaxManifestDepth) whose "schema" is
// kManifestSchema; other members are ignored. Errors read
// "<field>: <member>: <what>", e.g.
//   "--manifest: measurements.pcr11_running: missing".
// The optional "variant" is "production" (also when absent) or "debug"
// (image/build --debug: a console with a root shell); `debug`, when given,
// says which.
absl::StatusOr<gov::v1::Measurement> MeasurementFromManifest(
    std::string_view field, std::string_view json, bool* debug = nullptr);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_GOV_INPUTS_H_
