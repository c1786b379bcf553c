#include "security/tpm/measure.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/path/path.h"

namespace virtengine::tpm {

namespace v1 = ::virtengine::security::crypto::v1;
using security::path::PathRoot;
using security::path::UniqueFd;

namespace {

struct Split {
  std::string dir;
  std::string name;
};

absl::StatusOr<Split> SplitPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path \"", path, "\" is not absolute"));
  }
  const size_t slash = path.rfind('/');
  Split s{slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
  if (absl::Status st = security::path::ValidateRelativePath(s.name);
      !st.ok() || s.name == ".") {
    return absl::InvalidArgumentError(
        absl::StrCat("path \"", path, "\" does not name a file"));
  }
  return s;
}

std::string ErrnoText(int err) {
  char buf[128];
  // GNU strerror_r: returns a pointer to the message (maybe not into buf).
  const char* text = strerror_r(err, buf, sizeof(buf));
  return text == nullptr ? absl::StrCat("errno ", err) : std::string(text);
}

absl::Status WriteAll(int fd, const crypto::Bytes& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrCat("event log write failed: ", ErrnoText(errno)));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    return absl::InternalError(
        absl::StrCat("event log fsync failed: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<crypto::Digest32> HashFile(const std::string& absolute_path) {
  absl::StatusOr<Split> split = SplitPath(absolute_path);
  if (!split.ok()) return split.status();
  absl::StatusOr<PathRoot> root = PathRoot::Open(split->dir);
  if (!root.ok()) return root.status();
  absl::StatusOr<UniqueFd> fd = root->OpenRead(split->name);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<crypto::Sha256Stream> h =
      crypto::Sha256Stream::Create(v1::CONTENT_HASH);
  if (!h.ok()) return h.status();
  crypto::Bytes buf(1 << 16);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = read(fd->get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrCat("read ", absolute_path, ": ", ErrnoText(errno)));
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > kMaxMeasuredFileBytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          absolute_path, " is larger than ", kMaxMeasuredFileBytes, " bytes"));
    }
    h->Update(crypto::ByteView(buf.data(), static_cast<size_t>(n)));
  }
  return h->Finish();
}

absl::StatusOr<attest::MeasurementEvent> MakeEvent(
    attest::MeasureKind kind, const std::string& name,
    const crypto::Digest32& content_digest) {
  if (absl::Status s = attest::ValidateEventName(name); !s.ok()) return s;
  attest::MeasurementEvent e;
  e.kind = kind;
  e.pcr = attest::PcrForKind(kind);
  e.name = name;
  e.content_digest = content_digest;
  return e;
}

absl::StatusOr<std::vector<attest::MeasurementEvent>> ReadEventLog(
    const std::string& log_path) {
  absl::StatusOr<Split> split = SplitPath(log_path);
  if (!split.ok()) return split.status();
  absl::StatusOr<PathRoot> root = PathRoot::Open(split->dir);
  if (!root.ok()) return root.status();
  absl::StatusOr<std::string> text =
      root->ReadFile(split->name, attest::kMaxEventLogBytes);
  if (!text.ok()) return text.status();
  return attest::ParseEventLog(crypto::AsBytes(*text));
}

absl::Status Measure(Tpm& tpm, const std::string& log_path,
                     const std::vector<attest::MeasurementEvent>& events) {
  if (events.empty()) return absl::InvalidArgumentError("nothing to measure");
  crypto::Bytes records;
  std::vector<crypto::Digest32> digests;
  for (const attest::MeasurementEvent& e : events) {
    absl::StatusOr<crypto::Bytes> r = attest::SerializeEvent(e);
    if (!r.ok()) return r.status();
    absl::StatusOr<crypto::Digest32> d = attest::EventDigest(e);
    if (!d.ok()) return d.status();
    records.insert(records.end(), r->begin(), r->end());
    digests.push_back(*d);
  }
  absl::StatusOr<Split> split = SplitPath(log_path);
  if (!split.ok()) return split.status();
  absl::StatusOr<PathRoot> root = PathRoot::Open(split->dir);
  if (!root.ok()) return root.status();
  absl::StatusOr<std::string> existing =
      root->ReadFile(split->name, attest::kMaxEventLogBytes);
  size_t count = 0;
  if (existing.ok()) {
    absl::StatusOr<std::vector<attest::MeasurementEvent>> parsed =
        attest::ParseEventLog(crypto::AsBytes(*existing));
    if (!parsed.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "existing event log is malformed: ", parsed.status().message()));
    }
    count = parsed->size();
    if (existing->size() + records.size() > attest::kMaxEventLogBytes) {
      return absl::ResourceExhaustedError("event log would exceed 1 MiB");
    }
  } else if (absl::IsNotFound(existing.status())) {
    const crypto::Bytes header = attest::EventLogHeader();
    if (absl::Status s =
            root->WriteFileAtomic(split->name, crypto::AsChars(header), 0644);
        !s.ok()) {
      return s;
    }
  } else {
    return existing.status();
  }
  if (count + events.size() > attest::kMaxEventLogRecords) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "event log would exceed ", attest::kMaxEventLogRecords, " records"));
  }
  absl::StatusOr<UniqueFd> fd = root->OpenAppend(split->name);
  if (!fd.ok()) return fd.status();
  if (absl::Status s = WriteAll(fd->get(), records); !s.ok()) return s;
  for (size_t i = 0; i < events.size(); ++i) {
    if (absl::Status s = tpm.PcrExtend(events[i].pcr, digests[i]); !s.ok()) {
      return absl::Status(
          s.code(),
          absl::StrCat("extending event ", count + i, " (", events[i].name,
                       ") into PCR ", events[i].pcr, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace virtengine::tpm
