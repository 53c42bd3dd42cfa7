// completion<T>: the one way an answer travels from the actors back to a
// caller (an HTTP session, the CLI). It guarantees, by construction, that
// the caller hears exactly once:
//  - the first call delivers its value or error; later calls are ignored;
//  - when the last copy is destroyed without having been called (a message
//    dropped because its actor quit, a parked request forgotten), the
//    destructor answers `api_errc::unavailable` instead of leaving the
//    caller waiting.
// A caller that also needs a time bound (HTTP: HLSGATE_REQUEST_TIMEOUT_SECONDS)
// sets its own timer; the first of the two answers wins on its side too.
//
// Plain C++ (no CAF): http/ and main.cpp include it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "actors/types.hpp"

namespace hlsgate::actors {

template <class T> class completion {
public:
  using function = std::function<void(reply<T>)>;

  completion() = default;

  /// Wraps `f`, which will be invoked exactly once (possibly from the
  /// destructor of the last copy). `f` must not block: it runs on an actor
  /// thread.
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, completion> &&
                                              std::is_invocable_v<F&, reply<T>>>>
  completion(F&& f) : state_(std::make_shared<state>(function(std::forward<F>(f)))) {}

  /// Delivers `r` unless an answer was already given.
  void operator()(reply<T> r) const {
    if (state_)
      state_->deliver(std::move(r));
  }

  /// True when this completion still owes its caller an answer.
  bool pending() const noexcept { return state_ && !state_->done.load(std::memory_order_acquire); }

  /// Answers `r` now and drops this copy's reference.
  void finish(reply<T> r) {
    (*this)(std::move(r));
    state_.reset();
  }

private:
  struct state {
    explicit state(function f) : fn(std::move(f)) {}
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
      if (fn && !done.exchange(true))
        fn(api_error{api_errc::unavailable, "The request could not be completed; retry"});
    }
    void deliver(reply<T> r) {
      if (fn && !done.exchange(true, std::memory_order_acq_rel))
        fn(std::move(r));
    }
    function fn;
    std::atomic<bool> done{false};
  };
  std::shared_ptr<state> state_;
};

} // namespace hlsgate::actors
