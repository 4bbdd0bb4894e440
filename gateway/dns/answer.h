// What an upstream DNS answer means for the gateway: the addresses it gives the query name
// (following its CNAME chain) with their TTL, for the pin set; and the addresses that rebinding
// protection must judge. Pure functions over a parsed response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/ip_address.h"
#include "gateway/dns/message.h"

namespace msb::gateway::dns {

struct AnswerAddresses {
  std::vector<IpAddress> addresses;  // of the queried family, in answer order, unique
  uint32_t ttl = 0;                  // the smallest TTL along the chain and the address records
};

// AddressesForName collects the A (qtype A) or AAAA (qtype AAAA) records owned by `name` or by a
// name its CNAME chain reaches (at most 16 links); records about unrelated names are ignored.
// `name` is in the presentation form of dns::Question (lowercase).
AnswerAddresses AddressesForName(const Response& response, std::string_view name, uint16_t qtype);

// ChainNames lists the names `name`'s CNAME chain in `response` passes through after `name`
// itself, in order (at most 16).
std::vector<std::string> ChainNames(const Response& response, std::string_view name);

// AllAddresses lists every A/AAAA address in the answer section, whoever owns it (rebinding
// protection judges them all: an unrelated record is still handed to the guest's resolver).
std::vector<IpAddress> AllAddresses(const Response& response);

}  // namespace msb::gateway::dns
