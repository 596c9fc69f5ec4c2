# End-to-end tests: real programs on real data.

# Every real track (when ../shared is there: otherwise reported skipped) and
# every generated one, default policy, --overflow drop, a keep-off box and
# --strict, and as ASS the way libass draws it: the checkers find no overlap,
# the layout is deterministic, and the real tracks' shown fraction beats the
# reference tools.
add_test(NAME real_tracks_layout
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/real_tracks.py
          $<TARGET_FILE:danmaku-convert> ${DM_TRACKS_DIR} --checker ${DM_SHARED_DIR}/tools/layout-check
          --inkdump $<TARGET_FILE:ass-inkdump>)
set_tests_properties(real_tracks_layout PROPERTIES LABELS "e2e;engine" ENVIRONMENT "${DM_TEST_ENV}"
  SKIP_RETURN_CODE 77)
add_test(NAME generated_tracks_layout
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/real_tracks.py
          $<TARGET_FILE:danmaku-convert> ${DM_GEN_TRACKS_DIR} --generated
          --checker ${DM_SHARED_DIR}/tools/layout-check --inkdump $<TARGET_FILE:ass-inkdump>)
set_tests_properties(generated_tracks_layout PROPERTIES LABELS "e2e;engine" ENVIRONMENT "${DM_TEST_ENV}"
  FIXTURES_REQUIRED gen_tracks)
# The track formats from the command line: --offset per track, detection by content, the summary
# line, the one error for input no reader knows, live recordings' cards (danmaku-convert, danmaku).
add_test(NAME formats_cli
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/formats_cli.py
          $<TARGET_FILE:danmaku-convert> $<TARGET_FILE:danmaku>)
set_tests_properties(formats_cli PROPERTIES LABELS "e2e;formats" ENVIRONMENT "${DM_TEST_ENV}")
# The converter starts without FFmpeg's libraries and loads them for --version and --sub.
add_test(NAME convert_loads_ffmpeg_when_asked
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/convert_loads.sh $<TARGET_FILE:danmaku-convert>
          ${DM_GEN_TRACKS_DIR}/gen-bilibili-dense-180s.xml)
set_tests_properties(convert_loads_ffmpeg_when_asked PROPERTIES LABELS "e2e;formats" ENVIRONMENT "${DM_TEST_ENV}"
  FIXTURES_REQUIRED gen_tracks)
