// ve-seccomp-inspect: prints what a seccomp policy allows (default action,
// each syscall with its number, action and argument conditions, the policy's
// SHA-256), for people or as JSON. A library so vectl can reach it.
#ifndef VE_SECURITY_SECCOMP_INSPECT_H_
#define VE_SECURITY_SECCOMP_INSPECT_H_

#include <cstddef>
#include <ostream>
#include <string>

#include "security/seccomp/policy.h"

namespace virtengine::security::seccomp {

// Exit codes of InspectMain.
inline constexpr int kInspectOk = 0;
inline constexpr int kInspectRuntimeError = 1;
inline constexpr int kInspectUsageOrInvalid = 2;

// A condition for people, e.g. "arg0 == 0x1 (AF_UNIX)" or
// "(arg2 & 0x4) == 0x0 (PROT_EXEC clear)".
std::string DescribeCondition(const std::string& syscall,
                              const v1::ArgCondition& c);

std::string RenderText(const Policy& policy, size_t bpf_instructions);
std::string RenderJson(const Policy& policy, size_t bpf_instructions);

// The command: ve-seccomp-inspect [--output text|json] POLICY_FILE.
int InspectMain(int argc, const char* const* argv, std::ostream& out,
                std::ostream& err);

}  // namespace virtengine::security::seccomp

#endif  // VE_SECURITY_SECCOMP_INSPECT_H_
