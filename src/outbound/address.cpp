#include "outbound/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <boost/url/parse.hpp>

#include <cstring>
#include <memory>

namespace breakpilot::outbound {
namespace {

bool InV4(const std::uint8_t* b, std::uint32_t net, int bits) {
  const std::uint32_t ip = (std::uint32_t{b[0]} << 24U) | (std::uint32_t{b[1]} << 16U) |
                           (std::uint32_t{b[2]} << 8U) | std::uint32_t{b[3]};
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << static_cast<unsigned>(32 - bits);
  return (ip & mask) == (net & mask);
}

constexpr std::uint32_t V4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24U) | (b << 16U) | (c << 8U) | d;
}

AddressClass ClassifyV4(const std::uint8_t* b) {
  if (InV4(b, V4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (InV4(b, V4(0, 0, 0, 0), 8)) return AddressClass::kUnspecified;
  if (InV4(b, V4(10, 0, 0, 0), 8) || InV4(b, V4(172, 16, 0, 0), 12) ||
      InV4(b, V4(192, 168, 0, 0), 16)) {
    return AddressClass::kPrivate;
  }
  if (InV4(b, V4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (InV4(b, V4(100, 64, 0, 0), 10)) return AddressClass::kSharedNat;
  if (InV4(b, V4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (InV4(b, V4(240, 0, 0, 0), 4) || InV4(b, V4(192, 0, 0, 0), 24) ||
      InV4(b, V4(192, 0, 2, 0), 24) || InV4(b, V4(198, 18, 0, 0), 15) ||
      InV4(b, V4(198, 51, 100, 0), 24) || InV4(b, V4(203, 0, 113, 0), 24)) {
    return AddressClass::kReserved;  // 255.255.255.255 is in 240/4
  }
  return AddressClass::kPublic;
}

bool Prefix(const std::array<std::uint8_t, 16>& b, std::initializer_list<std::uint8_t> head) {
  std::size_t i = 0;
  for (std::uint8_t x : head) {
    if (b[i++] != x) return false;
  }
  return true;
}

}  // namespace

std::string_view ToString(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kLinkLocal: return "link-local (cloud metadata)";
    case AddressClass::kSharedNat: return "shared NAT (100.64/10)";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kReserved: return "reserved";
  }
  return "unknown";
}

std::string Address::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<Address> ParseAddress(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string s(text);
  Address a;
  in6_addr v6{};
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
    a.v6 = true;
    std::memcpy(a.bytes.data(), &v6, 16);
    return a;
  }
  in_addr v4{};
  // inet_aton, as the resolver: 127.1, 2130706433, 0x7f000001, 0177.0.0.1 are all 127.0.0.1.
  if (inet_aton(s.c_str(), &v4) == 0) return std::nullopt;
  std::memcpy(a.bytes.data(), &v4, 4);
  return a;
}

AddressClass Classify(const Address& a) {
  if (!a.v6) return ClassifyV4(a.bytes.data());
  const auto& b = a.bytes;
  const bool zero80 = std::all_of(b.begin(), b.begin() + 10, [](auto x) { return x == 0; });
  if (zero80 && b[10] == 0xff && b[11] == 0xff) return ClassifyV4(&b[12]);  // ::ffff:a.b.c.d
  if (std::all_of(b.begin(), b.begin() + 12, [](auto x) { return x == 0; })) {
    if (std::all_of(b.begin() + 12, b.end() - 1, [](auto x) { return x == 0; })) {
      if (b[15] == 0) return AddressClass::kUnspecified;
      if (b[15] == 1) return AddressClass::kLoopback;
    }
    return ClassifyV4(&b[12]);  // IPv4-compatible ::a.b.c.d (deprecated)
  }
  if (Prefix(b, {0x00, 0x64, 0xff, 0x9b}) &&
      std::all_of(b.begin() + 4, b.begin() + 12, [](auto x) { return x == 0; })) {
    return ClassifyV4(&b[12]);  // NAT64 64:ff9b::/96
  }
  if (Prefix(b, {0x20, 0x02})) return ClassifyV4(&b[2]);      // 6to4 2002:V4ADDR::/48
  if ((b[0] & 0xfeU) == 0xfc) return AddressClass::kPrivate;  // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0U) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0U) == 0xc0) return AddressClass::kPrivate;    // fec0::/10
  if (b[0] == 0xff) return AddressClass::kMulticast;
  if (Prefix(b, {0x20, 0x01, 0x0d, 0xb8}) ||
      (Prefix(b, {0x01, 0x00}) &&
       std::all_of(b.begin() + 2, b.begin() + 8, [](auto x) { return x == 0; }))) {
    return AddressClass::kReserved;  // documentation 2001:db8::/32, discard 100::/64
  }
  return AddressClass::kPublic;
}

bool Allowed(const Address& a, const TargetPolicy& policy) {
  const AddressClass c = Classify(a);
  if (c == AddressClass::kPublic) return true;
  return policy.allow_private && (c == AddressClass::kLoopback || c == AddressClass::kPrivate);
}

Result<std::vector<Address>> CheckUrl(std::string_view url, const TargetPolicy& policy) {
  auto unsafe = [](std::string detail) {
    return InvalidInput("unsafe-url", "URL not allowed", std::move(detail),
                        {{"/url", "not allowed"}});
  };
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u || url.size() > 2000) return unsafe("the URL is not an absolute http(s) URL");
  const std::string scheme(u->scheme());
  if (scheme != "https" && (scheme != "http" || policy.https_only)) {
    return unsafe(policy.https_only ? "the URL must be https://" : "the URL must be http(s)://");
  }
  if (u->has_userinfo()) return unsafe("the URL must not carry credentials");
  std::string host(u->encoded_host());
  if (host.empty()) return unsafe("the URL has no host");
  std::vector<Address> out;
  if (auto literal = ParseAddress(u->host_type() == boost::urls::host_type::ipv6
                                      ? std::string_view(u->encoded_host_and_port())
                                            .substr(0, u->encoded_host_and_port().find(']') + 1)
                                      : std::string_view(host))) {
    out.push_back(*literal);
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
      return InvalidInput("unresolvable-host", "Host does not resolve",
                          "the host name '" + host + "' does not resolve",
                          {{"/url", "does not resolve"}});
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> hold(found, &freeaddrinfo);
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
      Address a;
      if (ai->ai_family == AF_INET) {
        std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr,
                    4);
      } else if (ai->ai_family == AF_INET6) {
        a.v6 = true;
        std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr,
                    16);
      } else {
        continue;
      }
      out.push_back(a);
    }
  }
  for (const auto& a : out) {
    if (!Allowed(a, policy)) {
      return unsafe("'" + host + "' leads to " + a.ToString() + ", a " +
                    std::string(ToString(Classify(a))) + " address");
    }
  }
  if (out.empty()) {
    return InvalidInput("unresolvable-host", "Host does not resolve",
                        "the host name '" + host + "' has no address",
                        {{"/url", "does not resolve"}});
  }
  return out;
}

}  // namespace breakpilot::outbound
