# Moderation decisions for live screenings (net/moderation.c), tested alone.
dm_add_unit_test(test_moderation SOURCES unit/test_moderation.c ${CMAKE_SOURCE_DIR}/net/moderation.c
  LIBS dm_core PkgConfig::CJSON LABELS net)
target_include_directories(test_moderation PRIVATE ${CMAKE_SOURCE_DIR}/net)
