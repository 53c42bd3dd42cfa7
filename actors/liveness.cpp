#include "actors/liveness.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/attachable.hpp>
#include <caf/error.hpp>

namespace hlsgate::actors {

void liveness::attach(const caf::strong_actor_ptr& a, const char* what) {
  auto st = state_;
  auto mark = [st, what] {
    {
      std::lock_guard lk(st->mu);
      // Only the first one counts; later ones are usually its consequences.
      if (!st->first.load(std::memory_order_relaxed))
        st->first.store(what, std::memory_order_release);
    }
    st->cv.notify_all();
  };
  if (!a) {
    mark();
    return;
  }
  // Runs in the terminating actor's context (or at once when it is gone).
  a->get()->attach_functor([mark](const caf::error&) { mark(); });
}

bool liveness::wait_down(std::chrono::milliseconds limit) const {
  std::unique_lock lk(state_->mu);
  return state_->cv.wait_for(lk, limit, [&] { return *down() != '\0'; });
}

} // namespace hlsgate::actors
