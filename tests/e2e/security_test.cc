// The real atlas-server with TLS (and mutual TLS) and a tokens file, driven
// by the real atlasctl: flags and ATLAS_* variables, roles, SIGHUP reloads,
// and no token ever in the server's log. The plaintext health port beside
// TLS, as the kubelet's gRPC probe uses it.

#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/subprocess.h"
#include "tests/services/grpc_probes.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"

namespace atlas::e2e {
namespace {

constexpr char kReader[] = "e2e-reader-token-7f3a9c1d2b4e";
constexpr char kWriter[] = "e2e-writer-token-0c8e5a6b1f2d";
constexpr char kLater[] = "e2e-later-token-9d1c3b5a7e2f";

void WriteAtomically(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path + ".new", std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0);
}

class SecurityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(atlas::testing::MakeTestCerts(dir_.path(), &certs_))
        << "openssl could not make the test certificates";
    WriteAtomically(tokens_path(), std::string(kReader) + " reader alice\n" +
                                       kWriter + " writer bob\n");
  }

  void TearDown() override {
    if (server_ == nullptr) return;
    const std::string log = server_->process().Stderr();
    // Whatever happened, no token reached the log.
    for (const char* token : {kReader, kWriter, kLater}) {
      EXPECT_EQ(log.find(token), std::string::npos) << token << " in\n" << log;
    }
    if (HasFailure()) ADD_FAILURE() << "server log:\n" << log;
    server_->Terminate(kCommandTimeout);
  }

  void StartServer(bool mutual_tls,
                   const std::vector<std::string>& more_args = {}) {
    ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.seed_dir = DatasetDir();
    options.extra_args = {"--tls_cert",    certs_.server_cert,
                          "--tls_key",     certs_.server_key,
                          "--tokens_file", tokens_path(),
                          "--log_format",  "text"};
    if (mutual_tls) {
      options.extra_args.insert(options.extra_args.end(),
                                {"--tls_client_ca", certs_.ca_cert});
    }
    options.extra_args.insert(options.extra_args.end(), more_args.begin(),
                              more_args.end());
    auto server = ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // atlasctl --server ADDRESS --timeout 5 ARGS...
  ProcessResult Atlasctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {AtlasctlBinary(), "--server",
                                     server_->address(), "--timeout", "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, kCommandTimeout);
  }
  // As above with the CA and `token` given as ATLAS_CA and ATLAS_TOKEN.
  ProcessResult AtlasctlWithEnv(const std::string& token,
                                const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "ATLAS_CA=" + certs_.ca_cert,
                                     "ATLAS_TOKEN=" + token,
                                     "ATLAS_SERVER=" + server_->address(),
                                     AtlasctlBinary(),
                                     "--timeout",
                                     "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, kCommandTimeout);
  }

  std::string tokens_path() const { return dir_.Sub("tokens"); }
  std::string NoteFile(const std::string& id) {
    const std::string path = dir_.Sub(id + ".yaml");
    WriteAtomically(path, NoteYaml(id, "Note " + id, {}, "a note"));
    return path;
  }

  atlas::testing::TempDir dir_;
  atlas::testing::TestCerts certs_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SecurityE2eTest, AtlasctlSpeaksTlsWithATokenAndRolesHold) {
  StartServer(/*mutual_tls=*/false);
  ProcessResult read = Atlasctl({"--ca", certs_.ca_cert, "--token", kReader,
                                 "get", "organizations/wto", "-o", "json"});
  ASSERT_EQ(read.exit_code, 0) << Describe(read);
  EXPECT_NE(read.out.find("organizations/wto"), std::string::npos);

  // The same through the environment.
  ProcessResult by_env =
      AtlasctlWithEnv(kReader, {"get", "organizations/wto", "-o", "json"});
  EXPECT_EQ(by_env.exit_code, 0) << Describe(by_env);

  // No token; an unknown one; a reader writing; a writer writing.
  ExpectOneLineFailure(
      Atlasctl({"--ca", certs_.ca_cert, "get", "organizations/wto"}),
      {"unauthenticated", "Bearer"});
  ExpectOneLineFailure(Atlasctl({"--ca", certs_.ca_cert, "--token", kLater,
                                 "get", "organizations/wto"}),
                       {"unauthenticated", "not known"});
  const std::string note = NoteFile("e2e-note");
  ExpectOneLineFailure(AtlasctlWithEnv(kReader, {"apply", "-f", note}),
                       {"permission denied", "alice", "writer"});
  ProcessResult write = AtlasctlWithEnv(kWriter, {"apply", "-f", note});
  EXPECT_EQ(write.exit_code, 0) << Describe(write);

  // Plaintext against the TLS port fails.
  ProcessResult plaintext =
      Atlasctl({"--token", kReader, "get", "organizations/wto"});
  EXPECT_EQ(plaintext.exit_code, 1) << Describe(plaintext);
}

TEST_F(SecurityE2eTest, MutualTlsRefusesAClientWithoutACertificate) {
  StartServer(/*mutual_tls=*/true);
  ProcessResult without = Atlasctl(
      {"--ca", certs_.ca_cert, "--token", kReader, "get", "organizations/wto"});
  EXPECT_EQ(without.exit_code, 1) << Describe(without);
  EXPECT_TRUE(without.out.empty());

  ProcessResult with = Atlasctl(
      {"--ca", certs_.ca_cert, "--cert", certs_.client_cert, "--key",
       certs_.client_key, "--server_name", "localhost", "--token", kReader,
       "get", "organizations/wto", "-o", "json"});
  EXPECT_EQ(with.exit_code, 0) << Describe(with);
  EXPECT_NE(with.out.find("organizations/wto"), std::string::npos);
}

TEST_F(SecurityE2eTest, HealthPortAnswersPlaintextProbesBesideTls) {
  const std::string health = absl::StrCat("127.0.0.1:", UnusedPort());
  StartServer(/*mutual_tls=*/false,
              {"--health_listen", health, "--keepalive_time", "20s",
               "--keepalive_timeout", "5s"});
  // What the kubelet's gRPC probes ask, in plaintext, without a token.
  auto channel =
      grpc::CreateChannel(health, grpc::InsecureChannelCredentials());
  for (const char* service : {"", "atlas.v1.Atlas"}) {
    auto status = atlas::testing::CheckHealth(channel, service);
    ASSERT_TRUE(status.ok()) << service << ": " << status.status();
    EXPECT_EQ(*status, atlas::testing::ServingStatus::kServing) << service;
  }
  EXPECT_NE(server_->process().Stderr().find("health checks (plaintext) on " +
                                             health),
            std::string::npos);
}

TEST_F(SecurityE2eTest, AKeepaliveWithoutAUnitStopsTheStartNamingTheFlag) {
  ProcessResult result =
      RunProcess({ServerBinary(), "--data_dir", dir_.Sub("data"),
                  "--keepalive_time", "30"},
                 kCommandTimeout);
  EXPECT_NE(result.exit_code, 0) << Describe(result);
  EXPECT_NE(result.err.find("--keepalive_time"), std::string::npos)
      << Describe(result);
}

TEST_F(SecurityE2eTest, SighupReloadsTheTokensFileAndABrokenOneKeepsTheOld) {
  StartServer(/*mutual_tls=*/false);
  const std::vector<std::string> get = {"get", "organizations/wto"};
  ASSERT_EQ(AtlasctlWithEnv(kLater, get).exit_code, 1);

  WriteAtomically(tokens_path(), std::string(kLater) + " reader carol\n");
  server_->process().Signal(SIGHUP);
  EXPECT_TRUE(PollUntil(
      [&] { return AtlasctlWithEnv(kLater, get).exit_code == 0; },
      kCommandTimeout));
  ExpectOneLineFailure(AtlasctlWithEnv(kReader, get), {"unauthenticated"});
  EXPECT_TRUE(server_->process().AwaitStderr(
      [](const std::string& log) {
        return log.find("reloaded: 1 tokens") != std::string::npos;
      },
      kCommandTimeout));

  // A broken file: logged, and carol's token still works. The broken line
  // holds a token-like word that must not be logged either.
  WriteAtomically(tokens_path(), std::string("reader ") + kReader + "\n");
  server_->process().Signal(SIGHUP);
  EXPECT_TRUE(server_->process().AwaitStderr(
      [](const std::string& log) {
        return log.find("keeping the tokens loaded before") !=
               std::string::npos;
      },
      kCommandTimeout));
  ProcessResult later = AtlasctlWithEnv(kLater, get);
  EXPECT_EQ(later.exit_code, 0) << Describe(later);
}

}  // namespace
}  // namespace atlas::e2e
