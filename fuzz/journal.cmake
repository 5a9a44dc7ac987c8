# fuzz_journal: the durable outbox's journal reader (client/src/journal_reader.cpp and what
# it uses), compiled into the harness so that it is instrumented too. No Asio, no OpenSSL:
# these files need only the standard library. Seeds in fuzz/corpus/journal.
set(journal_dir ${PROJECT_SOURCE_DIR}/client/src)
add_executable(fuzz_journal fuzz_journal.cpp ${journal_dir}/journal_reader.cpp ${journal_dir}/journal_state.cpp
  ${journal_dir}/journal_crc32c.cpp ${journal_dir}/journal_error.cpp)
target_include_directories(fuzz_journal PRIVATE ${journal_dir})
target_compile_options(fuzz_journal PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
target_link_options(fuzz_journal PRIVATE -fsanitize=fuzzer,address,undefined)
