// `greekwire record URL CHANNEL... -o FILE`: writes every frame the connection receives, with
// its receive time, to a recording (greekwire/recording.hpp, docs/PROTOCOL.md "Recordings").
//
// The recording is made self-contained for `greekwire serve --replay`: before subscribing, it
// asks public/get_instruments for every currency the channels name, so that the answers (the
// contract specifications) are in the file ahead of the first market message. Frames are taken
// by the SDK's frame tap, before decoding, exactly as they came; the recorder only adds their
// kind. It stops at --duration, --count notifications, or SIGINT/SIGTERM, always closing the
// file cleanly; a recorder killed outright loses at most the last second (the writer flushes
// every second).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client_flags.hpp"
#include "commands.hpp"
#include "feed/patterns.hpp"
#include "greekwire/client.hpp"
#include "greekwire/recording.hpp"

namespace gw::app {
namespace {

struct RecordConfig {
  ClientFlags client;
  std::vector<std::string> channels;
  std::string output;
  double duration = 0;      // 0: until interrupted
  std::uint64_t count = 0;  // notifications; 0: until interrupted
};

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- the currencies the channels name -------------------------------------------------------

// Deribit's settlement currencies (public/get_instruments' `currency`).
bool known_currency(std::string_view name) {
  static constexpr std::string_view kCurrencies[] = {"BTC", "ETH", "USDC", "USDT", "EURR"};
  return std::find(std::begin(kCurrencies), std::end(kCurrencies), name) != std::end(kCurrencies);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// What one dot-separated part of a channel says about its currency: an instrument
// ("BTC-PERPETUAL"; linear "BTC_USDC-PERPETUAL" settles in USDC), an index ("btc_usd"), or a
// currency ("BTC", "eth"). A part that starts with a wildcard ("*", "*-PERPETUAL") may name
// every currency.
struct PartCurrency {
  std::string currency;
  bool every = false;
};

PartCurrency currency_of_part(std::string_view part) {
  if (part.empty()) return {};
  if (part.front() == '*' || part == "any") return {"", true};
  if (const std::size_t dash = part.find('-'); dash != std::string_view::npos) {
    std::string_view base = part.substr(0, dash);
    if (const std::size_t underscore = base.find('_'); underscore != std::string_view::npos) {
      base = base.substr(underscore + 1);
    }
    return {upper(base), false};
  }
  if (const std::size_t underscore = part.find('_'); underscore != std::string_view::npos) {
    const std::string base = upper(part.substr(0, underscore));  // index btc_usd
    return {known_currency(base) ? base : "", false};
  }
  const std::string name = upper(part);
  return {known_currency(name) ? name : "", false};
}

// The currencies to list instruments of, in the order first named; `every` when a channel's
// instrument is a bare wildcard (then public/get_currencies says which there are).
struct ChannelCurrencies {
  std::vector<std::string> named;
  bool every = false;
};

ChannelCurrencies currencies_of(const std::vector<std::string>& channels) {
  ChannelCurrencies out;
  for (const std::string& channel : channels) {
    std::string_view rest = channel;
    rest.remove_prefix(std::min(rest.find('.'), rest.size()));  // the channel's kind
    while (!rest.empty()) {
      rest.remove_prefix(1);
      const std::string_view part = rest.substr(0, rest.find('.'));
      rest.remove_prefix(part.size());
      const PartCurrency found = currency_of_part(part);
      out.every = out.every || found.every;
      if (!found.currency.empty() &&
          std::find(out.named.begin(), out.named.end(), found.currency) == out.named.end()) {
        out.named.push_back(found.currency);
      }
    }
  }
  return out;
}

// ---- wildcards ----------------------------------------------------------------------------

bool is_pattern(std::string_view channel) {
  return channel.find('*') != std::string_view::npos;
}

// The channels with `*` (feed/patterns.hpp: book, ticker, trades and price index channels);
// false with `error` for one that is not a pattern we can expand.
bool parse_patterns(const std::vector<std::string>& channels,
                    std::vector<feed::ChannelPattern>& out, std::string* error) {
  for (const std::string& channel : channels) {
    if (!is_pattern(channel)) continue;
    auto pattern = feed::parse_pattern(channel, error);
    if (!pattern) return false;
    out.push_back(std::move(*pattern));
  }
  return true;
}

// The channels to subscribe: the literal ones as given, then what the patterns match among
// the listed instruments.
std::vector<std::string> subscription_of(const std::vector<std::string>& channels,
                                         const std::vector<feed::ChannelPattern>& patterns,
                                         const std::vector<std::string>& instruments) {
  std::vector<std::string> out;
  for (const std::string& channel : channels) {
    if (!is_pattern(channel)) out.push_back(channel);
  }
  for (std::string& channel : feed::expand(patterns, instruments)) {
    if (std::find(out.begin(), out.end(), channel) == out.end()) out.push_back(std::move(channel));
  }
  return out;
}

// ---- the recorder ----------------------------------------------------------------------------

// Written by the connection's thread (the frame tap), read by the main thread.
class Recorder {
 public:
  Recorder(greekwire::Encoding encoding, std::uint64_t count)
      : classifier_(encoding), count_(count) {}

  greekwire::RecordingWriter& writer() { return writer_; }

  void on_frame(const greekwire::ReceivedFrame& frame) {
    if (finished_) return;  // --count reached, or the file failed
    const greekwire::FrameKind kind = classifier_.classify(frame.bytes, frame.binary);
    const greekwire::Status written =
        writer_.append({frame.received_ns / 1000, kind, frame.binary, frame.bytes, 0});
    if (!written) {
      failure_ = written.error().message;
      failed_ = true;
      finished_ = true;
      return;
    }
    ++frames_;
    bytes_ += frame.bytes.size();
    switch (kind) {
      case greekwire::FrameKind::notification:
        if (++notifications_ == count_) finished_ = true;
        break;
      case greekwire::FrameKind::response:
        ++responses_;
        break;
      case greekwire::FrameKind::other:
        ++others_;
        break;
    }
  }

  // On the connection's thread: the periodic flush for quiet moments (append() flushes when a
  // frame comes a second after the last write; this covers a second with no frame at all).
  void flush_if_due() {
    if (finished_ || !writer_.flush_due(wall_us())) return;
    if (const greekwire::Status flushed = writer_.flush(); !flushed) {
      failure_ = flushed.error().message;
      failed_ = true;
      finished_ = true;
    }
  }

  bool finished() const { return finished_; }
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }  // once the connection is closed

  std::string progress() const {
    return std::to_string(frames_.load()) + " messages (" + std::to_string(notifications_.load()) +
           " notifications, " + std::to_string(responses_.load()) + " responses, " +
           std::to_string(others_.load()) + " other), " + std::to_string(bytes_.load()) + " bytes";
  }

 private:
  greekwire::RecordingWriter writer_;
  greekwire::FrameClassifier classifier_;
  const std::uint64_t count_;
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> notifications_{0};
  std::atomic<std::uint64_t> responses_{0};
  std::atomic<std::uint64_t> others_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<bool> finished_{false};
  std::atomic<bool> failed_{false};
  std::string failure_;
};

void on_event(const greekwire::Event& event, std::atomic<int>& gave_up) {
  using greekwire::EventType;
  switch (event.type) {
    case EventType::connected:
    case EventType::authenticated:
    case EventType::ready:
      return;
    case EventType::gave_up:
      gave_up = event.error ? connect_exit_code(*event.error) : kExitError;
      [[fallthrough]];
    default:
      std::fprintf(stderr, "greekwire record: %s\n", event.describe().c_str());
  }
}

// The currencies public/get_currencies lists.
greekwire::Result<std::vector<std::string>> every_currency(greekwire::Client& client) {
  auto answer = client.call("public/get_currencies");
  if (!answer) return answer.error();
  std::vector<std::string> out;
  for (const greekwire::Value& row : answer->array()) {
    if (const std::string_view c = row["currency"].as_string(); !c.empty()) out.emplace_back(c);
  }
  return out;
}

// Lists the instruments of every currency the channels name: the answers go into the recording
// (through the tap) ahead of the market data. Returns the instruments' names.
greekwire::Result<std::vector<std::string>> list_instruments(
    greekwire::Client& client, const std::vector<std::string>& channels) {
  ChannelCurrencies currencies = currencies_of(channels);
  if (currencies.every) {
    auto all = every_currency(client);
    if (!all) return all.error();
    currencies.named = std::move(all.value());
  }
  if (currencies.named.empty()) {
    std::fprintf(stderr,
                 "greekwire record: the channels name no currency: the recording has no "
                 "instrument list (a replay lists no instruments)\n");
  }
  std::vector<std::string> names;
  for (const std::string& currency : currencies.named) {
    greekwire::Value params;
    params.set("currency", greekwire::Value(currency)).set("expired", greekwire::Value(false));
    auto rows = client.call("public/get_instruments", params.to_json());
    if (!rows) return rows.error();
    for (const greekwire::Value& row : rows->array()) {
      names.emplace_back(row["instrument_name"].as_string());
    }
  }
  return names;
}

// Waits for SIGINT/SIGTERM, --duration, the recorder's end (--count, a failed write) or the
// connection giving up; flushes the file every second meanwhile and shows the progress.
void wait_until_done(const RecordConfig& config, greekwire::Client& client, Recorder& recorder,
                     const std::atomic<int>& gave_up) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  auto next_progress = start + std::chrono::seconds(1);
  const timespec tick{0, 100'000'000};  // 100 ms
  while (!recorder.finished() && gave_up == 0) {
    const int signal_number = sigtimedwait(&set, nullptr, &tick);
    if (signal_number == SIGINT || signal_number == SIGTERM) return;
    const auto now = std::chrono::steady_clock::now();
    if (config.duration > 0 && now - start >= std::chrono::duration<double>(config.duration)) {
      return;
    }
    if (now >= next_progress) {
      next_progress += std::chrono::seconds(1);
      client.run_on_loop([&recorder](greekwire::Connection&) { recorder.flush_if_due(); });
      std::fprintf(stderr, "greekwire record: %s\n", recorder.progress().c_str());
    }
  }
}

int fail_and_remove(const RecordConfig& config, Recorder& recorder, int code) {
  (void)recorder.writer().close();
  ::unlink(config.output.c_str());
  return code;
}

int run_record(const RecordConfig& config) {
  std::string error;
  auto options = connection_options(config.client, "record", &error);
  if (!options) {
    std::fprintf(stderr, "greekwire record: %s\n", error.c_str());
    return kExitUsage;
  }
  std::vector<feed::ChannelPattern> patterns;
  if (!parse_patterns(config.channels, patterns, &error)) {
    std::fprintf(stderr, "greekwire record: %s\n", error.c_str());
    return kExitUsage;
  }
  Recorder recorder(options->encoding, config.count);
  greekwire::RecordingHeader header;
  header.encoding = options->encoding;
  header.start_us = wall_us();
  header.url = config.client.url;
  header.channels = config.channels;
  if (const greekwire::Status opened = recorder.writer().open(config.output, header); !opened) {
    std::fprintf(stderr, "greekwire record: %s\n", opened.error().message.c_str());
    return kExitUsage;
  }
  options->verify_checksums = false;  // no public/get_instrument per book: only what was asked
  options->frame_tap = [&recorder](const greekwire::ReceivedFrame& f) { recorder.on_frame(f); };

  block_termination_signals();  // before the client's thread starts: it inherits the mask
  std::atomic<int> gave_up{0};
  greekwire::Client client(*options);
  client.on_event([&gave_up](const greekwire::Event& e) { on_event(e, gave_up); });
  if (const greekwire::Status connected = client.connect(); !connected) {
    print_connect_error("record", connected.error());
    return fail_and_remove(config, recorder, connect_exit_code(connected.error()));
  }
  const auto instruments = list_instruments(client, config.channels);
  if (!instruments) {
    std::fprintf(stderr, "greekwire record: listing the instruments: %s\n",
                 instruments.error().describe().c_str());
    return fail_and_remove(config, recorder, kExitError);
  }
  const std::vector<std::string> channels =
      subscription_of(config.channels, patterns, instruments.value());
  if (channels.empty()) {
    std::fprintf(stderr, "greekwire record: the patterns match no instrument\n");
    return fail_and_remove(config, recorder, kExitError);
  }
  const auto subscribed = client.subscribe(channels, {});
  if (!subscribed || subscribed->empty()) {
    std::fprintf(stderr, "greekwire record: subscribe: %s\n",
                 subscribed ? "the server accepted none of the channels"
                            : subscribed.error().describe().c_str());
    return fail_and_remove(config, recorder, kExitError);
  }
  for (const std::string& channel : channels) {
    if (std::find(subscribed->begin(), subscribed->end(), channel) == subscribed->end()) {
      std::fprintf(stderr, "greekwire record: the server left out %s\n", channel.c_str());
    }
  }
  std::fprintf(stderr, "greekwire record: recording %zu channels (%zu instruments listed) to %s\n",
               subscribed->size(), instruments->size(), config.output.c_str());
  wait_until_done(config, client, recorder, gave_up);
  client.close();  // no frame reaches the tap after this
  const greekwire::Status closed = recorder.writer().close();
  std::fprintf(stderr, "greekwire record: %s; %s: %llu bytes\n", recorder.progress().c_str(),
               config.output.c_str(),
               static_cast<unsigned long long>(recorder.writer().file_bytes()));
  if (recorder.failed() || !closed) {
    std::fprintf(stderr, "greekwire record: %s\n",
                 recorder.failed() ? recorder.failure().c_str() : closed.error().message.c_str());
    return kExitError;
  }
  return gave_up;
}

}  // namespace

void add_record_command(CLI::App& app, CommandRunner& runner) {
  auto config = std::make_shared<RecordConfig>();
  CLI::App* record = app.add_subcommand(
      "record", "record every message received on channels to a file (for serve --replay)");
  add_client_flags(*record, config->client);
  record
      ->add_option("channels", config->channels,
                   "channels, e.g. book.BTC-PERPETUAL.raw deribit_price_index.btc_usd; book, "
                   "ticker, trades and index channels may have `*` in their instrument or index "
                   "(ticker.BTC-*.100ms), matched against the listed instruments")
      ->required();
  record->add_option("-o,--output", config->output, "the recording to write")->required();
  record->add_option("--duration", config->duration, "stop after this many seconds (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  record->add_option("--count", config->count, "stop after this many notifications (0: never)")
      ->capture_default_str();
  record->callback([config, &runner] { runner = [config] { return run_record(*config); }; });
}

}  // namespace gw::app
