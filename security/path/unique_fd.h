// UniqueFd: a move-only owner of one file descriptor. The descriptor is
// closed when the owner is destroyed or reset; it is never copied.
#ifndef VIRTENGINE_SECURITY_PATH_UNIQUE_FD_H_
#define VIRTENGINE_SECURITY_PATH_UNIQUE_FD_H_

#include <unistd.h>

namespace virtengine::security::path {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1 means "none").
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  // The descriptor, still owned by this object (-1 when empty).
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing; the caller must close the result.
  [[nodiscard]] int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the current descriptor (if any) and takes ownership of `fd`.
  // close(2) errors are ignored here: on Linux the descriptor is released
  // even when close reports an error, and retrying could close a reused fd.
  void reset(int fd = -1) {
    if (fd_ >= 0 && fd_ != fd) (void)::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace virtengine::security::path

#endif  // VIRTENGINE_SECURITY_PATH_UNIQUE_FD_H_
