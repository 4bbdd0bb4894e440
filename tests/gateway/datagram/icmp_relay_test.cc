// Tests for the ICMP echo relay. Whether this host allows unprivileged echo sockets depends on
// net.ipv4.ping_group_range: where it does, a ping to loopback comes back with the guest's
// identifier, sequence and data; where it does not, the relay says why and sends nothing (the
// end-to-end suite sets the range itself and covers both).
#include "gateway/datagram/icmp_relay.h"

#include <gtest/gtest.h>

#include "tests/gateway/datagram/recording_guest.h"

namespace msb::gateway {
namespace {

TEST(IcmpRelayTest, RelaysEchoesWhenTheHostAllowsAndSaysWhyWhenNot) {
  FakeClock clock;
  auto loop = EventLoop::Create(clock).value();
  RecordingGuest guest;
  IcmpRelay relay(loop.get(), &guest, {});
  const uint8_t data[] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
  stack::IcmpEcho echo;
  echo.flow = {
      stack::Transport::kIcmp, {IpAddress::V4(0xac100002), 0x5151}, {IpAddress::V4(0x7f000001), 0}};
  echo.sequence = 9;
  echo.data = data;
  if (!relay.available(IpFamily::kV4)) {
    EXPECT_NE(relay.unavailable_reason(IpFamily::kV4).find("ping_group_range"), std::string::npos)
        << relay.unavailable_reason(IpFamily::kV4);
    EXPECT_FALSE(relay.Send(echo));
    EXPECT_EQ(relay.stats().dropped, 1u);
    GTEST_SKIP() << "unprivileged ICMP sockets are off here: "
                 << relay.unavailable_reason(IpFamily::kV4);
  }
  EXPECT_TRUE(relay.unavailable_reason(IpFamily::kV4).empty());
  ASSERT_TRUE(relay.Send(echo));
  for (int i = 0; i < 200 && guest.echoes.empty(); ++i) {
    loop->RunOnce(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(guest.echoes.size(), 1u);
  EXPECT_EQ(guest.echoes[0].from, echo.flow.dest.ip);
  EXPECT_EQ(guest.echoes[0].to, echo.flow.guest.ip);
  EXPECT_EQ(guest.echoes[0].identifier, 0x5151);  // the guest's, not the socket's
  EXPECT_EQ(guest.echoes[0].sequence, 9);
  EXPECT_EQ(guest.echoes[0].data, std::vector<uint8_t>(std::begin(data), std::end(data)));
  EXPECT_EQ(relay.size(), 1u);
  // Idle pings are forgotten.
  clock.Advance(std::chrono::seconds(11));
  for (int i = 0; i < 5 && relay.size() != 0; ++i) {
    loop->RunOnce(Duration::zero());
    clock.Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(relay.size(), 0u);
}

}  // namespace
}  // namespace msb::gateway
