// A small router: exact paths (and "/prefix/*" wildcards) to handlers, by method.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gw::http {

enum class RouteStatus { found, not_found, method_not_allowed };

template <class Handler>
class Router {
 public:
  // `pattern` is an exact path ("/healthz") or a prefix ending in "/*" ("/api/v2/*").
  void add(std::string method, std::string pattern, Handler handler) {
    routes_.push_back({std::move(method), std::move(pattern), std::move(handler)});
  }

  struct Match {
    RouteStatus status = RouteStatus::not_found;
    const Handler* handler = nullptr;
    std::string allow;  // for method_not_allowed: the methods that path accepts, "GET, HEAD"
  };

  Match match(std::string_view method, std::string_view path) const {
    Match result;
    for (const Route& route : routes_) {
      if (!path_matches(route.pattern, path)) continue;
      if (route.method == method) {
        result.status = RouteStatus::found;
        result.handler = &route.handler;
        return result;
      }
      result.status = RouteStatus::method_not_allowed;
      // Overlapping patterns ("/healthz" and "/*") may both allow a method: list it once.
      if (lists_method(result.allow, route.method)) continue;
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += route.method;
    }
    return result;
  }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
  };

  static bool lists_method(std::string_view allow, std::string_view method) {
    while (!allow.empty()) {
      const std::size_t comma = allow.find(", ");
      if (allow.substr(0, comma) == method) return true;
      if (comma == std::string_view::npos) return false;
      allow.remove_prefix(comma + 2);
    }
    return false;
  }

  static bool path_matches(std::string_view pattern, std::string_view path) {
    if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
      std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keep the '/'
      return path.substr(0, prefix.size()) == prefix;
    }
    return pattern == path;
  }

  std::vector<Route> routes_;
};

}  // namespace gw::http
