// vectl image install|status: A/B updates of the appliance image through the
// node's ImageAdmin service on its local admin socket
// (src/api/node/v1/image.proto, docs/operator/image.md "Updates").
//
// The bundle (image/build's virtengine-VERSION.update.tar) is a ustar
// archive of exactly manifest.json, uki.efi, root.erofs and root.verity;
// vectl reads it through security/path, checks its structure and streams
// the header (manifest + sizes) then the parts to the node.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "security/path/path.h"
#include "src/api/node/v1/image.grpc.pb.h"
#include "src/cli/command.h"
#include "src/cli/files.h"
#include "src/cli/inputs.h"
#include "src/cli/json.h"
#include "src/cli/node_client.h"

namespace virtengine::cli {

absl::Status RunImageInstall(Context& ctx);
absl::Status RunImageStatus(Context& ctx);

namespace {

namespace nv1 = ::virtengine::node::v1;

constexpr size_t kBlock = 512;
constexpr size_t kChunkBytes =
    size_t{512} * 1024;  // the admin socket takes 1 MiB
constexpr size_t kMaxManifestBytes = size_t{256} * 1024;
constexpr uint64_t kMaxBundleBytes = 8ull << 30;
constexpr std::chrono::milliseconds kInstallTimeout{30 * 60 * 1000};

std::unique_ptr<nv1::ImageAdmin::Stub> ImageStub(const std::string& socket) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxSendMessageBytes);
  args.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  return nv1::ImageAdmin::NewStub(grpc::CreateCustomChannel(
      "unix:" + socket, grpc::InsecureChannelCredentials(), args));
}

absl::Status PreadAll(int fd, uint64_t off, size_t n, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out->data() + done, n - done,
                              static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return absl::InternalError(
          absl::StrCat("reading the bundle: errno ", errno));
    }
    if (r == 0) return absl::InvalidArgumentError("bundle: truncated");
    done += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

struct Member {
  uint64_t offset = 0;
  uint64_t size = 0;
};

// Octal field of a ustar header (NUL/space terminated).
absl::StatusOr<uint64_t> Octal(const std::string& h, size_t off, size_t len) {
  uint64_t v = 0;
  size_t i = off;
  while (i < off + len && h[i] == ' ') ++i;
  bool any = false;
  for (; i < off + len && h[i] >= '0' && h[i] <= '7'; ++i) {
    if (v > (kMaxBundleBytes >> 3)) {
      return absl::InvalidArgumentError("bundle: size field too large");
    }
    v = v * 8 + static_cast<uint64_t>(h[i] - '0');
    any = true;
  }
  if (!any || (i < off + len && h[i] != '\0' && h[i] != ' ')) {
    return absl::InvalidArgumentError("bundle: bad octal field in a header");
  }
  return v;
}

// The four members of a ustar bundle; anything else is refused.
absl::StatusOr<std::map<std::string, Member>> ReadBundleIndex(int fd,
                                                              uint64_t size) {
  static const char* const kNames[] = {"manifest.json", "uki.efi", "root.erofs",
                                       "root.verity"};
  std::map<std::string, Member> members;
  uint64_t off = 0;
  std::string h;
  while (true) {
    if (size - off < kBlock) {
      return absl::InvalidArgumentError(
          "bundle: truncated (no end-of-archive blocks)");
    }
    if (absl::Status s = PreadAll(fd, off, kBlock, &h); !s.ok()) return s;
    if (h.find_first_not_of('\0') == std::string::npos) break;
    if (h.compare(257, 5, "ustar") != 0) {
      return absl::InvalidArgumentError(
          "bundle: not a ustar archive (make it with image/build)");
    }
    const std::string name(h.data(), strnlen(h.data(), 100));
    const bool known = std::find(std::begin(kNames), std::end(kNames), name) !=
                       std::end(kNames);
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle: unexpected member '", name.substr(0, 100),
                       "' (want manifest.json, uki.efi, root.erofs, "
                       "root.verity)"));
    }
    if (h[156] != '0' && h[156] != '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle: ", name, " is not a regular file"));
    }
    if (h[345] != '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle: ", name, " has a path prefix"));
    }
    absl::StatusOr<uint64_t> msize = Octal(h, 124, 12);
    if (!msize.ok()) return msize.status();
    if (members.count(name) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle: ", name, " appears twice"));
    }
    const uint64_t data = off + kBlock;
    const uint64_t padded = (*msize + kBlock - 1) / kBlock * kBlock;
    if (data > size || size - data < padded) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle: ", name, " is truncated"));
    }
    members[name] = Member{data, *msize};
    off = data + padded;
  }
  for (const char* n : kNames) {
    if (members.count(n) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle: no ", n, " member"));
    }
  }
  if (members["manifest.json"].size > kMaxManifestBytes) {
    return absl::InvalidArgumentError("bundle: manifest.json over 256 KiB");
  }
  return members;
}

}  // namespace

absl::Status RunImageInstall(Context& ctx) {
  if (ctx.args.size() != 1) return UsageError("want exactly one FILE");
  absl::StatusOr<std::string> file =
      AbsolutePath("FILE", ctx.env.cwd, ctx.args[0]);
  if (!file.ok()) return UsageError(file.status());
  absl::StatusOr<std::string> socket = ResolveAdminSocket(ctx);
  if (!socket.ok()) return socket.status();
  const size_t slash = file->rfind('/');
  absl::StatusOr<security::path::PathRoot> dir =
      security::path::PathRoot::Open(slash == 0 ? "/" : file->substr(0, slash));
  if (!dir.ok()) return Prefixed(*file, dir.status());
  absl::StatusOr<security::path::UniqueFd> fd =
      dir->OpenRead(file->substr(slash + 1));
  if (!fd.ok()) return Prefixed(*file, fd.status());
  const off_t end = ::lseek(fd->get(), 0, SEEK_END);
  if (end < 0 || static_cast<uint64_t>(end) > kMaxBundleBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(*file, ": not a bundle of at most 8 GiB"));
  }
  absl::StatusOr<std::map<std::string, Member>> index =
      ReadBundleIndex(fd->get(), static_cast<uint64_t>(end));
  if (!index.ok()) return Prefixed(*file, index.status());
  std::map<std::string, Member>& m = *index;

  nv1::ImageInstallChunk header;
  std::string manifest;
  if (absl::Status s = PreadAll(fd->get(), m["manifest.json"].offset,
                                m["manifest.json"].size, &manifest);
      !s.ok()) {
    return s;
  }
  header.mutable_header()->set_manifest(manifest);
  header.mutable_header()->set_uki_bytes(m["uki.efi"].size);
  header.mutable_header()->set_root_bytes(m["root.erofs"].size);
  header.mutable_header()->set_verity_bytes(m["root.verity"].size);

  std::unique_ptr<nv1::ImageAdmin::Stub> stub = ImageStub(*socket);
  grpc::ClientContext gctx;
  gctx.set_deadline(std::chrono::system_clock::now() +
                    (ctx.Has("timeout") ? ctx.timeout : kInstallTimeout));
  nv1::ImageInstallResponse resp;
  std::unique_ptr<grpc::ClientWriter<nv1::ImageInstallChunk>> w =
      stub->Install(&gctx, &resp);
  // A refused Write means the node already answered (e.g. a downgrade):
  // stop sending and report its status from Finish.
  bool open = w->Write(header);
  const std::pair<const char*, nv1::ImagePart> parts[] = {
      {"uki.efi", nv1::IMAGE_PART_UKI},
      {"root.erofs", nv1::IMAGE_PART_ROOT},
      {"root.verity", nv1::IMAGE_PART_VERITY}};
  std::string buf;
  for (const auto& [name, part] : parts) {
    const Member& mem = m[name];
    for (uint64_t done = 0; open && done < mem.size;) {
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(kChunkBytes, mem.size - done));
      if (absl::Status s = PreadAll(fd->get(), mem.offset + done, n, &buf);
          !s.ok()) {
        gctx.TryCancel();
        return s;
      }
      nv1::ImageInstallChunk c;
      c.mutable_data()->set_part(part);
      c.mutable_data()->set_data(buf);
      open = w->Write(c);
      done += n;
    }
  }
  if (open) w->WritesDone();
  grpc::Status st = w->Finish();
  if (!st.ok()) {
    return Prefixed(absl::StrCat("Install via ", *socket), FromGrpc(st));
  }
  if (ctx.json) {
    JsonWriter j;
    j.BeginObject()
        .Key("version")
        .String(resp.version())
        .Key("root_hash")
        .String(resp.root_hash())
        .Key("running_version")
        .String(resp.running_version())
        .Key("min_version")
        .String(resp.min_version())
        .Key("message")
        .String(resp.message())
        .EndObject();
    ctx.out << j.str() << "\n";
    return absl::OkStatus();
  }
  ctx.out << "staged: " << TextSafe(resp.version()) << " (root hash "
          << TextSafe(resp.root_hash()) << ")\n"
          << "running: " << TextSafe(resp.running_version()) << "\n"
          << TextSafe(resp.message()) << "\n";
  return absl::OkStatus();
}

absl::Status RunImageStatus(Context& ctx) {
  absl::StatusOr<std::string> socket = ResolveAdminSocket(ctx);
  if (!socket.ok()) return socket.status();
  std::unique_ptr<nv1::ImageAdmin::Stub> stub = ImageStub(*socket);
  grpc::ClientContext gctx;
  gctx.set_deadline(std::chrono::system_clock::now() + ctx.timeout);
  nv1::ImageStatusResponse resp;
  grpc::Status st = stub->Status(&gctx, nv1::ImageStatusRequest(), &resp);
  if (!st.ok()) {
    return Prefixed(absl::StrCat("Status via ", *socket), FromGrpc(st));
  }
  if (ctx.json) {
    JsonWriter j;
    j.BeginObject()
        .Key("running_version")
        .String(resp.running_version())
        .Key("running_root_hash")
        .String(resp.running_root_hash())
        .Key("min_version")
        .String(resp.min_version())
        .Key("last_install")
        .String(resp.last_install())
        .Key("staged")
        .Bool(resp.staged())
        .EndObject();
    ctx.out << j.str() << "\n";
    return absl::OkStatus();
  }
  ctx.out << "running_version: " << TextSafe(resp.running_version()) << "\n"
          << "running_root_hash: " << TextSafe(resp.running_root_hash()) << "\n"
          << "min_version: " << TextSafe(resp.min_version()) << "\n"
          << "last_install: " << TextSafe(resp.last_install()) << "\n"
          << "staged: " << (resp.staged() ? "yes" : "no") << "\n";
  return absl::OkStatus();
}

}  // namespace virtengine::cli
