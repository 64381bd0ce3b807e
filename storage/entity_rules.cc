#include "storage/entity_rules.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include <google/protobuf/descriptor.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/control_characters.h"

namespace atlas::storage {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxTitle = 512;
constexpr size_t kMaxText = 64 * 1024;

// Collections, keyed by kind, in proto order.
const std::vector<std::pair<std::string, std::string>>& KindCollections() {
  static const auto* table =
      new std::vector<std::pair<std::string, std::string>>{
          {"organization", "organizations"},
          {"basket", "baskets"},
          {"topic", "topics"},
          {"agreement", "agreements"},
          {"body", "bodies"},
          {"process", "processes"},
          {"event", "events"},
          {"document", "documents"},
          {"tbt_notification", "tbtNotifications"},
          {"trade_concern", "tradeConcerns"},
          {"member", "members"},
          {"fact", "facts"},
      };
  return *table;
}

bool IsKnownCollection(absl::string_view collection) {
  for (const auto& [kind, known] : KindCollections()) {
    if (known == collection) return true;
  }
  return false;
}

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Rules for payload fields that carry more meaning than their proto type.
enum class Rule {
  kPartialDate,   // "YYYY", "YYYY-MM" or "YYYY-MM-DD"
  kResourceName,  // "{collection}/{slug}", collection given by the rule's arg
  kSlug,
  kRequired,      // non-empty string
  kSnakeCase,
  kMemberCode,
  kNonNegative,
  kFinite,
  kUrl,
};

struct FieldRule {
  Rule rule;
  absl::string_view collection;  // kResourceName: required collection or ""
};

// Keyed by the field's full name, e.g. "atlas.v1.Topic.basket".
const absl::flat_hash_map<std::string, std::vector<FieldRule>>& FieldRules() {
  static const auto* rules = [] {
    auto* r = new absl::flat_hash_map<std::string, std::vector<FieldRule>>;
    auto add = [r](std::string field, Rule rule,
                   absl::string_view collection = "") {
      (*r)[absl::StrCat("atlas.v1.", field)].push_back({rule, collection});
    };
    for (const char* date :
         {"Organization.established", "Agreement.concluded",
          "Agreement.entry_into_force", "Process.started", "Process.expires",
          "ParticipantCount.as_of", "Event.start", "Event.end", "FollowUp.date",
          "Document.date", "TbtNotification.date",
          "TbtNotification.comment_deadline", "ConcernMeeting.date",
          "TradeConcern.first_raised", "Member.accession", "Fact.as_of"}) {
      add(date, Rule::kPartialDate);
    }
    for (const char* required :
         {"Organization.acronym", "IssueSection.topic", "IssueSection.summary",
          "SocialChannel.platform", "SocialChannel.handle", "Topic.basket",
          "ParticipantCount.as_of", "FollowUp.symbol", "ConcernMeeting.date",
          "TbtNotification.notifying_member", "Fact.subject", "Fact.metric",
          "Fact.unit", "Fact.as_of"}) {
      add(required, Rule::kRequired);
    }
    add("Topic.basket", Rule::kResourceName, "baskets");
    add("Body.parent", Rule::kResourceName, "bodies");
    add("Process.conveners", Rule::kResourceName, "members");
    add("TbtNotification.notifying_member", Rule::kResourceName, "members");
    add("TradeConcern.raising_members", Rule::kResourceName, "members");
    add("TradeConcern.maintaining_members", Rule::kResourceName, "members");
    add("ConcernMeeting.body", Rule::kResourceName, "bodies");
    add("Member.participation", Rule::kResourceName);
    add("Fact.subject", Rule::kResourceName);
    add("IssueSection.topic", Rule::kSlug);
    add("Fact.metric", Rule::kSnakeCase);
    add("Member.code", Rule::kMemberCode);
    add("ParticipantCount.count", Rule::kNonNegative);
    add("Basket.position", Rule::kNonNegative);
    add("Fact.value", Rule::kFinite);
    add("Organization.website", Rule::kUrl);
    return r;
  }();
  return *rules;
}

bool IsSnakeCase(absl::string_view s) {
  if (s.empty() || s.size() > 63 || !absl::ascii_islower(s[0])) return false;
  for (char c : s) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

bool IsUrl(absl::string_view s) {
  return (absl::StartsWith(s, "https://") && s.size() > 8) ||
         (absl::StartsWith(s, "http://") && s.size() > 7);
}

// What ScanText finds in a string: the first problem, if any.
struct TextScan {
  enum class Verdict { kOk, kNotUtf8, kControl } verdict = Verdict::kOk;
  size_t at = 0;  // byte offset of the problem
};

// One pass over `s` for two rules of the record's text:
// - RFC 3629 UTF-8 (no overlong forms, surrogates or code points past
//   U+10FFFF): what Protobuf demands of a string field when it parses one,
//   so an entity that passes can be read back from the store;
// - no control characters: C0 but tab and line feed, DEL, and C1
//   (U+0080-U+009F). None belongs in the record's text, and printed to a
//   terminal (atlasctl's tables) they can move the cursor or rewrite what
//   was shown.
TextScan ScanText(absl::string_view s) {
  using Verdict = TextScan::Verdict;
  constexpr uint64_t kOnes = 0x0101010101010101u;
  constexpr uint64_t kHighBits = 0x8080808080808080u;
  size_t i = 0;
  while (i < s.size()) {
    // Eight bytes at a time while all are printable ASCII (most text is).
    uint64_t word;
    if (s.size() - i >= sizeof(word)) {
      std::memcpy(&word, s.data() + i, sizeof(word));
      // A high bit is set in `word` for a byte past 0x7F, in word - 0x20..
      // for one below 0x20, in word + 0x01.. for 0x7F (DEL); borrows and
      // carries only add high bits next to a byte that sets one anyway.
      if (((word | (word - 0x20 * kOnes) | (word + kOnes)) & kHighBits) == 0) {
        i += sizeof(word);
        continue;
      }
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c != '\t' && c != '\n' && ControlCharacterAt(s, i) != 0) {
        return {Verdict::kControl, i};
      }
      ++i;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return {Verdict::kNotUtf8, i};
    }
    if (s.size() - i <= n) return {Verdict::kNotUtf8, i};
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
        return {Verdict::kNotUtf8, i};
      }
    }
    if (c == 0xC2 && ControlCharacterAt(s, i) != 0) {  // C1
      return {Verdict::kControl, i};
    }
    i += n + 1;
  }
  return {};
}

// Text as ScanText wants it. `path()` names the field; called only to
// report a problem.
template <typename PathFn>
absl::Status CheckText(absl::string_view value, const PathFn& path) {
  const TextScan scan = ScanText(value);
  switch (scan.verdict) {
    case TextScan::Verdict::kOk:
      return absl::OkStatus();
    case TextScan::Verdict::kNotUtf8:
      return Invalid(path(), "is not valid UTF-8");
    case TextScan::Verdict::kControl:
      break;
  }
  const unsigned code_point = ControlCodePoint(value, scan.at);
  return Invalid(path(),
                 absl::StrFormat("holds the control character U+%04X at byte "
                                 "%d (of the control characters, only tab and "
                                 "line feed are allowed)",
                                 code_point, scan.at));
}

// `path()` names the field; called only to report a problem.
template <typename PathFn>
absl::Status CheckString(const FieldRule& rule, absl::string_view value,
                         const PathFn& path) {
  if (value.empty()) {
    return rule.rule == Rule::kRequired ? Invalid(path(), "is required")
                                        : absl::OkStatus();
  }
  switch (rule.rule) {
    case Rule::kPartialDate:
      if (!IsPartialDate(value)) {
        return Invalid(path(),
                       absl::StrFormat("%s is not a date (want YYYY, YYYY-MM "
                                       "or YYYY-MM-DD)",
                                       Quoted(value)));
      }
      break;
    case Rule::kResourceName: {
      if (!ValidateResourceName(value, "").ok()) {
        return ValidateResourceName(value, path());
      }
      if (!rule.collection.empty() &&
          !absl::StartsWith(value, absl::StrCat(rule.collection, "/"))) {
        return Invalid(path(), absl::StrFormat("%s must name one of %s/",
                                               Quoted(value), rule.collection));
      }
      break;
    }
    case Rule::kSlug:
      if (!IsSlug(value)) {
        return Invalid(path(),
                       absl::StrFormat("%s is not a slug (1-63 of a-z, "
                                       "0-9 and '-', not starting or ending "
                                       "with '-')",
                                       Quoted(value)));
      }
      break;
    case Rule::kSnakeCase:
      if (!IsSnakeCase(value)) {
        return Invalid(path(), absl::StrFormat("%s is not lower snake_case",
                                               Quoted(value)));
      }
      break;
    case Rule::kMemberCode: {
      bool ok = value.size() >= 2 && value.size() <= 3;
      for (char c : value) ok = ok && absl::ascii_isupper(c);
      if (!ok) {
        return Invalid(
            path(),
            absl::StrFormat("%s is not 2-3 upper-case letters", Quoted(value)));
      }
      break;
    }
    case Rule::kUrl:
      if (!IsUrl(value)) {
        return Invalid(
            path(), absl::StrFormat("%s is not an http(s) URL", Quoted(value)));
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

// The rules of each field, keyed by its descriptor.
const absl::flat_hash_map<const FieldDescriptor*, std::vector<FieldRule>>&
RulesByField() {
  static const auto* rules = [] {
    auto* r =
        new absl::flat_hash_map<const FieldDescriptor*, std::vector<FieldRule>>;
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const auto& [name, field_rules] : FieldRules()) {
      if (const FieldDescriptor* field = pool->FindFieldByName(name)) {
        (*r)[field] = field_rules;
      }
    }
    return r;
  }();
  return *rules;
}

// Walks a payload message: field rules, known enum values, text sizes.
// Field paths are built only for a problem to report (or a child to walk).
absl::Status ValidateMessage(const Message& message, const std::string& path) {
  const Descriptor* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  const auto& rules = RulesByField();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    auto found = rules.find(field);
    const std::vector<FieldRule>* field_rules =
        found == rules.end() ? nullptr : &found->second;
    const int count = field->is_repeated()
                          ? reflection->FieldSize(message, field)
                          : 1;
    for (int j = 0; j < count; ++j) {
      const auto element_path = [&] {
        return field->is_repeated()
                   ? absl::StrCat(path, ".", field->name(), "[", j, "]")
                   : absl::StrCat(path, ".", field->name());
      };
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: {
          std::string scratch;
          const std::string& value =
              field->is_repeated()
                  ? reflection->GetRepeatedStringReference(message, field, j,
                                                           &scratch)
                  : reflection->GetStringReference(message, field, &scratch);
          if (value.size() > kMaxText) {
            return Invalid(element_path(),
                           absl::StrCat("is longer than ", kMaxText, " bytes"));
          }
          if (absl::Status text = CheckText(value, element_path); !text.ok()) {
            return text;
          }
          if (field_rules == nullptr) break;
          for (const FieldRule& rule : *field_rules) {
            absl::Status status = CheckString(rule, value, element_path);
            if (!status.ok()) return status;
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_ENUM: {
          int value = field->is_repeated()
                          ? reflection->GetRepeatedEnumValue(message, field, j)
                          : reflection->GetEnumValue(message, field);
          if (field->enum_type()->FindValueByNumber(value) == nullptr) {
            return Invalid(element_path(),
                           absl::StrCat("unknown ", field->enum_type()->name(),
                                        " value ", value));
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_INT32: {
          int32_t value = field->is_repeated()
                              ? reflection->GetRepeatedInt32(message, field, j)
                              : reflection->GetInt32(message, field);
          if (field_rules == nullptr) break;
          for (const FieldRule& rule : *field_rules) {
            if (rule.rule == Rule::kNonNegative && value < 0) {
              return Invalid(element_path(), "must not be negative");
            }
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_DOUBLE: {
          double value = field->is_repeated()
                             ? reflection->GetRepeatedDouble(message, field, j)
                             : reflection->GetDouble(message, field);
          if (!std::isfinite(value)) {
            return Invalid(element_path(), "must be a finite number");
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          if (!field->is_repeated() && !reflection->HasField(message, field)) {
            break;
          }
          const Message& child =
              field->is_repeated()
                  ? reflection->GetRepeatedMessage(message, field, j)
                  : reflection->GetMessage(message, field);
          absl::Status status = ValidateMessage(child, element_path());
          if (!status.ok()) return status;
          break;
        }
        default:
          break;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string Quoted(absl::string_view value) {
  std::string out = "\"";
  for (size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        switch (ControlCharacterAt(value, i)) {
          case 0:
            out.push_back(value[i]);
            break;
          case 1:
            absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
            break;
          default:  // C1, two bytes
            absl::StrAppend(
                &out, "\\u00",
                absl::Hex(ControlCodePoint(value, i), absl::kZeroPad2));
            ++i;
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string KindOf(const v1::Entity& entity) {
  // Looked up once: a lookup by name hashes it into the pool's symbols, on
  // every write and for every subscriber a change is matched against.
  static const google::protobuf::OneofDescriptor* const payload =
      v1::Entity::descriptor()->FindOneofByName("payload");
  const FieldDescriptor* field =
      entity.GetReflection()->GetOneofFieldDescriptor(entity, payload);
  return field == nullptr ? "" : field->name();
}

const std::vector<std::string>& AllKinds() {
  static const auto* kinds = [] {
    auto* out = new std::vector<std::string>;
    for (const auto& [kind, collection] : KindCollections()) {
      out->push_back(kind);
    }
    return out;
  }();
  return *kinds;
}

bool IsKnownKind(absl::string_view kind) {
  return !CollectionOfKind(kind).empty();
}

std::string CollectionOfKind(absl::string_view kind) {
  for (const auto& [known, collection] : KindCollections()) {
    if (known == kind) return collection;
  }
  return "";
}

bool IsSlug(absl::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsPartialDate(absl::string_view s) {
  auto digits = [&](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i) {
      if (!absl::ascii_isdigit(s[i])) return false;
    }
    return true;
  };
  auto number = [&](size_t from, size_t n) {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  if (s.size() != 4 && s.size() != 7 && s.size() != 10) return false;
  if (!digits(0, 4)) return false;
  if (s.size() == 4) return true;
  if (s[4] != '-' || !digits(5, 2)) return false;
  const int year = number(0, 4);
  const int month = number(5, 2);
  if (month < 1 || month > 12) return false;
  if (s.size() == 7) return true;
  if (s[7] != '-' || !digits(8, 2)) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int day = number(8, 2);
  const int max_day = month == 2 && !leap ? 28 : kDays[month - 1];
  return day >= 1 && day <= max_day;
}

absl::Status ValidateResourceName(absl::string_view name,
                                  absl::string_view field) {
  if (name.empty()) return Invalid(field, "is required");
  const size_t slash = name.find('/');
  if (slash == absl::string_view::npos) {
    return Invalid(
        field, absl::StrFormat("%s is not a resource name "
                               "(want {collection}/{id}, e.g. agreements/tbt)",
                               Quoted(name)));
  }
  const absl::string_view collection = name.substr(0, slash);
  const absl::string_view id = name.substr(slash + 1);
  if (!IsKnownCollection(collection)) {
    return Invalid(field, absl::StrFormat("%s has unknown collection %s",
                                          Quoted(name), Quoted(collection)));
  }
  if (!IsSlug(id)) {
    return Invalid(
        field, absl::StrFormat("%s has an invalid id: want 1-63 of a-z, "
                               "0-9 and '-', not starting or ending with '-'",
                               Quoted(name)));
  }
  return absl::OkStatus();
}

absl::Status ValidateEntity(const v1::Entity& entity, size_t max_bytes,
                            absl::string_view prefix) {
  // Paths are built for errors only (`at`, and the per-element lambdas).
  const absl::string_view base = prefix;
  auto at = [&](absl::string_view field) {
    return base.empty() ? std::string(field) : absl::StrCat(base, ".", field);
  };
  const std::string name_field = at("name");
  absl::Status status = ValidateResourceName(entity.name(), name_field);
  if (!status.ok()) return status;
  const std::string kind = KindOf(entity);
  if (kind.empty()) {
    return Invalid(at("payload"),
                   "is required: set exactly one kind (organization, basket, "
                   "topic, agreement, body, process, event, document, "
                   "tbt_notification, trade_concern, member, fact)");
  }
  const std::string collection = CollectionOfKind(kind);
  const absl::string_view name = entity.name();
  if (!absl::StartsWith(name, collection) || name.size() <= collection.size() ||
      name[collection.size()] != '/') {
    return Invalid(name_field,
                   absl::StrFormat("%s holds a %s, so it must be %s/{id}",
                                   Quoted(entity.name()), kind, collection));
  }
  if (entity.title().size() > kMaxTitle) {
    return Invalid(at("title"),
                   absl::StrCat("is longer than ", kMaxTitle, " bytes"));
  }
  status = CheckText(entity.title(), [&] { return at("title"); });
  if (!status.ok()) return status;
  absl::flat_hash_set<absl::string_view> topics;
  for (int i = 0; i < entity.topics_size(); ++i) {
    const auto field = [&] { return at(absl::StrCat("topics[", i, "]")); };
    if (!IsSlug(entity.topics(i))) {
      return Invalid(field(), absl::StrFormat("%s is not a topic slug",
                                              Quoted(entity.topics(i))));
    }
    if (!topics.insert(entity.topics(i)).second) {
      return Invalid(field(), absl::StrFormat("%s is listed twice",
                                              Quoted(entity.topics(i))));
    }
  }
  absl::flat_hash_set<std::pair<absl::string_view, absl::string_view>> links;
  for (int i = 0; i < entity.links_size(); ++i) {
    const v1::Link& link = entity.links(i);
    const auto field = [&] { return at(absl::StrCat("links[", i, "]")); };
    if (!IsSnakeCase(link.rel())) {
      return Invalid(
          absl::StrCat(field(), ".rel"),
          absl::StrFormat("%s is not lower snake_case", Quoted(link.rel())));
    }
    if (!ValidateResourceName(link.target(), "target").ok()) {
      return ValidateResourceName(link.target(),
                                  absl::StrCat(field(), ".target"));
    }
    if (!links.insert({link.rel(), link.target()}).second) {
      return Invalid(field(), absl::StrFormat("%s -> %s is listed twice",
                                              link.rel(), link.target()));
    }
  }
  for (int i = 0; i < entity.source_urls_size(); ++i) {
    const auto field = [&] { return at(absl::StrCat("source_urls[", i, "]")); };
    status = CheckText(entity.source_urls(i), field);
    if (!status.ok()) return status;
    if (!IsUrl(entity.source_urls(i))) {
      return Invalid(field(), absl::StrFormat("%s is not an http(s) URL",
                                              Quoted(entity.source_urls(i))));
    }
  }
  const auto* payload_field = v1::Entity::descriptor()->FindFieldByName(kind);
  status = ValidateMessage(
      entity.GetReflection()->GetMessage(entity, payload_field), at(kind));
  if (!status.ok()) return status;
  if (entity.has_event() && !entity.event().end().empty() &&
      entity.event().end() < entity.event().start()) {
    return Invalid(at("event.end"), "is before event.start");
  }
  if (entity.has_body() && entity.body().parent() == entity.name()) {
    return Invalid(at("body.parent"), "a body cannot be its own parent");
  }
  const size_t size = entity.ByteSizeLong();
  if (size > max_bytes) {
    return Invalid(base.empty() ? "entity" : base,
                   absl::StrCat("is ", size, " bytes, more than the limit of ",
                                max_bytes));
  }
  return absl::OkStatus();
}

v1::Entity OutputOnlyView(const v1::Entity& entity) {
  v1::Entity view;
  view.set_name(entity.name());
  view.set_create_revision(entity.create_revision());
  view.set_update_revision(entity.update_revision());
  view.set_version(entity.version());
  view.set_etag(entity.etag());
  if (entity.has_create_time()) {
    *view.mutable_create_time() = entity.create_time();
  }
  if (entity.has_update_time()) {
    *view.mutable_update_time() = entity.update_time();
  }
  view.set_deleted(entity.deleted());
  return view;
}

void ClearOutputOnly(v1::Entity& entity) {
  entity.clear_create_revision();
  entity.clear_update_revision();
  entity.clear_version();
  entity.clear_etag();
  entity.clear_create_time();
  entity.clear_update_time();
  entity.clear_deleted();
}

}  // namespace atlas::storage
