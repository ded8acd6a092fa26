// greekwire: the command-line entry point. Each subcommand lives in its own file.
#include <cstdio>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"greekwire: a WebSocket market-data and trading gateway for options venues"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "greekwire 0.1.0");
  gw::app::CommandRunner runner;
  gw::app::add_echo_command(app, runner);
  gw::app::add_bench_command(app, runner);
  gw::app::add_price_commands(app, runner);
  gw::app::add_keys_command(app, runner);
  gw::app::add_serve_command(app, runner);
  gw::app::add_call_command(app, runner);
  gw::app::add_tail_command(app, runner);
  gw::app::add_record_command(app, runner);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, whatever CLI11's own code.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return runner ? runner() : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greekwire: %s\n", e.what());
    return 1;
  }
}
