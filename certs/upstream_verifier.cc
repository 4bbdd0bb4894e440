// UpstreamVerifier (see upstream_verifier.h): trust material is parsed once into X509 objects,
// which every store that needs them shares by reference; each distinct set of scoped files gets
// one store.
#include "certs/upstream_verifier.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "certs/file_io.h"
#include "certs/x509_util.h"

namespace msb::certs {
namespace {

// Any PEM file of trust anchors (the Debian bundle is ~220 KB).
constexpr size_t kMaxBundleBytes = 16 << 20;

using CertList = std::vector<UniquePtr<X509>>;

Result<CertList> LoadPemFile(const std::string& path) {
  auto pem = ReadSmallFile(path, kMaxBundleBytes);
  if (!pem.ok()) {
    return pem.status();
  }
  return ParseCertificatesPem(pem.value(), path);
}

std::string ResolveSystemBundle(const std::string& configured) {
  if (!configured.empty()) {
    return configured;
  }
  const char* env = std::getenv("SSL_CERT_FILE");
  if (env != nullptr && env[0] != '\0') {
    return env;
  }
  return std::string(kDefaultSystemBundle);
}

Result<UniquePtr<X509_STORE>> BuildStore(std::initializer_list<const CertList*> sets) {
  UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store) {
    return Status::Error("cannot allocate a trust store: " + OpenSslErrors());
  }
  for (const CertList* set : sets) {
    for (const auto& cert : *set) {
      if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {  // takes its own reference
        return Status::Error("cannot add a certificate to a trust store: " + OpenSslErrors());
      }
    }
  }
  return store;
}

}  // namespace

Result<std::shared_ptr<const UpstreamVerifier>> UpstreamVerifier::Create(
    const UpstreamTrustOptions& options) {
  std::shared_ptr<UpstreamVerifier> v(new UpstreamVerifier());
  v->verify_default_ = options.verify;

  // Scoped verify first: conflicts are configuration errors, cheaper to report before any I/O.
  for (const auto& [pattern, verify] : options.scoped_verify) {
    for (const auto& e : v->scoped_verify_.entries()) {
      if (e.pattern == pattern && e.value.verify != verify) {
        return Status::Error("host pattern \"" + pattern.ToString() +
                             "\" is given both upstream verification on and off");
      }
    }
    v->scoped_verify_.Insert(pattern, ScopedVerify{verify, pattern.ToString()});
  }
  bool any_verify = options.verify;
  for (const auto& [pattern, verify] : options.scoped_verify) {
    any_verify = any_verify || verify;
  }

  std::string bundle = ResolveSystemBundle(options.system_bundle);
  CertList system;
  if (any_verify || FileExists(bundle)) {
    auto loaded = LoadPemFile(bundle);
    if (!loaded.ok()) {
      return Status::Error("system CA bundle: " + loaded.error());
    }
    system = std::move(loaded).value();
    v->system_bundle_path_ = bundle;
    v->system_count_ = system.size();
  }

  // Parse each distinct file once, whoever names it.
  std::map<std::string, CertList> files;
  auto load = [&files](const std::string& path) -> Status {
    if (files.count(path) != 0) {
      return Status::Ok();
    }
    auto loaded = LoadPemFile(path);
    if (!loaded.ok()) {
      return loaded.status();
    }
    files.emplace(path, std::move(loaded).value());
    return Status::Ok();
  };
  CertList extras;
  for (const std::string& path : options.extra_ca_files) {
    Status st = load(path);
    if (!st.ok()) {
      return st;
    }
    for (const auto& cert : files[path]) {
      extras.push_back(UpRef(cert.get()));
    }
  }
  v->extra_count_ = extras.size();
  auto global = BuildStore({&system, &extras});
  if (!global.ok()) {
    return global.status();
  }
  v->stores_.push_back(std::move(global).value());

  // Group scoped files by pattern, then build one store per distinct (sorted) file set.
  std::vector<std::pair<HostPattern, std::vector<std::string>>> groups;
  for (const auto& scoped : options.scoped_ca_files) {
    const HostPattern& pattern = scoped.first;
    const std::string& path = scoped.second;
    Status st = load(path);
    if (!st.ok()) {
      return st;
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == pattern; });
    if (it == groups.end()) {
      groups.emplace_back(pattern, std::vector<std::string>{path});
    } else {
      it->second.push_back(path);
    }
  }
  std::map<std::vector<std::string>, X509_STORE*> by_file_set;
  for (auto& [pattern, paths] : groups) {
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    X509_STORE*& store = by_file_set[paths];
    if (store == nullptr) {
      CertList scoped;
      for (const std::string& path : paths) {
        for (const auto& cert : files[path]) {
          scoped.push_back(UpRef(cert.get()));
        }
      }
      auto built = BuildStore({&system, &extras, &scoped});
      if (!built.ok()) {
        return built.status();
      }
      store = built.value().get();
      v->stores_.push_back(std::move(built).value());
    }
    v->scoped_stores_.Insert(pattern, ScopedStore{store, pattern.ToString()});
  }
  return std::shared_ptr<const UpstreamVerifier>(std::move(v));
}

UpstreamVerifier::HostTrust UpstreamVerifier::For(const ServerName& name) const {
  HostTrust t;
  t.verify = verify_default_;
  t.store = stores_.front().get();
  if (const auto* e = scoped_verify_.Find(name.text)) {
    t.verify = e->value.verify;
    t.verify_pattern = e->value.pattern;
  }
  if (const auto* e = scoped_stores_.Find(name.text)) {
    t.store = e->value.store;
    t.ca_pattern = e->value.pattern;
  }
  return t;
}

Status UpstreamVerifier::Configure(SSL* ssl, const ServerName& name) const {
  HostTrust t = For(name);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  int ok = 1;
  if (name.is_ip()) {
    ok = X509_VERIFY_PARAM_set1_ip(param, name.ip->bytes().data(), name.ip->byte_length());
  } else {
    // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion. OpenSSL copies
    // the name and never writes through the pointer.
    ok = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(name.text.c_str())) == 1
             ? 1
             : 0;
    ok = ok == 1 ? X509_VERIFY_PARAM_set1_host(param, name.text.data(), name.text.size()) : ok;
  }
  if (ok != 1 || X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER) != 1 ||
      SSL_set1_verify_cert_store(ssl, t.store) != 1) {
    return Status::Error("cannot configure upstream verification for " + name.text + ": " +
                         OpenSslErrors());
  }
  SSL_set_verify(ssl, t.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  return Status::Ok();
}

std::string UpstreamVerifier::Describe() const {
  std::string out = "upstream verification ";
  out += verify_default_ ? "on" : "off";
  out += " by default; trust: ";
  out += system_bundle_path_.empty()
             ? "no system bundle"
             : system_bundle_path_ + " (" + std::to_string(system_count_) + " certificates)";
  if (extra_count_ > 0) {
    out += " + " + std::to_string(extra_count_) + " extra CA certificate(s)";
  }
  for (const auto& e : scoped_stores_.entries()) {
    out += "; extra CAs for " + e.value.pattern;
  }
  for (const auto& e : scoped_verify_.entries()) {
    out +=
        "; verification " + std::string(e.value.verify ? "on" : "off") + " for " + e.value.pattern;
  }
  return out;
}

VerifyFailure VerifyFailureOf(const SSL* ssl) {
  return ClassifyVerifyResult(SSL_get_verify_result(ssl));
}

}  // namespace msb::certs
