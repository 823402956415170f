# The D-Bus gateway's filtering proxy, included by the top-level CMakeLists.txt when
# ENABLE_DBUSGATEWAY is on. The pure parts (header parser, rules, classification, auth lines)
# are a small static library that the proxy, the gateway (to check configs with the same rule
# parser), the unit tests and the fuzz target link.
add_library(sc-dbus-filter STATIC ${CMAKE_CURRENT_LIST_DIR}/dbus-filter.c)
target_include_directories(sc-dbus-filter PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sc-dbus-filter PUBLIC PkgConfig::GLIB PkgConfig::JSONGLIB)

add_executable(softwarecontainer-dbus-proxy ${CMAKE_CURRENT_LIST_DIR}/proxy.c)
target_link_libraries(softwarecontainer-dbus-proxy PRIVATE sc-dbus-filter)
set_target_properties(softwarecontainer-dbus-proxy PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
install(TARGETS softwarecontainer-dbus-proxy
  RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/softwarecontainer)

# the gateway in sc-core uses the rule parser; the agent needs the proxy at run time
target_link_libraries(sc-core PUBLIC sc-dbus-filter)
add_dependencies(softwarecontainer-agent softwarecontainer-dbus-proxy)

# bench/: the proxy's throughput against a direct connection and xdg-dbus-proxy
add_executable(sc-dbus-bench EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/bench/dbus-bench.c)
target_link_libraries(sc-dbus-bench PRIVATE sc-dbus-filter)
set_target_properties(sc-dbus-bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
add_dependencies(sc-dbus-bench softwarecontainer-dbus-proxy)
