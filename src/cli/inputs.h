// Validation of vectl's command-line inputs. Every function returns
// InvalidArgument naming the flag or argument ("--fee: ...", "AMOUNT: ...")
// so that the command can exit 2 with a precise message.
#ifndef VIRTENGINE_SRC_CLI_INPUTS_H_
#define VIRTENGINE_SRC_CLI_INPUTS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/api/bank/v1/bank.pb.h"

namespace virtengine::cli {

inline constexpr size_t kMaxMemoBytes = 256;

// "<amount><denom>", e.g. "1000uve": a decimal uint64 (no sign, no leading
// zeros, no overflow) immediately followed by a denomination
// ([a-zA-Z][a-zA-Z0-9/:._-]{2,127}). Amounts below `min_amount` are refused.
absl::StatusOr<bank::v1::Coin> ParseCoin(std::string_view field,
                                         std::string_view text,
                                         uint64_t min_amount = 0);

// A denomination alone.
absl::Status ValidateDenom(std::string_view field, std::string_view denom);

// "<n>ms", "<n>s" or "<n>m", between 1ms and 1h.
absl::StatusOr<std::chrono::milliseconds> ParseTimeout(std::string_view field,
                                                       std::string_view text);

// "host:port": host is a DNS name or IPv4 address ([a-zA-Z0-9.-], at most
// 253 bytes) or a bracketed IPv6 address ("[::1]"); port 1..65535.
absl::Status ValidateNodeAddress(std::string_view field, std::string_view text);

// 64 hex digits (either case); returns the 32 bytes.
absl::StatusOr<std::string> ParseHash32(std::string_view field,
                                        std::string_view text);

// A ve1... account address (bech32, 20-byte payload, lowercase).
absl::Status ValidateAccountAddress(std::string_view field,
                                    std::string_view text);

// Valid UTF-8 of at most 256 bytes.
absl::Status ValidateMemo(std::string_view field, std::string_view text);

// [a-z0-9][a-z0-9-]{0,47}.
absl::Status ValidateChainId(std::string_view field, std::string_view text);

// ---- cluster and admin commands -------------------------------------------

// A Raft id: a decimal uint64 of at least 1.
absl::StatusOr<uint64_t> ParseRaftId(std::string_view field,
                                     std::string_view text);

// "a.b.c.d:port": a dotted-quad IPv4 address (each part 0..255, no leading
// zeros) and a port 1..65535 (what the cluster module accepts as a Raft
// address).
absl::Status ValidateIpv4Address(std::string_view field, std::string_view text);

// An Ed25519 node public key: exactly 64 lowercase hex digits; returns the
// 32 bytes.
absl::StatusOr<std::string> ParseNodeKeyHex(std::string_view field,
                                            std::string_view text);

// A backup name as the node takes it: [a-z0-9][a-z0-9._-]{0,63}.
absl::Status ValidateBackupName(std::string_view field, std::string_view text);

// The admin socket path: absolute, at most 100 bytes (a Unix socket address
// holds 108), printable ASCII, no "." or ".." component, no "//".
inline constexpr size_t kMaxAdminSocketBytes = 100;
absl::Status ValidateAdminSocketPath(std::string_view field,
                                     std::string_view text);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_INPUTS_H_
