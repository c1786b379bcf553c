// ImageAdmin: version rules, the UKI and manifest parsers, and Install /
// Status over a real gRPC server on a Unix socket in TEST_TMPDIR, with real
// files standing in for /usr/lib/os-release, /proc/cmdline, the state
// directory and the signing certificate.
#include "src/node/image_admin.h"

#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "security/crypto/hash.h"
#include "security/path/path.h"
#include "src/api/node/v1/admin.grpc.pb.h"
#include "src/api/node/v1/image.grpc.pb.h"
#include "src/common/encoding/hex.h"
#include "src/node/admin_service.h"

namespace virtengine::node {
namespace {

namespace path = ::virtengine::security::path;

void PutU16(std::string& b, size_t off, uint16_t v) {
  b[off] = static_cast<char>(v & 0xff);
  b[off + 1] = static_cast<char>(v >> 8);
}
void PutU32(std::string& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<char>(v >> (8 * i));
}

// A minimal PE32+ image with .osrel and .cmdline sections and, when
// `cert_der` is not empty, an attribute certificate table (WIN_CERTIFICATE,
// PKCS#7 type) embedding it.
std::string MakeUki(const std::string& osrel, const std::string& cmdline,
                    const std::string& cert_der) {
  const size_t pe = 0x40;
  const size_t opt = pe + 24;
  const size_t optsz = 240;
  const size_t table = opt + optsz;
  const size_t data = 0x200;
  std::string b(data, '\0');
  b[0] = 'M';
  b[1] = 'Z';
  PutU32(b, 0x3C, pe);
  b.replace(pe, 4, std::string("PE\0\0", 4));
  PutU16(b, pe + 4, 0x8664);
  PutU16(b, pe + 6, 2);
  PutU16(b, pe + 20, optsz);
  PutU16(b, opt, 0x20b);
  PutU32(b, opt + 108, 16);
  const std::pair<std::string, std::string> secs[2] = {{".osrel", osrel},
                                                       {".cmdline", cmdline}};
  for (size_t i = 0; i < 2; ++i) {
    const size_t h = table + i * 40;
    b.replace(h, secs[i].first.size(), secs[i].first);
    const size_t off = b.size();
    std::string body = secs[i].second;
    body.resize((body.size() + 511) / 512 * 512, '\0');
    PutU32(b, h + 8, secs[i].second.size());
    PutU32(b, h + 16, body.size());
    PutU32(b, h + 20, off);
    b += body;
  }
  if (!cert_der.empty()) {
    std::string wc(8, '\0');
    wc += "\x30\x82pkcs7-prefix" + cert_der + "pkcs7-suffix";
    PutU32(wc, 0, wc.size());
    PutU16(wc, 4, 0x0200);
    PutU16(wc, 6, 0x0002);
    PutU32(b, opt + 144, b.size());
    PutU32(b, opt + 148, wc.size());
    b += wc;
  }
  return b;
}

const char kCertDer[] = "fake-der-certificate-bytes-0123456789";
constexpr size_t kChunk = size_t{512} * 1024;

std::string Pem(const std::string& der) {
  return absl::StrCat("-----BEGIN CERTIFICATE-----\n", absl::Base64Escape(der),
                      "\n-----END CERTIFICATE-----\n");
}

std::string Sha256Hex(const std::string& data) {
  absl::StatusOr<crypto::Digest32> d =
      crypto::Sha256(security::crypto::v1::CONTENT_HASH, crypto::AsBytes(data));
  return d.ok() ? encoding::HexEncode(absl::MakeConstSpan(*d)) : "";
}

TEST(ImageVersion, ParsesAndCompares) {
  absl::StatusOr<ImageVersion> v = ParseImageVersion("1.20.300");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->ToString(), "1.20.300");
  EXPECT_LT(CompareImageVersions(*ParseImageVersion("0.1.9"),
                                 *ParseImageVersion("0.1.10")),
            0);
  EXPECT_GT(CompareImageVersions(*ParseImageVersion("1.0.0"),
                                 *ParseImageVersion("0.99.99")),
            0);
  EXPECT_EQ(CompareImageVersions(*ParseImageVersion("0.1.0"),
                                 *ParseImageVersion("0.1.0")),
            0);
  for (const char* bad : {"", "1", "1.2", "1.2.3.4", "1.2.x", "-1.2.3", "1..3",
                          "1234567.0.0", "1.2.3 ", "v1.2.3"}) {
    EXPECT_FALSE(ParseImageVersion(bad).ok()) << bad;
  }
}

TEST(InspectUki, ReadsSectionsAndSignerCertificate) {
  const std::string rh(64, 'a');
  const std::string uki =
      MakeUki("NAME=x\nIMAGE_VERSION=\"0.2.0\"\n",
              "ve.roothash=" + rh + " ro console=ttyS0", kCertDer);
  absl::StatusOr<UkiInfo> info = InspectUki(uki, kCertDer);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->version, "0.2.0");
  EXPECT_EQ(info->root_hash, rh);
  EXPECT_TRUE(info->signed_with_cert);
  // Another certificate: parsed, but not signed with it.
  info = InspectUki(uki, "another-certificate");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->signed_with_cert);
  // Unsigned.
  info = InspectUki(MakeUki("IMAGE_VERSION=0.2.0\n", "ve.roothash=" + rh, ""),
                    kCertDer);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->signed_with_cert);
}

TEST(InspectUki, RefusesMalformedImages) {
  const std::string rh(64, 'b');
  const std::string good =
      MakeUki("IMAGE_VERSION=0.2.0\n", "ve.roothash=" + rh, kCertDer);
  EXPECT_EQ(InspectUki("", kCertDer).status().message(),
            "UKI: not a PE image (no MZ header)");
  std::string bad = good;
  PutU32(bad, 0x3C, 0x7fffffff);
  EXPECT_EQ(InspectUki(bad, kCertDer).status().message(),
            "UKI: no PE signature");
  bad = good;
  PutU32(bad, 0x40 + 24 + 240 + 20, 0x7ffffff0);  // .osrel raw offset
  EXPECT_EQ(InspectUki(bad, kCertDer).status().message(),
            "UKI: section .osrel out of bounds");
  // Every truncation is refused or parsed within bounds, never read past.
  for (size_t n = 0; n < good.size(); n += 7) {
    (void)InspectUki(good.substr(0, n), kCertDer);
  }
  EXPECT_EQ(InspectUki(MakeUki("NAME=x\n", "ve.roothash=" + rh, ""), "")
                .status()
                .message(),
            "UKI: no IMAGE_VERSION MAJOR.MINOR.PATCH in .osrel");
  EXPECT_EQ(InspectUki(MakeUki("IMAGE_VERSION=1.0.0\n", "ro quiet", ""), "")
                .status()
                .message(),
            "UKI: no ve.roothash=<64 hex> in .cmdline");
}

TEST(PemCertificateToDer, DecodesAndRefuses) {
  absl::StatusOr<std::string> der = PemCertificateToDer(Pem(kCertDer));
  ASSERT_TRUE(der.ok()) << der.status();
  EXPECT_EQ(*der, kCertDer);
  EXPECT_FALSE(PemCertificateToDer("garbage").ok());
  EXPECT_FALSE(PemCertificateToDer("-----BEGIN CERTIFICATE-----\n!!\n"
                                   "-----END CERTIFICATE-----\n")
                   .ok());
}

// ---- Install and Status over the admin socket
// --------------------------------

struct Bundle {
  std::string manifest, uki, root, verity;
  std::string version, root_hash;
};

class ImageAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t =
        std::getenv("TEST_TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    ASSERT_NE(t, nullptr);
    base_ = absl::StrCat(t, "/image-admin-", counter_++);
    ASSERT_EQ(::mkdir(base_.c_str(), 0700), 0);
    absl::StatusOr<path::PathRoot> root = path::PathRoot::Open(base_);
    ASSERT_TRUE(root.ok());
    for (const char* d : {"home", "state", "etc"}) {
      ASSERT_TRUE(root->MakeDirs(d).ok());
    }
    ASSERT_TRUE(root->WriteFileAtomic("etc/os-release",
                                      "NAME=\"VirtEngine Appliance\"\n"
                                      "IMAGE_VERSION=0.1.0\n")
                    .ok());
    running_hash_ = std::string(64, 'c');
    ASSERT_TRUE(
        root->WriteFileAtomic("etc/cmdline",
                              "ve.roothash=" + running_hash_ + " ro panic=10\n")
            .ok());
    ASSERT_TRUE(root->WriteFileAtomic("etc/cert.pem", Pem(kCertDer)).ok());
    ImageAdminConfig c;
    c.home = base_ + "/home";
    c.os_release = base_ + "/etc/os-release";
    c.proc_cmdline = base_ + "/etc/cmdline";
    c.state_dir = base_ + "/state";
    c.signing_cert = base_ + "/etc/cert.pem";
    c.audit = [this](std::string_view action, std::string_view object,
                     const absl::Status& s) {
      audit_.push_back(absl::StrCat(std::string(action), " ",
                                    std::string(object), " ",
                                    s.ok() ? "ok" : s.ToString()));
    };
    service_ = std::make_unique<ImageAdminService>(std::move(c));
    const std::string sock = base_ + "/admin.sock";
    absl::StatusOr<std::unique_ptr<grpc::Server>> server =
        StartAdminServer(sock, {&admin_, service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    // TEST_TMPDIR paths are longer than a Unix socket address holds: the
    // client connects through the directory's descriptor.
    absl::StatusOr<path::PathRoot> dir = path::PathRoot::Open(base_);
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<path::PathRoot>(*std::move(dir));
    stub_ = v1::ImageAdmin::NewStub(grpc::CreateChannel(
        absl::StrCat("unix:/proc/self/fd/", dir_->dir_fd(), "/admin.sock"),
        grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  Bundle MakeBundle(const std::string& version, bool signed_with_cert = true,
                    const std::string& osrel_extra = "") {
    Bundle b;
    b.version = version;
    b.root_hash = std::string(63, 'd') + version.substr(version.size() - 1);
    b.uki = MakeUki(osrel_extra + "IMAGE_VERSION=" + version + "\n",
                    "ve.roothash=" + b.root_hash + " ro",
                    signed_with_cert ? kCertDer : "");
    b.root = std::string(size_t{3} * 1024 * 1024 + 17, 'r');
    b.verity = std::string(8192, 'v');
    b.manifest =
        absl::StrCat(R"({"version": ")", version, R"(", "uki": {"sha256": ")",
                     Sha256Hex(b.uki), R"("}, "root": {"bytes": )",
                     b.root.size(), R"(, "sha256": ")", Sha256Hex(b.root),
                     R"(", "verity": {"root_hash": ")", b.root_hash,
                     R"(", "sha256": ")", Sha256Hex(b.verity), R"("}}})");
    return b;
  }

  grpc::Status Send(const Bundle& b, v1::ImageInstallResponse* resp,
                    bool swap_order = false) {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientWriter<v1::ImageInstallChunk>> w =
        stub_->Install(&ctx, resp);
    v1::ImageInstallChunk h;
    h.mutable_header()->set_manifest(b.manifest);
    h.mutable_header()->set_uki_bytes(b.uki.size());
    h.mutable_header()->set_root_bytes(b.root.size());
    h.mutable_header()->set_verity_bytes(b.verity.size());
    bool ok = w->Write(h);
    std::vector<std::pair<v1::ImagePart, const std::string*>> parts = {
        {v1::IMAGE_PART_UKI, &b.uki},
        {v1::IMAGE_PART_ROOT, &b.root},
        {v1::IMAGE_PART_VERITY, &b.verity}};
    if (swap_order) std::swap(parts[1], parts[2]);
    for (const auto& [part, data] : parts) {
      for (size_t off = 0; ok && off < data->size(); off += kChunk) {
        v1::ImageInstallChunk c;
        c.mutable_data()->set_part(part);
        c.mutable_data()->set_data(data->substr(off, kChunk));
        ok = w->Write(c);
      }
    }
    w->WritesDone();
    return w->Finish();
  }

  std::string ReadHome(const std::string& rel) {
    absl::StatusOr<path::PathRoot> home = path::PathRoot::Open(base_ + "/home");
    if (!home.ok()) return "<no home>";
    absl::StatusOr<std::string> s = home->ReadFile(rel, 16 << 20);
    return s.ok() ? *s : "<" + s.status().ToString() + ">";
  }

  static int counter_;
  std::string base_;
  std::string running_hash_;
  std::vector<std::string> audit_;
  v1::Admin::Service admin_;
  std::unique_ptr<ImageAdminService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<path::PathRoot> dir_;
  std::unique_ptr<v1::ImageAdmin::Stub> stub_;
};
int ImageAdminTest::counter_ = 0;

TEST_F(ImageAdminTest, StagesAVerifiedBundle) {
  const Bundle b = MakeBundle("0.2.0");
  v1::ImageInstallResponse resp;
  grpc::Status s = Send(b, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.version(), "0.2.0");
  EXPECT_EQ(resp.root_hash(), b.root_hash);
  EXPECT_EQ(resp.running_version(), "0.1.0");
  EXPECT_EQ(ReadHome("image/staged/uki.efi"), b.uki);
  EXPECT_EQ(ReadHome("image/staged/root.erofs"), b.root);
  EXPECT_EQ(ReadHome("image/staged/root.verity"), b.verity);
  EXPECT_EQ(ReadHome("image/staged/manifest.json"), b.manifest);
  EXPECT_EQ(ReadHome("image/staged/READY"), "0.2.0\n");
  ASSERT_EQ(audit_.size(), 1u);
  EXPECT_EQ(audit_[0], "node.image_install 0.2.0 ok");

  // Status reports it; a second install waits for the installer.
  grpc::ClientContext ctx;
  v1::ImageStatusResponse st;
  ASSERT_TRUE(stub_->Status(&ctx, v1::ImageStatusRequest(), &st).ok());
  EXPECT_EQ(st.running_version(), "0.1.0");
  EXPECT_EQ(st.running_root_hash(), running_hash_);
  EXPECT_TRUE(st.staged());
  v1::ImageInstallResponse again;
  s = Send(MakeBundle("0.3.0"), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "an update is already staged and waiting for ve-image-install");
}

TEST_F(ImageAdminTest, RefusesADowngradeBelowTheMinimum) {
  absl::StatusOr<path::PathRoot> state = path::PathRoot::Open(base_ + "/state");
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(state->WriteFileAtomic("min-version", "0.2.1\n", 0644).ok());
  v1::ImageInstallResponse resp;
  grpc::Status s = Send(MakeBundle("0.2.0"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "version 0.2.0 is below the minimum version 0.2.1 recorded on "
            "this node (downgrade refused)");
  EXPECT_EQ(ReadHome("image/staged/READY").rfind("<NOT_FOUND", 0), 0u)
      << ReadHome("image/staged/READY");
  // Equal to the minimum is accepted.
  s = Send(MakeBundle("0.2.1"), &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(ImageAdminTest, RefusesTheRunningVersion) {
  v1::ImageInstallResponse resp;
  grpc::Status s = Send(MakeBundle("0.1.0"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "version 0.1.0 is the running version");
}

TEST_F(ImageAdminTest, RefusesAnotherVariant) {
  // A debug image (image/build --debug) over a production one: refused
  // after the UKI was read, nothing staged.
  v1::ImageInstallResponse resp;
  grpc::Status s = Send(MakeBundle("0.2.0", true, "VARIANT_ID=debug\n"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "the update is a debug image and this node runs a production "
            "image: an update keeps the variant");
  EXPECT_EQ(ReadHome("image/staged/READY").rfind("<NOT_FOUND", 0), 0u);
  // The same variant, spelled out, is accepted.
  s = Send(MakeBundle("0.2.0", true, "VARIANT_ID=production\n"), &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(ImageAdminTest, RefusesAPartThatDiffersFromTheManifest) {
  Bundle b = MakeBundle("0.2.0");
  b.root[12345] ^= 1;
  v1::ImageInstallResponse resp;
  grpc::Status s = Send(b, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(s.error_message().rfind("root.erofs: SHA-256 ", 0), 0u)
      << s.error_message();
  EXPECT_EQ(ReadHome("image/staged/READY").rfind("<NOT_FOUND", 0), 0u);
}

TEST_F(ImageAdminTest, RefusesAUkiNotSignedWithTheImageCertificate) {
  v1::ImageInstallResponse resp;
  grpc::Status s = Send(MakeBundle("0.2.0", /*signed_with_cert=*/false), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("the UKI is not signed with the image signing "
                         "certificate ",
                         base_, "/etc/cert.pem"));
}

TEST_F(ImageAdminTest, RefusesPartsOutOfOrderAndBadHeaders) {
  v1::ImageInstallResponse resp;
  grpc::Status s = Send(MakeBundle("0.2.0"), &resp, /*swap_order=*/true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The verity part arrived while the root part was still missing.
  EXPECT_EQ(s.error_message(),
            "root.erofs: got 0 bytes, the header says " +
                std::to_string(size_t{3} * 1024 * 1024 + 17));
  Bundle b = MakeBundle("0.2.0");
  b.manifest = "{\"version\": \"0.2.0\"}";
  s = Send(b, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "manifest: no root.bytes");
}

}  // namespace
}  // namespace virtengine::node
