// What the examples share and is not about the SDK: arguments, numbers, and waiting for Ctrl-C.
#pragma once

#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "greekwire/options.hpp"

namespace example {

struct Args {
  std::vector<std::string_view> positional;
  std::map<std::string_view, std::string_view> flags;  // "--name" -> value

  std::optional<std::string_view> flag(std::string_view name) const {
    const auto found = flags.find(name);
    if (found == flags.end()) return std::nullopt;
    return found->second;
  }
};

// Splits argv into positional arguments and "--name value" flags. nullopt for a flag not in
// `known` or one without its value: the caller prints its usage.
inline std::optional<Args> parse_args(int argc, char** argv,
                                      std::initializer_list<std::string_view> known) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (!word.starts_with("--")) {
      args.positional.push_back(word);
      continue;
    }
    bool is_known = false;
    for (const std::string_view name : known) is_known = is_known || name == word;
    if (!is_known || i + 1 == argc) return std::nullopt;
    args.flags[word] = argv[++i];
  }
  return args;
}

inline bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "-h" || word == "--help") return true;
  }
  return false;
}

// The whole text as a number, nothing else ("12abc" is not 12).
inline std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

inline std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "CLIENT_ID:CLIENT_SECRET", both parts non-empty.
inline std::optional<greekwire::Credentials> parse_credentials(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return std::nullopt;
  }
  return greekwire::Credentials{
      std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)), {}};
}

// A price or an amount as the shortest text without an exponent that reads back as the same
// double (100001.5 and 0.0001, not printf's 100002 or 100001.500000 or 1e-04).
inline std::string number(double value) {
  char text[400];  // fixed notation: up to 309 integer digits
  const auto [end, error] =
      std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  return error == std::errc{} ? std::string(text, end) : std::string("?");
}

// SIGINT and SIGTERM are blocked in this thread and in the threads it starts afterwards (call it
// before creating a greekwire::Client), so that wait_for() takes them and the program ends
// cleanly, closing its connection, instead of being killed in the middle of a callback.
inline void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

enum class Wake { done, signal, timeout };

// Waits until `done` turns true, SIGINT/SIGTERM arrives, or `seconds` pass (<= 0: no limit).
inline Wake wait_for(const std::atomic<bool>& done, double seconds = 0) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const timespec tick{0, 50'000'000};  // 50 ms: how late `done` may be noticed
  while (!done) {
    if (sigtimedwait(&set, nullptr, &tick) > 0) return Wake::signal;
    if (seconds > 0 && std::chrono::steady_clock::now() >= deadline) return Wake::timeout;
  }
  return Wake::done;
}

}  // namespace example
