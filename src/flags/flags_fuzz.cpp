// libFuzzer: the untrusted text the flags read: a flag's definition (the API's body, a form's
// rules), and Unleash's features document; each parsed one is evaluated for a tenant.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "flags/flag.hpp"
#include "flags/unleash.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot;  // NOLINT(google-build-using-namespace): fuzz entry point only
  const std::string text(reinterpret_cast<const char*>(data), size);
  const flags::TenantFacts tenant{.id = "0192f000-0000-7000-8000-00000000000a",
                                  .plan = "starter",
                                  .status = "trial",
                                  .kind = "customer"};
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 32;
  const auto json = boost::json::parse(text, ec, {}, options);
  if (!ec) {
    if (auto f = flags::ParseFlag(json)) (void)flags::Evaluate(*f, tenant);
  }
  if (auto s = flags::ParseUnleashFeatures(text)) {
    for (const auto& f : s->features) (void)flags::EvaluateUnleash(f, *s, tenant);
  }
  return 0;
}
