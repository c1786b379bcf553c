// Writes the seed corpus of the envelope_open fuzz target: valid envelopes
// sealed to the fixed fuzz key (1 and 3 recipients, empty payload), one not
// addressed to it, and truncated, extended and corrupted variants.
//
//   bazel run //fuzz/envelope_open:make_corpus --
//   "$PWD/fuzz/envelope_open/corpus"
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/envelope_open/fuzz_key.h"
#include "security/crypto/bytes.h"
#include "security/envelope/envelope.h"
#include "security/path/path.h"

namespace virtengine::envelope {
namespace {

using security::path::PathRoot;

absl::Status Write(const PathRoot& root, const std::string& name,
                   const Bytes& b) {
  return root.WriteFileAtomic(name, crypto::AsChars(b), 0644);
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    (void)std::fputs("usage: make_corpus ABSOLUTE_CORPUS_DIR\n", stderr);
    return 2;
  }
  absl::StatusOr<PathRoot> root = PathRoot::Open(argv[1]);
  auto fuzz_key = EnvelopePrivateKey::FromBytes(SecretBytes::CopyFrom(
      ByteView(fuzz::kFuzzSecretKey, sizeof fuzz::kFuzzSecretKey)));
  auto other1 = EnvelopePrivateKey::Generate();
  auto other2 = EnvelopePrivateKey::Generate();
  if (!root.ok() || !fuzz_key.ok() || !other1.ok() || !other2.ok()) {
    (void)std::fputs("make_corpus: setup failed\n", stderr);
    return 1;
  }
  const EnvelopeRecipientKey me = fuzz_key->public_key();
  const EnvelopeRecipientKey o1 = other1->public_key();
  const EnvelopeRecipientKey o2 = other2->public_key();

  std::vector<std::pair<std::string, Bytes>> out;
  auto seal = [&](std::string_view text,
                  const std::vector<EnvelopeRecipientKey>& to) -> Bytes {
    auto e = Seal(crypto::AsBytes(text), to);
    if (!e.ok()) std::abort();
    return *e;
  };
  const Bytes v1 = seal("identity scope", {me});
  const Bytes v3 = seal(std::string(100, 'p'), {o1, me, o2});
  out.emplace_back("valid_1_recipient", v1);
  out.emplace_back("valid_3_recipients", v3);
  out.emplace_back("valid_empty_payload", seal("", {me}));
  out.emplace_back("not_addressed", seal("for others", {o1, o2}));

  auto edit = [&](const std::string& name, const Bytes& base, size_t off,
                  uint8_t value) {
    Bytes b = base;
    b[off] = value;
    out.emplace_back(name, std::move(b));
  };
  const size_t h3 = kFixedHeaderSize + 3 * kRecipientEntrySize;
  out.emplace_back("truncated_fixed_header",
                   Bytes(v1.begin(), v1.begin() + 30));
  out.emplace_back("truncated_in_entry", Bytes(v3.begin(), v3.begin() + 200));
  out.emplace_back("truncated_payload", Bytes(v1.begin(), v1.end() - 1));
  Bytes longer = v1;
  longer.push_back(0);
  out.emplace_back("trailing_byte", longer);
  edit("bad_magic", v1, 0, 'W');
  edit("bad_version", v1, 4, 2);
  edit("bad_algorithm", v1, 5, 7);
  edit("count_zero", v1, 7, 0);
  edit("count_17", v1, 7, 17);
  edit("payload_length_too_big", v1, 8, 0x01);
  Bytes dup = v3;
  for (size_t i = 0; i < kFingerprintSize; ++i) {
    dup[kFixedHeaderSize + kRecipientEntrySize + i] = dup[kFixedHeaderSize + i];
  }
  out.emplace_back("duplicate_fingerprint", dup);
  edit("flipped_payload", v3, h3 + 40, v3[h3 + 40] ^ 1);
  edit("flipped_commitment", v3, 12, v3[12] ^ 1);
  edit("flipped_own_sealed_key", v3,
       kFixedHeaderSize + kRecipientEntrySize + 80,
       v3[kFixedHeaderSize + kRecipientEntrySize + 80] ^ 1);
  edit("flipped_other_entry_nonce", v3, kFixedHeaderSize + 50,
       v3[kFixedHeaderSize + 50] ^ 1);
  edit("flipped_ephemeral_top_bit", v1, kFixedHeaderSize + 16 + 31,
       v1[kFixedHeaderSize + 16 + 31] ^ 0x80);

  for (const auto& [name, bytes] : out) {
    if (absl::Status s = Write(*root, name, bytes); !s.ok()) {
      (void)std::fprintf(stderr, "make_corpus: %s: %s\n", name.c_str(),
                         s.ToString().c_str());
      return 1;
    }
  }
  (void)std::printf("wrote %zu corpus files\n", out.size());
  return 0;
}

}  // namespace
}  // namespace virtengine::envelope

int main(int argc, char** argv) {
  return virtengine::envelope::Main(argc, argv);
}
