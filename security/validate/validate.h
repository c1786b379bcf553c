// Input validation for every external boundary (gRPC handlers, transaction
// decoding, CLI arguments, config files, provider and enclave messages).
// Every check names the field in its message, e.g.
//   "memo: not valid UTF-8 at byte 17: overlong encoding"
// and returns absl::StatusCode::kInvalidArgument. docs/security/validate.md
// lists the limits, formats and messages.
#ifndef VIRTENGINE_SECURITY_VALIDATE_VALIDATE_H_
#define VIRTENGINE_SECURITY_VALIDATE_VALIDATE_H_

#include "security/validate/address.h"     // IWYU pragma: export
#include "security/validate/encoded.h"     // IWYU pragma: export
#include "security/validate/identifier.h"  // IWYU pragma: export
#include "security/validate/number.h"      // IWYU pragma: export
#include "security/validate/size.h"        // IWYU pragma: export
#include "security/validate/utf8.h"        // IWYU pragma: export

#endif  // VIRTENGINE_SECURITY_VALIDATE_VALIDATE_H_
