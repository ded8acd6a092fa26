// The one way our code includes msgpack-cxx. MSGPACK_NO_BOOST keeps the library free of Boost
// (we only pack and unpack plain values; the Boost adaptors are what needs it), and the pragma
// marks this header as a system header, like the -isystem include directory it comes from.
#pragma once
#pragma GCC system_header

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif

#include <msgpack/pack.hpp>
