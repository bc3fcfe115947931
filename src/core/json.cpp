#include "core/json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value_stack.hpp>

#include <cmath>

namespace breakpilot {
namespace {

namespace json = boost::json;
using json::string_view;

// Boost.JSON's own value builder, plus a count of the members the text holds. An object keeps
// only the last of duplicate names, so the built tree holds fewer members than the text exactly
// when a name was repeated; a walk over the tree afterwards compares the two counts.
struct CountingHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::size_t members = 0;
  bool out_of_range = false;

  explicit CountingHandler(json::storage_ptr sp, unsigned char* buf, std::size_t size)
      : st(std::move(sp), buf, size) {}

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    members += n;
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view, json::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, json::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, string_view, json::error_code& ec) {
    if (!std::isfinite(d)) {  // 1e999 reads as Infinity, 0e400 as NaN: no JSON spelling
      out_of_range = true;
      ec = json::error::exception;  // any error ends the parse; out_of_range says which
      return false;
    }
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(string_view, json::error_code&) { return true; }
  bool on_comment(string_view, json::error_code&) { return true; }
};

std::size_t MembersIn(const json::value& v) {
  std::size_t n = 0;
  if (const auto* a = v.if_array()) {
    for (const auto& e : *a) n += MembersIn(e);
  } else if (const auto* o = v.if_object()) {
    n += o->size();
    for (const auto& kv : *o) n += MembersIn(kv.value());
  }
  return n;
}

}  // namespace

std::optional<json::value> ParseStrictJson(std::string_view text, const StrictJsonOptions& options,
                                           std::string& problem, json::storage_ptr storage) {
  json::parse_options opts;
  opts.max_depth = options.max_depth;
  opts.allow_comments = false;
  opts.allow_trailing_commas = false;
  opts.allow_invalid_utf8 = false;
  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  json::basic_parser<CountingHandler> p(opts, json::storage_ptr(), temp, sizeof(temp));
  p.handler().st.reset(std::move(storage));
  json::error_code ec;
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = json::error::extra_data;
  if (ec) {
    if (p.handler().out_of_range) {
      problem = "a number is too large for a 64-bit float (such as 1e999)";
    } else if (ec == json::error::too_deep) {
      problem = "nesting deeper than " + std::to_string(options.max_depth) + " levels";
    } else {
      // Boost.JSON's messages are plain words ("syntax error", "expected comma", "illegal
      // control character"), never type names or paths.
      problem = ec.message();
    }
    return std::nullopt;
  }
  json::value v = p.handler().st.release();
  if (MembersIn(v) != p.handler().members) {
    problem = "a member name appears twice in one object";
    return std::nullopt;
  }
  return v;
}

std::string StringMember(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace breakpilot
