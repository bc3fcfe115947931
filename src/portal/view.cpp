#include "portal/view.hpp"

#include <zlib.h>
#include <kainjow/mustache.hpp>

#include <boost/json.hpp>

#include <map>
#include <memory>
#include <stdexcept>

#include "core/ascii.hpp"
#include "core/crypto.hpp"
#include "core/embedded.hpp"

namespace breakpilot::portal {
namespace {

using Mustache = kainjow::mustache::mustache;
using MustacheData = kainjow::mustache::data;

std::string_view Embedded(const std::string& path) {
  const auto text = embedded::Find(path);
  if (!text) throw std::out_of_range("not embedded: " + path);
  return *text;
}

MustacheData ToData(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      MustacheData d;
      for (const auto& [k, x] : v.get_object()) d.set(std::string(k), ToData(x));
      return d;
    }
    case boost::json::kind::array: {
      MustacheData d(MustacheData::type::list);
      for (const auto& x : v.get_array()) d.push_back(ToData(x));
      return d;
    }
    case boost::json::kind::string: return MustacheData(std::string(v.get_string()));
    case boost::json::kind::bool_:
      return MustacheData(v.get_bool() ? MustacheData::type::bool_true
                                       : MustacheData::type::bool_false);
    case boost::json::kind::null: return MustacheData(MustacheData::type::bool_false);
    default: return MustacheData(boost::json::serialize(v));
  }
}

// A template's text with every {{t.key}} replaced by the language's string, HTML-escaped as
// mustache would have escaped it.
std::string Translated(std::string_view text, Lang lang) {
  static constexpr std::string_view kOpen = "{{t.";
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (auto open = text.find(kOpen); open != std::string_view::npos; open = text.find(kOpen, at)) {
    const auto close = text.find("}}", open);
    if (close == std::string_view::npos) break;
    out.append(text.substr(at, open - at));
    const auto key = text.substr(open + kOpen.size(), close - open - kOpen.size());
    out += kainjow::mustache::html_escape(std::string(String(lang, key)));
    at = close + 2;
  }
  out.append(text.substr(at));
  return out;
}

// Compiled templates, per thread (kainjow's render is not const) and language.
Mustache& Template(std::string_view name, Lang lang) {
  thread_local std::map<std::string, std::unique_ptr<Mustache>, std::less<>> compiled;
  const std::string id = std::string(LangCode(lang)) + "/" + std::string(name);
  auto it = compiled.find(id);
  if (it == compiled.end()) {
    const std::string path = "templates/portal/" + std::string(name) + ".html.mustache";
    auto t = std::make_unique<Mustache>(Translated(Embedded(path), lang));
    if (!t->is_valid()) throw std::runtime_error(path + ": " + t->error_message());
    it = compiled.emplace(id, std::move(t)).first;
  }
  return *it->second;
}

boost::json::object LoadStrings(std::string_view code) {
  return boost::json::parse(Embedded("templates/portal/i18n/" + std::string(code) + ".json"))
      .as_object();
}

std::string Gzip(std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));  // NOLINT: zlib's C API
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());  // NOLINT: zlib's C API
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END && out.size() < in.size() ? out : std::string();
}

Asset MakeAsset(const std::string& stem, std::string_view ext, std::string content_type,
                std::string body) {
  const std::string hash = Sha256Hex(body).substr(0, 12);
  Asset a{.path = "/assets/" + stem + "." + hash + "." + std::string(ext),
          .content_type = std::move(content_type),
          .body = std::move(body),
          .gzip = {},
          .etag = "\"" + hash + "\""};
  a.gzip = Gzip(a.body);
  return a;
}

std::string CssValue(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_array()) {  // a font family list
    std::string out;
    for (const auto& x : v.get_array()) {
      if (!out.empty()) out += ", ";
      const std::string name(x.as_string());
      out += name.find(' ') != std::string::npos ? "\"" + name + "\"" : name;
    }
    return out;
  }
  return boost::json::serialize(v);
}

// Walks the token tree: a member with $value is a token named by its path.
void CollectTokens(const boost::json::object& group, const std::string& prefix, std::string& light,
                   std::string& dark) {
  if (const auto* value = group.if_contains("$value")) {
    light += "  --" + prefix + ": " + CssValue(*value) + ";\n";
    if (const auto* ext = group.if_contains("$extensions"); ext && ext->is_object()) {
      if (const auto* d = ext->as_object().if_contains("com.breakpilot.dark")) {
        dark += "    --" + prefix + ": " + CssValue(*d) + ";\n";
      }
    }
    return;
  }
  for (const auto& [k, v] : group) {
    if (!k.empty() && k.front() == '$') continue;
    if (v.is_object()) {
      CollectTokens(v.as_object(), prefix.empty() ? std::string(k) : prefix + "-" + std::string(k),
                    light, dark);
    }
  }
}

}  // namespace

std::string_view LangCode(Lang lang) {
  return lang == Lang::kDe ? "de" : "en";
}

std::optional<Lang> ParseLang(std::string_view code) {
  if (code == "en") return Lang::kEn;
  if (code == "de") return Lang::kDe;
  return std::nullopt;
}

Lang PickLang(std::string_view cookie, std::string_view accept_language) {
  if (auto l = ParseLang(cookie)) return *l;
  // The first listed language we speak (quality values are rarely other than descending).
  std::size_t at = 0;
  while (at < accept_language.size()) {
    auto end = accept_language.find(',', at);
    if (end == std::string_view::npos) end = accept_language.size();
    auto item = accept_language.substr(at, end - at);
    item = item.substr(0, item.find(';'));
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const auto primary = item.substr(0, item.find('-'));
    if (AsciiIEquals(primary, "de")) return Lang::kDe;
    if (AsciiIEquals(primary, "en")) return Lang::kEn;
    at = end + 1;
  }
  return Lang::kEn;
}

const boost::json::object& Strings(Lang lang) {
  static const boost::json::object kEn = LoadStrings("en");
  static const boost::json::object kDe = LoadStrings("de");
  return lang == Lang::kDe ? kDe : kEn;
}

std::string_view String(Lang lang, std::string_view key) {
  const auto* v = Strings(lang).if_contains(key);
  if (!v || !v->is_string()) throw std::out_of_range("no portal string " + std::string(key));
  return v->get_string();
}

std::string DomainMessage(Lang lang, const Error& e) {
  static const boost::json::object kNone;
  static const boost::json::object kDe =
      boost::json::parse(Embedded("templates/portal/i18n/errors.de.json")).as_object();
  const auto& table = lang == Lang::kDe ? kDe : kNone;
  const auto part = [&](std::string_view name) -> const boost::json::object& {
    const auto* o = table.if_contains(name);
    return o != nullptr && o->is_object() ? o->get_object() : kNone;
  };
  const auto field_message = [&](const std::string& m) {
    if (const auto* t = part("fields").if_contains(m); t != nullptr && t->is_string()) {
      return std::string(t->get_string());
    }
    for (const auto& [prefix, t] : part("prefixes")) {
      if (m.starts_with(prefix) && t.is_string()) {
        return std::string(t.get_string()) + m.substr(prefix.size());
      }
    }
    return m;
  };
  std::string message = e.detail;
  if (const auto* t = part("types").if_contains(e.type); t != nullptr && t->is_string()) {
    message = std::string(t->get_string());
    // A refusal of one input without field messages: its detail says which, untranslated.
    if (e.errors.empty() && e.kind == ErrorKind::kInvalidInput) {
      message += " (" + field_message(e.detail) + ")";
    }
  }
  for (const auto& fe : e.errors)
    message += " (" + fe.field + ": " + field_message(fe.message) + ")";
  return message;
}

std::string_view StatusText(Lang lang, tenants::Status status) {
  return String(lang, "status_" + std::string(tenants::ToString(status)));
}

std::string DesignTokensCss(std::string_view tokens_json) {
  const auto tokens = boost::json::parse(tokens_json).as_object();
  std::string light, dark;
  CollectTokens(tokens, "", light, dark);
  return "/* Generated from design-tokens.json (W3C design tokens format). */\n"
         ":root {\n  color-scheme: light dark;\n" +
         light + "}\n@media (prefers-color-scheme: dark) {\n  :root {\n" + dark + "  }\n}\n";
}

Assets::Assets() {
  assets_.push_back(MakeAsset("portal", "css", "text/css; charset=utf-8",
                              std::string(Embedded("templates/portal/assets/portal.css"))));
  assets_.push_back(MakeAsset("portal", "js", "text/javascript; charset=utf-8",
                              std::string(Embedded("templates/portal/assets/portal.js"))));
  assets_.push_back(MakeAsset("icon", "svg", "image/svg+xml",
                              std::string(Embedded("templates/portal/assets/icon.svg"))));
  std::string tokens = DesignTokensCss(Embedded("templates/portal/design-tokens.json"));
  assets_.push_back(MakeAsset("design-tokens", "css", "text/css; charset=utf-8", tokens));
  // Also at a fixed name, for products' web components that follow the portal's look.
  Asset fixed = assets_.back();
  fixed.path = "/assets/design-tokens.css";
  assets_.push_back(std::move(fixed));
  links_ = {{"css", assets_[0].path},
            {"js", assets_[1].path},
            {"icon", assets_[2].path},
            {"tokens", assets_[3].path}};
}

const Assets& Assets::Get() {
  static const Assets kAssets;
  return kAssets;
}

const Asset* Assets::Find(std::string_view path) const {
  for (const auto& a : assets_) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

std::string RenderFragment(std::string_view name, Lang lang, const boost::json::object& data) {
  return Template(name, lang).render(ToData(data));
}

std::string RenderPage(std::string_view name, Lang lang, boost::json::object data,
                       const boost::json::object& frame) {
  for (const auto& [k, v] : frame) {
    if (!data.contains(k)) data[k] = v;
  }
  boost::json::object layout = frame;
  layout["content"] = RenderFragment(name, lang, data);
  return RenderFragment("layout", lang, layout);
}

}  // namespace breakpilot::portal
