#include "core/memory_only.hpp"

namespace breakpilot {
namespace {

thread_local bool memory_only = false;

}  // namespace

MemoryOnly::MemoryOnly() : previous_(memory_only) {
  memory_only = true;
}

MemoryOnly::~MemoryOnly() {
  memory_only = previous_;
}

void MayBlock() {
  if (memory_only) throw WouldBlock{};
}

}  // namespace breakpilot
