# The live feed: its input checks (pure C, no sockets) and QR helper, the
# hand-over between its threads and the recording's writer (a FIFO stands
# for a stalled disk), and its lifecycle through the public API.
if(TARGET dm_net)
  dm_add_unit_test(test_net_validate SOURCES unit/test_net_validate.c LIBS dm_net LABELS net)
  dm_add_unit_test(test_feed SOURCES unit/test_feed.c LIBS dm_net LABELS net)
  dm_add_unit_test(test_net_server SOURCES unit/test_net_server.c LIBS dm_net LABELS net)
  # the comment bus without a server: ids, export addresses, clock messages, stream order, the feed's bus modes
  dm_add_unit_test(test_bus SOURCES unit/test_bus.c LIBS dm_net LABELS net)
endif()

# libFuzzer target for the message check (configure with -DDM_FUZZ=ON and
# clang, as for tests/fuzz): run it with the seeds in tests/fuzz/seeds/net_message.
if(DM_FUZZ AND TARGET dm_net AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_net_message fuzz/fuzz_net_message.c)
  target_compile_options(fuzz_net_message PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_net_message PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_net_message PRIVATE dm_net dm_warnings)
  set_target_properties(fuzz_net_message PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz)
  # a message of a screening's stream, as players and the export read it (tests/fuzz/seeds/bus_message)
  add_executable(fuzz_bus_message fuzz/fuzz_bus_message.c)
  target_compile_options(fuzz_bus_message PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_bus_message PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_bus_message PRIVATE dm_bus dm_warnings)
  set_target_properties(fuzz_bus_message PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz)
endif()
