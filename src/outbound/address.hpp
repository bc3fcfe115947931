// Where an outbound call may go (the SSRF guard, M15.2): every IP address a customer's URL
// leads to is classified, and only public unicast addresses are allowed.
//
//   auto a = outbound::ParseAddress("0x7f000001");   // 127.0.0.1: inet_aton's numeric forms
//   outbound::Classify(*a) == outbound::AddressClass::kLoopback
//   auto ok = outbound::CheckUrl("https://hooks.example/x", policy);   // resolves, checks all
//
// Numeric host forms are read the way the system's resolver reads them (inet_aton: `127.1`,
// `2130706433`, `0x7f.1`, `0177.0.0.1`), so a URL cannot name an internal address in a form the
// check misses. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4
// (2002::/16) IPv6 addresses are judged by the IPv4 address inside them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace breakpilot::outbound {

enum class AddressClass {
  kPublic,
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fc00::/7 (ULA), fec0::/10
  kLinkLocal,    // 169.254/16 (cloud metadata at 169.254.169.254), fe80::/10
  kSharedNat,    // 100.64/10 (carrier-grade NAT)
  kMulticast,    // 224/4, ff00::/8
  kUnspecified,  // 0/8, ::
  kReserved,     // 240/4, broadcast, documentation and benchmarking ranges, 192.0.0/24, 100::/64
};
std::string_view ToString(AddressClass c);

struct Address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // v4: the first 4
  std::string ToString() const;
};

// An IP literal (IPv6 with or without brackets, IPv4 in any inet_aton form); nullopt otherwise.
std::optional<Address> ParseAddress(std::string_view text);
AddressClass Classify(const Address& a);

// Who may be called: production allows only public addresses over https; tests may allow
// loopback and private targets (--allow-private-webhook-targets).
struct TargetPolicy {
  bool https_only = true;
  bool allow_private = false;
};

// The URL's scheme, and every address its host resolves to: 422 "unsafe-url" naming the reason
// (a literal internal address, a name resolving to one, a scheme), 422 "unresolvable-host".
// Returns the addresses, for the connect-time check to compare.
Result<std::vector<Address>> CheckUrl(std::string_view url, const TargetPolicy& policy);
// The same judgement for one address about to be connected to (DNS rebinding).
bool Allowed(const Address& a, const TargetPolicy& policy);

}  // namespace breakpilot::outbound
