// libFuzzer: the untrusted text of OAuth token requests and the portal: form bodies, HTTP Basic
// credentials and Cookie headers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot;  // NOLINT(google-build-using-namespace): fuzz entry point only
  const std::string text(reinterpret_cast<const char*>(data), size);
  http::Request req;
  req.method = "POST";
  req.body = text;
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  req.headers.Set("Authorization", "Basic " + text);
  req.headers.Set("Cookie", text);
  if (auto form = api::ParseForm(req)) {
    for (const char* name : {"grant_type", "username", "password", "csrf"}) {
      (void)api::FormValue(*form, name);
    }
  }
  if (auto basic = api::ParseBasicAuth(req); basic && *basic && (*basic)->user.size() > size) {
    std::abort();  // decoding never grows the input
  }
  if (api::CookieValue(req, "bp_session").size() > size) std::abort();
  return 0;
}
