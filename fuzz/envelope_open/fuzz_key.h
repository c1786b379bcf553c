// The fixed X25519 secret key the envelope_open fuzz target opens with; the
// seed corpus (make_corpus) seals its valid envelopes to it.
#ifndef VIRTENGINE_FUZZ_ENVELOPE_OPEN_FUZZ_KEY_H_
#define VIRTENGINE_FUZZ_ENVELOPE_OPEN_FUZZ_KEY_H_

#include <cstdint>

namespace virtengine::envelope::fuzz {

// 0x21, 0x22, ..., 0x40: a test key, never used for anything real.
inline constexpr uint8_t kFuzzSecretKey[32] = {
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b,
    0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
    0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40};

}  // namespace virtengine::envelope::fuzz

#endif  // VIRTENGINE_FUZZ_ENVELOPE_OPEN_FUZZ_KEY_H_
