#pragma once

// Small builders for valid entities used across tests.

#include <string>
#include <vector>

#include "atlas/v1/entity.pb.h"

namespace atlas::testing {

inline v1::Entity Topic(const std::string& slug,
                        const std::string& basket = "baskets/economic") {
  v1::Entity e;
  e.set_name("topics/" + slug);
  e.set_title(slug);
  e.mutable_topic()->set_basket(basket);
  return e;
}

inline v1::Entity Agreement(const std::string& id,
                            std::vector<std::string> topics = {},
                            const std::string& summary = "a summary") {
  v1::Entity e;
  e.set_name("agreements/" + id);
  e.set_title("Agreement " + id);
  for (auto& t : topics) e.add_topics(t);
  e.mutable_agreement()->set_summary(summary);
  return e;
}

inline v1::Entity Document(const std::string& id, const std::string& symbol,
                           std::vector<std::string> topics = {}) {
  v1::Entity e;
  e.set_name("documents/" + id);
  e.set_title("Document " + id);
  for (auto& t : topics) e.add_topics(t);
  e.mutable_document()->set_symbol(symbol);
  return e;
}

inline void AddLink(v1::Entity& e, const std::string& rel,
                    const std::string& target) {
  auto* link = e.add_links();
  link->set_rel(rel);
  link->set_target(target);
}

}  // namespace atlas::testing
