// The config file's `ports` section: the wire format's fields and defaults, legacy spellings, and
// every error with its JSON path; the same verdicts as --publish (publish_spec.h).
#include <gtest/gtest.h>

#include <string>

#include "policy/config.h"

namespace msb::policy {
namespace {

std::vector<PublishedPort> Ports(std::string_view ports_json) {
  auto r = ParseNetworkConfig(R"({"ports": )" + std::string(ports_json) + "}");
  EXPECT_TRUE(r.ok()) << ports_json << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value().ports : std::vector<PublishedPort>();
}

std::string Error(std::string_view ports_json) {
  auto r = ParseNetworkConfig(R"({"ports": )" + std::string(ports_json) + "}");
  EXPECT_FALSE(r.ok()) << "accepted: " << ports_json;
  return r.ok() ? std::string() : r.error();
}

TEST(ConfigPortsTest, WireFormatAndDefaults) {
  auto ports = Ports(R"([{"host_port": 8080, "guest_port": 80, "protocol": "tcp",
                          "host_bind": "127.0.0.1"},
                         {"host_port": 5353, "guest_port": 53, "protocol": "Udp"},
                         {"host_port": 9000, "guest_port": 9001, "protocol": null,
                          "host_bind": "::1"},
                         {"guest_port": 22, "host_port": 2222, "host_bind": "[::]"}])");
  ASSERT_EQ(ports.size(), 4u);
  EXPECT_EQ(ports[0].ToString(), "127.0.0.1:8080:80/tcp");
  EXPECT_EQ(ports[1].ToString(), "127.0.0.1:5353:53/udp");
  EXPECT_EQ(ports[2].ToString(), "[::1]:9000:9001/tcp");
  EXPECT_EQ(ports[3].ToString(), "[::]:2222:22/tcp");
  EXPECT_TRUE(Ports("[]").empty());
  // The same port written as a spec and as an object is the same value.
  EXPECT_EQ(Ports(R"([{"host_port": 8080, "guest_port": 80, "protocol": "udp",
                       "host_bind": "0.0.0.0"}])")[0],
            ParsePublishSpec("0.0.0.0:8080:80/udp").value());
}

TEST(ConfigPortsTest, ErrorsNameTheJsonPath) {
  EXPECT_EQ(Error("{}"), "$.ports: expected an array of port objects, found an object");
  EXPECT_EQ(Error("[8080]"), "$.ports[0]: expected an object, found a number");
  EXPECT_EQ(Error(R"([{"guest_port": 80}])"), "$.ports[0]: missing \"host_port\" (1-65535)");
  EXPECT_EQ(Error(R"([{"host_port": 80}])"), "$.ports[0]: missing \"guest_port\" (1-65535)");
  EXPECT_EQ(Error(R"([{"host_port": 0, "guest_port": 80}])"),
            "$.ports[0].host_port: expected an integer from 1 to 65535, found 0");
  EXPECT_EQ(Error(R"([{"host_port": 80, "guest_port": 70000}])"),
            "$.ports[0].guest_port: expected an integer from 1 to 65535, found 70000");
  EXPECT_EQ(Error(R"([{"host_port": "80", "guest_port": 80}])"),
            "$.ports[0].host_port: expected an integer from 1 to 65535, found a string");
  EXPECT_EQ(Error(R"([{"host_port": 80, "guest_port": 80, "protocol": "sctp"}])"),
            "$.ports[0].protocol: unknown protocol \"sctp\": expected tcp or udp");
  EXPECT_EQ(Error(R"([{"host_port": 80, "guest_port": 80, "protocol": 6}])"),
            "$.ports[0].protocol: expected \"tcp\" or \"udp\", found a number");
  EXPECT_EQ(Error(R"([{"host_port": 80, "guest_port": 80, "host_bind": "localhost"}])"),
            "$.ports[0].host_bind: \"localhost\" is not an IP address (expected e.g. 127.0.0.1, "
            "0.0.0.0 or [::1])");
  EXPECT_EQ(
      Error(R"([{"host_port": 80, "guest_port": 80, "host_bind": "224.0.0.1"}])"),
      "$.ports[0].host_bind: \"224.0.0.1\" is not a unicast address (a listener binds a local "
      "unicast address)");
  EXPECT_EQ(Error(R"([{"host_port": 80, "guest_port": 80, "hostport": 1}])"),
            "$.ports[0].hostport: unknown field: expected \"host_port\", \"guest_port\", "
            "\"protocol\" or \"host_bind\" (did you mean \"host_port\"?)");
  EXPECT_EQ(Error(R"([{"host_port": 80, "guest_port": 80},
                      {"host_port": 80, "guest_port": 81, "host_bind": "0.0.0.0"}])"),
            "$.ports[1]: \"0.0.0.0:80:81/tcp\" listens on the same host port as "
            "\"127.0.0.1:80:80/tcp\" (80/tcp) at $.ports[0]");
  std::string many = "[";
  for (int i = 0; i < 257; ++i) {
    many += (i ? "," : "") + std::string(R"({"host_port": )") + std::to_string(1000 + i) +
            R"(, "guest_port": 80})";
  }
  EXPECT_EQ(Error(many + "]"), "$.ports: 257 ports given; at most 256 are allowed");
}

}  // namespace
}  // namespace msb::policy
