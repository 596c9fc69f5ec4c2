# Layout engine, filters and timeline.
dm_add_unit_test(test_layout SOURCES unit/test_layout.c LIBS dm_core m LABELS engine)
# The scene: obstacles, live scenes against their replays, relayouts, deletes, --keep-off.
dm_add_unit_test(test_scene SOURCES unit/test_scene.c LIBS dm_core m LABELS "engine;threads")
dm_add_unit_test(test_hist SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_hist.c LIBS dm_core m LABELS engine)
