#pragma once

// A throwaway PKI for TLS tests, made at test time with the `openssl` CLI in
// a directory the caller owns: a CA, a server certificate for localhost and
// 127.0.0.1 that it signed, a client certificate it signed, and a second CA
// (with a client certificate) that the server does not trust. EC P-256 keys,
// valid for two days. Nothing is committed.

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace atlas::testing {

struct TestCerts {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_ca_cert;
  std::string other_client_cert;  // signed by the other CA
  std::string other_client_key;
};

namespace certs_internal {

inline bool Run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

inline std::string Quote(const std::string& path) {
  return absl::StrCat("'", absl::StrReplaceAll(path, {{"'", "'\\''"}}), "'");
}

inline bool MakeCa(const std::string& dir, const std::string& name,
                   const std::string& subject) {
  const std::string base = dir + "/" + name;
  return Run(absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 2 -subj ",
      Quote(subject), " -addext basicConstraints=critical,CA:TRUE ",
      "-addext keyUsage=critical,keyCertSign,cRLSign -keyout ",
      Quote(base + ".key"), " -out ", Quote(base + ".crt")));
}

// A key and a certificate `name`.{key,crt} signed by the CA `ca`.
inline bool MakeLeaf(const std::string& dir, const std::string& ca,
                     const std::string& name, const std::string& subject,
                     const std::string& extensions) {
  const std::string base = dir + "/" + name;
  const std::string ext = base + ".ext";
  {
    std::ofstream out(ext, std::ios::trunc);
    out << extensions << "\n";
    if (!out) return false;
  }
  return Run(absl::StrCat(
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "-nodes -subj ",
             Quote(subject), " -keyout ", Quote(base + ".key"), " -out ",
             Quote(base + ".csr"))) &&
         Run(absl::StrCat("openssl x509 -req -days 2 -in ", Quote(base + ".csr"),
                          " -CA ", Quote(dir + "/" + ca + ".crt"), " -CAkey ",
                          Quote(dir + "/" + ca + ".key"),
                          " -CAcreateserial -extfile ", Quote(ext), " -out ",
                          Quote(base + ".crt")));
}

}  // namespace certs_internal

// Writes the certificates into `dir`; false if openssl failed.
inline bool MakeTestCerts(const std::string& dir, TestCerts* certs) {
  namespace internal = certs_internal;
  const std::string server_ext =
      "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
      "extendedKeyUsage=serverAuth";
  const std::string client_ext = "extendedKeyUsage=clientAuth";
  if (!internal::MakeCa(dir, "ca", "/CN=Atlas Test CA") ||
      !internal::MakeLeaf(dir, "ca", "server", "/CN=localhost", server_ext) ||
      !internal::MakeLeaf(dir, "ca", "client", "/CN=atlas-test-client",
                          client_ext) ||
      !internal::MakeCa(dir, "other-ca", "/CN=Untrusted Test CA") ||
      !internal::MakeLeaf(dir, "other-ca", "other-client",
                          "/CN=untrusted-client", client_ext)) {
    return false;
  }
  certs->ca_cert = dir + "/ca.crt";
  certs->server_cert = dir + "/server.crt";
  certs->server_key = dir + "/server.key";
  certs->client_cert = dir + "/client.crt";
  certs->client_key = dir + "/client.key";
  certs->other_ca_cert = dir + "/other-ca.crt";
  certs->other_client_cert = dir + "/other-client.crt";
  certs->other_client_key = dir + "/other-client.key";
  return true;
}

}  // namespace atlas::testing
