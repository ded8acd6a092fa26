// `greekwire call URL METHOD ['{json params}']`: one JSON-RPC request through the SDK, the
// result pretty-printed on stdout; on failure the error on stderr and a non-zero exit
// (client_flags.hpp).
#include <cstdio>
#include <memory>
#include <string>

#include "client_flags.hpp"
#include "commands.hpp"
#include "greekwire/client.hpp"

namespace gw::app {
namespace {

struct CallConfig {
  ClientFlags client;
  std::string method;
  std::string params;
};

int run_call(const CallConfig& config) {
  std::string error;
  auto options = connection_options(config.client, "call", &error);
  if (!options) {
    std::fprintf(stderr, "greekwire call: %s\n", error.c_str());
    return kExitUsage;
  }
  if (!config.params.empty()) {
    const auto params = greekwire::Value::parse_json(config.params, &error);
    if (!params || !params->is_object()) {
      std::fprintf(stderr,
                   "greekwire call: params must be a JSON object, e.g. "
                   "'{\"currency\":\"BTC\"}'%s%s\n",
                   error.empty() ? "" : ": ", error.c_str());
      return kExitUsage;
    }
  }
  ignore_broken_pipes();
  options->reconnect.enabled = false;  // one request: a dropped connection is a failure
  greekwire::Client client(*options);
  if (const greekwire::Status connected = client.connect(); !connected) {
    print_connect_error("call", connected.error());
    return connect_exit_code(connected.error());
  }
  const auto result = client.call(config.method, config.params);
  if (!result) {
    std::fprintf(stderr, "greekwire call: %s: %s\n", config.method.c_str(),
                 result.error().describe().c_str());
    return kExitError;
  }
  const std::string text = result.value().to_json(true);
  std::printf("%s\n", text.c_str());
  return 0;
}

}  // namespace

void add_call_command(CLI::App& app, CommandRunner& runner) {
  auto config = std::make_shared<CallConfig>();
  CLI::App* call =
      app.add_subcommand("call",
                         "send one JSON-RPC request and print its result (exit 1: an error answer, "
                         "2: usage, 3: could not connect)");
  add_client_flags(*call, config->client);
  call->add_option("method", config->method, "e.g. public/get_time, private/get_positions")
      ->required();
  call->add_option("params", config->params, "the params, a JSON object (default: none)");
  call->callback([config, &runner] { runner = [config] { return run_call(*config); }; });
}

}  // namespace gw::app
