// Fuzz target: commits against a real Store.
//
// The input is a short script, one command a line:
//   commit | validate                      start a commit (validate: dry run)
//   put EXPECT ETAG REV <Entity textproto>
//   delete NAME EXPECT ETAG REV
// EXPECT is any|exists|absent; ETAG is "-" (none), "cur" (the stored one) or
// a literal; REV is "cur" (the stored update_revision) or a number. Other
// lines are ignored. Each commit is checked against the store's promises:
// bad input is an error naming it (never INTERNAL or a storage fault); a
// failed or dry-run commit changes nothing; a commit that changes something
// gets exactly the next revision, and its change set is in the log.
//
// One store per process (in a temporary directory, WAL sync off); every
// input starts from an empty entity set.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "storage/store.h"
#include "tests/fuzz/fuzz_check.h"

namespace atlas::fuzz {
namespace {

using storage::CommitRequest;
using storage::CommitResult;
using storage::Expect;
using storage::Mutation;
using storage::Outcome;
using storage::Store;

constexpr size_t kMaxCommits = 8;
constexpr size_t kMaxMutations = 16;

class SilentErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, int, const std::string&) override {}
  void AddWarning(int, int, const std::string&) override {}
};

// The process-wide store, removed with its directory at exit.
class FuzzStore {
 public:
  FuzzStore() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "atlas-fuzz-commit-XXXXXX")
            .string();
    Check(mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    dir_ = pattern;
    storage::StoreOptions options;
    options.path = dir_;
    options.sync_writes = false;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    Check(store.ok(), "Store::Open: " + store.status().ToString());
    store_ = std::move(*store);
  }
  ~FuzzStore() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  Store& store() { return *store_; }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

// A precondition as the script states it, resolved against the store just
// before the commit.
struct ScriptMutation {
  Mutation mutation;
  std::string etag;  // "-", "cur" or a literal
  std::string rev;   // "cur" or a number
};

struct ScriptCommit {
  bool validate_only = false;
  std::vector<ScriptMutation> mutations;
};

bool ParseExpect(absl::string_view word, Expect& expect) {
  if (word == "any") {
    expect = Expect::kAny;
  } else if (word == "exists") {
    expect = Expect::kMustExist;
  } else if (word == "absent") {
    expect = Expect::kMustNotExist;
  } else {
    return false;
  }
  return true;
}

std::vector<ScriptCommit> ParseScript(absl::string_view text) {
  std::vector<ScriptCommit> commits;
  auto current = [&commits]() -> ScriptCommit& {
    if (commits.empty()) commits.emplace_back();
    return commits.back();
  };
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::MaxSplits(' ', 4));
    if (words[0] == "commit" || words[0] == "validate") {
      if (commits.size() == kMaxCommits) break;
      commits.emplace_back().validate_only = words[0] == "validate";
      continue;
    }
    ScriptMutation m;
    if (words[0] == "put" && words.size() >= 4) {
      m.mutation.op = Mutation::Op::kPut;
      if (!ParseExpect(words[1], m.mutation.expect)) continue;
      m.etag = std::string(words[2]);
      m.rev = std::string(words[3]);
      if (words.size() == 5) {
        google::protobuf::TextFormat::Parser parser;
        SilentErrors errors;
        parser.RecordErrorsTo(&errors);
        if (!parser.ParseFromString(std::string(words[4]),
                                    &m.mutation.entity)) {
          continue;
        }
      }
    } else if (words[0] == "delete" && words.size() == 5) {
      m.mutation.op = Mutation::Op::kDelete;
      m.mutation.name = std::string(words[1]);
      if (!ParseExpect(words[2], m.mutation.expect)) continue;
      m.etag = std::string(words[3]);
      m.rev = std::string(words[4]);
    } else {
      continue;
    }
    ScriptCommit& commit = current();
    if (commit.mutations.size() < kMaxMutations) {
      commit.mutations.push_back(std::move(m));
    }
  }
  return commits;
}

// What a read of `name` returns, as comparable text.
std::string ReadState(const Store& store, const std::string& name) {
  absl::StatusOr<storage::EntityRead> read = store.Get(name);
  if (!read.ok()) {
    CheckInputError(read.status(), "Get(" + name + ")");
    return absl::StrCat("error ", read.status().code());
  }
  return read->entity.SerializeAsString();
}

CommitRequest Resolve(const Store& store, const ScriptCommit& script) {
  CommitRequest request;
  request.validate_only = script.validate_only;
  for (const ScriptMutation& m : script.mutations) {
    Mutation mutation = m.mutation;
    absl::StatusOr<storage::EntityRead> stored =
        store.Get(mutation.target_name());
    if (m.etag == "cur") {
      if (stored.ok()) mutation.expected_etag = stored->entity.etag();
    } else if (m.etag != "-") {
      mutation.expected_etag = m.etag;
    }
    if (m.rev == "cur") {
      if (stored.ok()) mutation.expected_revision = stored->entity.update_revision();
    } else {
      uint64_t rev = 0;
      if (absl::SimpleAtoi(m.rev, &rev)) mutation.expected_revision = rev;
    }
    request.mutations.push_back(std::move(mutation));
  }
  return request;
}

void RunCommit(Store& store, const ScriptCommit& script) {
  CommitRequest request = Resolve(store, script);
  const std::vector<Mutation> mutations = request.mutations;
  const uint64_t before = store.CurrentRevision();
  std::vector<std::string> states;
  for (const Mutation& m : mutations) {
    states.push_back(ReadState(store, m.target_name()));
  }

  absl::StatusOr<CommitResult> result = store.Commit(std::move(request));
  const uint64_t after = store.CurrentRevision();

  if (!result.ok() || script.validate_only) {
    if (!result.ok()) CheckInputError(result.status(), "Commit");
    Check(after == before, absl::StrCat("a failed or dry-run commit moved the "
                                        "revision from ", before, " to ", after));
    for (size_t i = 0; i < mutations.size(); ++i) {
      Check(ReadState(store, mutations[i].target_name()) == states[i],
            "a failed or dry-run commit changed " + mutations[i].target_name());
    }
    return;
  }

  Check(result->results.size() == mutations.size(),
        "Commit returned a result count unlike its mutation count");
  std::vector<size_t> changed;
  for (size_t i = 0; i < mutations.size(); ++i) {
    if (result->results[i].outcome != Outcome::kUnchanged) changed.push_back(i);
  }
  if (changed.empty()) {
    Check(result->revision == before && after == before,
          "a commit that changed nothing created a revision");
    return;
  }
  Check(result->revision == before + 1 && after == before + 1,
        absl::StrCat("revision gap: before ", before, ", commit ",
                     result->revision, ", current ", after));
  absl::StatusOr<storage::ChangeRead> log = store.ReadChanges(before + 1, 2);
  Check(log.ok(), "ReadChanges: " + log.status().ToString());
  Check(log->sets.size() == 1 && log->sets[0].revision() == before + 1,
        "the change log does not hold exactly the new revision");
  const v1::ChangeSet& set = log->sets[0];
  Check(static_cast<size_t>(set.changes_size()) == changed.size(),
        "the change set does not list every changed entity");
  for (size_t c = 0; c < changed.size(); ++c) {
    const Mutation& m = mutations[changed[c]];
    const std::string& name = m.target_name();
    Check(set.changes(static_cast<int>(c)).entity().name() == name,
          "the change set is out of request order at " + name);
    absl::StatusOr<storage::EntityRead> read = store.Get(name);
    if (m.op == Mutation::Op::kDelete) {
      Check(absl::IsNotFound(read.status()), name + " survived its delete");
    } else {
      Check(read.ok(), name + " is unreadable after its put: " +
                           read.status().ToString());
      Check(read->entity.update_revision() == before + 1,
            name + " does not carry the commit's revision");
      Check(read->entity.SerializeAsString() ==
                result->results[changed[c]].entity.SerializeAsString(),
            name + " reads back unlike the commit's result");
    }
  }
}

// Deletes every live entity in one commit, so each input starts alike.
void Clear(Store& store) {
  CommitRequest request;
  std::string token;
  do {
    storage::ListQuery query;
    query.page_size = 1000;
    query.page_token = token;
    absl::StatusOr<storage::ListPage> page = store.List(query);
    Check(page.ok(), "List: " + page.status().ToString());
    for (const v1::Entity& entity : page->entities) {
      request.mutations.push_back(Mutation::Delete(entity.name()));
    }
    token = page->next_page_token;
  } while (!token.empty());
  if (request.mutations.empty()) return;
  absl::StatusOr<CommitResult> result = store.Commit(std::move(request));
  Check(result.ok(), "clearing the store: " + result.status().ToString());
}

}  // namespace
}  // namespace atlas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  atlas::fuzz::SilenceProtobufLogs();
  static auto* fuzz_store = new atlas::fuzz::FuzzStore();
  static const bool cleanup_registered = [] {
    std::atexit([] { delete fuzz_store; });
    return true;
  }();
  (void)cleanup_registered;
  atlas::storage::Store& store = fuzz_store->store();
  const std::vector<atlas::fuzz::ScriptCommit> commits =
      atlas::fuzz::ParseScript(absl::string_view(
          reinterpret_cast<const char*>(data), size));
  for (const atlas::fuzz::ScriptCommit& commit : commits) {
    atlas::fuzz::RunCommit(store, commit);
  }
  atlas::fuzz::Clear(store);
  return 0;
}
