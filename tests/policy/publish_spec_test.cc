// The published-port spec (--publish) and its pieces: every accepted form, every error with the
// token it names, canonical printing, and the conflict check the CLI and the config file share.
#include "policy/publish_spec.h"

#include <gtest/gtest.h>

#include <vector>

namespace msb::policy {
namespace {

PublishedPort Spec(std::string_view text) {
  auto r = ParsePublishSpec(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : PublishedPort();
}

std::string Error(std::string_view text) {
  auto r = ParsePublishSpec(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? std::string() : r.error();
}

TEST(PublishSpecTest, AcceptedForms) {
  PublishedPort p = Spec("8080:80");
  EXPECT_EQ(p.host_bind, *IpAddress::Parse("127.0.0.1"));
  EXPECT_EQ(p.host_port, 8080);
  EXPECT_EQ(p.guest_port, 80);
  EXPECT_EQ(p.protocol, PublishProtocol::kTcp);
  EXPECT_FALSE(p.BeyondLoopback());
  EXPECT_EQ(p.ToString(), "127.0.0.1:8080:80/tcp");

  EXPECT_EQ(Spec("5353:53/udp").protocol, PublishProtocol::kUdp);
  EXPECT_EQ(Spec("5353:53/tcp").protocol, PublishProtocol::kTcp);
  EXPECT_EQ(Spec("5353:53/Udp").protocol, PublishProtocol::kUdp);  // microsandbox's legacy case
  EXPECT_EQ(Spec("0.0.0.0:1:65535").ToString(), "0.0.0.0:1:65535/tcp");
  EXPECT_TRUE(Spec("0.0.0.0:1:65535").BeyondLoopback());
  EXPECT_TRUE(Spec("192.168.1.5:8080:80").BeyondLoopback());
  EXPECT_FALSE(Spec("127.0.0.2:8080:80").BeyondLoopback());
  PublishedPort v6 = Spec("[::1]:8080:80/udp");
  EXPECT_EQ(v6.host_bind, *IpAddress::Parse("::1"));
  EXPECT_FALSE(v6.BeyondLoopback());
  EXPECT_EQ(v6.ToString(), "[::1]:8080:80/udp");
  EXPECT_TRUE(Spec("[::]:8080:80").BeyondLoopback());
  EXPECT_EQ(Spec("[2001:db8::5]:443:8443").ToString(), "[2001:db8::5]:443:8443/tcp");
  // The canonical form parses back to itself.
  for (std::string_view s : {"127.0.0.1:8080:80/tcp", "[::1]:8080:80/udp", "0.0.0.0:2:3/udp"}) {
    EXPECT_EQ(Spec(s).ToString(), s);
    EXPECT_EQ(Spec(Spec(s).ToString()), Spec(s));
  }
}

TEST(PublishSpecTest, EveryErrorNamesItsToken) {
  const std::string kPort = "expected a port from 1 to 65535";
  EXPECT_EQ(Error(""), "empty: expected [BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp]");
  EXPECT_EQ(
      Error("8080"),
      "missing the guest port after \"8080\": expected [BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp]");
  EXPECT_EQ(Error("8080:"), "guest port \"\": empty: " + kPort);
  EXPECT_EQ(Error(":80"), "host port \"\": empty: " + kPort);
  EXPECT_EQ(Error("99999:80"), "host port \"99999\": out of range: " + kPort);
  EXPECT_EQ(Error("8080:0"), "guest port \"0\": out of range: " + kPort);
  EXPECT_EQ(Error("8080:65536"), "guest port \"65536\": out of range: " + kPort);
  EXPECT_EQ(Error("8080:080"), "guest port \"080\": " + kPort + " without leading zeros");
  EXPECT_EQ(Error("http:80"), "host port \"http\": " + kPort);
  EXPECT_EQ(Error("+80:80"), "host port \"+80\": " + kPort);
  EXPECT_EQ(Error("8080-8090:80"),
            "host port \"8080-8090\": " + kPort + " (ranges are not supported)");
  EXPECT_EQ(Error("8080:80/sctp"), "protocol \"sctp\": expected tcp or udp");
  EXPECT_EQ(Error("8080:80/"), "protocol \"\": expected tcp or udp");
  EXPECT_EQ(Error("8080:80/TCP"), "protocol \"TCP\": expected tcp or udp");
  EXPECT_EQ(Error("localhost:8080:80"),
            "bind address \"localhost\": not an IP address (expected e.g. 127.0.0.1, 0.0.0.0 or "
            "[::1])");
  EXPECT_EQ(
      Error("1.2.3:8080:80"),
      "bind address \"1.2.3\": not an IP address (expected e.g. 127.0.0.1, 0.0.0.0 or [::1])");
  EXPECT_EQ(Error(":8080:80"),
            "empty bind address before \"8080:80\": omit it (127.0.0.1) or give one");
  EXPECT_EQ(Error("224.0.0.1:8080:80"),
            "bind address \"224.0.0.1\": not a unicast address (a listener binds a local unicast "
            "address)");
  EXPECT_EQ(Error("255.255.255.255:1:1"),
            "bind address \"255.255.255.255\": not a unicast address (a listener binds a local "
            "unicast address)");
  EXPECT_EQ(Error("[ff02::1]:1:1"),
            "bind address \"[ff02::1]\": not a unicast address (a listener binds a local unicast "
            "address)");
  EXPECT_EQ(Error("::1:8080:80"),
            "too many \":\" in \"::1:8080:80\": an IPv6 bind address goes in brackets, e.g. "
            "[::1]:8080:80");
  EXPECT_EQ(Error("1.2.3.4:1:2:3"),
            "too many \":\" in \"1.2.3.4:1:2:3\": an IPv6 bind address goes in brackets, e.g. "
            "[::1]:8080:80");
  EXPECT_EQ(Error("[::1:8080:80"), "unclosed \"[\" in bind address \"[::1:8080:80\"");
  EXPECT_EQ(Error("[::1]8080:80"),
            "expected \":\" after bind address \"[::1]\", then HOST_PORT:GUEST_PORT");
  EXPECT_EQ(Error("[::1]"),
            "expected \":\" after bind address \"[::1]\", then HOST_PORT:GUEST_PORT");
  EXPECT_EQ(Error("[127.0.0.1]:8080:80"),
            "bind address \"[127.0.0.1]\": brackets are for IPv6 addresses; write an IPv4 address "
            "without them");
  EXPECT_EQ(Error("[::ffff:127.0.0.1]:8080:80"),
            "bind address \"[::ffff:127.0.0.1]\": an IPv4-mapped IPv6 address; write the IPv4 "
            "address itself");
  EXPECT_EQ(
      Error("[::1]:8080"),
      "missing the guest port after \"8080\": expected [BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp]");
  EXPECT_EQ(Error("[::1]:8080:80:90"), "guest port \"80:90\": " + kPort);
  EXPECT_EQ(Error("8080:80\n"), "guest port \"80\\x0a\": " + kPort);
}

TEST(PublishSpecTest, PiecesShareOneVerdict) {
  EXPECT_TRUE(ParsePublishBind("::1").ok());  // the config file's host_bind: bare IPv6 too
  EXPECT_TRUE(ParsePublishBind("[::1]").ok());
  EXPECT_FALSE(ParsePublishBind("[::1").ok());
  EXPECT_FALSE(ParsePublishBind("").ok());
  EXPECT_EQ(ParsePublishPort("65535").value(), 65535);
  EXPECT_FALSE(ParsePublishPort("65536").ok());
  EXPECT_FALSE(ParsePublishProtocol("TCP").ok());
  EXPECT_EQ(ParsePublishProtocol("Tcp").value(), PublishProtocol::kTcp);
}

TEST(PublishSpecTest, ConflictsAreTheSameHostSocket) {
  auto conflict = [](std::vector<std::string_view> specs) {
    std::vector<PublishedPort> ports;
    for (std::string_view s : specs) {
      ports.push_back(Spec(s));
    }
    return FindPublishConflict(ports);
  };
  EXPECT_FALSE(conflict({"8080:80", "8081:80", "8080:80/udp", "127.0.0.2:8080:80"}));
  EXPECT_FALSE(conflict({"0.0.0.0:8080:80", "[::]:8080:80", "[::1]:8081:80"}));  // v6 is v6-only
  EXPECT_EQ(conflict({"8080:80", "9090:90", "8080:81"}), (std::pair<size_t, size_t>{0, 2}));
  EXPECT_EQ(conflict({"127.0.0.1:8080:80", "0.0.0.0:8080:81"}), (std::pair<size_t, size_t>{0, 1}));
  EXPECT_EQ(conflict({"[::]:53:53/udp", "[::1]:53:5353/udp"}), (std::pair<size_t, size_t>{0, 1}));
  EXPECT_EQ(PublishConflictMessage(Spec("8080:80"), Spec("0.0.0.0:8080:81")),
            "\"0.0.0.0:8080:81/tcp\" listens on the same host port as \"127.0.0.1:8080:80/tcp\" "
            "(8080/tcp)");
}

}  // namespace
}  // namespace msb::policy
