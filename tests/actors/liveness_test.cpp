// /ready's view of the service's essential actors: the real transcoder pool
// on a real (threaded) actor system, killed as a crash would.
#include "actors/liveness.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>

#include "actors/transcoder_pool.hpp"

using namespace hlsgate::actors;
using namespace std::chrono_literals;

namespace {

// Spawned with an argument: CAF 0.17.6 dereferences an empty argument tuple
// when a function actor takes none (UBSan reports it).
caf::behavior idle(caf::event_based_actor*, int) {
  return {[](int) {}};
}

struct liveness_test : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
};

} // namespace

TEST_F(liveness_test, a_killed_pool_is_reported_and_the_first_loss_wins) {
  auto env = std::make_shared<environment>();
  pool_params pp;
  pp.env = env;
  auto pool = spawn_transcoder_pool(sys, pp);
  auto other = sys.spawn(idle, 0);
  liveness alive;
  alive.watch(pool, "the transcoder pool is down");
  alive.watch(other, "the other one is down");
  EXPECT_STREQ(alive.down(), "");
  EXPECT_FALSE(alive.wait_down(10ms));

  caf::anon_send_exit(pool, caf::exit_reason::kill);
  ASSERT_TRUE(alive.wait_down(10s));
  EXPECT_STREQ(alive.down(), "the transcoder pool is down");

  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
  caf::scoped_actor self{sys};
  self->wait_for(other);
  EXPECT_STREQ(alive.down(), "the transcoder pool is down");
}

TEST_F(liveness_test, an_actor_already_gone_or_missing_is_down_at_once) {
  auto gone = sys.spawn(idle, 0);
  caf::anon_send_exit(gone, caf::exit_reason::user_shutdown);
  {
    caf::scoped_actor self{sys};
    self->wait_for(gone);
  }
  liveness a;
  a.watch(gone, "gone");
  EXPECT_STREQ(a.down(), "gone");

  liveness b;
  b.watch(caf::actor{}, "never started");
  EXPECT_STREQ(b.down(), "never started");
}

TEST_F(liveness_test, a_normal_exit_counts_too) {
  auto a = sys.spawn([](caf::event_based_actor* self,
                        int) -> caf::behavior { return {[self](int) { self->quit(); }}; },
                     0);
  liveness alive;
  alive.watch(a, "the store is down");
  caf::anon_send(a, 1);
  ASSERT_TRUE(alive.wait_down(10s));
  EXPECT_STREQ(alive.down(), "the store is down");
}
