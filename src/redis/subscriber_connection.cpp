#include "redis_push/redis/subscriber_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/container/small_vector.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace rpd::redis {

namespace {
// Redis accepts far more, but one huge command would delay every other
// reply on the connection while the server works through it.
constexpr std::size_t max_channels_per_command = 1024;

std::string_view text_of(const redisReply* r) {
    if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS))
        return {};
    return {r->str, r->len};
}
} // namespace

// ---- subscription ---------------------------------------------------------

subscription::subscription(subscription&& other) noexcept
    : owner_(other.owner_), entry_(other.entry_), listener_(other.listener_) {
    other.owner_ = nullptr;
}

subscription& subscription::operator=(subscription&& other) noexcept {
    if (this != &other) {
        reset();
        owner_ = other.owner_;
        entry_ = other.entry_;
        listener_ = other.listener_;
        other.owner_ = nullptr;
    }
    return *this;
}

void subscription::reset() {
    if (owner_ == nullptr)
        return;
    auto* owner = owner_;
    owner_ = nullptr;
    owner->remove(entry_, listener_);
}

bool subscription::confirmed() const {
    return owner_ != nullptr && owner_->ready() &&
           entry_->server == channel_entry::server_state::confirmed;
}

// ---- subscriber_connection ------------------------------------------------

subscriber_connection::subscriber_connection(boost::asio::io_context& ioc, endpoint ep,
                                             std::string probe_channel)
    : ioc_(ioc), connection_(ioc, std::move(ep), "subscriber", connection::probe_kind::subscribe,
                             std::move(probe_channel),
                             connection::callbacks{[this] { on_ready(); }, [this] { on_lost(); }}) {
}

subscriber_connection::~subscriber_connection() {
    stop();
}

void subscriber_connection::stop() {
    connection_.stop();
}

subscription subscriber_connection::subscribe(std::string_view channel,
                                              channel_listener& listener) {
    auto it = channels_.find(channel);
    if (it == channels_.end()) {
        it = channels_.emplace(std::string(channel), channel_entry{}).first;
        it->second.name = &it->first;
    }
    channel_entry& entry = it->second;
    entry.listeners.push_back(&listener);
    if (entry.server == channel_entry::server_state::none)
        enqueue(&entry);
    return subscription(this, &entry, &listener);
}

void subscriber_connection::remove(channel_entry* entry, channel_listener* listener) {
    auto& ls = entry->listeners;
    ls.erase(std::remove(ls.begin(), ls.end(), listener), ls.end());
    if (ls.empty())
        enqueue(entry); // flush decides: unsubscribe, or just forget
}

void subscriber_connection::enqueue(channel_entry* entry) {
    if (entry->queued)
        return;
    entry->queued = true;
    queue_.push_back(entry);
    schedule_flush();
}

void subscriber_connection::schedule_flush() {
    if (flush_scheduled_ || !connection_.ready())
        return;
    flush_scheduled_ = true;
    boost::asio::post(ioc_, [this] {
        flush_scheduled_ = false;
        flush();
    });
}

void subscriber_connection::flush() {
    if (!connection_.ready())
        return; // on_ready() subscribes everything that is still wanted
    std::vector<const std::string*> to_subscribe;
    std::vector<const std::string*> to_unsubscribe;
    std::vector<std::string> erased_names; // keep names alive until sent
    for (channel_entry* entry : queue_) {
        entry->queued = false;
        const bool wanted = !entry->listeners.empty();
        if (wanted && entry->server == channel_entry::server_state::none) {
            entry->server = channel_entry::server_state::requested;
            to_subscribe.push_back(entry->name);
        } else if (!wanted) {
            if (entry->server != channel_entry::server_state::none)
                erased_names.push_back(*entry->name);
            channels_.erase(*entry->name);
        }
    }
    queue_.clear();
    for (const auto& name : erased_names)
        to_unsubscribe.push_back(&name);
    send_batch("UNSUBSCRIBE", to_unsubscribe);
    send_batch("SUBSCRIBE", to_subscribe);
}

void subscriber_connection::send_batch(const char* command,
                                       std::vector<const std::string*>& names) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (std::size_t start = 0; start < names.size(); start += max_channels_per_command) {
        const std::size_t end = std::min(names.size(), start + max_channels_per_command);
        argv.assign(1, command);
        lens.assign(1, std::strlen(command));
        for (std::size_t i = start; i < end; ++i) {
            argv.push_back(names[i]->data());
            lens.push_back(names[i]->size());
        }
        redisAsyncCommandArgv(connection_.context(), &subscriber_connection::on_reply_cb, this,
                              static_cast<int>(argv.size()), argv.data(), lens.data());
    }
}

void subscriber_connection::on_ready() {
    // A fresh connection knows no channel: subscribe everything still wanted.
    for (auto it = channels_.begin(); it != channels_.end();) {
        it->second.queued = false;
        if (it->second.listeners.empty()) {
            it = channels_.erase(it);
            continue;
        }
        it->second.server = channel_entry::server_state::none;
        ++it;
    }
    queue_.clear();
    for (auto& [name, entry] : channels_)
        enqueue(&entry);
    flush();
}

void subscriber_connection::on_lost() {
    for (auto& [name, entry] : channels_)
        entry.server = channel_entry::server_state::none;
}

void subscriber_connection::on_reply_cb(redisAsyncContext* /*ctx*/, void* reply, void* privdata) {
    // A null reply comes once per channel while hiredis tears a context down;
    // the loss itself is reported through the connection's on_lost.
    if (reply != nullptr)
        static_cast<subscriber_connection*>(privdata)->on_reply(static_cast<redisReply*>(reply));
}

void subscriber_connection::on_reply(const redisReply* r) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return;
    const std::string_view kind = text_of(r->element[0]);
    const std::string_view channel = text_of(r->element[1]);
    auto it = channels_.find(channel);
    if (it == channels_.end())
        return; // unsubscribed meanwhile
    channel_entry& entry = it->second;
    if (kind == "message") {
        ++messages_;
        const std::string_view payload = text_of(r->element[2]);
        // A listener may end its watch (and drop its share) while we iterate.
        boost::container::small_vector<channel_listener*, 4> snapshot(entry.listeners.begin(),
                                                                      entry.listeners.end());
        for (channel_listener* l : snapshot)
            if (std::find(entry.listeners.begin(), entry.listeners.end(), l) !=
                entry.listeners.end())
                l->on_message(payload);
    } else if (kind == "subscribe") {
        if (entry.server != channel_entry::server_state::requested)
            return;
        entry.server = channel_entry::server_state::confirmed;
        notify_subscribed(entry);
    }
}

void subscriber_connection::notify_subscribed(channel_entry& entry) {
    boost::container::small_vector<channel_listener*, 4> snapshot(entry.listeners.begin(),
                                                                  entry.listeners.end());
    for (channel_listener* l : snapshot)
        if (std::find(entry.listeners.begin(), entry.listeners.end(), l) != entry.listeners.end())
            l->on_subscribed();
}

} // namespace rpd::redis
