# fuzz_json5: the JSON5 reader (json5/), its sources compiled into the harness so that they
# are instrumented too. Seeds in fuzz/corpus/json5.
find_package(nlohmann_json 3.10 REQUIRED)
file(GLOB json5_sources ${PROJECT_SOURCE_DIR}/json5/src/*.cpp)
add_executable(fuzz_json5 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_json5.cpp ${json5_sources})
target_include_directories(fuzz_json5 PRIVATE ${PROJECT_SOURCE_DIR}/json5/include)
target_link_libraries(fuzz_json5 PRIVATE nlohmann_json::nlohmann_json)
target_compile_options(fuzz_json5 PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
target_link_options(fuzz_json5 PRIVATE -fsanitize=fuzzer,address,undefined)
