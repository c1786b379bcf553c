// Private helpers of security/keys (listed in srcs, not hdrs).
#ifndef VIRTENGINE_SECURITY_KEYS_INTERNAL_UTIL_H_
#define VIRTENGINE_SECURITY_KEYS_INTERNAL_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace virtengine::keys::internal {

// Debian's abseil is built with its own absl::string_view (not
// std::string_view), so StrCat does not take std::string_view directly.
template <typename T>
const T& CatArg(const T& v) {
  return v;
}
inline absl::string_view CatArg(std::string_view v) {
  return absl::string_view(v.data(), v.size());
}

// absl::StrCat that also accepts std::string_view.
template <typename... T>
std::string Cat(const T&... v) {
  return absl::StrCat(CatArg(v)...);
}

}  // namespace virtengine::keys::internal

#define KEYS_RETURN_IF_ERROR(expr)              \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

#endif  // VIRTENGINE_SECURITY_KEYS_INTERNAL_UTIL_H_
