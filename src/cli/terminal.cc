#include "src/cli/terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"

namespace virtengine::cli {

namespace {

constexpr size_t kMaxSecretBytes = 1024;

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

bool StdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }

absl::StatusOr<crypto::SecretBytes> ReadSecretFromTerminal(
    const std::string& prompt) {
  if (!StdinIsTerminal()) {
    return absl::FailedPreconditionError("standard input is not a terminal");
  }
  struct termios saved {};
  if (::tcgetattr(STDIN_FILENO, &saved) != 0) {
    return absl::FailedPreconditionError("cannot read the terminal settings");
  }
  struct termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= static_cast<tcflag_t>(ECHONL);
  WriteAll(STDERR_FILENO, prompt);
  if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
    return absl::FailedPreconditionError("cannot turn terminal echo off");
  }
  crypto::SecretBytes buf(kMaxSecretBytes + 1);
  size_t len = 0;
  bool eof = false;
  bool newline = false;
  while (len < buf.size()) {
    char c = 0;
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
      break;
    }
    if (c == '\n') {
      newline = true;
      break;
    }
    buf.mutable_data()[len++] = static_cast<uint8_t>(c);
    c = 0;
  }
  (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  if (!newline && !eof) {
    return absl::InvalidArgumentError("passphrase longer than 1024 bytes");
  }
  if (eof && len == 0) return absl::CancelledError("no passphrase entered");
  if (len > 0 && buf.data()[len - 1] == '\r') --len;
  return crypto::SecretBytes::CopyFrom(crypto::ByteView(buf.data(), len));
}

}  // namespace virtengine::cli
