#include "security/audit/record.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "security/audit/quote.h"
#include "security/crypto/bytes.h"
#include "security/crypto/hash.h"
#include "security/validate/size.h"
#include "security/validate/utf8.h"

namespace virtengine::security::audit {
namespace {

using validate::ControlChars;

constexpr int64_t kNanosPerSecond = 1000000000;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2262;
constexpr size_t kTimeBytes = 30;  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ"

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// `value` matches [first][rest]* where first/rest are character classes; the
// first offending byte, or npos.
size_t FindTokenError(std::string_view value, bool underscore_first) {
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    bool ok = IsLowerAlnum(c);
    if (c == '_') ok = i > 0 || underscore_first;
    if (i > 0 && (c == '.' || c == '-' || c == '_')) ok = true;
    if (!ok) return i;
  }
  return std::string_view::npos;
}

absl::Status CheckToken(std::string_view field, std::string_view value,
                        size_t max_bytes, bool underscore_first,
                        std::string_view pattern) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": is empty"));
  }
  absl::Status s = validate::CheckSize(field, value, max_bytes);
  if (!s.ok()) return s;
  const size_t bad = FindTokenError(value, underscore_first);
  if (bad != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(field), ": ", Quote(value), " does not match ",
                     Sv(pattern), " (byte ", bad, ")"));
  }
  return absl::OkStatus();
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

void AppendDigits(std::string* out, int64_t v, int width) {
  std::string digits(static_cast<size_t>(width), '0');
  for (int i = width - 1; i >= 0; --i) {
    digits[static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out->append(digits);
}

// Parses text[pos, pos+width) as decimal digits.
bool ReadDigits(std::string_view text, size_t pos, size_t width, int64_t* v) {
  *v = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    *v = *v * 10 + (c - '0');
  }
  return true;
}

void AppendU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendStr(std::string* out, std::string_view s) {
  // Every field is far below 4 GiB (ValidateRecord); the cast cannot cut.
  AppendU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kFailure:
      return "failure";
    case Outcome::kDenied:
      return "denied";
  }
  return "unknown";
}

std::optional<Outcome> ParseOutcome(std::string_view name) {
  if (name == "success") return Outcome::kSuccess;
  if (name == "failure") return Outcome::kFailure;
  if (name == "denied") return Outcome::kDenied;
  return std::nullopt;
}

absl::Status ValidateEntry(const Entry& entry) {
  if (entry.actor.empty()) {
    return absl::InvalidArgumentError("actor: is empty");
  }
  absl::Status s = validate::ValidateText("actor", entry.actor, kMaxActorBytes,
                                          ControlChars::kReject);
  if (!s.ok()) return s;
  s = CheckToken("action", entry.action, kMaxActionBytes,
                 /*underscore_first=*/false, "[a-z0-9][a-z0-9_.-]*");
  if (!s.ok()) return s;
  s = validate::ValidateText("object", entry.object, kMaxObjectBytes,
                             ControlChars::kReject);
  if (!s.ok()) return s;
  switch (entry.outcome) {
    case Outcome::kSuccess:
    case Outcome::kFailure:
    case Outcome::kDenied:
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "outcome: unknown value ", static_cast<int>(entry.outcome)));
  }
  s = validate::ValidateText("reason", entry.reason, kMaxReasonBytes,
                             ControlChars::kReject);
  if (!s.ok()) return s;
  if (entry.outcome != Outcome::kSuccess && entry.reason.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason: required when the outcome is ",
                     Sv(OutcomeName(entry.outcome))));
  }
  s = validate::CheckCount("details", entry.details.size(), kMaxDetails);
  if (!s.ok()) return s;
  size_t total = 0;
  for (const auto& [key, value] : entry.details) {
    const std::string key_field = absl::StrCat("details key ", Quote(key));
    s = CheckToken(key_field, key, kMaxDetailKeyBytes,
                   /*underscore_first=*/true, "[a-z0-9_][a-z0-9_.-]*");
    if (!s.ok()) return s;
    s = validate::ValidateText(absl::StrCat("details[", Quote(key), "]"), value,
                               kMaxDetailValueBytes,
                               ControlChars::kRejectExceptWhitespace);
    if (!s.ok()) return s;
    total += key.size() + value.size();
  }
  if (total > kMaxDetailsTotalBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("details: total size ", total, " bytes exceeds limit ",
                     kMaxDetailsTotalBytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecord(const Record& record) {
  if (record.seq == 0 || record.seq > kMaxSeq) {
    return absl::InvalidArgumentError(
        absl::StrCat("seq: ", record.seq, " is outside 1..", kMaxSeq));
  }
  if (record.time_unix_nanos < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("time: ", record.time_unix_nanos,
                     " ns is before 1970-01-01T00:00:00Z"));
  }
  return ValidateEntry(record.entry);
}

std::string FormatTime(int64_t unix_nanos) {
  if (unix_nanos < 0) unix_nanos = 0;  // ValidateRecord refuses these
  const int64_t secs = unix_nanos / kNanosPerSecond;
  const int64_t frac = unix_nanos % kNanosPerSecond;
  const int64_t days = secs / kSecondsPerDay;
  const int64_t sod = secs % kSecondsPerDay;
  int64_t y = 0;
  int64_t m = 0;
  int64_t d = 0;
  CivilFromDays(days, &y, &m, &d);
  std::string out;
  out.reserve(kTimeBytes);
  AppendDigits(&out, y, 4);
  out.push_back('-');
  AppendDigits(&out, m, 2);
  out.push_back('-');
  AppendDigits(&out, d, 2);
  out.push_back('T');
  AppendDigits(&out, sod / 3600, 2);
  out.push_back(':');
  AppendDigits(&out, (sod / 60) % 60, 2);
  out.push_back(':');
  AppendDigits(&out, sod % 60, 2);
  out.push_back('.');
  AppendDigits(&out, frac, 9);
  out.push_back('Z');
  return out;
}

absl::StatusOr<int64_t> ParseTime(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("time: ", Quote(text), " ", Sv(why),
                     " (expected YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ, UTC)"));
  };
  if (text.size() != kTimeBytes) return bad("has the wrong length");
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.' || text[29] != 'Z') {
    return bad("has a wrong separator");
  }
  int64_t y = 0;
  int64_t mo = 0;
  int64_t d = 0;
  int64_t h = 0;
  int64_t mi = 0;
  int64_t s = 0;
  int64_t frac = 0;
  if (!ReadDigits(text, 0, 4, &y) || !ReadDigits(text, 5, 2, &mo) ||
      !ReadDigits(text, 8, 2, &d) || !ReadDigits(text, 11, 2, &h) ||
      !ReadDigits(text, 14, 2, &mi) || !ReadDigits(text, 17, 2, &s) ||
      !ReadDigits(text, 20, 9, &frac)) {
    return bad("has a non-digit where a digit belongs");
  }
  if (y < kMinYear || y > kMaxYear) return bad("is outside 1970..2262");
  if (mo < 1 || mo > 12) return bad("has no such month");
  if (d < 1 || d > DaysInMonth(y, mo)) return bad("has no such day");
  if (h > 23 || mi > 59 || s > 59) return bad("has no such time of day");
  const int64_t secs =
      DaysFromCivil(y, mo, d) * kSecondsPerDay + h * 3600 + mi * 60 + s;
  // int64 nanoseconds end at 2262-04-11T23:47:16.854775807Z.
  constexpr int64_t kMaxSecs = INT64_MAX / kNanosPerSecond;
  constexpr int64_t kMaxFrac = INT64_MAX % kNanosPerSecond;
  if (secs > kMaxSecs || (secs == kMaxSecs && frac > kMaxFrac)) {
    return bad("is after 2262-04-11T23:47:16.854775807Z");
  }
  return secs * kNanosPerSecond + frac;
}

std::string CanonicalEncoding(const Record& record) {
  const Entry& e = record.entry;
  std::string out;
  out.reserve(256 + e.actor.size() + e.object.size() + e.reason.size());
  AppendStr(&out, kDomainTag);
  AppendU64(&out, record.seq);
  AppendStr(&out, FormatTime(record.time_unix_nanos));
  AppendStr(&out, e.actor);
  AppendStr(&out, e.action);
  AppendStr(&out, e.object);
  AppendStr(&out, OutcomeName(e.outcome));
  AppendStr(&out, e.reason);
  AppendU32(&out, static_cast<uint32_t>(e.details.size()));
  for (const auto& [key, value] : e.details) {
    AppendStr(&out, key);
    AppendStr(&out, value);
  }
  out.append(reinterpret_cast<const char*>(record.prev.data()),
             record.prev.size());
  return out;
}

absl::StatusOr<Hash> ComputeHash(const Record& record) {
  const std::string bytes = CanonicalEncoding(record);
  return ::virtengine::crypto::Sha256(
      ::virtengine::crypto::Purpose::AUDIT_CHAIN,
      ::virtengine::crypto::AsBytes(bytes));
}

std::string HashHex(const Hash& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (const uint8_t b : hash) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

absl::StatusOr<Hash> ParseHashHex(std::string_view hex) {
  Hash out{};
  if (hex.size() != out.size() * 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        hex.size(), " characters, expected 64 lowercase hex digits"));
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[i];
    int v = 0;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("character ", Quote(hex.substr(i, 1)), " at position ",
                       i, " is not a lowercase hex digit"));
    }
    out[i / 2] = static_cast<uint8_t>((out[i / 2] << 4) | v);
  }
  return out;
}

}  // namespace virtengine::security::audit
