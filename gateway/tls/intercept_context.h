// InterceptContext: the process-wide state of TLS interception, built once at start-up: the
// intercepting CA, the leaf minter and its cache, the upstream verifier, and ONE server SSL_CTX
// (guest-facing) and ONE client SSL_CTX (upstream-facing). Per connection it only makes SSL
// objects: a cached leaf is installed by reference (~3 us), nothing is read from disk and no
// trust bundle is loaded (measured: a new SSL_CTX with the system bundle costs ~17 ms).
//
// Thread affinity: Create on any thread; the SSL factories from the loop thread (the leaf cache
// itself is thread-safe).
#pragma once

#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "certs/intercept_ca.h"
#include "certs/leaf_cache.h"
#include "certs/leaf_minter.h"
#include "certs/server_name.h"
#include "certs/upstream_verifier.h"
#include "gateway/tls/intercept_options.h"
#include "gateway/tls/tls_stream.h"

namespace msb::gateway::tls {

class InterceptContext {
 public:
  // Create builds everything around `ca` (LoadInterceptCa) and loads the trust material. Errors
  // name the file or setting.
  static Result<std::unique_ptr<InterceptContext>> Create(
      const InterceptOptions& options, std::shared_ptr<const certs::InterceptCa> ca);
  ~InterceptContext();
  InterceptContext(const InterceptContext&) = delete;
  InterceptContext& operator=(const InterceptContext&) = delete;

  const InterceptOptions& options() const { return options_; }
  const certs::InterceptCa& ca() const { return *ca_; }
  const certs::UpstreamVerifier& verifier() const { return *verifier_; }
  certs::LeafCache& cache() { return *cache_; }

  bool IsInterceptedPort(uint16_t port) const;
  // Bypassed: `name` matches a --tls-bypass pattern (host names only).
  bool Bypassed(const certs::ServerName& name) const;

  // NewUpstreamSsl: a client SSL for the real server: SNI (host names only), verification for
  // `name` (UpstreamVerifier::Configure) and the ALPN list to offer (empty: none).
  Result<SslPtr> NewUpstreamSsl(const certs::ServerName& name,
                                const std::vector<std::string>& alpn);
  // NewGuestSsl: a server SSL presenting the leaf for `name` (minted or cached) and selecting
  // exactly `alpn` when the guest offered it ("" selects none).
  Result<SslPtr> NewGuestSsl(const certs::ServerName& name, const std::string& alpn);
  // NewDotSsl: a server SSL for DNS over TLS: the leaf is chosen from the guest's SNI when it is a
  // valid name, else it is for `dest` (the address the guest dialled).
  Result<SslPtr> NewDotSsl(const IpAddress& dest);

 private:
  InterceptContext() = default;
  static int OnDotCert(SSL* ssl, void* arg);
  static int OnUpstreamSession(SSL* ssl, SSL_SESSION* session);
  void RememberSession(const std::string& name, SSL_SESSION* session);

  // Upstream sessions by server name (an LRU of kMaxSessions): a new connection to a server the
  // gateway spoke to resumes (an abbreviated handshake, no certificate chain to verify again).
  static constexpr size_t kMaxSessions = 1000;
  struct CachedSession {
    std::string name;
    SSL_SESSION* session;
  };
  std::list<CachedSession> sessions_;
  std::unordered_map<std::string, std::list<CachedSession>::iterator> session_index_;

  InterceptOptions options_;
  std::shared_ptr<const certs::InterceptCa> ca_;
  std::shared_ptr<const certs::LeafMinter> minter_;
  std::unique_ptr<certs::LeafCache> cache_;
  std::shared_ptr<const certs::UpstreamVerifier> verifier_;
  SSL_CTX* server_ctx_ = nullptr;
  SSL_CTX* client_ctx_ = nullptr;
};

// LoadInterceptCa loads the operator's CA (options.ca_cert/ca_key, both or neither) or the
// persistent one of options.state_dir, creating it on first use. Errors name the paths; the caller
// says which flag or setting they came from.
Result<std::shared_ptr<const certs::InterceptCa>> LoadInterceptCa(const InterceptOptions& options);

// FilterAlpn keeps the protocols the gateway can inspect (h2, http/1.1, http/1.0), in the
// client's order.
std::vector<std::string> FilterAlpn(const std::vector<std::string>& offered);

}  // namespace msb::gateway::tls
