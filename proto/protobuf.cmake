# Protocol Buffers for the gateway's `protobuf` encoding (proto/greekwire.proto).
#  - protoc turns the .proto into a descriptor set, and gw_protobuf_schema
#    (proto/schema_generator.cpp, run at build time) turns that into the constexpr tables of
#    codec/protobuf_schema.hpp, compiled into gw_codec: the gateway links no protobuf library.
#  - The tests decode with libprotobuf's generated classes (gw_protobuf_oracle), an
#    implementation independent of ours.
# Included from the top-level CMakeLists.txt after gw_codec is defined.
find_package(Protobuf REQUIRED)

set(GW_PROTO_DIR ${CMAKE_SOURCE_DIR}/proto)
set(GW_PROTO_OUT ${CMAKE_BINARY_DIR}/proto)
file(MAKE_DIRECTORY ${GW_PROTO_OUT})
set(GW_PROTOC_INCLUDES -I${GW_PROTO_DIR} -I${Protobuf_INCLUDE_DIRS})

add_executable(gw_protobuf_schema ${GW_PROTO_DIR}/schema_generator.cpp)
target_link_libraries(gw_protobuf_schema PRIVATE protobuf::libprotobuf gw_warnings)

# gw_protobuf_schema_source(PROTO ROOT FUNCTION OUTPUT): generates OUTPUT, a .cpp defining
# `const Schema& gw::codec::protobuf::FUNCTION()` (codec/protobuf_schema.hpp) for the .proto
# file PROTO rooted at the message ROOT.
function(gw_protobuf_schema_source proto root function output)
  get_filename_component(name ${proto} NAME)
  get_filename_component(stem ${proto} NAME_WE)
  get_filename_component(dir ${proto} DIRECTORY)
  set(descriptors ${GW_PROTO_OUT}/${stem}.desc)
  add_custom_command(
    OUTPUT ${descriptors}
    COMMAND protobuf::protoc --descriptor_set_out=${descriptors} --include_imports -I${dir}
            ${GW_PROTOC_INCLUDES} ${proto}
    DEPENDS ${proto} ${GW_PROTO_DIR}/greekwire.proto
    COMMENT "protoc: the descriptor set of ${name}"
    VERBATIM)
  # libprotobuf keeps its descriptor pool until exit: no leak reports from a sanitized build.
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
            $<TARGET_FILE:gw_protobuf_schema> ${descriptors} ${name} ${root} ${function} ${output}
    DEPENDS gw_protobuf_schema ${descriptors}
    COMMENT "gw_protobuf_schema: the encoder's table of ${name}"
    VERBATIM)
endfunction()

# gw_protobuf_classes(PROTO): libprotobuf's C++ classes of PROTO, into GW_PROTO_OUT.
function(gw_protobuf_classes proto)
  get_filename_component(stem ${proto} NAME_WE)
  get_filename_component(dir ${proto} DIRECTORY)
  add_custom_command(
    OUTPUT ${GW_PROTO_OUT}/${stem}.pb.cc ${GW_PROTO_OUT}/${stem}.pb.h
    COMMAND protobuf::protoc --cpp_out=${GW_PROTO_OUT} -I${dir} ${GW_PROTOC_INCLUDES} ${proto}
    DEPENDS ${proto} ${GW_PROTO_DIR}/greekwire.proto
    COMMENT "protoc: C++ classes of ${stem}.proto (the tests' decoder)"
    VERBATIM)
endfunction()

gw_protobuf_schema_source(${GW_PROTO_DIR}/greekwire.proto greekwire.v2.Envelope greekwire_schema
                          ${GW_PROTO_OUT}/greekwire_schema.cpp)
target_sources(gw_codec PRIVATE ${GW_PROTO_OUT}/greekwire_schema.cpp)

if(GW_TESTS AND NOT GW_FUZZ)
  # The tests' decoder (libprotobuf), and tests/codec's schema of every field type.
  set(test_proto ${CMAKE_SOURCE_DIR}/tests/codec/protobuf_writer_test.proto)
  gw_protobuf_classes(${GW_PROTO_DIR}/greekwire.proto)
  gw_protobuf_classes(${test_proto})
  gw_protobuf_schema_source(${test_proto} greekwire.test.AllTypes writer_test_schema
                            ${GW_PROTO_OUT}/writer_test_schema.cpp)
  add_library(gw_protobuf_oracle STATIC ${GW_PROTO_OUT}/greekwire.pb.cc
              ${GW_PROTO_OUT}/protobuf_writer_test.pb.cc ${GW_PROTO_OUT}/writer_test_schema.cpp)
  target_include_directories(gw_protobuf_oracle SYSTEM PUBLIC ${GW_PROTO_OUT})
  target_include_directories(gw_protobuf_oracle PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(gw_protobuf_oracle PUBLIC protobuf::libprotobuf)
endif()
