#include "redis_push/tasks/message.hpp"

#include <nlohmann/json.hpp>

namespace rpd::tasks {

namespace {

using json = nlohmann::json;

// Reads only the top-level members the protocol cares about, without
// building a document: every message and every data value of a waiting
// watch passes through here, so no per-member allocation. Like a parsed
// document, a repeated key counts with its last value.
class top_level_reader final : public nlohmann::json_sax<json> {
public:
    bool is_object = false;
    bool status_is_string = false;
    std::string status;
    bool has_data = false; // present and not null
    bool src_is_string = false;
    std::string src;

    bool null() override { return scalar(value_kind::null); }
    bool boolean(bool) override { return scalar(value_kind::other); }
    bool number_integer(number_integer_t) override { return scalar(value_kind::other); }
    bool number_unsigned(number_unsigned_t) override { return scalar(value_kind::other); }
    bool number_float(number_float_t, const string_t&) override {
        return scalar(value_kind::other);
    }
    bool binary(binary_t&) override { return scalar(value_kind::other); }
    bool string(string_t& val) override {
        if (depth_ == 1) {
            if (member_ == member::status) {
                status_is_string = true;
                status = val;
            } else if (member_ == member::src) {
                src_is_string = true;
                src = val;
            }
        }
        return scalar(value_kind::string);
    }
    bool start_object(std::size_t) override {
        if (depth_ == 0)
            is_object = true;
        return open();
    }
    bool key(string_t& val) override {
        if (depth_ == 1) {
            if (val == "status")
                member_ = member::status;
            else if (val == "data")
                member_ = member::data;
            else if (val == "src")
                member_ = member::src;
            else
                member_ = member::other;
        }
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

private:
    enum class member { none, status, data, src, other };
    enum class value_kind { null, string, other };

    // A top-level member's value: record what it was.
    bool scalar(value_kind kind) {
        if (depth_ == 1)
            assign(kind);
        return true;
    }
    bool open() {
        if (depth_ == 1)
            assign(value_kind::other); // an object or array as a member's value
        ++depth_;
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }
    void assign(value_kind kind) {
        switch (member_) {
        case member::status:
            if (kind != value_kind::string)
                status_is_string = false;
            break;
        case member::src:
            if (kind != value_kind::string)
                src_is_string = false;
            break;
        case member::data:
            has_data = kind != value_kind::null;
            break;
        default:
            break;
        }
        member_ = member::none;
    }

    int depth_ = 0;
    member member_ = member::none;
};

bool read_top_level(std::string_view text, top_level_reader& reader) {
    // nlohmann's lexer takes a NUL byte for the end of its input, so
    // `{"status":"done"}\0junk` would pass; a raw NUL is never valid JSON.
    if (text.find('\0') != std::string_view::npos)
        return false;
    return json::sax_parse(text, &reader, json::input_format_t::json, /*strict=*/true);
}

} // namespace

channel_message classify_message(std::string_view payload) {
    channel_message m;
    top_level_reader r;
    if (!read_top_level(payload, r) || !r.is_object || !r.status_is_string)
        return m;
    if (r.status == "update" || r.status == "done") {
        m.type = r.has_data ? channel_message::kind::deliver : channel_message::kind::reread;
        m.done = r.status == "done";
    } else if (r.status == "kill") {
        m.type = channel_message::kind::kill;
        if (r.src_is_string) {
            m.has_src = true;
            m.src = std::move(r.src);
        }
    }
    return m;
}

value_info inspect_value(std::string_view value) {
    value_info info;
    top_level_reader r;
    if (!read_top_level(value, r))
        return info;
    info.valid_json = true;
    info.done = r.is_object && r.status_is_string && r.status == "done";
    return info;
}

std::string kill_message(std::string_view watch_uuid) {
    std::string m;
    m.reserve(32 + watch_uuid.size());
    m.append(R"({"status":"kill","src":")").append(watch_uuid).append(R"("})");
    return m;
}

} // namespace rpd::tasks
