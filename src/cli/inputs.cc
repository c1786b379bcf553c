#include "src/cli/inputs.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "security/validate/address.h"
#include "security/validate/encoded.h"
#include "security/validate/identifier.h"
#include "security/validate/number.h"
#include "security/validate/utf8.h"

namespace virtengine::cli {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quoted(std::string_view s) {
  constexpr size_t kShown = 80;
  std::string out = "\"";
  for (const char c : s.substr(0, kShown)) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f || c == '"' || c == '\\') {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[b >> 4U]);
      out.push_back(kHex[b & 0xFU]);
    } else {
      out.push_back(c);
    }
  }
  if (s.size() > kShown) out += "...";
  return out + "\"";
}

}  // namespace

absl::Status ValidateDenom(std::string_view field, std::string_view denom) {
  return validate::ValidateIdentifier(field, denom, validate::kDenom);
}

absl::StatusOr<bank::v1::Coin> ParseCoin(std::string_view field,
                                         std::string_view text,
                                         uint64_t min_amount) {
  size_t digits = 0;
  while (digits < text.size() && IsDigit(text[digits])) ++digits;
  if (digits == 0 || digits == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": ", Quoted(text),
                     " is not <amount><denom>, e.g. 1000uve"));
  }
  absl::StatusOr<uint64_t> amount = validate::ParseUint64(
      absl::StrCat(std::string(field), " amount"), text.substr(0, digits));
  if (!amount.ok()) return amount.status();
  if (*amount < min_amount) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": amount ", *amount,
                     " is below the minimum of ", min_amount));
  }
  const std::string_view denom = text.substr(digits);
  if (absl::Status s =
          ValidateDenom(absl::StrCat(std::string(field), " denom"), denom);
      !s.ok()) {
    return s;
  }
  bank::v1::Coin coin;
  coin.set_amount(*amount);
  coin.set_denom(std::string(denom));
  return coin;
}

absl::StatusOr<std::chrono::milliseconds> ParseTimeout(std::string_view field,
                                                       std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && IsDigit(text[digits])) ++digits;
  const std::string_view unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = uint64_t{60} * 1000;
  }
  if (digits == 0 || scale == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": ", Quoted(text),
                     " is not a duration like 10s, 500ms or 2m"));
  }
  constexpr uint64_t kMaxMs = uint64_t{60} * 60 * 1000;
  absl::StatusOr<uint64_t> n = validate::ParseUint64(
      std::string(field), text.substr(0, digits), 1, kMaxMs);
  if (!n.ok()) return n.status();
  if (*n > kMaxMs / scale) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(field), ": ", Quoted(text), " is longer than 1h"));
  }
  return std::chrono::milliseconds(*n * scale);
}

absl::Status ValidateNodeAddress(std::string_view field,
                                 std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": ", Quoted(text),
                     " is not host:port (", std::string(why), ")"));
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no ':port'");
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.empty()) return bad("empty host");
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("unclosed '['");
    for (const char c : host.substr(1, host.size() - 2)) {
      const bool ok = IsDigit(c) || (c >= 'a' && c <= 'f') ||
                      (c >= 'A' && c <= 'F') || c == ':' || c == '.';
      if (!ok) return bad("invalid character in an IPv6 address");
    }
  } else {
    constexpr size_t kMaxHost = 253;
    if (host.size() > kMaxHost) return bad("host longer than 253 bytes");
    for (const char c : host) {
      const bool ok = IsDigit(c) || (c >= 'a' && c <= 'z') ||
                      (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
      if (!ok) return bad("invalid character in the host");
    }
  }
  absl::StatusOr<uint64_t> p = validate::ParseUint64("port", port, 1, 65535);
  if (!p.ok()) return bad(std::string(p.status().message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseHash32(std::string_view field,
                                        std::string_view text) {
  if (text.size() != 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": a hash is 64 hex digits, got ",
                     text.size(), " characters"));
  }
  absl::StatusOr<std::vector<uint8_t>> b =
      validate::DecodeHexExact(field, text, 32);
  if (!b.ok()) return b.status();
  return std::string(b->begin(), b->end());
}

absl::Status ValidateAccountAddress(std::string_view field,
                                    std::string_view text) {
  return validate::ValidateAddress(field, text).status();
}

absl::Status ValidateMemo(std::string_view field, std::string_view text) {
  return validate::ValidateText(field, text, kMaxMemoBytes,
                                validate::ControlChars::kAllow);
}

absl::Status ValidateChainId(std::string_view field, std::string_view text) {
  return validate::ValidateIdentifier(field, text, validate::kChainId);
}

absl::StatusOr<uint64_t> ParseRaftId(std::string_view field,
                                     std::string_view text) {
  return validate::ParseUint64(field, text, 1);
}

absl::Status ValidateIpv4Address(std::string_view field,
                                 std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": ", Quoted(text),
                     " is not an IPv4 a.b.c.d:port (", std::string(why), ")"));
  };
  constexpr size_t kMaxBytes = 21;  // "255.255.255.255:65535"
  if (text.size() > kMaxBytes) return bad("too long");
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad("no ':port'");
  const std::string_view host = text.substr(0, colon);
  int parts = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    const std::string_view part = host.substr(
        start,
        dot == std::string_view::npos ? std::string_view::npos : dot - start);
    ++parts;
    if (parts > 4) return bad("more than four parts");
    if (part.empty() || part.size() > 3) return bad("bad address part");
    int value = 0;
    for (const char c : part) {
      if (!IsDigit(c)) return bad("bad address part");
      value = value * 10 + (c - '0');
    }
    if (part.size() > 1 && part[0] == '0') return bad("leading zero");
    if (value > 255) return bad("part above 255");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts != 4) return bad("fewer than four parts");
  absl::StatusOr<uint64_t> p =
      validate::ParseUint64("port", text.substr(colon + 1), 1, 65535);
  if (!p.ok()) return bad(std::string(p.status().message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseNodeKeyHex(std::string_view field,
                                            std::string_view text) {
  if (text.size() != 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": a node key is 64 hex digits, got ",
                     text.size(), " characters"));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(field), ": not lowercase hex at position ", i));
    }
  }
  return ParseHash32(field, text);
}

absl::Status ValidateBackupName(std::string_view field, std::string_view text) {
  constexpr size_t kMaxBytes = 64;
  if (text.empty() || text.size() > kMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(field), ": length ", text.size(), " is not 1..64"));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = IsDigit(c) || (c >= 'a' && c <= 'z');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(field), ": ", Quoted(text),
                       " is not [a-z0-9][a-z0-9._-]{0,63}"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAdminSocketPath(std::string_view field,
                                     std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(field), ": ", Quoted(text), " ", std::string(why)));
  };
  if (text.empty() || text[0] != '/') return bad("is not an absolute path");
  if (text.size() > kMaxAdminSocketBytes) {
    return bad(absl::StrCat("is longer than ", kMaxAdminSocketBytes,
                            " bytes (a Unix socket path)"));
  }
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x21 || b > 0x7e) return bad("holds a byte that is not printable");
  }
  if (text.back() == '/') return bad("ends in '/'");
  size_t start = 1;
  while (start <= text.size()) {
    size_t slash = text.find('/', start);
    if (slash == std::string_view::npos) slash = text.size();
    const std::string_view part = text.substr(start, slash - start);
    if (part.empty()) return bad("holds \"//\"");
    if (part == "." || part == "..") return bad("holds a '.' or '..' part");
    start = slash + 1;
  }
  return absl::OkStatus();
}

}  // namespace virtengine::cli
