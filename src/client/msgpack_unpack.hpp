// The client's one way to include msgpack-cxx's unpacker (see codec/msgpack_lib.hpp).
#pragma once
#pragma GCC system_header

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif

#include <msgpack.hpp>
