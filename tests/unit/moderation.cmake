# Moderation decisions for live screenings (net/moderation.c), tested alone.
if(TARGET dm_net)
  dm_add_unit_test(test_moderation SOURCES unit/test_moderation.c LIBS dm_net LABELS net)
endif()
