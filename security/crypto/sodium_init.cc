#include "security/crypto/sodium_init.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace virtengine::crypto::internal {

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      (void)std::fputs("fatal: libsodium failed to initialise\n", stderr);
      std::abort();
    }
  });
}

}  // namespace virtengine::crypto::internal
