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

bool StoredBool(const std::string& v) {
  return v == "t" || v == "1" || v == "true";
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

Entry EntryFromRow(const storage::Row& row) {
  Entry e;
  e.id = row.Text(0);
  e.chain = row.Text(1);
  e.seq = row.IsNull(2) ? 0 : row.Int(2);
  e.hash = row.Optional(3).value_or("");
  e.tenant_id = row.Optional(4);
  e.product = row.Text(5);
  e.action = row.Text(6);
  e.crud = row.Text(7).empty() ? '?' : row.Text(7)[0];
  e.actor_id = row.Text(8);
  e.actor_name = row.Optional(9).value_or("");
  e.target_type = row.Optional(10).value_or("");
  e.target_id = row.Optional(11).value_or("");
  e.target_name = row.Optional(12).value_or("");
  e.description = row.Text(13);
  e.is_failure = StoredBool(row.Text(14));
  e.source_ip = row.Optional(15).value_or("");
  e.request_id = row.Optional(16).value_or("");
  e.fields = row.Text(17);
  e.detail = row.Text(18);
  e.created = ParseTimestamp(row.Text(19)).value_or(Timestamp{});
  e.received = ParseTimestamp(row.Text(20)).value_or(Timestamp{});
  e.demo = StoredBool(row.Text(21));
  return e;
}

}  // namespace breakpilot::audit
