#include "domains/resolver.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/ascii.hpp"

namespace breakpilot::domains {
namespace {

Error Unanswered(const std::string& name) {
  return Error{.kind = ErrorKind::kUnavailable,
               .type = "dns-unavailable",
               .title = "DNS does not answer",
               .detail = "the resolver gave no answer for " + name + "; try again later"};
}

// A DNS name as compared: lower case, no trailing dot.
std::string Canonical(std::string_view name) {
  std::string s = AsciiLowerCopy(name);
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Resolver::Resolver(std::string server) : server_(std::move(server)) {}

Result<std::vector<std::string>> Resolver::Cname(const std::string& name) const {
  return Query(name, ns_t_cname);
}

Result<std::vector<std::string>> Resolver::Txt(const std::string& name) const {
  return Query(name, ns_t_txt);
}

Result<std::vector<std::string>> Resolver::Query(const std::string& name, int type) const {
  struct __res_state state {};
  if (res_ninit(&state) != 0) return Unanswered(name);
  state.retrans = 2;
  state.retry = 2;
  if (!server_.empty()) {
    const auto colon = server_.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(server_.substr(colon + 1))));
    if (inet_pton(AF_INET, server_.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
      res_nclose(&state);
      return Unanswered(name);
    }
    state.nscount = 1;
    state.nsaddr_list[0] = addr;
  }
  std::array<unsigned char, 4096> answer{};
  const int n = res_nquery(&state, name.c_str(), ns_c_in, type, answer.data(),
                           static_cast<int>(answer.size()));
  const int herr = state.res_h_errno;
  res_nclose(&state);
  std::vector<std::string> out;
  if (n < 0) {
    // No such name, or no record of this type: an answer, and an empty one.
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) return out;
    return Unanswered(name);
  }
  ns_msg msg{};
  if (ns_initparse(answer.data(), n, &msg) != 0) return Unanswered(name);
  const int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr{};
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) continue;
    if (ns_rr_type(rr) != type) continue;
    if (type == ns_t_cname) {
      std::array<char, NS_MAXDNAME> target{};
      if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr), target.data(),
                             target.size()) < 0) {
        continue;
      }
      out.push_back(Canonical(target.data()));
    } else {
      // TXT: length-prefixed strings, joined.
      const unsigned char* p = ns_rr_rdata(rr);
      const unsigned char* end = p + ns_rr_rdlen(rr);
      std::string text;
      while (p < end) {
        const std::size_t len = *p++;
        if (static_cast<std::size_t>(end - p) < len) break;
        text.append(reinterpret_cast<const char*>(p), len);
        p += len;
      }
      out.push_back(std::move(text));
    }
  }
  return out;
}

}  // namespace breakpilot::domains
