#include "audit/entry.hpp"

#include "core/crypto.hpp"

namespace breakpilot::audit {
namespace {

// Length-prefixed, so no choice of values can make two different rows hash alike.
void Put(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

}  // namespace

std::string ChainOf(const std::optional<std::string>& tenant_id) {
  return tenant_id ? *tenant_id : std::string(kPlatformChain);
}

std::string GenesisHash(std::string_view chain) {
  return Sha256Hex("breakpilot-audit-chain:" + std::string(chain));
}

std::string LinkHash(std::string_view previous_hash, const Entry& e) {
  std::string s;
  s.reserve(256 + e.description.size() + e.fields.size() + e.detail.size());
  Put(s, previous_hash);
  Put(s, std::to_string(e.seq));
  Put(s, e.chain);
  Put(s, e.id);
  Put(s, e.tenant_id.value_or(""));
  Put(s, e.product);
  Put(s, e.action);
  Put(s, std::string_view(&e.crud, 1));
  Put(s, e.actor_id);
  Put(s, e.actor_name);
  Put(s, e.target_type);
  Put(s, e.target_id);
  Put(s, e.target_name);
  Put(s, e.description);
  Put(s, e.is_failure ? "1" : "0");
  Put(s, e.source_ip);
  Put(s, e.request_id);
  Put(s, e.fields);
  Put(s, e.detail);
  Put(s, std::to_string(e.created.micros));
  Put(s, std::to_string(e.received.micros));
  Put(s, e.demo ? "1" : "0");
  return Sha256Hex(s);
}

}  // namespace breakpilot::audit
