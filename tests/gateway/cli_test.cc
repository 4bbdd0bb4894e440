// Tests for command-line parsing: commands, flag forms, validation and the exact error messages.
#include "gateway/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msb::gateway {
namespace {

Result<CliConfig> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args);
}

TEST(CliTest, RunTakesFlagsThenCommand) {
  auto c =
      Parse({"run", "--net", "non-local", "--net-rule", "allow@10.0.0.0/8", "--net-rule=deny@any",
             "--mtu", "9000", "--audit-log", "-", "--", "curl", "-s", "--", "x"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().command, Command::kRun);
  EXPECT_EQ(c.value().policy.preset, policy::Preset::kNonLocal);
  EXPECT_EQ(c.value().policy.net_rules, (std::vector<std::string>{"allow@10.0.0.0/8", "deny@any"}));
  EXPECT_EQ(c.value().gateway.net.mtu, 9000);
  EXPECT_EQ(c.value().audit_log, "-");
  EXPECT_EQ(c.value().command_argv, (std::vector<std::string>{"curl", "-s", "--", "x"}));
  EXPECT_EQ(c.value().tap_name, "eth0");
}

TEST(CliTest, RunWithoutDashDashStartsCommandAtFirstWord) {
  auto c = Parse({"run", "--no-net", "sh", "-c", "true"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c.value().policy.no_net);
  EXPECT_EQ(c.value().command_argv, (std::vector<std::string>{"sh", "-c", "true"}));
}

TEST(CliTest, DashWordsBeforeTheCommandAreFlags) {
  // "-x" must never be run as the command ("cannot run "-x"").
  EXPECT_EQ(Parse({"run", "-x", "8080:80", "--", "true"}).error(),
            "unknown flag \"-x\"; flags are long (--name) except -h and -p, and a command that "
            "starts with \"-\" goes after \"--\"; see msb-gateway help");
  EXPECT_EQ(Parse({"run", "-net", "none", "--", "true"}).error(),
            "unknown flag \"-net\" (did you mean \"--net\"?); flags are long (--name) except -h "
            "and -p, and a command that starts with \"-\" goes after \"--\"; see msb-gateway "
            "help");
  EXPECT_EQ(Parse({"serve", "-x"}).error(),
            "unknown flag \"-x\"; flags are long (--name) except -h and -p; see msb-gateway help");
  EXPECT_FALSE(Parse({"run", "-", "true"}).ok());
  EXPECT_FALSE(Parse({"policy", "explain", "-q", "10.0.0.1"}).ok());
  // After the command's first word, or after "--", dashes belong to the command.
  auto c = Parse({"run", "--", "-weird-name", "-p"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().command_argv, (std::vector<std::string>{"-weird-name", "-p"}));
  c = Parse({"run", "curl", "-p", "x"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().command_argv, (std::vector<std::string>{"curl", "-p", "x"}));
}

TEST(CliTest, PublishSpellingsAndErrors) {
  auto c = Parse({"run", "-p", "8080:80", "--publish", "[::1]:5353:53/udp", "--port=0.0.0.0:2:3",
                  "--", "true"});
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c.value().publish.size(), 3u);
  EXPECT_EQ(c.value().publish[0].ToString(), "127.0.0.1:8080:80/tcp");
  EXPECT_EQ(c.value().publish[1].ToString(), "[::1]:5353:53/udp");
  EXPECT_EQ(c.value().publish[2].ToString(), "0.0.0.0:2:3/tcp");
  c = Parse({"serve", "--tap", "t0", "-p", "1:2/udp"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().publish.size(), 1u);
  EXPECT_EQ(Parse({"run", "-p", "8080:99999", "--", "true"}).error(),
            "--publish \"8080:99999\": guest port \"99999\": out of range: expected a port from 1 "
            "to 65535");
  EXPECT_EQ(Parse({"run", "--port", "x", "--", "true"}).error(),
            "--port \"x\": missing the guest port after \"x\": expected "
            "[BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp]");
  EXPECT_EQ(Parse({"run", "-p", "8080:80", "-p", "0.0.0.0:8080:81", "--", "true"}).error(),
            "--publish: \"0.0.0.0:8080:81/tcp\" listens on the same host port as "
            "\"127.0.0.1:8080:80/tcp\" (8080/tcp)");
  EXPECT_TRUE(Parse({"run", "-p", "8080:80", "-p", "8080:80/udp", "--", "true"}).ok());
  EXPECT_EQ(Parse({"run", "-p"}).error(), "--publish needs a value");
  EXPECT_FALSE(Parse({"policy", "explain", "-p", "1:2", "10.0.0.1"}).ok());
}

TEST(CliTest, TlsFlagsTurnInterceptionOnAndAreValidated) {
  auto c = Parse({"run", "--", "true"});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c.value().tls.enabled);
  c = Parse({"run", "--tls-bypass", "*.Pinned.example", "--tls-intercept-port", "8443",
             "--tls-intercept-port", "443", "--tls-intercept-port", "8443",
             "--tls-upstream-ca-cert", "/a.pem", "--tls-upstream-ca-cert-for", "api.x=/b.pem",
             "--tls-no-verify-upstream-for", "*.preview.x", "--no-block-quic", "--", "true"});
  ASSERT_TRUE(c.ok()) << c.error();
  const tls::InterceptOptions& t = c.value().tls;
  EXPECT_TRUE(t.enabled);
  EXPECT_EQ(t.ports, (std::vector<uint16_t>{8443, 443}));  // replaces the default, no repeats
  ASSERT_EQ(t.bypass.size(), 1u);
  EXPECT_EQ(t.bypass[0].ToString(), "*.pinned.example");
  EXPECT_EQ(t.trust.extra_ca_files, (std::vector<std::string>{"/a.pem"}));
  ASSERT_EQ(t.trust.scoped_ca_files.size(), 1u);
  EXPECT_EQ(t.trust.scoped_ca_files[0].second, "/b.pem");
  ASSERT_EQ(t.trust.scoped_verify.size(), 1u);
  EXPECT_FALSE(t.trust.scoped_verify[0].second);
  EXPECT_FALSE(t.block_quic);
  for (const char* flag : {"--tls-intercept-ca-cert", "--intercept-ca"}) {
    auto d = Parse({"run", flag, "/c.pem", "--intercept-ca-key", "/k.pem", "--", "true"});
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_EQ(d.value().tls.ca_cert, "/c.pem");
    EXPECT_TRUE(d.value().tls.enabled);
  }
  EXPECT_EQ(Parse({"run", "--intercept-ca", "/c.pem", "--", "true"}).error(),
            "--intercept-ca needs --intercept-ca-key (the CA's private key)");
  EXPECT_EQ(Parse({"run", "--tls-intercept-ca-key", "/k.pem", "--", "true"}).error(),
            "--intercept-ca-key needs --intercept-ca (the CA certificate)");
  EXPECT_EQ(Parse({"run", "--tls-intercept-port", "0", "--", "true"}).error(),
            "--tls-intercept-port: invalid value \"0\": expected a port from 1 to 65535");
  EXPECT_EQ(Parse({"run", "--tls-upstream-ca-cert-for", "x.example", "--", "true"}).error(),
            "--tls-upstream-ca-cert-for: invalid value \"x.example\": expected PATTERN=PEM, e.g. "
            "*.corp.example=/etc/ssl/corp-root.pem");
  EXPECT_THAT(Parse({"run", "--tls-bypass", "a..b", "--", "true"}).error(),
              ::testing::StartsWith("--tls-bypass: "));
  EXPECT_EQ(Parse({"run", "--state-dir", "relative", "--", "true"}).error(),
            "--state-dir: invalid value \"relative\": expected an absolute directory path");
}

TEST(CliTest, CaCommand) {
  auto c = Parse({"ca", "export", "--state-dir", "/s"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().command, Command::kCa);
  EXPECT_EQ(c.value().ca_action, "export");
  EXPECT_EQ(c.value().tls.state_dir, "/s");
  EXPECT_EQ(Parse({"ca"}).error(),
            "ca needs an action: msb-gateway ca init|show|export [--state-dir DIR]");
  EXPECT_EQ(Parse({"ca", "shwo"}).error(),
            "unknown ca action \"shwo\" (did you mean \"show\"?); expected init, show or export");
  EXPECT_EQ(Parse({"ca", "show", "--tls-bypass", "x.y"}).error(),
            "flag \"--tls-bypass\" does not apply to this command; see msb-gateway help");
  EXPECT_NE(UsageText(Command::kHelp).find("msb-gateway ca init|show|export"), std::string::npos);
}

TEST(CliTest, ServeNeedsExactlyOneTapSource) {
  EXPECT_TRUE(Parse({"serve", "--tap", "tap0"}).ok());
  EXPECT_TRUE(Parse({"serve", "--tap-fd", "5"}).ok());
  EXPECT_TRUE(Parse({"serve", "--netns", "/run/netns/box"}).ok());
  EXPECT_EQ(Parse({"serve", "--unix-stream", "/run/msb/vm.sock"}).value().unix_stream_path,
            "/run/msb/vm.sock");
  EXPECT_EQ(Parse({"serve", "--unixgram", "/run/msb/vm.dgram"}).value().unixgram_path,
            "/run/msb/vm.dgram");
  EXPECT_EQ(Parse({"serve", "--fd", "7"}).value().socket_fd, 7);
  EXPECT_EQ(Parse({"serve"}).error(),
            "serve needs exactly one of --tap NAME, --tap-fd N, --netns PATH, --unix-stream PATH, "
            "--unixgram PATH or --fd N");
  EXPECT_FALSE(Parse({"serve", "--unix-stream", "/a", "--unixgram", "/b"}).ok());
  EXPECT_FALSE(Parse({"serve", "--fd", "7", "--tap", "tap0"}).ok());
  EXPECT_EQ(Parse({"serve", "--unix-stream", std::string(108, 'a')}).error(),
            "--unix-stream: invalid value \"" + std::string(108, 'a') +
                "\": expected a unix socket path (1-107 bytes)");
  EXPECT_EQ(Parse({"serve", "--fd", "2"}).error(),
            "--fd: invalid value \"2\": expected a whole number from 3 to 1048576");
  EXPECT_FALSE(Parse({"run", "--unix-stream", "/a", "--", "true"}).ok());
  EXPECT_FALSE(Parse({"serve", "--tap", "tap0", "--tap-fd", "5"}).ok());
  EXPECT_FALSE(Parse({"serve", "--tap", "tap0", "--netns", "/run/netns/box"}).ok());
  EXPECT_EQ(Parse({"serve", "--netns", ""}).error(),
            "--netns: invalid value \"\": expected a network namespace path (/run/netns/NAME, "
            "/proc/PID/ns/net)");
}

TEST(CliTest, NetnsCreatesTheInterfaceRunDoes) {
  auto c = Parse({"serve", "--netns", "/run/netns/box"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().netns_path, "/run/netns/box");
  EXPECT_EQ(c.value().tap_name, "eth0");
  EXPECT_EQ(c.value().gateway.net.mtu, kJumboMtu);
  EXPECT_TRUE(c.value().offload);
  c = Parse({"serve", "--netns", "/proc/1/ns/net", "--interface", "veth-g", "--mtu", "1500",
             "--no-offload"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().tap_name, "veth-g");
  EXPECT_EQ(c.value().gateway.net.mtu, 1500);
  EXPECT_FALSE(c.value().offload);
}

TEST(CliTest, MtuDefaultsToJumboWhereTheGatewayMakesTheInterface) {
  // run and --netns create the interface: jumbo, as pasta and slirp4netns do. A TAP someone else
  // made (a VM's) is Ethernet's 1500 unless --mtu says otherwise.
  EXPECT_EQ(Parse({"run", "--", "true"}).value().gateway.net.mtu, 65520);
  EXPECT_EQ(Parse({"run", "--mtu", "9000", "--", "true"}).value().gateway.net.mtu, 9000);
  EXPECT_EQ(Parse({"serve", "--tap", "tap0"}).value().gateway.net.mtu, 1500);
  EXPECT_EQ(Parse({"serve", "--tap-fd", "5", "--mtu", "9000"}).value().gateway.net.mtu, 9000);
  EXPECT_EQ(Parse({"run", "--mtu", "575", "--", "true"}).error(),
            "--mtu: invalid value \"575\": expected a whole number from 576 to 65520");
  EXPECT_TRUE(Parse({"serve", "--tap", "tap0"}).value().offload);
  EXPECT_FALSE(Parse({"run", "--no-offload", "--", "true"}).value().offload);
  EXPECT_EQ(Parse({"run", "--no-offload=1", "--", "true"}).error(), "--no-offload takes no value");
}

TEST(CliTest, DhcpIsOnUnlessTurnedOffAndItsLeaseIsBounded) {
  EXPECT_TRUE(Parse({"serve", "--tap", "tap0"}).value().gateway.net.dhcp4);
  EXPECT_FALSE(Parse({"serve", "--tap", "tap0", "--no-dhcp"}).value().gateway.net.dhcp4);
  EXPECT_EQ(Parse({"serve", "--tap", "tap0", "--dhcp-lease-s", "600"})
                .value()
                .gateway.net.dhcp4_lease_seconds,
            600u);
  EXPECT_EQ(Parse({"serve", "--tap", "tap0", "--dhcp-lease-s", "59"}).error(),
            "--dhcp-lease-s: invalid value \"59\": expected a whole number from 60 to 31536000");
}

TEST(CliTest, ExplainTakesPolicyFlagsAndOneDestination) {
  auto c = Parse({"policy", "explain", "--net", "allow-all", "10.0.0.1:22"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().command, Command::kPolicyExplain);
  EXPECT_EQ(c.value().explain_target, "10.0.0.1:22");
  EXPECT_EQ(Parse({"policy", "explain"}).error(),
            "policy explain needs a destination: DEST[:PORT][/PROTO]");
  EXPECT_EQ(Parse({"policy", "explain", "a", "b"}).error(), "unexpected argument \"b\"");
  EXPECT_FALSE(Parse({"policy"}).ok());
}

TEST(CliTest, ErrorsNameTheTokenAndSuggest) {
  EXPECT_EQ(Parse({"rnu"}).error(),
            "unknown command \"rnu\" (did you mean \"run\"?); commands: run, serve, policy "
            "explain, ca, help, version");
  EXPECT_EQ(Parse({"run", "--net-rul", "x", "--", "true"}).error(),
            "unknown flag \"--net-rul\" (did you mean \"--net-rule\"?); see msb-gateway help");
  EXPECT_EQ(Parse({"run", "--mtu", "70000", "--", "true"}).error(),
            "--mtu: invalid value \"70000\": expected a whole number from 576 to 65520");
  EXPECT_EQ(Parse({"run", "--net", "public", "--", "true"}).error(),
            "--net: invalid value \"public\": expected public-only, non-local, allow-all or none");
  EXPECT_EQ(Parse({"run", "--net-default-egress", "block", "--", "true"}).error(),
            "--net-default-egress: invalid value \"block\": expected allow or deny");
  EXPECT_EQ(Parse({"run", "--gateway-ip", "::1", "--", "true"}).error(),
            "--gateway-ip: invalid value \"::1\": expected an IPv4 address");
  EXPECT_EQ(Parse({"run", "--guest-mac", "01:00:5e:00:00:01", "--", "true"}).error(),
            "--guest-mac: invalid value \"01:00:5e:00:00:01\": expected a unicast MAC address "
            "like 02:6d:73:00:00:01");
  EXPECT_EQ(Parse({"run", "--net"}).error(), "--net needs a value");
  EXPECT_EQ(Parse({"run", "--no-net=yes", "--", "true"}).error(), "--no-net takes no value");
  EXPECT_EQ(Parse({"serve", "--tap", "t", "--interface", "x"}).error(),
            "--interface applies to run and serve --netns (--tap names the TAP)");
  EXPECT_EQ(Parse({"run"}).error(),
            "run needs a command: msb-gateway run [flags] -- CMD [ARGS...]");
  EXPECT_EQ(Parse({"serve", "--tap", "x", "--"}).error(),
            "\"--\" is only used by run, before the command to start");
}

TEST(CliTest, AddressesMustFormOneSubnet) {
  EXPECT_EQ(Parse({"run", "--guest-ip", "172.16.0.9", "--", "true"}).error(),
            "--gateway-ip 172.16.0.1 and --guest-ip 172.16.0.9 must be different addresses in "
            "one /30");
  auto c = Parse({"run", "--gateway-ip", "10.0.0.1", "--guest-ip", "10.0.0.200", "--prefix-len",
                  "24", "--", "true"});
  EXPECT_TRUE(c.ok()) << c.error();
  EXPECT_FALSE(Parse({"run", "--guest-mac", "02:6d:73:00:00:01", "--", "true"}).ok());
}

TEST(CliTest, TimeoutsAndLimits) {
  auto c = Parse({"serve", "--tap", "t", "--connect-timeout-ms", "1500", "--idle-timeout-s", "0",
                  "--max-connections", "10"});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().gateway.session.connect_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.value().gateway.session.idle_timeout, Duration::zero());
  EXPECT_EQ(c.value().gateway.max_connections, 10u);
  EXPECT_FALSE(Parse({"serve", "--tap", "t", "--max-connections", "0"}).ok());
}

TEST(CliTest, HelpAndVersion) {
  EXPECT_EQ(Parse({}).value().command, Command::kHelp);
  EXPECT_EQ(Parse({"--version"}).value().command, Command::kVersion);
  auto h = Parse({"run", "--help"});
  EXPECT_EQ(h.value().command, Command::kHelp);
  EXPECT_EQ(h.value().help_topic, "run");
  EXPECT_NE(UsageText(Command::kRun).find("--net-rule"), std::string::npos);
}

}  // namespace
}  // namespace msb::gateway
