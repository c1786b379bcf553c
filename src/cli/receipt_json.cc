#include "src/cli/receipt_json.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "compliance/json/json.h"
#include "security/validate/number.h"
#include "security/validate/utf8.h"
#include "src/cli/json.h"
#include "src/common/encoding/hex.h"

namespace virtengine::cli {

namespace lv1 = ::virtengine::ledger::v1;
namespace cjson = ::virtengine::compliance::json;

namespace {

constexpr size_t kHashBytes = 32;
constexpr size_t kSignatureBytes = 64;
constexpr size_t kMaxAuditPath = 64;

absl::Status Bad(std::string_view member, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("receipt: ", std::string(member), ": ", std::string(what)));
}

absl::StatusOr<lv1::BlockHeader> DecodeHeader(std::string_view bytes) {
  lv1::BlockHeader h;
  if (bytes.size() > kMaxHeaderBytes) {
    return Bad("header.header_bytes",
               absl::StrCat(bytes.size(), " bytes exceeds the limit of ",
                            kMaxHeaderBytes));
  }
  if (!h.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Bad("header.header_bytes", "not a serialised BlockHeader");
  }
  if (!lv1::BlockHeader::GetReflection()->GetUnknownFields(h).empty()) {
    return Bad("header.header_bytes",
               "carries fields this vectl does not know (a newer node?)");
  }
  if (std::optional<validate::Utf8Error> e =
          validate::FindUtf8Error(h.chain_id());
      e.has_value()) {
    return Bad("header.chain_id", "not valid UTF-8");
  }
  for (const auto& [name, value] :
       std::vector<std::pair<const char*, const std::string*>>{
           {"previous_hash", &h.previous_hash()},
           {"tx_root", &h.tx_root()},
           {"ledger_root", &h.ledger_root()},
           {"state_digest", &h.state_digest()},
           {"audit_head", &h.audit_head()}}) {
    if (value->size() > kHashBytes) {
      return Bad(absl::StrCat("header.", name),
                 absl::StrCat(value->size(), " bytes, more than ", kHashBytes));
    }
  }
  if (h.proposer().size() != kHashBytes) {
    return Bad(
        "header.proposer",
        absl::StrCat(h.proposer().size(), " bytes, want exactly ", kHashBytes));
  }
  return h;
}

absl::Status CheckSize(std::string_view member, std::string_view bytes,
                       size_t want) {
  if (bytes.size() != want) {
    return Bad(member,
               absl::StrCat(bytes.size(), " bytes, want exactly ", want));
  }
  return absl::OkStatus();
}

std::string Hex(std::string_view bytes) { return encoding::HexEncode(bytes); }

// A hex member: lowercase, at most `max` bytes, exactly `exact` if set.
absl::StatusOr<std::string> HexMember(std::string_view member,
                                      const cjson::Value& v, size_t max,
                                      std::optional<size_t> exact) {
  if (v.type() != cjson::Value::Type::kString) {
    return Bad(member, absl::StrCat("expected a hex string, found ",
                                    std::string(cjson::TypeName(v.type()))));
  }
  for (size_t i = 0; i < v.str().size(); ++i) {
    if (v.str()[i] >= 'A' && v.str()[i] <= 'F') {
      return Bad(member, absl::StrCat("hex must be lowercase ('",
                                      std::string(1, v.str()[i]),
                                      "' at position ", i, ")"));
    }
  }
  absl::StatusOr<std::vector<uint8_t>> b = encoding::HexDecode(v.str(), max);
  if (!b.ok()) return Bad(member, std::string(b.status().message()));
  std::string out(b->begin(), b->end());
  if (exact.has_value()) {
    if (absl::Status s = CheckSize(member, out, *exact); !s.ok()) return s;
  }
  return out;
}

absl::StatusOr<uint64_t> UintMember(std::string_view member,
                                    const cjson::Value& v) {
  if (v.type() != cjson::Value::Type::kNumber) {
    return Bad(member, absl::StrCat("expected an integer, found ",
                                    std::string(cjson::TypeName(v.type()))));
  }
  absl::StatusOr<uint64_t> n = validate::ParseUint64("", v.str());
  if (!n.ok()) return Bad(member, std::string(n.status().message()));
  return *n;
}

absl::StatusOr<int64_t> IntMember(std::string_view member,
                                  const cjson::Value& v) {
  if (v.type() != cjson::Value::Type::kNumber) {
    return Bad(member, absl::StrCat("expected an integer, found ",
                                    std::string(cjson::TypeName(v.type()))));
  }
  absl::StatusOr<int64_t> n = validate::ParseInt64("", v.str());
  if (!n.ok()) return Bad(member, std::string(n.status().message()));
  return *n;
}

// Calls `handlers[name]` for every member of `obj`; every handler's member
// must appear exactly once and no other member may.
absl::Status ForMembers(
    std::string_view where, const cjson::Value& obj,
    const std::map<std::string,
                   std::function<absl::Status(const cjson::Value&)>>&
        handlers) {
  if (obj.type() != cjson::Value::Type::kObject) {
    return Bad(where, absl::StrCat("expected an object, found ",
                                   std::string(cjson::TypeName(obj.type()))));
  }
  std::map<std::string, bool> seen;
  for (const auto& [name, value] : obj.members()) {
    auto h = handlers.find(name);
    if (h == handlers.end()) {
      std::string shown;
      AppendJsonString(&shown, name.substr(0, 64));
      return Bad(where, absl::StrCat("unknown member ", shown));
    }
    seen[name] = true;
    if (absl::Status s = h->second(value); !s.ok()) return s;
  }
  for (const auto& [name, unused] : handlers) {
    if (!seen[name])
      return Bad(where, absl::StrCat("missing member \"", name, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReceiptToJson(const lv1::Receipt& r) {
  absl::StatusOr<lv1::BlockHeader> h = DecodeHeader(r.header().header_bytes());
  if (!h.ok()) return h.status();
  for (const auto& [member, bytes, size] :
       std::vector<std::tuple<std::string, const std::string*, size_t>>{
           {"tx_hash", &r.tx_hash(), kHashBytes},
           {"leaf_hash", &r.leaf_hash(), kHashBytes},
           {"root", &r.root(), kHashBytes},
           {"signature", &r.header().signature(), kSignatureBytes}}) {
    if (absl::Status s = CheckSize(member, *bytes, size); !s.ok()) return s;
  }
  if (static_cast<size_t>(r.audit_path_size()) > kMaxAuditPath) {
    return Bad("audit_path",
               absl::StrCat(r.audit_path_size(),
                            " entries exceeds the limit of ", kMaxAuditPath));
  }
  for (int i = 0; i < r.audit_path_size(); ++i) {
    if (absl::Status s = CheckSize(absl::StrCat("audit_path[", i, "]"),
                                   r.audit_path(i), kHashBytes);
        !s.ok()) {
      return s;
    }
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("tx_hash").String(Hex(r.tx_hash()));
  w.Key("leaf_index").Uint(r.leaf_index());
  w.Key("tree_size").Uint(r.tree_size());
  w.Key("leaf_hash").String(Hex(r.leaf_hash()));
  w.Key("audit_path").BeginArray();
  for (const std::string& p : r.audit_path()) w.String(Hex(p));
  w.EndArray();
  w.Key("root").String(Hex(r.root()));
  w.Key("header").BeginObject();
  w.Key("header_bytes").String(Hex(r.header().header_bytes()));
  w.Key("chain_id").String(h->chain_id());
  w.Key("height").Uint(h->height());
  w.Key("time_unix_nano").Int(h->time_unix_nano());
  w.Key("previous_hash").String(Hex(h->previous_hash()));
  w.Key("tx_root").String(Hex(h->tx_root()));
  w.Key("ledger_root").String(Hex(h->ledger_root()));
  w.Key("ledger_size").Uint(h->ledger_size());
  w.Key("state_digest").String(Hex(h->state_digest()));
  w.Key("proposer").String(Hex(h->proposer()));
  w.Key("audit_head").String(Hex(h->audit_head()));
  w.EndObject();
  w.Key("signature").String(Hex(r.header().signature()));
  w.Key("signer_key").String(Hex(h->proposer()));
  w.EndObject();
  return w.str();
}

absl::StatusOr<lv1::Receipt> ReceiptFromJson(std::string_view json) {
  if (json.size() > kMaxReceiptJsonBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt: file of ", json.size(),
                     " bytes exceeds the limit of ", kMaxReceiptJsonBytes));
  }
  cjson::Limits limits;
  limits.max_bytes = kMaxReceiptJsonBytes;
  limits.max_depth = 4;
  absl::StatusOr<cjson::Value> doc = cjson::Parse(json, limits);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt: ", doc.status().message()));
  }
  lv1::Receipt r;
  std::string signer_key;
  // The decoded header members as the file states them, compared with
  // header_bytes once every member is read.
  lv1::BlockHeader shown;
  using Handler = std::function<absl::Status(const cjson::Value&)>;
  auto hex_into = [](std::string member, size_t max,
                     std::optional<size_t> exact,
                     std::function<void(std::string)> set) -> Handler {
    return [member = std::move(member), max, exact,
            set = std::move(set)](const cjson::Value& v) -> absl::Status {
      absl::StatusOr<std::string> b = HexMember(member, v, max, exact);
      if (!b.ok()) return b.status();
      set(*std::move(b));
      return absl::OkStatus();
    };
  };
  auto uint_into = [](std::string member,
                      std::function<void(uint64_t)> set) -> Handler {
    return [member = std::move(member),
            set = std::move(set)](const cjson::Value& v) -> absl::Status {
      absl::StatusOr<uint64_t> n = UintMember(member, v);
      if (!n.ok()) return n.status();
      set(*n);
      return absl::OkStatus();
    };
  };
  const std::map<std::string, Handler> header_members = {
      {"header_bytes",
       hex_into("header.header_bytes", kMaxHeaderBytes, std::nullopt,
                [&](std::string b) {
                  r.mutable_header()->set_header_bytes(std::move(b));
                })},
      {"chain_id",
       [&](const cjson::Value& v) -> absl::Status {
         if (v.type() != cjson::Value::Type::kString) {
           return Bad("header.chain_id",
                      absl::StrCat("expected a string, found ",
                                   std::string(cjson::TypeName(v.type()))));
         }
         shown.set_chain_id(v.str());
         return absl::OkStatus();
       }},
      {"height",
       uint_into("header.height", [&](uint64_t n) { shown.set_height(n); })},
      {"time_unix_nano",
       [&](const cjson::Value& v) -> absl::Status {
         absl::StatusOr<int64_t> n = IntMember("header.time_unix_nano", v);
         if (!n.ok()) return n.status();
         shown.set_time_unix_nano(*n);
         return absl::OkStatus();
       }},
      {"previous_hash",
       hex_into("header.previous_hash", kHashBytes, std::nullopt,
                [&](std::string b) { shown.set_previous_hash(std::move(b)); })},
      {"tx_root",
       hex_into("header.tx_root", kHashBytes, std::nullopt,
                [&](std::string b) { shown.set_tx_root(std::move(b)); })},
      {"ledger_root",
       hex_into("header.ledger_root", kHashBytes, std::nullopt,
                [&](std::string b) { shown.set_ledger_root(std::move(b)); })},
      {"ledger_size", uint_into("header.ledger_size",
                                [&](uint64_t n) { shown.set_ledger_size(n); })},
      {"state_digest",
       hex_into("header.state_digest", kHashBytes, std::nullopt,
                [&](std::string b) { shown.set_state_digest(std::move(b)); })},
      {"proposer",
       hex_into("header.proposer", kHashBytes, std::nullopt,
                [&](std::string b) { shown.set_proposer(std::move(b)); })},
      {"audit_head",
       hex_into("header.audit_head", kHashBytes, std::nullopt,
                [&](std::string b) { shown.set_audit_head(std::move(b)); })},
  };
  const std::map<std::string, Handler> top = {
      {"tx_hash",
       hex_into("tx_hash", kHashBytes, kHashBytes,
                [&](std::string b) { r.set_tx_hash(std::move(b)); })},
      {"leaf_index",
       uint_into("leaf_index", [&](uint64_t n) { r.set_leaf_index(n); })},
      {"tree_size",
       uint_into("tree_size", [&](uint64_t n) { r.set_tree_size(n); })},
      {"leaf_hash",
       hex_into("leaf_hash", kHashBytes, kHashBytes,
                [&](std::string b) { r.set_leaf_hash(std::move(b)); })},
      {"audit_path",
       [&](const cjson::Value& v) -> absl::Status {
         if (v.type() != cjson::Value::Type::kArray) {
           return Bad("audit_path",
                      absl::StrCat("expected an array, found ",
                                   std::string(cjson::TypeName(v.type()))));
         }
         if (v.items().size() > kMaxAuditPath) {
           return Bad(
               "audit_path",
               absl::StrCat(v.items().size(), " entries exceeds the limit of ",
                            kMaxAuditPath));
         }
         for (size_t i = 0; i < v.items().size(); ++i) {
           absl::StatusOr<std::string> b =
               HexMember(absl::StrCat("audit_path[", i, "]"), v.items()[i],
                         kHashBytes, kHashBytes);
           if (!b.ok()) return b.status();
           r.add_audit_path(*std::move(b));
         }
         return absl::OkStatus();
       }},
      {"root", hex_into("root", kHashBytes, kHashBytes,
                        [&](std::string b) { r.set_root(std::move(b)); })},
      {"header",
       [&](const cjson::Value& v) {
         return ForMembers("header", v, header_members);
       }},
      {"signature", hex_into("signature", kSignatureBytes, kSignatureBytes,
                             [&](std::string b) {
                               r.mutable_header()->set_signature(std::move(b));
                             })},
      {"signer_key",
       hex_into("signer_key", kHashBytes, kHashBytes,
                [&](std::string b) { signer_key = std::move(b); })},
  };
  if (absl::Status s = ForMembers("top level", *doc, top); !s.ok()) return s;

  absl::StatusOr<lv1::BlockHeader> h = DecodeHeader(r.header().header_bytes());
  if (!h.ok()) return h.status();
  // Every decoded member must say what header_bytes says: a reader of the
  // file must not be shown one header while another one is verified.
  const std::vector<std::pair<const char*, bool>> same = {
      {"chain_id", shown.chain_id() == h->chain_id()},
      {"height", shown.height() == h->height()},
      {"time_unix_nano", shown.time_unix_nano() == h->time_unix_nano()},
      {"previous_hash", shown.previous_hash() == h->previous_hash()},
      {"tx_root", shown.tx_root() == h->tx_root()},
      {"ledger_root", shown.ledger_root() == h->ledger_root()},
      {"ledger_size", shown.ledger_size() == h->ledger_size()},
      {"state_digest", shown.state_digest() == h->state_digest()},
      {"proposer", shown.proposer() == h->proposer()},
      {"audit_head", shown.audit_head() == h->audit_head()},
  };
  for (const auto& [name, equal] : same) {
    if (!equal) {
      return Bad(absl::StrCat("header.", name),
                 "differs from the value in header_bytes");
    }
  }
  if (signer_key != h->proposer()) {
    return Bad("signer_key", "differs from the header's proposer");
  }
  return r;
}

}  // namespace virtengine::cli
