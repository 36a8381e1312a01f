// SPDX-License-Identifier: Apache-2.0
// tproxy/flow_table.h: the UDP proxy's per-flow table: bounded, least-recently-used order, idle
// expiry from the old end. Pure logic (no sockets), unit-tested; the proxy stores a
// unique_ptr<Flow> as the value and closes the flow's sockets in the eviction callback.
//
// Why LRU and not "refuse new flows when full": a flood of new flows (spoofed sources, a port
// scan) must not lock out the flows that are actually in use; evicting the oldest keeps the
// table bounded and lets the busy flows stay, since every datagram moves its flow to the front.
#pragma once
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <utility>

namespace pb::tproxy {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class LruFlowTable {
 public:
  struct Entry {
    Key key;
    Value value;
    uint64_t last_ns;
  };

  explicit LruFlowTable(size_t capacity) : capacity_(capacity ? capacity : 1) {
    index_.reserve(capacity_ < 65536 ? capacity_ : 65536);
  }

  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

  // The flow's value, moved to the most-recently-used end and stamped `now_ns`; nullptr if absent.
  Value* find(const Key& k, uint64_t now_ns) {
    auto it = index_.find(k);
    if (it == index_.end()) return nullptr;
    touch(it->second, now_ns);
    return &it->second->value;
  }
  // Without touching (for tests and inspection).
  const Value* peek(const Key& k) const {
    auto it = index_.find(k);
    return it == index_.end() ? nullptr : &it->second->value;
  }

  // Inserts a new flow (the key must be absent). When the table is full the least recently used
  // flow is evicted first and handed to on_evict(key, value&) before it is destroyed.
  template <typename F>
  Value& insert(const Key& k, Value v, uint64_t now_ns, F&& on_evict) {
    while (index_.size() >= capacity_) {
      Entry& old = lru_.back();
      on_evict(old.key, old.value);
      index_.erase(old.key);
      lru_.pop_back();
    }
    lru_.push_front(Entry{k, std::move(v), now_ns});
    index_.emplace(k, lru_.begin());
    return lru_.front().value;
  }

  // Removes flows idle for at least idle_ns, oldest first, calling on_expire(key, value&) for
  // each. Returns how many were removed. Stops at the first flow that is still fresh: the list is
  // in last-use order, so the sweep costs O(expired + 1).
  template <typename F>
  size_t expire(uint64_t now_ns, uint64_t idle_ns, F&& on_expire) {
    size_t n = 0;
    while (!lru_.empty()) {
      Entry& old = lru_.back();
      if (now_ns - old.last_ns < idle_ns) break;
      on_expire(old.key, old.value);
      index_.erase(old.key);
      lru_.pop_back();
      ++n;
    }
    return n;
  }

  bool erase(const Key& k) {
    auto it = index_.find(k);
    if (it == index_.end()) return false;
    lru_.erase(it->second);
    index_.erase(it);
    return true;
  }

  // Removes everything, calling fn(key, value&) for each.
  template <typename F>
  void clear(F&& fn) {
    for (auto& e : lru_) fn(e.key, e.value);
    index_.clear();
    lru_.clear();
  }

  // Oldest (least recently used) key, for tests. Table must not be empty.
  const Key& oldest() const { return lru_.back().key; }

 private:
  using Iter = typename std::list<Entry>::iterator;
  void touch(Iter it, uint64_t now_ns) {
    it->last_ns = now_ns;
    if (it != lru_.begin()) lru_.splice(lru_.begin(), lru_, it);
  }

  size_t capacity_;
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<Key, Iter, Hash> index_;
};

}  // namespace pb::tproxy
