#include "security/attest/event_log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "security/crypto/hash.h"

namespace virtengine::attest {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;

MeasurementEvent Ev(MeasureKind kind, const std::string& name, uint8_t fill) {
  MeasurementEvent e;
  e.kind = kind;
  e.pcr = PcrForKind(kind);
  e.name = name;
  e.content_digest.fill(fill);
  return e;
}

crypto::Digest32 Extend(const crypto::Digest32& pcr,
                        const crypto::Digest32& d) {
  crypto::Bytes b(pcr.begin(), pcr.end());
  b.insert(b.end(), d.begin(), d.end());
  return *crypto::Sha256(v1::CONTENT_HASH, b);
}

TEST(EventLogTest, RoundTripAndReplay) {
  std::vector<MeasurementEvent> events = {
      Ev(MeasureKind::kImageRootHash, "rootfs", 1),
      Ev(MeasureKind::kKernel, "vmlinuz", 2),
      Ev(MeasureKind::kBinary, "ve-node", 3),
  };
  crypto::Bytes log = SerializeEventLog(events);
  EXPECT_EQ(log.size(), 8u + (4 + 6 + 32) + (4 + 7 + 32) + (4 + 7 + 32));
  absl::StatusOr<std::vector<MeasurementEvent>> parsed = ParseEventLog(log);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[1].name, "vmlinuz");
  EXPECT_EQ(SerializeEventLog(*parsed), log);

  // Independent replay: the documented event digest, extended in order.
  crypto::Digest32 p8{}, p9{};
  for (const MeasurementEvent& e : events) {
    crypto::Bytes msg;
    const std::string domain = "virtengine/measure/v1";
    msg.insert(msg.end(), domain.begin(), domain.end());
    msg.push_back(0);
    msg.push_back(static_cast<uint8_t>(e.pcr));
    msg.push_back(static_cast<uint8_t>(e.kind));
    msg.push_back(0);
    msg.push_back(static_cast<uint8_t>(e.name.size()));
    msg.insert(msg.end(), e.name.begin(), e.name.end());
    msg.insert(msg.end(), e.content_digest.begin(), e.content_digest.end());
    crypto::Digest32 d = *crypto::Sha256(v1::CONTENT_HASH, msg);
    EXPECT_EQ(*EventDigest(e), d);
    if (e.pcr == 8) p8 = Extend(p8, d);
    if (e.pcr == 9) p9 = Extend(p9, d);
  }
  absl::StatusOr<std::map<uint32_t, crypto::Digest32>> r =
      ReplayEventLog(*parsed);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(8), p8);
  EXPECT_EQ(r->at(9), p9);
}

TEST(EventLogTest, RefusesMalformed) {
  crypto::Bytes good =
      SerializeEventLog({Ev(MeasureKind::kCmdline, "cmdline", 7)});
  for (size_t n = 0; n < good.size(); ++n) {
    if (n == kEventLogHeaderBytes) continue;  // an empty log is valid
    absl::StatusOr<std::vector<MeasurementEvent>> p =
        ParseEventLog(crypto::ByteView(good.data(), n));
    EXPECT_FALSE(p.ok()) << n;
  }
  crypto::Bytes b = good;
  b[0] = 'X';
  EXPECT_EQ(ParseEventLog(b).status().message(),
            "event log: bad magic (not VEML)");
  b = good;
  b[4] = 2;
  EXPECT_EQ(ParseEventLog(b).status().message(),
            "event log: unsupported version 2");
  b = good;
  b[8] = 9;  // cmdline belongs in PCR 8
  EXPECT_EQ(ParseEventLog(b).status().message(),
            "event log: record 0 at offset 8: event of kind cmdline is in PCR "
            "9, not PCR 8");
  b = good;
  b[9] = 0x42;
  EXPECT_EQ(ParseEventLog(b).status().message(),
            "event log: record 0 at offset 8: unknown measurement kind 66");
  b = good;
  b[12] = ' ';
  EXPECT_EQ(ParseEventLog(b).status().message(),
            "event log: record 0 at offset 8: event name has a disallowed "
            "byte 0x20 at offset 0");
  b = good;
  b[11] = 0;
  EXPECT_EQ(ParseEventLog(b).status().message(),
            "event log: record 0 at offset 8: name length 0 is outside 1..128");
  crypto::Bytes huge(kMaxEventLogBytes + 1, 0);
  EXPECT_FALSE(ParseEventLog(huge).ok());
}

TEST(EventLogTest, NamesAreValidated) {
  EXPECT_TRUE(ValidateEventName("usr/bin/ve-node@1.2+x:y_z").ok());
  EXPECT_FALSE(ValidateEventName("").ok());
  EXPECT_FALSE(ValidateEventName(std::string(129, 'a')).ok());
  EXPECT_FALSE(ValidateEventName("a b").ok());
  MeasurementEvent e = Ev(MeasureKind::kBinary, "x", 0);
  e.pcr = 8;
  EXPECT_FALSE(SerializeEvent(e).ok());
}

}  // namespace
}  // namespace virtengine::attest
