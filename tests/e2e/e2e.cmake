# End-to-end tests: real programs on real data.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

# Every real track, default policy and --overflow drop: the independent
# checker finds no overlap, and the shown fraction beats the reference tools.
add_test(NAME real_tracks_layout
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/real_tracks.py
          $<TARGET_FILE:danmaku-convert> ${DM_TRACKS_DIR} ${DM_SHARED_DIR}/tools/layout-check)
set_tests_properties(real_tracks_layout PROPERTIES LABELS "e2e;engine" ENVIRONMENT "${DM_TEST_ENV}")
