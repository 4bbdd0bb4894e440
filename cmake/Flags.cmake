# Compiler flags: a strict warning set, hardening, sanitizers. Applied to our targets through the
# msb_flags interface library so third-party code (lwIP, llhttp) keeps its own, quieter settings.
add_library(msb_flags INTERFACE)
target_compile_options(msb_flags INTERFACE
  -Wall -Wextra -Wshadow -Wformat=2 -Wimplicit-fallthrough -Wvla -Wnon-virtual-dtor
  -Wmissing-declarations -Wold-style-cast -Wcast-qual -Wpointer-arith -Wundef
  -Wconversion -Wno-sign-conversion)
if(MSB_WERROR)
  target_compile_options(msb_flags INTERFACE -Werror)
endif()

# Hardening for every build (sanitizer builds skip FORTIFY, which they do not combine well with).
if(NOT MSB_SANITIZE)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
add_compile_options(-fstack-protector-strong -fno-strict-aliasing)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_link_options(-pie -Wl,-z,relro,-z,now)

if(MSB_SANITIZE)
  if(MSB_SANITIZE STREQUAL "address;undefined" OR MSB_SANITIZE STREQUAL "address" OR
     MSB_SANITIZE STREQUAL "undefined")
    set(_msb_san "${MSB_SANITIZE}")
  elseif(MSB_SANITIZE STREQUAL "thread")
    set(_msb_san thread)
  else()
    message(FATAL_ERROR "MSB_SANITIZE must be empty, 'address;undefined' or 'thread' (got '${MSB_SANITIZE}')")
  endif()
  list(JOIN _msb_san "," _msb_san_csv)
  add_compile_options(-fsanitize=${_msb_san_csv} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_msb_san_csv})
endif()

if(MSB_BUILD_FUZZERS AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MSB_BUILD_FUZZERS needs clang (use the 'fuzz' preset: CC=clang-14 CXX=clang++-14)")
endif()
if(MSB_BUILD_FUZZERS AND MSB_SANITIZE STREQUAL "thread")
  message(FATAL_ERROR "MSB_BUILD_FUZZERS cannot be combined with MSB_SANITIZE=thread")
endif()
if(MSB_BUILD_FUZZERS)
  # Coverage instrumentation for everything the harnesses reach (lwIP included), not only the
  # harness files themselves.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
