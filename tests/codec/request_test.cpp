// RequestParser: id forms and their exact text, method and params accessors with typed
// missing / wrong-type results, structural errors, malformed JSON (every truncation of a valid
// request), depth and size limits, and ownership of the parsed views.
#include "codec/request.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace {

using gw::codec::IdKind;
using gw::codec::Params;
using gw::codec::ParamStatus;
using gw::codec::ParseError;
using gw::codec::ParserLimits;
using gw::codec::Request;
using gw::codec::RequestParser;

constexpr std::string_view kBuy =
    R"({"jsonrpc":"2.0","id":5275,"method":"private/buy","params":{"instrument_name":)"
    R"("ETH-PERPETUAL","amount":40,"type":"market","label":"market0000234"}})";

TEST(Request, DeribitBuyExample) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(kBuy, r), ParseError::none);
  EXPECT_EQ(r.id.kind, IdKind::int64);
  EXPECT_EQ(r.id.int64, 5275);
  EXPECT_EQ(r.id.json, "5275");
  EXPECT_EQ(r.method, "private/buy");
  EXPECT_TRUE(r.has_params);
  EXPECT_EQ(r.params.size(), 4u);
  EXPECT_EQ(r.params.get_string("instrument_name").value, "ETH-PERPETUAL");
  EXPECT_EQ(r.params.get_double("amount").value, 40.0);
  EXPECT_EQ(r.params.get_string("type").value, "market");
  EXPECT_EQ(r.params.get_string("label").value, "market0000234");
  EXPECT_EQ(r.params.get_double("price").status, ParamStatus::missing);
}

struct IdCase {
  std::string_view json;
  IdKind kind;
};

TEST(Request, IdFormsKeepTheirExactText) {
  const IdCase cases[] = {
      {R"(42)", IdKind::int64},
      {R"(-7)", IdKind::int64},
      {R"(0)", IdKind::int64},
      {R"(9223372036854775807)", IdKind::int64},
      {R"(-9223372036854775808)", IdKind::int64},
      {R"(18446744073709551615)", IdKind::uint64},
      {R"("101")", IdKind::string},
      {R"("auth_6a0b3c1e-9d4f-4c55-8a3e-2f1b0c9d8e7f")", IdKind::string},
      {R"("")", IdKind::string},
      {R"("a\/b\u00e9\"")", IdKind::string},
      {R"(null)", IdKind::null},
  };
  RequestParser parser;
  for (const IdCase& c : cases) {
    const std::string text =
        R"({ "method" : "public/test" , "id" :  )" + std::string(c.json) + " \n}";
    Request r;
    ASSERT_EQ(parser.parse(text, r), ParseError::none) << text;
    EXPECT_EQ(r.id.kind, c.kind) << text;
    EXPECT_EQ(r.id.json, c.json) << text;  // byte for byte, whitespace around it excluded
  }
}

TEST(Request, IdValues) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(R"({"id":"a\/b\u00e9","method":"m"})", r), ParseError::none);
  EXPECT_EQ(r.id.string, "a/bé");
  ASSERT_EQ(parser.parse(R"({"id":18446744073709551615,"method":"m"})", r), ParseError::none);
  EXPECT_EQ(r.id.uint64, 18446744073709551615u);
  ASSERT_EQ(parser.parse(R"({"id":-9223372036854775808,"method":"m"})", r), ParseError::none);
  EXPECT_EQ(r.id.int64, INT64_MIN);
}

TEST(Request, AbsentId) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(R"({"jsonrpc":"2.0","method":"public/test"})", r), ParseError::none);
  EXPECT_FALSE(r.id.present());
  EXPECT_TRUE(r.id.json.empty());
  EXPECT_FALSE(r.has_params);
  EXPECT_EQ(r.params.size(), 0u);
  EXPECT_EQ(r.params.get_string("anything").status, ParamStatus::missing);
}

TEST(Request, IdFoundWhenNestedKeysAreAlsoCalledId) {
  RequestParser parser;
  Request r;
  const std::string text =
      R"({"params":{"id":"inner","x":[{"id":1}],"s":"\"id\":9"},"method":"m","id":"outer"})";
  ASSERT_EQ(parser.parse(text, r), ParseError::none);
  EXPECT_EQ(r.id.json, R"("outer")");
}

TEST(Request, EscapedIdKeyIsStillTheId) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(R"({"\u0069d":77,"method":"m"})", r), ParseError::none);
  EXPECT_EQ(r.id.int64, 77);
  EXPECT_EQ(r.id.json, "77");
}

TEST(Request, FirstDuplicateWins) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(R"({"id":1,"id":2,"method":"a","method":"b"})", r), ParseError::none);
  EXPECT_EQ(r.id.int64, 1);
  EXPECT_EQ(r.id.json, "1");
  EXPECT_EQ(r.method, "a");
}

TEST(Request, BadIdTypes) {
  RequestParser parser;
  for (std::string_view id : {"1.5", "1e3", "true", "[1]", "{}", "-0.0"}) {
    Request r;
    const std::string text = R"({"method":"m","id":)" + std::string(id) + "}";
    EXPECT_EQ(parser.parse(text, r), ParseError::bad_id) << text;
    EXPECT_FALSE(r.id.present());
  }
}

TEST(Request, UnicodeEscapesInStrings) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(
      parser.parse(
          R"({"id":1,"method":"public\/t\u0065st","params":{"label":"\u0394 \ud83d\udcc8 \n\t"}})",
          r),
      ParseError::none);
  EXPECT_EQ(r.method, "public/test");
  EXPECT_EQ(r.params.get_string("label").value, "Δ 📈 \n\t");
  // A lone surrogate is not a string.
  EXPECT_EQ(parser.parse(R"({"id":1,"method":"\ud800"})", r), ParseError::invalid_json);
}

TEST(Request, ParamAccessorsReportMissingAndWrongType) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(R"({"id":1,"method":"m","params":{"s":"x","i":30,"d":0.5,"b":true,)"
                         R"("n":null,"o":{"k":"v","deep":{"z":-1}},"a":["x","y"],"mixed":["x",1],)"
                         R"("f":30.0,"frac":30.5,"big":18446744073709551615,"huge":1e300}})",
                         r),
            ParseError::none);
  const Params& p = r.params;
  EXPECT_EQ(p.get_string("s").value, "x");
  EXPECT_EQ(p.get_string("i").status, ParamStatus::wrong_type);
  EXPECT_EQ(p.get_string("nope").status, ParamStatus::missing);
  EXPECT_EQ(p.get_string("n").status, ParamStatus::missing);  // null means not given
  EXPECT_FALSE(p.has("n"));
  EXPECT_TRUE(p.has("s"));

  EXPECT_EQ(p.get_int64("i").value, 30);
  EXPECT_EQ(p.get_int64("f").value, 30);  // an integral double is accepted
  EXPECT_EQ(p.get_int64("frac").status, ParamStatus::wrong_type);
  EXPECT_EQ(p.get_int64("big").status, ParamStatus::out_of_range);
  EXPECT_EQ(p.get_int64("huge").status, ParamStatus::out_of_range);
  EXPECT_EQ(p.get_int64("s").status, ParamStatus::wrong_type);

  EXPECT_EQ(p.get_double("d").value, 0.5);
  EXPECT_EQ(p.get_double("i").value, 30.0);
  EXPECT_EQ(p.get_double("big").value, 18446744073709551615.0);
  EXPECT_EQ(p.get_double("b").status, ParamStatus::wrong_type);

  EXPECT_TRUE(p.get_bool("b").value);
  EXPECT_EQ(p.get_bool("i").status, ParamStatus::wrong_type);

  const auto o = p.get_object("o");
  ASSERT_TRUE(o);
  EXPECT_EQ(o.value.get_string("k").value, "v");
  EXPECT_EQ(o.value.get_object("deep").value.get_int64("z").value, -1);
  EXPECT_EQ(p.get_object("a").status, ParamStatus::wrong_type);

  std::vector<std::string_view> strings;
  EXPECT_EQ(p.get_string_array("a", strings), ParamStatus::ok);
  EXPECT_EQ(strings, (std::vector<std::string_view>{"x", "y"}));
  EXPECT_EQ(p.get_string_array("mixed", strings), ParamStatus::wrong_type);
  EXPECT_TRUE(strings.empty());
  EXPECT_EQ(p.get_string_array("s", strings), ParamStatus::wrong_type);
  EXPECT_EQ(p.get_string_array("nope", strings), ParamStatus::missing);

  std::vector<std::string_view> keys;
  p.keys(keys);
  EXPECT_EQ(keys.size(), 12u);
  EXPECT_EQ(keys.front(), "s");
}

TEST(Request, NumberArrays) {
  RequestParser parser;
  Request r;
  ASSERT_EQ(parser.parse(R"({"method":"m","params":{"moves":[-0.2,0,1,1e-3],"empty":[],)"
                         R"("mixed":[1,"x"],"nested":[[1]],"n":null,"x":0.5}})",
                         r),
            ParseError::none);
  const Params& p = r.params;
  std::vector<double> numbers{42};
  EXPECT_EQ(p.get_double_array("moves", numbers), ParamStatus::ok);
  EXPECT_EQ(numbers, (std::vector<double>{-0.2, 0, 1, 0.001}));  // integers converted
  EXPECT_EQ(p.get_double_array("empty", numbers), ParamStatus::ok);
  EXPECT_TRUE(numbers.empty());
  numbers = {42};
  EXPECT_EQ(p.get_double_array("mixed", numbers), ParamStatus::wrong_type);
  EXPECT_TRUE(numbers.empty());
  EXPECT_EQ(p.get_double_array("nested", numbers), ParamStatus::wrong_type);
  EXPECT_EQ(p.get_double_array("x", numbers), ParamStatus::wrong_type);  // not an array
  EXPECT_EQ(p.get_double_array("n", numbers), ParamStatus::missing);     // null: not given
  EXPECT_EQ(p.get_double_array("nope", numbers), ParamStatus::missing);
}

TEST(Request, StructuralErrors) {
  struct Case {
    std::string_view text;
    ParseError error;
  };
  const Case cases[] = {
      {R"([{"id":1,"method":"a"},{"id":2,"method":"b"}])", ParseError::batch},
      {R"([])", ParseError::batch},
      {R"("just a string")", ParseError::not_object},
      {R"(42)", ParseError::not_object},
      {R"(null)", ParseError::not_object},
      {R"({"id":1})", ParseError::missing_method},
      {R"({"id":1,"method":5})", ParseError::bad_method},
      {R"({"id":1,"method":null})", ParseError::bad_method},
      {R"({"id":1,"method":"m","params":[1,2]})", ParseError::bad_params},
      {R"({"id":1,"method":"m","params":"x"})", ParseError::bad_params},
      {R"({"id":1,"method":"m","params":null})", ParseError::bad_params},
      {R"({"jsonrpc":"1.0","id":1,"method":"m"})", ParseError::bad_jsonrpc},
      {R"({"jsonrpc":2.0,"id":1,"method":"m"})", ParseError::bad_jsonrpc},
  };
  RequestParser parser;
  for (const Case& c : cases) {
    Request r;
    EXPECT_EQ(parser.parse(c.text, r), c.error) << c.text;
  }
}

TEST(Request, StructuralErrorsKeepTheId) {
  RequestParser parser;
  Request r;
  EXPECT_EQ(parser.parse(R"({"id":"abc","params":{}})", r), ParseError::missing_method);
  EXPECT_EQ(r.id.json, R"("abc")");
  EXPECT_EQ(parser.parse(R"({"id":9,"method":"m","params":[]})", r), ParseError::bad_params);
  EXPECT_EQ(r.id.int64, 9);
}

TEST(Request, NotJson) {
  RequestParser parser;
  for (std::string_view text :
       {"", "   ", "hello", "{", "}", R"({"id":1,"method":"m")", R"({"id":1,"method":"m"}x)",
        R"({"id":1 "method":"m"})", R"({"id":1,"method":"m",})", R"({'id':1})",
        "{\"id\":1,\"method\":\"a\x01\"}", "{\"id\":1,\"method\":\"\xC3\x28\"}",
        R"({"id":tru,"method":"m"})", R"({"id":1,"method":"m"} {"id":2,"method":"m"})"}) {
    Request r;
    EXPECT_EQ(parser.parse(text, r), ParseError::invalid_json) << text;
    EXPECT_FALSE(r.id.present());
  }
}

TEST(Request, BadNumbers) {
  RequestParser parser;
  for (std::string_view number : {"1e400", "123456789012345678901234567890", "-9223372036854775809",
                                  "18446744073709551616", "01", "1.", "-", "+1", ".5"}) {
    Request r;
    const std::string text = R"({"id":1,"method":"m","params":{"x":)" + std::string(number) + "}}";
    const ParseError e = parser.parse(text, r);
    EXPECT_TRUE(e == ParseError::bad_number || e == ParseError::invalid_json) << text;
  }
  Request r;
  EXPECT_EQ(parser.parse(R"({"id":1,"method":"m","params":{"x":1e400}})", r),
            ParseError::bad_number);
}

TEST(Request, EveryTruncationIsAnError) {
  RequestParser parser;
  const std::string full(kBuy);
  for (std::size_t n = 0; n < full.size(); ++n) {
    Request r;
    const ParseError e = parser.parse(std::string_view(full).substr(0, n), r);
    EXPECT_NE(e, ParseError::none) << n;
    EXPECT_FALSE(r.id.present()) << n;
  }
  // Truncating in the middle of a request that holds the maximum of everything.
  const std::string rich =
      R"({"jsonrpc":"2.0","id":"x\u00e9","method":"public/subscribe","params":{"channels":)"
      R"(["book.BTC-PERPETUAL.100ms","ticker.ETH-30JUL21-2800-C.raw"],"n":-1.5e-7,"t":true,)"
      R"("f":false,"z":null,"o":{"a":[[],{}]}}})";
  Request r;
  ASSERT_EQ(parser.parse(rich, r), ParseError::none);
  for (std::size_t n = 0; n < rich.size(); ++n) {
    EXPECT_NE(parser.parse(std::string_view(rich).substr(0, n), r), ParseError::none) << n;
  }
}

TEST(Request, DepthLimit) {
  RequestParser parser(ParserLimits{.max_bytes = 4096, .max_depth = 4});
  Request r;
  // Depth 4: the request object, params, and two more levels. (simdjson does not count an
  // empty [] or {} as a level, so the probes hold a value.)
  EXPECT_EQ(parser.parse(R"({"id":1,"method":"m","params":{"a":[{"x":1}]}})", r), ParseError::none);
  EXPECT_EQ(parser.parse(R"({"id":1,"method":"m","params":{"a":[{"b":[1]}]}})", r),
            ParseError::too_deep);
  // The default limit copes with Deribit's deepest params and stops hostile nesting.
  RequestParser standard;
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_EQ(standard.parse(deep, r), ParseError::too_deep);
  const std::string objects = R"({"id":1,"method":"m","params":)" + [] {
    std::string s;
    for (int i = 0; i < 40; ++i) s += R"({"a":)";
    s += "1";
    for (int i = 0; i < 40; ++i) s += "}";
    return s;
  }() + "}";
  EXPECT_EQ(standard.parse(objects, r), ParseError::too_deep);
}

TEST(Request, SizeLimit) {
  RequestParser parser(ParserLimits{.max_bytes = 100, .max_depth = 8});
  Request r;
  std::string text = R"({"id":1,"method":"m","params":{"label":")";
  text += std::string(100 - text.size() - 3, 'x') + "\"}}";
  ASSERT_EQ(text.size(), 100u);
  EXPECT_EQ(parser.parse(text, r), ParseError::none);
  text.insert(text.size() - 3, "x");
  EXPECT_EQ(parser.parse(text, r), ParseError::too_large);
  // Limits below simdjson's minimal document size work too.
  RequestParser tiny(ParserLimits{.max_bytes = 10, .max_depth = 2});
  EXPECT_EQ(tiny.parse("", r), ParseError::invalid_json);
  EXPECT_EQ(tiny.parse("{}", r), ParseError::missing_method);
  EXPECT_EQ(tiny.parse(R"({"method":"m"})", r), ParseError::too_large);
  // And a huge input is refused before any parsing.
  RequestParser standard;
  const std::string huge(10 << 20, ' ');
  EXPECT_EQ(standard.parse(huge, r), ParseError::too_large);
}

TEST(Request, ViewsOutliveTheCallersText) {
  RequestParser parser;
  Request r;
  {
    auto text = std::make_unique<std::string>(kBuy);
    ASSERT_EQ(parser.parse(*text, r), ParseError::none);
    std::fill(text->begin(), text->end(), 'X');
  }
  EXPECT_EQ(r.method, "private/buy");
  EXPECT_EQ(r.id.json, "5275");
  EXPECT_EQ(r.params.get_string("label").value, "market0000234");
}

TEST(Request, ParserIsReusable) {
  RequestParser parser;
  Request r;
  for (int i = 0; i < 3; ++i) {
    const std::string big = R"({"id":)" + std::to_string(i) + R"(,"method":"m","params":{"s":")" +
                            std::string(static_cast<std::size_t>(3000 * (i + 1)), 'x') + "\"}}";
    ASSERT_EQ(parser.parse(big, r), ParseError::none);
    EXPECT_EQ(r.id.int64, i);
    ASSERT_EQ(parser.parse(R"({"id":"s","method":"n"})", r), ParseError::none);
    EXPECT_EQ(r.method, "n");
  }
}

TEST(Request, ErrorMapping) {
  const auto invalid_json = gw::codec::rpc_error(ParseError::invalid_json);
  EXPECT_EQ(invalid_json.code, 11050);
  EXPECT_EQ(invalid_json.message, "bad_request");
  EXPECT_EQ(invalid_json.data, "invalid json");
  const auto batch = gw::codec::rpc_error(ParseError::batch);
  EXPECT_EQ(batch.code, -32600);
  EXPECT_EQ(batch.message, "Invalid Request");
  for (auto e : {ParseError::too_large, ParseError::invalid_json, ParseError::bad_number,
                 ParseError::too_deep, ParseError::batch, ParseError::not_object,
                 ParseError::bad_jsonrpc, ParseError::bad_id, ParseError::missing_method,
                 ParseError::bad_method, ParseError::bad_params}) {
    const auto rpc = gw::codec::rpc_error(e);
    EXPECT_TRUE(rpc.code == 11050 || rpc.code == -32600) << to_string(e);
    EXPECT_FALSE(rpc.data.empty());
  }
}

}  // namespace
