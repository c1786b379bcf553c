// envelope_tool: drives security/envelope from files, for the interoperability
// test (tests/interop/envelope_interop_test.sh) and for people checking an
// independent implementation by hand. Keys are raw 32-byte files. Every file
// is named relative to --dir and opened through security/path.
//
//   envelope_tool --dir DIR keygen SK_FILE PK_FILE
//   envelope_tool --dir DIR seal PLAINTEXT_FILE ENVELOPE_OUT PK_FILE...
//   envelope_tool --dir DIR open ENVELOPE_FILE SK_FILE PLAINTEXT_OUT
//   envelope_tool --dir DIR open-each SK_FILE ENVELOPE_FILE...
//       (opens each file; prints "FILE ok" or "FILE CODE: message" per file)
//   envelope_tool --dir DIR header ENVELOPE_FILE
//   envelope_tool --dir DIR fingerprint PK_FILE
//
// Exit status: 0 ok, 1 refused or failed (status code and message on
// stderr), 2 usage.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "security/envelope/envelope.h"
#include "security/path/path.h"

namespace virtengine::envelope {
namespace {

using security::path::PathRoot;

constexpr size_t kKeyFileMax = 64;

std::string Hex(ByteView b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 0xf]);
  }
  return s;
}

absl::StatusOr<EnvelopeRecipientKey> ReadPublicKey(const PathRoot& root,
                                                   const std::string& name) {
  absl::StatusOr<std::string> b = root.ReadFile(name, kKeyFileMax);
  if (!b.ok()) return b.status();
  return EnvelopeRecipientKey::FromBytes(crypto::AsBytes(*b));
}

absl::StatusOr<EnvelopePrivateKey> ReadPrivateKey(const PathRoot& root,
                                                  const std::string& name) {
  absl::StatusOr<std::string> b = root.ReadFile(name, kKeyFileMax);
  if (!b.ok()) return b.status();
  SecretBytes secret = SecretBytes::CopyFrom(*b);
  crypto::SecureWipe(b->data(), b->size());
  return EnvelopePrivateKey::FromBytes(secret);
}

absl::Status Keygen(const PathRoot& root, const std::vector<std::string>& a) {
  absl::StatusOr<EnvelopePrivateKey> k = EnvelopePrivateKey::Generate();
  if (!k.ok()) return k.status();
  if (absl::Status s =
          root.WriteFileAtomic(a[0], crypto::AsChars(k->secret().view()), 0600);
      !s.ok()) {
    return s;
  }
  return root.WriteFileAtomic(a[1], crypto::AsChars(k->public_key().view()),
                              0644);
}

absl::Status SealCmd(const PathRoot& root, const std::vector<std::string>& a) {
  // One byte over the limit so that Seal, not the reader, reports it.
  absl::StatusOr<std::string> plain = root.ReadFile(a[0], kMaxPayloadBytes + 1);
  if (!plain.ok()) return plain.status();
  std::vector<EnvelopeRecipientKey> pubs;
  for (size_t i = 2; i < a.size(); ++i) {
    absl::StatusOr<EnvelopeRecipientKey> pk = ReadPublicKey(root, a[i]);
    if (!pk.ok()) {
      return absl::Status(pk.status().code(),
                          absl::StrCat(a[i], ": ", pk.status().message()));
    }
    pubs.push_back(*pk);
  }
  absl::StatusOr<Bytes> env = Seal(crypto::AsBytes(*plain), pubs);
  if (!env.ok()) return env.status();
  return root.WriteFileAtomic(a[1], crypto::AsChars(*env), 0644);
}

absl::Status OpenCmd(const PathRoot& root, const std::vector<std::string>& a) {
  absl::StatusOr<std::string> env = root.ReadFile(a[0], kMaxEnvelopeBytes);
  if (!env.ok()) return env.status();
  absl::StatusOr<EnvelopePrivateKey> key = ReadPrivateKey(root, a[1]);
  if (!key.ok()) return key.status();
  absl::StatusOr<SecretBytes> plain = Open(crypto::AsBytes(*env), *key);
  if (!plain.ok()) return plain.status();
  return root.WriteFileAtomic(a[2], crypto::AsChars(plain->view()), 0600);
}

absl::Status OpenEachCmd(const PathRoot& root,
                         const std::vector<std::string>& a) {
  absl::StatusOr<EnvelopePrivateKey> key = ReadPrivateKey(root, a[0]);
  if (!key.ok()) return key.status();
  for (size_t i = 1; i < a.size(); ++i) {
    absl::Status s;
    absl::StatusOr<std::string> env = root.ReadFile(a[i], kMaxEnvelopeBytes);
    if (env.ok()) {
      s = Open(crypto::AsBytes(*env), *key).status();
    } else {
      s = env.status();
    }
    (void)std::printf("%s %s\n", a[i].c_str(),
                      s.ok() ? "ok" : s.ToString().c_str());
  }
  return absl::OkStatus();
}

absl::Status HeaderCmd(const PathRoot& root,
                       const std::vector<std::string>& a) {
  absl::StatusOr<std::string> env = root.ReadFile(a[0], kMaxEnvelopeBytes);
  if (!env.ok()) return env.status();
  absl::StatusOr<EnvelopeHeader> h = ParseHeader(crypto::AsBytes(*env));
  if (!h.ok()) return h.status();
  std::string out = absl::StrCat(
      "version ", h->version, "\nalgorithm ", h->algorithm, "\npayload_length ",
      h->payload_length, "\nkey_commitment ",
      Hex(ByteView(h->key_commitment.data(), h->key_commitment.size())),
      "\nrecipients ", h->recipients.size(), "\n");
  for (size_t i = 0; i < h->recipients.size(); ++i) {
    absl::StrAppend(&out, "recipient ", i, " ",
                    FingerprintHex(h->recipients[i].fingerprint), "\n");
  }
  (void)std::fputs(out.c_str(), stdout);
  return absl::OkStatus();
}

absl::Status FingerprintCmd(const PathRoot& root,
                            const std::vector<std::string>& a) {
  absl::StatusOr<EnvelopeRecipientKey> pk = ReadPublicKey(root, a[0]);
  if (!pk.ok()) return pk.status();
  (void)std::printf("%s\n", FingerprintHex(pk->fingerprint()).c_str());
  return absl::OkStatus();
}

int Usage() {
  (void)std::fputs(
      "usage: envelope_tool --dir DIR COMMAND ARGS...\n"
      "  keygen SK_FILE PK_FILE\n"
      "  seal PLAINTEXT_FILE ENVELOPE_OUT PK_FILE...   (1..16 keys)\n"
      "  open ENVELOPE_FILE SK_FILE PLAINTEXT_OUT\n"
      "  open-each SK_FILE ENVELOPE_FILE...\n"
      "  header ENVELOPE_FILE\n"
      "  fingerprint PK_FILE\n"
      "Files are named relative to DIR. Exit 0 ok, 1 failed, 2 usage.\n",
      stderr);
  return 2;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 3 || args[0] != "--dir") return Usage();
  const std::string dir = args[1];
  const std::string cmd = args[2];
  std::vector<std::string> rest(args.begin() + 3, args.end());

  struct Command {
    std::string_view name;
    size_t min_args;
    size_t max_args;
    absl::Status (*run)(const PathRoot&, const std::vector<std::string>&);
  };
  static const Command kCommands[] = {
      {"keygen", 2, 2, Keygen},    {"seal", 3, 2 + kMaxRecipients + 1, SealCmd},
      {"open", 3, 3, OpenCmd},     {"open-each", 2, 100000, OpenEachCmd},
      {"header", 1, 1, HeaderCmd}, {"fingerprint", 1, 1, FingerprintCmd},
  };
  for (const Command& c : kCommands) {
    if (c.name != cmd) continue;
    if (rest.size() < c.min_args || rest.size() > c.max_args) return Usage();
    absl::StatusOr<PathRoot> root = PathRoot::Open(dir);
    absl::Status s = root.ok() ? c.run(*root, rest) : root.status();
    if (!s.ok()) {
      (void)std::fprintf(stderr, "envelope_tool: %s: %s\n", cmd.c_str(),
                         s.ToString().c_str());
      return 1;
    }
    return 0;
  }
  return Usage();
}

}  // namespace
}  // namespace virtengine::envelope

int main(int argc, char** argv) {
  return virtengine::envelope::Main(argc, argv);
}
