#include "src/node/image_admin.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"
#include "compliance/json/json.h"
#include "security/crypto/hash.h"
#include "security/path/path.h"
#include "src/common/encoding/hex.h"
#include "src/common/log/log.h"
#include "src/node/files.h"

namespace virtengine::node {

namespace {

namespace json = ::virtengine::compliance::json;
namespace path = ::virtengine::security::path;

constexpr char kStageDir[] = "image";

// Debian's abseil has its own string_view type.
absl::string_view A(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
constexpr size_t kMaxSmallFile = size_t{64} * 1024;
constexpr uint64_t kMaxUkiInspectBytes = 64ull << 20;

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

uint32_t U32(std::string_view b, size_t off) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[off])) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[off + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[off + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[off + 3])) << 24;
}
uint16_t U16(std::string_view b, size_t off) {
  return static_cast<uint16_t>(
      static_cast<uint16_t>(static_cast<uint8_t>(b[off])) |
      static_cast<uint16_t>(static_cast<uint8_t>(b[off + 1])) << 8);
}

// IMAGE_VERSION (or another key) of an os-release text, quotes removed.
std::optional<std::string> OsReleaseValue(std::string_view text,
                                          std::string_view key) {
  for (absl::string_view line : absl::StrSplit(A(text), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, A(key)) ||
        !absl::ConsumePrefix(&line, "=")) {
      continue;
    }
    if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') &&
        line.back() == line.front()) {
      line = line.substr(1, line.size() - 2);
    }
    return std::string(line);
  }
  return std::nullopt;
}

std::optional<std::string> RootHashOfCmdline(std::string_view cmdline) {
  for (absl::string_view w : absl::StrSplit(
           A(cmdline), absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&w, "ve.roothash=")) return std::string(w);
  }
  return std::nullopt;
}

bool IsLowerHex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The running image: version from os-release, root hash from the kernel
// command line, minimum version from the installer's state (none yet: "").
struct Running {
  std::string version;
  std::string variant;  // VARIANT_ID ("production" when absent)
  std::string root_hash;
  std::string min_version;
};

absl::StatusOr<Running> ReadRunning(const ImageAdminConfig& c) {
  Running r;
  absl::StatusOr<std::string> osrel = ReadAbsolute(c.os_release, kMaxSmallFile);
  if (!osrel.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("this node does not run an appliance image (",
                     c.os_release, ": ", osrel.status().message(), ")"));
  }
  std::optional<std::string> v = OsReleaseValue(*osrel, "IMAGE_VERSION");
  if (!v.has_value() || !ParseImageVersion(*v).ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this node does not run an appliance image (no IMAGE_VERSION "
        "MAJOR.MINOR.PATCH in ",
        c.os_release, ")"));
  }
  r.version = *v;
  r.variant = OsReleaseValue(*osrel, "VARIANT_ID").value_or("production");
  absl::StatusOr<std::string> cmdline =
      ReadAbsolute(c.proc_cmdline, kMaxSmallFile);
  if (cmdline.ok()) {
    r.root_hash = RootHashOfCmdline(*cmdline).value_or("");
  }
  absl::StatusOr<std::string> min =
      ReadAbsolute(c.state_dir + "/min-version", 256);
  if (min.ok()) {
    std::string m(absl::StripAsciiWhitespace(*min));
    if (!ParseImageVersion(m).ok()) {
      return absl::DataLossError(absl::StrCat(
          c.state_dir, "/min-version is corrupt: '", m.substr(0, 32), "'"));
    }
    r.min_version = m;
  } else if (!absl::IsNotFound(min.status())) {
    return min.status();
  }
  return r;
}

const char* PartName(v1::ImagePart p) {
  switch (p) {
    case v1::IMAGE_PART_UKI:
      return "uki.efi";
    case v1::IMAGE_PART_ROOT:
      return "root.erofs";
    case v1::IMAGE_PART_VERITY:
      return "root.verity";
    default:
      return "";
  }
}

}  // namespace

std::string ImageVersion::ToString() const {
  return absl::StrCat(major, ".", minor, ".", patch);
}

absl::StatusOr<ImageVersion> ParseImageVersion(std::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(A(text), '.');
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("version '", A(text.substr(0, 32)), "': ", why,
                     " (want MAJOR.MINOR.PATCH)"));
  };
  if (parts.size() != 3) return bad("not three numbers");
  uint32_t n[3] = {0, 0, 0};
  for (size_t i = 0; i < 3; ++i) {
    if (parts[i].empty() || parts[i].size() > 6)
      return bad("a number of 1-6 digits");
    for (char c : parts[i]) {
      if (c < '0' || c > '9') return bad("not decimal digits");
    }
    if (!absl::SimpleAtoi(parts[i], &n[i])) return bad("not a number");
  }
  return ImageVersion{n[0], n[1], n[2]};
}

int CompareImageVersions(const ImageVersion& a, const ImageVersion& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return 0;
}

absl::StatusOr<std::string> PemCertificateToDer(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  const size_t b = pem.find(kBegin);
  const size_t e = pem.find(kEnd);
  if (b == std::string_view::npos || e == std::string_view::npos ||
      e < b + kBegin.size()) {
    return absl::InvalidArgumentError("not a PEM certificate");
  }
  std::string b64;
  for (char c : pem.substr(b + kBegin.size(), e - b - kBegin.size())) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) b64.push_back(c);
  }
  std::string der;
  if (!absl::Base64Unescape(b64, &der) || der.empty()) {
    return absl::InvalidArgumentError("PEM certificate: bad base64");
  }
  return der;
}

absl::StatusOr<UkiInfo> InspectUki(std::string_view uki,
                                   std::string_view cert_der) {
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("UKI: ", why));
  };
  if (uki.size() < 0x40 || uki[0] != 'M' || uki[1] != 'Z') {
    return bad("not a PE image (no MZ header)");
  }
  const uint32_t pe = U32(uki, 0x3C);
  if (pe > uki.size() || uki.size() - pe < 24 ||
      uki.substr(pe, 4) != std::string_view("PE\0\0", 4)) {
    return bad("no PE signature");
  }
  const uint16_t nsec = U16(uki, pe + 6);
  const uint16_t optsz = U16(uki, pe + 20);
  const size_t opt = pe + 24;
  if (nsec == 0 || nsec > 96) return bad("implausible number of sections");
  if (uki.size() - opt < optsz) return bad("truncated optional header");
  // The security directory (index 4) of PE32+ / PE32.
  uint32_t sec_off = 0;
  uint32_t sec_size = 0;
  if (optsz >= 2) {
    const uint16_t magic = U16(uki, opt);
    const size_t ndirs_at = magic == 0x20b ? 108 : 92;
    const size_t dirs_at = magic == 0x20b ? 112 : 96;
    if ((magic == 0x20b || magic == 0x10b) && optsz >= dirs_at + size_t{40} &&
        U32(uki, opt + ndirs_at) >= 5) {
      sec_off = U32(uki, opt + dirs_at + size_t{32});
      sec_size = U32(uki, opt + dirs_at + size_t{36});
    }
  }
  const size_t table = opt + optsz;
  if (uki.size() - table < static_cast<size_t>(nsec) * 40) {
    return bad("truncated section table");
  }
  std::optional<std::string> osrel;
  std::optional<std::string> cmdline;
  for (size_t i = 0; i < nsec; ++i) {
    const size_t h = table + i * 40;
    std::string_view name = uki.substr(h, 8);
    name = name.substr(0, name.find('\0'));
    if (name != ".osrel" && name != ".cmdline") continue;
    const uint32_t vsize = U32(uki, h + 8);
    const uint32_t raw_size = U32(uki, h + 16);
    const uint32_t raw_off = U32(uki, h + 20);
    const uint32_t size = std::min(vsize, raw_size);
    if (size > kMaxSmallFile || raw_off > uki.size() ||
        uki.size() - raw_off < size) {
      return bad(absl::StrCat("section ", A(name), " out of bounds"));
    }
    std::string_view data = uki.substr(raw_off, size);
    data = data.substr(0, data.find('\0'));
    (name == ".osrel" ? osrel : cmdline) = std::string(data);
  }
  if (!osrel.has_value()) return bad("no .osrel section");
  if (!cmdline.has_value()) return bad("no .cmdline section");
  UkiInfo info;
  info.version = OsReleaseValue(*osrel, "IMAGE_VERSION").value_or("");
  info.variant = OsReleaseValue(*osrel, "VARIANT_ID").value_or("production");
  if (!ParseImageVersion(info.version).ok()) {
    return bad("no IMAGE_VERSION MAJOR.MINOR.PATCH in .osrel");
  }
  info.root_hash = RootHashOfCmdline(*cmdline).value_or("");
  if (!IsLowerHex(info.root_hash, 64)) {
    return bad("no ve.roothash=<64 hex> in .cmdline");
  }
  // WIN_CERTIFICATE: dwLength, wRevision, wCertificateType (2 = PKCS#7
  // SignedData), then the signature, which embeds the signer certificate.
  if (sec_size >= 8 && sec_off <= uki.size() &&
      uki.size() - sec_off >= sec_size && U16(uki, sec_off + 6) == 0x0002 &&
      !cert_der.empty()) {
    info.signed_with_cert =
        uki.substr(sec_off + 8, sec_size - 8).find(cert_der) !=
        std::string_view::npos;
  }
  return info;
}

absl::StatusOr<ImageManifest> ParseImageManifest(std::string_view text) {
  json::Limits limits;
  limits.max_bytes = kMaxImageManifestBytes;
  limits.max_depth = 16;
  absl::StatusOr<json::Value> v = json::Parse(text, limits);
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest: ", v.status().message()));
  }
  auto str = [](const json::Value* o, std::string_view k) -> std::string {
    if (o == nullptr || !o->is_object()) return "";
    const std::string* s = o->FindString(k);
    return s == nullptr ? "" : *s;
  };
  const json::Value* root = v->Find("root");
  const json::Value* verity = root == nullptr ? nullptr : root->Find("verity");
  ImageManifest m;
  m.version = str(&*v, "version");
  m.root_hash = str(verity, "root_hash");
  m.uki_sha256 = str(v->Find("uki"), "sha256");
  m.root_sha256 = str(root, "sha256");
  m.verity_sha256 = str(verity, "sha256");
  const json::Value* bytes = root == nullptr ? nullptr : root->Find("bytes");
  if (bytes == nullptr || bytes->type() != json::Value::Type::kNumber ||
      !absl::SimpleAtoi(bytes->str(), &m.root_bytes)) {
    return absl::InvalidArgumentError("manifest: no root.bytes");
  }
  if (!ParseImageVersion(m.version).ok()) {
    return absl::InvalidArgumentError("manifest: no version MAJOR.MINOR.PATCH");
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{
                                        "root.verity.root_hash", &m.root_hash},
                                    {"uki.sha256", &m.uki_sha256},
                                    {"root.sha256", &m.root_sha256},
                                    {"root.verity.sha256", &m.verity_sha256}}) {
    if (!IsLowerHex(*value, 64)) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest: ", name, " is not 64 lowercase hex digits"));
    }
  }
  return m;
}

grpc::Status ImageAdminService::Status(grpc::ServerContext*,
                                       const v1::ImageStatusRequest*,
                                       v1::ImageStatusResponse* resp) {
  absl::StatusOr<Running> r = ReadRunning(config_);
  if (!r.ok()) return ToGrpcStatus(r.status());
  resp->set_running_version(r->version);
  resp->set_running_root_hash(r->root_hash);
  resp->set_min_version(r->min_version);
  absl::StatusOr<std::string> last =
      ReadAbsolute(config_.state_dir + "/last-install", 4096);
  if (last.ok()) {
    resp->set_last_install(std::string(absl::StripAsciiWhitespace(*last)));
  }
  absl::StatusOr<path::PathRoot> home = path::PathRoot::Open(config_.home);
  if (home.ok()) {
    absl::StatusOr<std::string> ready =
        home->ReadFile(absl::StrCat(kStageDir, "/staged/READY"), 256);
    resp->set_staged(ready.ok());
  }
  return grpc::Status::OK;
}

grpc::Status ImageAdminService::Install(
    grpc::ServerContext*, grpc::ServerReader<v1::ImageInstallChunk>* reader,
    v1::ImageInstallResponse* resp) {
  if (busy_.exchange(true)) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "another image install is in progress");
  }
  absl::Status s = DoInstall(reader, resp);
  busy_.store(false);
  if (config_.audit) {
    config_.audit("node.image_install",
                  resp->version().empty() ? "image" : resp->version(), s);
  }
  if (s.ok()) {
    log::Info("image_staged",
              {{"version", resp->version()}, {"root_hash", resp->root_hash()}});
  } else {
    log::Warn("image_install_refused", {{"error", s.ToString()}});
  }
  return ToGrpcStatus(s);
}

absl::Status ImageAdminService::DoInstall(
    grpc::ServerReader<v1::ImageInstallChunk>* reader,
    v1::ImageInstallResponse* resp) {
  namespace cv1 = ::virtengine::security::crypto::v1;
  v1::ImageInstallChunk chunk;
  if (!reader->Read(&chunk) || !chunk.has_header()) {
    return absl::InvalidArgumentError(
        "the first message of Install must be the header");
  }
  const v1::ImageInstallHeader header = chunk.header();
  if (header.manifest().size() > kMaxImageManifestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest: ", header.manifest().size(), " bytes, limit ",
                     kMaxImageManifestBytes));
  }
  absl::StatusOr<ImageManifest> m = ParseImageManifest(header.manifest());
  if (!m.ok()) return m.status();
  const uint64_t sizes[4] = {0, header.uki_bytes(), header.root_bytes(),
                             header.verity_bytes()};
  if (sizes[1] == 0 || sizes[1] > kMaxUkiInspectBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "uki_bytes ", sizes[1], ": want 1..", kMaxUkiInspectBytes));
  }
  if (sizes[2] == 0 || sizes[2] > kMaxRootBytes || sizes[2] != m->root_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "root_bytes ", sizes[2], ": want 1..", kMaxRootBytes,
        " and equal to the manifest's root.bytes ", m->root_bytes));
  }
  if (sizes[3] == 0 || sizes[3] > kMaxVerityBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("verity_bytes ", sizes[3], ": want 1..", kMaxVerityBytes));
  }
  absl::StatusOr<Running> running = ReadRunning(config_);
  if (!running.ok()) return running.status();
  resp->set_running_version(running->version);
  resp->set_min_version(running->min_version);
  const ImageVersion want = *ParseImageVersion(m->version);
  if (!running->min_version.empty() &&
      CompareImageVersions(want, *ParseImageVersion(running->min_version)) <
          0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", m->version, " is below the minimum version ",
        running->min_version, " recorded on this node (downgrade refused)"));
  }
  if (m->version == running->version) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", m->version, " is the running version"));
  }
  if (m->root_hash == running->root_hash) {
    return absl::FailedPreconditionError(
        absl::StrCat("root hash ", m->root_hash, " is the running root"));
  }
  absl::StatusOr<std::string> pem =
      ReadAbsolute(config_.signing_cert, kMaxSmallFile);
  if (!pem.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the image signing certificate ", config_.signing_cert,
                     ": ", pem.status().message()));
  }
  absl::StatusOr<std::string> cert_der = PemCertificateToDer(*pem);
  if (!cert_der.ok()) return cert_der.status();

  absl::StatusOr<path::PathRoot> home = path::PathRoot::Open(config_.home);
  if (!home.ok()) return home.status();
  if (absl::Status s = home->MakeDirs(kStageDir); !s.ok()) return s;
  absl::StatusOr<path::PathRoot> stage = home->Sub(kStageDir);
  if (!stage.ok()) return stage.status();
  if (stage->ReadFile("staged/READY", 256).ok()) {
    return absl::FailedPreconditionError(
        "an update is already staged and waiting for ve-image-install");
  }
  if (absl::Status s = stage->RemoveTree("incoming");
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  if (absl::Status s = stage->MakeDirs("incoming"); !s.ok()) return s;

  path::UniqueFd fds[4];
  std::optional<crypto::Sha256Stream> hashes[4];
  for (int p = 1; p <= 3; ++p) {
    const std::string rel =
        absl::StrCat("incoming/", PartName(static_cast<v1::ImagePart>(p)));
    if (absl::Status s = stage->WriteFileAtomic(rel, "", 0600); !s.ok()) {
      return s;
    }
    absl::StatusOr<path::UniqueFd> fd = stage->OpenAppend(rel);
    if (!fd.ok()) return fd.status();
    fds[p] = *std::move(fd);
    absl::StatusOr<crypto::Sha256Stream> h =
        crypto::Sha256Stream::Create(cv1::CONTENT_HASH);
    if (!h.ok()) return h.status();
    hashes[p].emplace(*std::move(h));
  }
  uint64_t got[4] = {0, 0, 0, 0};
  int current = 1;
  std::string uki;
  uki.reserve(sizes[1]);
  while (reader->Read(&chunk)) {
    if (!chunk.has_data()) {
      return absl::InvalidArgumentError("a second header in the stream");
    }
    const int p = chunk.data().part();
    const std::string& d = chunk.data().data();
    if (p < current || p > 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parts must arrive in the order uki, root, verity (got part ", p,
          " after ", current, ")"));
    }
    if (d.size() > kMaxImageChunkBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a chunk of ", d.size(), " bytes (limit ", kMaxImageChunkBytes, ")"));
    }
    for (int q = current; q < p; ++q) {
      if (got[q] != sizes[q]) {
        return absl::InvalidArgumentError(
            absl::StrCat(PartName(static_cast<v1::ImagePart>(q)), ": got ",
                         got[q], " bytes, the header says ", sizes[q]));
      }
    }
    current = p;
    if (sizes[p] - got[p] < d.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(PartName(static_cast<v1::ImagePart>(p)),
                       ": more bytes than the header's ", sizes[p]));
    }
    if (absl::Status s = WriteAll(fds[p].get(), d); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("writing the staged update: ", s.message()));
    }
    hashes[p]->Update(crypto::AsBytes(d));
    if (p == 1) uki.append(d);
    got[p] += d.size();
  }
  for (int p = 1; p <= 3; ++p) {
    if (got[p] != sizes[p]) {
      return absl::InvalidArgumentError(absl::StrCat(
          PartName(static_cast<v1::ImagePart>(p)), ": got ", got[p],
          " bytes, the header says ", sizes[p], " (stream ended early)"));
    }
    if (::fsync(fds[p].get()) != 0) {
      return absl::InternalError(
          absl::StrCat("fsync of the staged update: errno ", errno));
    }
    fds[p].reset();
    const crypto::Digest32 d = hashes[p]->Finish();
    const std::string hex = encoding::HexEncode(absl::MakeConstSpan(d));
    const std::string& want_hex = p == 1   ? m->uki_sha256
                                  : p == 2 ? m->root_sha256
                                           : m->verity_sha256;
    if (hex != want_hex) {
      return absl::DataLossError(
          absl::StrCat(PartName(static_cast<v1::ImagePart>(p)), ": SHA-256 ",
                       hex, " differs from the manifest's ", want_hex));
    }
  }
  absl::StatusOr<UkiInfo> info = InspectUki(uki, *cert_der);
  if (!info.ok()) return info.status();
  if (info->version != m->version) {
    return absl::InvalidArgumentError(
        absl::StrCat("the UKI's IMAGE_VERSION ", info->version,
                     " differs from the manifest's version ", m->version));
  }
  if (info->root_hash != m->root_hash) {
    return absl::InvalidArgumentError(
        absl::StrCat("the UKI's ve.roothash ", info->root_hash,
                     " differs from the manifest's root hash ", m->root_hash));
  }
  if (!info->signed_with_cert) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the UKI is not signed with the image signing certificate ",
        config_.signing_cert));
  }
  // A production node never becomes a debug one (root console) by an
  // update, nor the reverse: the variant stays (image/build --debug).
  if (info->variant != running->variant) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the update is a ", info->variant, " image and this node runs a ",
        running->variant, " image: an update keeps the variant"));
  }
  if (absl::Status s = stage->WriteFileAtomic("incoming/manifest.json",
                                              header.manifest(), 0600);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = stage->RemoveTree("staged");
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  if (absl::Status s = stage->Rename("incoming", "staged"); !s.ok()) return s;
  // READY last: ve-image-install.path starts the privileged installer.
  if (absl::Status s =
          stage->WriteFileAtomic("staged/READY", m->version + "\n", 0600);
      !s.ok()) {
    return s;
  }
  resp->set_version(m->version);
  resp->set_root_hash(m->root_hash);
  resp->set_message(absl::StrCat(
      "staged ", m->version,
      "; ve-image-install verifies it, writes the inactive slot and reboots "
      "into it (3 tries, then the last good entry boots again)"));
  return absl::OkStatus();
}

}  // namespace virtengine::node
