// The greekwire client SDK (docs/SDK.md): everything in one include.
#pragma once

#include "greekwire/book.hpp"
#include "greekwire/channels.hpp"
#include "greekwire/client.hpp"
#include "greekwire/connection.hpp"
#include "greekwire/error.hpp"
#include "greekwire/events.hpp"
#include "greekwire/options.hpp"
#include "greekwire/recording.hpp"
#include "greekwire/url.hpp"
#include "greekwire/value.hpp"
