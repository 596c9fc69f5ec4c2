# Text rasterising and the sprite cache (dm_compose). The text tests need the
# fonts the project depends on: fonts-noto-cjk and fonts-noto-color-emoji.
dm_add_unit_test(test_text SOURCES unit/test_text.c LIBS dm_compose LABELS "compose;threads")
dm_add_unit_test(test_sprite_cache SOURCES unit/test_sprite_cache.c LIBS dm_compose LABELS compose)
# The GPU path's sprite pages (atlas) and its drawing against the software canvas.
dm_add_unit_test(test_atlas SOURCES unit/test_atlas.c LIBS dm_compose LABELS compose)
# The software blender: packed sprites and AVX2 against the plain SSE2 blend, pixel for pixel.
dm_add_unit_test(test_blend SOURCES unit/test_blend.c LIBS dm_compose LABELS compose)
# The drawing of live cards (super chats, gift lines) the stage and burn-in share.
dm_add_unit_test(test_card_render SOURCES unit/test_card_render.c LIBS dm_compose LABELS "compose;formats")
# The same widths on whole tracks: every run of every comment against TTF_SizeUTF8.
add_test(NAME text_widths_tracks
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/unit/text_widths_tracks.sh $<TARGET_FILE:bench-text>)
set_tests_properties(text_widths_tracks PROPERTIES LABELS "unit;compose" ENVIRONMENT "${DM_TEST_ENV}"
  FIXTURES_REQUIRED gen_tracks)
