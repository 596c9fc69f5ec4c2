# Unit tests of dm_media. The films are generated at test time with the
# ffmpeg command-line tool; without it the film tests are skipped.
find_program(DM_FFMPEG_EXECUTABLE ffmpeg)

dm_add_unit_test(test_media
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_media.c
  LIBS dm_media
  LABELS media)
if(DM_FFMPEG_EXECUTABLE)
  target_compile_definitions(test_media PRIVATE DM_FFMPEG="${DM_FFMPEG_EXECUTABLE}")
endif()
# Encoding a dozen short films on a slow machine under a sanitizer takes a
# while; the limit only guards against a hang.
set_tests_properties(test_media PROPERTIES TIMEOUT 600)

dm_add_unit_test(test_media_sync
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_media_sync.c
  LIBS dm_media
  LABELS media)

# The player's pacing against a simulated display at 50, 60 (and 59.94) and 144 Hz.
dm_add_unit_test(test_pacing
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pacing.c
  LIBS dm_player m
  LABELS player)

# A night of films: the programme file, the films of the command line, the recordings' names.
dm_add_unit_test(test_programme
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_programme.c
  LIBS dm_player
  LABELS player)
