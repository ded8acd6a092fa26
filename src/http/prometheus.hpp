// Prometheus' text exposition format, for /metrics: one metric at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gw::http {

// Appends a metric's HELP and TYPE lines and its one sample, "name value".
inline void append_metric(std::string& out, std::string_view name, std::string_view type,
                          std::string_view help, std::uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace gw::http
