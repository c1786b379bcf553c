#include "security/validate/field.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace virtengine::validate::internal {

absl::Status FieldError(std::string_view field, std::string_view what) {
  std::string msg;
  msg.reserve(field.size() + 2 + what.size());
  if (!field.empty()) {
    msg.append(field);
    msg.append(": ");
  }
  msg.append(what);
  return absl::InvalidArgumentError(msg);
}

absl::Status WithField(std::string_view field, const absl::Status& status) {
  if (status.ok() || field.empty()) return status;
  const absl::string_view m = status.message();
  std::string msg(field);
  msg.append(": ");
  msg.append(m.data(), m.size());
  return absl::Status(status.code(), msg);
}

std::string DescribeByte(unsigned char byte) {
  if (byte > 0x20 && byte < 0x7f && byte != '\'' && byte != '\\') {
    return std::string("'") + static_cast<char>(byte) + "'";
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  out.push_back(kDigits[byte >> 4]);
  out.push_back(kDigits[byte & 0x0f]);
  return out;
}

}  // namespace virtengine::validate::internal
