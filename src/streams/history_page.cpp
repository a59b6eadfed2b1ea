#include "redis_push/streams/history_page.hpp"

#include "redis_push/redis/argv.hpp"
#include "redis_push/streams/history_service.hpp"
#include "redis_push/streams/read_failure.hpp"
#include "redis_push/streams/stream_message.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace rpd::streams {

namespace {
constexpr std::string_view page_head = R"({"messages":[)";

// The page's tail after its messages, appended in place: a page body is
// built in one string, never copied to be finished.
void close_page(std::string& out, const std::optional<std::string>& next, bool end) {
    out.append(R"(],"next":)");
    if (next)
        out.append("\"").append(*next).append("\"");
    else
        out.append("null");
    out.append(end ? R"(,"end":true})" : R"(,"end":false})");
}
} // namespace

std::string render_page(std::string_view messages, const std::optional<std::string>& next,
                        bool end) {
    std::string out;
    out.reserve(messages.size() + 64);
    out.append(page_head).append(messages);
    close_page(out, next, end);
    return out;
}

history_page::history_page(history_service& service, std::string key, feed::sink& sink,
                           page_request req)
    : service_(service), key_(std::move(key)), sink_(&sink), req_(std::move(req)),
      body_(page_head) {}

void history_page::start() {
    if (service_.shutting_down())
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->end(feed::end_reason::shutting_down);
        });
    const auto& from = req_.range.from;
    // Only an ascending read from a given offset can have skipped trimmed
    // entries; XINFO goes out with the first XRANGE in one write, and its
    // reply comes first.
    if (req_.range.dir == direction::ascending && from && !from->is_zero())
        service_.commands().command(redis::argv{"XINFO", "STREAM", key_},
                                    [weak = weak_from_this()](const redis::reply& r) {
                                        if (auto self = weak.lock())
                                            self->on_info(r);
                                    });
    read_batch();
}

void history_page::read_batch() {
    const auto& s = service_.settings();
    const auto scan_left = s.max_scan - examined_;
    const auto wanted = req_.limit - matched_;
    // Unfiltered, every entry examined is a message: ask for exactly the
    // page. Filtered, how many entries a match costs is unknown.
    auto count = req_.where.empty() ? std::min(wanted, scan_left)
                                    : std::min(scan_left, std::max(wanted, s.scan_batch));
    // One more than the page may take: its presence is what `end:false` means.
    ++count;
    auto range = req_.range;
    if (cursor_)
        range.from = cursor_;
    auto args = range_command(key_, range, count);
    if (!args)
        return boost::asio::post(service_.io(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->finish(true);
        });
    service_.commands().command(*args, [weak = weak_from_this(), count](const redis::reply& r) {
        if (auto self = weak.lock())
            self->on_batch(r, count);
    });
}

bool history_page::failed(const redis::reply& r) {
    const auto failure = read_failure(r);
    if (failure)
        end(*failure);
    return failure.has_value();
}

void history_page::on_info(const redis::reply& r) {
    if (sink_ == nullptr || failed(r))
        return;
    if (r.type == redis::reply::kind::array) {
        if (const auto info = parse_stream_info(r))
            gap_ = is_gap(*req_.range.from, *info);
    } else if (r.type == redis::reply::kind::error && !r.value.starts_with("ERR no such key")) {
        end(feed::end_reason::unavailable);
    }
}

void history_page::on_batch(const redis::reply& r, std::size_t asked) {
    if (sink_ == nullptr || failed(r))
        return;
    if (r.type != redis::reply::kind::array)
        return end(feed::end_reason::unavailable);
    const auto max_scan = service_.settings().max_scan;
    bool more_left = false;
    std::size_t examined_here = 0;
    for (const auto e : r) {
        if (e.type != redis::reply::kind::array || e.size() != 2)
            continue;
        const auto id_text = e[0].value;
        const auto id = parse_stream_id(id_text);
        if (!id)
            continue;
        if (matched_ == req_.limit || examined_ == max_scan) {
            more_left = true;
            break;
        }
        ++examined_;
        ++examined_here;
        cursor_ = *id;
        last_examined_.emplace(id_text);
        if (!first_examined_)
            first_examined_.emplace(id_text);
        const auto fields = e[1];
        if (!matches(req_.where, fields))
            continue;
        if (matched_++ > 0)
            body_.push_back(',');
        append_message(body_, id_text, fields);
    }
    service_.tally().entries_examined += examined_here;
    if (more_left)
        return finish(false);
    // A short read: nothing is left in this direction.
    if (r.size() < asked)
        return finish(true);
    read_batch();
}

void history_page::finish(bool end) {
    if (sink_ == nullptr)
        return;
    const auto keep = shared_from_this();
    if (gap_ && first_examined_)
        sink_->gap(*first_examined_);
    if (sink_ == nullptr)
        return;
    service_.tally().messages_delivered += matched_;
    close_page(body_, last_examined_, end);
    std::exchange(sink_, nullptr)->ended(feed::end_reason::found, body_);
}

void history_page::end(feed::end_reason reason) {
    if (auto* s = std::exchange(sink_, nullptr))
        s->ended(reason, {});
}

} // namespace rpd::streams
