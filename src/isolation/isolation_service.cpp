#include "isolation/isolation_service.hpp"

#include <boost/json.hpp>

#include <thread>

#include "core/log.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::isolation {
namespace {

namespace json = boost::json;
using storage::Query;
using storage::Session;

const Logger kLog("isolation");
const audit::Actor kSystem{"system:isolation", "", "", "isolation job"};

constexpr Query kSelectIsolation{"isolation_select_tenant",
                                 "SELECT isolation FROM tenants WHERE id = $1"};
constexpr Query kSetIsolation{"isolation_set_tenant",
                              "UPDATE tenants SET isolation = $2 WHERE id = $1"};
constexpr Query kSelectProgress{
    "isolation_select_progress",
    "SELECT product_id, target, phase, copied, total, error, updated_at FROM tenant_isolation "
    "WHERE tenant_id = $1 ORDER BY product_id"};
// A new request: every product not done yet starts from "waiting" (a failed one is asked again).
constexpr Query kResetProgress{
    "isolation_reset_progress",
    "INSERT INTO tenant_isolation (tenant_id, product_id, target, phase, updated_at) VALUES ($1, "
    "$2, $3, 'waiting', $4) ON CONFLICT (tenant_id, product_id) DO UPDATE SET target = $3, "
    "phase = 'waiting', error = NULL, updated_at = $4 WHERE tenant_isolation.phase <> 'done'"};
constexpr Query kStoreProgress{
    "isolation_store_progress",
    "UPDATE tenant_isolation SET phase = $3, copied = $4, total = $5, error = $6, updated_at = $7 "
    "WHERE tenant_id = $1 AND product_id = $2"};

bool Terminal(std::string_view phase) {
  return phase == "done" || phase == "failed" || phase == "unsupported" || phase == "not_called";
}

std::string StateOf(const TenantIsolation& t) {
  if (t.isolation == "shared") return "shared";
  bool moving = false;
  for (const auto& p : t.products) {
    if (p.phase == "failed" || p.phase == "unsupported") return "failed";
    if (!Terminal(p.phase)) moving = true;
  }
  return moving ? "moving" : "isolated";
}

std::string JobKey(const std::string& tenant_id, const std::string& isolation,
                   const std::string& requested, std::int64_t round) {
  return std::string(kIsolateJob) + ":" + tenant_id + ":" + isolation + ":" + requested + ":" +
         std::to_string(round);
}

}  // namespace

IsolationService::IsolationService(storage::Database& db, const Clock& clock,
                                   const catalog::Catalog& catalog, tenants::TenantService& tenants,
                                   lifecycle::ProductClient& products, IsolationSettings settings)
    : db_(db),
      clock_(clock),
      catalog_(catalog),
      tenants_(tenants),
      products_(products),
      settings_(settings) {}

void IsolationService::Register(jobs::Runner& runner) {
  runner.Register(std::string(kIsolateJob), [this](jobs::JobContext& ctx) { Run(ctx); });
}

Result<TenantIsolation> IsolationService::Get(const std::string& tenant_id) {
  auto t = tenants_.Get(tenant_id);
  if (!t) return std::move(t).error();
  TenantIsolation out{.tenant_id = tenant_id};
  db_.Read([&](Session& s) {
    if (auto r = s.FetchOne(kSelectIsolation, {tenant_id})) out.isolation = r->Text(0);
    for (const auto& r : s.Fetch(kSelectProgress, {tenant_id})) {
      out.products.push_back({.product_id = r.Text(0),
                              .target = r.Text(1),
                              .phase = r.Text(2),
                              .copied = r.Int(3),
                              .total = r.Int(4),
                              .error = r.Optional(5).value_or(""),
                              .updated_at = r.Time(6)});
    }
  });
  out.state = StateOf(out);
  return out;
}

Result<TenantIsolation> IsolationService::Request(const audit::Actor& actor,
                                                  const std::string& tenant_id,
                                                  const std::string& isolation) {
  if (isolation != "schema" && isolation != "database") {
    return InvalidInput("validation", "Validation failed",
                        "isolation is \"schema\" or \"database\"",
                        {{"/isolation", "must be \"schema\" or \"database\""}});
  }
  auto t = tenants_.Get(tenant_id);
  if (!t) return std::move(t).error();
  if (t->status == tenants::Status::kArchived) {
    return Error{ErrorKind::kGone, "tenant-archived", "Tenant archived",
                 "an archived tenant's data is deleted: there is nothing to isolate"};
  }
  std::optional<Error> refused;
  db_.Write([&](Session& s) {
    const auto current = s.FetchOne(kSelectIsolation, {tenant_id});
    const std::string was = current ? current->Text(0) : "shared";
    if (was != "shared" && was != isolation) {
      refused = Conflict("isolation-conflict", "Isolation conflict",
                         "the tenant is isolated as \"" + was +
                             "\"; moving it elsewhere, or back, is not offered");
      return;
    }
    const Timestamp now = clock_.Now();
    s.Execute(kSetIsolation, {tenant_id, isolation});
    for (const auto& sub : tenants::store::SelectSubscriptions(s, tenant_id)) {
      s.Execute(kResetProgress, {tenant_id, sub.product_id, isolation, FormatStorage(now)});
    }
    const std::string requested = std::to_string(now.micros);
    jobs::Enqueue(s, clock_,
                  {.kind = std::string(kIsolateJob),
                   .dedupe_key = JobKey(tenant_id, isolation, requested, 0),
                   .payload = json::serialize(json::object{{"tenant_id", tenant_id},
                                                           {"isolation", isolation},
                                                           {"requested", requested},
                                                           {"round", 0}}),
                   .run_at = now});
    audit::Record(
        s, clock_, actor,
        {tenant_id, "tenant.isolation_requested", 'u', "tenant", tenant_id,
         "isolation of " + t->slug + " as \"" + isolation + "\" requested (was \"" + was + "\")",
         json::serialize(json::object{{"isolation", isolation}, {"was", was}})});
  });
  if (refused) return *refused;
  return Get(tenant_id);
}

void IsolationService::Run(jobs::JobContext& ctx) {
  const auto payload = json::parse(ctx.job().payload).as_object();
  const auto text = [&](std::string_view k) {
    const auto* v = payload.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const std::string tenant_id = text("tenant_id");
  const std::string isolation = text("isolation");
  const std::string requested = text("requested");
  const auto* round_value = payload.if_contains("round");
  const std::int64_t round =
      round_value != nullptr && round_value->is_int64() ? round_value->as_int64() : 0;

  const auto ends = std::chrono::steady_clock::now() + settings_.round;
  for (;;) {
    auto state = Get(tenant_id);
    if (!state || state->isolation != isolation) return;  // gone, or asked otherwise since
    std::vector<ProductProgress> changed;
    for (auto p : state->products) {
      if (Terminal(p.phase)) continue;
      const catalog::Manifest* product = catalog_.Find(p.product_id);
      if (product == nullptr) {
        p.phase = "failed";
        p.error = "the product is not in the catalog";
      } else if (!products_.Reachable(*product)) {
        p.phase = "not_called";  // the phase says why: not on this machine (product_hosts)
        p.error.clear();
      } else if (auto r = products_.Isolate(*product, tenant_id, isolation); !r) {
        // Down for now: asked again at the next poll, the reason shown meanwhile.
        p.error = r.error().detail;
      } else {
        p.phase = r->phase.empty() ? std::string("failed") : r->phase;
        p.copied = r->copied;
        p.total = r->total;
        p.error = r->error;
      }
      changed.push_back(std::move(p));
    }
    if (!changed.empty()) {
      ctx.Checkpoint([&](Session& s) {
        const std::string now = FormatStorage(clock_.Now());
        for (const auto& p : changed) {
          s.Execute(
              kStoreProgress,
              {tenant_id, p.product_id, p.phase, std::to_string(p.copied), std::to_string(p.total),
               p.error.empty() ? storage::Param() : storage::Param(p.error), now});
        }
      });
    }
    auto after = Get(tenant_id);
    if (!after) return;
    if (after->state != "moving") {
      const bool ok = after->state == "isolated";
      ctx.Complete([&](Session& s) {
        json::array products;
        for (const auto& p : after->products) {
          products.push_back(json::object{{"product", p.product_id}, {"phase", p.phase}});
        }
        audit::Record(s, clock_, kSystem,
                      {tenant_id, ok ? "tenant.isolated" : "tenant.isolation_failed", 'u', "tenant",
                       tenant_id,
                       ok ? "every product keeps the tenant's data apart (" + isolation + ")"
                          : "a product could not move the tenant's data (" + isolation + ")",
                       json::serialize(json::object{{"isolation", isolation},
                                                    {"products", std::move(products)}}),
                       !ok});
      });
      if (!ok) kLog.Warn("tenant isolation failed", {{"tenant_id", tenant_id}});
      return;
    }
    if (std::chrono::steady_clock::now() >= ends) {
      // A long move: this job ends and the next one goes on (a worker is not held for hours).
      ctx.Complete([&](Session& s) {
        jobs::Enqueue(s, clock_,
                      {.kind = std::string(kIsolateJob),
                       .dedupe_key = JobKey(tenant_id, isolation, requested, round + 1),
                       .payload = json::serialize(json::object{{"tenant_id", tenant_id},
                                                               {"isolation", isolation},
                                                               {"requested", requested},
                                                               {"round", round + 1}}),
                       .run_at = clock_.Now()});
      });
      return;
    }
    std::this_thread::sleep_for(settings_.poll);
  }
}

}  // namespace breakpilot::isolation
