#include "src/node/attestor.h"

#include <utility>

#include "src/attest/collect.h"
#include "src/common/log/log.h"

namespace virtengine::node {
namespace {

constexpr size_t kMaxAkBlobBytes = 4096;

absl::StatusOr<tpm::AkBlob> LoadOrCreateAk(
    tpm::Tpm& tpm, const security::path::PathRoot& home) {
  absl::StatusOr<std::string> blob =
      home.ReadFile(Attestor::kAkFile, kMaxAkBlobBytes);
  if (blob.ok()) {
    absl::StatusOr<tpm::AkBlob> ak = tpm::AkBlob::Parse(crypto::AsBytes(*blob));
    if (!ak.ok()) return ak.status();
    // Loads it: refused when the blob belongs to another TPM.
    if (absl::StatusOr<crypto::Bytes> pub = tpm.LoadAkPublic(*ak); !pub.ok()) {
      return pub.status();
    }
    return ak;
  }
  if (blob.status().code() != absl::StatusCode::kNotFound) {
    return blob.status();
  }
  absl::StatusOr<tpm::AkBlob> ak = tpm.CreateAk();
  if (!ak.ok()) return ak.status();
  const crypto::Bytes bytes = ak->Serialize();
  if (absl::Status s = home.MakeDirs("keys"); !s.ok()) return s;
  if (absl::Status s = home.WriteFileAtomic(
          Attestor::kAkFile,
          std::string_view(reinterpret_cast<const char*>(bytes.data()),
                           bytes.size()),
          0600);
      !s.ok()) {
    return s;
  }
  log::Info("tpm_ak_created", {{"file", Attestor::kAkFile}});
  return ak;
}

}  // namespace

Attestor::Attestor(std::unique_ptr<tpm::Tpm> tpm, tpm::AkBlob ak,
                   std::vector<uint32_t> pcrs, std::string node_public_key,
                   crypto::Bytes ek_certificate)
    : tpm_(std::move(tpm)),
      ak_(std::move(ak)),
      pcrs_(std::move(pcrs)),
      node_public_key_(std::move(node_public_key)),
      ek_certificate_(std::move(ek_certificate)) {}

absl::StatusOr<std::unique_ptr<Attestor>> Attestor::Open(
    std::string_view tcti, const security::path::PathRoot& home,
    std::vector<uint32_t> pcrs, std::string node_public_key) {
  absl::StatusOr<std::unique_ptr<tpm::Tpm>> t = tpm::Tpm::Open(tcti);
  if (!t.ok()) return t.status();
  absl::StatusOr<tpm::AkBlob> ak = LoadOrCreateAk(**t, home);
  if (!ak.ok()) return ak.status();
  crypto::Bytes ek_cert;
  for (tpm::EkType type : {tpm::EkType::kEccP256, tpm::EkType::kRsa2048}) {
    absl::StatusOr<crypto::Bytes> cert = (*t)->EkCertificate(type);
    if (cert.ok()) {
      ek_cert = *std::move(cert);
      break;
    }
  }
  return std::unique_ptr<Attestor>(
      new Attestor(*std::move(t), *std::move(ak), std::move(pcrs),
                   std::move(node_public_key), std::move(ek_cert)));
}

absl::StatusOr<attest::v1::Evidence> Attestor::Quote(std::string_view purpose,
                                                     crypto::ByteView nonce) {
  absl::MutexLock lock(&mu_);
  return attestation::Collect(*tpm_, ak_, purpose, nonce,
                              crypto::AsBytes(node_public_key_),
                              ek_certificate_, pcrs_);
}

}  // namespace virtengine::node
