#ifndef VIRTENGINE_SECURITY_CRYPTO_SECRET_BYTES_H_
#define VIRTENGINE_SECURITY_CRYPTO_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "security/crypto/bytes.h"

namespace virtengine::crypto {

// Bytes that must not leak: zeroed when released (sodium_memzero, which the
// compiler cannot elide), move-only (copies are explicit: Clone()), never
// printed (operator<< and DebugString() show only the length), and compared
// only in constant time.
class SecretBytes {
 public:
  SecretBytes() = default;
  // `size` zero bytes, to be filled through mutable_data().
  explicit SecretBytes(size_t size);
  static SecretBytes CopyFrom(ByteView bytes);
  static SecretBytes CopyFrom(std::string_view bytes) {
    return CopyFrom(AsBytes(bytes));
  }

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  SecretBytes Clone() const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint8_t* data() const { return data_.get(); }
  uint8_t* mutable_data() { return data_.get(); }
  ByteView view() const { return ByteView(data_.get(), size_); }

  // Constant-time equality (length is not secret).
  bool Equals(const SecretBytes& other) const;

  std::string DebugString() const;

 private:
  void Wipe();

  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

std::ostream& operator<<(std::ostream& os, const SecretBytes& s);

// Constant-time comparison of two byte strings (sodium_memcmp). Different
// lengths compare unequal; the length itself is not treated as secret.
bool ConstantTimeEquals(ByteView a, ByteView b);

// Overwrites `bytes` with zeros in a way the compiler cannot remove.
void SecureWipe(void* bytes, size_t size);

}  // namespace virtengine::crypto

#endif  // VIRTENGINE_SECURITY_CRYPTO_SECRET_BYTES_H_
