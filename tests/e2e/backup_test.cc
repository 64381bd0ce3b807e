// Backup and restore with the real binaries: `atlasctl backup` against a
// serving atlas-server, then a server started on the backup directory serves
// the backup's revision and writes on from the next.

#include <filesystem>
#include <fstream>

#include <google/protobuf/util/json_util.h>

#include "atlas/v1/admin_service.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"

namespace atlas::e2e {
namespace {

TEST_F(E2eTest, BackupRestoresToItsRevision) {
  Apply(NoteYaml("before-backup", "Before", {"cybersecurity"}, "Kept."));
  const uint64_t revision = Revision();
  const std::string backup_dir = dir().Sub("backups/first");

  ProcessResult result = Atlasctl({"backup", backup_dir, "-o", "json"});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  atlas::v1::BackupResponse backup;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(result.out, &backup).ok())
      << result.out;
  EXPECT_EQ(backup.revision(), revision);
  EXPECT_EQ(backup.directory(), backup_dir);
  EXPECT_GT(backup.bytes(), 0u);

  // The target must be new or empty: a second backup there is refused.
  ExpectOneLineFailure(Atlasctl({"backup", backup_dir}),
                       {"directory", "not empty"});

  Apply(NoteYaml("after-backup", "After", {"cybersecurity"}, "Not in it."));
  ASSERT_EQ(Revision(), revision + 1);
  ASSERT_TRUE(StopServer().has_value());

  // Restore: the server on (a copy of) the backup, not seeded.
  const std::string restored = dir().Sub("restored");
  std::filesystem::copy(backup_dir, restored,
                        std::filesystem::copy_options::recursive);
  server_options_.data_dir = restored;
  server_options_.seed_dir.clear();
  StartServer();
  EXPECT_EQ(Revision(), revision);
  result = Atlasctl({"get", "documents/before-backup"});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  ExpectOneLineFailure(Atlasctl({"get", "documents/after-backup"}),
                       {"not found"});
  Apply(NoteYaml("after-restore", "Restored", {"cybersecurity"}, "New."));
  EXPECT_EQ(Revision(), revision + 1);
}

}  // namespace
}  // namespace atlas::e2e
