// libFuzzer: request bodies through the strict JSON reader and the field reader.
// Properties: never crashes; either an Error or an object whose members read without throwing;
// and a body parsed into a small stack arena (as the verify route does) reads exactly as one
// parsed on the heap.
#include <boost/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "api/json_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace breakpilot;  // NOLINT(google-build-using-namespace): fuzz entry point only
  http::Request req;
  req.method = "POST";
  req.body.assign(reinterpret_cast<const char*>(data), size);
  req.headers.Add("Content-Type", size % 2 ? "application/json" : "application/merge-patch+json");
  const bool empty_ok = size % 3 == 0;
  const bool merge_patch = size % 2 == 0;
  auto body = api::ParseJsonObject(req, empty_ok, merge_patch);
  std::array<unsigned char, 256> scratch;
  boost::json::monotonic_resource arena(scratch.data(), scratch.size());
  auto in_arena = api::ParseJsonObject(req, empty_ok, merge_patch, &arena);
  if (body.ok() != in_arena.ok()) std::abort();
  if (!body.ok()) return 0;
  if (*body != *in_arena) std::abort();
  api::BodyReader r(*body);
  (void)r.String("slug", api::Required::kYes);
  (void)r.String("name", api::Required::kNo);
  (void)r.Integer("limit", api::Required::kNo);
  (void)r.Finish({"slug", "name", "limit"});
  return 0;
}
