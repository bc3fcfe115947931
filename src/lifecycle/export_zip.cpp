#include "lifecycle/export_zip.hpp"

#include <zip.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace breakpilot::lifecycle {
namespace {

[[noreturn]] void Fail(const std::string& what, zip_error_t* err) {
  std::string msg = what + ": " + zip_error_strerror(err);
  zip_error_fini(err);
  throw std::runtime_error(msg);
}

}  // namespace

std::string BuildZip(const std::vector<std::pair<std::string, std::string>>& files) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (buffer == nullptr) Fail("zip buffer", &err);
  zip_source_keep(buffer);  // the archive releases its reference on close; we read it after
  std::unique_ptr<zip_source_t, decltype(&zip_source_free)> keep(buffer, zip_source_free);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &err);
  if (archive == nullptr) Fail("zip open", &err);
  for (const auto& [name, content] : files) {
    zip_source_t* src = zip_source_buffer(archive, content.data(), content.size(), 0);
    if (src == nullptr || zip_file_add(archive, name.c_str(), src, ZIP_FL_ENC_UTF_8) < 0) {
      if (src != nullptr) zip_source_free(src);
      std::string msg = "zip add " + name + ": " + zip_strerror(archive);
      zip_discard(archive);
      throw std::runtime_error(msg);
    }
  }
  if (zip_close(archive) < 0) {
    std::string msg = std::string("zip close: ") + zip_strerror(archive);
    zip_discard(archive);
    throw std::runtime_error(msg);
  }
  if (zip_source_open(buffer) < 0) throw std::runtime_error("zip reopen failed");
  std::string out;
  char chunk[1 << 16];
  zip_int64_t n = 0;
  while ((n = zip_source_read(buffer, chunk, sizeof chunk)) > 0) {
    out.append(chunk, static_cast<std::size_t>(n));
  }
  zip_source_close(buffer);
  if (n < 0) throw std::runtime_error("zip read failed");
  return out;
}

}  // namespace breakpilot::lifecycle
