#include "receivers/otlp_grpc/tls_identity.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace ariadne::receivers::otlp_grpc {
namespace {

Result<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(std::string("cannot read the TLS ") + what + " " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

Result<std::string> LoadIdentityPem(const std::string& cert_file, const std::string& key_file) {
  ARIADNE_ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(cert_file, "certificate"));
  ARIADNE_ASSIGN_OR_RETURN(std::string key_pem, ReadFile(key_file, "private key"));
  auto cert_bio = MemoryBio(cert_pem);
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!cert) {
    ERR_clear_error();
    return Status::InvalidArgument("no PEM certificate in " + cert_file);
  }
  auto key_bio = MemoryBio(key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument("no unencrypted PEM private key in " + key_file);
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("the private key " + key_file +
                                   " does not belong to the certificate " + cert_file);
  }
  std::string combined = std::move(cert_pem);
  if (!combined.empty() && combined.back() != '\n') combined += '\n';
  combined += key_pem;
  return combined;
}

Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot create " + temp);
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n <= 0) {
      ::close(fd);
      ::unlink(temp.c_str());
      return Status::Unavailable("cannot write " + temp);
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  if (::close(fd) != 0 || !synced) {
    ::unlink(temp.c_str());
    return Status::Unavailable("cannot write " + temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Status::Unavailable("cannot rename " + temp + " to " + path);
  }
  return Status::Ok();
}

}  // namespace ariadne::receivers::otlp_grpc
