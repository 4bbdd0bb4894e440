// SecretSpec validation and the CLI grammar of --secret and --on-secret-violation. Error messages
// name fields and hosts, never a value: a --secret argument with '=' in it is refused without
// repeating anything the user typed.
#include "secrets/secret_spec.h"

#include <algorithm>
#include <array>

#include "base/strings.h"

namespace msb::secrets {
namespace {

constexpr std::array<std::string_view, 4> kActionNames = {"block", "block-and-log",
                                                          "block-and-terminate", "passthrough"};

}  // namespace

std::string_view ViolationActionName(ViolationAction action) {
  switch (action) {
    case ViolationAction::kPassthrough:
      return "passthrough";
    case ViolationAction::kBlock:
      return "block";
    case ViolationAction::kBlockAndLog:
      return "block-and-log";
    case ViolationAction::kBlockAndTerminate:
      return "block-and-terminate";
  }
  return "block-and-log";
}

Result<ViolationAction> ParseViolationAction(std::string_view text) {
  if (text == "block" || text == "Block") {
    return ViolationAction::kBlock;
  }
  if (text == "block-and-log" || text == "BlockAndLog") {
    return ViolationAction::kBlockAndLog;
  }
  if (text == "block-and-terminate" || text == "BlockAndTerminate") {
    return ViolationAction::kBlockAndTerminate;
  }
  if (text == "passthrough" || text == "Passthrough") {
    return ViolationAction::kPassthrough;
  }
  std::string message = "unknown violation action \"" + std::string(text.substr(0, 64)) +
                        "\": expected block, block-and-log, block-and-terminate or passthrough";
  if (auto s = Suggest(text, kActionNames)) {
    message += " (did you mean " + std::string(*s) + "?)";
  }
  return Status::Error(message);
}

std::string DefaultPlaceholder(std::string_view env_var) {
  return "$MSB_" + std::string(env_var);
}

Status ValidateSpec(const SecretSpec& spec) {
  if (spec.env_var.empty()) {
    return Status::Error("env_var: empty");
  }
  if (spec.env_var.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
    return Status::Error("env_var: must not contain '=' or a NUL byte");
  }
  if (spec.placeholder.empty()) {
    return Status::Error("placeholder: empty");
  }
  if (spec.placeholder.size() > kMaxPlaceholderBytes) {
    return Status::Error("placeholder: longer than 1024 bytes");
  }
  if (spec.placeholder.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
    return Status::Error("placeholder: must not contain NUL, CR or LF");
  }
  if (spec.allowed_hosts.empty()) {
    return Status::Error("allowed_hosts: at least one host is required");
  }
  return Status::Ok();
}

Result<SecretSpec> ParseSecretFlag(std::string_view text) {
  if (text.find('=') != std::string_view::npos) {
    // Nothing of `text` goes into the message: what follows '=' is probably the value itself.
    return Status::Error(
        "--secret: a value must not appear on the command line (it would be visible in "
        "/proc/*/cmdline and shell history); export it in the environment variable and pass "
        "--secret ENV@HOST");
  }
  const size_t at = text.rfind('@');
  if (at == std::string_view::npos) {
    return Status::Error("--secret: expected ENV@HOST[,HOST...], found no '@'");
  }
  std::string_view env = text.substr(0, at);
  if (env.empty()) {
    return Status::Error(
        "--secret: the environment variable name before '@' is empty (expected "
        "ENV@HOST[,HOST...])");
  }
  if (env.find('\0') != std::string_view::npos) {
    return Status::Error("--secret: the environment variable name holds a NUL byte");
  }
  SecretSpec spec;
  spec.env_var = std::string(env);
  spec.placeholder = DefaultPlaceholder(env);
  spec.source.kind = SecretSource::Kind::kEnv;
  spec.source.name = spec.env_var;
  std::string_view hosts = text.substr(at + 1);
  while (!hosts.empty()) {
    const size_t comma = hosts.find(',');
    std::string_view host = TrimSpaceTab(hosts.substr(0, comma));
    hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
    if (host.empty()) {
      continue;
    }
    auto pattern = HostPattern::Parse(host, /*allow_any=*/true);
    if (!pattern.ok()) {
      return Status::Error("--secret " + spec.env_var + ": " + pattern.error());
    }
    if (std::find(spec.allowed_hosts.begin(), spec.allowed_hosts.end(), pattern.value()) ==
        spec.allowed_hosts.end()) {
      spec.allowed_hosts.push_back(std::move(pattern).value());
    }
  }
  if (spec.allowed_hosts.empty()) {
    return Status::Error("--secret " + spec.env_var + ": no host after '@' (expected --secret " +
                         spec.env_var + "@HOST[,HOST...])");
  }
  Status st = ValidateSpec(spec);
  if (!st.ok()) {
    return Status::Error("--secret " + spec.env_var + ": " + st.message());
  }
  return spec;
}

void AddOrMerge(SecretsConfig* config, SecretSpec spec) {
  for (SecretSpec& existing : config->specs) {
    if (existing.env_var == spec.env_var) {
      for (HostPattern& p : spec.allowed_hosts) {
        if (std::find(existing.allowed_hosts.begin(), existing.allowed_hosts.end(), p) ==
            existing.allowed_hosts.end()) {
          existing.allowed_hosts.push_back(std::move(p));
        }
      }
      return;
    }
  }
  config->specs.push_back(std::move(spec));
}

}  // namespace msb::secrets
