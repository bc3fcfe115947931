#include "mail/message.hpp"

#include <kainjow/mustache.hpp>

#include <algorithm>

#include "core/crypto.hpp"
#include "core/embedded.hpp"

namespace breakpilot::mail {
namespace {

using Mustache = kainjow::mustache::mustache;
using MustacheData = kainjow::mustache::data;

MustacheData ToData(const boost::json::object& vars) {
  MustacheData d;
  for (const auto& [k, v] : vars) {
    if (v.is_string()) {
      d.set(std::string(k), std::string(v.as_string()));
    } else if (v.is_bool()) {
      d.set(std::string(k),
            v.as_bool() ? MustacheData::type::bool_true : MustacheData::type::bool_false);
    } else {
      d.set(std::string(k), boost::json::serialize(v));
    }
  }
  return d;
}

std::string Render(std::string_view name, std::string_view part, const MustacheData& data,
                   bool html) {
  const std::string path =
      "templates/email/" + std::string(name) + "." + std::string(part) + ".mustache";
  const auto text = embedded::Find(path);
  if (!text) throw std::out_of_range(path);
  Mustache tmpl{std::string(*text)};
  if (!tmpl.is_valid()) throw std::runtime_error(path + ": " + tmpl.error_message());
  if (!html) tmpl.set_custom_escape([](const std::string& s) { return s; });
  return tmpl.render(data);
}

void AppendBase64Lines(std::string& out, std::string_view body) {
  const std::string b64 = Base64Encode(body);
  for (std::size_t i = 0; i < b64.size(); i += 76) {
    out.append(b64, i, 76).append("\r\n");
  }
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80 && c != '\r'; });
}

// No header value may break the header block.
std::string HeaderSafe(std::string_view v) {
  std::string out(v);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

std::string EncodeSubject(std::string_view subject) {
  std::string safe = HeaderSafe(subject);
  if (IsAscii(safe)) return safe;
  return "=?UTF-8?B?" + Base64Encode(safe) + "?=";
}

}  // namespace

Result<Rendered> RenderTemplate(std::string_view name, const boost::json::object& vars) {
  if (!embedded::Find("templates/email/" + std::string(name) + ".subject.mustache")) {
    return NotFound("mail-template-not-found", "no mail template " + std::string(name));
  }
  const MustacheData data = ToData(vars);
  Rendered r;
  r.subject = Render(name, "subject", data, false);
  r.text = Render(name, "txt", data, false);
  r.html = Render(name, "html", data, true);
  return r;
}

std::string ComposeMessage(const MessageSpec& spec) {
  const std::string boundary = "=_bp_" + Sha256Hex(spec.message_id).substr(0, 24);
  std::string m;
  m.reserve(spec.rendered.text.size() * 3 + 1024);
  const auto header = [&](std::string_view name, std::string_view value) {
    m.append(name).append(": ").append(HeaderSafe(value)).append("\r\n");
  };
  header("From", spec.from);
  header("To", spec.to);
  m.append("Subject: ").append(EncodeSubject(spec.rendered.subject)).append("\r\n");
  header("Date", FormatRfc5322(spec.date));
  header("Message-ID", "<" + spec.message_id + ">");
  header("MIME-Version", "1.0");
  if (!spec.unsubscribe_url.empty()) {
    header("List-Unsubscribe", "<" + spec.unsubscribe_url + ">");
    header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  }
  header("Auto-Submitted", "auto-generated");
  header("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");
  m.append("\r\n");
  const auto part = [&](std::string_view type, std::string_view body) {
    m.append("--").append(boundary).append("\r\n");
    m.append("Content-Type: ").append(type).append("; charset=utf-8\r\n");
    m.append("Content-Transfer-Encoding: base64\r\n\r\n");
    std::string canonical;  // text in canonical form: CRLF line ends (RFC 2046 §4.1.1)
    canonical.reserve(body.size() + body.size() / 32);
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) canonical.push_back('\r');
      canonical.push_back(body[i]);
    }
    AppendBase64Lines(m, canonical);
  };
  part("text/plain", spec.rendered.text);
  part("text/html", spec.rendered.html);
  m.append("--").append(boundary).append("--\r\n");
  return m;
}

std::optional<std::string> NormalizeAddress(std::string_view address) {
  if (address.empty() || address.size() > 254) return std::nullopt;
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= address.size() ||
      address.find('@', at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(address.size());
  for (char c : address) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '(' || c == ')' || c == '\\' || c == '[' || c == ']' || c == ':') {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(std::tolower(u)));
  }
  const std::string_view domain = std::string_view(out).substr(at + 1);
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  return out;
}

std::string DomainOf(std::string_view from) {
  auto at = from.rfind('@');
  if (at == std::string_view::npos) return "localhost";
  std::string_view d = from.substr(at + 1);
  if (const auto gt = d.find('>'); gt != std::string_view::npos) d = d.substr(0, gt);
  return d.empty() ? "localhost" : std::string(d);
}

}  // namespace breakpilot::mail
