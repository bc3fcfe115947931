// The product catalog: every `*/product.manifest.yaml` under a directory, validated at start-up
// and mirrored into the `products` table (which subscriptions reference).
//
//   auto cat = catalog::LoadCatalog("data/catalog");      // Result<Catalog>
//   catalog::SyncProducts(db, clock, *cat);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/manifest.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::catalog {

class Catalog {
 public:
  Catalog() = default;
  explicit Catalog(std::vector<Manifest> products);
  const std::vector<Manifest>& products() const { return products_; }
  const Manifest* Find(std::string_view id) const;

 private:
  std::vector<Manifest> products_;  // ordered by id
};

Result<Catalog> LoadCatalog(const std::string& directory);
void SyncProducts(storage::Database& db, const Clock& clock, const Catalog& catalog);

}  // namespace breakpilot::catalog
