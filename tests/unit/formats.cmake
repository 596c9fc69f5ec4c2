# Unit tests of the track readers and writers (formats.c, read_*.c, write*.c).
dm_add_unit_test(test_readers SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_readers.c
  LIBS dm_core LABELS formats)
dm_add_unit_test(test_writers SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_writers.c
  LIBS dm_core LABELS formats)
# Other players' tracks (ArtPlayer, DPlayer, ASS of danmaku2ass and DanmakuFactory), detection by
# content, positioned comments cut short, newlines, offsets and the summary line.
dm_add_unit_test(test_track_formats SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_track_formats.c
  LIBS dm_core m LABELS formats)
# Bilibili protobuf segments, packed at test time with the generated code of the repository's
# schema, and of a later one (bilibili_dm_future.proto) for the fields the reader does not know.
set(DM_FUTURE_PB_DIR ${CMAKE_CURRENT_BINARY_DIR}/pb-future)
add_custom_command(
  OUTPUT ${DM_FUTURE_PB_DIR}/bilibili_dm_future.pb-c.c ${DM_FUTURE_PB_DIR}/bilibili_dm_future.pb-c.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${DM_FUTURE_PB_DIR}
  COMMAND ${PROTOC_C} --proto_path=${CMAKE_CURRENT_LIST_DIR} --c_out=${DM_FUTURE_PB_DIR} bilibili_dm_future.proto
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/bilibili_dm_future.proto
  COMMENT "protoc-c: bilibili_dm_future.proto (tests)"
  VERBATIM)
set_source_files_properties(${DM_FUTURE_PB_DIR}/bilibili_dm_future.pb-c.c PROPERTIES COMPILE_OPTIONS "-w")
dm_add_unit_test(test_protobuf SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_protobuf.c
  ${DM_FUTURE_PB_DIR}/bilibili_dm_future.pb-c.c LIBS dm_core LABELS formats)
target_include_directories(test_protobuf PRIVATE ${DM_FUTURE_PB_DIR})
# Live-stream recordings (BililiveRecorder XML) and their cards in the scene.
dm_add_unit_test(test_live_cards SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_live_cards.c
  LIBS dm_core LABELS "formats;engine")
dm_add_unit_test(test_bilibili_numbers SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_bilibili_numbers.c
  LIBS dm_core LABELS formats)
