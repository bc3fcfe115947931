// DNS lookups for domain verification (M18.1), through a real resolver: the system's
// (/etc/resolv.conf), or one named server ("127.0.0.1:5353"), over glibc's resolver (libresolv).
// Each lookup has its own resolver state, so lookups run on any thread.
//
//   Resolver dns("");                       // the system's resolver
//   auto targets = dns.Cname("portal.customer.example");   // {"acme.breakpilot.example"}
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"

namespace breakpilot::domains {

class Resolver {
 public:
  // `server`: "host:port" (an IPv4 address) or empty for the system's configuration.
  explicit Resolver(std::string server = {});
  // The name's CNAME targets (lower case, no trailing dot); empty when it has none (NXDOMAIN or
  // no such record). kUnavailable when the resolver does not answer.
  Result<std::vector<std::string>> Cname(const std::string& name) const;
  // The name's TXT strings, each record's strings joined.
  Result<std::vector<std::string>> Txt(const std::string& name) const;

 private:
  Result<std::vector<std::string>> Query(const std::string& name, int type) const;
  std::string server_;
};

}  // namespace breakpilot::domains
