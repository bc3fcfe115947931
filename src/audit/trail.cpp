#include "audit/trail.hpp"

#include <boost/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "tracing/trace.hpp"

namespace breakpilot::audit {
namespace {

const Logger kLog("audit");

constexpr std::string_view kPruned = "audit.pruned";
constexpr std::string_view kErased = "audit.erased";
constexpr std::size_t kMaxProblems = 100;

// Locks the chain's head row (creating it at the genesis hash) until the transaction ends, so
// appends to one chain are serialized across replicas while other tenants' chains go in parallel.
constexpr storage::Query kLockHead{
    "audit_chain_lock",
    "INSERT INTO audit_chains (chain, head_seq, head_hash, base_seq, base_hash, demo) "
    "VALUES ($1, 0, $2, 0, $2, EXISTS (SELECT 1 FROM tenants WHERE id = $3::uuid AND "
    "kind = 'demo')) "
    "ON CONFLICT (chain) DO UPDATE SET head_seq = audit_chains.head_seq "
    "RETURNING head_seq, head_hash, demo, base_seq, base_hash",
    "INSERT INTO audit_chains (chain, head_seq, head_hash, base_seq, base_hash, demo) "
    "VALUES ($1, 0, $2, 0, $2, EXISTS (SELECT 1 FROM tenants WHERE id = $3 AND kind = 'demo')) "
    "ON CONFLICT (chain) DO UPDATE SET head_seq = audit_chains.head_seq "
    "RETURNING head_seq, head_hash, demo, base_seq, base_hash"};
constexpr storage::Query kUpdateHead{
    "audit_chain_advance",
    "UPDATE audit_chains SET head_seq = $2, head_hash = $3 WHERE chain = $1"};
constexpr storage::Query kMoveBase{
    "audit_chain_move_base",
    "UPDATE audit_chains SET base_seq = $2, base_hash = $3 WHERE chain = $1"};

// PostgreSQL takes a whole batch as one JSON parameter: one statement, one round trip.
constexpr storage::Query kInsertBatch{
    "audit_insert_batch",
    "INSERT INTO audit_log (id, chain, seq, hash, tenant_id, product, action, crud, actor_id, "
    "actor_name, target_type, target_id, target_name, description, is_failure, source_ip, "
    "request_id, fields, detail, created_at, received_at, demo) "
    "SELECT id, chain, seq, hash, tenant_id, product, action, crud, actor_id, actor_name, "
    "target_type, target_id, target_name, description, is_failure, source_ip, request_id, "
    "fields, detail, created_at, received_at, demo "
    "FROM json_to_recordset($1::json) AS e(id uuid, chain text, seq bigint, hash text, "
    "tenant_id uuid, product text, action text, crud text, actor_id text, actor_name text, "
    "target_type text, target_id text, target_name text, description text, is_failure boolean, "
    "source_ip text, request_id text, fields text, detail text, created_at timestamptz, "
    "received_at timestamptz, demo boolean)"};
// SQLite: one prepared row insert, repeated inside the transaction (no round trips to save).
constexpr storage::Query kInsertOne{
    "audit_insert",
    "INSERT INTO audit_log (id, chain, seq, hash, tenant_id, product, action, crud, actor_id, "
    "actor_name, target_type, target_id, target_name, description, is_failure, source_ip, "
    "request_id, fields, detail, created_at, received_at, demo) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "$19, $20, $21, $22)"};

constexpr storage::Query kSelectChains{
    "audit_chains_select",
    "SELECT chain, head_seq, head_hash, base_seq, base_hash FROM audit_chains ORDER BY chain"};
constexpr storage::Query kSelectChain{
    "audit_chain_select",
    "SELECT chain, head_seq, head_hash, base_seq, base_hash FROM audit_chains WHERE chain = $1"};
constexpr storage::Query kOrphanChains{
    "audit_orphan_chains",
    "SELECT DISTINCT chain FROM audit_log WHERE chain NOT IN (SELECT chain FROM audit_chains)"};
constexpr storage::Query kCountUnchained{
    "audit_count_unchained", "SELECT count(*) FROM audit_log WHERE chain = $1 AND seq IS NULL"};
constexpr storage::Query kChainPage{
    "audit_chain_page", "SELECT " BREAKPILOT_AUDIT_COLUMNS
                        " FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT 2000"};
constexpr storage::Query kSelectUnchained{
    "audit_select_unchained",
    "SELECT " BREAKPILOT_AUDIT_COLUMNS
    " FROM audit_log WHERE seq IS NULL ORDER BY created_at, id LIMIT 500"};
constexpr storage::Query kSeal{"audit_seal",
                               "UPDATE audit_log SET seq = $2, hash = $3, demo = $4 WHERE id = $1"};

constexpr storage::Query kLastBefore{
    "audit_prune_through",
    "SELECT seq, hash FROM audit_log WHERE chain = $1 AND seq IS NOT NULL AND received_at < $2 "
    "ORDER BY seq DESC LIMIT 1"};
constexpr storage::Query kDeleteThrough{"audit_prune_delete",
                                        "DELETE FROM audit_log WHERE chain = $1 AND seq <= $2"};
constexpr storage::Query kChainSpan{
    "audit_chain_span",
    "SELECT count(*), min(created_at), max(created_at) FROM audit_log WHERE chain = $1"};
constexpr storage::Query kDeleteChain{"audit_erase_delete",
                                      "DELETE FROM audit_log WHERE chain = $1"};
constexpr storage::Query kRetentions{
    "audit_retentions",
    "SELECT id, audit_retention_days FROM tenants WHERE audit_retention_days IS NOT NULL"};

struct Head {
  std::string chain;
  std::int64_t seq = 0;
  std::string hash;
  bool demo = false;
  std::int64_t base_seq = 0;
  std::string base_hash;
};

bool StoredBool(const std::string& v) {
  return v == "t" || v == "1" || v == "true";
}

Head LockHead(storage::Session& s, const std::string& chain) {
  storage::Param tenant = chain == kPlatformChain ? storage::Param{} : storage::Param{chain};
  auto row = s.FetchOne(kLockHead, {chain, GenesisHash(chain), tenant});
  if (!row) throw storage::DatabaseError("audit_chain_lock returned no row");
  return Head{chain,       row->Int(0), row->Text(1), StoredBool(row->Text(2)),
              row->Int(3), row->Text(4)};
}

storage::Param NullIfEmpty(const std::string& v) {
  if (v.empty()) return std::nullopt;
  return v;
}

std::vector<storage::Param> RowParams(const Entry& e) {
  return {e.id,
          e.chain,
          std::to_string(e.seq),
          e.hash,
          e.tenant_id,
          e.product,
          e.action,
          std::string(1, e.crud),
          e.actor_id,
          NullIfEmpty(e.actor_name),
          NullIfEmpty(e.target_type),
          NullIfEmpty(e.target_id),
          NullIfEmpty(e.target_name),
          e.description,
          std::string(e.is_failure ? "1" : "0"),
          NullIfEmpty(e.source_ip),
          NullIfEmpty(e.request_id),
          e.fields,
          e.detail,
          FormatStorage(e.created),
          FormatStorage(e.received),
          std::string(e.demo ? "1" : "0")};
}

boost::json::value OrNull(const std::string& v) {
  if (v.empty()) return nullptr;
  return boost::json::value(v);
}

std::string BatchJson(const std::vector<Entry>& entries) {
  boost::json::array rows;
  rows.reserve(entries.size());
  for (const auto& e : entries) {
    boost::json::object o;
    o["id"] = e.id;
    o["chain"] = e.chain;
    o["seq"] = e.seq;
    o["hash"] = e.hash;
    o["tenant_id"] = e.tenant_id ? boost::json::value(*e.tenant_id) : nullptr;
    o["product"] = e.product;
    o["action"] = e.action;
    o["crud"] = std::string(1, e.crud);
    o["actor_id"] = e.actor_id;
    o["actor_name"] = OrNull(e.actor_name);
    o["target_type"] = OrNull(e.target_type);
    o["target_id"] = OrNull(e.target_id);
    o["target_name"] = OrNull(e.target_name);
    o["description"] = e.description;
    o["is_failure"] = e.is_failure;
    o["source_ip"] = OrNull(e.source_ip);
    o["request_id"] = OrNull(e.request_id);
    o["fields"] = e.fields;
    o["detail"] = e.detail;
    o["created_at"] = FormatStorage(e.created);
    o["received_at"] = FormatStorage(e.received);
    o["demo"] = e.demo;
    rows.emplace_back(std::move(o));
  }
  return boost::json::serialize(rows);
}

void Insert(storage::Session& s, const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  if (s.dialect() == storage::Dialect::kPostgres) {
    s.Execute(kInsertBatch, {BatchJson(entries)});
    return;
  }
  for (const auto& e : entries) s.Execute(kInsertOne, RowParams(e));
}

// Links every entry to its chain's head, in order; heads are locked in chain order, so two
// batches touching the same chains cannot deadlock each other.
std::vector<Head> Link(storage::Session& s, std::vector<Entry>& entries) {
  std::vector<std::string> chains;
  for (auto& e : entries) {
    e.chain = ChainOf(e.tenant_id);
    chains.push_back(e.chain);
  }
  std::sort(chains.begin(), chains.end());
  chains.erase(std::unique(chains.begin(), chains.end()), chains.end());
  std::vector<Head> heads;
  heads.reserve(chains.size());
  for (const auto& c : chains) heads.push_back(LockHead(s, c));
  for (auto& e : entries) {
    auto it = std::lower_bound(heads.begin(), heads.end(), e.chain,
                               [](const Head& h, const std::string& c) { return h.chain < c; });
    e.seq = ++it->seq;
    e.demo = it->demo;
    e.hash = LinkHash(it->hash, e);
    it->hash = e.hash;
  }
  return heads;
}

void StoreHeads(storage::Session& s, const std::vector<Head>& heads) {
  for (const auto& h : heads) s.Execute(kUpdateHead, {h.chain, std::to_string(h.seq), h.hash});
}

Entry Tombstone(const Clock& clock, const std::string& chain, std::string action,
                const Actor& actor, const boost::json::object& fields, std::string description) {
  Entry e;
  e.received = e.created = clock.Now();
  e.id = NewUuidV7(e.received);
  if (chain != kPlatformChain) e.tenant_id = chain;
  e.action = std::move(action);
  e.crud = 'd';
  e.actor_id = actor.id;
  e.actor_name = actor.name;
  e.target_type = "audit_chain";
  e.target_id = chain;
  e.description = std::move(description);
  e.request_id = actor.request_id;
  e.source_ip = actor.source_ip;
  e.fields = boost::json::serialize(fields);
  return e;
}

// Reads "through_seq"/"through_hash" from a tombstone's fields.
std::optional<std::pair<std::int64_t, std::string>> TombstoneBase(const Entry& e) {
  boost::system::error_code ec;
  auto v = boost::json::parse(e.fields, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  const auto* seq = o.if_contains("through_seq");
  const auto* hash = o.if_contains("through_hash");
  if (!seq || !hash || !seq->is_int64() || !hash->is_string()) return std::nullopt;
  return std::make_pair(seq->as_int64(), std::string(hash->as_string()));
}

void AddProblem(ChainReport& r, std::int64_t seq, std::string kind, std::string detail) {
  r.ok = false;
  if (r.problems.size() < kMaxProblems) {
    r.problems.push_back({seq, std::move(kind), std::move(detail)});
  }
}

ChainReport VerifyChain(storage::Database& db, const storage::Row& head) {
  ChainReport r;
  r.chain = head.Text(0);
  r.head_seq = head.Int(1);
  const std::string& head_hash = head.Text(2);
  r.base_seq = head.Int(3);
  std::string expected_prev = head.Text(4);
  std::int64_t expected_seq = r.base_seq + 1;
  std::optional<Entry> last_tombstone;
  std::int64_t unchained = 0;
  db.Read([&](storage::Session& s) { unchained = s.FetchOne(kCountUnchained, {r.chain})->Int(0); });
  if (unchained > 0) {
    AddProblem(r, 0, "unchained",
               std::to_string(unchained) +
                   " event(s) carry no place in the chain (inserted "
                   "outside the platform)");
  }
  std::int64_t after = r.base_seq;  // rows up to the base were pruned or erased
  for (;;) {
    std::vector<storage::Row> rows;
    db.Read([&](storage::Session& s) {
      rows = s.Fetch(kChainPage, {r.chain, std::to_string(after)});
    });
    if (rows.empty()) break;
    for (auto& row : rows) {
      Entry e = EntryFromRow(std::move(row));
      ++r.checked;
      if (e.seq != expected_seq) {
        AddProblem(r, expected_seq, "missing",
                   "events " + std::to_string(expected_seq) + ".." + std::to_string(e.seq - 1) +
                       " are missing");
        expected_prev = "";  // the predecessor is gone: resume from this row's stored hash
      }
      if (!expected_prev.empty() && LinkHash(expected_prev, e) != e.hash) {
        AddProblem(r, e.seq, "altered",
                   "event " + e.id + " does not match its hash: changed, or moved in the chain");
      }
      if (e.action == kPruned || e.action == kErased) last_tombstone = e;
      expected_prev = e.hash;
      expected_seq = e.seq + 1;
      after = e.seq;
    }
  }
  if (expected_seq - 1 != r.head_seq) {
    AddProblem(r, expected_seq, "head_mismatch",
               "the chain ends at " + std::to_string(expected_seq - 1) + " but its head is " +
                   std::to_string(r.head_seq) + ": newest events are missing");
  } else if (r.head_seq > r.base_seq && expected_prev != head_hash) {
    AddProblem(r, r.head_seq, "head_mismatch", "the newest event is not the one the head names");
  }
  if (r.base_seq > 0) {
    auto base = last_tombstone ? TombstoneBase(*last_tombstone) : std::nullopt;
    if (!base || base->first != r.base_seq || base->second != head.Text(4)) {
      AddProblem(r, r.base_seq, "base_unexplained",
                 "events up to " + std::to_string(r.base_seq) +
                     " were removed without a retention or erase tombstone naming them");
    }
  }
  return r;
}

// Appends `add` to `sql` with "$?" replaced by the next parameter number.
class SqlBuilder {
 public:
  explicit SqlBuilder(std::string head) : sql_(std::move(head)) {}
  void Where(std::string_view clause, std::vector<storage::Param> values) {
    sql_ += first_ ? " WHERE " : " AND ";
    first_ = false;
    Emit(clause, std::move(values));
  }
  void Emit(std::string_view text, std::vector<storage::Param> values) {
    std::size_t v = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '?') {
        params_.push_back(values.at(v++));
        sql_ += '$' + std::to_string(params_.size());
        ++i;
      } else {
        sql_ += text[i];
      }
    }
  }
  const std::string& sql() const { return sql_; }
  const std::vector<storage::Param>& params() const { return params_; }

 private:
  std::string sql_;
  bool first_ = true;
  std::vector<storage::Param> params_;
};

std::string EncodeCursor(const Entry& e) {
  return Base64UrlEncode(std::to_string(e.created.micros) + ":" + e.id);
}

std::optional<Cursor> DecodeCursor(std::string_view text) {
  std::string raw;
  if (!Base64UrlDecode(text, raw)) return std::nullopt;
  const auto colon = raw.find(':');
  if (colon == std::string::npos) return std::nullopt;
  Cursor c;
  const char* end = raw.data() + colon;
  if (std::from_chars(raw.data(), end, c.created.micros).ptr != end) return std::nullopt;
  c.id = raw.substr(colon + 1);
  if (!IsCanonicalUuid(c.id)) return std::nullopt;
  return c;
}

// The position of a row read in place, its key in the given columns.
Cursor CursorAt(const storage::RowView& row, std::size_t created, std::size_t id) {
  return Cursor{row.Time(created), std::string(row.Text(id))};
}

// Which stretch of the newest-first order a query reads.
struct Span {
  std::optional<Cursor> after;    // only matches older than this one
  std::optional<Cursor> through;  // only this one and newer
  std::optional<int> limit;
  int offset = 0;
};

// The search as SQL: `columns` of the matches in `span`, newest first.
SqlBuilder SearchSql(storage::Dialect dialect, std::string_view columns, const Filter& f,
                     const Span& span) {
  const bool pg = dialect == storage::Dialect::kPostgres;
  const std::string uuid = pg ? "::uuid" : "";
  const std::string ts = pg ? "::timestamptz" : "";
  SqlBuilder q("SELECT " + std::string(columns) + " FROM audit_log");
  if (f.tenant_id) {
    q.Where("tenant_id = $?" + uuid, {*f.tenant_id});
  } else if (!f.include_demo) {
    q.Where(pg ? "NOT demo" : "demo = 0", {});
  }
  if (f.product) q.Where("product = $?", {*f.product});
  if (f.actor_id) q.Where("actor_id = $?", {*f.actor_id});
  if (f.action) {
    if (!f.action->empty() && f.action->back() == '*') {
      const std::string prefix = f.action->substr(0, f.action->size() - 1);
      q.Where(pg ? "left(action, $?::int) = $?" : "substr(action, 1, $?) = $?",
              {std::to_string(prefix.size()), prefix});
    } else {
      q.Where("action = $?", {*f.action});
    }
  }
  if (f.crud) q.Where("crud = $?", {std::string(1, *f.crud)});
  if (f.target_id) q.Where("target_id = $?", {*f.target_id});
  if (f.target_type) q.Where("target_type = $?", {*f.target_type});
  if (f.from) q.Where("created_at >= $?" + ts, {FormatStorage(*f.from)});
  if (f.to) q.Where("created_at < $?" + ts, {FormatStorage(*f.to)});
  if (f.received_by) q.Where("received_at <= $?" + ts, {FormatStorage(*f.received_by)});
  if (f.is_failure) {
    q.Where(pg ? "is_failure = $?::boolean" : "is_failure = $?",
            {std::string(*f.is_failure ? "1" : "0")});
  }
  if (f.text) {
    q.Where(pg ? "description ILIKE $? ESCAPE '\\'" : "description LIKE $? ESCAPE '\\'",
            {storage::LikeContains(*f.text, false)});
  }
  if (span.after) {
    q.Where("(created_at, id) < ($?" + ts + ", $?" + uuid + ")",
            {FormatStorage(span.after->created), span.after->id});
  }
  if (span.through) {
    q.Where("(created_at, id) >= ($?" + ts + ", $?" + uuid + ")",
            {FormatStorage(span.through->created), span.through->id});
  }
  q.Emit(" ORDER BY created_at DESC, id DESC", {});
  if (span.limit) q.Emit(" LIMIT $?", {std::to_string(*span.limit)});
  if (span.offset > 0) q.Emit(" OFFSET $?", {std::to_string(span.offset)});
  return q;
}

std::vector<Entry> SearchRows(storage::Database& db, const Filter& f, int limit,
                              const std::optional<Cursor>& cursor) {
  const SqlBuilder q = SearchSql(db.dialect(), kColumns, f, {.after = cursor, .limit = limit});
  const storage::Query query{.name = "audit_search", .sql = q.sql(), .dynamic = true};
  std::vector<Entry> out;
  db.Read([&](storage::Session& s) {
    auto rows = s.Fetch(query, q.params());
    out.reserve(rows.size());
    for (auto& row : rows) out.push_back(EntryFromRow(std::move(row)));
  });
  return out;
}

}  // namespace

Entry EntryFromRow(storage::Row&& row) {
  const auto text = [&](Column c) { return row.Take(c).value_or(""); };
  Entry e;
  e.id = text(kIdCol);
  e.chain = text(kChainCol);
  e.seq = row.IsNull(kSeqCol) ? 0 : row.Int(kSeqCol);
  e.hash = text(kHashCol);
  e.tenant_id = row.Take(kTenantCol);
  e.product = text(kProductCol);
  e.action = text(kActionCol);
  const std::string crud = text(kCrudCol);
  e.crud = crud.empty() ? '?' : crud[0];
  e.actor_id = text(kActorIdCol);
  e.actor_name = text(kActorNameCol);
  e.target_type = text(kTargetTypeCol);
  e.target_id = text(kTargetIdCol);
  e.target_name = text(kTargetNameCol);
  e.description = text(kDescriptionCol);
  e.is_failure = StoredBool(text(kIsFailureCol));
  e.source_ip = text(kSourceIpCol);
  e.request_id = text(kRequestIdCol);
  e.fields = text(kFieldsCol);
  e.detail = text(kDetailCol);
  e.created = ParseTimestamp(text(kCreatedCol)).value_or(Timestamp{});
  e.received = ParseTimestamp(text(kReceivedCol)).value_or(Timestamp{});
  e.demo = StoredBool(text(kDemoCol));
  return e;
}

std::string_view WebhookType(std::string_view action) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"tenant.activate", "tenant.status_changed"},
      {"tenant.cancel", "tenant.status_changed"},
      {"tenant.reactivate", "tenant.status_changed"},
      {"tenant.expire_trial", "tenant.status_changed"},
      {"tenant.archive", "tenant.status_changed"},
      {"tenant.plan", "subscription.updated"},
      {"subscription.create", "subscription.updated"},
      {"subscription.delete", "subscription.updated"},
      {"api_key.create", "api_key.created"},
      {"api_key.revoke", "api_key.revoked"},
      {"user.membership_add", "user.added"},
      {"user.membership_remove", "user.removed"},
      {"usage.threshold_reached", "usage.threshold_reached"},
  };
  for (const auto& [a, type] : kTypes) {
    if (a == action) return type;
  }
  return {};
}

namespace {

constexpr storage::Query kInsertWebhookEvent{
    "webhook_event_insert",
    "INSERT INTO webhook_events (id, tenant_id, type, payload, created_at, traceparent)"
    " VALUES ($1, $2, $3, $4, $5, $6)"};

// The Standard Webhooks payload: {type, timestamp, data}; data names the tenant, what changed
// and the audit event's fields.
void QueueWebhookEvent(storage::Session& s, const Entry& e, std::string_view type) {
  boost::json::object data;
  boost::system::error_code ec;
  auto fields = boost::json::parse(e.fields, ec);
  if (!ec && fields.is_object()) data = std::move(fields.as_object());
  data["tenant_id"] = *e.tenant_id;
  data["action"] = e.action;
  data["target_type"] = e.target_type;
  data["target_id"] = e.target_id;
  data["audit_event_id"] = e.id;
  const boost::json::object payload{
      {"type", type}, {"timestamp", FormatRfc3339(e.created)}, {"data", std::move(data)}};
  s.Execute(kInsertWebhookEvent,
            {NewUuidV7(e.created), *e.tenant_id, std::string(type), boost::json::serialize(payload),
             FormatStorage(e.created), tracing::CurrentTraceparent()});  // the deliveries join it
  s.Notify(kWebhooksEvent);
}

}  // namespace

void Record(storage::Session& s, const Clock& clock, const Actor& actor, const Event& event) {
  Entry e;
  e.received = e.created = clock.Now();
  e.id = NewUuidV7(e.received);
  e.tenant_id = event.tenant_id;
  e.action = event.action;
  e.crud = event.crud;
  e.actor_id = actor.id;
  e.actor_name = actor.name;
  e.target_type = event.target_type;
  e.target_id = event.target_id;
  e.description = event.description;
  e.is_failure = event.is_failure;
  e.source_ip = actor.source_ip;
  e.request_id = actor.request_id;
  e.fields = event.fields_json;
  std::vector<Entry> one{std::move(e)};
  Append(s, one);
  if (const auto type = WebhookType(event.action); !type.empty() && event.tenant_id) {
    QueueWebhookEvent(s, one.front(), type);
  }
}

void Append(storage::Session& s, std::vector<Entry>& entries) {
  if (entries.empty()) return;
  auto heads = Link(s, entries);
  Insert(s, entries);
  StoreHeads(s, heads);
}

void SealUnchained(storage::Database& db) {
  std::int64_t sealed = 0;
  for (;;) {
    bool done = false;
    db.Write([&](storage::Session& s) {
      auto rows = s.Fetch(kSelectUnchained, {});
      if (rows.empty()) return void(done = true);
      std::vector<Entry> entries;
      entries.reserve(rows.size());
      for (auto& row : rows) entries.push_back(EntryFromRow(std::move(row)));
      auto heads = Link(s, entries);
      for (const auto& e : entries) {
        s.Execute(kSeal, {e.id, std::to_string(e.seq), e.hash, std::string(e.demo ? "1" : "0")});
      }
      StoreHeads(s, heads);
      sealed += static_cast<std::int64_t>(entries.size());
    });
    if (done) break;
  }
  if (sealed > 0) kLog.Info("chained audit events recorded before 0003", {{"count", sealed}});
}

std::vector<ChainReport> Verify(storage::Database& db, const std::optional<std::string>& chain) {
  std::vector<storage::Row> heads;
  std::vector<storage::Row> orphans;
  db.Read([&](storage::Session& s) {
    heads = chain ? s.Fetch(kSelectChain, {*chain}) : s.Fetch(kSelectChains, {});
    if (!chain) orphans = s.Fetch(kOrphanChains, {});
  });
  std::vector<ChainReport> out;
  out.reserve(heads.size() + orphans.size());
  for (const auto& h : heads) out.push_back(VerifyChain(db, h));
  for (const auto& o : orphans) {
    ChainReport r{.chain = o.Text(0)};
    AddProblem(r, 0, "unchained", "events of a chain the platform never started");
    out.push_back(std::move(r));
  }
  return out;
}

Result<Page> Search(storage::Database& db, const Filter& filter, int limit,
                    const std::optional<std::string>& cursor) {
  std::optional<Cursor> at;
  if (cursor) {
    at = DecodeCursor(*cursor);
    if (!at) {
      return Malformed("bad-cursor", "Bad cursor", "the cursor was not issued by this endpoint");
    }
  }
  limit = std::clamp(limit, 1, 1000);
  auto rows = SearchRows(db, filter, limit + 1, at);
  Page page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(static_cast<std::size_t>(limit));
    page.next_cursor = EncodeCursor(rows.back());
  }
  page.items = std::move(rows);
  return page;
}

void ForEach(storage::Database& db, const Filter& filter,
             const std::function<bool(const std::vector<Entry>&)>& fn, int page_size) {
  std::optional<Cursor> at;
  for (;;) {
    auto rows = SearchRows(db, filter, page_size, at);
    if (rows.empty() || !fn(rows) || static_cast<int>(rows.size()) < page_size) return;
    at = Cursor{rows.back().created, rows.back().id};
  }
}

PageWriter::PageWriter(storage::Database& db, Filter filter, Format format, Options options)
    : db_(db),
      filter_(std::move(filter)),
      format_(std::move(format)),
      page_size_(std::max(1, options.page_size)),
      readers_(std::max(1, options.readers)),
      fetch_limit_(options.fetch_limit > 0 ? options.fetch_limit : page_size_) {
  const auto lowered = [](void (PageWriter::*stage)(), PageWriter* self) {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    (self->*stage)();
  };
  for (int i = 0; i < readers_; ++i) reader_threads_.emplace_back(lowered, &PageWriter::Read, this);
  writer_ = std::thread(lowered, &PageWriter::Write, this);
}

PageWriter::~PageWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  for (auto& t : reader_threads_) t.join();
  writer_.join();
}

void PageWriter::Fail() {
  {
    std::lock_guard lock(mu_);
    if (!failure_) failure_ = std::current_exception();
  }
  changed_.notify_all();
}

void PageWriter::Read() {
  // Page bounds leave out the start bound (received_at is in no index, so the keys read only
  // the index where the filter allows): an event received since makes its page shorter.
  Filter bounds = filter_;
  bounds.received_by.reset();
  const auto query = [&](const char* name, std::string_view columns, const Filter& f,
                         const Span& span) {
    const SqlBuilder q = SearchSql(db_.dialect(), columns, f, span);
    const storage::Query named{.name = name, .sql = q.sql(), .dynamic = true};
    std::shared_ptr<storage::RowSet> rows;
    db_.Read([&](storage::Session& s) { rows = s.FetchInPlace(named, q.params()); });
    return rows;
  };
  try {
    for (;;) {
      std::int64_t page = 0;
      std::optional<Cursor> after;
      {
        std::unique_lock lock(mu_);  // a page is claimed once its start is known
        changed_.wait(lock, [&] {
          return stop_ || failure_ || claimed_all_ ||
                 (!finding_next_ && claimed_ - formatted_ < readers_);
        });
        if (stop_ || failure_ || claimed_all_) break;
        page = claimed_++;
        after = next_start_;
        finding_next_ = true;
      }
      // The page's last match (the page_size-th after its start) is where the next page starts.
      const auto last = query("audit_export_bound", "created_at, id", bounds,
                              Span{.after = after, .limit = 1, .offset = page_size_ - 1});
      std::optional<Cursor> through;
      if (last->size() == 1) through = CursorAt(last->At(0), 0, 1);
      {
        std::lock_guard lock(mu_);
        next_start_ = through;
        claimed_all_ = !through;
        finding_next_ = false;
      }
      changed_.notify_all();
      // With a LIMIT the planner walks the index in order (without one it may sort the range).
      // A query filled to its limit may have more to read (an event committed since the bound
      // was read, or a fetch limit below the page size): read on from its last row.
      std::vector<std::shared_ptr<storage::RowSet>> parts;
      for (std::optional<Cursor> from = after;;) {
        auto rows = query("audit_export", kExportColumns, filter_,
                          Span{.after = from, .through = through, .limit = fetch_limit_});
        const std::size_t n = rows->size();
        if (n > 0) from = CursorAt(rows->At(n - 1), kCreatedCol, kIdCol);
        parts.push_back(std::move(rows));
        if (n < static_cast<std::size_t>(fetch_limit_) || (through && from == through)) break;
      }
      {
        std::lock_guard lock(mu_);
        read_.emplace(page, std::move(parts));
      }
      changed_.notify_all();
    }
  } catch (...) {
    Fail();
  }
  {
    std::lock_guard lock(mu_);
    ++readers_done_;
  }
  changed_.notify_all();
}

void PageWriter::Write() {
  for (;;) {
    std::vector<std::shared_ptr<storage::RowSet>> parts;
    {
      std::unique_lock lock(mu_);  // one page of text ahead of the caller at most
      changed_.wait(lock, [&] {
        return stop_ || failure_ ||
               (written_.empty() && (read_.contains(formatted_) || readers_done_ == readers_));
      });
      if (stop_ || failure_) return;
      const auto next = read_.find(formatted_);
      if (next == read_.end()) break;  // every reader is done and every page was formatted
      parts = std::move(next->second);
      read_.erase(next);
      ++formatted_;
    }
    changed_.notify_all();  // a reader may claim another page
    std::size_t matches = 0;
    for (const auto& rows : parts) matches += rows->size();
    if (matches == 0) continue;  // a page whose events all arrived after the start
    std::string text;
    try {
      for (const auto& rows : parts) {
        text.reserve(text.size() + rows->size() * 512);
        for (std::size_t i = 0; i < rows->size(); ++i) format_(text, rows->At(i));
      }
    } catch (...) {
      Fail();
      return;
    }
    {
      std::lock_guard lock(mu_);
      written_.push_back(std::move(text));
    }
    changed_.notify_all();
  }
  {
    std::lock_guard lock(mu_);
    written_all_ = true;
  }
  changed_.notify_all();
}

std::string PageWriter::Next() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return !written_.empty() || written_all_ || failure_; });
  if (failure_) std::rethrow_exception(failure_);
  if (written_.empty()) return {};
  std::string text = std::move(written_.front());
  written_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return text;
}

std::int64_t Prune(storage::Database& db, const Clock& clock, const std::string& chain,
                   Timestamp cutoff) {
  std::int64_t removed = 0;
  db.Write([&](storage::Session& s) {
    LockHead(s, chain);  // replicas pruning at the same hour take turns
    auto through = s.FetchOne(kLastBefore, {chain, FormatStorage(cutoff)});
    if (!through) return;
    const std::int64_t seq = through->Int(0);
    const std::string hash = through->Text(1);
    removed = s.Execute(kDeleteThrough, {chain, std::to_string(seq)});
    s.Execute(kMoveBase, {chain, std::to_string(seq), hash});
    std::vector<Entry> tomb{Tombstone(clock, chain, std::string(kPruned),
                                      Actor{.id = "system:retention", .name = "retention"},
                                      {{"through_seq", seq},
                                       {"through_hash", hash},
                                       {"count", removed},
                                       {"cutoff", FormatRfc3339(cutoff)}},
                                      "retention removed " + std::to_string(removed) +
                                          " event(s) received before " + FormatRfc3339(cutoff))};
    Append(s, tomb);
  });
  return removed;
}

std::int64_t PruneByRetention(storage::Database& db, const Clock& clock) {
  std::vector<storage::Row> rows;
  db.Read([&](storage::Session& s) { rows = s.Fetch(kRetentions, {}); });
  std::int64_t total = 0;
  for (const auto& r : rows) {
    const Timestamp cutoff = AddSeconds(clock.Now(), -r.Int(1) * 86400);
    total += Prune(db, clock, r.Text(0), cutoff);
  }
  return total;
}

ErasedSummary Erase(storage::Database& db, const Clock& clock, const Actor& actor,
                    const std::string& tenant_id,
                    const std::function<std::string(const std::string&)>& sign) {
  ErasedSummary out;
  db.Write([&](storage::Session& s) {
    const Head head = LockHead(s, tenant_id);
    auto span = s.FetchOne(kChainSpan, {tenant_id});
    out.count = span->Int(0);
    s.Execute(kDeleteChain, {tenant_id});
    s.Execute(kMoveBase, {tenant_id, std::to_string(head.seq), head.hash});
    boost::json::object summary{
        {"tenant_id", tenant_id},
        {"events_erased", out.count},
        {"through_seq", head.seq},
        {"through_hash", head.hash},
        {"first_event_at", span->IsNull(1) ? boost::json::value(nullptr)
                                           : boost::json::value(FormatRfc3339(
                                                 ParseTimestamp(span->Text(1)).value()))},
        {"last_event_at", span->IsNull(2) ? boost::json::value(nullptr)
                                          : boost::json::value(FormatRfc3339(
                                                ParseTimestamp(span->Text(2)).value()))},
        {"erased_at", FormatRfc3339(clock.Now())}};
    out.summary_json = boost::json::serialize(summary);
    out.signature = sign(out.summary_json);
    std::vector<Entry> tomb{
        Tombstone(clock, tenant_id, std::string(kErased), actor,
                  {{"through_seq", head.seq},
                   {"through_hash", head.hash},
                   {"count", out.count},
                   {"summary", out.summary_json},
                   {"signature", out.signature}},
                  "erased " + std::to_string(out.count) + " audit event(s) at offboarding")};
    Append(s, tomb);
  });
  return out;
}

}  // namespace breakpilot::audit
