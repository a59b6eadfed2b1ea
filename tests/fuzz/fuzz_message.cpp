// libFuzzer target: tasks::classify_message, inspect_value and
// kill_message, fed the input as a channel message / data key value.
//
// The SAX reader in message.cpp avoids building a document; this target
// checks it against the straightforward reading of the same text through
// a full nlohmann::json document (same strictness, same "last duplicate
// key wins" rule, a NUL byte anywhere is not JSON), and that the kill message the daemon publishes
// reads back as a kill from the same source.

#include "redis_push/tasks/message.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using rpd::tasks::channel_message;
using json = nlohmann::json;
using kind = channel_message::kind;

void check(bool ok, const char* what, std::string_view input) {
    if (!ok) {
        std::fprintf(stderr, "fuzz_message: invariant violated: %s (input: %.*s)\n", what,
                     static_cast<int>(input.size()), input.data());
        std::abort();
    }
}

// The reference: what the protocol says, read off a parsed document.
channel_message expected_message(const json& doc) {
    channel_message m;
    if (!doc.is_object())
        return m;
    const auto status = doc.find("status");
    if (status == doc.end() || !status->is_string())
        return m;
    const auto& text = status->get_ref<const std::string&>();
    if (text == "update" || text == "done") {
        const auto data = doc.find("data");
        m.type = (data != doc.end() && !data->is_null()) ? kind::deliver : kind::reread;
        m.done = text == "done";
    } else if (text == "kill") {
        m.type = kind::kill;
        const auto src = doc.find("src");
        if (src != doc.end() && src->is_string()) {
            m.has_src = true;
            m.src = src->get<std::string>();
        }
    }
    return m;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A copy of exactly the input's size, so ASan sees any read beyond it.
    const std::string input(reinterpret_cast<const char*>(data), size);

    const channel_message got = rpd::tasks::classify_message(input);
    const auto info = rpd::tasks::inspect_value(input);

    // nlohmann's lexer takes a NUL byte for the end of the input; a raw NUL
    // is never valid JSON, and message.cpp refuses it (commit 44b6642).
    const bool has_nul = input.find('\0') != std::string::npos;
    const json doc = has_nul ? json(json::value_t::discarded)
                             : json::parse(input, nullptr, /*allow_exceptions=*/false);
    const bool valid = !doc.is_discarded();
    check(info.valid_json == valid, "inspect_value: valid_json differs from json::parse", input);
    if (valid) {
        const bool done = doc.is_object() && doc.contains("status") && doc["status"].is_string() &&
                          doc["status"].get_ref<const std::string&>() == "done";
        check(info.done == done, "inspect_value: done differs from the document", input);
        const channel_message want = expected_message(doc);
        check(got.type == want.type, "classify_message: kind differs from the document", input);
        check(got.done == want.done, "classify_message: done differs", input);
        check(got.has_src == want.has_src, "classify_message: has_src differs", input);
        check(got.src == want.src, "classify_message: src differs", input);
    } else {
        check(got.type == kind::ignore && !got.has_src && !got.done && !info.done,
              "not JSON but not ignored", input);
    }
    check(got.has_src == (got.type == kind::kill && got.has_src), "has_src without kill", input);

    // kill_message round trip, for the ids the daemon uses (a UUID's
    // alphabet); the input's bytes outside it are dropped.
    std::string uuid;
    for (char c : input)
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')
            uuid.push_back(c);
    const channel_message kill = rpd::tasks::classify_message(rpd::tasks::kill_message(uuid));
    check(kill.type == kind::kill && kill.has_src && kill.src == uuid,
          "kill_message does not read back as a kill from its source", input);
    return 0;
}
