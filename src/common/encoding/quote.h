#ifndef VIRTENGINE_SRC_COMMON_ENCODING_QUOTE_H_
#define VIRTENGINE_SRC_COMMON_ENCODING_QUOTE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace virtengine::encoding {

// `text` in single quotes for an error or log message: printable ASCII
// kept, every other byte (and the quote and backslash) as \xNN, cut after
// `max` bytes with "...", so an untrusted value can never forge lines or
// flood a message.
std::string QuoteUntrusted(std::string_view text, size_t max);

}  // namespace virtengine::encoding

#endif  // VIRTENGINE_SRC_COMMON_ENCODING_QUOTE_H_
