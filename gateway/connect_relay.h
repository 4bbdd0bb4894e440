// ConnectRelay: a guest's connection to an HTTP proxy (HTTPS_PROXY=http://proxy:3128) when TLS
// interception is on. The first bytes the guest sends are looked at: anything that is not an
// HTTP CONNECT request (or a server that speaks first) becomes a blind splice at once. A CONNECT
// is parsed strictly, re-serialised to the proxy, and the proxy's answer relayed; when it opens a
// tunnel to an intercepted port, the TLS inside is intercepted exactly as on a direct connection
// (HelloGate, then InterceptRelay through the tunnel), with its SNI held to the CONNECT
// authority. Keep-alive through the tunnel works as on a direct connection: the tunnel is one TLS
// connection whose requests the HTTP relay carries one after another. With secrets configured, a
// connection that starts with a plain HTTP request instead goes through PlainHttpRelay.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/audit_log.h"
#include "gateway/core/byte_stream.h"
#include "gateway/core/relay.h"
#include "gateway/core/session_context.h"
#include "gateway/hello_gate.h"
#include "gateway/http/h1_parser.h"

namespace msb::gateway {

class ConnectRelay final : public Relay, private RelayObserver {
 public:
  static constexpr size_t kMaxConnectHead = 16 * 1024;
  static constexpr size_t kMaxProxyResponseHead = 8 * 1024;

  // `guest` and `upstream` (the proxy) are borrowed; `proxy` is the guest's destination.
  ConnectRelay(const SessionContext& ctx, const AuditFlow& flow, ByteStream* guest,
               ByteStream* upstream, const SocketAddress& proxy, RelayObserver* observer);
  ~ConnectRelay() override;
  ConnectRelay(const ConnectRelay&) = delete;
  ConnectRelay& operator=(const ConnectRelay&) = delete;

  void Start() override;
  uint64_t bytes_up() const override { return inner_ ? inner_->bytes_up() + up_ : up_; }
  uint64_t bytes_down() const override { return inner_ ? inner_->bytes_down() + down_ : down_; }
  TimePoint last_activity() const override;

 private:
  enum class Phase : uint8_t { kProbe, kProxyAnswer, kHello, kInner, kDone };
  class Head final : public http::H1Events {
   public:
    void OnRequestHead(http::RequestHead&& h) override { request = std::move(h); }
    void OnResponseHead(http::ResponseHead&& h) override { response = std::move(h); }
    void OnBody(std::span<const uint8_t>) override {}
    void OnMessageEnd() override {}
    std::optional<http::RequestHead> request;
    std::optional<http::ResponseHead> response;
  };

  class End final : public StreamHandler {
   public:
    End(ConnectRelay* relay, bool is_guest) : relay_(relay), is_guest_(is_guest) {}
    void OnStreamReadable() override { relay_->Step(); }
    void OnStreamWritable() override { relay_->Step(); }
    void OnStreamGone(bool reset) override { relay_->OnGone(is_guest_, reset); }

   private:
    ConnectRelay* relay_;
    bool is_guest_;
  };
  void OnGone(bool is_guest, bool reset);
  void OnRelayDone(CloseReason reason) override { Done(reason); }

  void Step();
  void Probe();
  void NotConnect();
  void ProxyAnswer();
  void Hello();
  void Splice(std::vector<uint8_t> guest_prefix, std::vector<uint8_t> upstream_prefix);
  void Refuse(CloseReason reason, uint8_t alert, std::string_view http_error);
  bool FlushTo(ByteStream* to, std::string* out, size_t* off);
  void Attach(ByteStream* guest);
  void Done(CloseReason reason);
  void Audit(std::string_view result, std::string_view detail);

  SessionContext ctx_;
  AuditFlow flow_;
  ByteStream* guest_;
  ByteStream* upstream_;
  SocketAddress proxy_;
  RelayObserver* observer_;
  End guest_end_{this, true};
  End upstream_end_{this, false};
  Phase phase_ = Phase::kProbe;
  std::string to_proxy_;  // the re-serialised CONNECT, not yet taken by the proxy
  size_t to_proxy_off_ = 0;
  TimePoint started_;
  std::vector<uint8_t> guest_buf_;  // the guest's bytes read so far in this phase
  std::vector<uint8_t> proxy_buf_;  // the proxy's answer read so far
  Head head_;
  http::H1Parser request_parser_{http::H1Parser::Kind::kRequest, &head_};
  http::H1Parser response_parser_{http::H1Parser::Kind::kResponse, &head_};
  std::string target_host_;  // the CONNECT authority's host (canonical) and port
  uint16_t target_port_ = 0;
  bool target_is_ip_ = false;
  IpAddress target_ip_;
  std::string answer_;  // the proxy's answer, re-serialised, not yet taken by the guest
  size_t answer_off_ = 0;
  std::unique_ptr<HelloGate> gate_;
  TimerId timer_ = 0;
  std::unique_ptr<ByteStream> guest_replay_;
  std::unique_ptr<ByteStream> upstream_replay_;
  std::unique_ptr<Relay> inner_;
  uint64_t up_ = 0;
  uint64_t down_ = 0;
};

}  // namespace msb::gateway
