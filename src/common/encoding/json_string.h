#ifndef VIRTENGINE_SRC_COMMON_ENCODING_JSON_STRING_H_
#define VIRTENGINE_SRC_COMMON_ENCODING_JSON_STRING_H_

#include <string>
#include <string_view>

namespace virtengine::encoding {

// Appends `s` as a quoted JSON string (RFC 8259): quote, backslash, \n, \r
// and \t escaped by name, other control characters and DEL as \u00XX, and
// every byte that is not part of valid UTF-8 as \ufffd, so the result always
// parses and never carries a raw line break.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace virtengine::encoding

#endif  // VIRTENGINE_SRC_COMMON_ENCODING_JSON_STRING_H_
