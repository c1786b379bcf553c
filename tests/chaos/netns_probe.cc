// Test helper for netns_test: a tiny TCP server and client to check which
// namespaces can reach which.
//   netns_probe serve ADDR PORT SECONDS   accept, write "ok", close; exit
//                                          after SECONDS
//   netns_probe connect ADDR PORT MS      exit 0 when a connection within
//                                          MS milliseconds reads "ok"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

bool Parse(const char* addr, const char* port, sockaddr_in* a) {
  *a = sockaddr_in{};
  a->sin_family = AF_INET;
  char* end = nullptr;
  const long p = std::strtol(port, &end, 10);
  if (end == port || *end != '\0' || p <= 0 || p > 65535) return false;
  a->sin_port = htons(static_cast<uint16_t>(p));
  return ::inet_pton(AF_INET, addr, &a->sin_addr) == 1;
}

int Serve(const sockaddr_in& a, long seconds) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(fd, 16) != 0) {
    std::cerr << "bind/listen: errno " << errno << "\n";
    return 1;
  }
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    (void)!::write(c, "ok", 2);
    ::close(c);
  }
  ::close(fd);
  return 0;
}

int Connect(const sockaddr_in& a, long ms) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return 1;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(ms)) <= 0) {
    ::close(fd);
    return 1;
  }
  char buf[2] = {0, 0};
  const ssize_t n = ::read(fd, buf, 2);
  ::close(fd);
  return n == 2 && buf[0] == 'o' && buf[1] == 'k' ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  sockaddr_in a;
  if (argc != 5 || !Parse(argv[2], argv[3], &a)) {
    std::cerr << "usage: netns_probe serve|connect ADDR PORT N\n";
    return 2;
  }
  const long n = std::strtol(argv[4], nullptr, 10);
  const std::string cmd = argv[1];
  if (cmd == "serve") return Serve(a, n);
  if (cmd == "connect") return Connect(a, n);
  return 2;
}
