#include "portal/site.hpp"

#include "core/ascii.hpp"

namespace breakpilot::portal {
namespace {

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

std::string HostName(std::string_view host) {
  if (host.empty() || host.size() > 255 || host.front() == '[') return {};  // IPv6: never ours
  if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    const auto port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5) return {};
    for (const char c : port) {
      if (c < '0' || c > '9') return {};
    }
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out;
  out.reserve(host.size());
  for (const char c : host) {
    const char l = AsciiLower(c);
    if (!IsLabelChar(l) && l != '.') return {};
    out.push_back(l);
  }
  return out;
}

Site Classify(std::string_view host, std::string_view portal_domain) {
  if (portal_domain.empty()) return {};
  const std::string name = HostName(host);
  if (name.empty()) return {};
  if (name == portal_domain) return {SiteKind::kPublic, {}};
  if (name.size() <= portal_domain.size() + 1) return {};
  const auto suffix_at = name.size() - portal_domain.size();
  if (name.compare(suffix_at, std::string::npos, portal_domain) != 0 ||
      name[suffix_at - 1] != '.') {
    return {};
  }
  std::string label = name.substr(0, suffix_at - 1);
  // One label only: a.b.D is no face of ours. api.D stays the API.
  if (label.empty() || label.find('.') != std::string::npos || label == "api") return {};
  if (label == "backstage") return {SiteKind::kBackstage, {}};
  if (label == "mcp") return {SiteKind::kMcp, {}};
  return {SiteKind::kTenant, std::move(label)};
}

void ToMcpGateway(std::string& path, std::string& target) {
  path.insert(0, "/mcp");
  target.insert(0, "/mcp");
}

std::string SiteUrl(std::string_view public_url, std::string_view domain, std::string_view label) {
  std::string_view scheme = "http";
  std::string_view port;
  if (const auto at = public_url.find("://"); at != std::string_view::npos) {
    scheme = public_url.substr(0, at);
    auto authority = public_url.substr(at + 3);
    authority = authority.substr(0, authority.find('/'));
    const auto bracket = authority.rfind(']');  // an IPv6 literal's colons are not the port's
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
      port = authority.substr(colon);
    }
  }
  std::string url(scheme);
  url += "://";
  if (!label.empty()) {
    url += label;
    url += '.';
  }
  url += domain;
  url += port;
  return url;
}

}  // namespace breakpilot::portal
