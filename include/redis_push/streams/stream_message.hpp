#pragma once

#include "redis_push/redis/reply.hpp"
#include "redis_push/streams/stream_id.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rpd::streams {

// One stream entry as clients see it (MODES.md 3): rendered once per Redis
// read and shared by every subscriber it goes to.
struct message {
    stream_id id;
    std::string offset; // id as text
    std::string json;   // {"offset":"<id>","<field>":<value>,...}
};
using message_batch = std::vector<message>;
using shared_batch = std::shared_ptr<const message_batch>;

// `{"offset":..., field: value...}`: a value that is valid JSON is
// embedded as JSON (compacted), anything else as a JSON string; a field
// named `offset` is left out (the id is the offset). Invalid UTF-8 is
// replaced, never thrown on.
std::string render_message(std::string_view offset, const redis::reply& fields);
// The same, appended to `out` (a page's body is built without a copy per
// message).
void append_message(std::string& out, std::string_view offset, const redis::reply& fields);

// One XRANGE / XREAD / XREADGROUP entry: [id, [field, value, ...]].
// nullopt when the reply has another shape (or, for XREADGROUP's pending
// list, a deleted entry: nil fields).
std::optional<message> parse_entry(const redis::reply& entry);

// Every entry of an XRANGE-shaped array, in order; entries of another
// shape are skipped.
message_batch parse_entries(const redis::reply& entries);

// A publish's body as XADD fields (MODES.md 3): a JSON object's members,
// strings as they are, other values JSON-encoded; nullopt when the body is
// not a JSON object. A member named `offset` is kept: Redis may hold it,
// clients never see it.
using field_list = std::vector<std::pair<std::string, std::string>>;
std::optional<field_list> publish_fields(std::string_view body);

} // namespace rpd::streams
