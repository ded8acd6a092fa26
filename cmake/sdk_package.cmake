# The client SDK as one installable library (docs/SDK.md, "Install and use from your project").
#
# greekwire_client (libgreekwire_client.a, greekwire::client) is one static archive holding the
# objects of every layer the SDK uses, so that a user's project links one library and sees only
# include/greekwire/: the layers' own targets carry src/ as an include directory and are not
# exported. Its interface is the public headers, C++20 and the shared libraries the objects
# call (OpenSSL, zlib, simdjson, threads); msgpack-cxx is header-only and used only inside.
# Included from the top-level CMakeLists.txt after the layers are defined.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GW_SDK_LAYERS client ws http net codec market pricing)
set(gw_sdk_objects)
foreach(layer ${GW_SDK_LAYERS})
  # Every layer carries the empty layer_anchor.o: one copy each would only be dead weight.
  list(APPEND gw_sdk_objects $<FILTER:$<TARGET_OBJECTS:gw_${layer}>,EXCLUDE,layer_anchor>)
endforeach()
add_library(greekwire_client STATIC ${gw_sdk_objects})
add_library(greekwire::client ALIAS greekwire_client)
set_target_properties(greekwire_client PROPERTIES EXPORT_NAME client LINKER_LANGUAGE CXX)
target_include_directories(greekwire_client PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                                                   $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(greekwire_client PUBLIC cxx_std_20)
target_link_libraries(greekwire_client PUBLIC OpenSSL::SSL OpenSSL::Crypto ZLIB::ZLIB
                                              simdjson::simdjson Threads::Threads)
# Objects built with the sanitizers call their runtimes: whoever links them links those too.
if(GW_SANITIZE)
  target_link_options(greekwire_client INTERFACE -fsanitize=address,undefined)
endif()

set(GW_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/greekwire)
install(TARGETS greekwire_client EXPORT greekwireTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/greekwire
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT sdk)
install(EXPORT greekwireTargets NAMESPACE greekwire:: DESTINATION ${GW_CMAKE_PACKAGE_DIR}
        COMPONENT sdk)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/greekwireConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/greekwireConfig.cmake
                              INSTALL_DESTINATION ${GW_CMAKE_PACKAGE_DIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/greekwireConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/greekwireConfig.cmake
              ${CMAKE_BINARY_DIR}/greekwireConfigVersion.cmake
        DESTINATION ${GW_CMAKE_PACKAGE_DIR} COMPONENT sdk)
install(FILES ${CMAKE_SOURCE_DIR}/docs/SDK.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT sdk)
