#include "security/attest/event_log.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/attest/wire.h"

namespace virtengine::attest {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

constexpr char kDomain[] = "virtengine/measure/v1";

bool NameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
         c == '/' || c == '@' || c == '+' || c == '-';
}

}  // namespace

absl::StatusOr<MeasureKind> MeasureKindFromByte(uint8_t v) {
  if (v < static_cast<uint8_t>(MeasureKind::kImageRootHash) ||
      v > static_cast<uint8_t>(MeasureKind::kBinary)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown measurement kind ", v));
  }
  return static_cast<MeasureKind>(v);
}

uint32_t PcrForKind(MeasureKind kind) {
  switch (kind) {
    case MeasureKind::kImageRootHash:
    case MeasureKind::kKernel:
    case MeasureKind::kInitrd:
    case MeasureKind::kCmdline:
      return kPcrBoot;
    case MeasureKind::kPolicyBundle:
    case MeasureKind::kBinary:
      return kPcrSoftware;
  }
  return kPcrSoftware;
}

const char* MeasureKindName(MeasureKind kind) {
  switch (kind) {
    case MeasureKind::kImageRootHash:
      return "image-root-hash";
    case MeasureKind::kKernel:
      return "kernel";
    case MeasureKind::kInitrd:
      return "initrd";
    case MeasureKind::kCmdline:
      return "cmdline";
    case MeasureKind::kPolicyBundle:
      return "policy-bundle";
    case MeasureKind::kBinary:
      return "binary";
  }
  return "unknown";
}

absl::Status ValidateEventName(std::string_view name) {
  if (name.empty() || name.size() > kMaxEventNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("event name of ", name.size(), " bytes is outside 1..",
                     kMaxEventNameBytes));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event name has a disallowed byte 0x",
          absl::Hex(static_cast<uint8_t>(name[i]), absl::kZeroPad2),
          " at offset ", i));
    }
  }
  return absl::OkStatus();
}

namespace {

absl::Status ValidateEvent(const MeasurementEvent& e) {
  if (e.pcr != PcrForKind(e.kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat("event of kind ", MeasureKindName(e.kind), " is in PCR ",
                     e.pcr, ", not PCR ", PcrForKind(e.kind)));
  }
  return ValidateEventName(e.name);
}

void AppendRecord(crypto::Bytes* out, const MeasurementEvent& e) {
  PutU8(out, static_cast<uint8_t>(e.pcr));
  PutU8(out, static_cast<uint8_t>(e.kind));
  PutU16(out, static_cast<uint16_t>(e.name.size()));
  out->insert(out->end(), e.name.begin(), e.name.end());
  out->insert(out->end(), e.content_digest.begin(), e.content_digest.end());
}

}  // namespace

absl::StatusOr<crypto::Digest32> EventDigest(const MeasurementEvent& event) {
  if (absl::Status s = ValidateEvent(event); !s.ok()) return s;
  crypto::Bytes msg(kDomain, kDomain + sizeof(kDomain));  // includes the NUL
  AppendRecord(&msg, event);
  return crypto::Sha256(v1::CONTENT_HASH, msg);
}

crypto::Bytes EventLogHeader() {
  crypto::Bytes out(kEventLogMagic, kEventLogMagic + 4);
  PutU8(&out, kEventLogVersion);
  PutU8(&out, kEventLogHashSha256);
  PutU16(&out, 0);
  return out;
}

absl::StatusOr<crypto::Bytes> SerializeEvent(const MeasurementEvent& event) {
  if (absl::Status s = ValidateEvent(event); !s.ok()) return s;
  crypto::Bytes out;
  AppendRecord(&out, event);
  return out;
}

absl::StatusOr<std::vector<MeasurementEvent>> ParseEventLog(
    crypto::ByteView bytes) {
  if (bytes.size() > kMaxEventLogBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("event log: ", bytes.size(),
                     " bytes exceeds the limit of ", kMaxEventLogBytes));
  }
  WireReader r(bytes);
  crypto::Bytes magic;
  uint8_t version = 0, hash = 0;
  uint16_t reserved = 0;
  absl::Status s = r.Raw("event log: header", 4, &magic);
  if (!s.ok()) return s;
  if (crypto::AsChars(magic) != "VEML") {
    return absl::InvalidArgumentError("event log: bad magic (not VEML)");
  }
  if (s = r.U8("event log: version", &version); !s.ok()) return s;
  if (version != kEventLogVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("event log: unsupported version ", version));
  }
  if (s = r.U8("event log: hash", &hash); !s.ok()) return s;
  if (hash != kEventLogHashSha256) {
    return absl::InvalidArgumentError(
        absl::StrCat("event log: unsupported hash ", hash));
  }
  if (s = r.U16("event log: reserved", &reserved); !s.ok()) return s;
  if (reserved != 0) {
    return absl::InvalidArgumentError("event log: reserved bytes are not 0");
  }
  std::vector<MeasurementEvent> events;
  while (!r.done()) {
    const size_t index = events.size();
    const size_t offset = r.offset();
    auto where = [&](const absl::Status& st) {
      return absl::InvalidArgumentError(
          absl::StrCat("event log: record ", index, " at offset ", offset, ": ",
                       st.message()));
    };
    if (index >= kMaxEventLogRecords) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event log: more than ", kMaxEventLogRecords, " records"));
    }
    uint8_t pcr = 0, kind = 0;
    uint16_t name_len = 0;
    crypto::Bytes name, digest;
    if (s = r.U8("pcr", &pcr); !s.ok()) return where(s);
    if (s = r.U8("kind", &kind); !s.ok()) return where(s);
    if (s = r.U16("name length", &name_len); !s.ok()) return where(s);
    if (name_len == 0 || name_len > kMaxEventNameBytes) {
      return where(absl::InvalidArgumentError(absl::StrCat(
          "name length ", name_len, " is outside 1..", kMaxEventNameBytes)));
    }
    if (s = r.Raw("name", name_len, &name); !s.ok()) return where(s);
    if (s = r.Raw("content digest", 32, &digest); !s.ok()) return where(s);
    absl::StatusOr<MeasureKind> k = MeasureKindFromByte(kind);
    if (!k.ok()) return where(k.status());
    MeasurementEvent e;
    e.pcr = pcr;
    e.kind = *k;
    e.name = crypto::ToString(name);
    std::copy(digest.begin(), digest.end(), e.content_digest.begin());
    if (s = ValidateEvent(e); !s.ok()) return where(s);
    events.push_back(std::move(e));
  }
  return events;
}

crypto::Bytes SerializeEventLog(const std::vector<MeasurementEvent>& events) {
  crypto::Bytes out = EventLogHeader();
  for (const MeasurementEvent& e : events) AppendRecord(&out, e);
  return out;
}

absl::StatusOr<std::map<uint32_t, crypto::Digest32>> ReplayEventLog(
    const std::vector<MeasurementEvent>& events) {
  std::map<uint32_t, crypto::Digest32> pcrs;
  for (uint32_t p : kMeasuredPcrs) pcrs[p] = crypto::Digest32{};
  for (const MeasurementEvent& e : events) {
    absl::StatusOr<crypto::Digest32> d = EventDigest(e);
    if (!d.ok()) return d.status();
    crypto::Digest32& v = pcrs[e.pcr];
    crypto::Bytes buf(v.begin(), v.end());
    buf.insert(buf.end(), d->begin(), d->end());
    absl::StatusOr<crypto::Digest32> next =
        crypto::Sha256(v1::CONTENT_HASH, buf);
    if (!next.ok()) return next.status();
    v = *next;
  }
  return pcrs;
}

}  // namespace virtengine::attest
