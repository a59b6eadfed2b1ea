#include "redis_push/tasks/message.hpp"

#include <nlohmann/json.hpp>

namespace rpd::tasks {

using json = nlohmann::json;

channel_message classify_message(std::string_view payload) {
    channel_message m;
    const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object())
        return m;
    const auto status = doc.find("status");
    if (status == doc.end() || !status->is_string())
        return m;
    const auto& s = status->get_ref<const std::string&>();
    if (s == "update" || s == "done") {
        const auto data = doc.find("data");
        m.type = (data != doc.end() && !data->is_null()) ? channel_message::kind::deliver
                                                         : channel_message::kind::reread;
    } else if (s == "kill") {
        m.type = channel_message::kind::kill;
        const auto src = doc.find("src");
        if (src != doc.end() && src->is_string()) {
            m.has_src = true;
            m.src = src->get<std::string>();
        }
    }
    return m;
}

value_info inspect_value(std::string_view value) {
    value_info info;
    const json doc = json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded())
        return info;
    info.valid_json = true;
    if (doc.is_object()) {
        const auto status = doc.find("status");
        info.done = status != doc.end() && status->is_string() &&
                    status->get_ref<const std::string&>() == "done";
    }
    return info;
}

std::string kill_message(std::string_view watch_uuid) {
    std::string m;
    m.reserve(32 + watch_uuid.size());
    m.append(R"({"status":"kill","src":")").append(watch_uuid).append(R"("})");
    return m;
}

} // namespace rpd::tasks
