// libFuzzer: request bodies through the strict JSON reader and the field reader.
// Property: never crashes; either an Error or an object whose members read without throwing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/json_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot;  // NOLINT(google-build-using-namespace): fuzz entry point only
  http::Request req;
  req.method = "POST";
  req.body.assign(reinterpret_cast<const char*>(data), size);
  req.headers.Add("Content-Type", size % 2 ? "application/json" : "application/merge-patch+json");
  auto body = api::ParseJsonObject(req, size % 3 == 0, size % 2 == 0);
  if (!body.ok()) return 0;
  api::BodyReader r(*body);
  (void)r.String("slug", api::Required::kYes);
  (void)r.String("name", api::Required::kNo);
  (void)r.Integer("limit", api::Required::kNo);
  (void)r.Finish({"slug", "name", "limit"});
  return 0;
}
