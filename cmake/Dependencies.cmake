# Third-party dependencies, all from Debian 12 packages except lwIP, whose source scripts/bootstrap
# fetches from Debian's source archive into a cache outside the repository.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(spdlog CONFIG REQUIRED)
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

# lwIP 2.1.3 core, built with our stack/lwipopts.h. We list the sources ourselves: lwIP's
# Filelists.cmake rewrites files in the source tree and probes for Doxygen.
if(DEFINED ENV{MSB_CACHE_DIR})
  set(_msb_cache "$ENV{MSB_CACHE_DIR}")
else()
  set(_msb_cache "$ENV{HOME}/.cache/msb-gateway")
endif()
set(MSB_LWIP_DIR "${_msb_cache}/lwip-2.1.3" CACHE PATH "lwIP 2.1.3 source tree (scripts/bootstrap)")
if(NOT EXISTS "${MSB_LWIP_DIR}/src/core/tcp.c")
  message(FATAL_ERROR "lwIP source not found in ${MSB_LWIP_DIR}: run scripts/bootstrap first")
endif()
set(_lw "${MSB_LWIP_DIR}/src")
add_library(msb_lwip STATIC
  ${_lw}/core/init.c ${_lw}/core/def.c ${_lw}/core/inet_chksum.c ${_lw}/core/ip.c ${_lw}/core/mem.c
  ${_lw}/core/memp.c ${_lw}/core/netif.c ${_lw}/core/pbuf.c ${_lw}/core/stats.c ${_lw}/core/sys.c
  ${_lw}/core/tcp.c ${_lw}/core/tcp_in.c ${_lw}/core/tcp_out.c ${_lw}/core/timeouts.c ${_lw}/core/udp.c
  ${_lw}/core/ipv4/etharp.c ${_lw}/core/ipv4/icmp.c ${_lw}/core/ipv4/ip4.c ${_lw}/core/ipv4/ip4_addr.c
  ${_lw}/core/ipv4/ip4_frag.c
  ${_lw}/core/ipv6/ethip6.c ${_lw}/core/ipv6/icmp6.c ${_lw}/core/ipv6/inet6.c ${_lw}/core/ipv6/ip6.c
  ${_lw}/core/ipv6/ip6_addr.c ${_lw}/core/ipv6/ip6_frag.c ${_lw}/core/ipv6/mld6.c ${_lw}/core/ipv6/nd6.c
  ${_lw}/netif/ethernet.c)
target_include_directories(msb_lwip SYSTEM PUBLIC ${_lw}/include ${CMAKE_SOURCE_DIR}/stack)
target_compile_options(msb_lwip PRIVATE -w)

# llhttp 8.1.0 from node-llhttp's C sources (generated code: warnings off, SYSTEM include).
add_library(msb_llhttp STATIC /usr/share/llhttp/llhttp.c /usr/share/llhttp/api.c
  /usr/share/llhttp/http.c)
target_include_directories(msb_llhttp SYSTEM PUBLIC /usr/share/include/llhttp)
target_compile_options(msb_llhttp PRIVATE -w)

if(MSB_BUILD_TESTING)
  find_package(GTest CONFIG REQUIRED)
  # GoogleTest 1.12's CMake config has no GTest::gmock target on Debian 12: use pkg-config.
  pkg_check_modules(GMOCK REQUIRED IMPORTED_TARGET gmock)
endif()
