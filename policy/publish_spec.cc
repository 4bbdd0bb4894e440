// Published ports: the pieces' parsers, the CLI spec grammar and the conflict check (see
// publish_spec.h).
#include "policy/publish_spec.h"

#include <algorithm>

#include "base/strings.h"
#include "policy/types.h"

namespace msb::policy {
namespace {

constexpr std::string_view kGrammar = "[BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp]";

bool IsUnspecified(const IpAddress& a) {
  const auto& b = a.bytes();
  return std::all_of(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(a.byte_length()),
                     [](uint8_t x) { return x == 0; });
}

bool IsV4Mapped(const IpAddress& a) {
  const auto& b = a.bytes();
  return a.is_v6() && std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; }) &&
         b[10] == 0xff && b[11] == 0xff;
}

bool IsLoopback(const IpAddress& a) {
  if (a.is_v4()) {
    return (a.v4() >> 24) == 127;
  }
  const auto& b = a.bytes();
  return std::all_of(b.begin(), b.begin() + 15, [](uint8_t x) { return x == 0; }) && b[15] == 1;
}

Status PieceError(std::string_view what, std::string_view token, const Status& why) {
  return Status::Error(std::string(what) + " " + QuoteForMessage(token) + ": " + why.message());
}

// SplitPorts parses "HOST_PORT:GUEST_PORT" into `out`.
Status SplitPorts(std::string_view text, PublishedPort& out) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Status::Error("missing the guest port after " + QuoteForMessage(text) + ": expected " +
                         std::string(kGrammar));
  }
  std::string_view host = text.substr(0, colon);
  std::string_view guest = text.substr(colon + 1);
  auto h = ParsePublishPort(host);
  if (!h.ok()) {
    return PieceError("host port", host, h.status());
  }
  auto g = ParsePublishPort(guest);
  if (!g.ok()) {
    return PieceError("guest port", guest, g.status());
  }
  out.host_port = h.value();
  out.guest_port = g.value();
  return Status::Ok();
}

}  // namespace

std::string_view PublishProtocolName(PublishProtocol p) {
  return p == PublishProtocol::kTcp ? "tcp" : "udp";
}

std::string PublishedPort::ToString() const {
  std::string bind = host_bind.is_v6() ? "[" + host_bind.ToString() + "]" : host_bind.ToString();
  return bind + ":" + std::to_string(host_port) + ":" + std::to_string(guest_port) + "/" +
         std::string(PublishProtocolName(protocol));
}

bool PublishedPort::BeyondLoopback() const {
  return !IsLoopback(host_bind);
}

Result<uint16_t> ParsePublishPort(std::string_view text) {
  if (text.empty()) {
    return Status::Error("empty: expected a port from 1 to 65535");
  }
  bool digits = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    std::string note =
        text.find('-') != std::string_view::npos ? " (ranges are not supported)" : "";
    return Status::Error("expected a port from 1 to 65535" + note);
  }
  if (text.size() > 1 && text[0] == '0') {
    return Status::Error("expected a port from 1 to 65535 without leading zeros");
  }
  auto n = ParseUint(text, 1, 65535);
  if (!n) {
    return Status::Error("out of range: expected a port from 1 to 65535");
  }
  return static_cast<uint16_t>(*n);
}

Result<IpAddress> ParsePublishBind(std::string_view text) {
  std::string_view bare = text;
  bool bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
  if (bracketed) {
    bare = text.substr(1, text.size() - 2);
  }
  auto ip = IpAddress::Parse(bare);
  if (!ip) {
    return Status::Error("not an IP address (expected e.g. 127.0.0.1, 0.0.0.0 or [::1])");
  }
  if (bracketed && ip->is_v4()) {
    return Status::Error("brackets are for IPv6 addresses; write an IPv4 address without them");
  }
  if (IsV4Mapped(*ip)) {
    return Status::Error("an IPv4-mapped IPv6 address; write the IPv4 address itself");
  }
  bool multicast = ip->is_v4() ? (ip->v4() >> 28) == 0xe : ip->bytes()[0] == 0xff;
  if (multicast || (ip->is_v4() && ip->v4() == 0xffffffffu)) {
    return Status::Error("not a unicast address (a listener binds a local unicast address)");
  }
  return *ip;
}

Result<PublishProtocol> ParsePublishProtocol(std::string_view text) {
  if (text == "tcp" || text == "Tcp") {
    return PublishProtocol::kTcp;
  }
  if (text == "udp" || text == "Udp") {
    return PublishProtocol::kUdp;
  }
  return Status::Error("expected tcp or udp");
}

Result<PublishedPort> ParsePublishSpec(std::string_view spec) {
  if (spec.empty()) {
    return Status::Error("empty: expected " + std::string(kGrammar));
  }
  PublishedPort out;
  std::string_view body = spec;
  if (size_t slash = spec.rfind('/'); slash != std::string_view::npos) {
    std::string_view proto = spec.substr(slash + 1);
    auto p = ParsePublishProtocol(proto);
    if (!p.ok()) {
      return PieceError("protocol", proto, p.status());
    }
    out.protocol = p.value();
    body = spec.substr(0, slash);
  }
  std::string_view ports = body;
  std::string_view bind;
  if (!body.empty() && body.front() == '[') {
    size_t close = body.find(']');
    if (close == std::string_view::npos) {
      return Status::Error("unclosed \"[\" in bind address " + QuoteForMessage(body));
    }
    bind = body.substr(0, close + 1);
    std::string_view after = body.substr(close + 1);
    if (after.empty() || after.front() != ':') {
      return Status::Error("expected \":\" after bind address " + QuoteForMessage(bind) +
                           ", then HOST_PORT:GUEST_PORT");
    }
    ports = after.substr(1);
  } else {
    size_t colons = static_cast<size_t>(std::count(body.begin(), body.end(), ':'));
    if (colons > 2) {
      return Status::Error("too many \":\" in " + QuoteForMessage(body) +
                           ": an IPv6 bind address goes in brackets, e.g. [::1]:8080:80");
    }
    if (colons == 2) {
      size_t first = body.find(':');
      bind = body.substr(0, first);
      ports = body.substr(first + 1);
      if (bind.empty()) {
        return Status::Error("empty bind address before " + QuoteForMessage(ports) +
                             ": omit it (127.0.0.1) or give one");
      }
    }
  }
  if (!bind.empty()) {
    auto ip = ParsePublishBind(bind);
    if (!ip.ok()) {
      return PieceError("bind address", bind, ip.status());
    }
    out.host_bind = ip.value();
  }
  if (Status st = SplitPorts(ports, out); !st.ok()) {
    return st;
  }
  return out;
}

std::optional<std::pair<size_t, size_t>> FindPublishConflict(std::span<const PublishedPort> ports) {
  for (size_t j = 1; j < ports.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      const PublishedPort& a = ports[i];
      const PublishedPort& b = ports[j];
      if (a.protocol != b.protocol || a.host_port != b.host_port ||
          a.host_bind.family() != b.host_bind.family()) {
        continue;
      }
      if (a.host_bind == b.host_bind || IsUnspecified(a.host_bind) || IsUnspecified(b.host_bind)) {
        return std::pair{i, j};
      }
    }
  }
  return std::nullopt;
}

std::string PublishConflictMessage(const PublishedPort& a, const PublishedPort& b) {
  return QuoteForMessage(b.ToString()) + " listens on the same host port as " +
         QuoteForMessage(a.ToString()) + " (" + std::to_string(b.host_port) + "/" +
         std::string(PublishProtocolName(b.protocol)) + ")";
}

}  // namespace msb::policy
