#include "clients/entity_commands.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/output_format.h"

namespace atlas::client {
namespace {

using atlas::v1::Entity;

absl::Status PrintEntities(const std::vector<Entity>& entities, bool history,
                           CommandContext& context) {
  if (context.format() == OutputFormat::kTable) {
    return context.Print(history ? HistoryTable(entities)
                                 : EntityTable(entities));
  }
  std::vector<const google::protobuf::Message*> messages;
  messages.reserve(entities.size());
  for (const Entity& entity : entities) messages.push_back(&entity);
  absl::StatusOr<std::string> text =
      FormatMessageList(messages, context.format());
  if (!text.ok()) return text.status();
  return context.Print(*text);
}

// Every entity of a paginated listing: calls the stub's method `call`
// for one page after another until a page has no next token, and
// collects what `items` returns of each page. A server handing out the
// same page token twice ends the listing with an error instead of a loop.
template <typename Request, typename Response, typename Items>
absl::StatusOr<std::vector<Entity>> ListAllPages(
    CommandContext& context, Request request,
    grpc::Status (atlas::v1::Atlas::StubInterface::*call)(grpc::ClientContext*,
                                                          const Request&,
                                                          Response*),
    Items items) {
  std::vector<Entity> all;
  std::set<std::string> tokens;
  do {
    Response response;
    grpc::ClientContext rpc;
    context.Prepare(&rpc, /*with_deadline=*/true);
    const grpc::Status status =
        (context.stub().*call)(&rpc, request, &response);
    if (!status.ok()) return context.Fail(status);
    for (Entity& entity : items(response)) all.push_back(std::move(entity));
    request.set_page_token(response.next_page_token());
    if (!request.page_token().empty() &&
        !tokens.insert(request.page_token()).second) {
      return absl::InternalError(
          "server returned a page token twice; stopping the listing");
    }
  } while (!request.page_token().empty());
  return all;
}

}  // namespace

absl::Status RunGet(const GetOptions& options, CommandContext& context) {
  atlas::v1::GetEntityRequest request;
  request.set_name(options.name);
  request.set_revision(options.revision);
  atlas::v1::GetEntityResponse response;
  grpc::ClientContext call;
  context.Prepare(&call, /*with_deadline=*/true);
  const grpc::Status status =
      context.stub().GetEntity(&call, request, &response);
  if (!status.ok()) return context.Fail(status);
  if (context.format() == OutputFormat::kTable) {
    return context.Print(EntityTable({response.entity()}));
  }
  absl::StatusOr<std::string> text =
      FormatMessage(response.entity(), context.format());
  if (!text.ok()) return text.status();
  return context.Print(*text);
}

absl::Status RunList(const ListOptions& options, CommandContext& context) {
  atlas::v1::ListEntitiesRequest request;
  request.set_kind(options.kind);
  request.set_topic(options.topic);
  request.set_link(options.link);
  request.set_page_size(options.page_size);
  absl::StatusOr<std::vector<Entity>> entities = ListAllPages(
      context, std::move(request),
      &atlas::v1::Atlas::StubInterface::ListEntities,
      [](atlas::v1::ListEntitiesResponse & page) -> auto& {
        return *page.mutable_entities();
      });
  if (!entities.ok()) return entities.status();
  return PrintEntities(*entities, /*history=*/false, context);
}

absl::Status RunHistory(const HistoryOptions& options,
                        CommandContext& context) {
  atlas::v1::ListEntityHistoryRequest request;
  request.set_name(options.name);
  request.set_page_size(options.page_size);
  absl::StatusOr<std::vector<Entity>> versions = ListAllPages(
      context, std::move(request),
      &atlas::v1::Atlas::StubInterface::ListEntityHistory,
      [](atlas::v1::ListEntityHistoryResponse & page) -> auto& {
        return *page.mutable_versions();
      });
  if (!versions.ok()) return versions.status();
  return PrintEntities(*versions, /*history=*/true, context);
}

absl::Status RunDelete(const DeleteOptions& options, CommandContext& context) {
  atlas::v1::DeleteEntityRequest request;
  request.set_name(options.name);
  request.set_etag(options.etag);
  request.set_allow_missing(options.allow_missing);
  // A table says only whether the entity was deleted.
  if (context.format() == OutputFormat::kTable) {
    request.set_view(atlas::v1::WRITE_VIEW_BASIC);
  }
  atlas::v1::WriteEntityResponse response;
  grpc::ClientContext call;
  context.Prepare(&call, /*with_deadline=*/true);
  const grpc::Status status =
      context.stub().DeleteEntity(&call, request, &response);
  if (!status.ok()) return context.Fail(status);
  if (context.format() == OutputFormat::kTable) {
    const bool deleted = !response.entity().name().empty();
    return context.Print(
        absl::StrCat(options.name, deleted ? " deleted\n"
                                           : " not found (nothing deleted)\n"));
  }
  absl::StatusOr<std::string> text =
      FormatMessage(response.entity(), context.format());
  if (!text.ok()) return text.status();
  return context.Print(*text);
}

}  // namespace atlas::client
