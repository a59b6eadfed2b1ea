#pragma once

#include "redis_push/feed/feed.hpp"
#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/history_query.hpp"
#include "redis_push/streams/stream_info.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace rpd::streams {

class history_service;

// One history page's question (MODES.md 3, 6).
struct page_request {
    history_range range;
    filter_list where;
    std::size_t limit = 100;
};

// `{"messages":[<rendered>,...],"next":"<offset>"|null,"end":true|false}`;
// `messages` is the messages' JSON already joined with commas.
std::string render_page(std::string_view messages, const std::optional<std::string>& next,
                        bool end);

// Reads one page, a feed that ends once: gap() when an ascending `after`
// was trimmed away, then ended(found, <page JSON>); or ended(unavailable,
// wrong_type, shutting_down). Entries are read in batches (XRANGE /
// XREVRANGE with COUNT), at most max_scan examined; one entry beyond the
// page is looked at to tell `end`, never returned.
class history_page final : public feed::source, public std::enable_shared_from_this<history_page> {
public:
    history_page(history_service& service, std::string key, feed::sink& sink, page_request req);
    void start();
    void cancel() noexcept override { sink_ = nullptr; }

private:
    void read_batch();
    void on_info(const redis::reply& r);
    void on_batch(const redis::reply& r, std::size_t asked);
    bool failed(const redis::reply& r);
    void finish(bool end);
    void end(feed::end_reason reason);

    history_service& service_;
    std::string key_;
    feed::sink* sink_; // null once ended or cancelled
    page_request req_;
    std::string body_; // the page's JSON, messages appended as they match
    std::size_t matched_ = 0;
    std::size_t examined_ = 0;
    std::optional<stream_id> cursor_; // the last entry examined
    std::optional<std::string> first_examined_;
    std::optional<std::string> last_examined_;
    bool gap_ = false;
};

} // namespace rpd::streams
