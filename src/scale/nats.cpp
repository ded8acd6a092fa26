#include "scale/nats.hpp"

#include <cmath>

namespace gw::scale {

struct Subscription::State {
  MessageHandler handler;
  std::mutex mutex;
  std::condition_variable done;
  bool complete = false;
};

struct NatsConnection::Events {
  std::mutex mutex;
  std::condition_variable done;
  bool closed = false;  // libnats called its last callback
  bool muted = false;   // the owner is going: no more user callbacks
  std::function<void()> on_disconnected, on_reconnected;

  void call(std::function<void()> Events::*which) {
    std::function<void()> f;
    {
      std::lock_guard lock(mutex);
      if (muted) return;
      f = this->*which;
    }
    if (f) f();
  }
};

namespace {

// How long a destructor waits for libnats' last callback before it leaves the state behind (a
// leak rather than a use after free).
constexpr auto kCallbackWait = std::chrono::seconds(5);

void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  const auto& handler = static_cast<Subscription::State*>(closure)->handler;
  NatsMessage m;
  const char* subject = natsMsg_GetSubject(msg);
  const char* reply = natsMsg_GetReply(msg);
  m.subject = subject != nullptr ? subject : "";
  m.reply = reply != nullptr ? reply : "";
  const char* data = natsMsg_GetData(msg);
  m.data = std::string_view(data != nullptr ? data : "",
                            static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  m.no_responders = natsMsg_IsNoResponders(msg);
  jsMsgMetaData* meta = nullptr;
  if (!m.reply.empty() && m.reply.starts_with("$JS.ACK.") &&
      natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    m.stream_sequence = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
  }
  handler(m);
  natsMsg_Destroy(msg);
}

void on_complete(void* closure) {
  auto* state = static_cast<Subscription::State*>(closure);
  std::lock_guard lock(state->mutex);
  state->complete = true;
  state->done.notify_all();
}

void on_disconnected(natsConnection*, void* closure) {
  static_cast<NatsConnection::Events*>(closure)->call(&NatsConnection::Events::on_disconnected);
}

void on_reconnected(natsConnection*, void* closure) {
  static_cast<NatsConnection::Events*>(closure)->call(&NatsConnection::Events::on_reconnected);
}

void on_closed(natsConnection*, void* closure) {
  auto* events = static_cast<NatsConnection::Events*>(closure);
  std::lock_guard lock(events->mutex);
  events->closed = true;
  events->done.notify_all();
}

std::int64_t to_ms(double seconds) {
  return static_cast<std::int64_t>(std::llround(seconds * 1000));
}

}  // namespace

std::string market_subject(std::string_view currency, std::string_view kind) {
  std::string subject = "gw.md.";
  subject += currency;
  subject += '.';
  subject += kind;
  return subject;
}

std::string nats_error(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail != nullptr && *detail != '\0') {
    text += ": ";
    text += detail;
  }
  return text;
}

Subscription::Subscription(natsSubscription* sub, std::unique_ptr<State> state)
    : sub_(sub), state_(std::move(state)) {
  // Without the callback (a closed subscription) there is nothing to wait for.
  if (natsSubscription_SetOnCompleteCB(sub_, on_complete, state_.get()) != NATS_OK) {
    state_->complete = true;
  }
}

Subscription::~Subscription() {
  if (sub_ == nullptr) return;
  natsSubscription_Unsubscribe(sub_);
  bool complete = false;
  {
    std::unique_lock lock(state_->mutex);
    complete = state_->done.wait_for(lock, kCallbackWait, [this] { return state_->complete; });
  }
  natsSubscription_Destroy(sub_);
  if (!complete) state_.release();  // libnats may still call the handler: keep it
}

NatsConnection::NatsConnection(Options options)
    : options_(std::move(options)), events_(std::make_unique<Events>()) {
  events_->on_disconnected = options_.on_disconnected;
  events_->on_reconnected = options_.on_reconnected;
}

std::unique_ptr<NatsConnection> NatsConnection::connect(Options options, std::string* error) {
  std::unique_ptr<NatsConnection> c(new NatsConnection(std::move(options)));
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, c->options_.url.c_str());
  if (s == NATS_OK && !c->options_.name.empty())
    s = natsOptions_SetName(opts, c->options_.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, to_ms(c->options_.connect_timeout_s));
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(opts, c->options_.reconnect_buffer_bytes);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, on_disconnected, c->events_.get());
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, on_reconnected, c->events_.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, on_closed, c->events_.get());
  if (s == NATS_OK) s = natsConnection_Connect(&c->nc_, opts);
  natsOptions_Destroy(opts);
  if (s == NATS_OK) s = natsConnection_JetStream(&c->js_, c->nc_, nullptr);
  if (s != NATS_OK) {
    *error = "cannot connect to " + c->options_.url + ": " + nats_error(s);
    return nullptr;
  }
  return c;
}

NatsConnection::~NatsConnection() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  {
    std::lock_guard lock(events_->mutex);
    events_->muted = true;
  }
  if (nc_ == nullptr) return;
  natsConnection_FlushTimeout(nc_, 1000);
  natsConnection_Close(nc_);
  bool closed = false;
  {
    std::unique_lock lock(events_->mutex);
    closed = events_->done.wait_for(lock, kCallbackWait, [this] { return events_->closed; });
  }
  natsConnection_Destroy(nc_);
  if (!closed) events_.release();  // libnats may still call back: keep what it would touch
}

bool NatsConnection::connected() const {
  return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

bool NatsConnection::publish(std::string_view subject, std::string_view data) {
  const std::string s(subject);
  return natsConnection_Publish(nc_, s.c_str(), data.data(), static_cast<int>(data.size())) ==
         NATS_OK;
}

bool NatsConnection::publish_request(std::string_view subject, std::string_view reply,
                                     std::string_view data) {
  const std::string s(subject), r(reply);
  return natsConnection_PublishRequest(nc_, s.c_str(), r.c_str(), data.data(),
                                       static_cast<int>(data.size())) == NATS_OK;
}

bool NatsConnection::request(std::string_view subject, std::string_view data, double timeout_s,
                             std::string& answer, std::string* error) {
  const std::string s(subject);
  natsMsg* reply = nullptr;
  const natsStatus status = natsConnection_Request(&reply, nc_, s.c_str(), data.data(),
                                                   static_cast<int>(data.size()), to_ms(timeout_s));
  if (status != NATS_OK) {
    *error = s + ": " +
             (status == NATS_NO_RESPONDERS ? std::string("no venue is answering")
              : status == NATS_TIMEOUT     ? std::string("the venue did not answer in time")
                                           : nats_error(status));
    return false;
  }
  const char* bytes = natsMsg_GetData(reply);
  answer.assign(bytes != nullptr ? bytes : "",
                static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return true;
}

bool NatsConnection::request_all(std::string_view subject, const std::vector<std::string>& requests,
                                 double timeout_s, std::vector<std::optional<std::string>>& answers,
                                 std::string* error) {
  answers.assign(requests.size(), std::nullopt);
  std::mutex mutex;
  std::condition_variable ready;
  std::size_t answered = 0;
  bool no_responders = false;
  const std::string inbox = new_inbox();
  auto sub = subscribe(
      inbox + ".*",
      [&](const NatsMessage& m) {
        std::size_t i = 0;
        for (const char c : m.subject.substr(m.subject.rfind('.') + 1)) {
          i = i * 10 + static_cast<std::size_t>(c - '0');
        }
        std::lock_guard lock(mutex);
        if (i >= answers.size() || answers[i]) return;
        if (m.no_responders) {
          no_responders = true;
        } else {
          answers[i] = std::string(m.data);
        }
        ++answered;
        ready.notify_all();
      },
      error);
  if (!sub) return false;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!publish_request(subject, inbox + "." + std::to_string(i), requests[i])) {
      *error = std::string(subject) + ": the NATS client refused the requests";
      return false;
    }
  }
  natsConnection_Flush(nc_);
  std::unique_lock lock(mutex);
  ready.wait_for(lock, std::chrono::duration<double>(timeout_s),
                 [&] { return answered == requests.size() || no_responders; });
  if (no_responders) {
    *error = std::string(subject) + ": no venue is answering";
    return false;
  }
  lock.unlock();
  sub.reset();  // waits for a handler still running: the captures outlive it
  return true;
}

std::unique_ptr<Subscription> NatsConnection::subscribe(std::string_view subject,
                                                        MessageHandler handler,
                                                        std::string* error) {
  auto owned = std::make_unique<Subscription::State>();
  owned->handler = std::move(handler);
  natsSubscription* sub = nullptr;
  const std::string s(subject);
  const natsStatus status = natsConnection_Subscribe(&sub, nc_, s.c_str(), on_message, owned.get());
  if (status != NATS_OK) {
    *error = "subscribe " + s + ": " + nats_error(status);
    return nullptr;
  }
  // A subscriber that falls this far behind loses messages (and the stream's checks notice).
  natsSubscription_SetPendingLimits(sub, 1 << 20, 1 << 30);
  return std::make_unique<Subscription>(sub, std::move(owned));
}

bool NatsConnection::ensure_stream(double max_age_s, std::int64_t max_bytes, std::string* error) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const std::string name(kStreamName);
  const std::string subjects(kMarketSubjects);
  const char* subject_list[] = {subjects.c_str()};
  config.Name = name.c_str();
  config.Subjects = subject_list;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_LimitsPolicy;
  config.Discard = js_DiscardOld;
  config.MaxAge = static_cast<std::int64_t>(max_age_s * 1e9);
  config.MaxBytes = max_bytes;
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus status = js_AddStream(&info, js_, &config, nullptr, &code);
  if (status != NATS_OK && code == JSStreamNameExistErr) {
    status = js_UpdateStream(&info, js_, &config, nullptr, &code);
  }
  if (info != nullptr) jsStreamInfo_Destroy(info);
  if (status != NATS_OK) {
    *error = "JetStream stream " + name + ": " + nats_error(status) +
             " (is JetStream enabled? nats-server -js)";
    return false;
  }
  return true;
}

std::unique_ptr<Subscription> NatsConnection::subscribe_stream(std::string_view subject,
                                                               MessageHandler handler,
                                                               std::string* error) {
  auto owned = std::make_unique<Subscription::State>();
  owned->handler = std::move(handler);
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Config.DeliverPolicy = js_DeliverNew;
  options.Config.AckPolicy = js_AckNone;
  options.ManualAck = true;  // no acks at all (AckNone): nothing for the library to send
  const std::string s(subject);
  const std::string stream(kStreamName);
  options.Stream = stream.c_str();
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus status =
      js_Subscribe(&sub, js_, s.c_str(), on_message, owned.get(), nullptr, &options, &code);
  if (status != NATS_OK) {
    *error = "JetStream subscribe " + s + ": " + nats_error(status);
    return nullptr;
  }
  natsSubscription_SetPendingLimits(sub, 1 << 20, 1 << 30);
  return std::make_unique<Subscription>(sub, std::move(owned));
}

std::string NatsConnection::new_inbox() const {
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) return "_INBOX.greekwire";
  std::string text(inbox);
  natsInbox_Destroy(inbox);
  return text;
}

}  // namespace gw::scale
