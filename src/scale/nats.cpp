#include "scale/nats.hpp"

#include <cmath>

namespace gw::scale {

namespace {

void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  const auto& handler = *static_cast<MessageHandler*>(closure);
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

void on_disconnected(natsConnection*, void* closure) {
  const auto* options = static_cast<const NatsConnection::Options*>(closure);
  if (options->on_disconnected) options->on_disconnected();
}

void on_reconnected(natsConnection*, void* closure) {
  const auto* options = static_cast<const NatsConnection::Options*>(closure);
  if (options->on_reconnected) options->on_reconnected();
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

Subscription::Subscription(natsSubscription* sub, std::unique_ptr<MessageHandler> handler)
    : sub_(sub), handler_(std::move(handler)) {}

Subscription::~Subscription() {
  if (sub_ == nullptr) return;
  // Draining waits for a callback in progress (and those pending) to return, so that the
  // handler outlives them; a connection that is down cannot drain: then just unsubscribe.
  if (natsSubscription_Drain(sub_) == NATS_OK) {
    natsSubscription_WaitForDrainCompletion(sub_, 2000);
  } else {
    natsSubscription_Unsubscribe(sub_);
  }
  natsSubscription_Destroy(sub_);
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
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, on_disconnected, &c->options_);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, on_reconnected, &c->options_);
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
  if (nc_ != nullptr) {
    natsConnection_FlushTimeout(nc_, 1000);
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
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

std::unique_ptr<Subscription> NatsConnection::subscribe(std::string_view subject,
                                                        MessageHandler handler,
                                                        std::string* error) {
  auto owned = std::make_unique<MessageHandler>(std::move(handler));
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
  auto owned = std::make_unique<MessageHandler>(std::move(handler));
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Ordered = true;
  options.Config.DeliverPolicy = js_DeliverNew;
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
