# Unit tests of the track readers and writers (formats.c, read_*.c, write*.c).
dm_add_unit_test(test_readers SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_readers.c
  LIBS dm_core LABELS formats)
dm_add_unit_test(test_writers SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_writers.c
  LIBS dm_core LABELS formats)
