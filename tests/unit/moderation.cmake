# Moderation decisions for live screenings (net/moderation.c) and the host
# console's socket-free pieces (net/host.c), tested alone.
if(TARGET dm_net)
  dm_add_unit_test(test_moderation SOURCES unit/test_moderation.c LIBS dm_net LABELS net)
  dm_add_unit_test(test_host SOURCES unit/test_host.c LIBS dm_net LABELS "net;host")
endif()

# libFuzzer target for the console's inputs (configure with -DDM_FUZZ=ON and
# clang, as for tests/fuzz).
if(DM_FUZZ AND TARGET dm_net AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_host_input fuzz/fuzz_host_input.c)
  target_compile_options(fuzz_host_input PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_host_input PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_host_input PRIVATE dm_net dm_warnings)
  set_target_properties(fuzz_host_input PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz)
endif()
