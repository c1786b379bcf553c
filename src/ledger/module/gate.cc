#include "src/ledger/module/gate.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "security/validate/identifier.h"

namespace virtengine::ledger {

namespace {

std::string S(std::string_view v) { return std::string(v); }

absl::Status Refuse(std::string_view type_url, std::string_view needs,
                    std::string_view has) {
  return absl::PermissionDeniedError(
      absl::StrCat("gate: ", S(type_url), " needs ", S(needs), "; ", S(has)));
}

absl::Status ProviderError(std::string_view what, const absl::Status& s) {
  return absl::Status(s.code(),
                      absl::StrCat("gate: ", S(what), ": ", s.message()));
}

}  // namespace

std::string_view TierName(VeidTier tier) {
  switch (tier) {
    case VeidTier::kUnverified:
      return "0";
    case VeidTier::kPending:
      return "0.5";
    case VeidTier::kBasic:
      return "1";
    case VeidTier::kStandard:
      return "2";
    case VeidTier::kPremium:
      return "3";
  }
  return "?";
}

std::string_view MfaClassName(MfaClass mfa) {
  switch (mfa) {
    case MfaClass::kNone:
      return "none";
    case MfaClass::kLow:
      return "low";
    case MfaClass::kMedium:
      return "medium";
    case MfaClass::kHigh:
      return "high";
    case MfaClass::kCritical:
      return "critical";
  }
  return "?";
}

std::string_view GateFactName(GateFact fact) {
  switch (fact) {
    case GateFact::kVeid:
      return "VEID";
    case GateFact::kMfa:
      return "MFA";
    case GateFact::kRole:
      return "role";
  }
  return "?";
}

bool GateRequirement::none() const {
  return min_tier == VeidTier::kUnverified && min_score == 0 &&
         mfa == MfaClass::kNone && role.empty();
}

std::string GateRequirement::Describe() const {
  if (none()) return "none";
  std::vector<std::string> parts;
  if (min_tier != VeidTier::kUnverified) {
    parts.push_back(absl::StrCat("VEID tier ≥ ", S(TierName(min_tier))));
  }
  if (min_score != 0) parts.push_back(absl::StrCat("VEID score ≥ ", min_score));
  if (mfa != MfaClass::kNone) {
    parts.push_back(absl::StrCat("MFA ", S(MfaClassName(mfa))));
  }
  if (!role.empty()) parts.push_back(absl::StrCat("role ", role));
  return absl::StrJoin(parts, ", ");
}

absl::Status ValidateRequirement(std::string_view field,
                                 const GateRequirement& requirement) {
  if (requirement.min_score > 100) {
    return absl::InvalidArgumentError(absl::StrCat(
        S(field), ": minimum score ", requirement.min_score, " is above 100"));
  }
  if (requirement.min_tier > VeidTier::kPremium) {
    return absl::InvalidArgumentError(
        absl::StrCat(S(field), ": unknown VEID tier"));
  }
  if (requirement.mfa > MfaClass::kCritical) {
    return absl::InvalidArgumentError(
        absl::StrCat(S(field), ": unknown MFA class"));
  }
  if (!requirement.role.empty()) {
    return validate::ValidateIdentifier(absl::StrCat(S(field), ": role"),
                                        requirement.role,
                                        validate::kLowerIdentifier);
  }
  return absl::OkStatus();
}

absl::StatusOr<VeidStanding> GateFacts::Veid(std::string_view) const {
  return absl::UnimplementedError("no VEID facts");
}

absl::StatusOr<MfaSession> GateFacts::Mfa(std::string_view,
                                          std::string_view) const {
  return absl::UnimplementedError("no MFA facts");
}

absl::StatusOr<bool> GateFacts::HasRole(std::string_view,
                                        std::string_view) const {
  return absl::UnimplementedError("no role facts");
}

absl::Status EvaluateGate(std::string_view type_url,
                          const GateRequirement& requirement,
                          std::string_view signer, int64_t block_time_unix_nano,
                          const GateProviders& facts) {
  if (requirement.min_tier != VeidTier::kUnverified ||
      requirement.min_score != 0) {
    const std::string needs =
        requirement.min_tier != VeidTier::kUnverified
            ? absl::StrCat("VEID tier ≥ ", S(TierName(requirement.min_tier)))
            : absl::StrCat("VEID score ≥ ", requirement.min_score);
    if (facts.veid == nullptr) {
      return Refuse(type_url, needs, "no VEID facts provider is registered");
    }
    absl::StatusOr<VeidStanding> standing = facts.veid->Veid(signer);
    if (!standing.ok()) return ProviderError("VEID facts", standing.status());
    if (standing->tier < requirement.min_tier) {
      return Refuse(
          type_url, needs,
          absl::StrCat("signer has tier ", S(TierName(standing->tier))));
    }
    if (standing->score < requirement.min_score) {
      return Refuse(type_url,
                    absl::StrCat("VEID score ≥ ", requirement.min_score),
                    absl::StrCat("signer has score ", standing->score));
    }
  }
  if (requirement.mfa != MfaClass::kNone) {
    const std::string needs = absl::StrCat("an MFA session of class ",
                                           S(MfaClassName(requirement.mfa)));
    if (facts.mfa == nullptr) {
      return Refuse(type_url, needs, "no MFA facts provider is registered");
    }
    absl::StatusOr<MfaSession> session = facts.mfa->Mfa(signer, type_url);
    if (!session.ok()) return ProviderError("MFA facts", session.status());
    if (!session->present) {
      return Refuse(type_url, needs, "signer has no authorization session");
    }
    if (session->expires_unix_nano <= block_time_unix_nano) {
      return Refuse(type_url, needs,
                    absl::StrCat("signer's session expired at ",
                                 session->expires_unix_nano, " (block time ",
                                 block_time_unix_nano, ")"));
    }
    if (session->covers < requirement.mfa) {
      return Refuse(type_url, needs,
                    absl::StrCat("signer's session covers class ",
                                 S(MfaClassName(session->covers))));
    }
  }
  if (!requirement.role.empty()) {
    const std::string needs = absl::StrCat("role ", requirement.role);
    if (facts.roles == nullptr) {
      return Refuse(type_url, needs, "no role facts provider is registered");
    }
    absl::StatusOr<bool> has = facts.roles->HasRole(signer, requirement.role);
    if (!has.ok()) return ProviderError("role facts", has.status());
    if (!*has) return Refuse(type_url, needs, "signer does not have it");
  }
  return absl::OkStatus();
}

}  // namespace virtengine::ledger
