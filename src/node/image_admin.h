// The ImageAdmin service (src/api/node/v1/image.proto) on the admin socket:
// A/B updates of the appliance image (docs/operator/image.md, "Updates").
//
// ve-node stays unprivileged: it receives an update bundle, checks what it
// can (the manifest against the UKI's own .osrel and .cmdline sections, the
// SHA-256 of every part, the UKI carrying an Authenticode signature with the
// image signing certificate, the version against the recorded minimum) and
// stages the parts in <home>/image/staged/ with READY last. The privileged
// ve-image-install.service (image/libexec/ve-image-install) then checks the
// signature cryptographically (sbverify), writes the inactive slot, verifies
// it with veritysetup and reboots with boot counting.
#ifndef VIRTENGINE_SRC_NODE_IMAGE_ADMIN_H_
#define VIRTENGINE_SRC_NODE_IMAGE_ADMIN_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "src/api/node/v1/image.grpc.pb.h"

namespace virtengine::node {

// Limits on what an install may send.
inline constexpr size_t kMaxImageManifestBytes = 256 * 1024;
inline constexpr uint64_t kMaxUkiBytes = 256ull << 20;
inline constexpr uint64_t kMaxRootBytes = 4ull << 30;
inline constexpr uint64_t kMaxVerityBytes = 256ull << 20;
inline constexpr size_t kMaxImageChunkBytes = 1 << 20;

// MAJOR.MINOR.PATCH, each 1-6 decimal digits.
struct ImageVersion {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t patch = 0;
  std::string ToString() const;
};
// InvalidArgument "version 'x': ..." for anything else.
absl::StatusOr<ImageVersion> ParseImageVersion(std::string_view text);
// <0, 0, >0 like strcmp.
int CompareImageVersions(const ImageVersion& a, const ImageVersion& b);

// What the node reads from a UKI (a PE/COFF image).
struct UkiInfo {
  std::string version;    // IMAGE_VERSION of .osrel
  std::string variant;    // VARIANT_ID of .osrel; "production" when absent
  std::string root_hash;  // ve.roothash= of .cmdline (64 hex)
  // The attribute certificate table (Authenticode) is present and contains
  // the DER of the expected certificate.
  bool signed_with_cert = false;
};
// Parses the PE headers and section table (bounds-checked), the .osrel and
// .cmdline sections and the security directory. `cert_der` may be empty
// (then signed_with_cert is false). InvalidArgument "UKI: ..." on a
// malformed image or missing section / value.
absl::StatusOr<UkiInfo> InspectUki(std::string_view uki,
                                   std::string_view cert_der);

// A PEM certificate ("-----BEGIN CERTIFICATE-----") to DER.
absl::StatusOr<std::string> PemCertificateToDer(std::string_view pem);

// The fields of a bundle's manifest.json the node checks.
struct ImageManifest {
  std::string version;
  std::string root_hash;      // root.verity.root_hash
  std::string uki_sha256;     // uki.sha256 (hex)
  std::string root_sha256;    // root.sha256
  std::string verity_sha256;  // root.verity.sha256
  uint64_t root_bytes = 0;    // root.bytes
};
absl::StatusOr<ImageManifest> ParseImageManifest(std::string_view json);

struct ImageAdminConfig {
  std::string home;  // the node home; staging in <home>/image
  // Absolute paths on the appliance (tests point them elsewhere).
  std::string os_release = "/usr/lib/os-release";
  std::string state_dir = "/var/lib/virtengine-image";  // min-version
  std::string signing_cert = "/usr/share/virtengine/image-signing.pem";
  std::string proc_cmdline = "/proc/cmdline";
  // Called once per Install/Status call for the audit log (may be empty).
  std::function<void(std::string_view action, std::string_view object,
                     const absl::Status& result)>
      audit;
};

class ImageAdminService final : public v1::ImageAdmin::Service {
 public:
  explicit ImageAdminService(ImageAdminConfig config)
      : config_(std::move(config)) {}

  grpc::Status Install(grpc::ServerContext* ctx,
                       grpc::ServerReader<v1::ImageInstallChunk>* reader,
                       v1::ImageInstallResponse* resp) override;
  grpc::Status Status(grpc::ServerContext* ctx,
                      const v1::ImageStatusRequest* req,
                      v1::ImageStatusResponse* resp) override;

 private:
  absl::Status DoInstall(grpc::ServerReader<v1::ImageInstallChunk>* reader,
                         v1::ImageInstallResponse* resp);

  const ImageAdminConfig config_;
  std::atomic<bool> busy_{false};
};

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_IMAGE_ADMIN_H_
