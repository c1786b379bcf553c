// ve-measure's command line, as a function so that tests run it in-process.
#ifndef VIRTENGINE_SECURITY_TPM_MEASURE_CLI_H_
#define VIRTENGINE_SECURITY_TPM_MEASURE_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace virtengine::tpm {

inline constexpr int kMeasureOk = 0;
inline constexpr int kMeasureRuntimeError = 1;
inline constexpr int kMeasureUsageError = 2;

// `args` excludes argv[0]. See kMeasureUsage in measure_cli.cc or
// `ve-measure --help`.
int RunMeasureCli(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err);

}  // namespace virtengine::tpm

#endif  // VIRTENGINE_SECURITY_TPM_MEASURE_CLI_H_
