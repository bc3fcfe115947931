// A YAML document checked against a JSON Schema (the product manifest's,
// api/product-manifest.schema.json), each problem with the line it is on.
//
//   auto schema = YamlSchema::Parse(json_text);          // the schema document
//   for (const auto& e : schema->Validate(YAML::Load(text))) ...   // e.field, e.message, e.line
//
// The keywords a manifest schema needs, from JSON Schema 2020-12: type, properties, required,
// additionalProperties (false or a schema), items, enum, const, pattern (ECMAScript), minLength,
// maxLength, minItems, maxItems, uniqueItems and local $ref ("#/$defs/..."); annotations are
// ignored, and `x-message` replaces a failed pattern's message. Unsupported keywords are
// refused when the schema is parsed, never silently skipped. YAML scalars take YAML 1.2's core
// types: plain `true`, `12`, `1.5`, `null` are a boolean, integer, number and null, quoted ones
// strings, as JavaScript's YAML parsers read them (the conformance test checks with Ajv).
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace breakpilot::catalog {

struct SchemaError {
  std::string field;  // "plans[1]", "catalog.demo.seed_data_url"; "" for the document
  std::string message;
  int line = 0;  // 1-based
};

class YamlSchema {
 public:
  static Result<YamlSchema> Parse(std::string_view json);
  // Every problem, in the order of the document's lines.
  std::vector<SchemaError> Validate(const YAML::Node& document) const;

 private:
  boost::json::object root_;
};

}  // namespace breakpilot::catalog
