#ifndef VIRTENGINE_SECURITY_CRYPTO_SODIUM_INIT_H_
#define VIRTENGINE_SECURITY_CRYPTO_SODIUM_INIT_H_

namespace virtengine::crypto::internal {

// Initialises libsodium once (thread-safe). Aborts if libsodium cannot
// initialise: without it there is no CSPRNG, and nothing may go on.
void EnsureSodium();

}  // namespace virtengine::crypto::internal

#endif  // VIRTENGINE_SECURITY_CRYPTO_SODIUM_INIT_H_
