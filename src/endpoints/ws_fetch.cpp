#include "redis_push/endpoints/ws_fetch.hpp"

#include "redis_push/http/ws_stream_sink.hpp"

#include <nlohmann/json.hpp>

namespace rpd::endpoints {

namespace {
using json = nlohmann::json;

std::string frame(std::string_view type, std::string_view id) {
    std::string out = R"({"type":")";
    out.append(type).append(R"(","id":)").append(id).push_back('}');
    return out;
}

// A filter value that is not a string compares with the text a publish
// stores for it: its compact JSON.
std::optional<streams::filter_list> filters_of(const json& m) {
    streams::filter_list out;
    const auto it = m.find("where");
    if (it == m.end() || it->is_null())
        return out;
    if (!it->is_object())
        return std::nullopt;
    for (const auto& [field, value] : it->items())
        out.push_back({field, value.is_string()
                                  ? value.get<std::string>()
                                  : value.dump(-1, ' ', false, json::error_handler_t::replace)});
    return out;
}

// `after` (or the table's `from`): a stream id or 0, as in pages.
std::optional<std::optional<streams::stream_id>> after_of(const json& m) {
    const auto after = m.find("after");
    const auto from = m.find("from");
    if (after != m.end() && from != m.end())
        return std::nullopt;
    const auto it = after != m.end() ? after : from;
    if (it == m.end() || it->is_null())
        return std::optional<streams::stream_id>{};
    std::optional<streams::stream_id> id;
    if (it->is_string())
        id = streams::parse_stream_id(it->get<std::string>());
    else if (it->is_number_unsigned() && it->get<std::uint64_t>() == 0)
        id = streams::stream_id{};
    if (!id)
        return std::nullopt;
    if (id->is_zero())
        return std::optional<streams::stream_id>{};
    return id;
}
} // namespace

// Frames one fetch's feed; the fetch is flow-controlled, so nothing is
// buffered here.
class ws_fetches::row_sink final : public feed::sink {
public:
    row_sink(http::ws_output& out, std::string id, bool& ended)
        : out_(out), id_(std::move(id)), ended_(ended) {}

    void opened() override {}
    void event(std::string_view, std::string_view data, std::string_view) override {
        std::string f = R"({"type":"row","id":)";
        f.append(id_).append(R"(,"message":)").append(data).push_back('}');
        out_.send_text(f);
    }
    void ended(feed::end_reason reason, std::string_view) override {
        ended_ = true;
        if (reason == feed::end_reason::delivered)
            return out_.send_text(frame("end", id_));
        if (reason == feed::end_reason::timed_out)
            return out_.send_text(frame("timeout", id_));
        out_.send_text(http::ws_error_frame(feed::describe(reason).error_text, id_));
    }

private:
    http::ws_output& out_;
    std::string id_;
    bool& ended_;
};

ws_fetches::running_fetch::~running_fetch() {
    if (fetch)
        fetch->cancel();
}

ws_fetches::~ws_fetches() = default;

void ws_fetches::error(std::string_view text, const std::string& id) {
    out_.send_text(http::ws_error_frame(text, id));
}

bool ws_fetches::handle(std::string_view type, const json& m, const std::string& id) {
    // A fetch that ended by itself frees its place here, not from inside
    // its sink's call.
    std::erase_if(fetches_, [](const auto& entry) { return entry.second.ended; });
    if (type == "fetch")
        start(m, id);
    else if (type == "accepted")
        accepted(id);
    else if (type == "end")
        stop(id);
    else
        return false;
    return true;
}

void ws_fetches::start(const json& m, const std::string& id) {
    if (history_ == nullptr)
        return error("History mode is switched off", id);
    const auto stream = m.find("stream");
    if (stream == m.end() || !stream->is_string())
        return error("Invalid name", id);
    auto name = names_->resolve(stream->get<std::string>(), false);
    using kind = mode_names::result::kind;
    if (name.type != kind::ok)
        return error(name.type == kind::invalid_name ? "Invalid name" : "Invalid signature", id);
    const auto after = after_of(m);
    auto where = filters_of(m);
    // The id is how rows and acceptances find their fetch: it is required.
    if (id.empty() || !after || !where)
        return error("Invalid parameter", id);
    if (fetches_.contains(id))
        return error("already fetching", id);
    if (fetches_.size() >= max_fetches_)
        return error("Too many fetches", id);
    auto& f = fetches_[id];
    f.sink = std::make_unique<row_sink>(out_, id, f.ended);
    f.fetch = history_->fetch(name.name, *f.sink, {*after, std::move(*where)});
}

void ws_fetches::accepted(const std::string& id) {
    const auto it = fetches_.find(id);
    if (it == fetches_.end())
        return error("Unknown fetch", id);
    it->second.fetch->accept();
}

void ws_fetches::stop(const std::string& id) {
    const auto it = fetches_.find(id);
    if (it == fetches_.end())
        return error("Unknown fetch", id);
    fetches_.erase(it);
    out_.send_text(frame("end", id));
}

} // namespace rpd::endpoints
