// The `greekwire` subcommands. Each registers its options with CLI11 and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace gw::app {

// Registers a subcommand; `run` receives the parsed options and returns the process exit code.
using CommandRunner = std::function<int()>;

void add_echo_command(CLI::App& app, CommandRunner& runner);
void add_bench_command(CLI::App& app, CommandRunner& runner);
void add_price_commands(CLI::App& app, CommandRunner& runner);
void add_keys_command(CLI::App& app, CommandRunner& runner);
void add_serve_command(CLI::App& app, CommandRunner& runner);
void add_call_command(CLI::App& app, CommandRunner& runner);
void add_tail_command(CLI::App& app, CommandRunner& runner);
void add_record_command(CLI::App& app, CommandRunner& runner);

// Blocks SIGINT, SIGTERM, SIGHUP (and ignores SIGPIPE) in this thread and all threads it
// starts, so that wait_for_termination() can receive them synchronously.
void block_termination_signals();
// Writes to a peer that vanished must fail with EPIPE, not kill the process.
void ignore_broken_pipes();
// Waits for SIGINT or SIGTERM; returns the signal number. SIGHUP calls `on_reload` (if any)
// and keeps waiting.
int wait_for_termination(const std::function<void()>& on_reload = {});

}  // namespace gw::app
