// AuditLog: JSON-lines records written with one write(2) per event.
#include "gateway/core/audit_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/clock.h"

namespace msb::gateway {

AuditRecord::AuditRecord(std::string_view event, std::string_view timestamp) {
  json_.Int("v", kAuditSchemaVersion);
  if (timestamp.empty()) {
    json_.Str("ts", WallClockIso8601());
  } else {
    json_.Str("ts", timestamp);
  }
  json_.Str("event", event);
}

AuditRecord& AuditRecord::Flow(const AuditFlow& flow) {
  json_.Uint("flow", flow.id)
      .Str("proto", flow.proto)
      .Str("src", flow.src.ToString())
      .Str("dst", flow.dst.ToString());
  return *this;
}

void AddRuleFields(JsonWriter& json, const policy::Policy& policy, const policy::Decision& decision,
                   std::string_view no_rule_text) {
  if (decision.rule_index) {
    json.Uint("rule", *decision.rule_index)
        .Str("rule_text", policy::RuleToString(policy.rules[*decision.rule_index]));
  } else {
    json.Null("rule").Str("rule_text", no_rule_text);
  }
}

AuditRecord FlowCloseRecord(const AuditFlow& flow, std::string_view reason, uint64_t bytes_up,
                            uint64_t bytes_down, int64_t duration_ms) {
  AuditRecord rec("flow.close");
  rec.Flow(flow)
      .json()
      .Str("reason", reason)
      .Uint("bytes_up", bytes_up)
      .Uint("bytes_down", bytes_down)
      .Int("duration_ms", duration_ms);
  return rec;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  if (path.empty()) {
    return std::unique_ptr<AuditLog>(new AuditLog(-1, false));
  }
  if (path == "-") {
    return std::unique_ptr<AuditLog>(new AuditLog(STDOUT_FILENO, false));
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Error("cannot open audit log \"" + path + "\": " + strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, true));
}

AuditLog::~AuditLog() {
  if (owned_ && fd_ >= 0) {
    close(fd_);
  }
}

void AuditLog::Emit(AuditRecord&& record) {
  if (fd_ < 0) {
    return;
  }
  EmitLine(std::move(record).Finish());
}

void AuditLog::EmitLine(std::string line) {
  if (fd_ < 0) {
    return;
  }
  line.push_back('\n');
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (write_errors_++ == 0) {
        spdlog::error("audit log write failed: {}", strerror(errno));
      }
      return;
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace msb::gateway
