// How the portal's pages look: mustache templates embedded from templates/portal/, the strings
// of each language (templates/portal/i18n/<lang>.json), and the static assets with
// content-hashed names (/assets/portal.<hash>.css ...), the design tokens among them.
// Values are HTML-escaped by the templates; only the layout takes the page's rendered body.
//
//   boost::json::object data{{"keys", ...}};
//   std::string body = portal::RenderPage("api_keys", Lang::kEn, data, frame);   // the whole
//   document
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::portal {

enum class Lang { kEn, kDe };
std::string_view LangCode(Lang lang);  // "en"
std::optional<Lang> ParseLang(std::string_view code);
// The `lang` cookie when set, else the first of de/en in Accept-Language, else English.
Lang PickLang(std::string_view cookie, std::string_view accept_language);
// The strings of a language, as the templates see them (`t.<key>`).
const boost::json::object& Strings(Lang lang);
std::string_view String(Lang lang, std::string_view key);
// A tenant status ("frozen") in words of the language ("Eingefroren (nur lesen)").
// A use case's refusal (its detail and field messages are English) in `lang`: through
// templates/portal/i18n/errors.<lang>.json by the refusal's type, a field's message exactly or
// by its beginning; what that file lacks stays English, so nothing said is lost.
std::string DomainMessage(Lang lang, const Error& e);
std::string_view StatusText(Lang lang, tenants::Status status);

// A static file of the portal, served at `path` (content-hashed: cached for a year).
struct Asset {
  std::string path;  // "/assets/portal.3f2a9c1d0b7e.css"
  std::string content_type;
  std::string body;
  std::string gzip;  // the body gzip-compressed ("" when that is not smaller)
  std::string etag;
};

class Assets {
 public:
  static const Assets& Get();  // built once, from the embedded files
  const Asset* Find(std::string_view path) const;
  // The layout's links: {"css": path, "tokens": path, "js": path, "icon": path}.
  const boost::json::object& links() const { return links_; }

 private:
  Assets();
  std::vector<Asset> assets_;
  boost::json::object links_;
};

// The CSS custom properties of the design tokens (light, and dark under
// prefers-color-scheme: dark), from templates/portal/design-tokens.json.
std::string DesignTokensCss(std::string_view tokens_json);

// One page template (templates/portal/<name>.html.mustache) with `data`, in `lang`. A
// template's `{{t.key}}` is the string `key` of the language, put in (escaped) once when the
// template is compiled for that language, not looked up on every render.
std::string RenderFragment(std::string_view name, Lang lang, const boost::json::object& data);
// The whole document: the page `name` inside the layout. `frame` holds what the layout shows
// (title, lang, nav, user, csrf, banners); the page sees frame and data together.
std::string RenderPage(std::string_view name, Lang lang, boost::json::object data,
                       const boost::json::object& frame);

}  // namespace breakpilot::portal
