#include "portal/flag_pages.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace breakpilot::portal {
namespace {

namespace json = boost::json;

// A default typed in a form, as the flag's type wants it: "true"/"false" for a boolean flag.
json::value DefaultFrom(const std::string& type, const std::string& text) {
  if (type == "boolean" && (text == "true" || text == "false")) return text == "true";
  return json::string(text);
}

// The rules textarea: empty is no rules; otherwise a JSON array, as the API takes it.
Result<json::value> RulesFrom(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return json::value(json::array{});
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) {
    return InvalidInput("invalid-rules", "Invalid rules",
                        "the rules must be a JSON array such as "
                        "[{\"plans\":[\"enterprise\"],\"value\":true}]");
  }
  return v;
}

bool Has(const api::Form& form, std::string_view name) {
  return std::any_of(form.begin(), form.end(), [&](const auto& kv) { return kv.first == name; });
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string FlagPages::Describe(const flags::Rule& r) {
  std::vector<std::string> parts;
  if (!r.tenants.empty()) {
    std::vector<std::string> names;
    for (const auto& id : r.tenants) {
      auto t = services_.tenants.Get(id);
      names.push_back(t ? t->slug : id);
    }
    parts.push_back("tenants " + Joined(names));
  }
  if (!r.plans.empty()) parts.push_back("plans " + Joined(r.plans));
  if (!r.statuses.empty()) parts.push_back("statuses " + Joined(r.statuses));
  if (!r.kinds.empty()) parts.push_back("kinds " + Joined(r.kinds));
  if (r.percentage) parts.push_back(std::to_string(*r.percentage) + " %");
  std::string out = parts.empty() ? std::string("everyone") : Joined(parts);
  return out + " \u2192 " + flags::VariantOf(r.value);
}

http::Response FlagPages::Render(const Visit& v, const json::object& extra, int status) {
  json::array rows;
  for (const auto& f : services_.flags.List()) {
    json::array rules;
    for (const auto& r : f.rules) rules.emplace_back(Describe(r));
    const json::object definition = flags::ToJson(f, false);
    rows.push_back(json::object{{"key", f.key},
                                {"type", flags::Name(f.type)},
                                {"boolean", f.type == flags::FlagType::kBoolean},
                                {"description", f.description},
                                {"default", flags::VariantOf(f.default_value)},
                                {"default_text", json::serialize(definition.at("default"))},
                                {"default_on", f.default_value == flags::Value(true)},
                                {"rules", std::move(rules)},
                                {"has_rules", !f.rules.empty()},
                                {"rules_json", json::serialize(definition.at("rules"))},
                                {"version", f.version},
                                {"csrf", v.session ? v.session->csrf_token : ""}});
  }
  json::object data{{"has_flags", !rows.empty()},
                    {"flags", std::move(rows)},
                    {"can_manage", May(v, identity::Action::kFlagManage)},
                    {"csrf", v.session ? v.session->csrf_token : ""}};
  for (const auto& [k, x] : extra) data[k] = x;
  return PageResponse(v, "flags", "flags_nav", std::move(data), status);
}

Result<http::Response> FlagPages::List(http::Request& req, const Visit& v) {
  json::object notice = NoticeIf(req, v, "saved", "flag_saved");
  if (notice.empty()) notice = NoticeIf(req, v, "deleted", "flag_deleted");
  return Render(v, notice, 200);
}

Result<http::Response> FlagPages::Create(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  const auto key = FormField(*form, "key");
  const auto type = FormField(*form, "type");
  const auto description = FormField(*form, "description");
  const auto rules_text = FormField(*form, "rules");
  const auto refused = [&](const Error& e) {
    return Render(v,
                  {{"error", DomainMessage(v.lang, e)},
                   {"form_key", key.substr(0, 64)},
                   {"form_variant", type == "variant"},
                   {"form_default", FormField(*form, "default").substr(0, 64)},
                   {"form_description", description.substr(0, 500)},
                   {"form_rules", rules_text.substr(0, 100'000)}},
                  FormStatus(e));
  };
  auto rules = RulesFrom(rules_text);
  if (!rules) return refused(rules.error());
  json::object definition{{"key", key},
                          {"type", type},
                          {"description", description},
                          {"default", DefaultFrom(type, FormField(*form, "default"))},
                          {"rules", *rules}};
  auto made = services_.flags.Create(v.actor, definition);
  if (!made) return refused(made.error());
  return SeeOther("/flags?saved=1#flag-" + made->key);
}

Result<http::Response> FlagPages::Change(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  const std::string key(req.Param("key").value_or(""));
  auto flag = services_.flags.Get(key);
  if (!flag) return Render(v, {{"error", DomainMessage(v.lang, flag.error())}}, 404);
  json::object patch;
  if (Has(*form, "default")) {
    patch["default"] =
        DefaultFrom(std::string(flags::Name(flag->type)), FormField(*form, "default"));
  }
  if (Has(*form, "description")) patch["description"] = FormField(*form, "description");
  if (Has(*form, "rules")) {
    auto rules = RulesFrom(FormField(*form, "rules"));
    if (!rules) return Render(v, {{"error", DomainMessage(v.lang, rules.error())}}, 422);
    patch["rules"] = *rules;
  }
  // The version the form was made from: a change by someone else since is refused (412).
  std::optional<std::int64_t> version;
  if (const auto text = FormField(*form, "version"); !text.empty()) {
    try {
      version = std::stoll(text);
    } catch (const std::exception&) {
      version = -1;
    }
  }
  auto changed = services_.flags.Patch(v.actor, key, patch, version);
  if (!changed) {
    return Render(v, {{"error", DomainMessage(v.lang, changed.error())}},
                  FormStatus(changed.error()));
  }
  return SeeOther("/flags?saved=1#flag-" + key);
}

Result<http::Response> FlagPages::Delete(http::Request& req, const Visit& v) {
  auto form = api::ParseForm(req);
  if (!form) return Render(v, {{"error", form.error().detail}}, 400);
  auto done = services_.flags.Delete(v.actor, std::string(req.Param("key").value_or("")));
  if (!done) {
    return Render(v, {{"error", DomainMessage(v.lang, done.error())}}, FormStatus(done.error()));
  }
  return SeeOther("/flags?deleted=1");
}

std::vector<Page> FlagPages::Pages() {
  using A = identity::Action;
  return {{.method = "GET",
           .pattern = "/flags",
           .name = "flags",
           .sites = kOnBackstage,
           .action = A::kFlagRead,
           .nav = "flags_nav",
           .handler = Bind(this, &FlagPages::List)},
          {.method = "POST",
           .pattern = "/flags",
           .name = "flag_create",
           .sites = kOnBackstage,
           .action = A::kFlagManage,
           .handler = Bind(this, &FlagPages::Create)},
          {.method = "POST",
           .pattern = "/flags/{key}",
           .name = "flag_change",
           .sites = kOnBackstage,
           .action = A::kFlagManage,
           .handler = Bind(this, &FlagPages::Change)},
          {.method = "POST",
           .pattern = "/flags/{key}/delete",
           .name = "flag_delete",
           .sites = kOnBackstage,
           .action = A::kFlagManage,
           .handler = Bind(this, &FlagPages::Delete)}};
}

}  // namespace breakpilot::portal
