// State a read-through cache keeps beside the database, guarded against storage events
// (storage::Database::Subscribe). An event edits the state under the write lock and moves the
// generation on; a value read from the database after a miss is stored only if the generation
// is still the one taken before that read, because an event in between may be about the very
// row read, and storing it would keep a stale value until the next event.
//
//   EventGuarded<std::unordered_map<std::string, Tenant>> cache;
//   if (auto hit = cache.Read([&](const auto& m) { return CopyOf(m, id); })) return *hit;
//   const auto ticket = cache.Ticket();                      // before reading the database
//   Tenant t = Load(id);
//   cache.StoreIfCurrent(ticket, [&](auto& m) { m.emplace(id, t); });
//   // the subscriber: cache.OnEvent([&](auto& m) { m.erase(id); });
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>

namespace breakpilot {

// A copy of the value under `key` in a map, or nullopt: what a cache's Read hands out, so the
// value outlives the read lock.
template <class Map, class Key>
std::optional<typename Map::mapped_type> CopyOf(const Map& map, const Key& key) {
  const auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

template <class State>
class EventGuarded {
 public:
  // Runs `fn(const State&)` under the read lock and returns what it returns.
  template <class Fn>
  auto Read(Fn&& fn) const {
    std::shared_lock lock(mu_);
    return fn(static_cast<const State&>(state_));
  }
  // The generation now: take it before reading the database for StoreIfCurrent.
  std::uint64_t Ticket() const { return generation_.load(); }
  // Runs `fn(State&)` under the write lock if no event arrived since `ticket`; returns whether.
  template <class Fn>
  bool StoreIfCurrent(std::uint64_t ticket, Fn&& fn) {
    std::unique_lock lock(mu_);
    if (generation_.load() != ticket) return false;
    fn(state_);
    return true;
  }
  // An event: moves the generation on and runs `fn(State&)` to drop what it names.
  template <class Fn>
  void OnEvent(Fn&& fn) {
    std::unique_lock lock(mu_);
    generation_.fetch_add(1);
    fn(state_);
  }

 private:
  mutable std::shared_mutex mu_;
  std::atomic<std::uint64_t> generation_{0};
  State state_{};
};

}  // namespace breakpilot
