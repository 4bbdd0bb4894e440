// The `ports` section of the JSON network configuration, in microsandbox's wire format
// (docs/config.md): [{"host_port": 8080, "guest_port": 80, "protocol": "tcp", "host_bind":
// "127.0.0.1"}, ...]. Each piece is judged by publish_spec.h, the layer --publish uses too, so
// the file and the flag cannot disagree about what is a valid published port.
#include "policy/config.h"

namespace msb::policy {
namespace {

using config_internal::IndexPath;
using config_internal::IntegerField;
using config_internal::MemberPath;
using config_internal::PathError;
using config_internal::TypeError;

constexpr size_t kMaxPorts = 256;

Result<std::string_view> StringMember(const JsonValue& v, std::string_view path,
                                      std::string_view expected) {
  if (!v.is_string()) {
    return TypeError(path, expected, v);
  }
  return std::string_view(v.as_string());
}

Result<PublishedPort> ParsePortObject(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) {
    return TypeError(path, "an object", value);
  }
  PublishedPort port;
  bool host_port = false;
  bool guest_port = false;
  for (const auto& [key, member] : value.members()) {
    std::string member_path = MemberPath(path, key);
    if (member.is_null()) {
      continue;  // the wire format's "not set": the default
    }
    if (key == "host_port" || key == "guest_port") {
      auto n = IntegerField(member, member_path, 1, 65535);
      if (!n.ok()) {
        return n.status();
      }
      (key == "host_port" ? port.host_port : port.guest_port) = static_cast<uint16_t>(n.value());
      (key == "host_port" ? host_port : guest_port) = true;
    } else if (key == "protocol") {
      auto text = StringMember(member, member_path, "\"tcp\" or \"udp\"");
      if (!text.ok()) {
        return text.status();
      }
      auto p = ParsePublishProtocol(text.value());
      if (!p.ok()) {
        return PathError(member_path,
                         "unknown protocol " + QuoteForMessage(text.value()) + ": " + p.error());
      }
      port.protocol = p.value();
    } else if (key == "host_bind") {
      auto text = StringMember(member, member_path, "an IP address (string)");
      if (!text.ok()) {
        return text.status();
      }
      auto ip = ParsePublishBind(text.value());
      if (!ip.ok()) {
        return PathError(member_path, QuoteForMessage(text.value()) + " is " + ip.error());
      }
      port.host_bind = ip.value();
    } else {
      return config_internal::UnknownField(member_path, key,
                                           {"host_port", "guest_port", "protocol", "host_bind"});
    }
  }
  if (!host_port || !guest_port) {
    return PathError(path, std::string("missing \"") + (host_port ? "guest_port" : "host_port") +
                               "\" (1-65535)");
  }
  return port;
}

}  // namespace

namespace config_internal {

Result<std::vector<PublishedPort>> ParsePortsArray(const JsonValue& value, std::string_view path) {
  if (!value.is_array()) {
    return TypeError(path, "an array of port objects", value);
  }
  if (value.items().size() > kMaxPorts) {
    return PathError(path, std::to_string(value.items().size()) + " ports given; at most " +
                               std::to_string(kMaxPorts) + " are allowed");
  }
  std::vector<PublishedPort> ports;
  for (size_t i = 0; i < value.items().size(); ++i) {
    auto port = ParsePortObject(value.items()[i], IndexPath(path, i));
    if (!port.ok()) {
      return port.status();
    }
    ports.push_back(port.value());
  }
  if (auto conflict = FindPublishConflict(ports)) {
    auto [a, b] = *conflict;
    return PathError(IndexPath(path, b),
                     PublishConflictMessage(ports[a], ports[b]) + " at " + IndexPath(path, a));
  }
  return ports;
}

}  // namespace config_internal
}  // namespace msb::policy
