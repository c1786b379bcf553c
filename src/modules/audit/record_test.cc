#include "src/modules/audit/record.h"

#include <gtest/gtest.h>

#include <string>

#include "src/common/encoding/hex.h"

namespace virtengine::audit {
namespace {

std::string Digest() {
  std::string d(32, '\0');
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<char>(i);
  return d;
}

Record Example() {
  Record r;
  r.seq = 1;
  r.height = 7;
  r.kind = "node.audit_log_head";
  r.subject = "node-1 security audit log";
  r.actor = "ve1y8lrrhap2j3xzcntlp2qgm7jyudhhm2tyrvzn3";
  r.digest = Digest();
  r.details["records"] = "42";
  return r;
}

// The worked example of docs/ledger/modules.md, computed independently
// (Python hashlib and struct.pack).
TEST(RecordTest, WorkedExampleBytesAndHead) {
  const std::string bytes = EncodeRecord(Example());
  EXPECT_EQ(encoding::HexEncode(bytes),
            "00000000000000010000000000000007000000136e6f64652e61756469745f6c"
            "6f675f68656164000000196e6f64652d31207365637572697479206175646974"
            "206c6f670000002976653179386c7272686170326a33787a636e746c70327167"
            "6d376a79756468686d32747972767a6e3300000020000102030405060708090a"
            "0b0c0d0e0f101112131415161718191a1b1c1d1e1f0000000100000007726563"
            "6f726473000000023432");
  EXPECT_EQ(bytes.size(), 170u);
  auto head = ChainHead(Head{}, bytes);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(encoding::HexEncode(absl::Span<const uint8_t>(head->data(), 32)),
            "477b049d93c021caa1d0516d51f9ad3b9f41456075243c1470532f3bf616ec66");
  // Every byte of the record matters.
  std::string flipped = bytes;
  flipped[20] = static_cast<char>(flipped[20] ^ 1);
  EXPECT_NE(*ChainHead(Head{}, flipped), *head);
  // The previous head matters.
  Head other{};
  other[0] = 1;
  EXPECT_NE(*ChainHead(other, bytes), *head);
}

TEST(RecordTest, DecodeIsTheInverseAndStrict) {
  const std::string bytes = EncodeRecord(Example());
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(EncodeRecord(*r), bytes);
  EXPECT_EQ(r->details.at("records"), "42");
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeRecord(bytes.substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_EQ(DecodeRecord(bytes + "x").status().message(),
            "audit: corrupt record: trailing bytes");
  // Details out of order are not canonical.
  Record two = Example();
  two.details["alpha"] = "1";
  std::string enc = EncodeRecord(two);
  const size_t a = enc.find("alpha");
  const size_t rec = enc.find("records");
  ASSERT_LT(a, rec);
  // Swap the two detail entries (each: len key, key, len value, value).
  const std::string first = enc.substr(a - 4, rec - a);
  const std::string second = enc.substr(rec - 4);
  const std::string swapped = enc.substr(0, a - 4) + second + first;
  EXPECT_EQ(DecodeRecord(swapped).status().message(),
            "audit: corrupt record: details not in key order");
  // Invalid fields do not decode either.
  Record bad = Example();
  bad.kind = "Bad Kind";
  EXPECT_EQ(DecodeRecord(EncodeRecord(bad)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(RecordTest, Validation) {
  EXPECT_TRUE(ValidateRecord("r", Example()).ok());
  Record r = Example();
  r.kind = "";
  EXPECT_EQ(ValidateRecord("r", r).code(), absl::StatusCode::kInvalidArgument);
  r = Example();
  r.kind = "UPPER";
  EXPECT_EQ(ValidateRecord("r", r).code(), absl::StatusCode::kInvalidArgument);
  r = Example();
  r.subject = "";
  EXPECT_EQ(ValidateRecord("r", r).message(), "r.subject: empty");
  r.subject = "line\nbreak";
  EXPECT_EQ(ValidateRecord("r", r).code(), absl::StatusCode::kInvalidArgument);
  r.subject = std::string(257, 'a');
  EXPECT_EQ(ValidateRecord("r", r).code(), absl::StatusCode::kInvalidArgument);
  r.subject = "bad \xc3\x28 utf8";
  EXPECT_EQ(ValidateRecord("r", r).code(), absl::StatusCode::kInvalidArgument);
  r = Example();
  r.digest = std::string(31, 'x');
  EXPECT_EQ(ValidateRecord("r", r).message(), "r.digest: 31 bytes, want 32");
  r = Example();
  for (int i = 0; i < 17; ++i) r.details["k" + std::to_string(i)] = "v";
  EXPECT_EQ(ValidateRecord("r", r).code(), absl::StatusCode::kInvalidArgument);
  r = Example();
  r.details["Bad Key"] = "v";
  EXPECT_EQ(ValidateRecord("r", r).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RecordTest, ProtoRoundTripRefusesUnsortedDetails) {
  v1::AuditRecord p = ToProto(Example());
  auto back = FromProto(p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EncodeRecord(*back), EncodeRecord(Example()));
  v1::Detail* d = p.add_details();
  d->set_key("alpha");  // after "records": unsorted
  EXPECT_EQ(FromProto(p).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace virtengine::audit
