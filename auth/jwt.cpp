#include "auth/jwt.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>

namespace hlsgate::auth {

namespace {

// base64url({"alg":"HS256","typ":"JWT"}): what issue() writes and, as a fast
// path, what verify() accepts without parsing.
constexpr std::string_view our_header_b64 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

// Tokens we issue are ~200 bytes; anything far larger is not ours.
constexpr size_t max_token_size = 8192;

using json = nlohmann::json;

/// Base for the SAX handlers below: a top-level object whose depth-1 members
/// are inspected, everything deeper skipped. Any handler returning false
/// stops the parse (sax_parse then returns false).
template <class Derived> struct object_sax {
  int depth = 0;
  bool top_object_seen = false;

  Derived& self() { return static_cast<Derived&>(*this); }

  bool null() { return depth > 1 || self().on_other(); }
  bool boolean(bool) { return depth > 1 || self().on_other(); }
  bool number_integer(json::number_integer_t v) { return depth > 1 || self().on_int(v); }
  bool number_unsigned(json::number_unsigned_t v) { return depth > 1 || self().on_uint(v); }
  bool number_float(json::number_float_t, const json::string_t&) {
    return depth > 1 || self().on_other();
  }
  bool string(json::string_t& v) { return depth > 1 || self().on_string(v); }
  bool binary(json::binary_t&) { return false; }
  bool start_object(std::size_t) {
    if (depth == 0) {
      if (top_object_seen)
        return false;
      top_object_seen = true;
    } else if (depth == 1 && !self().on_other()) {
      return false;
    }
    ++depth;
    return true;
  }
  bool end_object() {
    --depth;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth == 0 || (depth == 1 && !self().on_other()))
      return false;
    ++depth;
    return true;
  }
  bool end_array() {
    --depth;
    return true;
  }
  bool key(json::string_t& k) { return depth > 1 || self().on_key(k); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }
};

/// Header: finds "alg" (must appear once, as a string) and "typ" (at most
/// once; when present it must be the string "JWT", RFC 7519 §5.1).
struct header_sax : object_sax<header_sax> {
  enum class at { other, alg, typ } cur = at::other;
  bool alg_seen = false;
  bool alg_ok = false;
  bool typ_seen = false;
  bool typ_ok = true;

  bool on_key(const std::string& k) {
    cur = k == "alg" ? at::alg : k == "typ" ? at::typ : at::other;
    bool& seen = cur == at::alg ? alg_seen : typ_seen;
    if (cur != at::other) {
      if (seen)
        return false; // a duplicate member is ambiguous: reject
      seen = true;
      if (cur == at::typ)
        typ_ok = false; // until its value says "JWT"
    }
    return true;
  }
  bool on_string(const std::string& v) {
    if (cur == at::alg)
      alg_ok = v == "HS256";
    else if (cur == at::typ)
      typ_ok = v == "JWT";
    return true;
  }
  bool on_int(int64_t) { return true; }
  bool on_uint(uint64_t) { return true; }
  bool on_other() { return true; } // a non-string alg or typ stays not ok
};

/// Payload: the claims we need, with their types; duplicates rejected.
struct claims_sax : object_sax<claims_sax> {
  enum field : unsigned {
    f_sub = 1,
    f_gen = 2,
    f_iat = 4,
    f_exp = 8,
    f_typ = 16,
    f_jti = 32,
    f_other = 64
  };
  /// Claims every token carries; `exp` is optional (a token without it lives
  /// as long as its media), `jti` too (tokens issued before it existed).
  static constexpr unsigned required = f_sub | f_gen | f_iat | f_typ;

  token_claims& out;
  field cur = f_other;
  unsigned seen = 0;

  explicit claims_sax(token_claims& o) : out(o) {}

  bool on_key(const std::string& k) {
    if (k == "sub")
      cur = f_sub;
    else if (k == "gen")
      cur = f_gen;
    else if (k == "iat")
      cur = f_iat;
    else if (k == "exp")
      cur = f_exp;
    else if (k == "typ")
      cur = f_typ;
    else if (k == "jti")
      cur = f_jti;
    else
      cur = f_other;
    if (cur != f_other) {
      if (seen & cur)
        return false; // duplicate claim: ambiguous, reject
      seen |= cur;
    }
    return true;
  }
  bool on_string(const std::string& v) {
    switch (cur) {
    case f_sub:
      out.sub.assign(v);
      return true;
    case f_typ:
      out.typ.assign(v);
      return true;
    case f_jti:
      out.jti.assign(v);
      return true;
    case f_other:
      return true;
    default:
      return false;
    }
  }
  bool on_int(int64_t v) { // only negative integers arrive here
    switch (cur) {
    case f_iat:
      out.iat = v;
      return true;
    case f_exp:
      out.exp = v;
      return true;
    case f_other:
      return true;
    default:
      return false;
    }
  }
  bool on_uint(uint64_t v) {
    switch (cur) {
    case f_gen:
      out.gen = v;
      return true;
    case f_iat:
    case f_exp:
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return false;
      (cur == f_iat ? out.iat : out.exp) = static_cast<int64_t>(v);
      return true;
    case f_other:
      return true;
    default:
      return false;
    }
  }
  bool on_other() { return cur == f_other; }
};

/// Fast path for the exact payload shapes issue() writes:
///   {"sub":"..","gen":N,"jti":"..","iat":N,"exp":N,"typ":".."}
///   {"sub":"..","gen":N,"jti":"..","iat":N,"typ":".."}        (no exp)
/// with plain printable-ASCII strings and canonical integers. Returns false
/// (leaving the decision to the general parser) on any deviation, so it
/// accepts nothing the general parser would reject.
class canonical_claims {
public:
  explicit canonical_claims(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool parse(token_claims& out) {
    std::string_view sub, jti, typ;
    uint64_t gen = 0;
    int64_t iat = 0, exp = 0;
    if (!(lit("{\"sub\":\"") && str(sub) && lit(",\"gen\":") && uint(gen) && lit(",\"jti\":\"") &&
          str(jti) && lit(",\"iat\":") && int64(iat)))
      return false;
    if (lit(",\"exp\":") && !int64(exp))
      return false;
    if (!(lit(",\"typ\":\"") && str(typ) && lit("}") && p_ == end_))
      return false;
    out.sub.assign(sub);
    out.gen = gen;
    out.jti.assign(jti);
    out.iat = iat;
    out.exp = exp;
    out.typ.assign(typ);
    return true;
  }

private:
  bool lit(std::string_view l) {
    if (static_cast<size_t>(end_ - p_) < l.size() || std::memcmp(p_, l.data(), l.size()) != 0)
      return false;
    p_ += l.size();
    return true;
  }
  // Body of a string whose opening quote was consumed; consumes the closing one.
  bool str(std::string_view& v) {
    const char* b = p_;
    while (p_ != end_ && *p_ != '"') {
      if (*p_ < 0x20 || *p_ > 0x7e || *p_ == '\\')
        return false;
      ++p_;
    }
    if (p_ == end_)
      return false;
    v = std::string_view(b, static_cast<size_t>(p_ - b));
    ++p_;
    return true;
  }
  bool uint(uint64_t& v) {
    const char* b = p_;
    uint64_t r = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      const unsigned d = static_cast<unsigned>(*p_ - '0');
      if (r > (std::numeric_limits<uint64_t>::max() - d) / 10)
        return false;
      r = r * 10 + d;
      ++p_;
    }
    if (p_ == b || (*b == '0' && p_ - b > 1))
      return false; // no digits, or a leading zero
    v = r;
    return true;
  }
  bool int64(int64_t& v) {
    const bool neg = p_ != end_ && *p_ == '-';
    if (neg)
      ++p_;
    uint64_t r = 0;
    if (!uint(r) || (neg && r == 0))
      return false;
    const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (r > limit)
      return false;
    v = neg ? -static_cast<int64_t>(r) : static_cast<int64_t>(r);
    return true;
  }

  const char* p_;
  const char* end_;
};

template <class Sax> bool sax_parse(const std::string& text, Sax& sax) {
  const char* first = text.data();
  return json::sax_parse(first, first + text.size(), &sax) && sax.top_object_seen;
}

} // namespace

const char* to_string(token_error e) noexcept {
  switch (e) {
  case token_error::malformed:
    return "malformed";
  case token_error::bad_algorithm:
    return "bad_algorithm";
  case token_error::bad_signature:
    return "bad_signature";
  case token_error::expired:
    return "expired";
  case token_error::wrong_type:
    return "wrong_type";
  case token_error::not_yet_valid:
    return "not_yet_valid";
  }
  return "unknown";
}

jwt_codec::jwt_codec(std::string_view secret) : mac_(secret) {}

std::string jwt_codec::issue(const token_claims& claims) const {
  nlohmann::ordered_json j;
  j["sub"] = claims.sub;
  j["gen"] = claims.gen;
  j["jti"] = claims.jti;
  j["iat"] = claims.iat;
  if (claims.exp != 0)
    j["exp"] = claims.exp;
  j["typ"] = claims.typ;
  const std::string payload = j.dump(-1, ' ', false, json::error_handler_t::replace);

  std::string token;
  token.reserve(our_header_b64.size() + 1 + (payload.size() * 4 + 2) / 3 + 1 + 43);
  token.append(our_header_b64);
  token.push_back('.');
  base64url_encode(payload, token);
  const auto sig = mac_.sign(token);
  token.push_back('.');
  base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()), token);
  return token;
}

bool jwt_codec::verify(std::string_view token, int64_t now, token_claims& out,
                       token_error& err) const {
  try {
    err = token_error::malformed;
    if (token.size() > max_token_size)
      return false;
    const size_t d1 = token.find('.');
    if (d1 == std::string_view::npos)
      return false;
    const size_t d2 = token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
      return false;
    const std::string_view header = token.substr(0, d1);
    const std::string_view payload = token.substr(d1 + 1, d2 - d1 - 1);
    const std::string_view signature = token.substr(d2 + 1);

    // Reused per thread: no allocation per call once warm.
    thread_local std::string buf;

    // 1. Algorithm, pinned to HS256.
    if (header != our_header_b64) {
      if (!base64url_decode(header, buf))
        return false;
      header_sax hs;
      if (!sax_parse(buf, hs))
        return false;
      if (!hs.alg_ok) {
        err = token_error::bad_algorithm;
        return false;
      }
      if (!hs.typ_ok) {
        err = token_error::wrong_type;
        return false;
      }
    }

    // 2. Signature over the raw "header.payload" bytes, in constant time.
    if (!base64url_decode(signature, buf))
      return false;
    const auto mac = mac_.sign(token.substr(0, d2));
    if (!constant_time_equal(
            buf, std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()))) {
      err = token_error::bad_signature;
      return false;
    }

    // 3. Claims (absent optional claims must not keep a previous value).
    out = token_claims{};
    if (!base64url_decode(payload, buf))
      return false;
    if (!canonical_claims(buf).parse(out)) {
      claims_sax cs(out);
      if (!sax_parse(buf, cs) || (cs.seen & claims_sax::required) != claims_sax::required)
        return false;
    }

    // 4. Type, issue time, expiry.
    if (out.typ != "access") {
      err = token_error::wrong_type;
      return false;
    }
    if (out.iat > now && out.iat - now > max_clock_skew_seconds) {
      err = token_error::not_yet_valid;
      return false;
    }
    if (out.exp != 0 && out.exp <= now) {
      err = token_error::expired;
      return false;
    }
    return true;
  } catch (...) {
    err = token_error::malformed;
    return false;
  }
}

} // namespace hlsgate::auth
