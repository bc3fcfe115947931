// One audit event as stored: Retraced's event shape (actor, target, group = the tenant, fields)
// plus our own product, received time, request id, demo tag and its place in a hash chain.
//
// Each tenant's events form one chain (events without a tenant: the chain "platform"). An
// event's hash covers its predecessor's hash, its sequence number and every stored column, so
// changing, deleting or reordering any row breaks the chain at that row (audit::Verify).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace breakpilot::audit {

inline constexpr std::string_view kPlatformChain = "platform";

struct Entry {
  std::string id;  // UUIDv7 of the received time
  std::string chain;
  std::int64_t seq = 0;
  std::string hash;  // hex SHA-256, see LinkHash
  std::optional<std::string> tenant_id;
  std::string product = "platform";
  std::string action;
  char crud = 'u';
  std::string actor_id;
  std::string actor_name;
  std::string target_type;
  std::string target_id;
  std::string target_name;
  std::string description;
  bool is_failure = false;
  std::string source_ip;
  std::string request_id;
  std::string fields = "{}";  // JSON object text, as hashed
  // The rest of a Retraced event, JSON object text: actor/target href and fields, group name,
  // is_anonymous, component, version, external_id, metadata (only those present).
  std::string detail = "{}";
  Timestamp created;
  Timestamp received;
  bool demo = false;
};

// The chain a tenant's events go to.
std::string ChainOf(const std::optional<std::string>& tenant_id);
// The hash a chain starts from (seq 0), so that chains of different tenants never collide.
std::string GenesisHash(std::string_view chain);
// SHA-256 over the previous hash and every stored column of `e` (with its seq), hex.
std::string LinkHash(std::string_view previous_hash, const Entry& e);

// The columns of an audit_log row as every reader selects them, and their places. An export
// reads only kExportColumns, the leading ones (every column costs the database a send call per
// row).
enum Column : std::size_t {
  kIdCol,
  kSeqCol,
  kHashCol,
  kTenantCol,
  kProductCol,
  kActionCol,
  kCrudCol,
  kActorIdCol,
  kActorNameCol,
  kTargetTypeCol,
  kTargetIdCol,
  kTargetNameCol,
  kDescriptionCol,
  kIsFailureCol,
  kSourceIpCol,
  kRequestIdCol,
  kFieldsCol,
  kCreatedCol,
  kReceivedCol,
  kChainCol,
  kDetailCol,
  kDemoCol,
};
// Macros only so that named queries can splice the list into their literal text.
#define BREAKPILOT_AUDIT_EXPORT_COLUMNS                                                          \
  "id, seq, hash, tenant_id, product, action, crud, actor_id, actor_name, target_type, "         \
  "target_id, target_name, description, is_failure, source_ip, request_id, fields, created_at, " \
  "received_at"
#define BREAKPILOT_AUDIT_COLUMNS BREAKPILOT_AUDIT_EXPORT_COLUMNS ", chain, detail, demo"
inline constexpr std::string_view kExportColumns = BREAKPILOT_AUDIT_EXPORT_COLUMNS;
inline constexpr std::string_view kColumns = BREAKPILOT_AUDIT_COLUMNS;
static_assert(kChainCol == kReceivedCol + 1, "the export reads the columns up to kReceivedCol");

}  // namespace breakpilot::audit
