// Fuzzes InspectUki (PE headers, .osrel/.cmdline, the attribute certificate
// table) and ParseImageManifest with the same input. Invariants: no read out
// of bounds (ASan), and whatever is accepted satisfies the documented
// postconditions: a MAJOR.MINOR.PATCH version that round-trips, a 64
// lowercase-hex root hash, and "signed" only when the certificate is in it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "src/node/image_admin.h"

namespace {

bool LowerHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void CheckVersion(const std::string& v) {
  absl::StatusOr<virtengine::node::ImageVersion> p =
      virtengine::node::ParseImageVersion(v);
  if (!p.ok()) std::abort();
  // Round trip up to leading zeros: the parsed value compares equal to the
  // parse of its own printout.
  absl::StatusOr<virtengine::node::ImageVersion> q =
      virtengine::node::ParseImageVersion(p->ToString());
  if (!q.ok() || virtengine::node::CompareImageVersions(*p, *q) != 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // The certificate the UKI is checked against: none, or the input's last
  // 16 bytes (a UKI's certificate table is at its end, so "signed" is
  // reachable); the middle byte decides.
  std::string cert;
  if (size > 64 && data[size / 2] % 2 == 1) {
    cert = std::string(in.substr(size - 16));
  }
  absl::StatusOr<virtengine::node::UkiInfo> u =
      virtengine::node::InspectUki(in, cert);
  if (u.ok()) {
    CheckVersion(u->version);
    if (!LowerHex64(u->root_hash)) std::abort();
    if (u->signed_with_cert &&
        (cert.empty() || in.find(cert) == std::string_view::npos)) {
      std::abort();
    }
  }
  absl::StatusOr<virtengine::node::ImageManifest> m =
      virtengine::node::ParseImageManifest(in);
  if (m.ok()) {
    CheckVersion(m->version);
    for (const std::string* h :
         {&m->root_hash, &m->uki_sha256, &m->root_sha256, &m->verity_sha256}) {
      if (!LowerHex64(*h)) std::abort();
    }
  }
  return 0;
}
