// The `--config FILE` parser: a full valid config, defaults, every section's fields, and every
// error class with the exact JSON path it reports.
#include "policy/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "base/ip_address.h"
#include "policy/types.h"

namespace msb::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

NetworkConfig Parse(std::string_view text) {
  auto r = ParseNetworkConfig(text);
  EXPECT_TRUE(r.ok()) << "text: " << text << "\nerror: " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : NetworkConfig();
}

std::string Error(std::string_view text) {
  auto r = ParseNetworkConfig(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? std::string() : r.error();
}

std::string InPolicy(std::string_view rule_json) {
  return R"({"policy": {"rules": [)" + std::string(rule_json) + "]}}";
}

// ParseRule parses a config holding just this rule (as $.policy.rules[0]).
Rule ParseRule(std::string_view rule_json) {
  NetworkConfig config = Parse(InPolicy(rule_json));
  if (!config.policy || config.policy->rules.size() != 1) {
    ADD_FAILURE() << "no rule parsed from " << rule_json;
    return Rule();
  }
  return config.policy->rules[0];
}

std::string RuleError(std::string_view rule_json) {
  return Error(InPolicy(rule_json));
}

// RuleWith builds an egress allow rule JSON with the given extra members.
std::string RuleWith(std::string_view members) {
  return R"({"direction": "egress", "destination": "any", "action": "allow")" +
         std::string(members.empty() ? "" : ", ") + std::string(members) + "}";
}

std::string WithDestination(std::string_view destination) {
  return R"({"direction": "egress", "action": "deny", "destination": )" + std::string(destination) +
         "}";
}

IpPrefix Prefix(std::string_view text) {
  auto p = IpPrefix::Parse(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p.value_or(IpPrefix());
}

TEST(ConfigTest, FullValidConfig) {
  NetworkConfig config = Parse(R"({
    "enabled": true,
    "policy": {
      "default_egress": "deny",
      "default_ingress": "allow",
      "rules": [
        {"direction": "egress", "destination": {"group": "host"}, "protocols": ["udp", "tcp"],
         "ports": [{"start": 53, "end": 53}], "action": "allow"},
        {"direction": "egress", "destination": {"group": "public"}, "action": "allow"},
        {"direction": "any", "destination": {"cidr": "10.0.0.0/8"}, "protocols": [],
         "ports": [22, {"start": 8000, "end": 9000}], "action": "deny"},
        {"action": "allow", "destination": {"cidr": "2001:db8::1"}, "protocol": "tcp",
         "ports": [443], "direction": "egress"},
        {"direction": "egress", "destination": {"domain": "API.Example.com."}, "action": "allow"},
        {"direction": "egress", "destination": {"domain_suffix": "*.ads.example"},
         "action": "deny"},
        {"direction": "ingress", "destination": "any", "protocols": ["tcp"], "ports": [8080],
         "action": "allow"},
        {"direction": "egress", "destination": {"cidr": "198.51.100.7"},
         "protocols": ["icmpv4"], "action": "allow"}
      ]
    },
    "dns": {
      "nameservers": ["1.1.1.1", "[2606:4700:4700::1111]:53", "dns.google:53"],
      "rebind_protection": false,
      "query_timeout_ms": 2500
    },
    "max_connections": 512
  })");
  Policy expected;
  expected.default_egress = Action::kDeny;
  expected.default_ingress = Action::kAllow;
  using P = Protocol;
  expected.rules = {
      {Action::kAllow,
       Direction::kEgress,
       Destination::OfGroup(Group::kHost),
       ProtocolSet::Of({P::kUdp, P::kTcp}),
       {{53, 53}}},
      {Action::kAllow, Direction::kEgress, Destination::OfGroup(Group::kPublic), {}, {}},
      {Action::kDeny,
       Direction::kAny,
       Destination::OfCidr(Prefix("10.0.0.0/8")),
       {},
       {{22, 22}, {8000, 9000}}},
      {Action::kAllow,
       Direction::kEgress,
       Destination::OfCidr(Prefix("2001:db8::1/128")),
       ProtocolSet::Of({P::kTcp}),
       {{443, 443}}},
      {Action::kAllow, Direction::kEgress, Destination::OfDomain("api.example.com"), {}, {}},
      {Action::kDeny, Direction::kEgress, Destination::OfSuffix("ads.example"), {}, {}},
      {Action::kAllow,
       Direction::kIngress,
       Destination::Any(),
       ProtocolSet::Of({P::kTcp}),
       {{8080, 8080}}},
      {Action::kAllow,
       Direction::kEgress,
       Destination::OfCidr(Prefix("198.51.100.7/32")),
       ProtocolSet::Of({P::kIcmpv4}),
       {}},
  };
  ASSERT_TRUE(config.policy.has_value());
  ASSERT_EQ(config.policy->rules.size(), expected.rules.size());
  for (size_t i = 0; i < expected.rules.size(); ++i) {
    EXPECT_EQ(config.policy->rules[i], expected.rules[i])
        << "rule " << i << ": " << RuleToString(config.policy->rules[i]);
  }
  EXPECT_EQ(*config.policy, expected);
  EXPECT_EQ(config.dns.nameservers,
            (std::vector<std::string>{"1.1.1.1", "[2606:4700:4700::1111]:53", "dns.google:53"}));
  EXPECT_EQ(config.dns.rebind_protection, false);
  EXPECT_EQ(config.dns.query_timeout_ms, 2500u);
  EXPECT_EQ(config.max_connections, 512u);
}

TEST(ConfigTest, EmptyDocumentLeavesEverythingUnset) {
  for (std::string_view text : {"{}", " { } ", R"({"enabled": true})"}) {
    NetworkConfig config = Parse(text);
    EXPECT_FALSE(config.policy.has_value()) << text;
    EXPECT_TRUE(config.dns.nameservers.empty());
    EXPECT_FALSE(config.dns.rebind_protection.has_value());
    EXPECT_FALSE(config.dns.query_timeout_ms.has_value());
    EXPECT_FALSE(config.max_connections.has_value());
  }
}

TEST(ConfigTest, PolicyDefaultsFailClosed) {
  NetworkConfig empty = Parse(R"({"policy": {}})");
  ASSERT_TRUE(empty.policy.has_value());
  EXPECT_EQ(empty.policy->default_egress, Action::kDeny);
  EXPECT_EQ(empty.policy->default_ingress, Action::kDeny);  // not Policy's kAllow
  EXPECT_TRUE(empty.policy->rules.empty());
  NetworkConfig egress_only = Parse(R"({"policy": {"default_egress": "allow"}})");
  EXPECT_EQ(egress_only.policy->default_egress, Action::kAllow);
  EXPECT_EQ(egress_only.policy->default_ingress, Action::kDeny);
  NetworkConfig ingress_only = Parse(R"({"policy": {"default_ingress": "allow", "rules": []}})");
  EXPECT_EQ(ingress_only.policy->default_egress, Action::kDeny);
  EXPECT_EQ(ingress_only.policy->default_ingress, Action::kAllow);
}

TEST(ConfigTest, NullMeansNotSet) {
  NetworkConfig config = Parse(R"({"policy": null, "dns": null, "max_connections": null,
    "enabled": null, "tls": null, "secrets": null, "ports": null, "interface": null,
    "rate_limiter": null, "trust_host_cas": null})");
  EXPECT_FALSE(config.policy.has_value());
  EXPECT_FALSE(config.max_connections.has_value());
  NetworkConfig dns = Parse(
      R"({"dns": {"nameservers": null, "rebind_protection": null, "query_timeout_ms": null}})");
  EXPECT_TRUE(dns.dns.nameservers.empty());
  EXPECT_FALSE(dns.dns.rebind_protection.has_value());
  NetworkConfig policy =
      Parse(R"({"policy": {"default_egress": null, "default_ingress": null, "rules": null}})");
  EXPECT_EQ(policy.policy->default_ingress, Action::kDeny);
  Rule rule = ParseRule(RuleWith(R"("protocols": null, "protocol": null, "ports": null)"));
  EXPECT_TRUE(rule.protocols.empty());
  EXPECT_TRUE(rule.ports.empty());
  // Required fields are not optional.
  EXPECT_EQ(RuleError(R"({"direction": "egress", "destination": "any", "action": null})"),
            R"($.policy.rules[0].action: expected "allow" or "deny", found null)");
}

TEST(ConfigTest, GroupSpellings) {
  struct Case {
    std::string_view name;
    Group group;
  };
  for (Case c : {Case{"public", Group::kPublic}, Case{"private", Group::kPrivate},
                 Case{"loopback", Group::kLoopback}, Case{"link_local", Group::kLinkLocal},
                 Case{"link-local", Group::kLinkLocal}, Case{"metadata", Group::kMetadata},
                 Case{"meta", Group::kMetadata}, Case{"multicast", Group::kMulticast},
                 Case{"host", Group::kHost}}) {
    Rule rule = ParseRule(WithDestination(R"({"group": ")" + std::string(c.name) + "\"}"));
    EXPECT_EQ(rule.destination, Destination::OfGroup(c.group)) << c.name;
  }
  EXPECT_EQ(RuleError(WithDestination(R"({"group": "privat"})")),
            R"($.policy.rules[0].destination.group: unknown group "privat": expected "public", )"
            R"("private", "loopback", "link_local", "metadata", "multicast" or "host" )"
            R"((did you mean "private"?))");
  EXPECT_THAT(RuleError(WithDestination(R"({"group": "Public"})")),
              HasSubstr(R"((did you mean "public"?))"));
  EXPECT_EQ(RuleError(WithDestination(R"({"group": 1})")),
            "$.policy.rules[0].destination.group: expected a string, found a number");
}

TEST(ConfigTest, PortForms) {
  EXPECT_EQ(ParseRule(RuleWith(R"("ports": [80])")).ports, (std::vector<PortRange>{{80, 80}}));
  EXPECT_EQ(ParseRule(RuleWith(R"("ports": [{"start": 1, "end": 65535}, 443, 443])")).ports,
            (std::vector<PortRange>{{1, 65535}, {443, 443}, {443, 443}}));
  EXPECT_EQ(ParseRule(RuleWith(R"("ports": [{"end": 9000, "start": 9000}])")).ports,
            (std::vector<PortRange>{{9000, 9000}}));
  EXPECT_TRUE(ParseRule(RuleWith(R"("ports": [])")).ports.empty());
  EXPECT_EQ(ParseRule(RuleWith(R"("ports": [65535, 1])")).ports,
            (std::vector<PortRange>{{65535, 65535}, {1, 1}}));
}

TEST(ConfigTest, PortErrors) {
  struct Case {
    std::string_view ports;
    std::string_view message;
  };
  for (Case c : {
           Case{"[0]", "$.policy.rules[0].ports[0]: expected an integer from 1 to 65535, found 0"},
           Case{"[80, 65536]",
                "$.policy.rules[0].ports[1]: expected an integer from 1 to 65535, found 65536"},
           Case{"[-1]",
                "$.policy.rules[0].ports[0]: expected an integer from 1 to 65535, found -1"},
           Case{"[1.5]",
                "$.policy.rules[0].ports[0]: expected an integer from 1 to 65535, found 1.5"},
           Case{"[1e3]",
                "$.policy.rules[0].ports[0]: expected an integer from 1 to 65535, found 1000 "
                "written with a fraction or an exponent (write 1000)"},
           Case{"[80.0]",
                "$.policy.rules[0].ports[0]: expected an integer from 1 to 65535, "
                "found 80 written with a fraction or an exponent (write 80)"},
           Case{"[1e5]",
                "$.policy.rules[0].ports[0]: expected an integer from 1 to 65535, found 1e+05"},
           Case{R"(["443"])",
                R"($.policy.rules[0].ports[0]: expected a port number or an object )"
                R"({"start": N, "end": M}, found a string (write 443 without quotes))"},
           Case{R"(["8000-9000"])",
                R"($.policy.rules[0].ports[0]: expected a port number or an object )"
                R"({"start": N, "end": M}, found a string (write {"start": 8000, "end": 9000}))"},
           Case{R"(["https"])",
                R"($.policy.rules[0].ports[0]: expected a port number or an object )"
                R"({"start": N, "end": M}, found a string)"},
           Case{"[true]", R"($.policy.rules[0].ports[0]: expected a port number or an object )"
                          R"({"start": N, "end": M}, found a boolean)"},
           Case{"[null]", R"($.policy.rules[0].ports[0]: expected a port number or an object )"
                          R"({"start": N, "end": M}, found null)"},
           Case{R"({"start": 80})",
                "$.policy.rules[0].ports: expected an array of ports, found an object"},
           Case{"80", "$.policy.rules[0].ports: expected an array of ports, found a number"},
           Case{R"([{"start": 9000, "end": 8000}])",
                R"($.policy.rules[0].ports[0]: the range 9000-8000 is reversed: "start" must not )"
                R"(exceed "end" (did you mean {"start": 8000, "end": 9000}?))"},
           Case{R"([{"start": 80}])",
                R"($.policy.rules[0].ports[0]: missing required field "end" (a range is )"
                R"({"start": N, "end": M}; for one port write N))"},
           Case{R"([{"end": 80}])",
                R"($.policy.rules[0].ports[0]: missing required field "start" (a range is )"
                R"({"start": N, "end": M}; for one port write N))"},
           Case{R"([{"strat": 80, "end": 90}])",
                R"($.policy.rules[0].ports[0].strat: unknown field: expected "start" or "end" )"
                R"((did you mean "start"?))"},
           Case{R"([{"start": "80", "end": 90}])",
                "$.policy.rules[0].ports[0].start: expected an integer from 1 to 65535, found a "
                "string"},
       }) {
    EXPECT_EQ(RuleError(RuleWith(R"("ports": )" + std::string(c.ports))), c.message) << c.ports;
  }
  // The path names the rule and the port item.
  std::string three_rules = R"({"policy": {"rules": [)" + RuleWith("") + ", " + RuleWith("") +
                            ", " + RuleWith(R"("ports": [{"start": 1, "end": 0}])") + "]}}";
  EXPECT_EQ(Error(three_rules),
            "$.policy.rules[2].ports[0].end: expected an integer from 1 to 65535, found 0");
}

TEST(ConfigTest, Protocols) {
  EXPECT_TRUE(ParseRule(RuleWith(R"("protocols": [])")).protocols.empty());
  EXPECT_EQ(ParseRule(RuleWith(R"("protocols": ["tcp", "udp", "tcp"])")).protocols,
            ProtocolSet::Of({Protocol::kTcp, Protocol::kUdp}));
  EXPECT_EQ(ParseRule(RuleWith(R"("protocols": ["icmpv4", "icmpv6"])")).protocols,
            ProtocolSet::Of({Protocol::kIcmpv4, Protocol::kIcmpv6}));
  EXPECT_EQ(ParseRule(RuleWith(R"("protocol": "udp")")).protocols,
            ProtocolSet::Of({Protocol::kUdp}));
  EXPECT_TRUE(ParseRule(RuleWith(R"("protocol": "")")).protocols.empty());
  EXPECT_EQ(RuleError(RuleWith(R"("protocol": "tcp", "protocols": ["tcp"])")),
            R"($.policy.rules[0]: "protocol" and "protocols" cannot both be given; use )"
            R"("protocols")");
  EXPECT_EQ(RuleError(RuleWith(R"("protocols": ["tcp", "icmp"])")),
            R"($.policy.rules[0].protocols[1]: unknown protocol "icmp": expected "tcp", "udp", )"
            R"("icmpv4" or "icmpv6" (did you mean "icmpv4" or "icmpv6"?))");
  EXPECT_THAT(RuleError(RuleWith(R"("protocol": "TCP")")),
              StartsWith(R"($.policy.rules[0].protocol: unknown protocol "TCP")"));
  EXPECT_EQ(RuleError(RuleWith(R"("protocols": "tcp")")),
            "$.policy.rules[0].protocols: expected an array of protocols, found a string");
  EXPECT_EQ(RuleError(RuleWith(R"("protocols": [6])")),
            R"($.policy.rules[0].protocols[0]: expected "tcp", "udp", "icmpv4" or "icmpv6", )"
            "found a number");
  EXPECT_EQ(RuleError(RuleWith(R"("protocol": ["tcp"])")),
            R"($.policy.rules[0].protocol: expected "tcp", "udp", "icmpv4" or "icmpv6", found )"
            "an array");
}

TEST(ConfigTest, IcmpRules) {
  EXPECT_EQ(RuleError(R"({"direction": "ingress", "destination": "any", "action": "allow",
                          "protocols": ["icmpv4"]})"),
            R"($.policy.rules[0]: ICMP rules must be egress, not "ingress": the gateway has no )"
            "inbound ICMP path");
  EXPECT_THAT(RuleError(R"({"direction": "any", "destination": "any", "action": "deny",
                            "protocol": "icmpv6"})"),
              HasSubstr(R"(ICMP rules must be egress, not "any")"));
  EXPECT_EQ(RuleError(RuleWith(R"("protocols": ["tcp", "icmpv4"], "ports": [80])")),
            R"($.policy.rules[0]: ICMP has no ports; drop "ports" or the ICMP protocols)");
  EXPECT_EQ(ParseRule(RuleWith(R"("protocols": ["icmpv6"], "ports": [])")).protocols,
            ProtocolSet::Of({Protocol::kIcmpv6}));
}

TEST(ConfigTest, Destinations) {
  EXPECT_EQ(ParseRule(WithDestination(R"("any")")).destination, Destination::Any());
  EXPECT_EQ(ParseRule(WithDestination(R"({"cidr": "192.168.0.0/16"})")).destination,
            Destination::OfCidr(Prefix("192.168.0.0/16")));
  EXPECT_EQ(ParseRule(WithDestination(R"({"cidr": "0.0.0.0/0"})")).destination,
            Destination::OfCidr(Prefix("0.0.0.0/0")));
  EXPECT_EQ(ParseRule(WithDestination(R"({"cidr": "10.1.2.3"})")).destination,
            Destination::OfCidr(Prefix("10.1.2.3/32")));
  EXPECT_EQ(ParseRule(WithDestination(R"({"cidr": "fc00::/7"})")).destination,
            Destination::OfCidr(Prefix("fc00::/7")));
  EXPECT_EQ(ParseRule(WithDestination(R"({"cidr": "::1"})")).destination.cidr.length(), 128u);
  EXPECT_EQ(ParseRule(WithDestination(R"({"domain": "Example.COM"})")).destination,
            Destination::OfDomain("example.com"));
  EXPECT_EQ(ParseRule(WithDestination(R"({"domain": "intranet"})")).destination,
            Destination::OfDomain("intranet"));
  for (std::string_view suffix : {"example.com", ".example.com", "*.example.com", "Example.Com."}) {
    EXPECT_EQ(ParseRule(WithDestination(R"({"domain_suffix": ")" + std::string(suffix) + "\"}"))
                  .destination,
              Destination::OfSuffix("example.com"))
        << suffix;
  }
}

TEST(ConfigTest, DestinationErrors) {
  struct Case {
    std::string_view destination;
    std::string_view message;  // after "$.policy.rules[0].destination"
  };
  for (Case c : {
           Case{R"({"cidr": "10.0.0.1/8"})",
                R"(.cidr: invalid CIDR "10.0.0.1/8": host bits are set (did you mean )"
                R"("10.0.0.0/8"?))"},
           Case{R"({"cidr": "2001:db8::1/32"})",
                R"(.cidr: invalid CIDR "2001:db8::1/32": host bits are set (did you mean )"
                R"("2001:db8::/32"?))"},
           Case{R"({"cidr": "10.0.0.0/33"})",
                R"(.cidr: invalid CIDR "10.0.0.0/33": the prefix length must be a number from 0 )"
                "to 32"},
           Case{R"({"cidr": "10.0.0.0/08"})",
                R"(.cidr: invalid CIDR "10.0.0.0/08": the prefix length must be a number from 0 )"
                "to 32"},
           Case{R"({"cidr": "fc00::/129"})",
                R"(.cidr: invalid CIDR "fc00::/129": the prefix length must be a number from 0 )"
                "to 128"},
           Case{R"({"cidr": "10.0.0.256"})", R"(.cidr: "10.0.0.256" is not an IP address or CIDR)"},
           Case{R"({"cidr": "example.com/8"})",
                R"(.cidr: invalid CIDR "example.com/8": "example.com" is not an IP address)"},
           Case{R"({"cidr": "[2001:db8::1]"})",
                R"(.cidr: invalid CIDR "[2001:db8::1]": write IPv6 addresses without brackets )"
                "in JSON"},
           Case{R"({"domain": "exa$mple.com"})",
                R"(.domain: "exa$mple.com" is not a valid domain name: it contains the character )"
                R"("$" (labels are letters, digits, '-' and '_'))"},
           Case{R"({"domain": "*.example.com"})",
                R"(.domain: "*.example.com" is not a valid domain name: it contains the )"
                R"(character "*" (labels are letters, digits, '-' and '_') (for a suffix use )"
                R"({"domain_suffix": ...}))"},
           Case{R"({"domain": "10.0.0.1"})",
                R"(.domain: "10.0.0.1" is not a valid domain name: it is an IP address, not a )"
                "domain name"},
           Case{R"({"domain_suffix": "*.com"})",
                R"(.domain_suffix: suffix "com" is too broad: a suffix needs at least two labels)"},
           Case{R"({"domain_suffix": ""})",
                R"(.domain_suffix: "" is not a valid domain suffix: it is empty)"},
           Case{R"({"domain": 5})", ".domain: expected a string, found a number"},
           Case{R"({})",
                R"(: expected exactly one of "cidr", "domain", "domain_suffix" or "group", found )"
                "an empty object"},
           Case{R"({"cidr": "10.0.0.0/8", "group": "private"})",
                R"(: expected exactly one of "cidr", "domain", "domain_suffix" or "group", found )"
                R"(2 fields ("cidr", "group"))"},
           Case{R"({"domian": "example.com"})",
                R"(.domian: unknown field: expected "cidr", "domain", "domain_suffix" or "group" )"
                R"((did you mean "domain"?))"},
           Case{R"({"any": true})",
                R"(.any: unknown field: expected "cidr", "domain", "domain_suffix" or "group")"},
           Case{R"("public")",
                R"(: expected "any" or an object with one of "cidr", "domain", "domain_suffix" or )"
                R"("group", found the string "public" (did you mean {"group": "public"}?))"},
           Case{R"("link-local")", R"(found the string "link-local" (did you mean )"
                                   R"({"group": "link_local"}?))"},
           Case{R"("10.0.0.0/8")", R"((did you mean {"cidr": "10.0.0.0/8"}?))"},
           Case{R"("2001:db8::1")", R"((did you mean {"cidr": "2001:db8::1"}?))"},
           Case{R"(".example.com")", R"((did you mean {"domain_suffix": ".example.com"}?))"},
           Case{R"("api.example.com")", R"((did you mean {"domain": "api.example.com"}?))"},
           Case{R"("*")", R"(found the string "*" (did you mean "any"?))"},
           Case{R"("ANY")", R"(found the string "ANY")"},
           Case{"null",
                R"(: expected "any" or an object with one of "cidr", "domain", "domain_suffix" or )"
                R"("group", found null)"},
           Case{R"(["any"])", R"(, found an array)"},
       }) {
    std::string error = RuleError(WithDestination(c.destination));
    EXPECT_THAT(error, StartsWith("$.policy.rules[0].destination")) << c.destination;
    EXPECT_THAT(error, HasSubstr(std::string(c.message))) << c.destination;
    if (c.message.starts_with(".") || c.message.starts_with(":")) {
      EXPECT_EQ(error, "$.policy.rules[0].destination" + std::string(c.message)) << c.destination;
    }
  }
}

TEST(ConfigTest, RuleFieldErrors) {
  EXPECT_EQ(RuleError(R"({"destination": "any", "action": "allow"})"),
            R"($.policy.rules[0]: missing required field "direction")");
  EXPECT_EQ(RuleError(R"({"direction": "egress", "action": "allow"})"),
            R"($.policy.rules[0]: missing required field "destination")");
  EXPECT_EQ(RuleError(R"({"direction": "egress", "destination": "any"})"),
            R"($.policy.rules[0]: missing required field "action")");
  EXPECT_EQ(RuleError(R"({"direction": "egres", "destination": "any", "action": "allow"})"),
            R"($.policy.rules[0].direction: unknown direction "egres": expected "egress", )"
            R"("ingress" or "any" (did you mean "egress"?))");
  EXPECT_EQ(RuleError(R"({"direction": "egress", "destination": "any", "action": "alow"})"),
            R"($.policy.rules[0].action: unknown action "alow": expected "allow" or "deny" )"
            R"((did you mean "allow"?))");
  EXPECT_EQ(RuleError(R"({"direction": true, "destination": "any", "action": "allow"})"),
            R"($.policy.rules[0].direction: expected "egress", "ingress" or "any", found a )"
            "boolean");
  EXPECT_EQ(RuleError(RuleWith(R"("acton": "deny")")),
            R"($.policy.rules[0].acton: unknown field: expected "direction", "destination", )"
            R"("protocols", "protocol", "ports" or "action" (did you mean "action"?))");
  EXPECT_EQ(RuleError(R"("allow@public")"),
            "$.policy.rules[0]: expected a rule object, found a string");
  EXPECT_EQ(Error(R"({"policy": {"rules": {}}})"),
            "$.policy.rules: expected an array of rules, found an object");
  EXPECT_EQ(Error(R"({"policy": []})"), "$.policy: expected an object, found an array");
  EXPECT_EQ(Error(R"({"policy": {"default_egress": "Deny"}})"),
            R"($.policy.default_egress: unknown action "Deny": expected "allow" or "deny" )"
            R"((did you mean "deny"?))");
  EXPECT_EQ(Error(R"({"policy": {"default_ingress": false}})"),
            R"($.policy.default_ingress: expected "allow" or "deny", found a boolean)");
  EXPECT_EQ(Error(R"({"policy": {"defualt_egress": "deny"}})"),
            R"($.policy.defualt_egress: unknown field: expected "default_egress", )"
            R"("default_ingress" or "rules" (did you mean "default_egress"?))");
  // The first error in document order wins.
  EXPECT_EQ(Error(InPolicy(RuleWith("") + ", 5, " + R"({"direction": "x"})")),
            "$.policy.rules[1]: expected a rule object, found a number");
}

TEST(ConfigTest, DnsSection) {
  std::string sixteen = "[";
  for (int i = 0; i < 16; ++i) {
    sixteen += (i ? ", \"10.0.0." : "\"10.0.0.") + std::to_string(i + 1) + "\"";
  }
  NetworkConfig config = Parse(R"({"dns": {"nameservers": )" + sixteen + "]}}");
  EXPECT_EQ(config.dns.nameservers.size(), 16u);
  EXPECT_EQ(config.dns.nameservers[15], "10.0.0.16");
  EXPECT_EQ(Error(R"({"dns": {"nameservers": )" + sixteen + R"(, "10.0.0.17"]}})"),
            "$.dns.nameservers: 17 nameservers given; at most 16 are allowed");
  EXPECT_EQ(Parse(R"({"dns": {"query_timeout_ms": 1}})").dns.query_timeout_ms, 1u);
  EXPECT_EQ(Parse(R"({"dns": {"query_timeout_ms": 600000}})").dns.query_timeout_ms, 600000u);
  EXPECT_EQ(Parse(R"({"dns": {"rebind_protection": true}})").dns.rebind_protection, true);
  EXPECT_EQ(Parse(R"({"dns": {"nameservers": []}})").dns.nameservers.size(), 0u);

  EXPECT_EQ(Error(R"({"dns": {"rebind_protection": "false"}})"),
            "$.dns.rebind_protection: expected a boolean, found a string");
  EXPECT_EQ(Error(R"({"dns": {"query_timeout_ms": 0}})"),
            "$.dns.query_timeout_ms: expected an integer from 1 to 600000, found 0");
  EXPECT_EQ(Error(R"({"dns": {"query_timeout_ms": 600001}})"),
            "$.dns.query_timeout_ms: expected an integer from 1 to 600000, found 600001");
  EXPECT_EQ(Error(R"({"dns": {"query_timeout_ms": 2.5}})"),
            "$.dns.query_timeout_ms: expected an integer from 1 to 600000, found 2.5");
  EXPECT_EQ(Error(R"({"dns": {"nameservers": ["1.1.1.1", ""]}})"),
            "$.dns.nameservers[1]: the nameserver is empty: expected IP, IP:PORT, [IPv6]:PORT, "
            "HOST or HOST:PORT");
  EXPECT_EQ(Error(R"({"dns": {"nameservers": [" 1.1.1.1"]}})"),
            R"($.dns.nameservers[0]: nameserver " 1.1.1.1" contains whitespace or a control )"
            "character");
  EXPECT_THAT(Error(R"({"dns": {"nameservers": ["1.1.1.1\t"]}})"),
              HasSubstr(R"(nameserver "1.1.1.1\x09" contains whitespace)"));
  EXPECT_EQ(Error(R"({"dns": {"nameservers": [1]}})"),
            "$.dns.nameservers[0]: expected a string, found a number");
  EXPECT_EQ(Error(R"({"dns": {"nameservers": "1.1.1.1"}})"),
            "$.dns.nameservers: expected an array of strings, found a string");
  EXPECT_EQ(Error(R"({"dns": {"nameserver": []}})"),
            R"($.dns.nameserver: unknown field: expected "nameservers", "rebind_protection" or )"
            R"("query_timeout_ms" (did you mean "nameservers"?))");
  EXPECT_EQ(Error(R"({"dns": true})"), "$.dns: expected an object, found a boolean");
}

TEST(ConfigTest, MaxConnections) {
  EXPECT_EQ(Parse(R"({"max_connections": 1})").max_connections, 1u);
  EXPECT_EQ(Parse(R"({"max_connections": 65536})").max_connections, 65536u);
  EXPECT_EQ(Error(R"({"max_connections": 0})"),
            "$.max_connections: expected an integer from 1 to 65536, found 0");
  EXPECT_EQ(Error(R"({"max_connections": 65537})"),
            "$.max_connections: expected an integer from 1 to 65536, found 65537");
  EXPECT_EQ(Error(R"({"max_connections": -5})"),
            "$.max_connections: expected an integer from 1 to 65536, found -5");
  EXPECT_EQ(Error(R"({"max_connections": 99999999999999999999})"),
            "$.max_connections: expected an integer from 1 to 65536, found 1e+20");
  EXPECT_EQ(Error(R"({"max_connections": "256"})"),
            "$.max_connections: expected an integer from 1 to 65536, found a string");
}

TEST(ConfigTest, InterfaceSection) {
  NetworkConfig c = Parse(R"({"interface": {"mac": [2, 109, 115, 0, 0, 9], "mtu": 1400,
      "ipv4_address": "10.1.2.6", "ipv4_pool": "10.1.0.0/16", "ipv6_address": null,
      "ipv6_pool": null}})");
  ASSERT_TRUE(c.interface.has_value());
  EXPECT_EQ(c.interface->mac, (std::array<uint8_t, 6>{2, 109, 115, 0, 0, 9}));
  EXPECT_EQ(c.interface->mtu, 1400);
  EXPECT_EQ(c.interface->guest_v4, *IpAddress::Parse("10.1.2.6"));
  EXPECT_EQ(c.interface->gateway_v4, *IpAddress::Parse("10.1.2.5"));
  EXPECT_FALSE(c.interface->guest_v6.has_value());
  c = Parse(R"({"interface": {"ipv6_address": "fd42:1:2:3::7"}})");
  EXPECT_EQ(c.interface->guest_v6, *IpAddress::Parse("fd42:1:2:3::7"));
  EXPECT_EQ(c.interface->gateway_v6, *IpAddress::Parse("fd42:1:2:3::1"));
  c = Parse(R"({"interface": {"ipv6_pool": "fd42:6d73:62::/48"}})");
  EXPECT_EQ(c.interface->guest_v6, *IpAddress::Parse("fd42:6d73:62::2"));
  EXPECT_EQ(c.interface->gateway_v6, *IpAddress::Parse("fd42:6d73:62::1"));
  // A pool alone: its first /30 (microsandbox's slot 0).
  c = Parse(R"({"interface": {"ipv4_pool": "172.20.0.0/14"}})");
  EXPECT_EQ(c.interface->guest_v4, *IpAddress::Parse("172.20.0.2"));
  EXPECT_EQ(c.interface->gateway_v4, *IpAddress::Parse("172.20.0.1"));
  EXPECT_FALSE(c.interface->mtu.has_value());
  // Nothing set: no addresses.
  c = Parse(R"({"interface": {}})");
  EXPECT_FALSE(c.interface->guest_v4.has_value());
}

TEST(ConfigTest, InterfaceErrorsNameTheField) {
  struct Case {
    std::string_view json;
    std::string_view error;
  };
  for (const Case& t : {
           Case{R"({"interface": []})", "$.interface: expected an object, found an array"},
           Case{R"({"interface": {"mtu": 100}})",
                "$.interface.mtu: expected an integer from 576 to 65520, found 100"},
           Case{R"({"interface": {"mac": [2, 0, 0, 0, 0]}})",
                "$.interface.mac: expected an array of 6 integers (0..255), found an array"},
           Case{R"({"interface": {"mac": [2, 0, 0, 0, 0, 256]}})",
                "$.interface.mac[5]: expected an integer from 0 to 255, found 256"},
           Case{R"({"interface": {"mac": [1, 0, 0, 0, 0, 1]}})",
                "$.interface.mac: a multicast MAC address cannot be the guest's (the first octet "
                "is odd)"},
           Case{R"({"interface": {"mac": [0, 0, 0, 0, 0, 0]}})",
                "$.interface.mac: the all-zero MAC address cannot be the guest's"},
           Case{R"({"interface": {"ipv4_address": "10.0.0.5"}})",
                "$.interface.ipv4_address: 10.0.0.5 cannot be the guest's address: it must be "
                "the second address of a /30 (the gateway takes the first), e.g. 10.0.0.6"},
           Case{R"({"interface": {"ipv4_address": "fd00::2"}})",
                "$.interface.ipv4_address: \"fd00::2\" is not an IPv4 address"},
           Case{R"({"interface": {"ipv4_address": "10.0.0.2", "ipv4_pool": "10.1.0.0/16"}})",
                "$.interface.ipv4_address: 10.0.0.2 is not inside ipv4_pool 10.1.0.0/16"},
           Case{R"({"interface": {"ipv4_pool": "10.1.0.0/31"}})",
                "$.interface.ipv4_pool: the pool must hold at least one /30 (a prefix of /30 or "
                "shorter), found /31"},
           Case{R"({"interface": {"ipv4_pool": "10.1.0.1/16"}})",
                "$.interface.ipv4_pool: invalid CIDR \"10.1.0.1/16\": host bits are set (did you "
                "mean \"10.1.0.0/16\"?)"},
           Case{R"({"interface": {"ipv4_pool": "fd00::/48"}})",
                "$.interface.ipv4_pool: \"fd00::/48\" is not an IPv4 block (ipv6_pool takes "
                "IPv6)"},
           Case{R"({"interface": {"ipv6_address": "10.0.0.2"}})",
                "$.interface.ipv6_address: \"10.0.0.2\" is not an IPv6 address"},
           Case{R"({"interface": {"ipv6_address": "fd42:6d73:62::1"}})",
                "$.interface.ipv6_address: fd42:6d73:62::1 cannot be the guest's address: the "
                "gateway takes ::1 of the /64"},
           Case{R"({"interface": {"ipv6_address": "fd00::2", "ipv6_pool": "fd42::/48"}})",
                "$.interface.ipv6_address: fd00::2 is not inside ipv6_pool fd42::/48"},
           Case{R"({"interface": {"ipv6_pool": "fd42::/96"}})",
                "$.interface.ipv6_pool: the pool must be an IPv6 block of /64 or shorter, found "
                "\"fd42::/96\""},
           Case{R"({"interface": {"ipv4_adress": "10.0.0.2"}})",
                "$.interface.ipv4_adress: unknown field: expected \"mac\", \"mtu\", "
                "\"ipv4_address\", \"ipv4_pool\", \"ipv6_address\" or \"ipv6_pool\" (did you "
                "mean \"ipv4_address\"?)"},
       }) {
    EXPECT_EQ(Error(t.json), t.error) << t.json;
  }
}

TEST(ConfigTest, UnsupportedSectionsAndEnabled) {
  for (std::string_view section : {"rate_limiter"}) {
    for (std::string_view value : {"{}", "[]", "false", "{\"enabled\": false}"}) {
      EXPECT_EQ(Error(R"({")" + std::string(section) + "\": " + std::string(value) + "}"),
                "$." + std::string(section) + ": not supported by this version of msb-gateway")
          << section << " " << value;
    }
  }
  // secrets is kept as written for secrets/ to parse (its values never enter policy types).
  NetworkConfig with_secrets = Parse(R"({"secrets": {"secrets": []}})");
  ASSERT_TRUE(with_secrets.secrets.has_value());
  EXPECT_TRUE(with_secrets.secrets->is_object());
  EXPECT_EQ(Error(R"({"secrets": []})"), "$.secrets: expected an object, found an array");
  EXPECT_EQ(Error(R"({"enabled": false})"),
            "$.enabled: disabling the network device is not supported; use policy none");
  EXPECT_EQ(Error(R"({"enabled": "true"})"), "$.enabled: expected a boolean, found a string");
}

TEST(ConfigTest, TlsSectionInTheWireFormat) {
  auto c = ParseNetworkConfig(R"({"tls": {
      "enabled": true, "intercepted_ports": [443, 8443, 443], "bypass": ["pinned.example.com",
      "*.gov"], "verify_upstream": true, "block_quic_on_intercept": false,
      "upstream_ca_cert": ["/etc/ssl/corp-root.pem"],
      "scoped_upstream_ca_certs": [{"pattern": "api.internal.example.com", "path": "./ca.pem"}],
      "scoped_verify_upstream": [{"pattern": "*.preview.internal", "verify": false}],
      "ca": {"cert_path": "/c.pem", "key_path": "/k.pem"},
      "cache": {"capacity": 50, "validity_hours": 12}}, "trust_host_cas": true})");
  ASSERT_TRUE(c.ok()) << c.error();
  const TlsSettings& t = *c.value().tls;
  EXPECT_EQ(t.enabled, true);
  EXPECT_EQ(*t.intercepted_ports, (std::vector<uint16_t>{443, 8443}));
  ASSERT_EQ(t.bypass.size(), 2u);
  EXPECT_EQ(t.bypass[1].ToString(), "*.gov");
  EXPECT_EQ(t.block_quic_on_intercept, false);
  EXPECT_EQ(t.upstream_ca_cert, (std::vector<std::string>{"/etc/ssl/corp-root.pem"}));
  ASSERT_EQ(t.scoped_upstream_ca_cert.size(), 1u);
  EXPECT_EQ(t.scoped_upstream_ca_cert[0].second, "./ca.pem");
  ASSERT_EQ(t.scoped_verify_upstream.size(), 1u);
  EXPECT_FALSE(t.scoped_verify_upstream[0].second);
  EXPECT_EQ(t.intercept_ca_cert, "/c.pem");
  EXPECT_EQ(t.cache_capacity, 50u);
  EXPECT_EQ(t.validity_hours, 12u);
  EXPECT_EQ(c.value().trust_host_cas, true);
}

TEST(ConfigTest, TlsSectionErrorsNameThePath) {
  EXPECT_THAT(Error(R"({"tls": {"bypas": []}})"), StartsWith(R"($.tls.bypas: unknown field)"));
  EXPECT_THAT(Error(R"({"tls": {"bypas": []}})"), HasSubstr(R"((did you mean "bypass"?))"));
  EXPECT_THAT(Error(R"({"tls": {"bypass": ["*.*.x"]}})"), StartsWith("$.tls.bypass[0]: "));
  EXPECT_EQ(Error(R"({"tls": {"intercepted_ports": [0]}})"),
            "$.tls.intercepted_ports[0]: expected an integer from 1 to 65535, found 0");
  EXPECT_THAT(Error(R"({"tls": {"intercepted_ports": []}})"), HasSubstr("no ports given"));
  EXPECT_EQ(Error(R"({"tls": {"intercept_ca": {"cert_path": "/c.pem"}}})"),
            "$.tls.intercept_ca: give both cert_path and key_path, or neither");
  EXPECT_THAT(Error(R"({"tls": {"scoped_verify_upstream": [{"pattern": "a.b"}]}})"),
              HasSubstr(R"(needs "pattern" and "verify")"));
  EXPECT_THAT(Error(R"({"tls": {"scoped_verify_upstream": [{"pattern": "a.b", "verify": 1}]}})"),
              StartsWith("$.tls.scoped_verify_upstream[0].verify: expected a boolean"));
  EXPECT_THAT(Error(R"({"tls": {"cache": {"validity_hours": 100000}}})"),
              StartsWith("$.tls.cache.validity_hours: "));
  EXPECT_EQ(Error(R"({"tls": {"enabled": "yes"}})"),
            "$.tls.enabled: expected a boolean, found a string");
  EXPECT_EQ(Error(R"({"trust_host_cas": 1})"),
            "$.trust_host_cas: expected a boolean, found a number");
}

TEST(ConfigTest, UnknownTopLevelFields) {
  EXPECT_EQ(Error(R"({"polciy": {}})"),
            R"($.polciy: unknown field: expected "policy", "dns", "tls", "secrets", "interface", )"
            R"("ports", "trust_host_cas", )"
            R"("max_connections" or "enabled" (did you mean "policy"?))");
  EXPECT_THAT(Error(R"({"max_connection": 5})"), HasSubstr(R"((did you mean "max_connections"?))"));
  EXPECT_THAT(Error(R"({"tsl": {}})"), HasSubstr(R"((did you mean "tls"?))"));
  EXPECT_EQ(Error(R"({"network": {}})"),
            R"($.network: unknown field: expected "policy", "dns", "tls", "secrets", "interface", )"
            R"("ports", "trust_host_cas", )"
            R"("max_connections" or "enabled")");
  // Keys that are not plain words are quoted in the path.
  EXPECT_THAT(Error(R"({"a b": 1})"), StartsWith(R"($["a b"]: unknown field)"));
  EXPECT_THAT(Error(R"({"": 1})"), StartsWith(R"($[""]: unknown field)"));
  EXPECT_THAT(Error(R"({"\n": 1})"), StartsWith(R"($["\x0a"]: unknown field)"));
}

TEST(ConfigTest, DocumentErrors) {
  EXPECT_EQ(Error("[]"), "$: expected an object, found an array");
  EXPECT_EQ(Error("null"), "$: expected an object, found null");
  EXPECT_EQ(Error(""), "line 1, column 1: expected a JSON value, found the end of the input");
  EXPECT_EQ(Error("{\n  \"policy\": {},\n}"), "line 2, column 15: trailing comma before '}'");
  EXPECT_EQ(Error(R"({"dns": {}, "dns": {}})"), "line 1, column 13: duplicate key \"dns\"");
  EXPECT_THAT(Error(R"({"policy": {"rules": [{"direction": "egress", "direction": "egress"}]}})"),
              HasSubstr("duplicate key \"direction\""));
  EXPECT_THAT(Error("{\"dns\": {\"nameservers\": [\"\xC0\x80\"]}}"), HasSubstr("invalid UTF-8"));
  EXPECT_THAT(Error(std::string(40, '[') + std::string(40, ']')), HasSubstr("max_depth"));
}

}  // namespace
}  // namespace msb::policy
