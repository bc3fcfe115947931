// Mail as data (M3.2): templates rendered into one RFC 5322 message, ready for SMTP or a file.
//
//   Rendered r = RenderTemplate("trial_day7", {{"tenant_name", "Acme"}, ...});
//   std::string eml = ComposeMessage({.from = "noreply@x", .to = "a@b", .rendered = r, ...});
//
// Templates live in templates/email/<name>.{subject,txt,html}.mustache and are compiled into the
// binary. HTML is escaped by mustache; subject and text are not (they are not HTML).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

namespace breakpilot::mail {

struct Rendered {
  std::string subject;
  std::string text;
  std::string html;
};

// kNotFound for an unknown template; throws on a template that does not parse (a bug).
Result<Rendered> RenderTemplate(std::string_view name, const boost::json::object& vars);

struct MessageSpec {
  std::string from;  // "Breakpilot <noreply@breakpilot.com>" or a bare address
  std::string to;
  std::string message_id;  // without angle brackets: "<id>@<domain>"
  Timestamp date;
  Rendered rendered;
  // RFC 8058 one-click unsubscribe: an HTTPS URL that takes a POST; empty for mail that is
  // not optional (a verification link, the final export).
  std::string unsubscribe_url;
};

// A multipart/alternative message with CRLF line ends, bodies base64 in 76-column lines, a
// subject encoded per RFC 2047 when it is not ASCII.
std::string ComposeMessage(const MessageSpec& spec);

// Lower-cases and checks an address (one '@', no spaces or header-breaking characters, at most
// 254 bytes); nullopt when it is not one we send to.
std::optional<std::string> NormalizeAddress(std::string_view address);

// The domain of a From value, for Message-IDs ("noreply@breakpilot.com" -> "breakpilot.com").
std::string DomainOf(std::string_view from);

}  // namespace breakpilot::mail
