# Layout engine, filters and timeline.
dm_add_unit_test(test_layout SOURCES unit/test_layout.c LIBS dm_core m LABELS engine)
