// Internal helpers for messages: hostile strings quoted safely, errno names.
#ifndef VIRTENGINE_SECURITY_AUDIT_QUOTE_H_
#define VIRTENGINE_SECURITY_AUDIT_QUOTE_H_

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "src/common/encoding/quote.h"

namespace virtengine::security::audit {

// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view), so views cross between the two explicitly.
inline absl::string_view Sv(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view StdSv(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

// 'text' in single quotes: printable ASCII kept, every other byte (and the
// quote and backslash) as \xNN, cut after `max` bytes with "...", so a
// value from a log line cannot forge lines in a report.
inline std::string Quote(std::string_view text, size_t max = 64) {
  return encoding::QuoteUntrusted(text, max);
}

// "EIO (errno 5)": the symbolic name of an errno value, for messages.
inline std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  std::string out = name != nullptr ? name : "unknown error";
  out += " (errno " + std::to_string(err) + ")";
  return out;
}

}  // namespace virtengine::security::audit

#endif  // VIRTENGINE_SECURITY_AUDIT_QUOTE_H_
