// The libraft 0.15 adapter. Behaviour of libraft this file relies on (read
// from canonical/raft v0.15 sources; libraft's source is not installed):
//
//  - fsm->apply gets no index. It is called from replicationApply() for the
//    entry r->last_applied + 1 (last_applied advances only after apply
//    returns 0), so the index is raft_last_applied() + 1 at call time. The
//    apply callback of the leader's request fires right after, with
//    req->index; OnApplyDone cross-checks both.
//  - A non-zero return from fsm->apply stops replicationApply at that entry:
//    last_applied does not advance and no snapshot covers it. Depending on
//    the path the error is ignored and the entry retried at the next commit
//    (leader), or recvCb moves the instance to RAFT_UNAVAILABLE (follower
//    receiving a commit index in an empty AppendEntries). Either way libraft
//    never skips the entry, which is what a halt needs (returning 0 instead
//    would let libraft snapshot past an entry the store never saw).
//  - A snapshot is taken after apply when last_applied - last snapshot index
//    >= threshold; fsm->snapshot returning RAFT_BUSY aborts it quietly and
//    it is retried after a later apply. With fsm version 1 libraft owns the
//    returned buffers (raft_malloc'd) and raft_free()s them.
//  - fsm->restore owns buf->base on success (must raft_free it); on failure
//    libraft frees it. raft_start() restores the stored snapshot through it.
//  - raft_apply(): ownership of the buffer passes to libraft on success. On
//    RAFT_NOTLEADER it is untouched (ours to free); on a later failure
//    libraft may already have released it (logDiscard), so it is not freed
//    here (only NOMEM paths, never seen in practice).
//  - raft_start() self-elects a single voter synchronously (maybeSelfElect)
//    and commits and applies its whole stored log there. With several
//    voters libraft 0.15 appends no barrier on election, so entries of
//    earlier terms commit only with a new entry: the adapter proposes a
//    barrier whenever it becomes leader.
//  - Leader step-down and raft_close() fail every pending apply/barrier
//    request with RAFT_LEADERSHIPLOST (convertClearLeader).
//  - raft_uv's auto-recovery (default on) renames a segment that fails its
//    checksum to corrupt-* and starts without those entries: it is turned
//    off, see InitOnLoop.
//  - raft_start() asserts heartbeat < election timeout and
//    install_snapshot_timeout < election timeout: both are set explicitly.
//  - Entry lengths must be multiples of 8: the writer pads batches but the
//    0.15 segment loader does not skip the padding, so an unaligned entry
//    makes the log unreadable after a restart (canonical/raft#189, #304,
//    the TODO in uv_segment.c). Every entry is therefore framed:
//    u32le version (1) | u32le payload length | payload | zero pad to 8.
#include "src/consensus/raft_node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

// libraft's headers have no extern "C" guards of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "security/path/path.h"
#include "security/validate/number.h"

namespace virtengine::consensus {
namespace {

constexpr std::array<char, 8> kMarkerMagic = {'V', 'E', 'R', 'A',
                                              'F', 'T', 'S', 'N'};
constexpr uint32_t kMarkerVersion = 1;
constexpr char kNeedsStateTransfer[] =
    "snapshot install needs a state transfer (cluster issue)";
constexpr size_t kMaxAddressBytes = 21;  // "255.255.255.255:65535"
constexpr size_t kMaxReasonBytes = 1024;
constexpr unsigned kMinHeartbeatMs = 10;
constexpr unsigned kMaxHeartbeatMs = 10000;
constexpr unsigned kMaxElectionMs = 60000;
constexpr unsigned kMinSnapshotThreshold = 8;
constexpr unsigned kMaxSnapshotEntries = 1U << 24;
constexpr size_t kMaxInflightProposals = size_t{1} << 20;
constexpr uint64_t kMaxInflightBytes = uint64_t{1} << 40;
constexpr uint64_t kMinSegmentBytes = uint64_t{64} << 10;
constexpr uint64_t kMaxSegmentBytes = uint64_t{1} << 30;

// libraft 0.15's TCP transport never sets TCP_NODELAY, so Nagle's
// algorithm holds a small AppendEntries back until the peer acknowledges the
// previous one, and the peer's delayed ACK can take 40 ms: on a 3-node
// loopback cluster one block commit in a hundred took 40-50 ms. The
// transport is wrapped: every stream it connects or accepts gets
// TCP_NODELAY before libraft sees it. raft_uv's callbacks are the same
// functions for every transport, so one copy of each original suffices.
namespace nodelay {

std::atomic<int (*)(raft_uv_transport*, raft_uv_accept_cb)> listen_fn{nullptr};
std::atomic<int (*)(raft_uv_transport*, raft_uv_connect*, raft_id, const char*,
                    raft_uv_connect_cb)>
    connect_fn{nullptr};
std::atomic<raft_uv_accept_cb> accept_cb{nullptr};
std::atomic<raft_uv_connect_cb> connect_cb{nullptr};

void SetNoDelay(uv_stream_t* stream) {
  if (stream != nullptr && stream->type == UV_TCP) {
    // Best effort: without it the stream works, only slower.
    (void)uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(stream), 1);
  }
}

void OnAccept(raft_uv_transport* t, raft_id id, const char* address,
              uv_stream_t* stream) {
  SetNoDelay(stream);
  accept_cb.load()(t, id, address, stream);
}

int Listen(raft_uv_transport* t, raft_uv_accept_cb cb) {
  accept_cb.store(cb);
  return listen_fn.load()(t, &OnAccept);
}

void OnConnect(raft_uv_connect* req, uv_stream_t* stream, int status) {
  if (status == 0) SetNoDelay(stream);
  connect_cb.load()(req, stream, status);
}

int Connect(raft_uv_transport* t, raft_uv_connect* req, raft_id id,
            const char* address, raft_uv_connect_cb cb) {
  connect_cb.store(cb);
  return connect_fn.load()(t, req, id, address, &OnConnect);
}

void Wrap(raft_uv_transport* t) {
  listen_fn.store(t->listen);
  connect_fn.store(t->connect);
  t->listen = &Listen;
  t->connect = &Connect;
}

}  // namespace nodelay

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}
uint64_t GetLe(std::string_view b, size_t off, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(b[off + static_cast<size_t>(i)]);
  }
  return v;
}

std::string Truncated(std::string s) {
  if (s.size() > kMaxReasonBytes) {
    s.resize(kMaxReasonBytes);
    s += "...";
  }
  return s;
}

constexpr uint32_t kEntryVersion = 1;
constexpr size_t kEntryHeaderBytes = 8;

size_t FramedSize(size_t payload) {
  return kEntryHeaderBytes + ((payload + 7) & ~size_t{7});
}

// Writes the framed entry into `out` (FramedSize(payload.size()) bytes).
void FrameEntry(std::string_view payload, char* out) {
  const uint32_t len = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((kEntryVersion >> (8 * i)) & 0xff);
    out[4 + i] = static_cast<char>((len >> (8 * i)) & 0xff);
  }
  std::memcpy(out + kEntryHeaderBytes, payload.data(), payload.size());
  const size_t total = FramedSize(payload.size());
  std::memset(out + kEntryHeaderBytes + payload.size(), 0,
              total - kEntryHeaderBytes - payload.size());
}

absl::StatusOr<std::string_view> UnframeEntry(std::string_view entry) {
  if (entry.size() < kEntryHeaderBytes || entry.size() % 8 != 0) {
    return absl::DataLossError(
        absl::StrCat("malformed entry: ", entry.size(),
                     " bytes (want 8 + a multiple of 8)"));
  }
  const uint64_t version = GetLe(entry, 0, 4);
  if (version != kEntryVersion) {
    return absl::DataLossError(
        absl::StrCat("malformed entry: version ", version, " (want 1)"));
  }
  const uint64_t len = GetLe(entry, 4, 4);
  if (FramedSize(len) != entry.size()) {
    return absl::DataLossError(absl::StrCat("malformed entry: payload length ",
                                            len, " does not match ",
                                            entry.size(), " bytes"));
  }
  for (size_t i = kEntryHeaderBytes + len; i < entry.size(); ++i) {
    if (entry[i] != '\0') {
      return absl::DataLossError("malformed entry: non-zero padding");
    }
  }
  return entry.substr(kEntryHeaderBytes, len);
}

// libraft error code -> absl status, prefixed with the operation.
absl::Status RaftError(const std::string& op, int rv, const char* errmsg) {
  std::string msg = absl::StrCat(op, ": ", raft_strerror(rv));
  if (errmsg != nullptr && errmsg[0] != '\0') {
    absl::StrAppend(&msg, ": ", std::string(errmsg));
  }
  switch (rv) {
    case RAFT_NOMEM:
      return absl::ResourceExhaustedError(msg);
    case RAFT_INVALID:
    case RAFT_NAMETOOLONG:
    case RAFT_BADID:
    case RAFT_DUPLICATEID:
    case RAFT_DUPLICATEADDRESS:
    case RAFT_BADROLE:
      return absl::InvalidArgumentError(msg);
    case RAFT_NOTFOUND:
      return absl::NotFoundError(msg);
    case RAFT_UNAUTHORIZED:
      return absl::PermissionDeniedError(msg);
    case RAFT_CORRUPT:
    case RAFT_MALFORMED:
      return absl::DataLossError(msg);
    case RAFT_CANTBOOTSTRAP:
    case RAFT_NOTLEADER:
    case RAFT_CANTCHANGE:
      return absl::FailedPreconditionError(msg);
    case RAFT_IOERR:
    case RAFT_NOSPACE:
    case RAFT_NOCONNECTION:
    case RAFT_BUSY:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status OutOfRange(const std::string& field, uint64_t v, uint64_t lo,
                        uint64_t hi) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", v, " is outside ", lo, "..", hi));
}

absl::Status ValidateOptions(const RaftOptions& o, const StateMachine* sm) {
  if (sm == nullptr) {
    return absl::InvalidArgumentError("state_machine: null");
  }
  if (o.id == 0) {
    return absl::InvalidArgumentError("id: must be > 0");
  }
  if (absl::Status s = ValidatePeerAddress("address", o.address); !s.ok()) {
    return s;
  }
  if (o.heartbeat_ms < kMinHeartbeatMs || o.heartbeat_ms > kMaxHeartbeatMs) {
    return OutOfRange("heartbeat_ms", o.heartbeat_ms, kMinHeartbeatMs,
                      kMaxHeartbeatMs);
  }
  if (o.election_timeout_ms < 2 * o.heartbeat_ms ||
      o.election_timeout_ms > kMaxElectionMs) {
    return OutOfRange("election_timeout_ms", o.election_timeout_ms,
                      2 * uint64_t{o.heartbeat_ms}, kMaxElectionMs);
  }
  if (o.snapshot_threshold < kMinSnapshotThreshold ||
      o.snapshot_threshold > kMaxSnapshotEntries) {
    return OutOfRange("snapshot_threshold", o.snapshot_threshold,
                      kMinSnapshotThreshold, kMaxSnapshotEntries);
  }
  if (o.snapshot_trailing < 1 || o.snapshot_trailing > kMaxSnapshotEntries) {
    return OutOfRange("snapshot_trailing", o.snapshot_trailing, 1,
                      kMaxSnapshotEntries);
  }
  if (o.max_entry_bytes < 1 || o.max_entry_bytes > kMaxMaxEntryBytes) {
    return OutOfRange("max_entry_bytes", o.max_entry_bytes, 1,
                      kMaxMaxEntryBytes);
  }
  if (o.max_inflight_proposals < 1 ||
      o.max_inflight_proposals > kMaxInflightProposals) {
    return OutOfRange("max_inflight_proposals", o.max_inflight_proposals, 1,
                      kMaxInflightProposals);
  }
  if (o.max_inflight_bytes < o.max_entry_bytes ||
      o.max_inflight_bytes > kMaxInflightBytes) {
    return OutOfRange("max_inflight_bytes", o.max_inflight_bytes,
                      o.max_entry_bytes, kMaxInflightBytes);
  }
  if (o.segment_size_bytes < kMinSegmentBytes ||
      o.segment_size_bytes > kMaxSegmentBytes) {
    return OutOfRange("segment_size_bytes", o.segment_size_bytes,
                      kMinSegmentBytes, kMaxSegmentBytes);
  }
  if (o.initial_voters.size() > kMaxVoters) {
    return absl::InvalidArgumentError(
        absl::StrCat("initial_voters: ", o.initial_voters.size(),
                     " voters, more than the limit of ", kMaxVoters));
  }
  std::set<uint64_t> ids;
  std::set<std::string> addresses;
  bool self_found = false;
  for (size_t i = 0; i < o.initial_voters.size(); ++i) {
    const RaftPeer& p = o.initial_voters[i];
    const std::string field = absl::StrCat("initial_voters[", i, "]");
    if (p.id == 0) {
      return absl::InvalidArgumentError(field + ".id: must be > 0");
    }
    if (absl::Status s = ValidatePeerAddress(field + ".address", p.address);
        !s.ok()) {
      return s;
    }
    if (!ids.insert(p.id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".id: duplicate id ", p.id));
    }
    if (!addresses.insert(p.address).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".address: duplicate address ", p.address));
    }
    if (p.id == o.id) {
      if (p.address != o.address) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".address: ", p.address, " differs from ",
                         "this node's address ", o.address));
      }
      self_found = true;
    } else if (p.address == o.address) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".address: ", p.address, " is this node's ", "address but id ",
          p.id, " is not this node's id ", o.id));
    }
  }
  if (o.join && !o.initial_voters.empty()) {
    return absl::InvalidArgumentError(
        "join: a joining node takes no initial_voters (the leader adds it)");
  }
  if (!o.initial_voters.empty() && !self_found) {
    return absl::InvalidArgumentError(
        absl::StrCat("initial_voters: does not contain this node (id ", o.id,
                     ", address ", o.address, ")"));
  }
  return absl::OkStatus();
}

// Creates data_dir (0700) beneath its parent through security/path and
// reports whether it holds raft state (libraft's metadata files).
absl::StatusOr<bool> PrepareDataDir(const std::string& dir) {
  if (dir.empty()) {
    return absl::InvalidArgumentError("data_dir: empty");
  }
  if (dir.size() > kMaxDataDirBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("data_dir: ", dir.size(), " bytes, longer than the ",
                     "limit of ", kMaxDataDirBytes));
  }
  if (dir.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("data_dir: contains a NUL byte");
  }
  if (dir[0] != '/') {
    return absl::InvalidArgumentError("data_dir: must be an absolute path");
  }
  if (dir.size() == 1 || dir.back() == '/') {
    return absl::InvalidArgumentError(
        "data_dir: must name a directory below / without a trailing '/'");
  }
  const size_t slash = dir.rfind('/');
  const std::string parent = slash == 0 ? "/" : dir.substr(0, slash);
  const std::string leaf = dir.substr(slash + 1);
  if (absl::Status s = security::path::ValidateRelativePath(leaf); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("data_dir: ", std::string(s.message())));
  }
  absl::StatusOr<security::path::PathRoot> root =
      security::path::PathRoot::Open(parent);
  if (!root.ok()) {
    return absl::Status(root.status().code(),
                        absl::StrCat("data_dir: parent directory: ",
                                     std::string(root.status().message())));
  }
  if (absl::Status s = root->MakeDirs(leaf, 0700); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("data_dir: ", std::string(s.message())));
  }
  absl::StatusOr<security::path::PathRoot> sub = root->Sub(leaf);
  if (!sub.ok()) {
    return absl::Status(
        sub.status().code(),
        absl::StrCat("data_dir: ", std::string(sub.status().message())));
  }
  absl::StatusOr<std::vector<std::string>> names = sub->List(".");
  if (!names.ok()) {
    return absl::Status(
        names.status().code(),
        absl::StrCat("data_dir: ", std::string(names.status().message())));
  }
  for (const std::string& n : *names) {
    if (n == "metadata1" || n == "metadata2") return false;
  }
  return true;
}

// Diagnoses a listen failure libraft reports without a message: tries to
// bind the (validated) address the way libuv does. Empty when it binds.
std::string ProbeBind(const std::string& address) {
  const size_t colon = address.find(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (colon == std::string::npos ||
      inet_pton(AF_INET, address.substr(0, colon).c_str(), &a.sin_addr) != 1) {
    return "";
  }
  a.sin_port = htons(static_cast<uint16_t>(
      std::strtoul(address.c_str() + colon + 1, nullptr, 10)));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  const int on = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  std::string why;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    why = absl::StrCat("cannot bind ", address, ": ", uv_strerror(-errno));
  }
  ::close(fd);
  return why;
}

void BlockSigpipeOnThisThread() {
  // libuv writes to sockets with write(2): a peer that went away raises
  // SIGPIPE, which would kill the process. Blocked on the raft thread (the
  // only one writing raft sockets; libuv's pool threads inherit the mask),
  // the write fails with EPIPE instead and libraft reconnects.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

std::string_view RaftRoleName(RaftRole role) {
  switch (role) {
    case RaftRole::kVoter:
      return "voter";
    case RaftRole::kStandby:
      return "standby";
    case RaftRole::kSpare:
      return "spare";
  }
  return "unknown";
}

absl::Status StateMachine::InstallSnapshot(const SnapshotInfo& /*snapshot*/) {
  return absl::FailedPreconditionError(kNeedsStateTransfer);
}

std::string EncodeSnapshotMarker(const SnapshotInfo& info) {
  std::string out(kMarkerMagic.data(), kMarkerMagic.size());
  PutU32(&out, kMarkerVersion);
  PutU32(&out, 0);
  PutU64(&out, info.applied_index);
  PutU64(&out, info.raft_index);
  return out;
}

absl::StatusOr<SnapshotInfo> DecodeSnapshotMarker(std::string_view bytes) {
  if (bytes.size() != kSnapshotMarkerBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot marker: ", bytes.size(), " bytes, want ",
                     kSnapshotMarkerBytes));
  }
  if (std::memcmp(bytes.data(), kMarkerMagic.data(), kMarkerMagic.size()) !=
      0) {
    return absl::InvalidArgumentError(
        "snapshot marker: bad magic (not a VirtEngine raft snapshot)");
  }
  const uint64_t version = GetLe(bytes, 8, 4);
  if (version != kMarkerVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot marker: version ", version, " not supported (want 1)"));
  }
  if (GetLe(bytes, 12, 4) != 0) {
    return absl::InvalidArgumentError(
        "snapshot marker: reserved field is not zero");
  }
  SnapshotInfo info;
  info.applied_index = GetLe(bytes, 16, 8);
  info.raft_index = GetLe(bytes, 24, 8);
  if (info.applied_index > info.raft_index) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot marker: applied index ", info.applied_index,
                     " is beyond its raft index ", info.raft_index));
  }
  return info;
}

absl::Status ValidatePeerAddress(std::string_view field,
                                 std::string_view address) {
  const std::string f(field);
  if (address.empty()) {
    return absl::InvalidArgumentError(f + ": empty; want a.b.c.d:port");
  }
  if (address.size() > kMaxAddressBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ": ", address.size(), " bytes, longer than ",
                     kMaxAddressBytes, " (a.b.c.d:port)"));
  }
  const size_t colon = address.find(':');
  if (colon == std::string_view::npos ||
      address.find(':', colon + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ": '", absl::CHexEscape(std::string(address)),
                     "' is not a.b.c.d:port (IPv4 dotted quad and port)"));
  }
  const std::string host(address.substr(0, colon));
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        f, ": host '", absl::CHexEscape(host),
        "' is not an IPv4 dotted quad (hostnames and IPv6 are not supported)"));
  }
  std::array<char, INET_ADDRSTRLEN> canon{};
  if (inet_ntop(AF_INET, &addr, canon.data(), canon.size()) == nullptr ||
      host != canon.data()) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ": host '", host, "' is not in canonical form"));
  }
  if (addr.s_addr == htonl(INADDR_ANY)) {
    return absl::InvalidArgumentError(
        f + ": unspecified host 0.0.0.0 cannot be advertised");
  }
  absl::StatusOr<uint64_t> port =
      validate::ParseUint64(f + " port", address.substr(colon + 1), 1, 65535);
  if (!port.ok()) return port.status();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------

class RaftNode::Impl {
 public:
  using Done = std::function<void(absl::StatusOr<uint64_t>)>;

  Impl(RaftOptions options, StateMachine* sm, bool fresh)
      : opts_(std::move(options)), sm_(sm), fresh_(fresh) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    if (IsRaftThread()) {
      (void)std::fputs(
          "virtengine consensus: RaftNode destroyed on its own raft "
          "thread (from a callback); aborting\n",
          stderr);
      std::abort();
    }
    (void)Stop();
  }

  absl::Status Launch() {
    thread_ = std::thread([this] { ThreadMain(); });
    absl::Status st;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return init_done_; });
      st = init_status_;
    }
    if (!st.ok()) {
      std::lock_guard<std::mutex> g(stop_mu_);
      thread_.join();
      stopped_ = true;
    }
    return st;
  }

  void Propose(std::string payload, Done done) {
    if (!done) done = [](const absl::StatusOr<uint64_t>&) {};
    if (payload.empty()) {
      done(absl::InvalidArgumentError("payload: empty entry not allowed"));
      return;
    }
    if (payload.size() > opts_.max_entry_bytes) {
      done(absl::InvalidArgumentError(absl::StrCat(
          "payload: ", payload.size(), " bytes, over the limit of ",
          opts_.max_entry_bytes, " (max_entry_bytes)")));
      return;
    }
    // The copy into libraft's allocator (framed, see the top of this file)
    // happens here, off the raft thread.
    Pending p;
    p.buf.len = FramedSize(payload.size());
    p.buf.base = raft_malloc(p.buf.len);
    if (p.buf.base == nullptr) {
      done(absl::ResourceExhaustedError("payload: out of memory"));
      return;
    }
    FrameEntry(payload, static_cast<char*>(p.buf.base));
    payload = std::string();
    p.done = std::move(done);
    absl::Status reject;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (!accepting_) {
        reject = absl::FailedPreconditionError("raft node is stopped");
      } else if (inflight_count_ >= opts_.max_inflight_proposals ||
                 inflight_bytes_ + p.buf.len > opts_.max_inflight_bytes) {
        reject = absl::ResourceExhaustedError(absl::StrCat(
            "too many proposals in flight: ", inflight_count_, " proposals, ",
            inflight_bytes_, " bytes (limits ", opts_.max_inflight_proposals,
            " proposals, ", opts_.max_inflight_bytes, " bytes)"));
      } else {
        ++inflight_count_;
        inflight_bytes_ += p.buf.len;
        queue_.push_back(std::move(p));
        // Under mu_: the handle is closed only after accepting_ is cleared.
        uv_async_send(&async_);
        return;
      }
    }
    raft_free(p.buf.base);
    p.done(std::move(reject));
  }

  RaftStatus Status() const {
    std::lock_guard<std::mutex> g(mu_);
    return status_;
  }

  using StatusDone = std::function<void(absl::Status)>;

  // Queues `op` to run on the raft thread (leader operations).
  void Control(StatusDone done, std::function<void(StatusDone)> op) {
    if (!done) done = [](const absl::Status&) {};
    {
      std::lock_guard<std::mutex> g(mu_);
      if (accepting_) {
        controls_.push_back(Control_{std::move(op), std::move(done)});
        uv_async_send(&async_);
        return;
      }
    }
    done(absl::FailedPreconditionError("raft node is stopped"));
  }

  void Barrier(StatusDone done) {
    Control(std::move(done), [this](StatusDone d) {
      if (absl::Status s = LeaderCheck(); !s.ok()) return d(s);
      auto* c = new ChangeReq<struct raft_barrier>(this, std::move(d));
      const int rv = raft_barrier(&raft_, &c->req, &Impl::ControlBarrierCb);
      if (rv != 0) FailChange(c, "raft_barrier", rv);
    });
  }

  void AddMember(const RaftPeer& peer, StatusDone done) {
    Control(std::move(done), [this, peer](StatusDone d) {
      if (absl::Status s = LeaderCheck(); !s.ok()) return d(s);
      if (absl::Status s = ValidatePeerAddress("address", peer.address);
          !s.ok()) {
        return d(s);
      }
      // MEMBERSHIP ATTESTATION: the one place a new peer enters the
      // configuration at run time.
      if (absl::Status s = AdmitMember(peer, "add"); !s.ok()) return d(s);
      auto* c = new ChangeReq<struct raft_change>(this, std::move(d));
      const int rv = raft_add(&raft_, &c->req, peer.id, peer.address.c_str(),
                              &Impl::ControlChangeCb);
      if (rv != 0) FailChange(c, "raft_add", rv);
    });
  }

  void AssignRole(uint64_t id, RaftRole role, StatusDone done) {
    Control(std::move(done), [this, id, role](StatusDone d) {
      if (absl::Status s = LeaderCheck(); !s.ok()) return d(s);
      const int r = role == RaftRole::kVoter     ? RAFT_VOTER
                    : role == RaftRole::kStandby ? RAFT_STANDBY
                                                 : RAFT_SPARE;
      auto* c = new ChangeReq<struct raft_change>(this, std::move(d));
      const int rv =
          raft_assign(&raft_, &c->req, id, r, &Impl::ControlChangeCb);
      if (rv != 0) FailChange(c, "raft_assign", rv);
    });
  }

  void RemoveMember(uint64_t id, StatusDone done) {
    Control(std::move(done), [this, id](StatusDone d) {
      if (absl::Status s = LeaderCheck(); !s.ok()) return d(s);
      auto* c = new ChangeReq<struct raft_change>(this, std::move(d));
      const int rv = raft_remove(&raft_, &c->req, id, &Impl::ControlChangeCb);
      if (rv != 0) FailChange(c, "raft_remove", rv);
    });
  }

  void TransferLeadership(uint64_t id, StatusDone done) {
    Control(std::move(done), [this, id](StatusDone d) {
      if (absl::Status s = LeaderCheck(); !s.ok()) return d(s);
      if (transfer_pending_) {
        return d(absl::FailedPreconditionError(
            "a leadership transfer is already in progress"));
      }
      auto* c = new ChangeReq<struct raft_transfer>(this, std::move(d));
      const int rv =
          raft_transfer(&raft_, &c->req, id, &Impl::ControlTransferCb);
      if (rv != 0) {
        FailChange(c, "raft_transfer", rv);
        return;
      }
      transfer_pending_ = true;
    });
  }

  absl::Status Stop() {
    if (IsRaftThread()) {
      return absl::FailedPreconditionError(
          "Stop called on the raft thread (from Apply or a done callback)");
    }
    std::lock_guard<std::mutex> g(stop_mu_);
    if (stopped_) return stop_status_;
    {
      std::lock_guard<std::mutex> m(mu_);
      stop_requested_ = true;
      if (accepting_) uv_async_send(&async_);
    }
    thread_.join();
    stopped_ = true;
    stop_status_ = final_status_;
    return stop_status_;
  }

 private:
  struct Pending {
    raft_buffer buf{};
    Done done;
  };
  struct Request {
    struct raft_apply req {};
    Impl* impl = nullptr;
    Done done;
    size_t bytes = 0;
  };

  struct Control_ {
    std::function<void(StatusDone)> op;
    StatusDone done;
  };
  // A libraft request of type R whose completion calls `done`.
  template <typename R>
  struct ChangeReq {
    ChangeReq(Impl* i, StatusDone d) : impl(i), done(std::move(d)) {
      req.data = this;
    }
    R req{};
    Impl* impl;
    StatusDone done;
  };

  absl::Status LeaderCheck() {
    if (halted_)
      return absl::FailedPreconditionError("halted: " + halt_reason_);
    if (raft_state(&raft_) != RAFT_LEADER) {
      return absl::FailedPreconditionError(NotLeaderMessage());
    }
    return absl::OkStatus();
  }

  template <typename R>
  void FailChange(ChangeReq<R>* c, const char* op, int rv) {
    StatusDone d = std::move(c->done);
    delete c;
    d(rv == RAFT_NOTLEADER ? absl::FailedPreconditionError(NotLeaderMessage())
                           : RaftError(op, rv, raft_errmsg(&raft_)));
  }

  // Completion of a barrier or membership change (libraft status).
  absl::Status ChangeOutcome(int status) const {
    if (status == 0) return absl::OkStatus();
    if (halted_)
      return absl::FailedPreconditionError("halted: " + halt_reason_);
    if (closing_) return absl::UnavailableError("raft node stopping");
    return absl::UnavailableError(
        absl::StrCat("leadership lost before the change completed (",
                     raft_strerror(status), "); it may still take effect"));
  }

  bool IsRaftThread() const {
    std::lock_guard<std::mutex> g(mu_);
    return raft_tid_ == std::this_thread::get_id();
  }

  void Log(const std::string& msg) const {
    if (opts_.log) opts_.log(msg);
  }

  // ---- thread ------------------------------------------------------------

  void ThreadMain() {
    {
      std::lock_guard<std::mutex> g(mu_);
      raft_tid_ = std::this_thread::get_id();
    }
    BlockSigpipeOnThisThread();
    const std::string name = absl::StrCat("ve-raft-", opts_.id % 100000);
    pthread_setname_np(pthread_self(), name.c_str());

    absl::Status st = InitOnLoop();
    if (!st.ok()) {
      Teardown();
      std::lock_guard<std::mutex> g(mu_);
      init_done_ = true;
      init_status_ = st;
      cv_.notify_all();
      return;
    }
    Log(absl::StrCat("raft node ", opts_.id, " started at ", opts_.address,
                     !fresh_      ? ""
                     : opts_.join ? " (joining)"
                                  : " (bootstrapped)",
                     "; last index ", raft_last_index(&raft_),
                     ", applied index ", sm_->AppliedIndex()));
    {
      std::lock_guard<std::mutex> g(mu_);
      init_done_ = true;
      accepting_ = true;
      cv_.notify_all();
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    Teardown();
  }

  absl::Status InitOnLoop() {
    int rv = uv_loop_init(&loop_);
    if (rv != 0) {
      return absl::InternalError(
          absl::StrCat("uv_loop_init: ", uv_strerror(rv)));
    }
    loop_inited_ = true;
    loop_.data = this;
    rv = uv_async_init(&loop_, &async_, &Impl::AsyncCb);
    if (rv != 0) {
      return absl::InternalError(
          absl::StrCat("uv_async_init: ", uv_strerror(rv)));
    }
    async_inited_ = true;
    async_.data = this;
    rv = uv_check_init(&loop_, &check_);
    if (rv != 0) {
      return absl::InternalError(
          absl::StrCat("uv_check_init: ", uv_strerror(rv)));
    }
    check_inited_ = true;
    check_.data = this;
    uv_check_start(&check_, &Impl::CheckCb);

    rv = raft_uv_tcp_init(&transport_, &loop_);
    if (rv != 0) return RaftError("raft_uv_tcp_init", rv, transport_.errmsg);
    transport_inited_ = true;
    nodelay::Wrap(&transport_);
    rv = raft_uv_init(&io_, &loop_, opts_.data_dir.c_str(), &transport_);
    if (rv != 0) return RaftError("raft_uv_init", rv, io_.errmsg);
    io_inited_ = true;
    raft_uv_set_segment_size(&io_, opts_.segment_size_bytes);
    // No "auto-recovery": on a checksum failure libraft would rename the
    // segment to corrupt-* and start without its entries, some of which may
    // be committed (a Raft safety violation). Start fails with DATA_LOSS.
    raft_uv_set_auto_recovery(&io_, false);
    tracer_.impl = this;
    tracer_.enabled = opts_.libraft_trace && static_cast<bool>(opts_.log);
    tracer_.emit = &Impl::TraceEmit;
    raft_uv_set_tracer(&io_, &tracer_);

    fsm_.version = 1;
    fsm_.data = this;
    fsm_.apply = &Impl::FsmApply;
    fsm_.snapshot = &Impl::FsmSnapshot;
    fsm_.restore = &Impl::FsmRestore;
    rv = raft_init(&raft_, &io_, &fsm_, opts_.id, opts_.address.c_str());
    if (rv != 0) return RaftError("raft_init", rv, raft_errmsg(&raft_));
    raft_inited_ = true;
    raft_.data = this;
    raft_.tracer = &tracer_;

    if (fresh_ && !opts_.join) {
      if (absl::Status s = Bootstrap(); !s.ok()) return s;
    }
    raft_set_heartbeat_timeout(&raft_, opts_.heartbeat_ms);
    raft_set_election_timeout(&raft_, opts_.election_timeout_ms);
    raft_set_install_snapshot_timeout(
        &raft_,
        std::min(2 * opts_.heartbeat_ms, opts_.election_timeout_ms - 1));
    raft_set_snapshot_threshold(&raft_, opts_.snapshot_threshold);
    raft_set_snapshot_trailing(&raft_, opts_.snapshot_trailing);

    rv = raft_start(&raft_);
    if (rv != 0) {
      if (!restore_error_.empty()) {
        return absl::FailedPreconditionError(restore_error_);
      }
      if (!halted_) {
        std::string why = LastErrors();
        if (why.empty() && rv == RAFT_IOERR) why = ProbeBind(opts_.address);
        return RaftError("raft_start", rv, why.c_str());
      }
      // A single voter replays its log inside raft_start (self-election);
      // the error is our own refusal after Apply failed. libraft is fully
      // started at that point (self-election is raft_start's last step):
      // keep running, halted, so that the node can raise its alarm.
    }
    started_ = true;
    const uint64_t applied = sm_->AppliedIndex();
    const uint64_t last = raft_last_index(&raft_);
    if (applied > last) {
      return absl::FailedPreconditionError(
          absl::StrCat("state machine applied index ", applied,
                       " is beyond the raft log (last index ", last,
                       "): data_dir does not belong to this store"));
    }
    OnCheck();
    return absl::OkStatus();
  }

  // libraft's, raft_uv's and the transport's last error messages (libraft
  // does not always copy the lower layers' message up).
  std::string LastErrors() {
    std::string out;
    for (const char* m :
         {raft_errmsg(&raft_), static_cast<const char*>(io_.errmsg),
          static_cast<const char*>(transport_.errmsg)}) {
      if (m == nullptr || m[0] == '\0') continue;
      const std::string msg(m, strnlen(m, RAFT_ERRMSG_BUF_SIZE));
      if (out.find(msg) != std::string::npos) continue;
      if (!out.empty()) out += ": ";
      out += msg;
    }
    return out;
  }

  absl::Status Bootstrap() {
    if (opts_.initial_voters.empty()) {
      return absl::InvalidArgumentError(
          "initial_voters: empty but data_dir holds no raft state (a node "
          "joining an existing cluster sets join)");
    }
    const uint64_t applied = sm_->AppliedIndex();
    if (applied > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data_dir holds no raft state but the state machine has applied "
          "index ",
          applied, ": refusing to bootstrap a new log under existing state"));
    }
    raft_configuration conf;
    raft_configuration_init(&conf);
    absl::Status st;
    for (size_t i = 0; i < opts_.initial_voters.size() && st.ok(); ++i) {
      const RaftPeer& p = opts_.initial_voters[i];
      if (p.id != opts_.id) {
        st = AdmitMember(p, absl::StrCat("initial_voters[", i, "]"));
        if (!st.ok()) break;
      }
      const int rv =
          raft_configuration_add(&conf, p.id, p.address.c_str(), RAFT_VOTER);
      if (rv != 0) st = RaftError("raft_configuration_add", rv, nullptr);
    }
    if (st.ok()) {
      const int rv = raft_bootstrap(&raft_, &conf);
      if (rv != 0) st = RaftError("raft_bootstrap", rv, raft_errmsg(&raft_));
    }
    raft_configuration_close(&conf);
    return st;
  }

  // MEMBERSHIP ATTESTATION CHECK: the single place where a peer is admitted
  // into the raft configuration. Bootstrap calls it for every other initial
  // voter; the membership issue (raft_add/raft_assign) must call it too.
  absl::Status AdmitMember(const RaftPeer& peer,
                           const std::string& field) const {
    if (!opts_.attest_member) return absl::OkStatus();
    absl::Status s = opts_.attest_member(peer);
    if (s.ok()) return s;
    return absl::PermissionDeniedError(
        absl::StrCat(field, ": attestation refused for raft peer ", peer.id,
                     "@", peer.address, ": ", std::string(s.message())));
  }

  // Closes everything that was opened, on the raft thread, then fails what
  // is left. Used after a failed init and after uv_run returns.
  void Teardown() {
    closing_ = true;
    {
      std::lock_guard<std::mutex> g(mu_);
      accepting_ = false;
    }
    if (raft_inited_ && !raft_closed_) {
      raft_close(&raft_, &Impl::RaftCloseCb);
    } else {
      CloseHandles();
    }
    if (loop_inited_) uv_run(&loop_, UV_RUN_DEFAULT);
    if (io_inited_) raft_uv_close(&io_);
    if (transport_inited_) raft_uv_tcp_close(&transport_);
    absl::Status st;
    if (loop_inited_) {
      uv_run(&loop_, UV_RUN_DEFAULT);
      const int rv = uv_loop_close(&loop_);
      if (rv != 0) {
        st = absl::InternalError(
            absl::StrCat("uv_loop_close: ", uv_strerror(rv)));
      }
    }
    // libraft fails every pending request on close; anything left here was
    // never handed back (should not happen): complete it, never leak `done`.
    // libraft is gone, so the request memory is ours again.
    for (Request* r :
         std::vector<Request*>(submitted_.begin(), submitted_.end())) {
      if (r->done) {
        Complete(&r->done, r->bytes,
                 absl::UnavailableError("raft node stopped before the entry "
                                        "was applied; outcome unknown"));
      }
      delete r;
    }
    submitted_.clear();
    std::deque<Pending> left;
    std::deque<Control_> left_controls;
    {
      std::lock_guard<std::mutex> g(mu_);
      left.swap(queue_);
      left_controls.swap(controls_);
      status_.is_leader = false;
      status_.leader_ready = false;
      status_.leader_id = 0;
      status_.leader_address.clear();
      final_status_ = st;
    }
    for (Pending& p : left) {
      FailPending(&p, absl::UnavailableError("raft node stopping"));
    }
    for (Control_& c : left_controls) {
      c.done(absl::UnavailableError("raft node stopping"));
    }
  }

  void CloseHandles() {
    if (async_inited_ &&
        !uv_is_closing(reinterpret_cast<uv_handle_t*>(&async_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    }
    if (check_inited_ &&
        !uv_is_closing(reinterpret_cast<uv_handle_t*>(&check_))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
    }
  }

  // ---- proposals -----------------------------------------------------------

  // Calls `done` once and releases its share of the in-flight bounds first
  // (so that a callback may propose again).
  void Complete(Done* done, size_t bytes, absl::StatusOr<uint64_t> result) {
    Done d = std::move(*done);
    *done = nullptr;
    {
      std::lock_guard<std::mutex> g(mu_);
      --inflight_count_;
      inflight_bytes_ -= bytes;
    }
    d(std::move(result));
  }

  void FailPending(Pending* p, absl::Status st) {
    raft_free(p->buf.base);
    p->buf.base = nullptr;
    Complete(&p->done, p->buf.len, std::move(st));
  }

  std::string NotLeaderMessage() {
    raft_id id = 0;
    const char* addr = nullptr;
    raft_leader(&raft_, &id, &addr);
    if (id == 0 || id == opts_.id || addr == nullptr) {
      return "not leader; leader is unknown";
    }
    return absl::StrCat("not leader; leader is ", id, "@", std::string(addr));
  }

  void OnAsync() {
    std::deque<Pending> batch;
    std::deque<Control_> controls;
    bool stop = false;
    {
      std::lock_guard<std::mutex> g(mu_);
      batch.swap(queue_);
      controls.swap(controls_);
      stop = stop_requested_;
      if (stop) accepting_ = false;
    }
    if (stop) {
      for (Pending& p : batch) {
        FailPending(&p, absl::UnavailableError("raft node stopping"));
      }
      for (Control_& c : controls) {
        c.done(absl::UnavailableError("raft node stopping"));
      }
      if (!closing_) {
        closing_ = true;
        raft_close(&raft_, &Impl::RaftCloseCb);
      }
      return;
    }
    for (Pending& p : batch) Submit(&p);
    for (Control_& c : controls) c.op(std::move(c.done));
  }

  void Submit(Pending* p) {
    if (halted_) {
      FailPending(p, absl::FailedPreconditionError("halted: " + halt_reason_));
      return;
    }
    if (raft_state(&raft_) != RAFT_LEADER) {
      FailPending(p, absl::FailedPreconditionError(NotLeaderMessage()));
      return;
    }
    auto* r = new Request();
    r->req.data = r;
    r->impl = this;
    r->done = std::move(p->done);
    r->bytes = p->buf.len;
    raft_buffer buf = p->buf;
    p->buf.base = nullptr;
    const int rv = raft_apply(&raft_, &r->req, &buf, 1, &Impl::ApplyCb);
    if (rv != 0) {
      absl::Status st;
      if (rv == RAFT_NOTLEADER) {
        raft_free(buf.base);  // refused before libraft took the buffer
        st = absl::FailedPreconditionError(NotLeaderMessage());
      } else {
        st = RaftError("raft_apply", rv, raft_errmsg(&raft_));
      }
      Complete(&r->done, r->bytes, std::move(st));
      delete r;
      return;
    }
    submitted_.insert(r);
  }

  void OnApplyDone(Request* r, int status) {
    submitted_.erase(r);
    if (r->done) {
      if (status == 0) {
        const uint64_t index = r->req.index;
        if (index == last_fsm_index_) {
          Complete(&r->done, r->bytes, index);
        } else {
          Halt(absl::StrCat("internal: apply callback for index ", index,
                            " but the last applied command is ",
                            last_fsm_index_));
          Complete(&r->done, r->bytes,
                   absl::FailedPreconditionError("halted: " + halt_reason_));
        }
      } else if (halted_) {
        Complete(&r->done, r->bytes,
                 absl::FailedPreconditionError("halted: " + halt_reason_));
      } else if (closing_) {
        Complete(&r->done, r->bytes,
                 absl::UnavailableError(
                     "raft node stopped before the entry was applied; "
                     "outcome unknown (it may still be committed)"));
      } else {
        Complete(&r->done, r->bytes,
                 absl::UnavailableError(absl::StrCat(
                     "leadership lost before the entry was applied (",
                     raft_strerror(status),
                     "); outcome unknown: the next leader may still commit "
                     "it")));
      }
    }
    delete r;
  }

  // ---- state machine -------------------------------------------------------

  void Halt(std::string reason) {
    if (halted_) return;
    reason = Truncated(std::move(reason));
    halted_ = true;
    halt_reason_ = reason;
    {
      std::lock_guard<std::mutex> g(mu_);
      status_.halted = true;
      status_.halt_reason = reason;
    }
    Log("raft node " + std::to_string(opts_.id) + " halted: " + reason);
    const absl::Status st = absl::FailedPreconditionError("halted: " + reason);
    for (Request* r :
         std::vector<Request*>(submitted_.begin(), submitted_.end())) {
      if (r->done) Complete(&r->done, r->bytes, st);
    }
  }

  int OnFsmApply(const raft_buffer* buf) {
    if (halted_) return RAFT_IOERR;
    const uint64_t index = raft_last_applied(&raft_) + 1;
    if (index <= sm_->AppliedIndex()) {
      // Replay after restart: already durable in the store.
      last_fsm_index_ = index;
      return 0;
    }
    const absl::StatusOr<std::string_view> payload = UnframeEntry(
        std::string_view(static_cast<const char*>(buf->base), buf->len));
    if (!payload.ok()) {
      Halt(absl::StrCat("entry ", index, ": ", payload.status().ToString()));
      return RAFT_IOERR;
    }
    const absl::Status s = sm_->Apply(index, *payload);
    if (!s.ok()) {
      Halt(absl::StrCat("apply of entry ", index, " failed: ", s.ToString()));
      return RAFT_IOERR;
    }
    last_fsm_index_ = index;
    return 0;
  }

  int OnFsmSnapshot(raft_buffer* bufs[], unsigned* n_bufs) {
    // libraft truncates its log after this snapshot: every command it covers
    // must be durable in the store first. Otherwise retry after a later
    // apply (RAFT_BUSY is libraft's "transient, try again").
    const uint64_t durable = sm_->AppliedIndex();
    if (durable < last_fsm_index_) return RAFT_BUSY;
    if (absl::Status s = sm_->MakeDurable(); !s.ok()) {
      Log(absl::StrCat(
          "raft node ", opts_.id,
          ": snapshot postponed, state not durable: ", s.ToString()));
      return RAFT_BUSY;
    }
    SnapshotInfo info;
    info.applied_index = last_fsm_index_;
    info.raft_index = raft_last_applied(&raft_);
    const std::string marker = EncodeSnapshotMarker(info);
    auto* arr = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
    if (arr == nullptr) return RAFT_NOMEM;
    void* base = raft_malloc(marker.size());
    if (base == nullptr) {
      raft_free(arr);
      return RAFT_NOMEM;
    }
    std::memcpy(base, marker.data(), marker.size());
    arr[0].base = base;
    arr[0].len = marker.size();
    *bufs = arr;
    *n_bufs = 1;
    Log(absl::StrCat("raft node ", opts_.id, ": snapshot marker at raft index ",
                     info.raft_index, " (applied index ", info.applied_index,
                     ")"));
    return 0;
  }

  int OnFsmRestore(raft_buffer* buf) {
    absl::StatusOr<SnapshotInfo> m = DecodeSnapshotMarker(
        std::string_view(static_cast<const char*>(buf->base), buf->len));
    if (!m.ok()) {
      RefuseRestore(std::string(m.status().message()));
      return RAFT_MALFORMED;
    }
    uint64_t local = sm_->AppliedIndex();
    if (m->applied_index > local) {
      const absl::Status s = sm_->InstallSnapshot(*m);
      if (!s.ok()) {
        RefuseRestore(absl::StrCat(std::string(s.message()),
                                   ": snapshot at raft index ", m->raft_index,
                                   " covers entries up to ", m->applied_index,
                                   ", local store is at ", local));
        return RAFT_CANCELED;
      }
      local = sm_->AppliedIndex();
      if (local < m->applied_index) {
        RefuseRestore(absl::StrCat(
            "InstallSnapshot returned OK but the store is at ", local,
            ", below the snapshot's applied index ", m->applied_index));
        return RAFT_CANCELED;
      }
    }
    last_fsm_index_ = m->applied_index;
    raft_free(buf->base);  // ours on success
    buf->base = nullptr;
    Log(absl::StrCat("raft node ", opts_.id, ": restored snapshot marker at ",
                     "raft index ", m->raft_index, " (applied index ",
                     m->applied_index, ", store at ", local, ")"));
    return 0;
  }

  void RefuseRestore(std::string reason) {
    restore_error_ = Truncated(std::move(reason));
    Log("raft node " + std::to_string(opts_.id) +
        " refused a snapshot: " + restore_error_);
    if (started_) Halt(restore_error_);
  }

  // ---- per loop iteration
  // ------------------------------------------------------

  unsigned VoterCount() const {
    unsigned n = 0;
    for (unsigned i = 0; i < raft_.configuration.n; ++i) {
      if (raft_.configuration.servers[i].role == RAFT_VOTER) ++n;
    }
    return n;
  }

  void OnCheck() {
    if (closing_) return;
    const int state = raft_state(&raft_);
    const uint64_t term = raft_.current_term;
    if (state == RAFT_LEADER &&
        (prev_state_ != RAFT_LEADER || term != prev_term_)) {
      Log(absl::StrCat("raft node ", opts_.id, " is leader for term ", term));
      // Commit (and so apply) entries of earlier terms now rather than with
      // the next proposal: libraft 0.15 appends no barrier on election.
      auto* b = new struct raft_barrier();
      b->data = this;
      if (raft_barrier(&raft_, b, &Impl::BarrierCb) != 0) delete b;
      // Ready once everything up to the barrier (or, if it could not be
      // appended, up to the last entry) is applied.
      ready_index_ = raft_last_index(&raft_);
    }
    if (state == RAFT_UNAVAILABLE && started_ && !halted_) {
      Halt(absl::StrCat("raft engine became unavailable: ",
                        std::string(raft_errmsg(&raft_))));
    }
    if (halted_ && state == RAFT_LEADER && !transfer_pending_ &&
        VoterCount() > 1) {
      // A halted leader would keep the cluster without a working leader:
      // hand leadership to an up-to-date voter (libraft picks it).
      transfer_req_ = {};
      transfer_req_.data = this;
      if (raft_transfer(&raft_, &transfer_req_, 0, &Impl::TransferCb) == 0) {
        transfer_pending_ = true;
        Log(absl::StrCat("raft node ", opts_.id,
                         " is halted: transferring leadership"));
      }
    }
    prev_state_ = state;
    prev_term_ = term;

    raft_id leader = 0;
    const char* leader_addr = nullptr;
    raft_leader(&raft_, &leader, &leader_addr);
    std::lock_guard<std::mutex> g(mu_);
    status_.is_leader = state == RAFT_LEADER;
    status_.leader_ready =
        status_.is_leader && raft_last_applied(&raft_) >= ready_index_;
    status_.leader_id = leader;
    if (leader_addr == nullptr) {
      status_.leader_address.clear();
    } else if (status_.leader_address != leader_addr) {
      status_.leader_address = leader_addr;
    }
    status_.term = term;
    const std::pair<uint64_t, uint64_t> config_at{
        raft_.configuration_index, raft_.configuration_uncommitted_index};
    if (status_.configuration.size() != raft_.configuration.n ||
        config_at_ != config_at) {
      config_at_ = config_at;
      status_.configuration.clear();
      for (unsigned i = 0; i < raft_.configuration.n; ++i) {
        const raft_server& sv = raft_.configuration.servers[i];
        RaftMember m;
        m.id = sv.id;
        m.address = sv.address != nullptr ? sv.address : "";
        m.role = sv.role == RAFT_VOTER     ? RaftRole::kVoter
                 : sv.role == RAFT_STANDBY ? RaftRole::kStandby
                                           : RaftRole::kSpare;
        status_.configuration.push_back(std::move(m));
      }
      std::sort(
          status_.configuration.begin(), status_.configuration.end(),
          [](const RaftMember& a, const RaftMember& b) { return a.id < b.id; });
    }
    status_.commit_index = raft_.commit_index;
    status_.last_applied = raft_last_applied(&raft_);
  }

  // ---- C callbacks
  // -----------------------------------------------------------

  static Impl* From(void* data) { return static_cast<Impl*>(data); }

  static void AsyncCb(uv_async_t* h) { From(h->data)->OnAsync(); }
  static void CheckCb(uv_check_t* h) { From(h->data)->OnCheck(); }
  static void ApplyCb(struct raft_apply* req, int status, void* /*result*/) {
    auto* r = static_cast<Request*>(req->data);
    r->impl->OnApplyDone(r, status);
  }
  static void BarrierCb(struct raft_barrier* req, int /*status*/) {
    delete req;
  }
  static void ControlBarrierCb(struct raft_barrier* req, int status) {
    auto* c = static_cast<ChangeReq<struct raft_barrier>*>(req->data);
    StatusDone d = std::move(c->done);
    absl::Status st = c->impl->ChangeOutcome(status);
    delete c;
    d(st);
  }
  static void ControlChangeCb(struct raft_change* req, int status) {
    auto* c = static_cast<ChangeReq<struct raft_change>*>(req->data);
    StatusDone d = std::move(c->done);
    absl::Status st = c->impl->ChangeOutcome(status);
    delete c;
    d(st);
  }
  static void ControlTransferCb(struct raft_transfer* req) {
    auto* c = static_cast<ChangeReq<struct raft_transfer>*>(req->data);
    Impl* self = c->impl;
    self->transfer_pending_ = false;
    StatusDone d = std::move(c->done);
    delete c;
    raft_id leader = 0;
    const char* addr = nullptr;
    raft_leader(&self->raft_, &leader, &addr);
    d(leader != 0 && leader != self->opts_.id
          ? absl::OkStatus()
          : absl::UnavailableError(
                "leadership transfer did not complete; this node is still "
                "leader or no leader is known"));
  }
  static void TransferCb(struct raft_transfer* req) {
    From(req->data)->transfer_pending_ = false;
  }
  static void RaftCloseCb(struct raft* r) {
    Impl* self = From(r->data);
    self->raft_closed_ = true;
    self->CloseHandles();
  }
  static int FsmApply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
    *result = nullptr;
    return From(fsm->data)->OnFsmApply(buf);
  }
  static int FsmSnapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs) {
    return From(fsm->data)->OnFsmSnapshot(bufs, n_bufs);
  }
  static int FsmRestore(raft_fsm* fsm, raft_buffer* buf) {
    return From(fsm->data)->OnFsmRestore(buf);
  }
  static void TraceEmit(raft_tracer* t, const char* file, int line,
                        const char* message) {
    const Impl* self = From(t->impl);
    if (!t->enabled || !self->opts_.log) return;
    self->opts_.log(absl::StrCat("libraft: ", file != nullptr ? file : "?", ":",
                                 line, ": ",
                                 message != nullptr ? message : ""));
  }

  const RaftOptions opts_;
  StateMachine* const sm_;
  const bool fresh_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::thread::id raft_tid_;
  std::deque<Pending> queue_;
  std::deque<Control_> controls_;
  bool accepting_ = false;
  bool stop_requested_ = false;
  bool init_done_ = false;
  absl::Status init_status_;
  absl::Status final_status_;
  size_t inflight_count_ = 0;
  uint64_t inflight_bytes_ = 0;
  RaftStatus status_;

  std::mutex stop_mu_;  // serialises Stop(); guards the two below
  bool stopped_ = false;
  absl::Status stop_status_;

  // Raft thread only.
  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_check_t check_{};
  raft_uv_transport transport_{};
  raft_io io_{};
  raft_fsm fsm_{};
  struct raft raft_ {};
  raft_tracer tracer_{};
  struct raft_transfer transfer_req_ {};
  bool loop_inited_ = false;
  bool async_inited_ = false;
  bool check_inited_ = false;
  bool transport_inited_ = false;
  bool io_inited_ = false;
  bool raft_inited_ = false;
  bool raft_closed_ = false;
  bool closing_ = false;
  bool started_ = false;
  bool halted_ = false;
  bool transfer_pending_ = false;
  std::string halt_reason_;
  std::string restore_error_;
  uint64_t last_fsm_index_ = 0;
  // Index of the barrier proposed on the last election won (leader_ready).
  uint64_t ready_index_ = 0;
  // Which configuration status_ shows (guarded by mu_, with status_).
  std::pair<uint64_t, uint64_t> config_at_{0, 0};
  int prev_state_ = RAFT_UNAVAILABLE;
  uint64_t prev_term_ = 0;
  std::unordered_set<Request*> submitted_;
};

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<RaftNode>> RaftNode::Start(
    const RaftOptions& options, StateMachine* state_machine) {
  if (absl::Status s = ValidateOptions(options, state_machine); !s.ok()) {
    return s;
  }
  absl::StatusOr<bool> fresh = PrepareDataDir(options.data_dir);
  if (!fresh.ok()) return fresh.status();
  auto impl = std::make_unique<Impl>(options, state_machine, *fresh);
  if (absl::Status s = impl->Launch(); !s.ok()) return s;
  return std::unique_ptr<RaftNode>(new RaftNode(std::move(impl)));
}

RaftNode::RaftNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RaftNode::~RaftNode() = default;

void RaftNode::Propose(std::string payload,
                       std::function<void(absl::StatusOr<uint64_t>)> done) {
  impl_->Propose(std::move(payload), std::move(done));
}

RaftStatus RaftNode::Status() const { return impl_->Status(); }

void RaftNode::Barrier(std::function<void(absl::Status)> done) {
  impl_->Barrier(std::move(done));
}
void RaftNode::AddMember(const RaftPeer& peer,
                         std::function<void(absl::Status)> done) {
  impl_->AddMember(peer, std::move(done));
}
void RaftNode::AssignRole(uint64_t id, RaftRole role,
                          std::function<void(absl::Status)> done) {
  impl_->AssignRole(id, role, std::move(done));
}
void RaftNode::RemoveMember(uint64_t id,
                            std::function<void(absl::Status)> done) {
  impl_->RemoveMember(id, std::move(done));
}
void RaftNode::TransferLeadership(uint64_t id,
                                  std::function<void(absl::Status)> done) {
  impl_->TransferLeadership(id, std::move(done));
}

absl::Status RaftNode::Stop() { return impl_->Stop(); }

}  // namespace virtengine::consensus
