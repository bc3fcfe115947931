// JSON shapes of the API's resources, as the OpenAPI document (api/openapi.yaml) defines them.
#pragma once

#include <boost/json/object.hpp>

#include "audit/entry.hpp"
#include "catalog/manifest.hpp"
#include "tenants/tenant.hpp"

namespace breakpilot::api {

boost::json::object ToJson(const tenants::Tenant& t);
boost::json::object ToJson(const tenants::Project& p);
boost::json::object ToJson(const tenants::Subscription& s);
boost::json::object ToJson(const catalog::Manifest& m);
// An audit event in Retraced's shape, with our product, received time, demo tag and chain place.
boost::json::object ToJson(const audit::Entry& e);
std::string ETagFor(std::int64_t version);

template <class T>
boost::json::object PageToJson(const tenants::Page<T>& page) {
  boost::json::array items;
  items.reserve(page.items.size());
  for (const auto& it : page.items) items.push_back(ToJson(it));
  boost::json::object o;
  o["items"] = std::move(items);
  if (page.next_cursor) {
    o["next_cursor"] = *page.next_cursor;
  } else {
    o["next_cursor"] = nullptr;
  }
  return o;
}

}  // namespace breakpilot::api
