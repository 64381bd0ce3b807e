#include "services/change_hub.h"

namespace atlas::services {

ChangeHub::ChangeHub(storage::Store& store, ChangeHubOptions options)
    : store_(store), options_(options) {}
ChangeHub::~ChangeHub() = default;
void ChangeHub::OnCommit(const v1::ChangeSet&) {}
void ChangeHub::Shutdown() {}
size_t ChangeHub::subscription_count() const { return 0; }

}  // namespace atlas::services
