// The media actor's life under CAF's deterministic test scheduler: expiry,
// extend, refresh, delete, tokens, failures of the store, shutdown.
#include "tests/actors/media_actor_fixture.hpp"

TEST_F(media_actor_test, expires_exactly_at_its_deadline) {
  auto a = spawn_ready(1);
  ASSERT_TRUE(sched->has_pending_timeout());
  sched->advance_time(std::chrono::seconds(59));
  sched->run();
  EXPECT_TRUE(files_exist());
  EXPECT_TRUE(row_exists());
  EXPECT_TRUE(gone.ids.empty());
  now += 60;
  sched->advance_time(std::chrono::seconds(1));
  sched->run();
  EXPECT_FALSE(files_exist());
  EXPECT_FALSE(row_exists());
  ASSERT_EQ(gone.ids.size(), 1u);
  EXPECT_EQ(gone.ids[0], record.media_id);
}

TEST_F(media_actor_test, extend_reschedules_the_timer) {
  auto a = spawn_ready(1);
  std::optional<reply<extend_result>> out;
  completion<extend_result> cb = [&](reply<extend_result> r) { out = std::move(r); };
  caf::anon_send(a, extend_atom_v, key(), 10u, cb);
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<extend_result>(*out));
  auto& x = std::get<extend_result>(*out);
  EXPECT_EQ(x.previous_expiry_minutes, 1);
  EXPECT_EQ(x.new_expiry_minutes, 11);
  EXPECT_EQ(x.extended_by_minutes, 10);
  ASSERT_FALSE(gone.lines.empty());
  EXPECT_EQ(gone.lines.back().expires_at, t0 + 11 * 60) << "the listing shows the new deadline";
  EXPECT_EQ(gone.lines.back().status, "ready");
  // The old deadline passes: the stale timer must not delete anything.
  sched->advance_time(std::chrono::seconds(61));
  sched->run();
  EXPECT_TRUE(files_exist());
  auto all = db->load_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().expires_at, t0 + 11 * 60); // durable
  sched->advance_time(std::chrono::seconds(10 * 60));
  sched->run();
  EXPECT_FALSE(files_exist());
  EXPECT_FALSE(row_exists());
}

TEST_F(media_actor_test, extend_beyond_seven_days_is_refused) {
  auto a = spawn_ready(60);
  std::optional<reply<extend_result>> out;
  completion<extend_result> cb = [&](reply<extend_result> r) { out = std::move(r); };
  caf::anon_send(a, extend_atom_v, key(), 10080u, cb);
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<api_error>(*out));
  EXPECT_EQ(std::get<api_error>(*out).code, api_errc::bad_parameter);
}

TEST_F(media_actor_test, refresh_revokes_older_tokens) {
  auto a = spawn_ready(60);
  EXPECT_EQ(playlist(a, 1), std::nullopt);
  std::optional<reply<token_result>> out;
  completion<token_result> cb = [&](reply<token_result> r) { out = std::move(r); };
  caf::anon_send(a, refresh_atom_v, key(), 30u, cb);
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<token_result>(*out));
  auto& t = std::get<token_result>(*out);
  auth::token_claims claims;
  auth::token_error err{};
  ASSERT_TRUE(env->jwt->verify(t.access_token, now, claims, err));
  EXPECT_EQ(claims.gen, 2u);
  EXPECT_EQ(claims.sub, record.media_id);
  EXPECT_EQ(claims.exp, now + 30 * 60);
  EXPECT_EQ(playlist(a, 1), api_errc::forbidden);
  EXPECT_EQ(playlist(a, 2), std::nullopt);
  auto all = db->load_all();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->front().token_gen, 2u); // durable
}

// A token carries its own lifetime; the media's deadline is checked when it
// is used, so no token is of use after its media expired.
TEST_F(media_actor_test, tokens_never_outlive_the_media) {
  auto a = spawn_ready(5);
  std::optional<reply<token_result>> out;
  completion<token_result> cb = [&](reply<token_result> r) { out = std::move(r); };
  caf::anon_send(a, refresh_atom_v, key(), 600u, cb);
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<token_result>(*out));
  auto& t = std::get<token_result>(*out);
  auth::token_claims claims;
  auth::token_error err{};
  ASSERT_TRUE(env->jwt->verify(t.access_token, now, claims, err));
  EXPECT_EQ(claims.exp, now + 600 * 60);
  EXPECT_EQ(t.expires_in_minutes, 5u) << "what the holder can count on: the media's 5 minutes";
  EXPECT_EQ(playlist(a, 2), std::nullopt);
  now += 5 * 60;
  EXPECT_EQ(playlist(a, 2), api_errc::expired);
}

TEST_F(media_actor_test, delete_needs_the_admin_key_then_removes_everything) {
  auto a = spawn_ready(60);
  std::optional<reply<done>> out;
  auto cb = [&] { return completion<done>{[&](reply<done> r) { out = std::move(r); }}; };
  caf::anon_send(a, delete_atom_v, admin_credential{"wrong", false}, cb());
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<api_error>(*out));
  EXPECT_EQ(std::get<api_error>(*out).code, api_errc::forbidden);
  EXPECT_TRUE(files_exist());
  out.reset();
  caf::anon_send(a, delete_atom_v, admin_credential{}, cb());
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<api_error>(*out));
  EXPECT_EQ(std::get<api_error>(*out).code, api_errc::unauthorized);
  out.reset();
  caf::anon_send(a, delete_atom_v, key(), cb());
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<done>(*out));
  EXPECT_FALSE(files_exist());
  EXPECT_FALSE(row_exists());
  ASSERT_EQ(gone.ids.size(), 1u);
}

TEST_F(media_actor_test, on_demand_item_starts_its_job_on_the_first_request_then_503s_on_timeout) {
  auto r = new_record(media_status::queued, 60);
  r.on_demand = true;
  r.source_owned = false;
  r.source_path = (dir / "library.mp4").string();
  std::ofstream{r.source_path} << "original";
  auto a = spawn_restored(r);
  EXPECT_TRUE(jobs.empty()) << "an imported item waits for its first viewer";
  sched->run();
  EXPECT_TRUE(gone.lines.empty()) << "the registry made its first line; only changes are sent";
  std::vector<reply<playlist_grant>> replies;
  auth::token_claims c;
  c.sub = r.media_id;
  c.gen = 1;
  auto cb = [&] {
    return completion<playlist_grant>{
        [&](reply<playlist_grant> x) { replies.push_back(std::move(x)); }};
  };
  caf::anon_send(a, playlist_atom_v, c, cb());
  sched->run();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_TRUE(replies.empty()) << "the request is parked until the first segments";
  caf::anon_send(a, playlist_atom_v, c, cb());
  sched->run();
  EXPECT_EQ(jobs.size(), 1u) << "one job, however many viewers";
  sched->advance_time(std::chrono::seconds(env->cfg.ondemand_wait_seconds));
  sched->run();
  ASSERT_EQ(replies.size(), 2u);
  for (auto& x : replies) {
    ASSERT_TRUE(std::holds_alternative<api_error>(x));
    EXPECT_EQ(std::get<api_error>(x).code, api_errc::try_later);
  }
  EXPECT_TRUE(fs::exists(r.source_path));
}

TEST_F(media_actor_test, info_hides_secrets_and_expired_media_answers_410) {
  auto a = spawn_ready(1);
  std::optional<reply<info_result>> out;
  completion<info_result> cb = [&](reply<info_result> r) { out = std::move(r); };
  caf::anon_send(a, info_atom_v, key(), cb);
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<info_result>(*out));
  auto& i = std::get<info_result>(*out);
  EXPECT_EQ(i.record.media_id, record.media_id);
  EXPECT_TRUE(i.record.admin_key_hash.empty());
  EXPECT_EQ(i.record.status, media_status::ready);
  EXPECT_DOUBLE_EQ(i.progress, 100);
  // The wall clock passed the deadline but the timer has not fired yet.
  now += 61;
  EXPECT_EQ(playlist(a, 1), api_errc::expired);
}

// -- all-or-nothing: a change takes effect only once it is durable -------------------

TEST_F(media_actor_test, refresh_that_cannot_be_recorded_revokes_nothing) {
  auto a = spawn_ready(60);
  store_fails = true;
  std::optional<reply<token_result>> out;
  caf::anon_send(a, refresh_atom_v, key(), 30u,
                 completion<token_result>{[&](reply<token_result> r) { out = std::move(r); }});
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<api_error>(*out));
  EXPECT_EQ(std::get<api_error>(*out).code, api_errc::internal);
  EXPECT_EQ(playlist(a, 1), std::nullopt) << "the old token must keep working";
  EXPECT_EQ(playlist(a, 2), api_errc::forbidden) << "no new generation in memory";
  store_fails = false;
  auto all = db->load_all();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->front().token_gen, 1u);
}

TEST_F(media_actor_test, extend_that_cannot_be_recorded_keeps_the_old_deadline) {
  auto a = spawn_ready(1);
  store_fails = true;
  std::optional<reply<extend_result>> out;
  caf::anon_send(a, extend_atom_v, key(), 10u,
                 completion<extend_result>{[&](reply<extend_result> r) { out = std::move(r); }});
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<api_error>(*out));
  store_fails = false;
  now += 60;
  sched->advance_time(std::chrono::seconds(60));
  sched->run();
  EXPECT_FALSE(files_exist()) << "the original deadline still applies";
  EXPECT_FALSE(row_exists());
}

TEST_F(media_actor_test, delete_that_cannot_be_recorded_keeps_the_item_whole) {
  auto a = spawn_ready(60);
  store_fails = true;
  std::optional<reply<done>> out;
  caf::anon_send(a, delete_atom_v, key(),
                 completion<done>{[&](reply<done> r) { out = std::move(r); }});
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<api_error>(*out));
  EXPECT_EQ(std::get<api_error>(*out).code, api_errc::internal);
  EXPECT_TRUE(files_exist());
  EXPECT_TRUE(gone.ids.empty());
  EXPECT_EQ(playlist(a, 1), std::nullopt);
  store_fails = false;
  EXPECT_TRUE(row_exists());
}

TEST_F(media_actor_test, expiry_that_cannot_be_recorded_is_retried) {
  auto a = spawn_ready(1);
  store_fails = true;
  now += 60;
  sched->advance_time(std::chrono::seconds(60));
  sched->run();
  EXPECT_TRUE(files_exist()) << "nothing removed while the record stays";
  store_fails = false;
  sched->advance_time(std::chrono::seconds(60));
  sched->run();
  EXPECT_FALSE(files_exist());
  EXPECT_FALSE(row_exists());
}

// -- ownership of files ----------------------------------------------------------------

TEST_F(media_actor_test, imported_original_survives_expiry_and_delete) {
  for (bool by_delete : {false, true}) {
    auto r = new_record(media_status::ready, 1);
    r.on_demand = true;
    r.source_owned = false;
    r.source_path = (dir / ("library-" + std::to_string(by_delete) + ".mp4")).string();
    std::ofstream{r.source_path} << "the user's file";
    rendition_record rr;
    rr.name = "v0";
    rr.segments = {{"seg_00000.ts", 6, 10}};
    r.renditions.push_back(rr);
    fs::create_directories(dir / "media" / r.storage_id / "v0");
    ASSERT_TRUE(db->put(r).ok());
    auto a = spawn_restored(r);
    if (by_delete) {
      caf::anon_send(a, delete_atom_v, key(), completion<done>{[](reply<done>) {}});
    } else {
      now += 60;
      sched->advance_time(std::chrono::seconds(60));
    }
    sched->run();
    EXPECT_FALSE(files_exist());
    EXPECT_FALSE(row_exists());
    EXPECT_TRUE(fs::exists(r.source_path)) << "an imported library file is never deleted";
  }
}

TEST_F(media_actor_test, abandoned_upload_is_removed_with_its_original) {
  auto r = new_record(media_status::processing, 60);
  r.source_path = env->files.owned_source(r.storage_id);
  std::ofstream{r.source_path} << "uploaded original";
  ASSERT_TRUE(db->put(r).ok());
  auto a = spawn_restored(r);
  ASSERT_EQ(jobs.size(), 1u);
  std::optional<reply<done>> out;
  caf::anon_send(a, abandon_atom_v, completion<done>{[&](reply<done> x) { out = std::move(x); }});
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<done>(*out));
  EXPECT_FALSE(row_exists());
  EXPECT_FALSE(fs::exists(r.source_path));
  EXPECT_TRUE(jobs[0].cancel->load()) << "its job is cancelled";
  ASSERT_EQ(gone.ids.size(), 1u);
}

// -- exactly one answer ------------------------------------------------------------------

TEST_F(media_actor_test, request_to_an_item_that_is_gone_is_answered_not_lost) {
  auto a = spawn_ready(60);
  caf::anon_send(a, delete_atom_v, key(), completion<done>{[](reply<done>) {}});
  sched->run();
  ASSERT_FALSE(row_exists());
  auth::token_claims c;
  c.sub = record.media_id;
  c.gen = 1;
  auto ask = [&] {
    std::optional<reply<playlist_grant>> out;
    caf::anon_send(a, playlist_atom_v, c, completion<playlist_grant>{[&](reply<playlist_grant> x) {
                     out = std::move(x);
                   }});
    sched->run();
    EXPECT_TRUE(out.has_value()) << "the caller must hear back";
    EXPECT_TRUE(out && std::holds_alternative<api_error>(*out));
    return out && std::holds_alternative<api_error>(*out) ? std::get<api_error>(*out).code
                                                          : api_errc::internal;
  };
  // Until the registry stopped it, what was queued for the item gets 404.
  EXPECT_EQ(ask(), api_errc::not_found);
  // Once the actor quit, a message is dropped, and with it the completion,
  // which answers on its own.
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
  EXPECT_EQ(ask(), api_errc::unavailable);
}

TEST_F(media_actor_test, drain_answers_a_waiting_upload_with_its_keys) {
  auto r = new_record(media_status::queued, 60);
  r.source_path = env->files.owned_source(r.storage_id);
  std::ofstream{r.source_path} << "uploaded original";
  record = r;
  std::optional<reply<upload_result>> out;
  media_params p;
  p.env = env;
  p.record = r;
  p.registry = registry;
  p.fresh = true;
  p.wait_ready = true;
  p.admin_key = admin_key;
  p.creator = completion<upload_result>{[&](reply<upload_result> x) { out = std::move(x); }};
  auto a = sys->spawn(make_media_behavior, std::move(p));
  spawned.push_back(a);
  sched->run();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_FALSE(out.has_value()) << "a synchronous upload waits for its media";
  caf::anon_send(a, drain_atom_v);
  sched->run();
  ASSERT_TRUE(out && std::holds_alternative<upload_result>(*out));
  auto& u = std::get<upload_result>(*out);
  EXPECT_EQ(u.admin_key, admin_key);
  EXPECT_FALSE(u.access_token.empty());
  EXPECT_EQ(u.status, media_status::queued);
  EXPECT_TRUE(row_exists()) << "the item stays; its job resumes after a restart";
}

TEST_F(media_actor_test, failure_detail_is_for_operators_only) {
  auto r = new_record(media_status::processing, 60);
  r.source_path = env->files.owned_source(r.storage_id);
  std::ofstream{r.source_path} << "uploaded original";
  ASSERT_TRUE(db->put(r).ok());
  auto a = spawn_restored(r);
  ASSERT_EQ(jobs.size(), 1u);
  caf::anon_send(a, job_failed_atom_v,
                 job_failure{jobs[0].id, media::errc::invalid_input,
                             "The video could not be decoded",
                             "decode video: Invalid data found when processing input"});
  sched->run();
  EXPECT_FALSE(fs::exists(r.source_path)) << "a failed upload's original is not kept";
  auto ask = [&](admin_credential who) {
    std::optional<reply<info_result>> out;
    caf::anon_send(a, info_atom_v, who,
                   completion<info_result>{[&](reply<info_result> x) { out = std::move(x); }});
    sched->run();
    EXPECT_TRUE(out && std::holds_alternative<info_result>(*out));
    return std::get<info_result>(*out).record;
  };
  auto user = ask(key());
  EXPECT_EQ(user.status, media_status::failed);
  EXPECT_EQ(user.error, "The video could not be decoded");
  EXPECT_EQ(user.error_detail, "");
  auto op = ask(admin_credential{{}, true});
  EXPECT_EQ(op.error_detail, "decode video: Invalid data found when processing input");
  auto all = db->load_all();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->front().error_detail, op.error_detail) << "durable";
}

// -- tokens: minted with their own lifetime, listed, revoked one by one ----------------

TEST_F(media_actor_test, labelled_tokens_are_listed_and_revoked_one_by_one) {
  auto a = spawn_ready(60);
  auto create = [&](unsigned minutes, const std::string& label) {
    std::optional<reply<token_result>> out;
    caf::anon_send(a, token_create_atom_v, key(), token_request{minutes, label},
                   completion<token_result>{[&](reply<token_result> r) { out = std::move(r); }});
    sched->run();
    EXPECT_TRUE(out && std::holds_alternative<token_result>(*out));
    return std::get<token_result>(*out);
  };
  auto t1 = create(0, "living room");
  auto t2 = create(30, "phone");
  EXPECT_EQ(t1.expires_at, 0) << "no own lifetime: lives as long as the media";
  EXPECT_EQ(t2.expires_at, now + 30 * 60);
  EXPECT_NE(t1.jti, t2.jti);
  auto claims_of = [&](const token_result& t) {
    auth::token_claims c;
    auth::token_error err{};
    EXPECT_TRUE(env->jwt->verify(t.access_token, now, c, err));
    return c;
  };
  auto c1 = claims_of(t1), c2 = claims_of(t2);
  EXPECT_EQ(c1.exp, 0);
  EXPECT_EQ(c1.jti, t1.jti);
  auto use = [&](const auth::token_claims& c) {
    std::optional<reply<playlist_grant>> out;
    caf::anon_send(a, playlist_atom_v, c, completion<playlist_grant>{[&](reply<playlist_grant> r) {
                     out = std::move(r);
                   }});
    sched->run();
    return out && std::holds_alternative<playlist_grant>(*out);
  };
  EXPECT_TRUE(use(c1));
  EXPECT_TRUE(use(c2));
  auto& rev = *env->revocations;
  EXPECT_EQ(rev.check(record.storage_id, 1, t1.jti, now), auth::revocation_table::verdict::ok);

  std::optional<reply<done>> revoked;
  caf::anon_send(a, token_revoke_atom_v, key(), t2.jti,
                 completion<done>{[&](reply<done> r) { revoked = std::move(r); }});
  sched->run();
  ASSERT_TRUE(revoked && std::holds_alternative<done>(*revoked));
  EXPECT_TRUE(use(c1));
  EXPECT_FALSE(use(c2)) << "the revoked token stops at the playlist";
  EXPECT_EQ(rev.check(record.storage_id, 1, t2.jti, now), auth::revocation_table::verdict::revoked)
      << "and at the segment path";
  EXPECT_EQ(rev.check(record.storage_id, 1, t1.jti, now), auth::revocation_table::verdict::ok);

  std::optional<reply<token_list>> listed;
  caf::anon_send(a, token_list_atom_v, key(),
                 completion<token_list>{[&](reply<token_list> r) { listed = std::move(r); }});
  sched->run();
  ASSERT_TRUE(listed && std::holds_alternative<token_list>(*listed));
  auto& l = std::get<token_list>(*listed);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].label, "living room");
  EXPECT_FALSE(l[0].revoked);
  EXPECT_EQ(l[1].label, "phone");
  EXPECT_TRUE(l[1].revoked);

  // Unknown jti; the durable record lists both.
  std::optional<reply<done>> unknown;
  caf::anon_send(a, token_revoke_atom_v, key(), std::string{"nope"},
                 completion<done>{[&](reply<done> r) { unknown = std::move(r); }});
  sched->run();
  ASSERT_TRUE(unknown && std::holds_alternative<api_error>(*unknown));
  EXPECT_EQ(std::get<api_error>(*unknown).code, api_errc::not_found);
  auto all = db->load_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->front().tokens.size(), 2u);
  EXPECT_TRUE(all->front().tokens[1].revoked);

  // A refresh revokes every token, labelled ones included.
  caf::anon_send(a, refresh_atom_v, key(), 30u,
                 completion<token_result>{[](reply<token_result>) {}});
  sched->run();
  EXPECT_FALSE(use(c1));
  EXPECT_EQ(rev.check(record.storage_id, 1, t1.jti, now), auth::revocation_table::verdict::revoked);
  // Deleting the item removes it from the segment path's table.
  caf::anon_send(a, delete_atom_v, key(), completion<done>{[](reply<done>) {}});
  sched->run();
  EXPECT_EQ(rev.check(record.storage_id, 2, "", now), auth::revocation_table::verdict::gone);
}

TEST_F(media_actor_test, token_requests_are_checked) {
  auto a = spawn_ready(60);
  auto code = [&](admin_credential who, token_request req) {
    std::optional<reply<token_result>> out;
    caf::anon_send(a, token_create_atom_v, who, req,
                   completion<token_result>{[&](reply<token_result> r) { out = std::move(r); }});
    sched->run();
    EXPECT_TRUE(out.has_value());
    auto* e = std::get_if<api_error>(&*out);
    return e ? e->code : api_errc::internal;
  };
  EXPECT_EQ(code(admin_credential{}, {}), api_errc::unauthorized);
  EXPECT_EQ(code(admin_credential{"wrong", false}, {}), api_errc::forbidden);
  EXPECT_EQ(code(key(), {10081, ""}), api_errc::bad_parameter);
  EXPECT_EQ(code(key(), {0, std::string(201, 'x')}), api_errc::bad_parameter);
  std::optional<reply<token_result>> ok;
  caf::anon_send(a, token_create_atom_v, admin_credential{{}, true}, token_request{1, "ops"},
                 completion<token_result>{[&](reply<token_result> r) { ok = std::move(r); }});
  sched->run();
  EXPECT_TRUE(ok && std::holds_alternative<token_result>(*ok)) << "the API token acts as admin";
}
