// The contract between the runner (runner.cc) and ve-exec-trampoline
// (trampoline.cc). posix_spawn cannot set resource limits, so the runner
// spawns the trampoline, which applies them to itself and then execve()s the
// target: the limits are in force before the first instruction of the target
// runs, with no window where the target runs unlimited (prlimit after spawn
// would race).
//
//   argv[0]  the trampoline's own path
//   argv[1]  kProtocolTag
//   argv[2]  RLIMIT_CPU seconds        canonical decimal
//   argv[3]  RLIMIT_AS bytes
//   argv[4]  RLIMIT_NOFILE
//   argv[5]  RLIMIT_NPROC
//   argv[6]  RLIMIT_FSIZE bytes
//   argv[7]  "1" = set PR_SET_NO_NEW_PRIVS, "0" = do not
//   argv[8]  "--"
//   argv[9]  absolute path of the target
//   argv[10] the target's argv[0], then its arguments
//
// The environment is passed to the target unchanged (the runner has already
// reduced it to the entry's variables). RLIMIT_CORE is always 0. fd 3 is the
// write end of a status pipe: the trampoline marks it close-on-exec, so a
// successful execve closes it (the runner reads EOF); on failure it writes
// one StatusRecord and exits with kExitFailure.
#ifndef VIRTENGINE_SECURITY_EXEC_TRAMPOLINE_PROTOCOL_H_
#define VIRTENGINE_SECURITY_EXEC_TRAMPOLINE_PROTOCOL_H_

#include <cstdint>

namespace virtengine::exec::trampoline {

inline constexpr char kProtocolTag[] = "ve-exec-trampoline/1";
inline constexpr int kStatusFd = 3;
inline constexpr int kFirstTargetArg = 9;  // index of the target path
inline constexpr int kExitFailure = 127;
inline constexpr uint32_t kStatusMagic = 0x56455845;  // "VEXE"

enum Stage : int32_t {
  kStageArguments = 1,
  kStageNoNewPrivs = 2,
  kStageRlimitCpu = 3,
  kStageRlimitAs = 4,
  kStageRlimitNofile = 5,
  kStageRlimitNproc = 6,
  kStageRlimitFsize = 7,
  kStageRlimitCore = 8,
  kStageExec = 9,
};

struct StatusRecord {
  uint32_t magic;
  int32_t stage;
  int32_t error;  // errno
};

inline const char* StageName(int32_t stage) {
  switch (stage) {
    case kStageArguments:
      return "trampoline arguments";
    case kStageNoNewPrivs:
      return "PR_SET_NO_NEW_PRIVS";
    case kStageRlimitCpu:
      return "setrlimit(RLIMIT_CPU)";
    case kStageRlimitAs:
      return "setrlimit(RLIMIT_AS)";
    case kStageRlimitNofile:
      return "setrlimit(RLIMIT_NOFILE)";
    case kStageRlimitNproc:
      return "setrlimit(RLIMIT_NPROC)";
    case kStageRlimitFsize:
      return "setrlimit(RLIMIT_FSIZE)";
    case kStageRlimitCore:
      return "setrlimit(RLIMIT_CORE)";
    case kStageExec:
      return "execve";
    default:
      return "unknown stage";
  }
}

}  // namespace virtengine::exec::trampoline

#endif  // VIRTENGINE_SECURITY_EXEC_TRAMPOLINE_PROTOCOL_H_
