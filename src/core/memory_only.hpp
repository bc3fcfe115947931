// Answering from memory first. On PostgreSQL, handlers run on a blocking pool so that a
// database round trip never stalls an I/O thread; but some answers (a cached API key, cached
// claims) need no round trip, and the two thread hops cost more than the answer. A route marked
// `memory_first` is therefore tried on the I/O thread inside a MemoryOnly scope: whatever would
// wait on the network (taking a database connection, an outbound HTTP call) calls MayBlock()
// first, which throws WouldBlock in that scope, and the server runs the request again on the
// pool. A memory-first handler must do nothing before its first wait that it cannot repeat.
//
//   {
//     MemoryOnly scope;
//     try { return handler(req); } catch (const WouldBlock&) { /* run it on the pool */ }
//   }
#pragma once

namespace breakpilot {

// Deliberately not a std::exception: no `catch (const std::exception&)` on the way may turn it
// into an error answer.
struct WouldBlock {};

class MemoryOnly {
 public:
  MemoryOnly();
  ~MemoryOnly();
  MemoryOnly(const MemoryOnly&) = delete;
  MemoryOnly& operator=(const MemoryOnly&) = delete;

 private:
  bool previous_;
};

// Throws WouldBlock inside a MemoryOnly scope on this thread; otherwise does nothing.
void MayBlock();

}  // namespace breakpilot
