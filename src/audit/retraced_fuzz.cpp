// libFuzzer: a product's audit event, as the ingest endpoints read it. Any JSON object goes
// through validation and Retraced's hash; an event that passes must name an action, a crud
// letter and bounded fields, or the validation let something through: abort.
#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "audit/retraced.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot;  // NOLINT(google-build-using-namespace): fuzz entry point only
  boost::system::error_code ec;
  auto v = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !v.is_object()) return 0;
  const auto& event = v.as_object();
  std::vector<FieldError> errors;
  const Timestamp now{1'800'000'000LL * kMicrosPerSecond};
  for (const char* tenant : {"", "0195a000-0000-7000-8000-000000000001"}) {
    audit::Publisher who{.product = "certifai"};
    if (*tenant != '\0') who.only_tenant = tenant;
    auto parsed = audit::ParseEvents(who, {&event}, "/events", now, errors);
    for (const auto& p : parsed) {
      const auto& e = p.entry;
      if (e.action.empty() || std::string_view("crud").find(e.crud) == std::string_view::npos ||
          e.fields.size() > audit::kMaxFieldsBytes || e.created.micros < 0) {
        std::abort();
      }
      if (who.only_tenant && p.group_id != *who.only_tenant) std::abort();
    }
  }
  (void)audit::RetracedHash(event, "0195a000-0000-7000-8000-000000000002");
  return 0;
}
