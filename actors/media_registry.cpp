#include "actors/media_registry.hpp"

#include <filesystem>
#include <system_error>
#include <unordered_map>

#include "actors/media_actor.hpp"
#include "actors/prober.hpp"
#include "actors/tokens.hpp"
#include "auth/crypto.hpp"
#include "media/checks.hpp"
#include "metrics/log.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

struct registry_state {
  env_ptr env;
  std::unordered_map<std::string, media_actor> items;
  media_index index;          ///< every item's line of the admins' listing
  prober_actor prober;        ///< uploads: one file each, quick
  prober_actor import_prober; ///< library imports: up to 1,000 files, never delays an upload
  bool draining = false;
  static inline const char* name = "media_registry";
};

using registry_ptr = registry_actor::stateful_pointer<registry_state>;

void discard(const std::string& temp_file) {
  std::error_code ec;
  fs::remove(temp_file, ec);
}

void spawn_item(registry_ptr self, media_params p) {
  auto id = p.record.media_id;
  // Listed at once: the actor announces only later changes.
  self->state.index.put(summarize(p.record));
  p.env = self->state.env;
  p.registry = self;
  self->state.items[id] = self->spawn<caf::linked>(make_media_behavior, std::move(p));
}

/// A new record with fresh ids and keys; `admin_key` receives the plaintext.
media_record new_record(const environment& env, unsigned expiry_minutes, std::string& admin_key) {
  media_record r;
  r.media_id = auth::random_id();
  r.storage_id = auth::random_id();
  admin_key = auth::random_id();
  r.admin_key_hash = auth::sha256_hex(admin_key);
  r.status = media_status::queued;
  auto t = env.now();
  r.created_at = r.updated_at = r.upload_time = r.last_token_refresh = t;
  r.expires_at = t + int64_t{expiry_minutes} * 60;
  r.token_gen = 1;
  return r;
}

api_error probe_refusal(const media::error& e) {
  if (e.code == media::errc::io_error)
    return {api_errc::internal, "Cannot inspect the upload"};
  return {api_errc::unsupported_media, e.reason.empty() ? "Not an audio or video file" : e.reason};
}

void on_probed(registry_ptr self, upload_params& p, completion<upload_result>& done,
               media::result<media::probe_info>& res) {
  auto& env = *self->state.env;
  if (self->state.draining) {
    discard(p.file_path);
    return done(api_error{api_errc::shutting_down, "Server is shutting down"});
  }
  if (!res) {
    discard(p.file_path);
    return done(probe_refusal(res.err()));
  }
  // The same limits as imports (duration and pixel rate): one owner.
  if (auto within =
          media::check_source_limits(*res, env.cfg.max_source_seconds, env.cfg.max_pixel_rate);
      !within) {
    discard(p.file_path);
    return done(api_error{api_errc::limit_exceeded, within.err().reason});
  }
  media_params mp;
  auto& r = mp.record = new_record(env, p.expiry_minutes, mp.admin_key);
  r.original_name = p.original_name;
  r.ladder = p.ladder;
  r.duration = res->duration;
  // The original moves next to the other originals under a name derived
  // from the storage id, so a restart finds it again.
  if (auto moved = env.files.adopt_upload(p.file_path, r.storage_id); !moved) {
    discard(p.file_path);
    return done(api_error{api_errc::internal, "Cannot store the upload"});
  }
  r.source_path = env.files.owned_source(r.storage_id);
  mp.fresh = true;
  mp.wait_ready = p.wait_ready;
  mp.request_id = std::move(p.request_id);
  mp.creator = std::move(done);
  spawn_item(self, std::move(mp));
}

/// Registers probed library files as on-demand items, one at a time, each
/// persisted before it is reported.
void register_imports(registry_ptr self, std::shared_ptr<probed_files> files, size_t i,
                      unsigned minutes, std::shared_ptr<import_result> out,
                      completion<import_result> done) {
  for (; i < files->size(); ++i) {
    auto& [path, res] = (*files)[i];
    if (!res) {
      out->items.push_back({path, {}, {}, {}, 0, res.err().reason});
      continue;
    }
    if (auto within = media::check_source_limits(*res, self->state.env->cfg.max_source_seconds,
                                                 self->state.env->cfg.max_pixel_rate);
        !within) {
      out->items.push_back({path, {}, {}, {}, 0, within.err().reason});
      continue;
    }
    auto& env = *self->state.env;
    std::string admin_key;
    media_record r = new_record(env, minutes, admin_key);
    r.original_name = fs::path{path}.filename().string();
    r.duration = res->duration;
    r.source_path = path;
    r.source_owned = false;
    r.on_demand = true;
    auto minted = mint_token(r, *env.jwt, env.now(), env.cfg.token_minutes, "import");
    self->request(env.store, caf::infinite, put_atom_v, r)
        .then(
            [=](bool ok) mutable {
              import_item item;
              item.path = r.source_path;
              if (!ok) {
                item.error = "Cannot record the item";
              } else {
                item.media_id = r.media_id;
                item.admin_key = admin_key;
                item.access_token = minted.token;
                item.expires_at = r.expires_at;
                if (auto* m = self->state.env->metrics)
                  m->token_issued();
                media_params mp;
                mp.record = std::move(r);
                spawn_item(self, std::move(mp));
              }
              out->items.push_back(std::move(item));
              register_imports(self, files, i + 1, minutes, out, done);
            },
            [=](caf::error&) mutable {
              out->items.push_back({path, {}, {}, {}, 0, "Cannot record the item"});
              register_imports(self, files, i + 1, minutes, out, done);
            });
    return;
  }
  done(std::move(*out));
}

/// Forwards to the item's actor, or answers 404.
template <class T, class F>
void forward(registry_ptr self, const std::string& id, completion<T>& done, F send) {
  auto i = self->state.items.find(id);
  if (i == self->state.items.end())
    return done(api_error{api_errc::not_found, "Media not found"});
  send(i->second);
}

/// Starts deletes of the job's next items while fewer than its window are
/// running; answers once the last one answered. Registry thread only.
void bulk_pump(registry_ptr self, const std::shared_ptr<bulk_delete_job>& job) {
  while (job->in_flight < bulk_delete_job::window && job->next < job->ids.size()) {
    const std::string& id = job->ids[job->next++];
    ++job->in_flight;
    // Each item answers exactly once (completion: a dropped message answers
    // "unavailable"); the answer comes back here as bulk_next.
    registry_actor me = self;
    completion<actors::done> one = [me, job](reply<actors::done> r) {
      caf::anon_send(me, bulk_next_atom_v, job, std::holds_alternative<actors::done>(r));
    };
    forward(self, id, one,
            [&](media_actor& a) { self->send(a, bulk_delete_atom_v, job->filter, one); });
  }
  if (job->in_flight == 0 && job->next == job->ids.size())
    job->done(job->result);
}

/// Deletes the items matching `f` as an operator would (each item checks
/// the filter again, then removes its record durably first, as a single
/// delete does): at most batch_limit per call, window at a time.
void bulk_delete(registry_ptr self, const media_filter& f, completion<bulk_delete_result> done) {
  if (f.empty())
    return done(api_error{api_errc::bad_parameter, "A filter is required (status or q)"});
  auto job = std::make_shared<bulk_delete_job>();
  job->filter = f;
  job->ids = self->state.index.matching(f);
  job->result.matched = job->ids.size();
  if (job->ids.size() > bulk_delete_job::batch_limit) {
    job->result.remaining = job->ids.size() - bulk_delete_job::batch_limit;
    job->ids.resize(bulk_delete_job::batch_limit);
  }
  job->done = std::move(done);
  bulk_pump(self, job);
}

registry_actor::behavior_type registry_behavior(registry_ptr self, registry_params p) {
  self->state.env = p.env;
  self->state.prober = self->spawn<caf::detached + caf::linked>(prober_behavior, p.env);
  self->state.import_prober = self->spawn<caf::detached + caf::linked>(prober_behavior, p.env);
  for (auto& r : p.restore) {
    media_params mp;
    mp.record = std::move(r);
    spawn_item(self, std::move(mp));
  }
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.reason == caf::exit_reason::user_shutdown || em.reason == caf::exit_reason::kill) {
      self->quit(em.reason);
      return;
    }
    // A prober died (an exception escaping libav glue): replace it, so
    // uploads and imports keep working.
    auto& st = self->state;
    for (auto* p : {&st.prober, &st.import_prober}) {
      if (p->address() == em.source) {
        logging::error("a prober died; replacing it");
        *p = self->spawn<caf::detached + caf::linked>(prober_behavior, st.env);
        return;
      }
    }
    // A media actor died abnormally: forget it, keep serving the others.
    for (auto i = self->state.items.begin(); i != self->state.items.end(); ++i) {
      if (i->second.address() == em.source) {
        logging::error("a media actor died", {{"media_id", i->first}});
        self->state.index.erase(i->first);
        self->state.items.erase(i);
        break;
      }
    }
  });
  return {
      [self](gone_atom, const std::string& id) {
        // The item answered what was queued for it with 404; nothing new
        // reaches it now, so it can stop.
        self->state.index.erase(id);
        auto i = self->state.items.find(id);
        if (i == self->state.items.end())
          return;
        self->send_exit(i->second, caf::exit_reason::user_shutdown);
        self->state.items.erase(i);
      },
      [self](summary_atom, media_summary& s) {
        if (self->state.items.count(s.media_id))
          self->state.index.put(std::move(s));
      },
      [self](list_atom, const media_query& q, completion<media_page>& done) {
        media_page page;
        if (!self->state.index.page(q, page))
          return done(api_error{api_errc::bad_parameter, "Invalid cursor"});
        done(std::move(page));
      },
      [self](bulk_delete_atom, const media_filter& f, completion<bulk_delete_result>& done) {
        bulk_delete(self, f, std::move(done));
      },
      [self](bulk_next_atom, std::shared_ptr<bulk_delete_job>& job, bool deleted) {
        --job->in_flight;
        job->result.deleted += deleted;
        bulk_pump(self, job);
      },
      [self](upload_atom, upload_params& p, completion<upload_result>& done) {
        if (self->state.draining) {
          discard(p.file_path);
          return done(api_error{api_errc::shutting_down, "Server is shutting down"});
        }
        self->request(self->state.prober, caf::infinite, probe_atom_v, p.file_path)
            .then(
                [self, p, done](media::result<media::probe_info>& res) mutable {
                  on_probed(self, p, done, res);
                },
                [p, done](caf::error&) mutable {
                  discard(p.file_path);
                  done(api_error{api_errc::internal, "Cannot inspect the upload"});
                });
      },
      [self](playlist_atom, const std::string& id, auth::token_claims& c,
             completion<playlist_grant>& done) {
        forward(self, id, done, [&](media_actor& a) { self->send(a, playlist_atom_v, c, done); });
      },
      [self](stream_info_atom, const std::string& id, auth::token_claims& c,
             completion<stream_info_result>& done) {
        forward(self, id, done,
                [&](media_actor& a) { self->send(a, stream_info_atom_v, c, done); });
      },
      [self](refresh_atom, const std::string& id, admin_credential& who, unsigned minutes,
             completion<token_result>& done) {
        forward(self, id, done,
                [&](media_actor& a) { self->send(a, refresh_atom_v, who, minutes, done); });
      },
      [self](info_atom, const std::string& id, admin_credential& who,
             completion<info_result>& done) {
        forward(self, id, done, [&](media_actor& a) { self->send(a, info_atom_v, who, done); });
      },
      [self](extend_atom, const std::string& id, admin_credential& who, unsigned minutes,
             completion<extend_result>& done) {
        forward(self, id, done,
                [&](media_actor& a) { self->send(a, extend_atom_v, who, minutes, done); });
      },
      [self](delete_atom, const std::string& id, admin_credential& who, completion<done>& done) {
        forward(self, id, done, [&](media_actor& a) { self->send(a, delete_atom_v, who, done); });
      },
      [self](token_create_atom, const std::string& id, admin_credential& who, token_request& req,
             completion<token_result>& done) {
        forward(self, id, done,
                [&](media_actor& a) { self->send(a, token_create_atom_v, who, req, done); });
      },
      [self](token_list_atom, const std::string& id, admin_credential& who,
             completion<token_list>& done) {
        forward(self, id, done,
                [&](media_actor& a) { self->send(a, token_list_atom_v, who, done); });
      },
      [self](token_revoke_atom, const std::string& id, admin_credential& who, std::string& jti,
             completion<done>& done) {
        forward(self, id, done,
                [&](media_actor& a) { self->send(a, token_revoke_atom_v, who, jti, done); });
      },
      [self](subtitles_atom, const std::string& id, admin_credential& who, subtitle_request& req,
             completion<subtitle_result>& done) {
        forward(self, id, done, [&](media_actor& a) {
          self->send(a, subtitles_atom_v, who, std::move(req), done);
        });
      },
      [self](abandon_atom, const std::string& id, completion<done>& done) {
        forward(self, id, done, [&](media_actor& a) { self->send(a, abandon_atom_v, done); });
      },
      [self](drain_atom) {
        self->state.draining = true;
        for (auto& [id, a] : self->state.items)
          self->send(a, drain_atom_v);
      },
      [self](import_atom, import_params& p, completion<import_result>& done) {
        auto minutes = p.expiry_minutes;
        self->request(self->state.import_prober, caf::infinite, import_atom_v, std::move(p))
            .then(
                [self, minutes, done](probed_files& files) {
                  register_imports(self, std::make_shared<probed_files>(std::move(files)), 0,
                                   minutes, std::make_shared<import_result>(), done);
                },
                [done](caf::error&) mutable {
                  done(api_error{api_errc::internal, "Cannot read the library"});
                });
      },
  };
}

} // namespace

registry_actor spawn_media_registry(caf::actor_system& sys, registry_params p) {
  return sys.spawn(registry_behavior, std::move(p));
}

} // namespace hlsgate::actors
