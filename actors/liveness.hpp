// Which of the service's long-lived actors (store, transcoder pool, media
// registry) has terminated, readable from any thread without a message: GET
// /ready reports it. Each watched actor gets a functor attached that records
// its name when it exits, for whatever reason; nothing ever clears it (the
// service does not restart these actors, so a dead one stays dead until the
// process is restarted, which is what an orchestrator should do).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_control_block.hpp>

namespace hlsgate::actors {

class liveness {
public:
  liveness() : state_(std::make_shared<shared>()) {}

  /// Watches `a` (any handle); `what` must outlive this object (a literal),
  /// e.g. "the transcoder pool is down". An actor that is already gone is
  /// recorded at once.
  template <class Handle> void watch(const Handle& a, const char* what) {
    attach(caf::actor_cast<caf::strong_actor_ptr>(a), what);
  }

  /// The first watched actor that went down, "" while all run. One atomic
  /// load.
  const char* down() const noexcept {
    const char* p = state_->first.load(std::memory_order_acquire);
    return p ? p : "";
  }

  /// Waits (bounded) until some watched actor went down: for tests and
  /// shutdown diagnostics, never on a request path.
  bool wait_down(std::chrono::milliseconds limit) const;

private:
  struct shared {
    std::atomic<const char*> first{nullptr};
    std::mutex mu;
    std::condition_variable cv;
  };
  void attach(const caf::strong_actor_ptr& a, const char* what);
  std::shared_ptr<shared> state_; ///< shared with the functors: they may run after we are gone
};

} // namespace hlsgate::actors
