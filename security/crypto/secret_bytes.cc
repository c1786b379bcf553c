#include "security/crypto/secret_bytes.h"

#include <sodium.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/crypto/sodium_init.h"

namespace virtengine::crypto {

SecretBytes::SecretBytes(size_t size)
    : data_(size == 0 ? nullptr : new uint8_t[size]()), size_(size) {}

SecretBytes SecretBytes::CopyFrom(ByteView bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_.get(), bytes.data(), bytes.size());
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

void SecretBytes::Wipe() {
  if (data_ != nullptr) SecureWipe(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

SecretBytes SecretBytes::Clone() const { return CopyFrom(view()); }

bool SecretBytes::Equals(const SecretBytes& other) const {
  return ConstantTimeEquals(view(), other.view());
}

std::string SecretBytes::DebugString() const {
  return absl::StrCat("[secret: ", size_, " bytes]");
}

std::ostream& operator<<(std::ostream& os, const SecretBytes& s) {
  return os << s.DebugString();
}

bool ConstantTimeEquals(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  internal::EnsureSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SecureWipe(void* bytes, size_t size) {
  if (bytes != nullptr && size > 0) sodium_memzero(bytes, size);
}

}  // namespace virtengine::crypto
