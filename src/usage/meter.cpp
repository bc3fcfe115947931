#include "usage/meter.hpp"

#include <boost/json.hpp>

#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "audit/trail.hpp"
#include "tenants/tenant.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::usage {
namespace {

namespace json = boost::json;
using storage::Query;

// The batch travels as one JSON parameter, unpacked by the database: one statement per batch.
constexpr Query kInsertEvents{
    "usage_events_insert",
    "INSERT INTO usage_events (product, id, tenant_id, at)"
    " SELECT $1, e->>'id', (e->>'tenant_id')::uuid, (e->>'at')::timestamptz"
    " FROM jsonb_array_elements($2::jsonb) AS e ON CONFLICT DO NOTHING RETURNING id",
    "INSERT INTO usage_events (product, id, tenant_id, at)"
    " SELECT $1, json_extract(e.value, '$.id'), json_extract(e.value, '$.tenant_id'),"
    " json_extract(e.value, '$.at') FROM json_each($2) AS e WHERE true"
    " ON CONFLICT DO NOTHING RETURNING id"};
constexpr Query kAddTotals{
    "usage_totals_add",
    "INSERT INTO usage_totals (tenant_id, product, metric, period, quantity)"
    " SELECT (t->>'tenant_id')::uuid, $1, t->>'metric', t->>'period', (t->>'quantity')::bigint"
    " FROM jsonb_array_elements($2::jsonb) AS t"
    " ON CONFLICT (tenant_id, product, metric, period)"
    " DO UPDATE SET quantity = usage_totals.quantity + excluded.quantity",
    "INSERT INTO usage_totals (tenant_id, product, metric, period, quantity)"
    " SELECT json_extract(t.value, '$.tenant_id'), $1, json_extract(t.value, '$.metric'),"
    " json_extract(t.value, '$.period'), json_extract(t.value, '$.quantity')"
    " FROM json_each($2) AS t WHERE true"
    " ON CONFLICT (tenant_id, product, metric, period)"
    " DO UPDATE SET quantity = usage_totals.quantity + excluded.quantity"};
constexpr Query kDayTotal{"usage_total_of_day",
                          "SELECT quantity FROM usage_totals"
                          " WHERE tenant_id = $1 AND product = $2 AND metric = $3 AND period = $4"};
constexpr Query kTenantTotals{"usage_totals_for_tenant",
                              "SELECT product, metric, period, quantity FROM usage_totals"
                              " WHERE tenant_id = $1 AND (period = $2 OR substr(period, 1, 7) = $2)"
                              " ORDER BY product, metric, period"};
constexpr Query kPruneEvents{"usage_events_prune", "DELETE FROM usage_events WHERE at < $1"};
constexpr Query kFoldDays{
    "usage_totals_fold",
    "INSERT INTO usage_totals (tenant_id, product, metric, period, quantity)"
    " SELECT tenant_id, product, metric, substr(period, 1, 7), sum(quantity) FROM usage_totals"
    " WHERE length(period) = 10 AND period < $1"
    " GROUP BY tenant_id, product, metric, substr(period, 1, 7)"
    " ON CONFLICT (tenant_id, product, metric, period)"
    " DO UPDATE SET quantity = usage_totals.quantity + excluded.quantity"};
constexpr Query kDeleteFoldedDays{
    "usage_totals_delete_folded",
    "DELETE FROM usage_totals WHERE length(period) = 10 AND period < $1"};

bool IsMetric(const std::string& m) {
  static const std::regex kRe("^[a-z][a-z0-9_.]{0,63}$");
  return std::regex_match(m, kRe);
}

std::string Day(Timestamp t) {
  return FormatRfc3339(t).substr(0, 10);
}

// The daily API calls a tenant may make (per product): the trial's quota, the plan's limit,
// none for the demo (0).
std::int64_t DailyLimit(const tenants::Tenant& t) {
  if (t.status == tenants::Status::kTrial) return tenants::kTrialQuota.api_calls_per_day;
  if (t.status == tenants::Status::kDemo) return 0;
  return catalog::LimitsOf(t.plan).api_calls_per_day;
}

}  // namespace

Result<Recorded> Meter::Record(const std::string& product, const std::vector<Event>& events) {
  if (catalog_.Find(product) == nullptr) {
    return InvalidInput("unknown-product", "Unknown product",
                        "no product '" + product + "' in the catalog",
                        {{"/product", "must be a catalog product"}});
  }
  if (events.empty() || events.size() > kMaxBatch) {
    return InvalidInput("invalid-batch", "Invalid batch", "send 1 to 1000 events",
                        {{"/events", "must hold 1 to 1000 events"}});
  }
  const Timestamp now = clock_.Now();
  std::vector<FieldError> errors;
  json::array rows;
  rows.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const std::string at = "/events/" + std::to_string(i);
    if (e.id.empty() || e.id.size() > 128)
      errors.push_back({at + "/id", "must be 1 to 128 characters"});
    if (!IsMetric(e.metric)) {
      errors.push_back({at + "/metric", "must be a-z, 0-9, '_' or '.', starting with a letter"});
    }
    if (e.quantity < 1 || e.quantity > 1'000'000'000) {
      errors.push_back({at + "/quantity", "must be 1 to 1000000000"});
    }
    const Timestamp when = e.at.value_or(now);
    if (when.micros < now.micros - kDedupeSeconds * kMicrosPerSecond ||
        when.micros > now.micros + 300 * kMicrosPerSecond) {
      errors.push_back({at + "/at", "must be within the last 48 hours (and not in the future)"});
    }
    rows.push_back({{"id", e.id}, {"tenant_id", e.tenant_id}, {"at", FormatStorage(when)}});
  }
  if (!errors.empty()) {
    std::string detail = std::to_string(errors.size()) + " problem(s) in the events";
    return InvalidInput("invalid-usage", "Invalid usage events", std::move(detail),
                        std::move(errors));
  }
  Recorded out;
  try {
    db_.Write([&](storage::Session& s) {
      out = {};
      const auto inserted = s.Fetch(kInsertEvents, {product, json::serialize(rows)});
      std::set<std::string> fresh;
      for (const auto& r : inserted) fresh.insert(r.Text(0));
      std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> sums;
      for (const auto& e : events) {
        if (fresh.erase(e.id) == 0) {  // a known id, or a repeat inside this batch
          ++out.duplicates;
          continue;
        }
        ++out.accepted;
        sums[{e.tenant_id, e.metric, Day(e.at.value_or(now))}] += e.quantity;
      }
      if (sums.empty()) return;
      json::array totals;
      for (const auto& [key, quantity] : sums) {
        totals.push_back({{"tenant_id", std::get<0>(key)},
                          {"metric", std::get<1>(key)},
                          {"period", std::get<2>(key)},
                          {"quantity", quantity}});
      }
      s.Execute(kAddTotals, {product, json::serialize(totals)});
      // A day's API calls that just reached the tenant's limit: usage.threshold_reached, once
      // (the crossing happens in one report only), into the audit trail and so to webhooks.
      const std::string today = Day(now);
      for (const auto& [key, added] : sums) {
        const auto& [tenant_id, metric, day] = key;
        if (metric != "api_calls" || day != today) continue;
        const auto tenant = tenants::store::SelectTenant(s, tenant_id);
        const std::int64_t limit = tenant ? DailyLimit(*tenant) : 0;
        if (limit <= 0) continue;
        const auto total = s.FetchOne(kDayTotal, {tenant_id, product, metric, day});
        const std::int64_t after = total ? total->Int(0) : 0;
        if (after < limit || after - added >= limit) continue;
        std::string target = product;
        target.append("/").append(metric);
        std::string description = "the day's ";
        description.append(metric).append(" on ").append(product).append(" reached the limit of " +
                                                                         std::to_string(limit));
        audit::Record(s, clock_, audit::Actor{"system:usage", "usage", ""},
                      {tenant_id, "usage.threshold_reached", 'c', "usage", target, description,
                       json::serialize(json::object{{"product", product},
                                                    {"metric", metric},
                                                    {"day", day},
                                                    {"limit", limit},
                                                    {"used", after}})});
      }
    });
  } catch (const storage::ForeignKeyViolation&) {
    return InvalidInput("unknown-tenant", "Unknown tenant", "an event names no known tenant");
  }
  return out;
}

Result<TenantUsage> Meter::ForTenant(const std::string& tenant_id) {
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return std::move(tenant).error();
  TenantUsage u;
  u.tenant_id = tenant->id;
  u.day = Day(clock_.Now());
  u.month = u.day.substr(0, 7);
  if (tenant->status == tenants::Status::kTrial) {
    u.api_calls_per_day = tenants::kTrialQuota.api_calls_per_day;
    u.seats = tenants::kTrialQuota.seats;
    u.projects = tenants::kTrialQuota.projects;
  } else if (tenant->status != tenants::Status::kDemo) {
    u.api_calls_per_day = catalog::LimitsOf(tenant->plan).api_calls_per_day;
  }
  std::vector<storage::Row> rows;
  db_.Read([&](storage::Session& s) { rows = s.Fetch(kTenantTotals, {tenant->id, u.month}); });
  for (const auto& r : rows) {
    if (u.totals.empty() || u.totals.back().product != r.Text(0) ||
        u.totals.back().metric != r.Text(1)) {
      u.totals.push_back({r.Text(0), r.Text(1), 0, 0});
    }
    u.totals.back().this_month += r.Int(3);
    if (r.Text(2) == u.day) u.totals.back().today += r.Int(3);
  }
  return u;
}

std::int64_t Meter::Compact() {
  const Timestamp now = clock_.Now();
  const std::string ids_before =
      FormatStorage(Timestamp{now.micros - kDedupeSeconds * kMicrosPerSecond});
  const std::string days_before =
      Day(Timestamp{now.micros - std::int64_t{kDailyDays} * 86'400 * kMicrosPerSecond});
  std::int64_t removed = 0;
  db_.Write([&](storage::Session& s) {
    removed = s.Execute(kPruneEvents, {ids_before});
    s.Execute(kFoldDays, {days_before});
    removed += s.Execute(kDeleteFoldedDays, {days_before});
  });
  return removed;
}

}  // namespace breakpilot::usage
