#include "redis_push/tasks/task_service.hpp"

#include "redis_push/tasks/poll_source.hpp"

#include <memory>
#include <vector>

namespace rpd::tasks {

task_service::task_service(boost::asio::io_context& ioc, redis::command_connection& commands,
                           redis::subscriber_pool& subscribers, task_settings settings)
    : ioc_(ioc), commands_(commands), subscribers_(subscribers), settings_(std::move(settings)) {}

task_service::~task_service() {
    watches_.clear();
}

std::string task_service::data_key(std::string_view id) const {
    std::string key;
    key.reserve(settings_.prefix.size() + 2 + id.size());
    key.append(settings_.prefix).append("D_").append(id);
    return key;
}

std::string task_service::channel(std::string_view id) const {
    std::string name;
    name.reserve(settings_.prefix.size() + 3 + id.size());
    name.append(settings_.prefix).append("SC_").append(id);
    return name;
}

feed::handle task_service::poll(std::string_view id, feed::sink& sink) {
    return start_poll(commands_, data_key(id), sink);
}

feed::handle task_service::start_watch(std::string_view id, feed::sink& sink,
                                       watch_options options) {
    auto w = std::make_shared<watch>(*this, id, sink, options);
    w->start();
    return feed::handle(std::move(w));
}

// Ending a watch usually destroys it (its sink drops the handle), which
// unlinks it from the list: walk a snapshot of owning pointers instead.
template <class Fn> void task_service::for_each_watch(Fn fn) {
    std::vector<std::shared_ptr<watch>> snapshot;
    snapshot.reserve(watches_.size());
    for (auto& w : watches_)
        snapshot.push_back(w.shared_from_this());
    for (auto& w : snapshot)
        fn(*w);
}

void task_service::recheck_all() {
    for_each_watch([](watch& w) { w.recheck(); });
}

void task_service::shutdown() {
    shutting_down_ = true;
    for_each_watch([](watch& w) { w.shut_down(); });
}

} // namespace rpd::tasks
