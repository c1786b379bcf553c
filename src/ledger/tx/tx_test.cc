#include "src/ledger/tx/tx.h"

#include <gtest/gtest.h>

#include "src/common/encoding/hex.h"

namespace virtengine::ledger {
namespace {

namespace cv1 = ::virtengine::security::crypto::v1;
using crypto::Ed25519PrivateKey;
using crypto::SecretBytes;

constexpr char kChain[] = "virtengine-test-1";

Ed25519PrivateKey Rfc8032Key1() {
  auto seed = encoding::HexDecode(
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", 32);
  auto key = Ed25519PrivateKey::FromSeed(cv1::TX_SIGNATURE,
                                         SecretBytes::CopyFrom(*seed));
  return *std::move(key);
}

tx::v1::TxBody Body(std::string memo = "hello") {
  tx::v1::TxBody body;
  auto* any = body.add_messages();
  any->set_type_url("/virtengine.bank.v1.MsgSend");
  any->set_value("opaque-message-bytes");
  body.set_memo(std::move(memo));
  return body;
}

tx::v1::AuthInfo Auth(const Ed25519PrivateKey& key, uint64_t seq = 0) {
  tx::v1::AuthInfo a;
  const auto& pk = key.public_key().bytes();
  a.set_public_key(pk.data(), pk.size());
  a.set_sequence(seq);
  a.mutable_fee()->set_amount(10);
  a.mutable_fee()->set_denom("uve");
  return a;
}

TEST(AddressTest, Rfc8032Key1) {
  // Cross-checked with the BIP-173 reference implementation in Python:
  // bech32("ve", sha256(pk)[:20]).
  EXPECT_EQ(AddressFromPublicKey(Rfc8032Key1().public_key()),
            "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3");
}

TEST(SignBytesTest, Layout) {
  std::string b = SignBytes("c", "BB", "A");
  EXPECT_EQ(b, std::string("virtengine/tx/v1\0", 17) +
                   std::string("\0\0\0\1c\0\0\0\2BB\0\0\0\1A", 16));
}

TEST(TxTest, SignDecodeVerify) {
  Ed25519PrivateKey key = Rfc8032Key1();
  auto raw = SignTx(Body(), Auth(key, 7), kChain, key);
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto tx = DecodeTx(*raw);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(tx->auth_info.sequence(), 7u);
  EXPECT_EQ(tx->body.memo(), "hello");
  EXPECT_EQ(tx->signer_address, "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3");
  EXPECT_TRUE(VerifyTxSignature(*tx, kChain).ok());
  auto again = DecodeTx(*raw);
  EXPECT_EQ(HexOf(again->hash), HexOf(tx->hash));
}

TEST(TxTest, WrongChainIdIsUnauthenticated) {
  Ed25519PrivateKey key = Rfc8032Key1();
  auto tx = DecodeTx(*SignTx(Body(), Auth(key), kChain, key));
  ASSERT_TRUE(tx.ok());
  absl::Status s = VerifyTxSignature(*tx, "other-chain");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("other-chain"), std::string::npos);
}

TEST(TxTest, ForgedSignatureAndSwappedKey) {
  Ed25519PrivateKey key = Rfc8032Key1();
  tx::v1::TxRaw raw;
  ASSERT_TRUE(raw.ParseFromString(*SignTx(Body(), Auth(key), kChain, key)));
  std::string sig = raw.signature();
  sig[5] = static_cast<char>(sig[5] ^ 1);
  raw.set_signature(sig);
  auto tx = DecodeTx(raw.SerializeAsString());
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(VerifyTxSignature(*tx, kChain).code(),
            absl::StatusCode::kUnauthenticated);

  // A valid signature by another key than the one named in AuthInfo.
  auto other = Ed25519PrivateKey::Generate(cv1::TX_SIGNATURE);
  auto forged = SignTx(Body(), Auth(key), kChain, *other);
  auto ftx = DecodeTx(*forged);
  ASSERT_TRUE(ftx.ok());
  EXPECT_EQ(VerifyTxSignature(*ftx, kChain).code(),
            absl::StatusCode::kUnauthenticated);
}

void ExpectRejected(const std::string& raw, const std::string& reason) {
  auto tx = DecodeTx(raw);
  ASSERT_FALSE(tx.ok()) << reason;
  EXPECT_EQ(tx.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tx.status().message().find(reason), std::string::npos)
      << "want '" << reason << "' in " << tx.status();
}

TEST(TxTest, BadInputRefusedWithReason) {
  Ed25519PrivateKey key = Rfc8032Key1();
  ExpectRejected("", "tx: empty");
  ExpectRejected(std::string(size_t{70} * 1024, 'x'),
                 "exceeds the limit of 65536");
  ExpectRejected("\xff\xff\xff", "not a valid protobuf");

  tx::v1::TxRaw raw;
  ASSERT_TRUE(raw.ParseFromString(*SignTx(Body(), Auth(key), kChain, key)));
  tx::v1::TxRaw no_sig = raw;
  no_sig.clear_signature();
  ExpectRejected(no_sig.SerializeAsString(), "missing signature");

  ExpectRejected(*SignTx(tx::v1::TxBody(), Auth(key), kChain, key),
                 "no messages");
  ExpectRejected(*SignTx(Body(std::string(300, 'm')), Auth(key), kChain, key),
                 "memo of 300 bytes");
  ExpectRejected(*SignTx(Body("bad \xc3\x28 utf8"), Auth(key), kChain, key),
                 "not valid UTF-8");

  tx::v1::AuthInfo short_key = Auth(key);
  short_key.set_public_key("abc");
  ExpectRejected(*SignTx(Body(), short_key, kChain, key), "3 bytes, want 32");

  // Unknown field 99 appended to the body bytes.
  tx::v1::TxRaw unknown = raw;
  unknown.mutable_body_bytes()->append(std::string("\x98\x06\x01", 3));
  ExpectRejected(unknown.SerializeAsString(), "TxBody carries unknown fields");
}

}  // namespace
}  // namespace virtengine::ledger
