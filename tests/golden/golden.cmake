# The player from outside: golden frames, CJK + emoji, seeking, a real window
# under Xvfb, audio/video sync. Runs alone: the sync test plays in real time.
dm_add_unit_test(test_player SOURCES golden/test_player.c LIBS dm_compose dm_media dm_core m LABELS player)
set_tests_properties(test_player PROPERTIES RUN_SERIAL ON TIMEOUT 300
  ENVIRONMENT "${DM_TEST_ENV};DM_PLAYER=$<TARGET_FILE:danmaku>;DM_WORK_DIR=${CMAKE_CURRENT_BINARY_DIR}")
