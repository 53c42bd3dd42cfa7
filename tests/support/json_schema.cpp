#include "tests/support/json_schema.hpp"

namespace hlsgate::test {

namespace {

using json = nlohmann::json;

bool has_type(const json& v, const std::string& t) {
  if (t == "null")
    return v.is_null();
  if (t == "boolean")
    return v.is_boolean();
  if (t == "integer")
    return v.is_number_integer() || v.is_number_unsigned();
  if (t == "number")
    return v.is_number();
  if (t == "string")
    return v.is_string();
  if (t == "array")
    return v.is_array();
  if (t == "object")
    return v.is_object();
  return false;
}

const json* resolve(const json& root, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0)
    return nullptr;
  const json::json_pointer p{ref.substr(1)};
  return root.contains(p) ? &root.at(p) : nullptr;
}

void check(const json& v, const json& s, const json& root, const std::string& at,
           std::vector<std::string>& errs, int depth) {
  if (depth > 64) {
    errs.push_back(at + ": schema nests too deep");
    return;
  }
  if (!s.is_object())
    return;
  if (auto r = s.find("$ref"); r != s.end()) {
    const json* target = resolve(root, r->get<std::string>());
    if (!target)
      errs.push_back(at + ": unresolved $ref " + r->get<std::string>());
    else
      check(v, *target, root, at, errs, depth + 1);
  }
  if (auto t = s.find("type"); t != s.end()) {
    bool ok = false;
    if (t->is_string())
      ok = has_type(v, *t);
    else
      for (auto& one : *t)
        ok = ok || has_type(v, one);
    if (!ok) {
      errs.push_back(at + ": expected type " + t->dump() + ", got " + v.dump().substr(0, 80));
      return;
    }
  }
  if (auto e = s.find("enum"); e != s.end()) {
    bool found = false;
    for (auto& x : *e)
      found = found || x == v;
    if (!found)
      errs.push_back(at + ": " + v.dump() + " is not one of " + e->dump());
  }
  if (v.is_object()) {
    if (auto req = s.find("required"); req != s.end())
      for (auto& name : *req)
        if (!v.contains(name.get<std::string>()))
          errs.push_back(at + ": missing required " + name.get<std::string>());
    if (auto props = s.find("properties"); props != s.end())
      for (auto& [name, sub] : props->items())
        if (auto x = v.find(name); x != v.end())
          check(*x, sub, root, at + "/" + name, errs, depth + 1);
  }
  if (v.is_array())
    if (auto items = s.find("items"); items != s.end())
      for (size_t i = 0; i < v.size(); ++i)
        check(v[i], *items, root, at + "/" + std::to_string(i), errs, depth + 1);
  if (auto all = s.find("allOf"); all != s.end())
    for (auto& sub : *all)
      check(v, sub, root, at, errs, depth + 1);
  for (const char* kw : {"anyOf", "oneOf"}) {
    auto any = s.find(kw);
    if (any == s.end())
      continue;
    size_t fits = 0;
    for (auto& sub : *any) {
      std::vector<std::string> sub_errs;
      check(v, sub, root, at, sub_errs, depth + 1);
      fits += sub_errs.empty();
    }
    if (fits == 0 || (std::string{kw} == "oneOf" && fits > 1))
      errs.push_back(at + ": " + std::to_string(fits) + " of the " + kw + " schemas fit");
  }
}

} // namespace

std::vector<std::string> schema_errors(const json& value, const json& schema, const json& root) {
  std::vector<std::string> errs;
  check(value, schema, root, "", errs, 0);
  return errs;
}

} // namespace hlsgate::test
