// InterceptContext: CA, leaves, verification and the two SSL_CTXs (see intercept_context.h).
#include "gateway/tls/intercept_context.h"

#include <openssl/err.h>

#include <cstdlib>
#include <optional>

#include "certs/openssl_ptr.h"

namespace msb::gateway::tls {
namespace {

// Per-SSL data the callbacks need: the protocol to select for the guest, and for DNS over TLS
// the address the guest dialled.
struct SslExtra {
  std::string alpn;
  std::optional<IpAddress> dot_dest;
  InterceptContext* owner = nullptr;  // upstream connections: where their sessions are kept
  std::string session_key;
};

void FreeExtra(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<SslExtra*>(ptr);
}

int ExtraIndex() {
  static int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeExtra);
  return index;
}

SslExtra* Extra(SSL* ssl) {
  auto* e = static_cast<SslExtra*>(SSL_get_ex_data(ssl, ExtraIndex()));
  if (e == nullptr) {
    e = new SslExtra();
    SSL_set_ex_data(ssl, ExtraIndex(), e);
  }
  return e;
}

// SelectAlpn answers the guest with the protocol the upstream chose (the guest offered it: the
// upstream was only offered the guest's own list), or with none.
int SelectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  auto* e = static_cast<SslExtra*>(SSL_get_ex_data(ssl, ExtraIndex()));
  if (e == nullptr || e->alpn.empty()) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) {
      break;
    }
    if (len == e->alpn.size() && e->alpn.compare(0, len, reinterpret_cast<const char*>(in + i + 1),
                                                 len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Status SslError(std::string_view what) {
  unsigned long e = ERR_get_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return Status::Error(std::string(what) + (reason != nullptr ? ": " + std::string(reason) : ""));
}

}  // namespace

std::string DefaultStateDir() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && x[0] == '/') {
    return std::string(x) + "/msb-gateway";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') {
    return std::string(h) + "/.local/state/msb-gateway";
  }
  return "";
}

std::vector<std::string> FilterAlpn(const std::vector<std::string>& offered) {
  std::vector<std::string> out;
  for (const std::string& p : offered) {
    if (p == "h2" || p == "http/1.1" || p == "http/1.0") {
      out.push_back(p);
    }
  }
  return out;
}

Result<std::shared_ptr<const certs::InterceptCa>> LoadInterceptCa(const InterceptOptions& options) {
  if (options.ca_cert.empty() != options.ca_key.empty()) {
    return Status::Error("the intercept CA needs both a certificate and a key (or neither)");
  }
  if (!options.ca_cert.empty()) {
    return certs::InterceptCa::FromFiles(options.ca_cert, options.ca_key);
  }
  if (options.state_dir.empty()) {
    return Status::Error(
        "no state directory for the intercept CA: set --state-dir, XDG_STATE_HOME or HOME, or "
        "give --intercept-ca and --intercept-ca-key");
  }
  return certs::InterceptCa::LoadOrCreate(options.state_dir);
}

Result<std::unique_ptr<InterceptContext>> InterceptContext::Create(
    const InterceptOptions& options, std::shared_ptr<const certs::InterceptCa> ca) {
  std::unique_ptr<InterceptContext> c(new InterceptContext());
  c->options_ = options;
  c->ca_ = std::move(ca);
  certs::LeafOptions leaf;
  leaf.validity_seconds = options.validity_hours * 3600;
  auto minter = certs::LeafMinter::Create(c->ca_, leaf);
  if (!minter.ok()) {
    return minter.status();
  }
  c->minter_ = std::move(minter).value();
  certs::LeafCacheOptions cache;
  cache.capacity = options.cache_capacity;
  c->cache_ = std::make_unique<certs::LeafCache>(cache);
  auto verifier = certs::UpstreamVerifier::Create(options.trust);
  if (!verifier.ok()) {
    return verifier.status();
  }
  c->verifier_ = std::move(verifier).value();

  c->server_ctx_ = SSL_CTX_new(TLS_server_method());
  c->client_ctx_ = SSL_CTX_new(TLS_client_method());
  if (c->server_ctx_ == nullptr || c->client_ctx_ == nullptr) {
    return SslError("cannot create the TLS contexts");
  }
  for (SSL_CTX* ctx : {c->server_ctx_, c->client_ctx_}) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  }
  // Toward the guest: session tickets (resumption saves the guest a full handshake), one per
  // handshake; the context id scopes resumption to this process's leaves.
  SSL_CTX_set_num_tickets(c->server_ctx_, 1);
  static const unsigned char kSessionContext[] = "msb-gateway";
  SSL_CTX_set_session_id_context(c->server_ctx_, kSessionContext, sizeof(kSessionContext) - 1);
  SSL_CTX_set_alpn_select_cb(c->server_ctx_, SelectAlpn, nullptr);
  // Toward upstreams: sessions are kept per server name (our own cache, never OpenSSL's internal
  // one, whose lookups are by session id).
  SSL_CTX_set_session_cache_mode(c->client_ctx_,
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(c->client_ctx_, &InterceptContext::OnUpstreamSession);
  return c;
}

InterceptContext::~InterceptContext() {
  for (CachedSession& c : sessions_) {
    SSL_SESSION_free(c.session);
  }
  SSL_CTX_free(server_ctx_);
  SSL_CTX_free(client_ctx_);
}

bool InterceptContext::IsInterceptedPort(uint16_t port) const {
  for (uint16_t p : options_.ports) {
    if (p == port) {
      return true;
    }
  }
  return false;
}

bool InterceptContext::Bypassed(const certs::ServerName& name) const {
  if (name.is_ip()) {
    return false;
  }
  for (const HostPattern& p : options_.bypass) {
    if (p.Matches(name.text)) {
      return true;
    }
  }
  return false;
}

Result<SslPtr> InterceptContext::NewUpstreamSsl(const certs::ServerName& name,
                                                const std::vector<std::string>& alpn) {
  SslPtr ssl(SSL_new(client_ctx_));
  if (ssl == nullptr) {
    return SslError("cannot create an upstream TLS connection");
  }
  SSL_set_connect_state(ssl.get());
  Status st = verifier_->Configure(ssl.get(), name);
  if (!st.ok()) {
    return st;
  }
  // The key includes what the session was verified against: a session proven under one trust
  // configuration is never resumed under another.
  auto trust = verifier_->For(name);
  std::string key = name.text + (trust.verify ? "|v|" : "|n|") +
                    std::to_string(reinterpret_cast<uintptr_t>(trust.store));
  SslExtra* extra = Extra(ssl.get());
  extra->owner = this;
  extra->session_key = key;
  if (auto it = session_index_.find(key); it != session_index_.end()) {
    SSL_set_session(ssl.get(), it->second->session);
  }
  if (!alpn.empty()) {
    std::string wire;
    for (const std::string& p : alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    if (SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size())) != 0) {
      return SslError("cannot offer ALPN upstream");
    }
  }
  return ssl;
}

Result<SslPtr> InterceptContext::NewGuestSsl(const certs::ServerName& name,
                                             const std::string& alpn) {
  auto leaf = cache_->Get(*minter_, name);
  if (!leaf.ok()) {
    return leaf.status();
  }
  SslPtr ssl(SSL_new(server_ctx_));
  if (ssl == nullptr) {
    return SslError("cannot create a guest TLS connection");
  }
  SSL_set_accept_state(ssl.get());
  Status st = leaf.value()->InstallOn(ssl.get());
  if (!st.ok()) {
    return st;
  }
  Extra(ssl.get())->alpn = alpn;
  return ssl;
}

int InterceptContext::OnUpstreamSession(SSL* ssl, SSL_SESSION* session) {
  auto* e = static_cast<SslExtra*>(SSL_get_ex_data(ssl, ExtraIndex()));
  if (e == nullptr || e->owner == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    return 0;  // not ours to keep (or not verified: never resumed)
  }
  e->owner->RememberSession(e->session_key, session);
  return 1;  // we hold the reference now
}

void InterceptContext::RememberSession(const std::string& key, SSL_SESSION* session) {
  if (auto it = session_index_.find(key); it != session_index_.end()) {
    SSL_SESSION_free(it->second->session);
    sessions_.erase(it->second);
    session_index_.erase(it);
  }
  sessions_.push_front({key, session});
  session_index_[key] = sessions_.begin();
  if (sessions_.size() > kMaxSessions) {
    SSL_SESSION_free(sessions_.back().session);
    session_index_.erase(sessions_.back().name);
    sessions_.pop_back();
  }
}

int InterceptContext::OnDotCert(SSL* ssl, void* arg) {
  auto* self = static_cast<InterceptContext*>(arg);
  SslExtra* e = Extra(ssl);
  std::optional<certs::ServerName> name;
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); sni != nullptr) {
    if (auto parsed = certs::ParseServerName(sni); parsed.ok()) {
      name = std::move(parsed).value();
    }
  }
  if (!name && e->dot_dest) {
    name = certs::ServerNameFromIp(*e->dot_dest);
  }
  if (!name) {
    return 0;
  }
  auto leaf = self->cache_->Get(*self->minter_, *name);
  return leaf.ok() && leaf.value()->InstallOn(ssl).ok() ? 1 : 0;
}

Result<SslPtr> InterceptContext::NewDotSsl(const IpAddress& dest) {
  SslPtr ssl(SSL_new(server_ctx_));
  if (ssl == nullptr) {
    return SslError("cannot create a DNS-over-TLS connection");
  }
  SSL_set_accept_state(ssl.get());
  Extra(ssl.get())->dot_dest = dest;
  SSL_set_cert_cb(ssl.get(), &InterceptContext::OnDotCert, this);
  return ssl;
}

}  // namespace msb::gateway::tls
