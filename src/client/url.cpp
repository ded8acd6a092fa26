// greekwire::parse_url: the protocol core's URL parser behind the public Endpoint.
#include "greekwire/url.hpp"

#include <utility>

#include "ws/handshake.hpp"

namespace greekwire {

Result<Endpoint> parse_url(std::string_view url) {
  std::string why;
  auto parsed = gw::ws::parse_url(url, &why);
  if (!parsed) {
    Error error;
    error.kind = ErrorKind::invalid_argument;
    error.message = "bad URL '" + std::string(url) + "': " + why;
    return error;
  }
  Endpoint endpoint;
  endpoint.secure = parsed->secure;
  endpoint.host = std::move(parsed->host);
  endpoint.port = parsed->port;
  endpoint.resource = std::move(parsed->resource);
  return endpoint;
}

}  // namespace greekwire
