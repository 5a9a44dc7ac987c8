# The `where` expressions of cloud/metrics, compiled into the harness so that they are
# instrumented too. They need nothing but the standard library.
add_executable(fuzz_where fuzz_where.cpp
  ${PROJECT_SOURCE_DIR}/cloud/metrics/where.cpp
  ${PROJECT_SOURCE_DIR}/cloud/metrics/where_lexer.cpp)
target_include_directories(fuzz_where PRIVATE ${PROJECT_SOURCE_DIR}/cloud)
target_compile_options(fuzz_where PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
target_link_options(fuzz_where PRIVATE -fsanitize=fuzzer,address,undefined)
