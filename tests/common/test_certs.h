// Self-signed test certificates made with the openssl command-line tool (Debian's `openssl`
// package), for the TLS tests: one call writes <dir>/<name>.crt and <dir>/<name>.key, an EC P-256
// certificate for CN=localhost with subjectAltName DNS:localhost and IP:127.0.0.1, valid for a day,
// so clients can verify it when given the .crt as their CA file.
//
// Threads: plain functions; callers use distinct directories or names.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ariadne::testing {

struct TestCertificate {
  std::string cert_file;
  std::string key_file;
};

// Throws std::runtime_error when openssl fails.
inline TestCertificate MakeSelfSignedCertificate(const std::string& dir, const std::string& name) {
  TestCertificate out{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
      out.key_file + "' -out '" + out.cert_file + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("openssl could not make a test certificate: " + command);
  }
  return out;
}

// The SHA-256 fingerprint of a PEM certificate as "AA:BB:...", computed by openssl.
inline std::string CertificateFingerprint(const std::string& cert_file) {
  const std::string out_file = cert_file + ".fingerprint";
  const std::string command = "openssl x509 -noout -fingerprint -sha256 -in '" + cert_file +
                              "' > '" + out_file + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("openssl could not read " + cert_file);
  }
  std::ifstream in(out_file);
  std::stringstream text;
  text << in.rdbuf();
  std::string line = text.str();
  size_t eq = line.find('=');
  if (eq == std::string::npos) throw std::runtime_error("unexpected openssl output: " + line);
  line = line.substr(eq + 1);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace ariadne::testing
