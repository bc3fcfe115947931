#include "domains/domain_service.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "core/ascii.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"

namespace breakpilot::domains {
namespace {

namespace json = boost::json;
using storage::Query;

const Logger kLog("domains");

#define DOMAIN_COLUMNS \
  "domain, tenant_id, token, status, created_at, verified_at, last_checked_at, last_error"
constexpr Query kSelectTenantDomains{"domains_select_tenant",
                                     "SELECT " DOMAIN_COLUMNS
                                     " FROM tenant_domains WHERE tenant_id = $1 ORDER BY domain"};
constexpr Query kSelectDomain{"domains_select_one",
                              "SELECT " DOMAIN_COLUMNS " FROM tenant_domains WHERE domain = $1"};
constexpr Query kCountTenant{"domains_count_tenant",
                             "SELECT count(*) FROM tenant_domains WHERE tenant_id = $1"};
constexpr Query kInsertDomain{
    "domains_insert",
    "INSERT INTO tenant_domains (domain, tenant_id, token, status, created_at) "
    "VALUES ($1, $2, $3, 'pending', $4)"};
// A check's result: the status moves only from the one the check read, so of two replicas
// checking at once one records the change.
constexpr Query kUpdateCheck{
    "domains_update_check",
    "UPDATE tenant_domains SET status = $2, verified_at = $3, last_checked_at = $4, "
    "last_error = $5 WHERE domain = $1 AND status = $6"};
constexpr Query kDeleteDomain{"domains_delete", "DELETE FROM tenant_domains WHERE domain = $1"};
constexpr Query kSelectDue{
    "domains_select_due",
    "SELECT " DOMAIN_COLUMNS
    " FROM tenant_domains WHERE last_checked_at IS NULL OR "
    "(status = 'pending' AND last_checked_at < $1) OR (status = 'verified' AND last_checked_at < "
    "$2) ORDER BY last_checked_at LIMIT 50"};
constexpr Query kSelectVerified{
    "domains_select_verified",
    "SELECT d.domain, t.slug FROM tenant_domains d JOIN tenants t ON t.id = d.tenant_id "
    "WHERE d.status = 'verified'"};
#undef DOMAIN_COLUMNS

Domain FromRow(const storage::Row& r) {
  return Domain{.domain = r.Text(0),
                .tenant_id = r.Text(1),
                .token = r.Text(2),
                .status = r.Text(3),
                .created_at = r.Time(4),
                .verified_at = r.OptionalTime(5),
                .last_checked_at = r.OptionalTime(6),
                .last_error = r.Optional(7)};
}

Error DomainNotFound(std::string_view domain) {
  return NotFound("domain-not-found", "this organisation has no domain " + std::string(domain));
}

bool IsIpv4(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

audit::Event DomainEvent(std::string action, char crud, const Domain& d, std::string what) {
  return {.tenant_id = d.tenant_id,
          .action = std::move(action),
          .crud = crud,
          .target_type = "domain",
          .target_id = d.domain,
          .description = std::move(what),
          .fields_json = json::serialize(json::object{{"domain", d.domain}, {"status", d.status}})};
}

}  // namespace

Result<std::string> NormalizeDomain(std::string_view text, std::string_view portal_domain) {
  std::string d = AsciiLowerCopy(text);
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.size() > 253) return Invalid("must be a host name of at most 253 characters");
  if (IsIpv4(d) || d.find(':') != std::string::npos) {
    return Invalid("must be a host name, not an IP address");
  }
  std::size_t labels = 0, start = 0;
  while (start <= d.size()) {
    auto dot = d.find('.', start);
    if (dot == std::string::npos) dot = d.size();
    const std::string_view label(d.data() + start, dot - start);
    const bool ok = !label.empty() && label.size() <= 63 && label.front() != '-' &&
                    label.back() != '-' && std::all_of(label.begin(), label.end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                    });
    if (!ok)
      return Invalid("must be a host name: labels of a-z, 0-9 and '-', such as portal.example.com");
    ++labels;
    start = dot + 1;
  }
  if (labels < 2) return Invalid("must have at least two labels, such as portal.example.com");
  const std::string suffix = "." + std::string(portal_domain);
  if (d == portal_domain || d.ends_with(suffix)) {
    return Invalid("is under the portal's own domain, which needs no verification");
  }
  return d;
}

DomainService::DomainService(storage::Database& db, const Clock& clock,
                             tenants::TenantService& tenants, DomainSettings settings)
    : db_(db),
      clock_(clock),
      tenants_(tenants),
      settings_(std::move(settings)),
      resolver_(settings_.resolver) {
  subscription_ = db_.Subscribe([this](std::string_view event) {
    if (event == kDomainsEvent || event == "*") Reload();
  });
  Reload();
}

DomainService::~DomainService() {
  db_.Unsubscribe(subscription_);
}

void DomainService::Reload() {
  std::unordered_map<std::string, std::string> fresh;
  try {
    db_.Read([&](storage::Session& s) {
      for (const auto& r : s.Fetch(kSelectVerified, {})) fresh.emplace(r.Text(0), r.Text(1));
    });
  } catch (const std::exception& e) {
    // Not migrated yet (a command before `migrate`), or the database away: kept as it was.
    kLog.Warn("cannot read the verified domains", {{"error", ErrorText(e)}});
    return;
  }
  verified_.OnEvent([&](auto& m) { m = std::move(fresh); });
}

std::optional<std::string> DomainService::SlugFor(std::string_view host) const {
  return verified_.Read([&](const auto& m) -> std::optional<std::string> {
    if (m.empty()) return std::nullopt;  // the usual case: no request pays for a key copy
    auto it = m.find(std::string(host));
    if (it == m.end()) return std::nullopt;
    return it->second;
  });
}

Proof DomainService::ProofFor(const Domain& d, const tenants::Tenant& t) const {
  return Proof{.cname_name = d.domain,
               .cname_target = t.slug + "." + settings_.portal_domain,
               .txt_name = "_breakpilot." + d.domain,
               .txt_value = "breakpilot-verify=" + d.token};
}

Result<Domain> DomainService::Add(const audit::Actor& actor, const std::string& tenant_id,
                                  const std::string& domain) {
  if (!on())
    return NotFound("domains-off", "custom domains need the portal's domain (--portal-domain)");
  auto name = NormalizeDomain(domain, settings_.portal_domain);
  if (!name) return ValidationFailed({{"/domain", name.error().detail}});
  auto tenant = tenants_.Get(tenant_id);
  if (!tenant) return tenant.error();
  Domain d{.domain = *name,
           .tenant_id = tenant->id,
           .token = RandomToken(18),
           .status = "pending",
           .created_at = clock_.Now()};
  std::optional<Error> refused;
  try {
    db_.Write([&](storage::Session& s) {
      if (s.FetchOne(kCountTenant, {d.tenant_id})->Int(0) >=
          static_cast<std::int64_t>(kMaxDomainsPerTenant)) {
        refused = Conflict("too-many-domains", "Too many domains",
                           "an organisation has at most 10 domains; remove one first");
        return;
      }
      s.Execute(kInsertDomain, {d.domain, d.tenant_id, d.token, FormatStorage(d.created_at)});
      audit::Record(s, clock_, actor, DomainEvent("domain.add", 'c', d, "added " + d.domain));
    });
  } catch (const storage::UniqueViolation&) {
    refused =
        Conflict("domain-taken", "Domain taken", d.domain + " is already claimed on this platform");
  }
  if (refused) return *refused;
  return d;
}

std::vector<Domain> DomainService::List(const std::string& tenant_id) {
  std::vector<Domain> out;
  db_.Read([&](storage::Session& s) {
    for (const auto& r : s.Fetch(kSelectTenantDomains, {tenant_id})) out.push_back(FromRow(r));
  });
  return out;
}

Result<Domain> DomainService::Check(const audit::Actor& actor, const std::string& tenant_id,
                                    const std::string& domain) {
  std::optional<Domain> d;
  db_.Read([&](storage::Session& s) {
    if (auto r = s.FetchOne(kSelectDomain, {domain})) d = FromRow(*r);
  });
  if (!d || d->tenant_id != tenant_id) return DomainNotFound(domain);
  return CheckOne(actor, *std::move(d));
}

Result<Domain> DomainService::CheckOne(const audit::Actor& actor, Domain d) {
  auto tenant = tenants_.Get(d.tenant_id);
  if (!tenant) return tenant.error();
  const Proof proof = ProofFor(d, *tenant);
  std::optional<std::string> why;
  bool proven = false;
  auto cname = resolver_.Cname(d.domain);
  if (!cname) return cname.error();  // the resolver is away: nothing changes
  proven = std::find(cname->begin(), cname->end(), proof.cname_target) != cname->end();
  if (!proven) {
    auto txt = resolver_.Txt(proof.txt_name);
    if (!txt) return txt.error();
    proven = std::find(txt->begin(), txt->end(), proof.txt_value) != txt->end();
    if (!proven) {
      why = cname->empty()
                ? "no CNAME to " + proof.cname_target + " and no TXT record " + proof.txt_name +
                      " with the token"
                : d.domain + " is a CNAME to " + cname->front() + ", not to " + proof.cname_target;
    }
  }
  const Timestamp now = clock_.Now();
  const std::string before = d.status;
  d.status = proven ? "verified" : "pending";
  d.last_checked_at = now;
  d.last_error = why;
  if (proven && before != "verified") d.verified_at = now;
  if (!proven) d.verified_at.reset();
  db_.Write([&](storage::Session& s) {
    const auto changed =
        s.Execute(kUpdateCheck, {d.domain, d.status, storage::TimeParam(d.verified_at),
                                 FormatStorage(now), d.last_error, before});
    if (changed == 0 || before == d.status) return;  // moved or removed meanwhile, or no news
    audit::Record(s, clock_, actor,
                  proven ? DomainEvent("domain.verify", 'u', d, "verified " + d.domain)
                         : DomainEvent("domain.unverify", 'u', d,
                                       d.domain + " no longer proven: " + why.value_or("")));
    s.Notify(kDomainsEvent);
  });
  return d;
}

Result<Ok> DomainService::Remove(const audit::Actor& actor, const std::string& tenant_id,
                                 const std::string& domain) {
  std::optional<Result<Ok>> out;
  db_.Write([&](storage::Session& s) {
    auto r = s.FetchOne(kSelectDomain, {domain});
    if (!r || r->Text(1) != tenant_id) return void(out = DomainNotFound(domain));
    const Domain d = FromRow(*r);
    s.Execute(kDeleteDomain, {domain});
    audit::Record(s, clock_, actor, DomainEvent("domain.remove", 'd', d, "removed " + domain));
    s.Notify(kDomainsEvent);
    out = Ok{};
  });
  return *std::move(out);
}

bool DomainService::AllowCertificate(const std::string& host) {
  auto name = NormalizeDomain(host, settings_.portal_domain);
  if (!name || !SlugFor(*name)) return false;
  std::optional<Domain> d;
  db_.Read([&](storage::Session& s) {
    if (auto r = s.FetchOne(kSelectDomain, {*name})) d = FromRow(*r);
  });
  if (!d || d->status != "verified") return false;
  auto t = tenants_.Get(d->tenant_id);
  return t && t->status != tenants::Status::kArchived;
}

void DomainService::CheckDue(const audit::Actor& actor) {
  if (!on()) return;
  const Timestamp now = clock_.Now();
  std::vector<Domain> due;
  db_.Read([&](storage::Session& s) {
    const Timestamp minute_ago{now.micros - 60 * kMicrosPerSecond};
    const Timestamp day_ago{now.micros - 86'400 * kMicrosPerSecond};
    for (const auto& r : s.Fetch(kSelectDue, {FormatStorage(minute_ago), FormatStorage(day_ago)})) {
      due.push_back(FromRow(r));
    }
  });
  for (auto& d : due) {
    if (auto r = CheckOne(actor, std::move(d)); !r) {
      kLog.Warn("a domain check failed", {{"error", r.error().detail}});
      break;  // the resolver is away: the next round tries again
    }
  }
}

}  // namespace breakpilot::domains
