#include "config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "net/tcp.hpp"

namespace gw::app {
namespace {

// A key the file may set: its dotted name and what reads a value into the settings, returning
// what was expected when the value does not fit (empty: done).
struct Key {
  std::string name;
  std::function<std::string(const toml::node&)> read;
};

std::string range_text(double min, double max) {
  std::ostringstream out;
  out << "from " << min << " to " << max;
  return out.str();
}

template <class Int>
Key integer(std::string name, Int& target, std::int64_t min, std::int64_t max) {
  return {std::move(name), [&target, min, max](const toml::node& node) -> std::string {
            const auto* value = node.as_integer();
            if (value == nullptr || value->get() < min || value->get() > max) {
              return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
            }
            target = static_cast<Int>(value->get());
            return {};
          }};
}

// A real number; an integer is accepted ("speed = 2").
std::optional<double> number_of(const toml::node& node) {
  if (const auto* value = node.as_floating_point()) return value->get();
  if (const auto* value = node.as_integer()) return static_cast<double>(value->get());
  return std::nullopt;
}

Key real(std::string name, double& target, double min, double max) {
  return {std::move(name), [&target, min, max](const toml::node& node) -> std::string {
            const auto value = number_of(node);
            if (!value || !std::isfinite(*value) || *value < min || *value > max) {
              return "a number " + range_text(min, max);
            }
            target = *value;
            return {};
          }};
}

Key boolean(std::string name, bool& target) {
  return {std::move(name), [&target](const toml::node& node) -> std::string {
            const auto* value = node.as_boolean();
            if (value == nullptr) return "true or false";
            target = value->get();
            return {};
          }};
}

Key text(std::string name, std::string& target,
         std::function<std::string(std::string_view)> check) {
  return {std::move(name), [&target, check = std::move(check)](const toml::node& node) {
            const auto* value = node.as_string();
            if (value == nullptr) return std::string("a string");
            if (std::string why = check(value->get()); !why.empty()) return why;
            target = value->get();
            return std::string();
          }};
}

std::string non_empty(std::string_view value) {
  return value.empty() ? "a non-empty string" : "";
}

// A string, or an array of strings (the flags it stands for may be repeated).
Key strings(std::string name, std::vector<std::string>& target) {
  return {std::move(name), [&target](const toml::node& node) -> std::string {
            std::vector<std::string> values;
            if (const auto* one = node.as_string()) {
              values.push_back(one->get());
            } else if (const auto* many = node.as_array()) {
              for (const toml::node& element : *many) {
                const auto* value = element.as_string();
                if (value == nullptr) return "a string or an array of strings";
                values.push_back(value->get());
              }
            } else {
              return "a string or an array of strings";
            }
            target = std::move(values);
            return {};
          }};
}

std::optional<market::Currency> currency_named(std::string_view name) {
  if (name == "BTC") return market::Currency::BTC;
  if (name == "ETH") return market::Currency::ETH;
  return std::nullopt;
}

Key currencies(std::string name, std::vector<market::Currency>& target) {
  return {std::move(name), [&target](const toml::node& node) -> std::string {
            const char* expected =
                "a non-empty array of distinct currencies, \"BTC\" and/or \"ETH\"";
            const auto* array = node.as_array();
            if (array == nullptr || array->empty()) return expected;
            std::vector<market::Currency> values;
            for (const toml::node& element : *array) {
              const auto* value = element.as_string();
              const auto currency = value ? currency_named(value->get()) : std::nullopt;
              if (!currency || std::find(values.begin(), values.end(), *currency) != values.end()) {
                return expected;
              }
              values.push_back(*currency);
            }
            target = std::move(values);
            return {};
          }};
}

// { BTC = 10.0, ETH = 100.0 }: the currencies the venue trades, amounts ≥ 0.
Key balances(std::string name, std::vector<gateway::InitialBalance>& target) {
  return {std::move(name), [&target](const toml::node& node) -> std::string {
            const char* expected = "a table of BTC and/or ETH amounts, each from 0 to 1e9";
            const auto* table = node.as_table();
            if (table == nullptr) return expected;
            std::vector<gateway::InitialBalance> values;
            for (auto&& [currency, amount] : *table) {
              const auto value = number_of(amount);
              if (!currency_named(currency.str()) || !value || !(*value >= 0 && *value <= 1e9)) {
                return expected;
              }
              values.push_back({std::string(currency.str()), *value});
            }
            target = std::move(values);
            return {};
          }};
}

void add_pool(std::vector<Key>& keys, const std::string& name, gateway::CreditPool& pool) {
  keys.push_back(integer(name + ".cost", pool.cost, 1, 1'000'000'000));
  keys.push_back(integer(name + ".capacity", pool.capacity, 1, 1'000'000'000'000));
  keys.push_back(
      integer(name + ".refill_per_second", pool.refill_per_second, 1, 1'000'000'000'000));
}

void add_expiries(std::vector<Key>& keys, const std::string& name, market::ExpiryCounts& counts) {
  keys.push_back(integer(name + ".dailies", counts.dailies, 0, 7));
  keys.push_back(integer(name + ".weeklies", counts.weeklies, 0, 8));
  keys.push_back(integer(name + ".monthlies", counts.monthlies, 0, 12));
  keys.push_back(integer(name + ".quarterlies", counts.quarterlies, 0, 8));
}

// `min_index`: a price at which the strike ladder (steps from 1000 USD for BTC, 25 for ETH) still
// gives a chain of distinct strikes.
void add_currency(std::vector<Key>& keys, const std::string& name, sim::CurrencyConfig& c,
                  double min_index) {
  keys.push_back(real(name + ".index_price", c.index.initial_price, min_index, 1e8));
  keys.push_back(real(name + ".basis_rate", c.basis_rate, -1, 1));
  keys.push_back(real(name + ".perp_premium_stdev", c.perp_premium_stdev, 0, 0.1));
  keys.push_back(
      real(name + ".perp_premium_half_life_hours", c.perp_premium_half_life_hours, 0.01, 1e4));
  // Amounts below one lot trade one lot.
  keys.push_back(real(name + ".option_quote_amount", c.option_quote_amount, 0, 1e6));
  keys.push_back(real(name + ".future_quote_amount", c.future_quote_amount, 0, 1e10));
  keys.push_back(real(name + ".option_order_amount", c.option_order_amount, 0, 1e6));
  keys.push_back(real(name + ".future_order_amount", c.future_order_amount, 0, 1e10));
}

// Relay mode: [upstream] (the --upstream flags).
void add_upstream(std::vector<Key>& keys, UpstreamSettings& u) {
  keys.push_back(text("upstream.url", u.url, [](std::string_view value) -> std::string {
    return value.starts_with("ws://") || value.starts_with("wss://") ? "" : "a ws:// or wss:// URL";
  }));
  keys.push_back(strings("upstream.subscribe", u.subscribe));
  keys.push_back(text("upstream.auth", u.auth, [](std::string_view value) -> std::string {
    const std::size_t colon = value.find(':');
    const bool ok = colon != std::string_view::npos && colon > 0 && colon + 1 < value.size();
    return ok ? "" : "CLIENT_ID:CLIENT_SECRET";
  }));
  keys.push_back(text("upstream.encoding", u.encoding, [](std::string_view value) {
    return value == "json" || value == "msgpack" || value == "protobuf"
               ? ""
               : "\"json\", \"msgpack\" or \"protobuf\"";
  }));
  keys.push_back(text("upstream.tls_ca", u.tls.ca_file, non_empty));
  keys.push_back(boolean("upstream.tls_insecure", u.tls.insecure));
  keys.push_back(text("upstream.tls_cert", u.tls.certificate, non_empty));
  keys.push_back(text("upstream.tls_key", u.tls.key, non_empty));
  keys.push_back(real("upstream.relist_interval_s", u.relist_interval_s, 1, 86'400));
  keys.push_back(integer("upstream.heartbeat_s", u.heartbeat_s, 0, 3'600));
}

// Scale-out: [scale] (the --role, --nats, --venue-timeout and --stream-max-age flags).
void add_scale(std::vector<Key>& keys, ScaleSettings& scale) {
  keys.push_back(text("scale.role", scale.role, [](std::string_view value) {
    return value == "single" || value == "venue" || value == "edge"
               ? ""
               : "\"single\", \"venue\" or \"edge\"";
  }));
  keys.push_back(text("scale.nats", scale.nats, [](std::string_view value) -> std::string {
    return value.starts_with("nats://") ? "" : "a nats:// URL";
  }));
  keys.push_back(real("scale.venue_timeout_s", scale.venue_timeout_s, 0.1, 600));
  keys.push_back(real("scale.stream_max_age_s", scale.stream_max_age_s, 1, 31'536'000));
}

// Every key of the file, bound to the field it sets.
std::vector<Key> keys_of(ServeSettings& s) {
  gateway::GatewayConfig& g = s.gateway;
  sim::VenueConfig& v = g.venue;
  std::vector<Key> keys;
  // The flags.
  keys.push_back(text("listen", s.listen, [](std::string_view value) -> std::string {
    return net::parse_endpoint(value) ? "" : "host:port, e.g. \"127.0.0.1:8080\"";
  }));
  keys.push_back(text("data_dir", g.data_dir, non_empty));
  keys.push_back(text("web_root", g.web_root, non_empty));
  keys.push_back(integer("threads", g.threads, 1, 256));
  keys.push_back(integer("seed", v.seed, 0, std::numeric_limits<std::int64_t>::max()));
  keys.push_back(real("speed", v.speed, 0, 1e6));
  keys.push_back(boolean("deflate", g.deflate));
  keys.push_back(integer("max_connections_per_ip", g.max_connections_per_ip, 1, 1'000'000));
  keys.push_back(strings("tls.cert", s.tls.certificates));
  keys.push_back(strings("tls.key", s.tls.keys));
  keys.push_back(text("tls.client_ca", s.tls.client_ca, non_empty));
  keys.push_back(text("tls.client_cert", s.tls.client_certificates, [](std::string_view value) {
    return value == "optional" || value == "required" ? "" : "\"optional\" or \"required\"";
  }));
  keys.push_back(text("replay.file", s.replay.file, non_empty));
  keys.push_back(real("replay.delay_s", s.replay.delay_s, 0, 86'400));
  // What only had defaults.
  keys.push_back(integer("gateway.send_buffer_cap", g.send_buffer_cap, 64 << 10, 1LL << 30));
  keys.push_back(
      integer("gateway.send_buffer_hard_cap", g.send_buffer_hard_cap, 64 << 10, 1LL << 32));
  keys.push_back(real("gateway.slow_subscriber_timeout_s", g.slow_subscriber_timeout_s, 0.1, 1e6));
  keys.push_back(
      integer("gateway.max_channels_per_session", g.max_channels_per_session, 1, 1'000'000));
  keys.push_back(integer("gateway.heartbeat_min_s", g.heartbeat_min_s, 1, 86'400));
  keys.push_back(integer("gateway.heartbeat_max_s", g.heartbeat_max_s, 1, 86'400));
  keys.push_back(real("websocket.handshake_timeout_s", g.handshake_timeout_s, 0.1, 3'600));
  keys.push_back(real("websocket.idle_timeout_s", g.idle_timeout_s, 0, 86'400));
  keys.push_back(real("websocket.ping_interval_s", g.ping_interval_s, 0, 86'400));
  keys.push_back(real("websocket.close_timeout_s", g.close_timeout_s, 0.1, 600));
  keys.push_back(integer("websocket.max_message_size", g.max_message_size, 1 << 10, 1LL << 30));
  keys.push_back(text("demo.account", g.demo_account, [](std::string_view value) {
    return gateway::valid_account_name(value) ? "" : "1-64 characters of [A-Za-z0-9_.@-]";
  }));
  keys.push_back(balances("demo.balances", g.demo_balances));
  add_pool(keys, "rate_limits.non_matching", g.rate_limits.non_matching);
  add_pool(keys, "rate_limits.matching", g.rate_limits.matching);
  add_pool(keys, "rate_limits.subscribe", g.rate_limits.subscribe);
  keys.push_back(integer("audit.max_bytes", g.audit_max_bytes, 4 << 10, 1LL << 40));
  keys.push_back(integer("audit.keep_files", g.audit_keep_files, 0, 1'000));
  // The simulated market.
  keys.push_back(integer("venue.start_ms", v.start_ms, 0, 4'102'444'800'000));  // to 2100
  keys.push_back(currencies("venue.currencies", v.currencies));
  keys.push_back(integer("venue.index_interval_ms", v.index_interval_ms, 10, 60'000));
  keys.push_back(integer("venue.ticker_interval_ms", v.ticker_interval_ms, 100, 60'000));
  keys.push_back(integer("venue.surface_interval_ms", v.surface_interval_ms, 1'000, 3'600'000));
  keys.push_back(real("venue.chain_speedup", v.chain_speedup, 0.01, 10'000));
  keys.push_back(integer("venue.queue_capacity", v.queue_capacity, 1 << 10, 1 << 24));
  keys.push_back(integer("venue.command_capacity", v.command_capacity, 1 << 4, 1 << 20));
  keys.push_back(Key{"venue.full_queue_wait_us", [&v](const toml::node& node) -> std::string {
                       const auto* value = node.as_integer();
                       if (value == nullptr || value->get() < 0 || value->get() > 10'000'000) {
                         return "an integer from 0 to 10000000";
                       }
                       v.full_queue_wait = std::chrono::microseconds(value->get());
                       return {};
                     }});
  add_expiries(keys, "venue.option_expiries", v.option_expiries);
  add_expiries(keys, "venue.future_expiries", v.future_expiries);
  keys.push_back(real("venue.maker.option_half_spread_vol", v.maker.option_half_spread_vol, 0, 1));
  keys.push_back(real("venue.maker.future_half_spread", v.maker.future_half_spread, 0, 0.1));
  keys.push_back(real("venue.maker.refill_fraction", v.maker.refill_fraction, 0, 1));
  keys.push_back(real("venue.maker.size_jitter", v.maker.size_jitter, 0, 0.95));
  keys.push_back(real("venue.maker.deposit", v.maker.deposit, 1, 1e15));
  keys.push_back(real("venue.noise.k", v.noise.k, 0, 1'000));
  keys.push_back(real("venue.noise.alpha", v.noise.alpha, 0, 10));
  keys.push_back(real("venue.noise.mu", v.noise.mu, 0, 1'000));
  keys.push_back(integer("venue.noise.depth", v.noise.depth, 1, 10));
  keys.push_back(real("venue.noise.future_scale", v.noise.future_scale, 0, 1'000));
  keys.push_back(real("venue.noise.option_scale", v.noise.option_scale, 0, 1'000));
  keys.push_back(real("venue.noise.perpetual_weight", v.noise.perpetual_weight, 0, 1'000));
  keys.push_back(real("venue.noise.option_weight_floor", v.noise.option_weight_floor, 0, 10));
  keys.push_back(real("venue.noise.option_expiry_decay", v.noise.option_expiry_decay, 0, 1'000));
  keys.push_back(
      integer("venue.noise.accounts_per_instrument", v.noise.accounts_per_instrument, 1, 64));
  keys.push_back(real("venue.margin.futures_initial", v.margin.futures_initial, 1e-4, 1));
  keys.push_back(real("venue.margin.futures_maintenance", v.margin.futures_maintenance, 1e-4, 1));
  keys.push_back(real("venue.margin.option_short_base", v.margin.option_short_base, 0, 1));
  keys.push_back(real("venue.margin.option_short_floor", v.margin.option_short_floor, 0, 1));
  keys.push_back(
      real("venue.margin.option_short_maintenance", v.margin.option_short_maintenance, 0, 1));
  add_currency(keys, "venue.btc", v.btc, 10'000);
  add_currency(keys, "venue.eth", v.eth, 250);
  add_upstream(keys, s.upstream);
  add_scale(keys, s.scale);
  return keys;
}

std::string located(const std::string& file, std::uint32_t line, const std::string& message) {
  return file + ":" + std::to_string(line) + ": " + message;
}

// Reads a table's keys, descending into known sections, and collects every problem.
class Reader {
 public:
  Reader(const std::string& file, std::vector<Key>& keys) : file_(file) {
    for (Key& key : keys) {
      keys_.emplace(key.name, &key);
      // Every dotted prefix of a key is a section ("venue", "venue.maker").
      for (std::size_t dot = key.name.find('.'); dot != std::string::npos;
           dot = key.name.find('.', dot + 1)) {
        sections_.insert(key.name.substr(0, dot));
      }
    }
  }

  void read(const toml::table& table, const std::string& prefix) {
    for (auto&& [key, node] : table) {
      const std::string name =
          prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
      const std::uint32_t line = node.source().begin.line;
      if (const auto bound = keys_.find(name); bound != keys_.end()) {
        if (std::string expected = bound->second->read(node); !expected.empty()) {
          problems_.emplace(line, "'" + name + "' must be " + expected);
        }
        lines_[name] = line;
      } else if (!sections_.contains(name)) {
        problems_.emplace(key.source().begin.line, "unknown key '" + name + "'");
      } else if (const auto* section = node.as_table()) {
        read(*section, name);
      } else {
        problems_.emplace(line, "'" + name + "' must be a table");
      }
    }
  }

  void add_problem(std::uint32_t line, std::string message) {
    problems_.emplace(line, std::move(message));
  }
  // "FILE:LINE: ..." per problem, in the file's order (the table's own order is by key).
  std::string report() const {
    std::string out;
    for (const auto& [line, message] : problems_) {
      if (!out.empty()) out += '\n';
      out += located(file_, line, message);
    }
    return out;
  }
  // Where `name` was set (0: not in the file).
  std::uint32_t line_of(const std::string& name) const {
    const auto it = lines_.find(name);
    return it == lines_.end() ? 0 : it->second;
  }

 private:
  const std::string& file_;
  std::map<std::string, Key*> keys_;
  std::set<std::string> sections_;
  std::map<std::string, std::uint32_t> lines_;
  std::multimap<std::uint32_t, std::string> problems_;
};

// Rules across keys, reported at the later key of each pair as the file has it.
void check_together(const ServeSettings& s, Reader& reader) {
  const gateway::GatewayConfig& g = s.gateway;
  auto problem = [&](const std::string& a, const std::string& b, const std::string& message) {
    reader.add_problem(std::max(reader.line_of(a), reader.line_of(b)), message);
  };
  if (g.send_buffer_hard_cap < g.send_buffer_cap) {
    problem("gateway.send_buffer_cap", "gateway.send_buffer_hard_cap",
            "'gateway.send_buffer_hard_cap' must be at least 'gateway.send_buffer_cap'");
  }
  if (g.heartbeat_max_s < g.heartbeat_min_s) {
    problem("gateway.heartbeat_min_s", "gateway.heartbeat_max_s",
            "'gateway.heartbeat_max_s' must be at least 'gateway.heartbeat_min_s'");
  }
  const std::pair<const char*, const gateway::CreditPool*> pools[] = {
      {"rate_limits.non_matching", &g.rate_limits.non_matching},
      {"rate_limits.matching", &g.rate_limits.matching},
      {"rate_limits.subscribe", &g.rate_limits.subscribe}};
  for (const auto& [name, pool] : pools) {
    if (pool->capacity < pool->cost) {
      const std::string prefix(name);
      problem(prefix + ".cost", prefix + ".capacity",
              "'" + prefix + ".capacity' must be at least its cost, or no request passes");
    }
  }
  if (g.venue.margin.futures_maintenance > g.venue.margin.futures_initial) {
    problem("venue.margin.futures_initial", "venue.margin.futures_maintenance",
            "'venue.margin.futures_maintenance' must not exceed 'venue.margin.futures_initial'");
  }
}

}  // namespace

bool load_config_text(std::string_view text, const std::string& name, ServeSettings& settings,
                      std::string* error) {
  toml::table table;
  try {
    table = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    *error = located(name, e.source().begin.line, std::string(e.description()));
    return false;
  }
  // Read into a copy: a file with a mistake changes nothing.
  ServeSettings candidate = settings;
  std::vector<Key> keys = keys_of(candidate);
  Reader reader(name, keys);
  reader.read(table, "");
  if (reader.report().empty()) check_together(candidate, reader);
  *error = reader.report();
  if (!error->empty()) return false;
  settings = std::move(candidate);
  return true;
}

bool load_config(const std::string& path, ServeSettings& settings, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot read the file";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_config_text(text.str(), path, settings, error);
}

}  // namespace gw::app
