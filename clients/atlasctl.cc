#include "clients/atlasctl.h"

#include <functional>
#include <ostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "clients/admin_commands.h"
#include "clients/apply_command.h"
#include "clients/entity_commands.h"
#include "clients/rpc_error.h"
#include "clients/watch_command.h"

namespace atlas::client {
namespace {

struct GlobalFlags {
  std::string output = "table";
  ConnectionOptions connection;
};

// Every flag and verb; `run` is set to the chosen verb once parsed.
struct CommandLine {
  CLI::App app{"Client of the Atlas WTO digital-policy record.", "atlasctl"};
  GlobalFlags global;
  GetOptions get;
  ListOptions list;
  ApplyOptions apply;
  DeleteOptions del;
  HistoryOptions history;
  WatchOptions watch;
  BackupOptions backup;
  TrimChangeLogOptions trim;
  std::vector<std::string> watch_topics;
  std::vector<std::string> watch_kinds;
  std::vector<std::string> watch_prefixes;
  std::vector<std::string> watch_links;
  std::vector<std::string> watch_types;
  std::function<absl::Status(CommandContext&)> run;
};

void DefineGlobalFlags(CommandLine& cl) {
  cl.app.require_subcommand(1);
  cl.app.fallthrough();  // global flags may follow the verb
  cl.app
      .add_option("-o,--output", cl.global.output,
                  "Output format: table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  cl.app
      .add_option("--server", cl.global.connection.server,
                  "Server address host:port")
      ->envname("ATLAS_SERVER")
      ->capture_default_str();
  cl.app
      .add_option("--timeout", cl.global.connection.timeout_seconds,
                  "Deadline of each call in seconds (not for watch)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cl.app
      .add_option("--token", cl.global.connection.token,
                  "Bearer token sent as authorization metadata")
      ->envname("ATLAS_TOKEN");
  cl.app.add_flag("--tls", cl.global.connection.tls,
                  "Use TLS, verifying the server against the system's CA "
                  "certificates (implied by --ca, --cert, --key)")
      ->envname("ATLAS_TLS");
  cl.app
      .add_option("--ca", cl.global.connection.ca_file,
                  "CA certificates (PEM) that signed the server's "
                  "certificate; enables TLS")
      ->envname("ATLAS_CA")
      ->check(CLI::ExistingFile);
  cl.app
      .add_option("--cert", cl.global.connection.cert_file,
                  "Client certificate (PEM) for mutual TLS")
      ->envname("ATLAS_CERT")
      ->check(CLI::ExistingFile);
  cl.app
      .add_option("--key", cl.global.connection.key_file,
                  "Client private key (PEM) for mutual TLS")
      ->envname("ATLAS_KEY")
      ->check(CLI::ExistingFile);
  cl.app
      .add_option("--server_name", cl.global.connection.server_name,
                  "Name to verify the server's certificate against, instead "
                  "of the host in --server")
      ->envname("ATLAS_SERVER_NAME");
}

void DefineReadVerbs(CommandLine& cl) {
  CLI::App* get = cl.app.add_subcommand("get", "Print one entity");
  get->add_option("NAME", cl.get.name, "Resource name, e.g. agreements/tbt")
      ->required();
  get->add_option("--revision", cl.get.revision,
                  "Read as of this past revision (default: current)");
  get->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) { return RunGet(cl.get, c); };
  });

  CLI::App* list = cl.app.add_subcommand(
      "list", "Print every entity matching the filters (all pages)");
  list->add_option("--kind", cl.list.kind, "Payload kind, e.g. agreement");
  list->add_option("--topic", cl.list.topic, "Topic slug, e.g. cybersecurity");
  list->add_option("--link", cl.list.link,
                   "Resource name the entities link to");
  list->add_option("--page-size", cl.list.page_size,
                   "Entities per call (server default if 0)")
      ->check(CLI::Range(0, 1000));
  list->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) { return RunList(cl.list, c); };
  });

  CLI::App* history =
      cl.app.add_subcommand("history", "Print every version of one entity");
  history->add_option("NAME", cl.history.name, "Resource name")->required();
  history
      ->add_option("--page-size", cl.history.page_size,
                   "Versions per call (server default if 0)")
      ->check(CLI::Range(0, 1000));
  history->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) { return RunHistory(cl.history, c); };
  });
}

void DefineWriteVerbs(CommandLine& cl) {
  CLI::App* apply = cl.app.add_subcommand(
      "apply", "Create or update entities from YAML or JSON documents");
  apply
      ->add_option("-f,--filename", cl.apply.files,
                   "File or directory (read recursively; '-' for stdin); "
                   "repeatable")
      ->required()
      ->allow_extra_args(false);
  apply
      ->add_option("--batch-size", cl.apply.batch_size,
                   "Documents per atomic call when there are more")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  apply->add_flag("--force", cl.apply.force,
                  "Ignore etags in the documents (no precondition)");
  apply->add_flag("--dry-run", cl.apply.dry_run,
                  "Validate and check preconditions without writing");
  apply->footer(
      "All documents are applied in one atomic call (one revision) unless "
      "there are more than --batch-size. A document carrying an etag (as "
      "`get -o yaml` prints it) is applied only if the entity is unchanged "
      "since.");
  apply->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) { return RunApply(cl.apply, c); };
  });

  CLI::App* del =
      cl.app.add_subcommand("delete", "Delete an entity (its history is kept)");
  del->add_option("NAME", cl.del.name, "Resource name")->required();
  del->add_option("--etag", cl.del.etag,
                  "Delete only if the entity still has this etag");
  del->add_flag("--allow-missing", cl.del.allow_missing,
                "Succeed if the entity does not exist");
  del->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) { return RunDelete(cl.del, c); };
  });
}

absl::Status ParseChangeTypes(const std::vector<std::string>& words,
                              atlas::v1::WatchFilter* filter) {
  for (const std::string& word : words) {
    if (word == "created") {
      filter->add_change_types(atlas::v1::CHANGE_TYPE_CREATED);
    } else if (word == "updated") {
      filter->add_change_types(atlas::v1::CHANGE_TYPE_UPDATED);
    } else if (word == "deleted") {
      filter->add_change_types(atlas::v1::CHANGE_TYPE_DELETED);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown change type \"", word, "\""));
    }
  }
  return absl::OkStatus();
}

void DefineAdminVerbs(CommandLine& cl) {
  CLI::App* backup = cl.app.add_subcommand(
      "backup", "Write a consistent backup of the server's store (admin)");
  backup
      ->add_option("DIRECTORY", cl.backup.directory,
                   "New or empty directory on the server's machine "
                   "(relative: to the server's working directory)")
      ->required();
  backup->footer(
      "The server goes on serving meanwhile. Restore: stop the server and "
      "start it with --data_dir set to (a copy of) DIRECTORY.");
  backup->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) { return RunBackup(cl.backup, c); };
  });

  CLI::App* trim = cl.app.add_subcommand(
      "trim-changelog", "Drop change-log entries below a revision (admin)");
  trim->add_option("OLDEST_REVISION", cl.trim.oldest_revision,
                   "First revision to keep (Watch from an older one fails)")
      ->required()
      ->check(CLI::PositiveNumber);
  trim->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) {
      return RunTrimChangeLog(cl.trim, c);
    };
  });
}

void DefineWatch(CommandLine& cl) {
  CLI::App* watch = cl.app.add_subcommand(
      "watch", "Print changes as they happen, one line per event");
  watch->add_option("--topic", cl.watch_topics, "Topic slug; repeatable (OR)")
      ->allow_extra_args(false);
  watch->add_option("--kind", cl.watch_kinds, "Payload kind; repeatable (OR)")
      ->allow_extra_args(false);
  watch
      ->add_option("--prefix", cl.watch_prefixes,
                   "Name prefix, e.g. documents/; repeatable (OR)")
      ->allow_extra_args(false);
  watch
      ->add_option("--link", cl.watch_links,
                   "Resource name the entities link to; repeatable (OR)")
      ->allow_extra_args(false);
  watch
      ->add_option("--type", cl.watch_types,
                   "Change type: created, updated or deleted; repeatable")
      ->allow_extra_args(false)
      ->check(CLI::IsMember({"created", "updated", "deleted"}));
  watch->add_option("--from-revision", cl.watch.from_revision,
                    "Start at this revision (inclusive) instead of now");
  watch->add_flag("--snapshot", cl.watch.snapshot,
                  "Start with the current matching entities, then changes");
  watch->add_flag("--include-before", cl.watch.include_before,
                  "Include each entity as it was before the change");
  watch->add_option("--checkpoint", cl.watch.checkpoint,
                    "File recording the last delivered revision; resumes "
                    "after it when it exists");
  watch->add_option("--max-events", cl.watch.max_events,
                    "Exit after this many events (0: run until stopped)");
  watch->footer(
      "Filters of different kinds combine with AND. A broken stream or a "
      "restarted server is resumed from the last delivered revision "
      "(backoff 100ms doubling to 5s); --timeout does not apply.");
  watch->final_callback([&cl] {
    cl.run = [&cl](CommandContext& c) -> absl::Status {
      atlas::v1::WatchFilter& filter = cl.watch.filter;
      for (const auto& v : cl.watch_topics) filter.add_topics(v);
      for (const auto& v : cl.watch_kinds) filter.add_kinds(v);
      for (const auto& v : cl.watch_prefixes) filter.add_name_prefixes(v);
      for (const auto& v : cl.watch_links) filter.add_linked(v);
      if (absl::Status s = ParseChangeTypes(cl.watch_types, &filter); !s.ok()) {
        return s;
      }
      return RunWatch(cl.watch, c);
    };
  });
}

int Fail(const Io& io, absl::string_view reason, int code) {
  *io.err << "atlasctl: " << OneLine(std::string(reason)) << std::endl;
  return code;
}

}  // namespace

int RunAtlasctl(int argc, const char* const* argv, const Io& io) {
  CommandLine cl;
  DefineGlobalFlags(cl);
  DefineReadVerbs(cl);
  DefineWriteVerbs(cl);
  DefineWatch(cl);
  DefineAdminVerbs(cl);
  try {
    cl.app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return cl.app.exit(e, *io.out, *io.err);  // --help
    }
    return Fail(io, absl::StrCat(e.what(), " (see --help)"), kExitUsage);
  }
  if (!cl.run) return Fail(io, "no command given (see --help)", kExitUsage);

  absl::StatusOr<OutputFormat> format = ParseOutputFormat(cl.global.output);
  if (!format.ok()) return Fail(io, format.status().message(), kExitUsage);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(cl.global.connection);
  if (!channel.ok()) return Fail(io, channel.status().message(), kExitUsage);
  CommandContext context(cl.global.connection, *format, io, *channel);
  const absl::Status status = cl.run(context);
  if (!status.ok()) return Fail(io, status.message(), kExitFailure);
  return kExitOk;
}

int RunAtlasctl(const std::vector<std::string>& args, const Io& io) {
  std::vector<const char*> argv = {"atlasctl"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return RunAtlasctl(static_cast<int>(argv.size()), argv.data(), io);
}

}  // namespace atlas::client
