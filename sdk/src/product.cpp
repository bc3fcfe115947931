#include "breakpilot/product.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "internal.hpp"

namespace breakpilot::sdk {
namespace {

constexpr std::string_view kApiKeyPrefix = "bpk_";
constexpr std::size_t kMaxCachedKeys = 100'000;

Failure Unauthenticated(std::string detail) {
  return Failure{401, "unauthenticated", "Unauthenticated", std::move(detail)};
}

bool IsTenantId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

// "/v1/tenants/{id}/<tail>" -> id, when the path has that shape.
std::optional<std::string> TenantInPath(std::string_view path, std::string_view tail) {
  constexpr std::string_view kHead = "/v1/tenants/";
  if (path.rfind(kHead, 0) != 0 || path.size() <= kHead.size() + tail.size() + 1) return {};
  if (path.substr(path.size() - tail.size()) != tail) return {};
  std::string_view id = path.substr(kHead.size(), path.size() - kHead.size() - tail.size() - 1);
  if (path[path.size() - tail.size() - 1] != '/') return {};
  return std::string(id);
}

boost::json::object ToJson(const IsolationStatus& s) {
  return {{"tenant_id", s.tenant_id}, {"isolation", s.target}, {"place", s.place},
          {"phase", s.phase},         {"copied", s.copied},    {"total", s.total},
          {"error", s.error}};
}

// PUT /v1/tenants/{id}/isolation {"isolation"}: 202 while the move runs, 200 once it is done;
// GET: 200 with where the tenant is.
Response IsolationContract(TenantData& data, const Request& request, const std::string& tenant) {
  Outcome<IsolationStatus> status = Failure{};
  if (request.method == "PUT") {
    boost::system::error_code ec;
    const auto body = boost::json::parse(request.body, ec);
    const auto* target =
        !ec && body.is_object() ? body.as_object().if_contains("isolation") : nullptr;
    if (target == nullptr || !target->is_string()) {
      return Problem(422, "validation-failed", "Validation failed",
                     R"(the body is {"isolation": "schema" or "database"})");
    }
    status = data.Isolate(tenant, std::string(target->as_string()));
  } else {
    status = data.Isolation(tenant);
  }
  if (!status) return status.failure().ToResponse();
  const bool moving = status->phase != "done" && status->phase != "failed";
  return Json(request.method == "PUT" && moving ? 202 : 200,
              boost::json::serialize(ToJson(*status)));
}

std::string RandomId() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4U]);
    out.push_back(kHex[b & 15U]);
  }
  return out;
}

// Usage summed per tenant and metric, sent about once a second. A batch that failed is sent
// again as it was (the same event ids: the platform applies each once), before anything newer.
class UsageBatcher {
 public:
  UsageBatcher(std::string url, std::string product, TokenFn token)
      : url_(std::move(url)), product_(std::move(product)), token_(std::move(token)) {
    worker_ = std::thread([this] { Loop(); });
  }
  ~UsageBatcher() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
    Flush();  // one last try
  }
  UsageBatcher(const UsageBatcher&) = delete;
  UsageBatcher& operator=(const UsageBatcher&) = delete;

  void Add(const std::string& tenant, const std::string& metric, std::int64_t quantity) {
    std::lock_guard lock(mu_);
    if (pending_.size() >= 100'000) return;  // the platform is away for long: counted no more
    pending_[{tenant, metric}] += quantity;
  }

  bool Flush() {
    std::lock_guard send(send_mu_);
    {
      std::lock_guard lock(mu_);
      if (unsent_.empty()) {
        for (const auto& [key, quantity] : pending_) {
          unsent_.push_back({{"id", RandomId()},
                             {"tenant_id", key.first},
                             {"metric", key.second},
                             {"quantity", quantity}});
        }
        pending_.clear();
      }
    }
    if (unsent_.empty()) return true;
    auto token = token_();
    if (!token) return false;
    const auto r = internal::Send(
        {.method = "POST",
         .url = url_,
         .headers = {"Content-Type: application/json", "Authorization: Bearer " + *token},
         .body = boost::json::serialize(
             boost::json::object{{"product", product_}, {"events", unsent_}}),
         .timeout = std::chrono::seconds(10)});
    // 4xx but 401/408/429: the report will never be taken; dropped rather than retried forever.
    if (r.status == 200 || (r.status >= 400 && r.status < 500 && r.status != 401 &&
                            r.status != 408 && r.status != 429)) {
      unsent_.clear();
      return r.status == 200;
    }
    return false;
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      Flush();
      lock.lock();
    }
  }

  std::string url_;
  std::string product_;
  TokenFn token_;
  std::mutex send_mu_;         // one report at a time; guards unsent_
  boost::json::array unsent_;  // the batch in flight or to retry, ids fixed
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::pair<std::string, std::string>, std::int64_t> pending_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace

struct Product::Impl {
  ProductOptions options;
  TenantData& data;
  TokenVerifier tokens;
  internal::ServiceToken service;
  std::unique_ptr<AuditEmitter> audit;
  std::unique_ptr<UsageBatcher> usage;
  // This product's `flags` in the platform's catalog; nullopt when it cannot be read.
  std::optional<std::map<std::string, std::string, std::less<>>> FetchFlags() {
    if (options.client_id.empty()) return std::nullopt;  // no service client: defaults only
    auto token = service.Get();
    if (!token) return std::nullopt;
    const internal::HttpResult r = internal::Send({.url = options.platform_url + "/catalog",
                                                   .headers = {"Authorization: Bearer " + *token},
                                                   .timeout = std::chrono::seconds(2),
                                                   .max_body = std::size_t{4} << 20});
    if (r.status == 401) service.Invalidate();
    if (r.status != 200) return std::nullopt;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(r.body, ec);
    const auto* items = !ec && v.is_object() ? v.as_object().if_contains("items") : nullptr;
    if (items == nullptr || !items->is_array()) return std::nullopt;
    std::map<std::string, std::string, std::less<>> out;
    for (const auto& item : items->as_array()) {
      const auto* o = item.if_object();
      const auto* id = o != nullptr ? o->if_contains("id") : nullptr;
      if (id == nullptr || !id->is_string() || id->as_string() != options.product_id) continue;
      if (const auto* f = o->if_contains("flags"); f != nullptr && f->is_object()) {
        for (const auto& [k, x] : f->as_object()) {
          if (x.is_string()) out.emplace(std::string(k), std::string(x.as_string()));
        }
      }
    }
    return out;
  }

  std::optional<std::string> ManifestFlag(std::string_view flag) {
    std::unique_lock lock(flags_mu);
    const auto now = std::chrono::steady_clock::now();
    if (now >= flags_next && !flags_fetching) {
      flags_fetching = true;
      lock.unlock();
      auto fetched = FetchFlags();
      lock.lock();
      flags_fetching = false;
      if (fetched) flags = std::move(*fetched);
      flags_next = now + (fetched ? std::chrono::seconds(60) : std::chrono::seconds(10));
    }
    if (auto it = flags.find(flag); it != flags.end()) return it->second;
    return std::nullopt;
  }

  // The platform's flag store, for one tenant: every flag's variant, by OFREP's bulk evaluation
  // (POST /ofrep/v1/evaluate/flags), asked again after options.flag_refresh with the last
  // ETag (304: unchanged). nullopt when the store has no such flag or cannot be reached.
  std::optional<std::string> StoreFlag(const std::string& tenant_id, std::string_view flag) {
    if (options.client_id.empty() || tenant_id.empty()) return std::nullopt;
    std::unique_lock lock(tenant_flags_mu);
    const auto now = std::chrono::steady_clock::now();
    if (tenant_flags.size() > 10'000 && !tenant_flags.contains(tenant_id)) tenant_flags.clear();
    TenantFlags& known = tenant_flags[tenant_id];
    if (now >= known.next && !known.fetching) {
      known.fetching = true;
      const std::string etag = known.etag;
      lock.unlock();
      auto fetched = FetchTenantFlags(tenant_id, etag);
      lock.lock();
      TenantFlags& t = tenant_flags[tenant_id];  // the map may have been cleared meanwhile
      t.fetching = false;
      if (fetched.status == 200 && fetched.variants) {
        t.variants = std::move(*fetched.variants);
        t.etag = std::move(fetched.etag);
      }
      const bool answered = fetched.status == 200 || fetched.status == 304;
      t.next = now + (answered ? options.flag_refresh : std::chrono::seconds(10));
    }
    const TenantFlags& t = tenant_flags[tenant_id];
    if (auto it = t.variants.find(flag); it != t.variants.end()) return it->second;
    return std::nullopt;
  }

  struct Fetched {
    int status = 0;
    std::optional<std::map<std::string, std::string, std::less<>>> variants;
    std::string etag;
  };
  Fetched FetchTenantFlags(const std::string& tenant_id, const std::string& etag) {
    auto token = service.Get();
    if (!token) return {};
    std::vector<std::string> headers = {"Content-Type: application/json",
                                        "Authorization: Bearer " + *token};
    if (!etag.empty()) headers.push_back("If-None-Match: " + etag);
    const internal::HttpResult r =
        internal::Send({.method = "POST",
                        .url = options.platform_url + "/ofrep/v1/evaluate/flags",
                        .headers = std::move(headers),
                        .body = boost::json::serialize(boost::json::object{
                            {"context", boost::json::object{{"targetingKey", tenant_id}}}}),
                        .timeout = std::chrono::seconds(2),
                        .max_body = std::size_t{4} << 20});
    if (r.status == 401) service.Invalidate();
    Fetched out{.status = r.status, .etag = r.etag};
    if (r.status != 200) return out;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(r.body, ec);
    const auto* list = !ec && v.is_object() ? v.as_object().if_contains("flags") : nullptr;
    if (list == nullptr || !list->is_array()) return {.status = 0};
    out.variants.emplace();
    for (const auto& item : list->as_array()) {
      const auto* o = item.if_object();
      const auto* key = o != nullptr ? o->if_contains("key") : nullptr;
      const auto* variant = o != nullptr ? o->if_contains("variant") : nullptr;
      if (key == nullptr || variant == nullptr || !key->is_string() || !variant->is_string()) {
        continue;  // an evaluation that failed (errorCode): the manifest's default stands
      }
      out.variants->emplace(std::string(key->as_string()), std::string(variant->as_string()));
    }
    return out;
  }

  struct TenantFlags {
    std::map<std::string, std::string, std::less<>> variants;
    std::string etag;
    std::chrono::steady_clock::time_point next{};
    bool fetching = false;
  };
  std::mutex tenant_flags_mu;
  std::map<std::string, TenantFlags> tenant_flags;

  // The manifest's flag defaults as the platform's GET /catalog gives them: fetched on first
  // use, again after a minute (after a failure: 10 s); one caller fetches, the others read
  // what is there.
  std::mutex flags_mu;
  std::map<std::string, std::string, std::less<>> flags;
  std::chrono::steady_clock::time_point flags_next{};
  bool flags_fetching = false;

  struct CachedKey {
    Principal who;
    bool valid = false;
    std::string reason;
    std::int64_t until = 0;
  };
  std::mutex keys_mu;
  std::unordered_map<std::string, CachedKey> keys;  // by the key's SHA-256

  mutable std::mutex calls_mu;
  std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> calls;  // day, count

  std::atomic<std::int64_t> clock_offset{0};  // seconds, moved by the test clock only

  Impl(ProductOptions o, TenantData& d)
      : options(std::move(o)),
        data(d),
        tokens(TokenVerifierOptions{.issuer = options.platform_url,
                                    .audience = options.product_id,
                                    .roles = options.roles,
                                    .now = [this] { return Now(); }}),
        service(options.platform_url + "/oauth/token", options.client_id, options.client_secret) {}

  std::int64_t Now() const {
    return (options.now ? options.now() : internal::UnixNow()) +
           clock_offset.load(std::memory_order_relaxed);
  }

  Response AdvanceClock(const Request& request) {
    const std::string_view from = request.remote_address;
    if (from != "127.0.0.1" && from != "::1" && from != "::ffff:127.0.0.1") {
      return Problem(403, "loopback-only", "Loopback only", "the test clock answers loopback only");
    }
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(request.body, ec);
    const auto* seconds =
        !ec && v.is_object() ? v.as_object().if_contains("advance_seconds") : nullptr;
    if (seconds == nullptr || !seconds->is_int64() || seconds->as_int64() < 1 ||
        seconds->as_int64() > 34'560'000) {
      return Problem(422, "validation-failed", "Validation failed",
                     "advance_seconds is a whole number from 1 to 34560000");
    }
    const std::int64_t offset = clock_offset.fetch_add(seconds->as_int64()) + seconds->as_int64();
    return Json(200, boost::json::serialize(boost::json::object{{"offset_seconds", offset}}));
  }

  Outcome<Principal> VerifyKey(const std::string& key) {
    const std::string digest = internal::Sha256(key);
    const std::int64_t now = Now();
    {
      std::lock_guard lock(keys_mu);
      if (auto it = keys.find(digest); it != keys.end() && it->second.until > now) {
        if (it->second.valid) return it->second.who;
        return Unauthenticated("the API key is " + it->second.reason);
      }
    }
    auto token = service.Get();
    if (!token) return token.failure();
    internal::HttpResult r = internal::Send(
        {.method = "POST",
         .url = options.platform_url + "/internal/api-keys/verify",
         .headers = {"Content-Type: application/json", "Authorization: Bearer " + *token},
         .body = boost::json::serialize(boost::json::object{{"key", key}})});
    if (r.status == 401) service.Invalidate();
    if (r.status != 200) {
      return Failure{503, "platform-unavailable", "Platform unavailable",
                     "the platform could not verify the API key (" +
                         (r.status == 0 ? r.error : "HTTP " + std::to_string(r.status)) + ")"};
    }
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object()) {
      return Failure{503, "platform-unavailable", "Platform unavailable",
                     "the platform's verification was not JSON"};
    }
    const auto& o = v.as_object();
    auto str = [&](std::string_view k) {
      const auto* x = o.if_contains(k);
      return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    CachedKey entry;
    const auto* valid = o.if_contains("valid");
    entry.valid = valid != nullptr && valid->is_bool() && valid->as_bool();
    entry.reason = str("reason");
    entry.until = now + (entry.valid ? options.api_key_cache.count()
                                     : std::min<std::int64_t>(5, options.api_key_cache.count()));
    if (entry.valid) {
      entry.who.subject = "api-key:" + str("key_id");
      entry.who.tenant_id = str("tenant_id");
      entry.who.tenant_status = str("tenant_status");
      entry.who.via = "api_key";
      if (const auto* s = o.if_contains("scopes"); s != nullptr && s->is_array()) {
        for (const auto& e : s->as_array()) {
          if (e.is_string()) entry.who.scopes.emplace_back(e.as_string());
        }
      }
    }
    std::lock_guard lock(keys_mu);
    if (keys.size() >= kMaxCachedKeys) keys.clear();
    keys[digest] = entry;
    if (!entry.valid) return Unauthenticated("the API key is " + entry.reason);
    return entry.who;
  }

  // Counts one call; false when the trial's (or the plan's) daily calls are spent.
  bool Count(const Principal& who) {
    const std::int64_t limit = who.trial_quota ? who.trial_quota->api_calls_per_day
                                               : who.plan_api_calls_per_day.value_or(0);
    if (limit <= 0) return true;
    const std::int64_t day = Now() / 86'400;
    std::lock_guard lock(calls_mu);
    auto& [d, n] = calls[who.tenant_id];
    if (d != day) {
      d = day;
      n = 0;
    }
    if (n >= limit) return false;
    ++n;
    return true;
  }

  std::int64_t CallsToday(const std::string& tenant_id) const {
    std::lock_guard lock(calls_mu);
    auto it = calls.find(tenant_id);
    return it != calls.end() && it->second.first == Now() / 86'400 ? it->second.second : 0;
  }
};

Product::Product(ProductOptions options, TenantData& data)
    : impl_(std::make_unique<Impl>(std::move(options), data)) {
  if (impl_->options.audit) {
    impl_->audit = std::make_unique<AuditEmitter>(
        AuditOptions{.platform_url = impl_->options.platform_url,
                     .product_id = impl_->options.product_id,
                     .token = [this] { return impl_->service.Get(); }});
    impl_->usage = std::make_unique<UsageBatcher>(impl_->options.platform_url + "/usage",
                                                  impl_->options.product_id,
                                                  [this] { return impl_->service.Get(); });
  }
}

Product::~Product() = default;

TokenVerifier& Product::tokens() {
  return impl_->tokens;
}
AuditEmitter* Product::audit_emitter() {
  return impl_->audit.get();
}
const ProductOptions& Product::options() const {
  return impl_->options;
}

Outcome<Principal> Product::Authenticate(const Request& request) {
  std::string_view credential = request.Header("x-api-key");
  bool api_key = !credential.empty();
  if (!api_key) {
    std::string_view auth = request.Header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), auth.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return Unauthenticated("send a bearer token or an API key");
    }
    credential = auth.substr(kBearer.size());
    api_key = credential.rfind(kApiKeyPrefix, 0) == 0;
  }
  if (api_key) {
    if (credential.size() > 256) return Unauthenticated("the API key is malformed");
    return impl_->VerifyKey(std::string(credential));
  }
  return impl_->tokens.Verify(credential);
}

std::optional<Failure> Product::Gate(const Principal& who, const Request& request,
                                     const AdmitRules& rules) {
  if (who.tenant_id.empty()) {
    return Failure{403, "no-tenant", "No tenant", "the credential names no tenant"};
  }
  if (!who.products.empty() && std::find(who.products.begin(), who.products.end(),
                                         impl_->options.product_id) == who.products.end()) {
    return Failure{403, "not-subscribed", "Not subscribed",
                   "the tenant has not booked " + impl_->options.product_id};
  }
  if (!rules.scope.empty() && who.via == "api_key" &&
      std::find(who.scopes.begin(), who.scopes.end(), rules.scope) == who.scopes.end()) {
    return Failure{403, "insufficient-scope", "Insufficient scope",
                   "the API key lacks the scope " + rules.scope};
  }
  if (who.tenant_status == "archived") {
    return Failure{410, "tenant-archived", "Tenant archived",
                   "the tenant has been offboarded; its data is gone"};
  }
  if (who.tenant_status == "frozen" && request.IsWrite()) {
    return Failure{402, "tenant-frozen", "Tenant frozen",
                   "the tenant is frozen: reads only until its subscription is active again"};
  }
  if (who.tenant_status != "demo" && rules.metered) {
    if (!impl_->Count(who)) {
      return Failure{429, "quota-exceeded", "Quota exceeded",
                     who.trial_quota
                         ? "the trial's " + std::to_string(who.trial_quota->api_calls_per_day) +
                               " API calls for today are spent; upgrade to continue"
                         : "the plan's " + std::to_string(*who.plan_api_calls_per_day) +
                               " API calls for today are spent"};
    }
    Usage(who, "api_calls", 1);
  }
  return std::nullopt;
}

Outcome<Principal> Product::Admit(const Request& request, const AdmitRules& rules) {
  auto who = Authenticate(request);
  if (!who) return who;
  if (auto refused = Gate(*who, request, rules)) return *refused;
  return who;
}

Outcome<IsolationStatus> TenantData::Isolate(const std::string& /*tenant_id*/,
                                             const std::string& /*isolation*/) {
  return Failure{422, "isolation-unsupported", "Isolation not supported",
                 "this product keeps no tenant's data apart from the others'"};
}

Outcome<IsolationStatus> TenantData::Isolation(const std::string& tenant_id) {
  return IsolationStatus{.tenant_id = tenant_id};
}

std::optional<Response> Product::HandleContract(const Request& request) {
  const std::string_view path = request.Path();
  const auto& o = impl_->options;
  if (o.test_clock && path == "/internal/clock" && request.method == "POST") {
    return impl_->AdvanceClock(request);
  }
  if (path.rfind("/v1/", 0) != 0) return std::nullopt;
  if (path == "/v1/health" && request.method == "GET") {
    return Json(200, boost::json::serialize(boost::json::object{
                         {"status", "ok"}, {"product", o.product_id}, {"version", o.version}}));
  }
  auto export_id = request.method == "GET" ? TenantInPath(path, "export") : std::nullopt;
  auto delete_id = request.method == "DELETE" ? TenantInPath(path, "data") : std::nullopt;
  auto isolation_id = request.method == "GET" || request.method == "PUT"
                          ? TenantInPath(path, "isolation")
                          : std::nullopt;
  const bool usage = path == "/v1/usage" && request.method == "GET";
  const bool reset = path == "/v1/tenants/demo/reset" && request.method == "POST";
  if (!export_id && !delete_id && !isolation_id && !usage && !reset) return std::nullopt;

  auto who = Authenticate(request);
  if (!who) return who.failure().ToResponse();
  if (!who->IsPlatform()) {
    return Problem(403, "platform-only", "Platform only",
                   "only the platform calls the contract endpoints");
  }
  const std::string tenant = export_id      ? *export_id
                             : delete_id    ? *delete_id
                             : isolation_id ? *isolation_id
                             : usage        ? request.QueryParam("tenant_id")
                                            : std::string("demo");
  if (!IsTenantId(tenant)) {
    return Problem(400, "invalid-tenant-id", "Invalid tenant id",
                   "a tenant id is lowercase letters, digits and '-'");
  }
  if (usage) {
    return Json(200, boost::json::serialize(boost::json::object{
                         {"tenant_id", tenant},
                         {"product", o.product_id},
                         {"metrics", {{"api_calls_today", impl_->CallsToday(tenant)}}}}));
  }
  if (export_id) {
    auto body = impl_->data.Export(tenant);
    if (!body) return body.failure().ToResponse();
    return Json(200, std::move(*body));
  }
  if (isolation_id) return IsolationContract(impl_->data, request, tenant);
  if (delete_id) {
    auto done = impl_->data.DeleteTenant(tenant);
    if (!done) return done.failure().ToResponse();
    return Response{.status = 204, .content_type = "", .body = ""};
  }
  auto done = impl_->data.ResetDemo(request.body.empty() ? "{}" : request.body);
  if (!done) return done.failure().ToResponse();
  return Json(200, R"({"reset":true})");
}

void Product::Audit(const Principal& who, AuditEvent event) {
  if (!impl_->audit) return;
  if (event.tenant_id.empty()) event.tenant_id = who.tenant_id;
  if (event.actor_id.empty()) event.actor_id = who.subject;
  impl_->audit->Emit(event);
}

void Product::Usage(const Principal& who, const std::string& metric, std::int64_t quantity) {
  if (!impl_->usage || who.tenant_id.empty() || who.tenant_status == "demo" || quantity <= 0) {
    return;
  }
  impl_->usage->Add(who.tenant_id, metric, quantity);
}

bool Product::FlushUsage() {
  return !impl_->usage || impl_->usage->Flush();
}

std::int64_t Product::CallsToday(const std::string& tenant_id) const {
  return impl_->CallsToday(tenant_id);
}

std::string Product::Evaluate(const std::string& tenant_id, std::string_view flag) const {
  if (auto v = impl_->StoreFlag(tenant_id, flag)) return *v;
  if (auto v = impl_->ManifestFlag(flag)) return *v;
  const auto it = impl_->options.flag_defaults.find(flag);
  return it == impl_->options.flag_defaults.end() ? std::string() : it->second;
}

}  // namespace breakpilot::sdk
