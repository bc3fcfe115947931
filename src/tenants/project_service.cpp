#include "tenants/project_service.hpp"

#include <algorithm>

#include "core/uuid.hpp"
#include "tenants/tenant_service.hpp"
#include "tenants/tenant_store.hpp"

namespace breakpilot::tenants {
namespace {

Error ProjectNotFound(const std::string& id) {
  return NotFound("project-not-found", "no project with id " + id + " in this tenant");
}

Error DuplicateProject(const std::string& name) {
  return Conflict("duplicate-project", "Project name already taken",
                  "this tenant already has a project named '" + name + "'");
}

// Loads the tenant inside the transaction; an archived tenant takes no more writes.
Result<Ok> CheckWritableTenant(storage::Session& s, const std::string& tenant_id) {
  auto t = store::SelectTenant(s, tenant_id);
  if (!t) return TenantNotFound(tenant_id);
  if (t->status == Status::kArchived) return TenantArchived(tenant_id);
  return Ok{};
}

void ValidateProject(const ProjectInput& in, bool creating, std::vector<FieldError>& errors) {
  if (creating && !in.name) errors.push_back({"/name", "is required"});
  if (in.name) {
    AddFieldError(errors, "/name", ValidateDisplayName(*in.name, 200));
  }
  if (in.description && in.description->size() > 2000) {
    errors.push_back({"/description", "must be at most 2000 bytes"});
  }
}

}  // namespace

Result<Project> ProjectService::Create(const audit::Actor& actor, const std::string& tenant_id,
                                       const ProjectInput& in) {
  std::vector<FieldError> errors;
  ValidateProject(in, true, errors);
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  const Timestamp now = clock_.Now();
  Project p{NewUuidV7(now), tenant_id, *in.name, in.description.value_or(""), 1, now, now};
  std::optional<Error> err;
  try {
    db_.Write([&](storage::Session& s) {
      // Locked, so that parallel creates on a trial tenant count one after the other.
      auto t = store::SelectTenantForUpdate(s, tenant_id);
      if (!t) return void(err = TenantNotFound(tenant_id));
      if (t->status == Status::kArchived) return void(err = TenantArchived(tenant_id));
      if (t->status == Status::kTrial &&
          store::CountProjects(s, tenant_id) >= kTrialQuota.projects) {
        return void(err = TrialLimitReached("projects", kTrialQuota.projects));
      }
      store::InsertProject(s, p);
      audit::Record(
          s, clock_, actor,
          {tenant_id, "project.create", 'c', "project", p.id, "created project " + p.name});
    });
  } catch (const storage::UniqueViolation&) {
    return DuplicateProject(p.name);
  }
  if (err) return *std::move(err);
  return p;
}

Result<Project> ProjectService::Get(const std::string& tenant_id, const std::string& id) {
  std::optional<Project> p;
  bool tenant_exists = false;
  db_.Read([&](storage::Session& s) {
    tenant_exists = store::SelectTenant(s, tenant_id).has_value();
    if (tenant_exists) p = store::SelectProject(s, tenant_id, id);
  });
  if (!tenant_exists) return TenantNotFound(tenant_id);
  if (!p) return ProjectNotFound(id);
  return *p;
}

Result<Page<Project>> ProjectService::List(const std::string& tenant_id,
                                           const std::optional<std::string>& cursor,
                                           std::optional<int> limit) {
  auto before = DecodeCursor(cursor);
  if (!before) return std::move(before).error();
  auto n = CheckLimit(limit);
  if (!n) return std::move(n).error();
  Page<Project> page;
  bool tenant_exists = false;
  db_.Read([&](storage::Session& s) {
    tenant_exists = store::SelectTenant(s, tenant_id).has_value();
    if (tenant_exists) page.items = store::SelectProjects(s, tenant_id, *before, *n + 1);
  });
  if (!tenant_exists) return TenantNotFound(tenant_id);
  if (static_cast<int>(page.items.size()) > *n) {
    page.items.resize(static_cast<std::size_t>(*n));
    page.next_cursor = EncodeCursor(page.items.back().id);
  }
  return page;
}

Result<Project> ProjectService::Update(const audit::Actor& actor, const std::string& tenant_id,
                                       const std::string& id, const ProjectInput& patch,
                                       std::optional<std::int64_t> expected_version) {
  std::vector<FieldError> errors;
  ValidateProject(patch, false, errors);
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  std::optional<Result<Project>> out;
  try {
    db_.Write([&](storage::Session& s) {
      if (auto ok = CheckWritableTenant(s, tenant_id); !ok)
        return void(out = std::move(ok).error());
      auto p = store::SelectProject(s, tenant_id, id);
      if (!p) return void(out = ProjectNotFound(id));
      const std::int64_t version = p->version;
      if (expected_version && *expected_version != version) {
        return void(out = StaleVersion("project"));
      }
      if (patch.name) p->name = *patch.name;
      if (patch.description) p->description = *patch.description;
      p->updated_at = clock_.Now();
      // Archiving keeps the first instant; restoring clears it.
      const bool was_archived = p->archived_at.has_value();
      if (patch.archived && *patch.archived && !was_archived) p->archived_at = p->updated_at;
      if (patch.archived && !*patch.archived) p->archived_at.reset();
      if (!store::UpdateProject(s, *p, version)) {
        return void(out = StaleVersion("project"));
      }
      p->version = version + 1;
      const bool archived = p->archived_at.has_value();
      const char* action = archived == was_archived ? "project.update"
                           : archived               ? "project.archive"
                                                    : "project.restore";
      audit::Record(s, clock_, actor,
                    {tenant_id, action, 'u', "project", p->id,
                     std::string(archived == was_archived ? "updated"
                                 : archived               ? "archived"
                                                          : "restored") +
                         " project " + p->name});
      out = *p;
    });
  } catch (const storage::UniqueViolation&) {
    return DuplicateProject(patch.name.value_or(""));
  }
  return *std::move(out);
}

Result<Ok> ProjectService::Delete(const audit::Actor& actor, const std::string& tenant_id,
                                  const std::string& id) {
  std::optional<Error> err;
  db_.Write([&](storage::Session& s) {
    if (auto ok = CheckWritableTenant(s, tenant_id); !ok) return void(err = std::move(ok).error());
    if (!store::DeleteProject(s, tenant_id, id)) return void(err = ProjectNotFound(id));
    audit::Record(s, clock_, actor,
                  {tenant_id, "project.delete", 'd', "project", id, "deleted project"});
  });
  if (err) return *std::move(err);
  return Ok{};
}

Result<std::pair<Subscription, bool>> SubscriptionService::Subscribe(
    const audit::Actor& actor, const std::string& tenant_id, const std::string& product_id,
    const std::optional<std::string>& plan, PlanChoice choice) {
  const catalog::Manifest* product = catalog_.Find(product_id);
  if (product == nullptr) {
    return InvalidInput("unknown-product", "Unknown product",
                        "no product '" + product_id + "' in the catalog",
                        {{"/product_id", "is not a product in GET /catalog"}});
  }
  std::optional<Result<std::pair<Subscription, bool>>> out;
  db_.Write([&](storage::Session& s) {
    auto t = store::SelectTenant(s, tenant_id);
    if (!t) return void(out = TenantNotFound(tenant_id));
    if (t->status == Status::kArchived) return void(out = TenantArchived(tenant_id));
    const std::string own(ToString(t->plan));
    if (plan && *plan != own && choice == PlanChoice::kTenantsOwn) {
      Error e{ErrorKind::kForbidden, "plan-not-allowed", "Plan not allowed",
              "a tenant subscribes on its own plan (" + own + "); another plan is a purchase: " +
                  "ask Breakpilot staff, or subscribe without naming a plan"};
      e.extensions["tenant_plan"] = own;
      return void(out = e);
    }
    std::string chosen = plan.value_or(own);
    if (std::find(product->plans.begin(), product->plans.end(), chosen) == product->plans.end()) {
      if (plan) {
        return void(out = InvalidInput("unknown-plan", "Plan not offered",
                                       product_id + " does not offer plan '" + chosen + "'",
                                       {{"/plan", "is not one of this product's plans"}}));
      }
      chosen = product->plans.front();
    }
    Subscription sub{tenant_id, product_id, chosen, clock_.Now()};
    const bool created = store::InsertSubscription(s, sub);
    if (!created) {
      for (auto& existing : store::SelectSubscriptions(s, tenant_id)) {
        if (existing.product_id == product_id) sub = existing;
      }
    } else {
      audit::Record(s, clock_, actor,
                    {tenant_id, "subscription.create", 'c', "product", product_id,
                     "subscribed to " + product_id});
    }
    out = std::make_pair(sub, created);
  });
  return *std::move(out);
}

Result<std::vector<Subscription>> SubscriptionService::List(const std::string& tenant_id) {
  std::optional<std::vector<Subscription>> subs;
  db_.Read([&](storage::Session& s) {
    if (store::SelectTenant(s, tenant_id)) subs = store::SelectSubscriptions(s, tenant_id);
  });
  if (!subs) return TenantNotFound(tenant_id);
  return *std::move(subs);
}

Result<Ok> SubscriptionService::Unsubscribe(const audit::Actor& actor, const std::string& tenant_id,
                                            const std::string& product_id) {
  std::optional<Error> err;
  db_.Write([&](storage::Session& s) {
    if (auto ok = CheckWritableTenant(s, tenant_id); !ok) return void(err = std::move(ok).error());
    if (!store::DeleteSubscription(s, tenant_id, product_id)) {
      return void(
          err = NotFound("subscription-not-found", "tenant is not subscribed to " + product_id));
    }
    audit::Record(s, clock_, actor,
                  {tenant_id, "subscription.delete", 'd', "product", product_id,
                   "unsubscribed from " + product_id});
  });
  if (err) return *std::move(err);
  return Ok{};
}

}  // namespace breakpilot::tenants
