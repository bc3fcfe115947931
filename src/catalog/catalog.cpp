#include "catalog/catalog.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace breakpilot::catalog {
namespace {

constexpr storage::Query kUpsertProduct{
    "product_upsert",
    "INSERT INTO products (id, name, version, manifest, updated_at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version,"
    " manifest = excluded.manifest, updated_at = excluded.updated_at"};

std::string ToJson(const Manifest& m) {
  boost::json::object o;
  o["id"] = m.id;
  o["name"] = m.name;
  o["version"] = m.version;
  o["plans"] = boost::json::value_from(m.plans);
  o["scopes"] = boost::json::value_from(m.scopes);
  o["base_url"] = m.base_url;
  return boost::json::serialize(o);
}

}  // namespace

Catalog::Catalog(std::vector<Manifest> products) : products_(std::move(products)) {
  std::sort(products_.begin(), products_.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
}

const Manifest* Catalog::Find(std::string_view id) const {
  for (const auto& m : products_) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

Result<Catalog> LoadCatalog(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return InvalidInput("invalid-catalog", "Invalid catalog",
                        "catalog directory " + directory + " does not exist");
  }
  std::vector<fs::path> files;
  // Product directories may be symbolic links (a deployment links each product's own
  // directory in); a link loop ends at the depth limit.
  for (auto it = fs::recursive_directory_iterator(
           directory, fs::directory_options::follow_directory_symlink, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it.depth() >= 3) it.disable_recursion_pending();
    if (it->is_regular_file() && it->path().filename() == "product.manifest.yaml") {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Manifest> products;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    auto m = ParseManifest(text.str(), f.string());
    if (!m) return std::move(m).error();
    for (const auto& other : products) {
      if (other.id == m->id) {
        return InvalidInput("invalid-catalog", "Invalid catalog",
                            f.string() + ": product id '" + m->id + "' appears twice");
      }
    }
    products.push_back(std::move(m).value());
  }
  return Catalog(std::move(products));
}

void SyncProducts(storage::Database& db, const Clock& clock, const Catalog& catalog) {
  db.Write([&](storage::Session& s) {
    const std::string now = FormatStorage(clock.Now());
    for (const auto& m : catalog.products()) {
      s.Execute(kUpsertProduct, {m.id, m.name, m.version, ToJson(m), now});
    }
  });
}

}  // namespace breakpilot::catalog
